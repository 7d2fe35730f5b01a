"""The recipe's crawl section is the crawl config: good input builds one, bad input fails with a clear
ValueError, either from pydantic (types, ranges, unknown keys) or from `goldpan.crawl.settings.check`
(what needs the crawler: seeds inside the scope, address entries)."""

from __future__ import annotations

from typing import Any

import pytest

from goldpan.crawl import settings
from goldpan.recipe import CrawlSection

GOOD: dict[str, Any] = {
    "seeds": ["https://Example.com/start"],
    "allowed_hosts": ["Example.COM."],
    "max_depth": 2,
    "max_pages": 10,
    "exclude_patterns": [r"\.pdf$"],
    "per_host_delay_s": 1,
}


def test_good_section_builds_scope_and_policy() -> None:
    cfg = CrawlSection.model_validate(GOOD)
    settings.check(cfg)
    assert cfg.max_pages == 10 and cfg.allowed_hosts == ["example.com"]
    assert cfg.per_host_delay_s == 1.0 and isinstance(cfg.per_host_delay_s, float)
    assert settings.scope(cfg).allows("https://example.com/x", depth=2)
    assert not settings.scope(cfg).allows("https://example.com/x.pdf")
    assert settings.normalized_seeds(cfg) == ["https://example.com/start"]
    assert settings.request_cap(cfg) == 40  # 0 = 4 x max_pages
    assert CrawlSection.model_validate(cfg.model_dump()) == cfg


def test_fetcher_defaults_are_the_recipe_defaults() -> None:
    """One definition of the User-Agent and the body cap: a Fetcher built without a recipe and one
    built from the default section send and keep the same."""
    from goldpan.crawl.fetcher import DEFAULT_MAX_BYTES, DEFAULT_USER_AGENT, Fetcher

    section = CrawlSection.model_validate(GOOD)
    assert (section.user_agent, section.max_bytes) == (DEFAULT_USER_AGENT, DEFAULT_MAX_BYTES)
    with Fetcher() as bare, settings.make_fetcher(section) as built:
        assert (bare.user_agent, bare.max_bytes) == (built.user_agent, built.max_bytes)


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"seeds": []}, "seeds"),
        ({"seeds": "https://example.com/"}, "seeds"),
        ({"allowed_hosts": []}, "allowed_hosts"),
        ({"allowed_hosts": [" "]}, "allowed_hosts"),
        ({"max_depth": -1}, "max_depth"),
        ({"max_pages": -5}, "max_pages"),
        ({"max_pages": 0}, "max_pages"),
        ({"max_pages": "ten"}, "max_pages"),
        ({"per_host_delay_s": -0.1}, "per_host_delay_s"),
        ({"read_timeout_s": 0}, "read_timeout_s"),
        ({"max_bytes": 0}, "max_bytes"),
        ({"user_agent": " "}, "user_agent"),
        ({"max_page": 10}, "max_page"),
        ({"include_patterns": ["("]}, "invalid regex"),
    ],
)
def test_section_rejects_bad_input(patch: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CrawlSection.model_validate({**GOOD, **patch})


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"seeds": ["https://other.com/"]}, "outside the crawl scope"),
        ({"seeds": ["mailto:a@example.com"]}, "not an absolute http"),
        ({"seeds": ["https://example.com/a.pdf"]}, "excluded_pattern"),
        ({"allow_private": ["intranet.example.com"]}, "not an IP address"),
        ({"connect_to": {"example.com:443": "localhost:443"}}, "not a name"),
    ],
)
def test_check_rejects_what_needs_the_crawler(patch: dict[str, Any], message: str) -> None:
    cfg = CrawlSection.model_validate({**GOOD, **patch})
    with pytest.raises(settings.CrawlConfigError, match=message):
        settings.check(cfg)


def test_a_recipe_with_a_host_name_in_allow_private_fails_at_load() -> None:
    from goldpan.recipe import RecipeError
    from goldpan.recipe_loader import parse_recipe

    with pytest.raises(RecipeError, match="not an IP address"):
        parse_recipe({"name": "t", "crawl": {**GOOD, "allow_private": ["intranet.example.com"]},
                      "mix": {"languages": ["en"]}})
