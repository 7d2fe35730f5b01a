"""Which documents a task sends to the model, and the passage each one gives the prompt.

Parents are the documents of one batch that the filter kept (the classify stage's input: a task may
want the low quality band, which the quality keep rule removes from the mix), chosen by language,
domain label, quality band and page origin, in a seeded order, at most `max_parents` per batch.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass

from goldpan.lake import Lake
from goldpan.lake.views import CURRENT_TEXT_SQL, stage_sql
from goldpan.recipe import SynthTask

_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s*")


@dataclass(frozen=True)
class Parent:
    doc_id: str
    batch_id: str
    url: str | None
    lang: str
    passage: str  # the text the prompt carries

    @property
    def passage_sha1(self) -> str:
        return hashlib.sha1(self.passage.encode("utf-8")).hexdigest()


def cut_passage(text: str, max_chars: int) -> str:
    """The text up to `max_chars`, ended at the last sentence end inside it when there is one."""
    text = text.strip()
    if len(text) <= max_chars:
        return text
    head = text[:max_chars]
    ends = [m.end() for m in _SENTENCE_END.finditer(head) if m.end() > max_chars // 2]
    return head[: ends[-1]].strip() if ends else head.strip()


def _parents_sql(task: SynthTask, with_scores: bool) -> tuple[str, list]:
    filter_kept, _, _ = stage_sql("classify")
    where, params = ["d.batch_id = ?", f"length({CURRENT_TEXT_SQL}) >= ?"], [task.min_parent_chars]
    if task.languages:
        where.append("split_part(split_part(d.lang, '-', 1), '_', 1) IN (SELECT unnest(?::VARCHAR[]))")
        params.append(list(task.languages))
    if task.origins:
        where.append("p.source IN (SELECT unnest(?::VARCHAR[]))")
        params.append(list(task.origins))
    needs_scores = bool(task.domains) or task.min_quality is not None or task.max_quality is not None
    if needs_scores and not with_scores:
        where.append("FALSE")  # no doc_scores table yet: nothing has a domain or a quality score
    if task.domains and with_scores:
        where.append("s.domain IN (SELECT unnest(?::VARCHAR[]))")
        params.append(list(task.domains))
    if task.min_quality is not None and with_scores:
        where.append("s.quality_score >= ?")
        params.append(task.min_quality)
    if task.max_quality is not None and with_scores:
        where.append("s.quality_score < ?")
        params.append(task.max_quality)
    scores = ("LEFT JOIN (SELECT doc_id, any_value(domain) AS domain, any_value(quality_score) AS quality_score "
              "FROM doc_scores GROUP BY doc_id) s ON s.doc_id = d.doc_id") if with_scores else ""
    sql = f"""
    SELECT d.doc_id, d.batch_id, d.url, d.lang, {CURRENT_TEXT_SQL} AS text
    FROM documents d
    JOIN ({filter_kept}) k ON k.doc_id = d.doc_id
    LEFT JOIN dedup_clusters c ON c.doc_id = d.doc_id
    LEFT JOIN (SELECT page_id, any_value(source) AS source FROM pages GROUP BY page_id) p ON p.page_id = d.page_id
    {scores}
    WHERE {' AND '.join(where)}
    ORDER BY md5(? || ':' || d.doc_id)
    LIMIT ?"""
    return sql, params + [str(task.seed), task.max_parents]


def select_parents(lake: Lake, task: SynthTask, batch_id: str) -> Iterator[Parent]:
    present = set(lake.list_tables())
    need = {"documents", "dedup_clusters", "doc_signals", "rejections", "pages"}
    if not need <= present:
        return iter(())
    with_scores = "doc_scores" in present
    sql, params = _parents_sql(task, with_scores)
    tables = sorted(need | ({"doc_scores"} if with_scores else set()))
    rows = lake.iter_rows(sql, [batch_id, *params], tables=tables)
    return (Parent(r["doc_id"], r["batch_id"], r["url"], (r["lang"] or "").split("-")[0],
                   cut_passage(r["text"], task.max_parent_chars)) for r in rows)
