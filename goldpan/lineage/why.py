"""`why <url>`: the first stage and rule that kept a page out of the latest release, with evidence.

The answer is read from the tables in pipeline order, so "first" means the earliest stage that
stopped the page: a takedown request (it overrides everything, and its rows are deleted), the
crawl (never fetched: out of scope, robots, not discovered; or fetched and rejected), extraction,
dedup (duplicate of which document), the filter rules (all failures listed, the first in rule
order named), the mix, the candidate, and finally the release gate (refused, or not promoted yet).

A synthetic document (model output) has no URL: `why <doc_id>` answers for it the same way, its
evidence naming the model (name, sha256), the prompt template and its parents. A page's answer lists
the synthetic documents derived from it (`synthetic_children`) and whether the release holds them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from goldpan.crawl.urls import normalize_url
from goldpan.lake import Lake
from goldpan.lake.releases import PROMOTED, REFUSED, releases


@dataclass
class WhyAnswer:
    url: str
    in_release: bool
    release: str | None  # the latest promoted release the answer is about
    stage: str | None  # takedown | crawl | extract | dedup | filter | mix | candidate | release
    rule: str | None
    value: Any = None
    threshold: Any = None
    op: str | None = None  # how value compared with threshold when the rule decided: < or >
    detail: str = ""
    table: str | None = None
    delta_version: int | None = None
    doc_id: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def headline(self) -> str:
        where = self.release or "no release yet"
        if self.in_release:
            return f"{self.url} IS in release {where}" + (f" ({self.detail})" if self.detail else "")
        head = f"{self.url} is not in release {where}: stopped at {self.stage}"
        if self.rule:
            head += f" by {self.rule}"
        if self.value is not None or self.threshold is not None:
            head += f" (value {_fmt(self.value)} {self.op or 'vs'} threshold {_fmt(self.threshold)})"
        return head + (f": {self.detail}" if self.detail else "")


# Stages whose tables have no op column: how a rejected row's value compared with its threshold.
_EXTRACT_OPS = {"empty_text": "<", "min_text_chars": "<", "navigation_page": ">"}
_DEDUP_OP = ">="  # similarity >= threshold: a near-duplicate


def _rule_op(stage: str, rule: str) -> str | None:
    if stage == "mix":
        from goldpan.mix.select import MIX_RULE_OPS

        return MIX_RULE_OPS.get(rule)
    if stage == "extract":
        return _EXTRACT_OPS.get(rule)
    if stage == "dedup":
        return _DEDUP_OP
    return None


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return "-" if v is None else str(v)


def latest_release(lake: Lake) -> dict | None:
    promoted = [r for r in releases(lake) if r["status"] == PROMOTED and r["corpus_version"] is not None]
    return promoted[-1] if promoted else None


def _url_forms(url: str) -> list[str]:
    norm = normalize_url(url)
    return list(dict.fromkeys([url] + ([norm] if norm else [])))


def why(lake: Lake, url: str, recipe_path: str | None = None) -> WhyAnswer:
    """Explain `url` (or a synthetic document's id) against the latest promoted release."""
    from goldpan.synthesize.provenance import children_of

    syn = _synthetic_row(lake, url)
    ans = _why_synthetic(lake, syn) if syn is not None else _why_page(lake, url, recipe_path)
    rel = latest_release(lake)
    if syn is None and ans.doc_id and (kids := children_of(lake, [ans.doc_id], rel and int(rel["corpus_version"]))):
        ans.evidence["synthetic_children"] = [
            f"{k['doc_id']} ({k['task']}, model {k['model_name']}, template {k['template_id']}): "
            + ("in release" if k["in_release"] else f"{k['status']}" + (f" by {k['rule']}" if k["rule"] else ""))
            for k in kids]
    return ans


SYNTH_EVIDENCE = ("task", "model_name", "model_sha256", "model_runtime", "template_id", "template_sha1",
                  "prompt_sha1", "params_json", "parent_ids", "parent_urls")


def _synthetic_row(lake: Lake, query: str) -> dict | None:
    if "://" in query or not lake.exists("synthetic_documents"):
        return None
    rows = list(lake.iter_rows("SELECT * FROM synthetic_documents WHERE doc_id = ? LIMIT 1", [query],
                               tables=["synthetic_documents"]))
    return rows[0] if rows else None


def _why_synthetic(lake: Lake, syn: dict) -> WhyAnswer:
    """A model output: in the release, or the first stage that stopped it (the guard and dedup at
    synthesis, a parent's takedown or opt-out at the mix, the gate), with its model and prompt."""
    from goldpan.lineage.trace import trace

    doc_id = syn["doc_id"]
    rel = latest_release(lake)
    evidence = {k: syn.get(k) for k in SYNTH_EVIDENCE}
    if rel is not None:
        with lake.connect(versions={"training_corpus": int(rel["corpus_version"])}, tables=["training_corpus"]) as con:
            if con.execute("SELECT count(*) FROM training_corpus WHERE doc_id = ?", [doc_id]).fetchone()[0]:
                return WhyAnswer(doc_id, True, rel["release"], None, None, doc_id=doc_id, evidence=evidence,
                                 detail=f"synthetic doc {doc_id}, training_corpus v{rel['corpus_version']}")
    t = trace(lake, doc_id)
    stop = next((s for s in t.steps if s.outcome != "kept"), None)
    if stop is None:
        return _after_candidate(lake, doc_id, t, rel)
    detail = str(stop.facts.get("detail") or "")
    if stop.outcome == "absent":
        detail = f"no {stop.table} row: {stop.facts.get('note') or 'the stage has not run yet'}"
    return WhyAnswer(doc_id, False, rel["release"] if rel else None, stop.stage, stop.rule, stop.value,
                     stop.threshold, op=stop.facts.get("op") or (_rule_op(stop.stage, stop.rule) if stop.rule else None),
                     detail=detail, table=stop.table, delta_version=stop.delta_version, doc_id=doc_id,
                     evidence=evidence)


def _why_page(lake: Lake, url: str, recipe_path: str | None = None) -> WhyAnswer:
    from goldpan.audit.takedowns import TakedownMatcher, requests
    from goldpan.lineage.trace import TraceNotFound, trace

    forms = _url_forms(url)
    rel = latest_release(lake)
    rel_name = rel["release"] if rel else None
    tables = set(lake.list_tables())
    in_rel_doc = None
    if rel is not None:
        with lake.connect(versions={"training_corpus": int(rel["corpus_version"])}, tables=["training_corpus"]) as con:
            hit = next(iter(con.execute(f"SELECT doc_id FROM training_corpus WHERE url IN "
                                        f"({', '.join('?' for _ in forms)}) LIMIT 1", forms).fetchall()), None)
        in_rel_doc = hit[0] if hit else None

    rid = TakedownMatcher.from_lake(lake).match(url)
    if rid is not None:
        req = next((r for r in requests(lake) if r["request_id"] == rid), {})
        detail = f"request {rid} ({req.get('kind')} {req.get('value')}): {req.get('reason')}"
        ans = WhyAnswer(url, False, rel_name, "takedown", "takedown", detail=detail, table="takedowns",
                        delta_version=lake.version("takedowns"), doc_id=in_rel_doc,
                        evidence={"request": req})
        if in_rel_doc:
            ans.detail += f"; still in release {rel_name} until the next promotion drops it"
        return ans
    if in_rel_doc is not None:
        return WhyAnswer(url, True, rel_name, None, None, doc_id=in_rel_doc,
                         detail=f"doc {in_rel_doc}, training_corpus v{rel['corpus_version']}")

    try:
        t = trace(lake, forms[-1]) if len(forms) > 1 else trace(lake, url)
    except TraceNotFound:
        t = None
        if len(forms) > 1:
            try:
                t = trace(lake, forms[0])
            except TraceNotFound:
                t = None
    if t is None:
        return _not_crawled(lake, url, rel_name, tables, recipe_path)

    stop = next((s for s in t.steps if s.outcome not in ("kept",)), None)
    if stop is not None:
        ans = WhyAnswer(url, False, rel_name, stop.stage, stop.rule, stop.value, stop.threshold,
                        table=stop.table, delta_version=stop.delta_version, doc_id=t.doc_id,
                        evidence={k: v for k, v in stop.facts.items() if v not in (None, [], "")})
        if stop.outcome == "absent":
            ans.rule = "not_processed_yet"
            ans.detail = f"no {stop.table} row yet: the stage has not run on this document's batch"
        elif stop.stage == "dedup":
            dup = stop.facts.get("duplicate_of")
            dup_url = stop.facts.get("duplicate_of_url")
            ans.detail = f"duplicate of {dup_url or dup} (doc {dup})"
        elif stop.stage == "filter" and stop.facts.get("failed_rules"):
            fr = stop.facts["failed_rules"]
            ans.op = next((r["op"] for r in fr if r["rule"] == stop.rule), None)
            ans.detail = "failed " + ", ".join(f"{r['rule']} ({_fmt(r['value'])} {r['op']} {_fmt(r['threshold'])})"
                                              for r in fr)
        elif stop.facts.get("detail"):
            ans.detail = str(stop.facts["detail"])
        if ans.op is None and stop.rule:
            ans.op = _rule_op(stop.stage, stop.rule)
        elif stop.stage == "crawl" and stop.facts.get("http_status"):
            ans.detail = f"HTTP {stop.facts['http_status']}"
        return ans
    return _after_candidate(lake, url, t, rel)


def _not_crawled(lake: Lake, url: str, rel_name: str | None, tables: set[str], recipe_path: str | None) -> WhyAnswer:
    """The URL has no pages row: the frontier says why if it knows, else the recipe's crawl scope."""
    if "crawl_frontier" in tables:
        cols = {f.name for f in lake.table("crawl_frontier").schema().fields}
        if "url" in cols:
            with lake.connect(tables=["crawl_frontier"]) as con:
                cur = con.execute("SELECT * FROM crawl_frontier WHERE url IN (" + ", ".join("?" for _ in _url_forms(url))
                                  + ") LIMIT 1", _url_forms(url))
                rows = cur.fetchall()
                row = rows[0] if rows else None
                names = [d[0] for d in cur.description]
            if row is not None:
                fr = dict(zip(names, row))
                state = fr.get("state")
                reason = fr.get("reason") or fr.get("state_reason") or fr.get("last_reason")
                return WhyAnswer(url, False, rel_name, "crawl", f"frontier_{state}" if state else "not_fetched",
                                 detail=f"in crawl_frontier with state {state!r}" + (f" ({reason})" if reason else "")
                                 + "; never fetched into pages", table="crawl_frontier",
                                 delta_version=lake.version("crawl_frontier"),
                                 evidence={k: v for k, v in fr.items() if k in ("state", "depth", "next_fetch_at", "reason",
                                                                             "discovered_from", "host") and v is not None})
    scope_reason, recipe_name = _scope_reason(lake, url, recipe_path)
    if scope_reason:
        return WhyAnswer(url, False, rel_name, "crawl", "out_of_scope",
                         detail=f"{scope_reason} under the crawl scope of recipe {recipe_name}; never fetched")
    if recipe_name is None:
        return WhyAnswer(url, False, rel_name, "crawl", "not_crawled",
                         detail="never fetched; no recorded recipe to check the crawl scope against (pass --recipe)")
    return WhyAnswer(url, False, rel_name, "crawl", "not_crawled",
                     detail=f"in the crawl scope of recipe {recipe_name} but never fetched: no crawled page led to "
                     "it within max_depth/max_pages")


def _scope_reason(lake: Lake, url: str, recipe_path: str | None) -> tuple[str | None, str | None]:
    from goldpan.audit.recipes import latest_recipe

    crawl = None
    name = None
    snap = latest_recipe(lake)
    if snap is not None:
        crawl, name = snap["recipe"].get("crawl"), snap["recipe_id"]
    if crawl is None and recipe_path:
        try:
            from goldpan.recipe_loader import load_recipe

            r = load_recipe(recipe_path)
            crawl, name = r.crawl.model_dump(), r.recipe_id
        except Exception:  # noqa: BLE001 -- an unreadable recipe only loses the scope hint
            crawl = None
    if not crawl:
        return None, name
    from goldpan.crawl.scope import CrawlScope

    scope = CrawlScope(allowed_hosts=frozenset(crawl.get("allowed_hosts") or ()),
                       include_patterns=tuple(crawl.get("include_patterns") or ()),
                       exclude_patterns=tuple(crawl.get("exclude_patterns") or ()),
                       max_depth=int(crawl.get("max_depth") or 0))
    return scope.why_not(url), name


def _after_candidate(lake: Lake, url: str, t, rel: dict | None) -> WhyAnswer:
    """Kept by every stage: the candidate was refused by the gate, or is not promoted yet."""
    rel_name = rel["release"] if rel else None
    cand_v = lake.version("corpus_candidate")
    attempts = [r for r in releases(lake) if r["candidate_version"] == cand_v]
    if attempts and attempts[-1]["status"] == REFUSED:
        import json

        failed = [x for x in json.loads(attempts[-1]["gate_json"] or "{}").get("results", []) if not x.get("success")]
        names = ", ".join(f"{x.get('table')}.{x.get('column') or ''} {x.get('expectation')}" for x in failed) or "gate"
        return WhyAnswer(url, False, rel_name, "release", "gate_refused", detail=f"candidate v{cand_v} refused: {names}",
                         table="corpus_releases", delta_version=lake.version("corpus_releases"), doc_id=t.doc_id,
                         evidence={"attempt_id": attempts[-1]["attempt_id"], "failed": failed})
    return WhyAnswer(url, False, rel_name, "release", "not_promoted_yet",
                     detail=f"selected in corpus_candidate v{cand_v}, which has not been promoted"
                     + (" (no gate verdict yet)" if not attempts else f" (attempt {attempts[-1]['status']})"),
                     table="corpus_candidate", delta_version=cand_v, doc_id=t.doc_id)


def format_why(a: WhyAnswer) -> str:
    lines = [a.headline]
    if a.table:
        lines.append(f"  evidence: table {a.table} v{_fmt(a.delta_version)}" + (f", doc {a.doc_id}" if a.doc_id else ""))
    for k, v in a.evidence.items():
        if k in ("failed_rules", "request", "failed", "rule_decisions", "rules_recipe"):
            continue
        lines.append(f"    {k}: {_fmt(v)}")
    return "\n".join(lines)
