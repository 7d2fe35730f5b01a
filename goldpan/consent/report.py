"""Counts of stored opt-out signals and of the documents the recipe's consent rules excluded."""

from __future__ import annotations

SIGNAL_SQL = """
SELECT count(*) AS pages,
       count(*) FILTER (WHERE observed) AS observed,
       count(*) FILTER (WHERE tdm_reservation = 1) AS tdm_reserved,
       count(*) FILTER (WHERE tdm_reservation = 1 AND tdm_reservation_source = 'http-header') AS tdm_header,
       count(*) FILTER (WHERE tdm_reservation = 1 AND tdm_reservation_source = 'html-meta') AS tdm_meta,
       count(*) FILTER (WHERE tdm_reservation = 1 AND tdm_reservation_source = 'tdmrep.json') AS tdm_file,
       count(*) FILTER (WHERE list_contains(x_robots_tag, 'noai') OR list_contains(meta_robots, 'noai')) AS noai,
       count(*) FILTER (WHERE len(robots_ai_disallowed) > 0) AS robots_ai_disallowed,
       count(*) FILTER (WHERE observed AND (robots_status = 'unknown' OR tdmrep_status = 'unknown')) AS unknown,
       count(DISTINCT robots_version) AS robots_versions
FROM consent
"""


def consent_counts(con) -> dict[str, int] | None:
    """Signal counts over every `consent` row, plus documents excluded by consent rules; None if no table."""
    from goldpan.consent.decide import CONSENT_RULES

    views = {r[0] for r in con.sql("SELECT view_name FROM duckdb_views() UNION SELECT table_name FROM duckdb_tables()")
             .fetchall()}  # fmt: skip
    if "consent" not in views:
        return None
    cur = con.execute(SIGNAL_SQL)
    row = cur.fetchall()[0]
    out = dict(zip([d[0] for d in cur.description], (int(v or 0) for v in row)))
    if "mix_decisions" in views:
        rules = ", ".join(f"'{r}'" for r in CONSENT_RULES)
        out |= {f"excluded:{r}": int(n) for r, n in con.execute(
            f"SELECT rule, count(*) FROM mix_decisions WHERE rule IN ({rules}) GROUP BY rule ORDER BY rule").fetchall()}
    return out


def format_consent(counts: dict[str, int] | None) -> str:
    if counts is None:
        return "consent: no consent table yet"
    excluded = ", ".join(f"{k.split(':', 1)[1]} {v}" for k, v in counts.items() if k.startswith("excluded:")) or "none"
    return (f"consent   {counts['observed']} pages with a response: tdm-reservation 1 on {counts['tdm_reserved']} "
            f"(header {counts['tdm_header']}, meta {counts['tdm_meta']}, tdmrep.json {counts['tdm_file']}), "
            f"noai {counts['noai']}, robots.txt disallows AI agents {counts['robots_ai_disallowed']}, "
            f"per-origin signals unknown {counts['unknown']}; {counts['robots_versions']} robots.txt versions; "
            f"excluded by consent rules: {excluded}")
