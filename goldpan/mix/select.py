"""Recipe-driven selection of filtered documents, one decision row per input document.

The mix stage sees every document that survived dedup and filtering, across all crawl batches,
and records for each one whether the recipe takes it, and if not which rule left it out.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from goldpan.lake.schemas import KEPT, REJECTED
from goldpan.recipe import MixSection


def decide_mix(docs: Iterable[Mapping], cfg: MixSection, recipe_id: str) -> Iterator[dict]:
    """Yield one `mix_decisions` row per document.

    `docs` must be ordered by (host, doc_id): the per-domain cap keeps the first documents of each
    domain in that order, which makes the choice deterministic across reruns.
    """
    languages = set(cfg.languages)
    per_domain: dict[str, int] = {}
    last_host: str | None = None
    for d in docs:
        row = {
            "doc_id": d["doc_id"],
            "batch_id": d["batch_id"],
            "status": KEPT,
            "rule": None,
            "value": None,
            "threshold": None,
            "detail": None,
            "lang": d.get("lang"),
            "source": cfg.source,
            "repeat": 1,
            "recipe_id": recipe_id,
        }
        host = d.get("host") or ""
        if host != last_host:
            per_domain.clear()  # input is grouped by host: only the current host's count matters
            last_host = host
        score = d.get("lang_score")
        if d.get("lang") not in languages:
            row.update(status=REJECTED, rule="lang_not_in_recipe", detail=f"{d.get('lang')} not in {sorted(languages)}")
        elif score is None or score < cfg.min_lang_score:
            row.update(status=REJECTED, rule="min_lang_score", value=score, threshold=cfg.min_lang_score)
        elif cfg.max_docs_per_domain is not None and per_domain.get(host, 0) >= cfg.max_docs_per_domain:
            row.update(
                status=REJECTED,
                rule="max_docs_per_domain",
                value=float(per_domain[host] + 1),
                threshold=float(cfg.max_docs_per_domain),
            )
        if row["status"] == KEPT:
            per_domain[host] = per_domain.get(host, 0) + 1
        yield row
