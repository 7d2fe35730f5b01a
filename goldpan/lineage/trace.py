"""`goldpan trace`: one document's path through every table, and why it stopped where it did.

Answers "why is this document in corpus vN, where did it come from?" and "why is this page not in
the corpus?" from the tables alone: each step names its table, the Delta version read, the Dagster
run that wrote that batch (from the Delta commit metadata) and the decision with rule, value and
threshold.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from goldpan.audit.takedowns import TakedownMatcher, requests
from goldpan.consent.decide import CONSENT_RULES, rule_source
from goldpan.crawl.urls import normalize_url
from goldpan.dedup.report import cluster_history, cluster_members
from goldpan.lake import Lake
from goldpan.lake.releases import PROMOTED, releases

SIGNAL_PREVIEW = [
    "n_words", "mean_word_length", "alpha_words_ratio", "stop_words_count", "dup_line_frac",
    "dup_para_frac", "top_2gram_char_frac", "dup_5gram_char_frac",
]


@dataclass
class Step:
    stage: str
    table: str
    delta_version: int | None
    run_id: str | None
    outcome: str  # kept | rejected | error | absent
    facts: dict[str, Any] = field(default_factory=dict)
    rule: str | None = None
    value: Any = None
    threshold: Any = None


@dataclass
class Trace:
    query: str
    doc_id: str | None
    page_id: str | None
    url: str | None
    steps: list[Step]
    releases: list[str]
    verdict: str

    def as_dict(self) -> dict:
        return {
            "query": self.query, "doc_id": self.doc_id, "page_id": self.page_id, "url": self.url,
            "verdict": self.verdict, "releases": self.releases,
            "steps": [s.__dict__ for s in self.steps],
        }


class TraceNotFound(LookupError):
    pass


def _one(con, sql: str, params: list) -> dict | None:
    cur = con.execute(sql, params)
    rows = cur.fetchmany(1)
    cur.fetchall()  # finish the result: DuckDB 2 refuses new work on a connection with one pending
    row = rows[0] if rows else None
    if row is None:
        return None
    return dict(zip([d[0] for d in cur.description], row))


def _run_for(lake: Lake, table: str, batch_id: str | None) -> str | None:
    """The Dagster run of the latest commit that wrote this batch (or the table, if unpartitioned)."""
    for commit in lake.history(table, 500):
        if (batch_id is None or commit.get("partition") == batch_id) and commit.get("dagster_run_id"):
            return commit["dagster_run_id"]
    return None


def trace(lake: Lake, query: str, versions: dict[str, int] | None = None) -> Trace:
    """Trace `query` (URL, doc_id or page_id) through the latest tables, or through the table
    versions in `versions` (time travel, e.g. the upstream versions a release was gated on)."""
    with lake.connect(versions=versions) as con:
        return _trace(lake, con, query, versions)


@dataclass
class _Reader:
    """What every step of a trace reads: the lake, one connection, the table versions, and the batch
    of the traced page or document (whose writing run each step names)."""

    lake: Lake
    con: Any
    ver: dict[str, int | None]
    batch: str | None = None

    def has(self, table: str) -> bool:
        return table in self.ver

    def step(self, stage: str, table: str, outcome: str, facts: dict, *, per_batch: bool = True,
             shown_version: str | None = None, **decision: Any) -> Step:
        """A step read from `table` (its version, and the run that wrote the batch or the table)."""
        return Step(stage, table, self.ver.get(shown_version or table),
                    _run_for(self.lake, shown_version or table, self.batch if per_batch else None),
                    outcome, facts, **decision)

    def absent(self, stage: str, table: str) -> Step:
        return Step(stage, table, self.ver.get(table), None, "absent",
                    {"note": "stage has not processed this document yet"})


def _trace(lake: Lake, con, query: str, versions: dict[str, int] | None = None) -> Trace:
    tables = set(lake.list_tables())
    r = _Reader(lake, con, {t: (versions or {}).get(t, lake.version(t)) for t in tables})
    found = _subject(r, query, versions)
    if isinstance(found, Trace):
        return found
    page, doc = found
    r.batch = (page or doc or {}).get("batch_id")
    steps: list[Step] = [_crawl_step(r, page)] if page is not None else []
    stop: Step | None = None if page is None or page["status"] == "kept" else steps[-1]
    for stage in (_extract_step, _dedup_step, _filter_step, _classify_step, _mix_step):
        if doc is None or stop is not None:
            break
        s = stage(r, doc)
        if s is not None:
            steps.append(s)
            stop = s if s.outcome != "kept" else None
    if doc is not None and stop is None and r.has("corpus_candidate"):
        steps.append(_candidate_step(r, doc["doc_id"]))
    doc_id = doc["doc_id"] if doc else None
    in_releases = _releases_containing(lake, doc_id) if doc_id and versions is None else []
    url = (page or doc or {}).get("url")
    return Trace(query, doc_id, (page or doc or {}).get("page_id"), url, steps, in_releases,
                 _verdict(steps, stop, in_releases))


def _subject(r: _Reader, query: str, versions) -> tuple[dict | None, dict | None] | Trace:
    """The page and document `query` (URL, doc_id or page_id) names; or the whole trace when it names
    a curated record, a synthetic document or a taken-down URL. Raises TraceNotFound otherwise."""
    con, page, doc = r.con, None, None
    if "://" in query and r.has("pages"):
        for form in dict.fromkeys([query, normalize_url(query) or query]):
            page = _one(con, "SELECT * EXCLUDE (content) FROM pages WHERE url = ? OR final_url = ? "
                             "ORDER BY (status = 'kept') DESC, batch_id DESC, fetched_at DESC LIMIT 1", [form, form])
            if page is not None:
                break
    elif r.has("documents"):
        doc = _one(con, "SELECT * FROM documents WHERE doc_id = ?", [query])
        if r.has("pages"):
            page = _one(con, "SELECT * EXCLUDE (content) FROM pages WHERE page_id = ?",
                        [query if doc is None else doc["page_id"]])
    if page is None and doc is None:
        return _trace_elsewhere(r, query, versions)
    if page is not None and doc is None and r.has("documents"):
        doc = _one(con, "SELECT * FROM documents WHERE page_id = ? ORDER BY extractor LIMIT 1", [page["page_id"]])
    return page, doc


def _trace_elsewhere(r: _Reader, query: str, versions) -> Trace:
    """A query no page or document matches: a curated record, a synthetic document, a taken-down URL."""
    if r.has("curated_documents"):
        cur = _one(r.con, "SELECT * EXCLUDE (text) FROM curated_documents WHERE doc_id = ? OR url = ? LIMIT 1",
                   [query, query])
        if cur is not None:
            return _trace_curated(r.lake, r.con, query, cur, r.ver, versions)
    if r.has("synthetic_documents"):
        syn = _one(r.con, "SELECT * FROM synthetic_documents WHERE doc_id = ? LIMIT 1", [query])
        if syn is not None:
            return _trace_synthetic(r.lake, r.con, query, syn, r.ver, versions)
    if "://" in query:
        rid = TakedownMatcher.from_lake(r.lake).match(query)
        if rid is not None:
            req = next((q for q in requests(r.lake) if q["request_id"] == rid), {})
            step = Step("takedown", "takedowns", r.ver.get("takedowns"), None, "rejected",
                        {k: req.get(k) for k in ("kind", "value", "reason", "requested_by", "requested_at",
                                                 "rows_deleted_json")}, rule="takedown")
            return Trace(query, None, None, query, [step], [],
                         f"taken down by request {rid}: every derived row was deleted ({req.get('reason')})")
    raise TraceNotFound(f"no page or document matches {query!r} in the lake at {r.lake.root}")


def _crawl_step(r: _Reader, page: dict) -> Step:
    facts = {k: page.get(k) for k in ("batch_id", "url", "final_url", "fetched_at", "http_status", "content_type",
                                      "content_bytes", "content_sha1", "depth", "discovered_from", "source")}
    if page.get("headers_json"):
        facts["headers_sha1"] = hashlib.sha1(page["headers_json"].encode()).hexdigest()
    if page.get("robots_version") and r.has("policy_files"):  # which robots.txt allowed (or refused) the fetch
        facts["robots_txt"] = _policy_file(r.con, page["robots_version"])
    if r.has("consent") and (signals := _consent_facts(r.con, page, r.ver)) is not None:
        facts["consent"] = signals  # the publisher's opt-out signals (decided at the mix)
    return r.step("crawl", "pages", page["status"], facts, rule=page.get("reason"))


def _extract_step(r: _Reader, doc: dict) -> Step:
    s = r.step("extract", "documents", doc["status"],
               {k: doc.get(k) for k in ("doc_id", "title", "lang", "lang_score", "n_words", "n_sentences",
                                        "n_tokens", "encoding", "encoding_source", "extractor", "extractor_version",
                                        "registered_domain") if k in doc},
               rule=doc.get("rule"), value=doc.get("value"), threshold=doc.get("threshold"))
    if doc.get("detail"):
        s.facts["detail"] = doc["detail"]
    return s


def _dedup_step(r: _Reader, doc: dict) -> Step | None:
    if not r.has("dedup_clusters"):
        return None
    doc_id = doc["doc_id"]
    d = _one(r.con, "SELECT * FROM dedup_clusters WHERE doc_id = ?", [doc_id])
    if d is None:
        return r.absent("dedup", "dedup_clusters")
    for big in ("signature", "band_keys"):
        d.pop(big, None)
    dup_url = None
    if d.get("duplicate_of"):
        hit = next(iter(r.con.execute("SELECT url FROM dedup_clusters WHERE doc_id = ?", [d["duplicate_of"]]).fetchall()), None)
        dup_url = hit[0] if hit else None
    rep = d.get("cluster_id")
    return r.step("dedup", "dedup_clusters", d["status"],
                  {"cluster_id": rep, "representative": rep, "is_representative": d.get("is_representative"),
                   "duplicate_of": d.get("duplicate_of"), "duplicate_of_url": dup_url,
                   "text_sha1": d.get("text_sha1"), "paragraphs_removed": d.get("dedup_text") is not None,
                   "match": d.get("match"), "supersedes": d.get("supersedes"),
                   "cluster_changes": _cluster_history(r.con, doc_id),
                   "other_members": _cluster_members(r.con, doc_id)},
                  rule=d.get("rule"), value=d.get("similarity"), threshold=d.get("threshold"))


def _failed_rules(r: _Reader, table: str, stage: str, doc_id: str) -> list[tuple]:
    """(rule, value, op, threshold, recipe_id) of every rejection row of `doc_id` at `stage` in `table`."""
    if not r.has(table):
        return []
    return r.con.execute(f"SELECT rule, value, op, threshold, recipe_id FROM {table} WHERE doc_id = ? AND stage = ?",
                         [doc_id, stage]).fetchall()


def _with_failures(s: Step, rej: list[tuple]) -> Step:
    """The first failed rule as the step's decision, and every failed rule in its facts."""
    if rej:
        s.rule, s.value, s.threshold = rej[0][0], rej[0][1], rej[0][3]
        s.facts["failed_rules"] = [
            {"rule": x[0], "value": x[1], "op": x[2], "threshold": x[3], "recipe_id": x[4]} for x in rej]
    return s


def _filter_step(r: _Reader, doc: dict) -> Step | None:
    if not r.has("doc_signals"):
        return None
    doc_id = doc["doc_id"]
    sig = _one(r.con, "SELECT * FROM doc_signals WHERE doc_id = ?", [doc_id])
    if sig is None:
        return r.absent("filter", "doc_signals")
    rej = _failed_rules(r, "rejections", "filter", doc_id)
    outcome = "error" if sig["status"] == "error" else ("rejected" if rej else "kept")
    s = _with_failures(r.step("filter", "doc_signals+rejections", outcome,
                              {k: sig[k] for k in SIGNAL_PREVIEW if k in sig}, shown_version="rejections"), rej)
    recipe_id = rej[0][4] if rej else _recipe_id_of(r.con, doc_id, r.has)
    decisions = rule_decisions(r.lake, recipe_id, doc.get("lang") or sig.get("lang"), sig)
    if decisions:
        s.facts["rule_decisions"] = decisions
        s.facts["rules_recipe"] = recipe_id
    if sig["status"] == "error":
        s.rule, s.facts["error"] = "signal_error", sig.get("error")
    return s


def _classify_step(r: _Reader, doc: dict) -> Step | None:
    sc = _one(r.con, "SELECT * FROM doc_scores WHERE doc_id = ?", [doc["doc_id"]]) if r.has("doc_scores") else None
    if sc is None:
        return None
    rej = _failed_rules(r, "quality_decisions", "classify", doc["doc_id"])
    outcome = "error" if sc.get("status") == "error" else ("rejected" if rej else "kept")
    return _with_failures(r.step("classify", "doc_scores", outcome,
                                 {k: v for k, v in sc.items() if k not in ("doc_id", "batch_id", "status")}), rej)


def _mix_step(r: _Reader, doc: dict) -> Step | None:
    if not r.has("mix_decisions"):
        return None
    m = _one(r.con, "SELECT * FROM mix_decisions WHERE doc_id = ?", [doc["doc_id"]])
    if m is None:
        return r.absent("mix", "mix_decisions")
    s = r.step("mix", "mix_decisions", m["status"],
               {k: v for k, v in m.items() if k not in ("doc_id", "batch_id", "status", "rule", "value", "threshold")},
               per_batch=False, rule=m.get("rule"), value=m.get("value"), threshold=m.get("threshold"))
    if m.get("rule") in CONSENT_RULES:  # a publisher's opt-out: the value is the signal's source
        s.value = rule_source(m.get("detail"))
    return s


def _candidate_step(r: _Reader, doc_id: str) -> Step:
    c = _one(r.con, "SELECT doc_id, n_words, repeat FROM corpus_candidate WHERE doc_id = ?", [doc_id])
    if c is not None and r.has("doc_tokens"):
        c |= _one(r.con, "SELECT tokenizer, n_tokens FROM doc_tokens WHERE doc_id = ?", [doc_id]) or {}
    return r.step("candidate", "corpus_candidate", "kept" if c else "absent", dict(c or {}), per_batch=False)


def _verdict(steps: list[Step], stop: Step | None, in_releases: list[str]) -> str:
    if in_releases:
        return f"in training_corpus release(s) {', '.join(in_releases)}"
    if stop is not None:
        detail = f" by {stop.rule}" if stop.rule else ""
        if stop.value is not None or stop.threshold is not None:
            detail += f" (value {_fmt(stop.value)}, threshold {_fmt(stop.threshold)})"
        return f"{stop.outcome} at stage {stop.stage}{detail}"
    return "not in any release yet (reached " + (steps[-1].stage if steps else "nothing") + ")"


_POLICY_FACTS = "version_id, origin, path, http_status, outcome, sha1, n_bytes, fetched_at, batch_id"
_CONSENT_FACTS = ("robots_version", "robots_status", "robots_ai_disallowed", "tdmrep_version", "tdmrep_status",
                  "tdmrep_location", "tdm_reservation", "tdm_reservation_source", "tdm_policy", "x_robots_tag",
                  "meta_robots", "inherited_from")


def _policy_file(con, version_id: str) -> dict | None:
    return _one(con, f"SELECT {_POLICY_FACTS} FROM policy_files WHERE version_id = ?", [version_id])


def _consent_facts(con, page: dict, ver: dict) -> dict | None:
    """The page's stored opt-out signals (table consent), its tdmrep.json version, and the URL's
    latest observation with a response when it is another page (what the mix judges by)."""
    c = _one(con, "SELECT * FROM consent WHERE page_id = ?", [page["page_id"]])
    if c is None:
        return None
    facts: dict[str, Any] = {k: c.get(k) for k in _CONSENT_FACTS if c.get(k) not in (None, [], "")}
    if c.get("tdmrep_version") and "policy_files" in ver:
        facts["tdmrep_json"] = _policy_file(con, c["tdmrep_version"])
    latest = _one(con, "SELECT page_id, batch_id, fetched_at, " + ", ".join(_CONSENT_FACTS[:-1])
                  + " FROM consent WHERE url = ? AND observed ORDER BY fetched_at DESC LIMIT 1", [c["url"]])
    if latest is not None and latest["page_id"] != c["page_id"]:
        facts["latest_observation"] = {k: v for k, v in latest.items() if v not in (None, [], "")}
    facts["table"] = f"consent v{ver.get('consent')}"
    return facts


def _recipe_id_of(con, doc_id: str, has) -> str | None:
    if not has("mix_decisions"):
        return None
    rows = con.execute("SELECT recipe_id FROM mix_decisions WHERE doc_id = ?", [doc_id]).fetchall()
    return rows[0][0] if rows else None


def rule_decisions(lake: Lake, recipe_id: str | None, lang: str | None, signals: dict) -> list[dict]:
    """Every filter rule of the recipe that decided, re-evaluated on the stored signals.

    `rejections` only holds failures; this lists the passes too, with each rule's arguments, so a
    trace shows the whole decision. Needs the recipe snapshot of `recipe_id` (recorded at promotion);
    returns [] without it rather than guessing thresholds from today's recipe file.
    """
    from goldpan.audit.recipes import snapshot_by_id

    snap = snapshot_by_id(lake, recipe_id)
    if snap is None:
        return []
    try:
        from goldpan.filter.rules import describe, ruleset_from_section
        from goldpan.recipe import FilterSection

        filt = dict(snap["recipe"].get("filter") or {})
        filt.setdefault("mode", "datatrove")  # a snapshot from before filter modes: decided in datatrove mode
        ruleset = ruleset_from_section(FilterSection(**filt))
        section = ruleset.section_for(lang, signals)
        rules = ruleset.sections.get(section, [])
    except Exception:  # noqa: BLE001 -- a snapshot from an older rule vocabulary: no re-evaluation
        return []
    out = []
    for rule in rules:
        try:
            failure = rule.evaluate(signals, section)
        except Exception as exc:  # noqa: BLE001 -- a signal this rule needs is missing from the row
            out.append({"rule": rule.name, "passed": None, "error": str(exc)})
            continue
        args = {k: v for k, v in describe(rule).items() if k in ("signal", "op", "threshold")} | {"section": section}
        row = {"rule": rule.name, "passed": failure is None, "args": args}
        if failure is not None:
            row |= {"value": failure.value, "op": failure.op, "threshold": failure.threshold}
        out.append(row)
    return out


def _trace_curated(lake: Lake, con, query: str, cur: dict, ver: dict, versions) -> Trace:
    """A curated record enters at the mix (no fetch, no extraction): its snapshot, then mix and candidate."""
    doc_id = cur["doc_id"]
    steps = [Step("curated", "curated_documents", ver.get("curated_documents"),
                  _run_for(lake, "curated_documents", None), "kept",
                  {k: cur.get(k) for k in ("source", "source_path", "source_row", "url", "title", "lang", "batch_id")})]
    stop = None
    m = _one(con, "SELECT * FROM mix_decisions WHERE doc_id = ?", [doc_id]) if "mix_decisions" in ver else None
    if m is not None:
        s = Step("mix", "mix_decisions", ver.get("mix_decisions"), _run_for(lake, "mix_decisions", None), m["status"],
                 {k: v for k, v in m.items() if k not in ("doc_id", "batch_id", "status", "rule", "value", "threshold")},
                 rule=m.get("rule"), value=m.get("value"), threshold=m.get("threshold"))
        steps.append(s)
        stop = s if m["status"] != "kept" else None
    in_releases = _releases_containing(lake, doc_id) if versions is None else []
    verdict = (f"in training_corpus release(s) {', '.join(in_releases)}" if in_releases else
               f"{stop.outcome} at stage mix by {stop.rule}" if stop else "curated record, not in any release yet")
    return Trace(query, doc_id, None, cur.get("url"), steps, in_releases, verdict)


SYNTH_FACTS = ("batch_id", "task", "kind", "output_index", "lang", "model_name", "model_sha256", "model_runtime",
               "server_model_id", "endpoint", "template_id", "template_sha1", "prompt_sha1", "params_json", "seed",
               "cache_key", "tokens_in", "tokens_out", "latency_ms", "finish_reason", "attempts", "created_at",
               "run_id", "n_chars", "detail", "guard_json")


def _trace_synthetic(lake: Lake, con, query: str, syn: dict, ver: dict, versions) -> Trace:
    """A model output: each parent's own trace back to its fetch, the generation (model, prompt,
    parameters, guard verdict), then the mix and the releases holding it."""
    doc_id = syn["doc_id"]
    steps: list[Step] = []
    for parent_id in syn.get("parent_ids") or []:
        try:
            pt = _trace(lake, con, parent_id, versions)
        except TraceNotFound:
            steps.append(Step(f"parent {parent_id}", "documents", ver.get("documents"), None, "absent",
                              {"note": "parent no longer in the lake (erased by a takedown?)"}))
            continue
        for ps in pt.steps:
            if ps.stage in ("mix", "candidate", "release"):
                continue  # the parent's own selection does not decide the output's
            ps.stage = f"parent {parent_id} / {ps.stage}"
            steps.append(ps)
    facts = {k: syn.get(k) for k in SYNTH_FACTS}
    facts["parent_ids"] = list(syn.get("parent_ids") or [])
    facts["parent_urls"] = list(syn.get("parent_urls") or [])
    gen = Step("synthesize", "synthetic_documents", ver.get("synthetic_documents"),
               syn.get("run_id") or _run_for(lake, "synthetic_documents", syn.get("batch_id")), syn["status"], facts,
               rule=syn.get("rule"), value=syn.get("value"), threshold=syn.get("threshold"))
    steps.append(gen)
    stop = gen if syn["status"] != "kept" else None
    m = _one(con, "SELECT * FROM mix_decisions WHERE doc_id = ?", [doc_id]) if "mix_decisions" in ver else None
    if m is not None and stop is None:
        s = Step("mix", "mix_decisions", ver.get("mix_decisions"), _run_for(lake, "mix_decisions", None), m["status"],
                 {k: v for k, v in m.items() if k not in ("doc_id", "batch_id", "status", "rule", "value", "threshold")},
                 rule=m.get("rule"), value=m.get("value"), threshold=m.get("threshold"))
        steps.append(s)
        stop = s if m["status"] != "kept" else None
    in_releases = _releases_containing(lake, doc_id) if versions is None else []
    verdict = (f"in training_corpus release(s) {', '.join(in_releases)}" if in_releases else
               f"{stop.outcome} at stage {stop.stage} by {stop.rule}" if stop else
               "synthetic document, not in any release yet")
    return Trace(query, doc_id, None, None, steps, in_releases, verdict)


def _cluster_members(con, doc_id: str, limit: int = 10) -> list[dict]:
    """Other documents of the cluster `doc_id` belongs to now (after later batches' merges)."""
    return [r for r in cluster_members(con, doc_id) if r["doc_id"] != doc_id][:limit]


def _cluster_history(con, doc_id: str) -> list[dict]:
    """Later batches' merges of this document's dedup cluster (goldpan.dedup.report.cluster_history)."""
    return cluster_history(con, doc_id)


def _releases_containing(lake: Lake, doc_id: str) -> list[str]:
    found = []
    for r in releases(lake):
        if r["status"] != PROMOTED or r["corpus_version"] is None:
            continue
        with lake.connect(versions={"training_corpus": int(r["corpus_version"])}, tables=["training_corpus"]) as con:
            hit = next(iter(con.execute("SELECT 1 FROM training_corpus WHERE doc_id = ? LIMIT 1", [doc_id]).fetchall()), None)
        if hit:
            found.append(f"{r['release']} (training_corpus v{r['corpus_version']})")
    return found


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return "-" if v is None else str(v)


def format_trace(t: Trace) -> str:
    lines = [f"{t.url or t.query}", f"  doc_id {t.doc_id or '-'}   page_id {t.page_id or '-'}", f"  verdict: {t.verdict}", ""]
    for s in t.steps:
        head = f"[{s.stage}] {s.outcome.upper()}  table {s.table} v{_fmt(s.delta_version)}  run {s.run_id or '-'}"
        lines.append(head)
        if s.rule:
            lines.append(f"    rule {s.rule}  value {_fmt(s.value)}  threshold {_fmt(s.threshold)}")
        for k, v in s.facts.items():
            if k == "failed_rules":
                for r in v:
                    lines.append(f"    failed {r['rule']}: {_fmt(r['value'])} {r['op']} {_fmt(r['threshold'])}  ({r['recipe_id']})")
            elif k == "rule_decisions":
                passed = [r["rule"] for r in v if r.get("passed")]
                lines.append(f"    rules of {s.facts.get('rules_recipe')}: {len(passed)} passed, "
                             f"{sum(1 for r in v if r.get('passed') is False)} failed")
            elif k == "rules_recipe":
                continue
            elif v not in (None, [], ""):
                lines.append(f"    {k}: {v if not isinstance(v, float) else _fmt(v)}")
    return "\n".join(lines)
