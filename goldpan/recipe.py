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
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class RecipeError(ValueError):
    """A recipe that cannot be used, with a message naming the file and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CrawlSection(_Strict):
    seeds: list[str] = Field(min_length=1)
    allowed_hosts: list[str] = Field(min_length=1)
    allow_private: list[str] = []
    include_patterns: list[str] = []
    exclude_patterns: list[str] = []
    max_depth: int = Field(3, ge=0, le=50)
    max_pages: int = Field(500, ge=1)
    per_host_delay_s: float = Field(0.0, ge=0)
    user_agent: str = "goldpan/0.1 (+https://github.com/goldpan/goldpan; research crawler)"
    connect_timeout_s: float = Field(5.0, gt=0)
    read_timeout_s: float = Field(15.0, gt=0)
    max_bytes: int = Field(5_000_000, ge=1024)


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


class MixSource(_Strict):
    """Where documents come from: the lake's crawl batches / WARC imports, or a curated corpus file.

    `kind: lake` selects filter-kept documents of crawl batches whose id matches one of `batches`
    (shell globs; empty = every batch) and whose pages came from one of `origins` (pages.source,
    e.g. crawl, warc, wet; empty = any). `jsonl`, `parquet` and `delta` read a corpus the user
    brings (e.g. Wikipedia, books, code) from `path`, with the named columns.
    """

    name: str = Field(pattern=r"^[A-Za-z0-9_.\-]{1,64}$")
    kind: Literal["lake", "jsonl", "parquet", "delta"] = "lake"
    path: str | None = None
    batches: list[str] = []
    origins: list[str] = []
    text_column: str = "text"
    id_column: str | None = "id"
    url_column: str | None = "url"
    title_column: str | None = "title"
    lang_column: str | None = "lang"
    max_epochs: int = Field(1, ge=1, le=100)  # upsampling limit: how often one document may repeat

    @model_validator(mode="after")
    def _path(self):
        if self.kind != "lake" and not self.path:
            raise ValueError(f"source {self.name}: kind {self.kind} needs a path")
        return self


class MixSection(_Strict):
    languages: list[str] = Field(min_length=1)
    min_lang_score: float = Field(0.5, ge=0, le=1)
    max_docs_per_domain: int | None = Field(None, ge=1)
    source: str = "web"  # name of the implicit lake source when `sources` is empty
    sources: list[MixSource] = []
    # doc_scores filters (classify stage); unscored documents have domain "general" and no score.
    domains: list[str] = []  # allowed doc_scores.domain values; empty = any
    min_quality_score: float | None = Field(None, ge=0, le=1)
    # Token budgets: shares of the total per source or per domain; empty = take every eligible doc.
    budget_by: Literal["source", "domain"] = "source"
    targets: dict[str, float] = {}
    total_tokens: int | None = Field(None, ge=1)  # null: the largest total every target can meet
    seed: int = 0
    tokenizer: str = "gpt2"

    @model_validator(mode="after")
    def _targets(self):
        if self.targets:
            if any(v <= 0 for v in self.targets.values()):
                raise ValueError("targets must be positive shares")
            if abs(sum(self.targets.values()) - 1.0) > 1e-6:
                raise ValueError(f"targets must sum to 1, got {sum(self.targets.values()):.4f}")
            if self.budget_by == "source":
                unknown = set(self.targets) - {s.name for s in self.effective_sources}
                if unknown:
                    raise ValueError(f"targets name unknown sources: {sorted(unknown)}")
        names = [s.name for s in self.sources]
        if len(names) != len(set(names)):
            raise ValueError("source names must be unique")
        return self

    @property
    def effective_sources(self) -> list[MixSource]:
        return list(self.sources) or [MixSource(name=self.source, kind="lake")]


class EvalSet(_Strict):
    name: str
    path: str
    text_column: str = "text"


class DecontamSection(_Strict):
    ngram: int = Field(13, ge=3, le=100)  # GPT-3's 13-gram; words, or characters for Chinese
    eval_sets: list[EvalSet] = []


class GateSection(_Strict):
    min_docs: int = Field(1, ge=0)
    token_tolerance: float = Field(0.05, ge=0)  # |achieved - total_tokens| / total_tokens
    share_tolerance: float = Field(0.05, ge=0)  # |achieved share - target share|, per source/domain
    language_shares: dict[str, float] = {}  # expected token share per language; empty = not checked
    language_tolerance: float = Field(0.1, ge=0)
    rate_band: float = Field(0.15, ge=0)  # duplicate / per-rule removal rates vs the previous release
    max_contamination_hits: int = Field(0, ge=0)


class ReleaseSection(_Strict):
    redact_pii: bool = True  # goldpan.filter.pii.redact_pii on corpus text (documents keep the original)


class ExportSection(_Strict):
    shard_docs: int = Field(10_000, ge=1)
    zstd_level: int = Field(10, ge=1, le=22)


class Recipe(_Strict):
    name: str
    description: str = ""
    crawl: CrawlSection
    extract: ExtractSection = ExtractSection()
    dedup: DedupSection = DedupSection()
    filter: FilterSection = FilterSection()
    mix: MixSection
    decontam: DecontamSection = DecontamSection()
    gate: GateSection = GateSection()
    release: ReleaseSection = ReleaseSection()
    export: ExportSection = ExportSection()

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
