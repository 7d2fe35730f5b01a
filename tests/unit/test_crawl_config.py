"""CrawlConfig.from_dict: good input builds a config, bad input fails with a clear ValueError."""

from __future__ import annotations

from typing import Any

import pytest

from goldpan.crawl.crawler import CrawlConfig

GOOD: dict[str, Any] = {
    "seeds": ["https://Example.com/start"],
    "allowed_hosts": ["example.com"],
    "max_depth": 2,
    "max_pages": 10,
    "exclude_patterns": [r"\.pdf$"],
    "per_host_delay_s": 1,
}


def test_from_dict_ok() -> None:
    cfg = CrawlConfig.from_dict(GOOD)
    assert cfg.max_pages == 10
    assert cfg.per_host_delay_s == 1.0 and isinstance(cfg.per_host_delay_s, float)
    assert cfg.scope().allows("https://example.com/x", depth=2)
    assert not cfg.scope().allows("https://example.com/x.pdf")
    assert CrawlConfig.from_dict(cfg.to_dict()) == cfg


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"seeds": []}, "seeds"),
        ({"seeds": "https://example.com/"}, "seeds must be a list"),
        ({"seeds": ["https://other.com/"]}, "outside the crawl scope"),
        ({"seeds": ["mailto:a@example.com"]}, "not an absolute http"),
        ({"seeds": ["https://example.com/a.pdf"]}, "excluded_pattern"),
        ({"allowed_hosts": []}, "allowed_hosts"),
        ({"max_depth": -1}, "max_depth"),
        ({"max_pages": -5}, "max_pages"),
        ({"max_pages": 0}, "max_pages"),
        ({"max_pages": "10"}, "integer"),
        ({"max_pages": True}, "max_pages"),
        ({"per_host_delay_s": -0.1}, "per_host_delay_s"),
        ({"read_timeout_s": 0}, "read_timeout_s"),
        ({"max_bytes": 0}, "max_bytes"),
        ({"max_page": 10}, "unknown crawl config keys: max_page"),
        ({"include_patterns": ["("]}, "invalid regex"),
    ],
)
def test_from_dict_rejects_bad_input(patch: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CrawlConfig.from_dict({**GOOD, **patch})


def test_missing_required_and_non_mapping() -> None:
    with pytest.raises(ValueError, match="missing 'seeds'"):
        CrawlConfig.from_dict({"allowed_hosts": ["example.com"]})
    with pytest.raises(ValueError, match="mapping"):
        CrawlConfig.from_dict(["https://example.com/"])  # type: ignore[arg-type]
