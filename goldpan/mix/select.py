"""Recipe-driven screening of documents, one decision row per input document.

The mix stage sees every document that survived dedup and filtering (all crawl batches) plus the
curated corpora the recipe lists, and records for each one whether it is eligible and if not which
rule left it out: language, language score, domain, quality score, takedown, publisher opt-out
(goldpan.consent.decide), a newer fetch of the same URL, a cluster merge that gave its cluster
another representative, contamination with an eval set, per-host cap. Token budgets
(goldpan.mix.budget) then choose among the eligible ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from goldpan.decontam.index import contamination_of
from goldpan.lake.schemas import ERROR, KEPT, REJECTED
from goldpan.recipe import MixSection

GENERAL = "general"
# How a rejected row's value compared with its threshold (mix_decisions has no op column): `why`
# prints this comparison, e.g. contaminated "value 12 > threshold 0" (12 shared n-grams, none allowed).
MIX_RULE_OPS: dict[str, str] = {
    "min_lang_score": "<",
    "min_quality_score": "<",
    "contaminated": ">",
    "max_docs_per_domain": ">",
}


def _parent_takedown(takedowns, parent_urls) -> tuple[str, str] | None:
    """(parent URL, request id) of the first parent a takedown covers: derived text goes with its source."""
    for url in parent_urls or ():
        if (rid := takedowns.match(url)) is not None:
            return url, rid
    return None


ALL_LANGUAGES = "*"  # mix.languages: ["*"] takes every language

def decide_mix(
    docs: Iterable[Mapping],
    cfg: MixSection,
    recipe_id: str,
    takedowns=None,
    decontam=None,
    consent=None,
) -> Iterator[dict]:
    """Yield one `mix_decisions` row per document (repeat is 1 for eligible rows until budgeted).

    `docs` must be ordered by (host, doc_id): the per-domain cap keeps the first documents of each
    host in that order, which makes the choice deterministic across reruns. Optional keys of a doc:
    `source` (None = matches no recipe source), `origin`, `domain`, `quality_score`, `n_tokens`,
    `url` (for takedowns), `text` (for decontamination), `consent` (the latest `consent` row
    of the URL, judged by `consent.check`, a goldpan.consent.decide.ConsentDecider),
    `superseded_by` (a newer fetch of the URL that dedup kept) and `replaced_by` (the
    representative that replaced this one in its dedup cluster).
    """
    languages = set(cfg.languages)
    any_language = ALL_LANGUAGES in languages
    domains = set(cfg.domains)
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
            "source": d.get("source", cfg.source),
            "repeat": 1,
            "recipe_id": recipe_id,
            "origin": d.get("origin", "lake"),
            "domain": d.get("domain") or GENERAL,
            "quality_score": d.get("quality_score"),
            "n_tokens": d.get("n_tokens"),
        }
        host = d.get("host") or ""
        if host != last_host:
            per_domain.clear()  # input is grouped by host: only the current host's count matters
            last_host = host
        score = d.get("lang_score")
        quality = d.get("quality_score")
        hit = None
        if "text" in d and (d["text"] is None or not str(d["text"]).strip()):
            row.update(status=ERROR, rule="no_text", detail="record has no text")
        elif row["source"] is None:
            row.update(status=REJECTED, rule="source_not_in_recipe", detail=d.get("source_detail"))
        elif takedowns is not None and (rid := takedowns.match(d.get("url"))) is not None:
            row.update(status=REJECTED, rule="takedown", detail=rid)
        elif takedowns is not None and (hit := _parent_takedown(takedowns, d.get("parent_urls"))) is not None:
            row.update(status=REJECTED, rule="takedown_parent", detail=f"{hit[1]}: parent {hit[0]}")
        elif consent is not None and row["origin"] == "lake" and (opt_out := consent.check(d.get("consent"))):
            row.update(status=REJECTED, rule=opt_out[0], detail=opt_out[1])
        elif d.get("superseded_by"):
            row.update(status=REJECTED, rule="superseded", detail=f"newer fetch of the URL: {d['superseded_by']}")
        elif d.get("replaced_by"):
            row.update(status=REJECTED, rule="cluster_representative_replaced",
                       detail=f"a later batch made {d['replaced_by']} its dedup cluster's representative (dedup_merges)")
        elif not any_language and d.get("lang") not in languages:
            row.update(status=REJECTED, rule="lang_not_in_recipe", detail=f"{d.get('lang')} not in {sorted(languages)}")
        elif score is None or score < cfg.min_lang_score:
            row.update(status=REJECTED, rule="min_lang_score", value=score, threshold=cfg.min_lang_score)
        elif domains and row["domain"] not in domains:
            row.update(status=REJECTED, rule="domain_not_in_recipe", detail=f"{row['domain']} not in {sorted(domains)}")
        elif cfg.min_quality_score is not None and (quality is None or quality < cfg.min_quality_score):
            row.update(
                status=REJECTED,
                rule="min_quality_score",
                value=quality,
                threshold=cfg.min_quality_score,
                detail=None if quality is not None else "no doc_scores row",
            )
        elif decontam is not None and (hit := contamination_of(d, decontam)) is not None:
            row.update(
                status=REJECTED,
                rule="contaminated",
                value=float(hit.hits),  # distinct eval n-grams shared with the document
                threshold=0.0,  # any shared n-gram rejects (MIX_RULE_OPS: value > threshold)
                detail=f"{hit.eval_set}: {hit.hits} shared {decontam.n}-gram(s), first: {hit.ngram}",
            )
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
