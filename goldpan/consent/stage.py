"""The `consent` table of one batch: one row of opt-out signals per `pages` row, nothing decided.

Input is the batch's pages (crawl or WARC/WET import) with their stored headers and bodies, and
the `policy_files` versions the crawl named on each row. The same code reads both sources, so a
WARC record and a crawled page with the same headers and HTML get the same signals.

* **Unchanged rows** (a 304, or a 200 with the stored sha1) carry no body: their HTML signals are
  those of the latest earlier observation of the same URL with the same content sha1
  (`inherited_from` names it). A 304's header signals are that observation's, updated by the
  fields the 304 repeats (RFC 9111 4.3.4); a 200's are its own.
* **Rows without a response** (robots refusal, network error) are `observed = false`: no signals.
* **Per-origin files** come from the row's `robots_version` / `tdmrep_version`. WARC rows have
  none: `unknown`, unless the recipe lets this stage fetch each origin's files now
  (`consent.warc_fetch_origin_files`), which are then stored in `policy_files` like a crawl's.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from goldpan.consent.signals import (
    HTML_TYPES,
    NO_HTML,
    SIGNALS_VERSION,
    HeaderSignals,
    HtmlSignals,
    TdmRepError,
    effective_reservation,
    header_signals,
    html_signals,
    parse_tdmrep,
    robots_ai,
    tdmrep_rule,
)
from goldpan.crawl import policy_files
from goldpan.crawl.robotstxt import AllowAll, DisallowAll, RobotsTxt, product_token
from goldpan.crawl.urls import host_of, origin_of
from goldpan.lake import WriteResult, batch_predicate
from goldpan.lake.delta import rows_to_batches
from goldpan.lake.schemas import CONSENT
from goldpan.recipe import ConsentSection

TABLE = "consent"
UNCHANGED = "unchanged"

PAGES_SQL = """
SELECT p.page_id, p.batch_id, p.url, p.final_url, p.host, p.fetched_at, p.source, p.status, p.reason,
       p.http_status, p.content_type, p.charset_declared, p.headers_json, p.content, p.content_sha1,
       {evidence}, prior.c AS prior
FROM pages p
LEFT JOIN (
    SELECT url, content_sha1, arg_max(c, c.fetched_at) AS c FROM consent c
    WHERE c.batch_id <> $batch AND c.observed AND c.content_sha1 IS NOT NULL
    GROUP BY url, content_sha1
) prior ON p.reason = 'unchanged' AND prior.url = p.url AND prior.content_sha1 = p.content_sha1
WHERE p.batch_id = $batch
ORDER BY p.fetched_at, p.page_id
"""


@dataclass
class ConsentResult:
    written: WriteResult
    counts: dict[str, int] = field(default_factory=dict)  # rows, observed, reserved, noai, ai_disallowed, unknown
    fetched_files: int = 0  # policy files fetched for a WARC batch


@dataclass
class OriginFiles:
    """Parsed per-origin files of one batch: robots rules and tdmrep rules by version id."""

    robots: dict[str, tuple[RobotsTxt, str]] = field(default_factory=dict)  # id -> (rules, status)
    tdmrep: dict[str, tuple[list | None, str]] = field(default_factory=dict)  # id -> (rules, status)
    by_origin: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)  # WARC fetches

    def add(self, row: dict) -> None:
        vid, outcome = row["version_id"], row["outcome"] or ""
        if row["path"] == policy_files.ROBOTS_PATH:
            if outcome == "parsed":
                self.robots[vid] = (RobotsTxt.parse((row["text"] or "").encode("utf-8")), "parsed")
            elif outcome.startswith("allow_all"):
                self.robots[vid] = (AllowAll(), "allow_all")
            else:
                self.robots[vid] = (DisallowAll(), "unreachable")
        elif outcome == "fetched":
            try:
                self.tdmrep[vid] = (parse_tdmrep(row["text"]), "fetched")
            except TdmRepError:
                self.tdmrep[vid] = (None, "invalid")
        else:
            self.tdmrep[vid] = (None, outcome.split(":", 1)[0] or "unavailable")  # absent | unavailable


def run(lake, batch_id: str, cfg: ConsentSection, *, user_agent: str, fetcher=None,
        commit_metadata: dict[str, str] | None = None) -> ConsentResult:
    """Compute and write the batch's `consent` rows (replacing any earlier ones of the batch).

    `fetcher` (a goldpan.crawl.fetcher.Fetcher) is used only for WARC batches when
    `cfg.warc_fetch_origin_files` is set; crawled rows always use the versions the crawl stored."""
    predicate = batch_predicate("batch_id", batch_id)
    lake.ensure(TABLE, CONSENT)
    pages_cols = {f.name for f in lake.table("pages").schema().fields}
    has_evidence = {"robots_version", "tdmrep_version"} <= pages_cols
    files = OriginFiles()
    if has_evidence:
        ids = [v for r in lake.iter_rows("SELECT DISTINCT robots_version, tdmrep_version FROM pages WHERE batch_id = ?",
                                         [batch_id], tables=["pages"]) for v in r.values() if v]  # fmt: skip
        for row in policy_files.load(lake, ids).values():
            files.add(row)
    fetched = 0
    if fetcher is not None and cfg.warc_fetch_origin_files:
        fetched = _fetch_origin_files(lake, batch_id, fetcher, user_agent, files, has_evidence)
    evidence = "p.robots_version, p.tdmrep_version" if has_evidence else \
        "NULL::VARCHAR AS robots_version, NULL::VARCHAR AS tdmrep_version"
    reader = lake.iter_batches(PAGES_SQL.format(evidence=evidence), params={"batch": batch_id},
                               tables=["pages", TABLE], batch_size=128)  # fmt: skip
    counts = {"rows": 0, "observed": 0, "tdm_reserved": 0, "noai": 0, "robots_ai_disallowed": 0, "unknown": 0}
    agents = list(cfg.ai_agents)
    own = product_token(user_agent)

    def rows() -> Iterator[dict]:
        for b in reader:
            for p in b.to_pylist():
                r = page_signals(p, files, agents, own)
                counts["rows"] += 1
                counts["observed"] += bool(r["observed"])
                counts["tdm_reserved"] += r["tdm_reservation"] == 1
                counts["noai"] += any(d == "noai" or d.endswith(":noai") for d in r["x_robots_tag"] + r["meta_robots"])
                counts["robots_ai_disallowed"] += bool(r["robots_ai_disallowed"])
                counts["unknown"] += bool(r["observed"]) and "unknown" in (r["robots_status"], r["tdmrep_status"])
                yield r

    written = lake.write(TABLE, rows_to_batches(rows(), CONSENT, 512), CONSENT, mode="overwrite",
                         predicate=predicate, commit_metadata=commit_metadata)  # fmt: skip
    return ConsentResult(written, counts, fetched)


def page_signals(p: dict[str, Any], files: OriginFiles, agents: list[str], own_agent: str) -> dict[str, Any]:
    """One `consent` row from one pages row (with `prior`: the earlier observation it may inherit)."""
    url, final_url = p["url"], p.get("final_url") or p["url"]
    row: dict[str, Any] = {k: p.get(k) for k in ("page_id", "batch_id", "url", "final_url", "host", "fetched_at",
                                                  "source", "http_status", "content_sha1")}
    observed = p.get("http_status") is not None
    robots_version, tdmrep_version = p.get("robots_version"), p.get("tdmrep_version")
    if robots_version is None and (o := files.by_origin.get(origin_of(url) or "")):
        robots_version, tdmrep_version = o
    row.update(observed=observed, inherited_from=None, robots_version=robots_version, tdmrep_version=tdmrep_version,
               signals_version=SIGNALS_VERSION, robots_ai_agents=agents)  # fmt: skip
    empty = {"robots_status": "unknown", "robots_ai_disallowed": [], "robots_ai_evidence": None,
             "tdmrep_status": "unknown", "tdmrep_location": None, "tdm_reservation_file": None, "tdm_policy_file": None,
             "tdm_reservation_header": None, "tdm_policy_header": None, "tdm_reservation_meta": None,
             "tdm_policy_meta": None, "tdm_reservation": None, "tdm_reservation_source": None, "tdm_policy": None,
             "x_robots_tag": [], "meta_robots": []}  # fmt: skip
    row.update(empty)
    # robots.txt: the version in force, even for rows it refused (evidence of the refusal)
    if robots_version in files.robots:
        rules, status = files.robots[robots_version]
        row["robots_status"] = status
        disallowed, why = robots_ai(rules, url, agents)
        row["robots_ai_disallowed"], row["robots_ai_evidence"] = disallowed, json.dumps(why) if why else None
    if not observed:
        return row

    headers = json.loads(p["headers_json"]) if p.get("headers_json") else {}
    h = header_signals(headers)
    prior = p.get("prior")
    if p.get("reason") == UNCHANGED and prior is not None:
        row["inherited_from"] = prior["page_id"]
        html = HtmlSignals(prior["tdm_reservation_meta"], prior["tdm_policy_meta"], list(prior["meta_robots"] or []))
        if p.get("http_status") == 304:  # the 304 updates the stored response's fields it repeats
            h = HeaderSignals(h.tdm_reservation if "tdm-reservation" in headers else prior["tdm_reservation_header"],
                        h.tdm_policy if "tdm-policy" in headers else prior["tdm_policy_header"],
                        h.x_robots_tag if "x-robots-tag" in headers else list(prior["x_robots_tag"] or []))
    elif p.get("content") and (p.get("content_type") or "") in HTML_TYPES:
        html = html_signals(p["content"], p.get("charset_declared"), agents + [own_agent])
    else:
        html = NO_HTML
    row.update(tdm_reservation_header=h.tdm_reservation, tdm_policy_header=h.tdm_policy, x_robots_tag=h.x_robots_tag,
               tdm_reservation_meta=html.tdm_reservation, tdm_policy_meta=html.tdm_policy, meta_robots=html.meta_robots)

    # tdmrep.json of the origin the crawl read it from (a cross-origin redirect's target: unknown)
    if tdmrep_version in files.tdmrep and origin_of(final_url) == origin_of(url):
        rules, status = files.tdmrep[tdmrep_version]
        if rules is None:
            row["tdmrep_status"] = status
        elif (rule := tdmrep_rule(rules, url)) is None:
            row["tdmrep_status"] = "no_rule"
        else:
            row.update(tdmrep_status="rule", tdmrep_location=rule.location, tdm_reservation_file=rule.reservation,
                       tdm_policy_file=rule.policy)
    value, source = effective_reservation(row["tdm_reservation_file"], h.tdm_reservation, html.tdm_reservation)
    policy = {"tdmrep.json": row["tdm_policy_file"], "http-header": h.tdm_policy, "html-meta": html.tdm_policy}
    row.update(tdm_reservation=value, tdm_reservation_source=source,
               tdm_policy=policy.get(source or "") or row["tdm_policy_file"] or h.tdm_policy or html.tdm_policy)
    return row


def _fetch_origin_files(lake, batch_id: str, fetcher, user_agent: str, files: OriginFiles, has_evidence: bool) -> int:
    """WARC batch, recipe allows it: read each origin's robots.txt and tdmrep.json now, store them."""
    from goldpan.crawl.robots import RobotsCache
    from goldpan.crawl.scope import CrawlScope

    where = "batch_id = ? AND http_status IS NOT NULL" + (" AND robots_version IS NULL" if has_evidence else "")
    origins = sorted({o for r in lake.iter_rows(f"SELECT DISTINCT url FROM pages WHERE {where}", [batch_id],
                                                tables=["pages"]) if (o := origin_of(r["url"]))})  # fmt: skip
    if not origins:
        return 0
    hosts = frozenset(h for o in origins if (h := host_of(o)))
    cache = RobotsCache(fetcher, user_agent, scope=CrawlScope(allowed_hosts=hosts), tdmrep=True)
    for origin in origins:
        entry = cache.entry(origin + "/")
        files.by_origin[origin] = (entry.version_id, entry.tdmrep_version_id)
    stored = cache.drain_files()
    policy_files.store(lake, stored, batch_id)
    for f in stored:
        files.add(f.row(batch_id))
    return len(stored)
