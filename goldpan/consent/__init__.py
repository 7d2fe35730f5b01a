"""Consent: what publishers asked for, stored as evidence and signals, decided by the recipe.

* `goldpan.crawl.policy_files` (crawl-side): each origin's robots.txt and tdmrep.json, once per version.
* `signals`: per page, the opt-out signals read from its headers, its HTML, the origin's
  tdmrep.json and robots.txt groups for AI-training agents (pure functions, source-agnostic).
* `stage`: the `consent` table, one row per pages row (crawl or WARC), signals only.
* `decide`: the recipe's rules (`tdm_reserved`, `noai`, ...) applied by the mix.
"""
