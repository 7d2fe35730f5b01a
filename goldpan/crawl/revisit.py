"""Revisit policy: what one fetch outcome means for a URL's next visit.

Why a separate module: the policy is the part operators tune ("recrawl daily", "give up on a dead
host sooner"), and it is pure arithmetic over a pages row, so it is unit-testable without HTTP.

* A page that answered (2xx, or 304 Not Modified) is due again after `revisit_interval_s`.
* A final negative answer (4xx other than 429, robots refusal, content type, redirect trouble) is
  also due again after `revisit_interval_s`: sites change, but not by the minute.
* A transient failure (timeouts, connection errors, 5xx, 429) backs off exponentially:
  `retry_backoff_s * 2**(failures-1)`; after `max_retries` consecutive failures the URL waits
  the longer of a revisit interval and the last backoff (Nutch's db.fetch.retry.max idea). The
  backoff is not capped by the revisit interval: a recipe that revisits every batch
  (interval 0) must still not hammer a failing server.
* Revisit classes (recipe `revisit_gone_s`, `revisit_redirect_s`): a 404/410 is "gone" and waits
  `revisit_gone_s`, doubling with each consecutive gone answer (up to 16x), so dead links are not
  requested every batch even when pages are; a URL that redirected elsewhere waits
  `revisit_redirect_s` (its target is a frontier URL of its own, revisited on the page schedule).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from goldpan.lake.schemas import ERROR, KEPT

FETCHED, QUEUED, REJECTED_STATE, FAILED, TAKEDOWN = "fetched", "queued", "rejected", "failed", "takedown"
GONE, REDIRECT = "gone", "redirect"
UNCHANGED = "unchanged"
GONE_STATUSES = frozenset({404, 410})
_GONE_MAX_DOUBLINGS = 4


def is_transient(status: str, reason: str | None, http_status: int | None) -> bool:
    """Whether an outcome is worth retrying soon (the server or the network, not the page, failed)."""
    if status == ERROR:
        return reason != "address_not_allowed"  # a refused address will not become public by waiting
    if http_status is not None and (http_status == 429 or http_status >= 500):
        return True
    return reason == "robots_unavailable"


@dataclass(frozen=True)
class RevisitPolicy:
    revisit_interval_s: float = 30 * 86400.0
    retry_backoff_s: float = 3600.0
    max_retries: int = 3
    revisit_gone_s: float = 30 * 86400.0
    revisit_redirect_s: float = 30 * 86400.0

    def outcome(
        self,
        status: str,
        reason: str | None,
        http_status: int | None,
        failures_before: int,
        now: datetime,
        *,
        redirected: bool = False,
    ) -> tuple[str, int, datetime]:
        """(frontier state, consecutive failure count, next_fetch_at) after one pages row.
        `redirected`: the URL answered with a redirect to another URL (the row's final_url)."""
        if http_status in GONE_STATUSES and not redirected:
            gone = failures_before + 1
            wait = self.revisit_gone_s * 2 ** min(gone - 1, _GONE_MAX_DOUBLINGS)
            return GONE, gone, now + timedelta(seconds=wait)
        if redirected:
            return REDIRECT, 0, now + timedelta(seconds=self.revisit_redirect_s)
        if is_transient(status, reason, http_status):
            failures = failures_before + 1
            longest = self.retry_backoff_s * 2 ** max(self.max_retries - 1, 0)
            if failures > self.max_retries:
                wait = max(self.revisit_interval_s, longest)
            else:
                wait = self.retry_backoff_s * 2 ** (failures - 1)
            return FAILED, failures, now + timedelta(seconds=wait)
        state = FETCHED if status == KEPT or reason == UNCHANGED else REJECTED_STATE
        return state, 0, now + timedelta(seconds=self.revisit_interval_s)
