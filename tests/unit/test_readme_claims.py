"""The README's claims about quality checks match the code (issue 20: it said every table had a
suite while six did)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def _readme_suite_tables() -> set[str]:
    m = re.search(r"<!-- suites -->(.*?)<!-- /suites -->", README.read_text(encoding="utf-8"), re.DOTALL)
    assert m, "README lost its <!-- suites --> list"
    return set(re.findall(r"`([a-z_]+)`", m.group(1)))


def test_readme_lists_exactly_the_tables_with_an_expectation_suite():
    from quality_checks.checks import ASSET_CHECKS

    suites = {spec.asset_key.to_user_string() for check in ASSET_CHECKS for spec in check.check_specs
              if spec.name.endswith("_suite")}  # fmt: skip
    assert suites == _readme_suite_tables()


def test_readme_does_not_claim_every_table_has_a_suite():
    text = README.read_text(encoding="utf-8")
    assert not re.search(r"every (stage )?table (also )?has a", text, re.IGNORECASE)
    from goldpan.lake.schemas import TABLES

    unchecked = set(TABLES) - _readme_suite_tables()
    assert unchecked, "every table has a suite now: say so in the README"
