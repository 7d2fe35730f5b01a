"""The YAML recipe: every threshold and choice of a run, validated before anything runs.

One recipe file describes a corpus: what to crawl, the extract/dedup/filter thresholds, what the
mix selects and what the release gate demands. Its content hash is the `recipe_id` stored on every
decision row, so "which thresholds removed this document?" is answerable months later.
Strings may use `${VAR}` or `${VAR:-default}` so one recipe serves a laptop and a cluster.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class RecipeError(ValueError):
    """A recipe that cannot be used, with a message naming the file and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CrawlSection(_Strict):
    """What and how to crawl. Defaults follow Apache Nutch's published defaults where one exists
    (fetcher.server.delay 5 s, fetcher.threads.fetch 10, fetcher.threads.per.queue 1,
    db.fetch.interval.default 30 days, db.fetch.retry.max 3); the demo recipe lifts them for 127.0.0.1."""

    seeds: list[str] = Field(min_length=1)
    allowed_hosts: list[str] = Field(min_length=1)
    allow_private: list[str] = []
    include_patterns: list[str] = []
    exclude_patterns: list[str] = []
    # query parameters removed by URL normalisation (tracking parameters by default)
    strip_params: list[str] = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
                               "gclid", "fbclid"]
    max_depth: int = Field(3, ge=0, le=50)
    max_pages: int = Field(500, ge=1)
    per_host_delay_s: float = Field(5.0, ge=0)
    max_crawl_delay_s: float = Field(30.0, ge=0)
    concurrency: int = Field(10, ge=1, le=256)
    per_host_concurrency: int = Field(1, ge=1, le=64)
    user_agent: str = "goldpan/0.1 (+https://github.com/goldpan/goldpan; research crawler)"
    connect_timeout_s: float = Field(5.0, gt=0)
    read_timeout_s: float = Field(15.0, gt=0)
    total_timeout_s: float = Field(60.0, gt=0)
    max_bytes: int = Field(5_000_000, ge=1024)
    max_redirects: int = Field(5, ge=0, le=30)
    allowed_content_types: list[str] = ["text/html", "application/xhtml+xml", "text/plain"]
    robots_ttl_s: float = Field(3600.0, ge=0)
    # revisit policy: a page is due again revisit_interval_s after a successful fetch; failures back
    # off exponentially from retry_backoff_s and after max_retries wait a full revisit interval.
    revisit_interval_s: float = Field(30 * 86400.0, ge=0)
    revisit_seeds_every_batch: bool = True
    retry_backoff_s: float = Field(3600.0, ge=0)
    max_retries: int = Field(3, ge=0)
    # pages are committed in chunks so a killed crawl resumes where it stopped
    chunk_rows: int = Field(256, ge=1)
    chunk_seconds: float = Field(30.0, gt=0)
    schedule_cron: str = "0 3 * * *"


class WarcSection(_Strict):
    """WARC/WET files imported as batches (a second source of `pages`)."""

    paths: list[str] = []  # local paths, globs, or object-store URIs (s3://, gs://) with globs
    files_per_batch: int = Field(1, ge=1)
    verify_digests: bool = True  # a record whose WARC-Block-Digest does not match becomes an error row
    max_bytes: int = Field(5_000_000, ge=1024)
    allowed_content_types: list[str] = ["text/html", "application/xhtml+xml", "text/plain"]
    storage_options: dict[str, str] = {}  # empty: the lake's storage options
    chunk_rows: int = Field(2048, ge=1)  # rows per pages commit (also committed every 64 MB of content)


class ExtractSection(_Strict):
    min_chars: int = Field(80, ge=0)
    max_link_density: float = Field(0.6, ge=0, le=1)
    max_link_density_min_chars: int = Field(400, ge=0)


class DedupSection(_Strict):
    num_bands: int = Field(14, ge=1)
    rows_per_band: int = Field(8, ge=1)
    threshold: float = Field(0.8, gt=0, le=1)
    word_ngram: int = Field(5, ge=1)
    char_ngram: int = Field(5, ge=1)
    seed: int = 1


class FilterSection(_Strict):
    # {section: {rule_name: {arg: value}}}; "default" applies to every language, a language
    # section (e.g. "zh") overrides it. Empty means goldpan's published defaults.
    rules: dict[str, dict[str, dict[str, Any]]] = {}


class MixSection(_Strict):
    languages: list[str] = Field(min_length=1)
    min_lang_score: float = Field(0.5, ge=0, le=1)
    max_docs_per_domain: int | None = Field(None, ge=1)
    source: str = "web"


class GateSection(_Strict):
    min_docs: int = Field(1, ge=0)


class Recipe(_Strict):
    name: str
    description: str = ""
    crawl: CrawlSection
    warc: WarcSection = WarcSection()
    extract: ExtractSection = ExtractSection()
    dedup: DedupSection = DedupSection()
    filter: FilterSection = FilterSection()
    mix: MixSection
    gate: GateSection = GateSection()

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not re.match(r"^[A-Za-z0-9_.\-]{1,64}$", v):
            raise ValueError("name must be 1-64 letters, digits or _.-")
        return v

    @property
    def recipe_id(self) -> str:
        """`name@hash`: the hash covers every setting, so any threshold change gives a new id."""
        return f"{self.name}@{self.sha1[:12]}"

    @property
    def sha1(self) -> str:
        return hashlib.sha1(json.dumps(self.model_dump(), sort_keys=True).encode()).hexdigest()


def expand_vars(obj: Any, env: dict[str, str] | None = None) -> Any:
    env = dict(os.environ) if env is None else env

    def sub(m: re.Match) -> str:
        name, default = m.group(1), m.group(2)
        # Shell semantics: `${VAR:-default}` also takes the default when VAR is set but empty.
        if name in env and (env[name] != "" or default is None):
            return env[name]
        if default is not None:
            return default
        raise RecipeError(f"recipe uses ${{{name}}} but it is not set and has no default")

    if isinstance(obj, str):
        return _VAR.sub(sub, obj)
    if isinstance(obj, list):
        return [expand_vars(x, env) for x in obj]
    if isinstance(obj, dict):
        return {k: expand_vars(v, env) for k, v in obj.items()}
    return obj


def parse_recipe(data: Any, origin: str = "<recipe>", env: dict[str, str] | None = None) -> Recipe:
    if not isinstance(data, dict):
        raise RecipeError(f"{origin}: a recipe must be a mapping, got {type(data).__name__}")
    try:
        return Recipe.model_validate(expand_vars(data, env))
    except RecipeError as exc:
        raise RecipeError(f"{origin}: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise RecipeError(f"{origin}: {problems}") from None


def load_recipe(path: str | os.PathLike[str], env: dict[str, str] | None = None) -> Recipe:
    p = Path(path)
    if not p.exists():
        raise RecipeError(f"recipe file not found: {p}")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RecipeError(f"{p}: not valid YAML: {exc}") from None
    return parse_recipe(data, str(p), env)
