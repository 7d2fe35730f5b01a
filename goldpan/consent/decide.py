"""The recipe's consent rules: which stored opt-out signals keep a document out of the corpus.

Applied by the mix to every crawled or imported document, like a takedown: a document is judged
by the *latest* observation of its URL (the newest `consent` row with a response), so a page that
gains a reservation on a recrawl -- even with unchanged content, which makes no new document --
leaves the next release, and one whose reservation is withdrawn may come back. Rules are checked
in a fixed order and the first that applies names the decision (`mix_decisions.rule`); its
`detail` starts with the signal's source (`http-header`, `html-meta`, `tdmrep.json`,
`x-robots-tag`, `meta-robots`, `robots.txt`) followed by the evidence and the observation.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from goldpan.consent.signals import META_ROBOTS, ROBOTS_TXT, X_ROBOTS
from goldpan.crawl.robotstxt import product_token
from goldpan.recipe import ConsentSection

TDM_RESERVED, NOAI, ROBOTS_AI, NOIMAGEAI, NOINDEX, UNKNOWN = (
    "tdm_reserved", "noai", "robots_ai_disallowed", "noimageai", "noindex", "consent_unknown")
CONSENT_RULES = (TDM_RESERVED, NOAI, ROBOTS_AI, NOIMAGEAI, NOINDEX, UNKNOWN)


def rule_source(detail: str | None) -> str | None:
    """The signal source a consent decision's detail starts with (`http-header: ...` -> http-header)."""
    return detail.split(":", 1)[0] if detail and ":" in detail else None


class ConsentDecider:
    """`check(latest consent row)` -> (rule, detail) of the first recipe rule that excludes it, or None."""

    def __init__(self, cfg: ConsentSection, own_user_agent: str) -> None:
        self.cfg = cfg
        # directives addressed to us or to any AI-training agent count; others (googlebot:...) do not
        self.scopes = {product_token(own_user_agent)} | {a.lower() for a in cfg.ai_agents}

    def check(self, c: Mapping[str, Any] | None) -> tuple[str, str] | None:
        ex = self.cfg.exclude
        if c is None:
            return (UNKNOWN, "none: no observation of this URL with a response") \
                if self.cfg.unknown == "exclude" else None
        seen = f"(page {c.get('page_id')}, batch {c.get('batch_id')}, fetched {_iso(c.get('fetched_at'))})"
        if ex.tdm_reserved and c.get("tdm_reservation") == 1:
            src = c.get("tdm_reservation_source") or "?"
            what = {"tdmrep.json": f"rule location {c.get('tdmrep_location')!r} tdm-reservation 1",
                    "http-header": "tdm-reservation: 1", "html-meta": '<meta name="tdm-reservation" content="1">'}
            policy = f", tdm-policy {c.get('tdm_policy')}" if c.get("tdm_policy") else ""
            return TDM_RESERVED, f"{src}: {what.get(src, 'tdm-reservation 1')}{policy} {seen}"
        for rule, on in ((NOAI, ex.noai), (NOIMAGEAI, ex.noimageai), (NOINDEX, ex.noindex)):
            if on and (hit := self._directive(c, rule)) is not None:
                return rule, f"{hit[0]}: {hit[1]} {seen}"
        if ex.robots_ai_disallowed and c.get("robots_ai_disallowed"):
            agents = list(c["robots_ai_disallowed"])
            why = json.loads(c.get("robots_ai_evidence") or "{}")
            first = why.get(agents[0], "")
            return ROBOTS_AI, (f"{ROBOTS_TXT}: disallows {', '.join(agents)} (version {c.get('robots_version')}; "
                               f"{agents[0]} {first}) {seen}")
        if self.cfg.unknown == "exclude":
            unknown = [k for k in ("robots_status", "tdmrep_status") if c.get(k) == "unknown"]
            if unknown:
                return UNKNOWN, f"{'/'.join(k.split('_')[0] for k in unknown)}: not read for this page {seen}"
        return None

    def _directive(self, c: Mapping[str, Any], name: str) -> tuple[str, str] | None:
        for source, column in ((X_ROBOTS, "x_robots_tag"), (META_ROBOTS, "meta_robots")):
            for d in c.get(column) or ():
                scope, _, directive = d.rpartition(":")
                if directive == name and (not scope or scope in self.scopes):
                    return source, d
        return None


def _iso(v: Any) -> str:
    return v.isoformat(timespec="seconds") if hasattr(v, "isoformat") else str(v)
