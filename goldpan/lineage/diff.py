"""`diff <release A> <release B>`: what changed between two promoted releases, and why.

Documents are compared by URL (a re-crawl gives a page a new doc_id, which is an update, not an
add plus a remove); a synthetic document has no URL and is compared as `synthetic:<doc_id>`, read from the two training_corpus versions by Delta time travel. Each removal
is explained with the lake *as release B was gated* (corpus_releases keeps the upstream Delta
versions of every table), so the reason is the one in force at B, not today's:

- `takedown`      a takedown request recorded before B covers the URL;
- `new crawl`     B's crawl no longer has a kept page for it (gone, 404, robots...);
- `extract` / `dedup` / `filter` / `mix` stage rules, labelled `rule change` when a recipe key
  of that rule changed between A and B, and `dedup` naming the document it duplicates;
- `recipe change` a mix rule whose recipe section changed;
- `takedown`      also for a synthetic document whose parent a takedown covers (mix rule takedown_parent);
- `consent`       the publisher opted out (of the page, or of a synthetic document's parent) (a consent rule of the mix: tdm_reserved, noai, ...), e.g. a
                  page that gained a `tdm-reservation: 1` on a recrawl.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from goldpan.consent.decide import CONSENT_RULES
from goldpan.lake import Lake
from goldpan.lake.releases import PROMOTED, releases
from goldpan.lake.views import REJECTION_TABLES, all_rejections_sql

EXPLAIN_LIMIT = 2000  # removals explained one by one; the rest are counted as "unexplained (limit)"


class ReleaseNotFound(LookupError):
    pass


def promoted(lake: Lake) -> list[dict]:
    return [r for r in releases(lake) if r["status"] == PROMOTED and r["corpus_version"] is not None]


def resolve_release(lake: Lake, name: str) -> dict:
    """A promoted release by name ('v2'), number ('2'), 'latest' or 'previous'."""
    rows = promoted(lake)
    if not rows:
        raise ReleaseNotFound(f"no promoted release in {lake.root}")
    if name == "latest":
        return rows[-1]
    if name == "previous":
        if len(rows) < 2:
            raise ReleaseNotFound("only one release: there is no previous one")
        return rows[-2]
    for r in rows:
        if r["release"] == name or r["release"] == f"v{name}":
            return r
    raise ReleaseNotFound(f"no promoted release {name!r}; known: {', '.join(r['release'] for r in rows)}")


def previous_of(lake: Lake, release: dict) -> dict | None:
    rows = promoted(lake)
    idx = [r["attempt_id"] for r in rows].index(release["attempt_id"])
    return rows[idx - 1] if idx > 0 else None


@dataclass
class Change:
    url: str
    doc_id: str
    lang: str | None
    source: str | None
    reason: str  # the category: takedown | new crawl | rule change | dedup | recipe change | ...
    stage: str | None = None
    rule: str | None = None
    detail: str = ""


@dataclass
class ReleaseDiff:
    a: dict
    b: dict
    added: list[Change]
    removed: list[Change]
    updated: int  # same URL, new doc_id or new text (re-crawled)
    unchanged: int
    counts: dict[str, dict[str, dict[str, int]]]  # {"a"|"b": {"source"|"lang": {value: n}}}
    recipe_changes: list[dict]
    threshold_changes: list[dict]
    recipe_note: str = ""
    notes: list[str] = field(default_factory=list)
    # per release ("a", "b"): synthetic documents, tokens, shares, models and prompts (only when either has any)
    synthetic: dict[str, dict] = field(default_factory=dict)

    def removed_by_reason(self) -> dict[str, int]:
        return dict(Counter(c.reason for c in self.removed).most_common())

    def added_by_reason(self) -> dict[str, int]:
        return dict(Counter(c.reason for c in self.added).most_common())

    def as_dict(self) -> dict:
        from dataclasses import asdict

        keep = ("release", "corpus_version", "recipe_id", "n_docs", "n_words", "decided_at")
        return {
            "a": {k: self.a.get(k) for k in keep}, "b": {k: self.b.get(k) for k in keep},
            "added": [asdict(c) for c in self.added], "removed": [asdict(c) for c in self.removed],
            "added_by_reason": self.added_by_reason(), "removed_by_reason": self.removed_by_reason(),
            "updated": self.updated, "unchanged": self.unchanged, "counts": self.counts,
            "recipe_changes": self.recipe_changes, "threshold_changes": self.threshold_changes,
            "recipe_note": self.recipe_note, "notes": self.notes, "synthetic": self.synthetic,
        }


def _corpus_rows(lake: Lake, version: int) -> dict[str, dict]:
    """url -> {doc_id, lang, source, text digest} of one training_corpus version (id columns only)."""
    with lake.connect(versions={"training_corpus": version}, tables=["training_corpus"]) as con:
        cur = con.execute("SELECT coalesce(url, 'synthetic:' || doc_id), doc_id, lang, source, "
                          "md5(coalesce(text, '')) AS h FROM training_corpus")
        out = {}
        while batch := cur.fetchmany(10_000):
            for url, doc_id, lang, source, h in batch:
                out[url] = {"doc_id": doc_id, "lang": lang, "source": source, "h": h}
    return out


def _counts(rows: dict[str, dict]) -> dict[str, dict[str, int]]:
    return {
        "source": dict(Counter(r["source"] or "-" for r in rows.values()).most_common()),
        "lang": dict(Counter(r["lang"] or "-" for r in rows.values()).most_common()),
    }


def _upstream(release: dict) -> dict[str, int]:
    try:
        vers = json.loads(release.get("upstream_versions_json") or "{}")
    except ValueError:
        return {}
    return {k: int(v) for k, v in vers.items() if v is not None}


def _readable(lake: Lake, versions: dict[str, int]) -> tuple[dict[str, int] | None, str]:
    """The pinned versions if their files still exist (a vacuum may have removed them)."""
    try:
        with lake.connect(versions=versions) as con:
            for t in versions:
                if lake.exists(t):
                    con.execute(f'SELECT count(*) FROM "{t}"').fetchall()
        return versions, ""
    except Exception as exc:  # noqa: BLE001 -- a vacuumed version: fall back to the latest tables
        why = f"upstream versions of the later release are no longer readable ({type(exc).__name__}); "
        return None, why + "reasons come from the latest tables"


def _threshold_table(lake: Lake, versions: dict[str, int] | None, recipe_id: str | None) -> dict[tuple, float]:
    """{(stage, rule, op): threshold} observed in rejections / mix decisions for one recipe id."""
    out: dict[tuple, float] = {}
    tables = set(lake.list_tables())
    try:
        con = lake.connect(versions=versions,
                           tables=[t for t in (*REJECTION_TABLES, "mix_decisions") if t in tables])
    except Exception:  # noqa: BLE001
        return out
    with con:
        if tables & set(REJECTION_TABLES):
            for stage, rule, op, thr in con.execute(
                    f"SELECT stage, rule, op, max(threshold) FROM {all_rejections_sql(tables)} "
                    "WHERE recipe_id = ? AND threshold IS NOT NULL GROUP BY ALL", [recipe_id]).fetchall():
                out[(stage, rule, op)] = thr
        if "mix_decisions" in tables:
            for rule, thr in con.execute(
                    "SELECT rule, max(threshold) FROM mix_decisions WHERE recipe_id = ? AND threshold IS NOT NULL "
                    "GROUP BY ALL", [recipe_id]).fetchall():
                out[("mix", rule, None)] = thr
    return out


def _takedowns_before(lake: Lake, when: datetime | None):
    from goldpan.audit.takedowns import TakedownMatcher, requests

    reqs = [r for r in requests(lake) if when is None or r["requested_at"] is None or r["requested_at"] <= when]
    return TakedownMatcher.from_requests(reqs), {r["request_id"]: r for r in reqs}


def _rule_changed(rule: str | None, changes: list[dict]) -> list[dict]:
    if not rule:
        return []
    return [c for c in changes if f".{rule}." in f".{c['key']}." or c["key"].endswith(f".{rule}")]


def diff_releases(lake: Lake, a_name: str, b_name: str) -> ReleaseDiff:
    from goldpan.audit.recipes import recipe_changes, recipe_for

    a, b = resolve_release(lake, a_name), resolve_release(lake, b_name)
    rows_a, rows_b = _corpus_rows(lake, int(a["corpus_version"])), _corpus_rows(lake, int(b["corpus_version"]))
    ra, rb = recipe_for(lake, a), recipe_for(lake, b)
    changes = recipe_changes(ra["recipe"], rb["recipe"]) if ra and rb else []
    note = ""
    if a.get("recipe_sha1") != b.get("recipe_sha1") and not (ra and rb):
        note = f"recipe changed ({a.get('recipe_id')} -> {b.get('recipe_id')}) but its text was not recorded for " \
               + ("both releases" if not (ra or rb) else ("release " + (a if not ra else b)["release"]))
    pins_b, pin_note = _readable(lake, _upstream(b))
    pins_a, _ = _readable(lake, _upstream(a))
    ta, tb = _threshold_table(lake, pins_a, a.get("recipe_id")), _threshold_table(lake, pins_b, b.get("recipe_id"))
    thr = [{"stage": k[0], "rule": k[1], "op": k[2], "before": ta.get(k), "after": tb.get(k)}
           for k in sorted(set(ta) | set(tb), key=str) if k in ta and k in tb and ta[k] != tb[k]]
    matcher, reqs = _takedowns_before(lake, b.get("decided_at"))

    removed_urls = sorted(set(rows_a) - set(rows_b))
    added_urls = sorted(set(rows_b) - set(rows_a))
    both = set(rows_a) & set(rows_b)
    updated = sum(1 for u in both if rows_a[u]["doc_id"] != rows_b[u]["doc_id"] or rows_a[u]["h"] != rows_b[u]["h"])

    removed = []
    for i, url in enumerate(removed_urls):
        r = rows_a[url]
        c = Change(url, r["doc_id"], r["lang"], r["source"], "unexplained (limit)")
        if i < EXPLAIN_LIMIT:
            _explain_removal(lake, c, pins_b, matcher, reqs, changes, thr)
        removed.append(c)
    added = []
    crawled_a = _crawled_urls(lake, pins_a, added_urls)
    for i, url in enumerate(added_urls):
        r = rows_b[url]
        c = Change(url, r["doc_id"], r["lang"], r["source"], "new crawl")
        if url in crawled_a and i < EXPLAIN_LIMIT:
            _explain_addition(lake, c, pins_a, changes, thr)
        added.append(c)
    notes = [pin_note] if pin_note else []
    return ReleaseDiff(a, b, added, removed, updated, len(both) - updated,
                       {"a": _counts(rows_a), "b": _counts(rows_b)}, changes, thr, note, notes,
                       _synthetic(lake, a, b))


def _synthetic(lake: Lake, a: dict, b: dict) -> dict[str, dict]:
    from goldpan.synthesize.provenance import release_synthetic

    if not lake.exists("synthetic_documents"):
        return {}
    out = {k: release_synthetic(lake, int(r["corpus_version"])) for k, r in (("a", a), ("b", b))}
    return out if out["a"]["documents"] or out["b"]["documents"] else {}


def _crawled_urls(lake: Lake, pins: dict[str, int] | None, urls: list[str]) -> set[str]:
    if not urls or not lake.exists("pages"):
        return set()
    from goldpan.audit.erase import _chunks, _in_list

    out: set[str] = set()
    with lake.connect(versions=pins, tables=["pages"]) as con:
        for chunk in _chunks(urls):
            out.update(r[0] for r in con.execute(
                f"SELECT DISTINCT url FROM pages WHERE url IN ({_in_list(chunk)})").fetchall())
    return out


def _explain_removal(lake: Lake, c: Change, pins, matcher, reqs, changes, thr) -> None:
    from goldpan.lineage.trace import TraceNotFound, trace

    synthetic = c.url.startswith("synthetic:")
    rid = None if synthetic else matcher.match(c.url)
    if rid is not None:
        r = reqs.get(rid, {})
        c.reason, c.stage, c.rule = "takedown", "takedown", rid
        c.detail = f"request {rid} ({r.get('kind')} {r.get('value')}): {r.get('reason')}"
        return
    try:
        t = trace(lake, c.doc_id if synthetic else c.url, versions=pins)
    except TraceNotFound:
        c.reason, c.stage, c.rule, c.detail = "new crawl", "crawl", "not_crawled", "no page for this URL any more"
        if synthetic:
            c.reason, c.stage, c.rule = "synthesize", "synthesize", "erased"
            c.detail = "no synthetic_documents row any more (erased with a parent by a takedown?)"
        return
    stop = next((s for s in t.steps if s.outcome != "kept"), None)
    if stop is None:
        c.reason, c.detail = "new crawl", "kept by every stage under its new doc id " + (t.doc_id or "?")
        return
    c.stage, c.rule = stop.stage, stop.rule
    if stop.stage == "crawl":
        c.reason, c.detail = "new crawl", f"re-crawl {stop.outcome}: {stop.rule}"
    elif stop.stage == "dedup":
        c.reason = "dedup"
        c.detail = f"duplicate of {stop.facts.get('duplicate_of_url') or stop.facts.get('duplicate_of')}"
    elif stop.outcome == "absent":
        c.reason, c.detail = "not processed", f"no {stop.table} row when the release was gated"
    else:
        changed = _rule_changed(stop.rule, changes) + [
            {"key": f"{x['stage']}.{x['rule']} (observed threshold)", "before": x["before"], "after": x["after"]}
            for x in thr if x["rule"] == stop.rule]
        if stop.stage == "mix" and stop.rule == "takedown_parent":
            c.reason = "takedown"  # a takedown of a parent of this synthetic document
        elif stop.stage == "mix" and stop.rule in CONSENT_RULES:
            c.reason = "consent"  # the publisher's opt-out (tdm-reservation, noai, robots.txt for AI agents)
        elif stop.stage == "mix":
            c.reason = "recipe change" if changed or any(ch["key"].startswith("mix.") for ch in changes) else "mix"
        else:
            c.reason = "rule change" if changed else stop.stage
        c.detail = f"{stop.rule} value {_fmt(stop.value)} threshold {_fmt(stop.threshold)}"
        if c.reason in ("consent", "takedown"):
            c.detail = f"{stop.rule}: {stop.facts.get('detail')}"
        if changed:
            c.detail += "; " + ", ".join(f"{x['key']}: {x['before']} -> {x['after']}" for x in changed)


def _explain_addition(lake: Lake, c: Change, pins_a, changes, thr) -> None:
    """Crawled already when A was gated: say which stage had stopped it then."""
    from goldpan.lineage.trace import TraceNotFound, trace

    try:
        t = trace(lake, c.url, versions=pins_a)
    except TraceNotFound:
        return
    stop = next((s for s in t.steps if s.outcome != "kept"), None)
    if stop is None:
        c.reason, c.detail = "new crawl", "content changed or newly promoted"
        return
    c.stage, c.rule = stop.stage, stop.rule
    changed = _rule_changed(stop.rule, changes) or [x for x in thr if x["rule"] == stop.rule]
    c.reason = ("rule change" if changed else
                "recipe change" if stop.stage == "mix" and changes else "new crawl")
    c.detail = f"was stopped at {stop.stage} by {stop.rule} in the earlier release"


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return "-" if v is None else str(v)


def format_diff(d: ReleaseDiff, limit: int = 50) -> str:
    a, b = d.a, d.b
    n_a, n_b = sum(d.counts["a"]["lang"].values()), sum(d.counts["b"]["lang"].values())
    out = [(f"release {a['release']} (training_corpus v{a['corpus_version']}, {n_a} docs) -> "
           f"{b['release']} (v{b['corpus_version']}, {n_b} docs)"),
           f"  added {len(d.added)}, removed {len(d.removed)}, updated {d.updated}, unchanged {d.unchanged}"]
    if d.removed:
        out.append("  removed by reason: " + ", ".join(f"{k} {v}" for k, v in d.removed_by_reason().items()))
    if d.added:
        out.append("  added by reason: " + ", ".join(f"{k} {v}" for k, v in d.added_by_reason().items()))
    for dim in ("source", "lang"):
        keys = sorted(set(d.counts["a"][dim]) | set(d.counts["b"][dim]))
        out.append(f"  per {dim}: " + ", ".join(
            f"{k} {d.counts['a'][dim].get(k, 0)}->{d.counts['b'][dim].get(k, 0)}" for k in keys))
    for key, rel in (("a", a), ("b", b)):
        if key in d.synthetic:
            out.append(f"  synthetic in {rel['release']}: " + _synthetic_line(d.synthetic[key]))
    if d.recipe_changes:
        out.append(f"recipe changes ({a.get('recipe_id')} -> {b.get('recipe_id')}):")
        out += [f"  {c['key']}: {c['before']} -> {c['after']}" for c in d.recipe_changes]
    elif a.get("recipe_sha1") == b.get("recipe_sha1"):
        out.append(f"recipe unchanged ({b.get('recipe_id')})")
    if d.recipe_note:
        out.append("  " + d.recipe_note)
    if d.threshold_changes:
        out.append("thresholds observed in decisions:")
        out += [f"  {x['stage']}.{x['rule']}: {x['before']} -> {x['after']}" for x in d.threshold_changes]
    if d.removed:
        out.append("removed:")
        out += [f"  - {c.url}  [{c.reason}] {c.detail}" for c in d.removed[:limit]]
        if len(d.removed) > limit:
            out.append(f"  ... {len(d.removed) - limit} more (--json for all)")
    if d.added:
        out.append("added:")
        out += [f"  + {c.url}  [{c.reason}] {c.detail}" for c in d.added[:limit]]
        if len(d.added) > limit:
            out.append(f"  ... {len(d.added) - limit} more (--json for all)")
    out += [f"note: {n}" for n in d.notes]
    return "\n".join(out)


def _synthetic_line(syn: dict) -> str:
    """`12 docs (3.1% of docs, 4.2% of tokens); model smollm2 (sha256 1a2b..) x template rewrite.en: 10 ...`"""
    head = (f"{syn['documents']} docs ({100 * syn['share_of_documents']:.1f}% of docs, "
            f"{100 * syn['share_of_tokens']:.1f}% of tokens)")
    parts = [f"{p['task']}: model {p['model_name']} ({(p['model_sha256'] or 'remote')[:12]}) x template "
             f"{p['template_id']} ({(p['template_sha1'] or '')[:8]}): {p['documents']} docs, {p['tokens'] or 0} tokens"
             for p in syn["models_and_prompts"]]
    return "; ".join([head, *parts])
