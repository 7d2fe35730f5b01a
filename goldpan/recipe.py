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
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class RecipeError(ValueError):
    """A recipe that cannot be used, with a message naming the file and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


#: The crawler's User-Agent, the largest body a page may have and the content types kept: one
#: definition, read by the crawl and WARC sections and by a Fetcher built without a recipe.
DEFAULT_USER_AGENT = "goldpan/0.1 (+https://github.com/goldpan/goldpan; research crawler)"
DEFAULT_MAX_BYTES = 5_000_000
DEFAULT_CONTENT_TYPES = ("text/html", "application/xhtml+xml", "text/plain")


class CrawlSection(_Strict):
    """What and how to crawl. Defaults follow Apache Nutch's published defaults where one exists
    (fetcher.server.delay 5 s, fetcher.threads.fetch 10, fetcher.threads.per.queue 1,
    db.fetch.interval.default 30 days, db.fetch.retry.max 3); the demo recipe lifts them for 127.0.0.1."""

    seeds: list[str] = Field(min_length=1)
    allowed_hosts: list[str] = Field(min_length=1)
    # IPs / CIDR networks the crawler may reach although not public (never names); crawling with
    # them needs GOLDPAN_ALLOW_PRIVATE=1 (goldpan.crawl.addresses).
    allow_private: list[str] = []
    # {"host:port": "ip:port"}: connect there instead, URLs unchanged (curl's --connect-to)
    connect_to: dict[str, str] = {}
    include_patterns: list[str] = []
    exclude_patterns: list[str] = []
    # query parameters removed by URL normalisation (tracking parameters by default)
    strip_params: list[str] = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
                               "gclid", "fbclid"]
    max_depth: int = Field(3, ge=0, le=50)
    max_pages: int = Field(500, ge=1)  # stored pages (kept or unchanged); 404s, robots refusals, errors don't count
    max_requests: int = Field(0, ge=0)  # HTTP requests per batch; 0 = 4 x max_pages
    per_host_delay_s: float = Field(5.0, ge=0)
    max_crawl_delay_s: float = Field(30.0, ge=0)
    concurrency: int = Field(10, ge=1, le=256)
    per_host_concurrency: int = Field(1, ge=1, le=64)
    user_agent: str = Field(DEFAULT_USER_AGENT, pattern=r"\S")
    connect_timeout_s: float = Field(5.0, gt=0)
    read_timeout_s: float = Field(15.0, gt=0)
    total_timeout_s: float = Field(60.0, gt=0)
    max_bytes: int = Field(DEFAULT_MAX_BYTES, ge=1024)
    max_redirects: int = Field(5, ge=0, le=30)
    allowed_content_types: list[str] = list(DEFAULT_CONTENT_TYPES)
    robots_ttl_s: float = Field(3600.0, ge=0)
    # TDMRep: read each origin's /.well-known/tdmrep.json with its robots.txt (one request per origin,
    # only where robots.txt allows it); the consent section decides what a reservation does.
    fetch_tdmrep: bool = True
    # revisit policy: a page is due again revisit_interval_s after a successful fetch; failures back
    # off exponentially from retry_backoff_s and after max_retries wait a full revisit interval.
    revisit_interval_s: float = Field(30 * 86400.0, ge=0)
    revisit_seeds_every_batch: bool = True
    retry_backoff_s: float = Field(3600.0, ge=0)
    max_retries: int = Field(3, ge=0)
    # revisit classes: 404/410 wait revisit_gone_s (doubling per consecutive gone answer, up to 16x);
    # a URL that redirected waits revisit_redirect_s (its target is revisited on its own schedule)
    revisit_gone_s: float = Field(30 * 86400.0, ge=0)
    revisit_redirect_s: float = Field(30 * 86400.0, ge=0)
    # CPU seconds of link discovery per page: a pathological page becomes an error row
    parse_cpu_budget_s: float = Field(10.0, gt=0)
    # link discovery in this many processes (0: in the crawl's threads), so one fast host is not
    # bound by the GIL on an idle multi-core machine; they start once a batch has parsed
    # parse_processes_after pages in threads. Off by default: on a loaded 2-core machine the pipe
    # round trips cost more than they save (bench/crawl_real.py --parse-processes N measures it).
    parse_processes: int = Field(0, ge=0, le=64)
    parse_processes_after: int = Field(200, ge=0)
    # sitemaps: robots.txt `Sitemap:` lines, /sitemap.xml of the seed hosts when asked, listed ones
    sitemaps_from_robots: bool = True
    sitemap_xml: bool = False
    sitemap_urls: list[str] = []
    max_sitemaps: int = Field(50, ge=0)
    max_sitemap_urls: int = Field(100_000, ge=0)
    # frontier changes are merged into Delta every this many pages rows (bodyless rows count 1/8; and at the end)
    frontier_merge_rows: int = Field(5_000, ge=1)
    # pages are committed in chunks so a killed crawl resumes where it stopped (rows without a
    # body -- 304, 404, redirect -- count 1/8 of a row: they are small and cheap to redo)
    chunk_rows: int = Field(256, ge=1)
    chunk_seconds: float = Field(30.0, gt=0)
    chunk_bytes: int = Field(8_000_000, ge=1)  # body bytes per commit (the Delta writer needs ~6x in memory)
    schedule_cron: str = "0 3 * * *"

    # `allow_private` / `connect_to` entries and the seeds' place in the crawl scope need the crawler's
    # code: goldpan.crawl.settings checks them when the recipe is loaded and when a crawl starts.

    @field_validator("allowed_hosts")
    @classmethod
    def _host_names(cls, v: list[str]) -> list[str]:
        hosts = [h.strip().lower().rstrip(".") for h in v]
        if any(not h for h in hosts):
            raise ValueError("allowed_hosts must be a non-empty list of host names")
        return hosts

    @field_validator("include_patterns", "exclude_patterns")
    @classmethod
    def _regexes(cls, v: list[str]) -> list[str]:
        for pattern in v:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"invalid regex {pattern!r}: {exc}") from None
        return v


class WarcSection(_Strict):
    """WARC/WET files imported as batches (a second source of `pages`)."""

    paths: list[str] = []  # local paths, globs, or object-store URIs (s3://, gs://) with globs
    files_per_batch: int = Field(1, ge=1)
    verify_digests: bool = True  # a record whose digest does not match becomes an error row
    # "payload": WARC-Payload-Digest checked with the body's SHA-1 pass (block digest when a record
    # has none); "block": WARC-Block-Digest, also covers HTTP headers, ~15% more CPU (issue 3 notes).
    digest: Literal["payload", "block"] = "payload"
    # Parquet codec of the pages files an import writes (bodies dominate); null = deltalake default.
    parquet_compression: Literal["ZSTD", "LZ4_RAW", "SNAPPY", "GZIP", "BROTLI", "UNCOMPRESSED"] | None = "ZSTD"
    parquet_compression_level: int | None = 1
    max_bytes: int = Field(DEFAULT_MAX_BYTES, ge=1024)
    allowed_content_types: list[str] = list(DEFAULT_CONTENT_TYPES)
    storage_options: dict[str, str] = {}  # empty: the lake's storage options
    chunk_rows: int = Field(2048, ge=1)  # rows per pages commit (also committed every 64 MB of content)


class ExtractorSpec(_Strict):
    """One extraction of the pages: which extractor, with which options (goldpan.extract.extractors).

    `goldpan` (default): resiliparse main content + the shipped learned line classifier;
    `cascade`: goldpan, and trafilatura for the pages it is unsure about; `resiliparse`,
    `trafilatura`: the libraries alone (bench/extract_quality.py compares all of them).
    """

    name: Literal["goldpan", "cascade", "resiliparse", "trafilatura"] = "goldpan"
    # Label used in doc ids and the variants table; defaults to the name. Needed only when one
    # recipe compares the same extractor under two option sets.
    id: str | None = Field(None, pattern=r"^[a-z0-9_.\-]{1,40}$")
    options: dict[str, Any] = {}

    @property
    def key(self) -> str:
        return self.id or self.name


class ExtractSection(_Strict):
    min_chars: int = Field(80, ge=0)
    max_link_density: float = Field(0.6, ge=0, le=1)
    max_link_density_min_chars: int = Field(400, ge=0)
    # The first extractor is primary (the `documents` row); the others go to `document_variants`.
    extractors: list[ExtractorSpec] = Field(default_factory=lambda: [ExtractorSpec()], min_length=1)
    zh_segmenter: Literal["chars", "jieba"] = "chars"  # Chinese word counts: characters or jieba words
    # Per-page extraction budget (goldpan.extract.budget): past it the page is an error row
    # `extract_timeout`. Pages that may nest deeper than `isolate_min_depth` elements (resiliparse's
    # main-content pass is quadratic in depth: 5,000 nested divs take ~4 s) run in a child process
    # that is killed at the budget; the rest run in-process under a timer.
    page_time_budget_s: float = Field(10.0, gt=0)
    isolate_min_depth: int = Field(2000, ge=10)
    lid_max_chars: int = Field(5000, ge=100)  # characters of text given to the document-level lid
    mixed_min_share: float = Field(0.2, gt=0, le=1)  # second language share that flags a mixed doc
    mixed_min_line_chars: int = Field(20, ge=1)  # shorter lines are not language-identified
    mixed_min_line_score: float = Field(0.5, ge=0, le=1)  # less confident line predictions ignored
    # lid label set: empty = every lid.176 label; else the best of the model's top 10 that is listed.
    lid_labels: list[str] = []
    lid_label_map: dict[str, str] = {"no": "nb"}  # lid.176 label -> the label stored (e.g. Norwegian)
    lid_short_text_letters: int = Field(200, ge=0)  # fewer letters: the script decides when it can
    # A language holding most of the main text's identified lines is the page's (partly translated pages).
    lid_line_majority: bool = True
    # pages cut at the byte cap: rejected (rule `truncated`) unless kept here, flagged `truncated`
    keep_truncated: bool = False

    @field_validator("extractors")
    @classmethod
    def _unique_keys(cls, v: list[ExtractorSpec]) -> list[ExtractorSpec]:
        keys = [e.key for e in v]
        if len(set(keys)) != len(keys) or "plaintext" in keys:
            raise ValueError(f"extractor ids must be unique and not 'plaintext' (give `id:`): {keys}")
        return v


class DedupSection(_Strict):
    """Dedup (goldpan.dedup). Defaults are the setting that met issue 18's quality targets in
    bench/dedup_quality.py (5,046 real documentation pages, 300 planted families: recall of copies
    0.999, 1.0 at 10% of words edited, contained pages 299/300, precision 0.995 against the true
    duplicate components, 0.988 with grey-zone pairs counted false), where FineWeb's 14x8
    word-5-gram setting found 0.46 of the copies and 0.01 at 10% edits."""

    # Jaccard of the shingle sets a verified near-duplicate must reach. 0.4 on word 3-grams is where
    # 10-15% of words changed still pass (their Jaccard is ~0.45-0.6); the coverage check below is
    # what keeps unrelated pages in one template apart at that level.
    threshold: float = Field(0.4, gt=0, le=1)
    # "word": word n-grams (word_ngram) with every Han/kana/Hangul character a token of its own whose
    # shingles span cjk_ngram tokens, on any page whatever its label (a CJK character carries about as
    # much as a short word, so bigrams play the role of word 3-grams); "char": char_ngram-grams over the
    # normalised text (cjk_ngram-grams on CJK-labelled pages). Thai, Lao, Khmer, ...: characters.
    shingle: Literal["word", "char"] = "word"
    word_ngram: int = Field(3, ge=1)
    char_ngram: int = Field(5, ge=1)
    cjk_ngram: int = Field(2, ge=1)
    # "oph": one-permutation hashing (one hash per shingle, cost independent of num_perm); or
    # "permutations": classic MinHash with num_perm hash functions (datatrove/FineWeb).
    minhash: Literal["oph", "permutations"] = "oph"
    num_perm: int = Field(256, ge=2)
    # LSH banding; None = chosen from the S-curve so a pair at `threshold` is a candidate with
    # probability >= lsh_min_recall with the fewest candidates below it (256 hashes, 0.4 -> 54 x 3).
    num_bands: int | None = Field(None, ge=1)
    rows_per_band: int | None = Field(None, ge=1)
    lsh_min_recall: float = Field(0.97, gt=0, lt=1)
    seed: int = 1
    # "exact": verify each candidate pair on the exact shingle sets (Jaccard + coverage, or
    # containment; earlier documents are re-shingled from the lake); "signature": accept when the
    # MinHash estimate reaches the threshold (no coverage or containment check).
    verify: Literal["exact", "signature"] = "exact"
    prefilter_margin: float = Field(0.15, ge=0, le=1)  # band pairs estimated below threshold-margin skip verification
    # A page that sits inside a longer one: found through content anchors (shingles whose hash is
    # 0 mod anchor_rate; >= anchor_min_shared shared), accepted when >= containment_threshold of the
    # smaller page's shingles are in the larger and it has >= containment_min_shingles of them.
    containment: bool = True
    containment_threshold: float = Field(0.8, gt=0, le=1)
    containment_min_shingles: int = Field(50, ge=1)
    anchor_rate: int = Field(16, ge=1)
    anchor_min_shared: int = Field(2, ge=1)
    # Coverage: each page is cut into `segments` pieces; all but `segments_may_fail` pieces must have
    # >= segment_min of their shingles in the other page (a copy is similar everywhere, two pages in
    # one template only in the template).
    segments: int = Field(8, ge=1)
    segment_min: float = Field(0.35, ge=0, le=1)
    segments_may_fail: int = Field(2, ge=0)
    max_bucket: int = Field(64, ge=2)  # a key shared by more documents pairs each with the first 64 only
    # Which document represents a cluster when a batch adds to or links earlier clusters: "oldest"
    # (the earlier representative stays), "longest" (longest text), "newest" (latest batch/fetch).
    # Quality scores are computed after dedup, so "highest quality" is not a dedup-time rule.
    representative: Literal["oldest", "longest", "newest"] = "oldest"
    url_dedup: bool = True  # same canonical URL: keep the newest fetch
    paragraph_dedup: bool = True
    paragraph_min_docs: int = Field(3, ge=2)  # a paragraph in >= this many documents is boilerplate
    paragraph_min_chars: int = Field(30, ge=1)  # shorter paragraphs are never removed
    paragraph_min_doc_chars: int = Field(200, ge=0)  # reject a document left shorter than this
    # Compact dedup_index/dedup_paragraphs (Delta optimize) once a partition holds more files than
    # this: a lookup pays per file, so without it lookups slow down with every batch. 0 = never.
    index_compact_files: int = Field(16, ge=0)
    # Sorted key runs beside dedup_index (goldpan.dedup.keyruns, local lakes): a lookup is a binary
    # search of the batch's keys in a few memory-mapped runs instead of a scan of every index key;
    # off = scan the table's files. Each batch adds a run; index_run_fanin runs of one size level are
    # merged into one (fewer runs = cheaper lookups, more rewriting at commits).
    index_keyruns: bool = True
    index_run_fanin: int = Field(4, ge=2)

    @model_validator(mode="after")
    def _banding_and_anchors(self) -> DedupSection:
        if (self.num_bands is None) != (self.rows_per_band is None):
            raise ValueError("give both num_bands and rows_per_band, or neither (chosen from the S-curve)")
        if self.anchor_rate & (self.anchor_rate - 1):
            raise ValueError("anchor_rate must be a power of two")
        return self


class FilterSection(_Strict):
    # multilingual: per-language sections (FineWeb-2's published thresholds), statistics over the
    # prose lines, mostly-code pages judged by the `code` section. datatrove: FineWeb's English rules
    # over the whole text, as datatrove decides (goldpan.filter.defaults).
    mode: Literal["multilingual", "datatrove"] = "multilingual"
    code_page_min_share: float = Field(0.5, gt=0, le=1)  # share of characters in code lines
    # {section: {rule_key: {arg: value}}} over the mode's defaults; "default" applies to languages
    # without a section of their own, a language section (e.g. "zh") overrides it, null removes a rule.
    rules: dict[str, dict[str, dict[str, Any] | None]] = {}


class ReferenceSpec(_Strict):
    """One reference source: `text` (.txt file/folder), `jsonl` (field) or `delta` (path or lake table, column).
    `shipped:NAME` paths point at goldpan/data/reference (see its README)."""

    kind: Literal["text", "jsonl", "delta"]
    path: str
    field: str = "text"
    min_chars: int = Field(20, ge=1)


def _shipped(name: str) -> ReferenceSpec:
    return ReferenceSpec(kind="jsonl", path=f"shipped:{name}")


class FastTextSection(_Strict):
    # DCLM train_fasttext_classifier.py's lr 0.1 and 5 epochs, with word bigrams like the released
    # OH+ELI5 model. word_ngrams >= 2 (hash buckets) is required: one-thread training, which is what
    # makes it deterministic, otherwise reads uninitialised memory (see goldpan/classify/model.py).
    # Size (dim 64, 50k buckets) for the reference sets goldpan trains on (hundreds to thousands of
    # examples per class): on 6,000 real pages DCLM's dim 100 with 200k buckets gave the same held-out
    # AUC within 0.002 for the quality, math and code models over three seeds (bench/classify_size.py),
    # at 3-4x the training time and ~100 MB per model, held by the run process and by every worker.
    # For DCLM-scale reference sets (100k+ examples per class) raise both (dim 100, bucket 2000000).
    dim: int = Field(64, ge=2, le=1000)
    epoch: int = Field(5, ge=1, le=100)
    lr: float = Field(0.1, gt=0, le=5)
    word_ngrams: int = Field(2, ge=2, le=5)
    min_count: int = Field(1, ge=1)
    bucket: int = Field(50_000, ge=1000)
    max_chars: int = Field(10_000, ge=100)  # characters of each document the model sees


class QualityKeepSection(_Strict):
    # DCLM keeps about the top 10% (fasttext_oh_eli5 threshold 0.018112 on its pool).
    mode: Literal["top_fraction", "threshold", "off"] = "top_fraction"
    top_fraction: float = Field(0.1, gt=0, le=1)  # per batch, over documents that passed the filter
    threshold: float = Field(0.5, ge=0, le=1)


class QualitySection(_Strict):
    enabled: bool = True
    positives: list[ReferenceSpec] = Field(
        default_factory=lambda: [_shipped("quality_en.jsonl"), _shipped("quality_zh.jsonl")], min_length=1
    )
    max_positives: int = Field(200_000, ge=1)  # DCLM: 200k training examples per class
    negatives_per_positive: float = Field(1.0, gt=0)
    balance: bool = True  # subsample the larger class to the smaller (seeded)
    min_positives: int = Field(100, ge=2)
    min_negatives: int = Field(100, ge=2)  # fewer crawled documents than this: refuse to train
    heldout_fraction: float = Field(0.2, gt=0, lt=1)
    eval_threshold: float = Field(0.5, gt=0, lt=1)
    keep: QualityKeepSection = QualityKeepSection()


class DomainSection(_Strict):
    enabled: bool = True
    math: list[ReferenceSpec] = Field(default_factory=lambda: [_shipped("math_seed.jsonl")], min_length=1)
    code: list[ReferenceSpec] = Field(default_factory=lambda: [_shipped("code_seed.jsonl")], min_length=1)
    # Labelled non-math, non-code text: negatives for training and for the held-out evaluation.
    general: list[ReferenceSpec] = Field(default_factory=lambda: [_shipped("general_seed.jsonl")], min_length=1)
    rounds: int = Field(3, ge=1, le=10)  # DeepSeekMath ran 4 rounds; we stop early when little new is mined
    mine_threshold: float = Field(0.9, gt=0, lt=1)  # pool documents this confident become positives
    label_threshold: float = Field(0.5, gt=0, lt=1)  # doc_scores.domain
    heldout_fraction: float = Field(0.25, gt=0, lt=1)
    eval_threshold: float = Field(0.5, gt=0, lt=1)
    pool_negatives: int = Field(2000, ge=0)  # crawled documents sampled as negatives (DeepSeekMath: CC pages)
    max_pool: int = Field(200_000, ge=1)
    max_mined_per_round: int = Field(50_000, ge=1)
    # stop mining when a round finds fewer new documents than this share of its positives (0: only
    # when it finds none): the next round would retrain on nearly the same data
    min_new_share: float = Field(0.02, ge=0, lt=1)


class ClassifySection(_Strict):
    seed: int = 42
    # doc_scores runs one pass with the three models loaded at once in every worker when their files
    # together are at most this many MB, else one pass per model (a worker then holds one model)
    one_pass_max_mb: float = Field(256, ge=0)
    fasttext: FastTextSection = FastTextSection()
    quality: QualitySection = QualitySection()
    domains: DomainSection = DomainSection()
class MixSource(_Strict):
    """Where documents come from: the lake's crawl batches / WARC imports, or a curated corpus file.

    `kind: lake` selects filter-kept documents of crawl batches whose id matches one of `batches`
    (shell globs; empty = every batch) and whose pages came from one of `origins` (pages.source,
    e.g. crawl, warc, wet; empty = any). `jsonl`, `parquet` and `delta` read a corpus the user
    brings (e.g. Wikipedia, books, code) from `path`, with the named columns.
    """

    name: str = Field(pattern=r"^[A-Za-z0-9_.\-]{1,64}$")
    kind: Literal["lake", "jsonl", "parquet", "delta", "synthetic"] = "lake"
    path: str | None = None
    batches: list[str] = []
    origins: list[str] = []
    text_column: str = "text"
    id_column: str | None = "id"
    url_column: str | None = "url"
    title_column: str | None = "title"
    lang_column: str | None = "lang"
    max_epochs: int = Field(1, ge=1, le=100)  # upsampling limit: how often one document may repeat
    # Caps on this source's selected tokens (applied when it has no target share): a token budget and a
    # maximum share of the mix (synthetic text: the gate checks the share in the release).
    max_tokens: int | None = Field(None, ge=1)
    max_share: float | None = Field(None, gt=0, lt=1)

    @model_validator(mode="after")
    def _path(self):
        if self.kind not in ("lake", "synthetic") and not self.path:
            raise ValueError(f"source {self.name}: kind {self.kind} needs a path")
        return self


class MixSection(_Strict):
    languages: list[str] = Field(min_length=1)  # ["*"]: every language
    min_lang_score: float = Field(0.5, ge=0, le=1)
    max_docs_per_domain: int | None = Field(None, ge=1)
    source: str = "web"  # name of the implicit lake source when `sources` is empty
    sources: list[MixSource] = []
    # doc_scores filters (classify stage); unscored documents have domain "general" and no score.
    domains: list[str] = []  # allowed doc_scores.domain values; empty = any
    min_quality_score: float | None = Field(None, ge=0, le=1)
    # doc_scores.perplexity (synthesize.perplexity, opt-in and sampled): above it a document is rejected;
    # a document without one (not sampled, not scored) is not judged by this rule.
    max_perplexity: float | None = Field(None, gt=0)
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


# AI-training crawlers whose robots.txt groups count as an opt-out (product tokens as publishers
# write them; OpenAI, Common Crawl, Google's and Apple's AI-training tokens, Anthropic, ByteDance,
# Meta, Cohere, Amazon, Diffbot, Webz.io, Perplexity, Huawei, Timpi, ImageSift).
DEFAULT_AI_AGENTS = [
    "GPTBot", "CCBot", "Google-Extended", "Applebot-Extended", "ClaudeBot", "anthropic-ai", "Claude-Web",
    "Bytespider", "meta-externalagent", "FacebookBot", "cohere-ai", "cohere-training-data-crawler",
    "Amazonbot", "Diffbot", "Omgilibot", "PerplexityBot", "PanguBot", "Timpibot", "ImagesiftBot",
]


class ConsentExclude(_Strict):
    """Which stored opt-out signals exclude a document (mix rule names = these keys)."""

    tdm_reserved: bool = True  # TDMRep tdm-reservation: 1 (header, <meta> or tdmrep.json rule)
    noai: bool = True  # X-Robots-Tag / <meta name=robots> "noai" (unscoped, or scoped to us or an AI agent)
    robots_ai_disallowed: bool = True  # robots.txt disallows the URL to one of `ai_agents`
    noimageai: bool = False  # images only: recorded, not applied to text by default
    noindex: bool = False  # a search-engine directive, not a training opt-out: recorded only


class ConsentSection(_Strict):
    """Publishers' opt-outs (goldpan.consent): signals are stored per page; these rules decide.

    `crawl.fetch_tdmrep` makes crawls read /.well-known/tdmrep.json. WARC records carry only their
    own headers and HTML: the origin's robots.txt and tdmrep.json are `unknown` unless
    `warc_fetch_origin_files` lets goldpan fetch them now (live, with the crawl section's HTTP
    settings). `unknown: exclude` also excludes documents whose per-origin signals are unknown."""

    exclude: ConsentExclude = ConsentExclude()
    ai_agents: list[str] = Field(default_factory=lambda: list(DEFAULT_AI_AGENTS))
    warc_fetch_origin_files: bool = False
    unknown: Literal["keep", "exclude"] = "keep"

    @field_validator("ai_agents")
    @classmethod
    def _tokens(cls, v: list[str]) -> list[str]:
        bad = [a for a in v if not re.fullmatch(r"[A-Za-z_-]+", a)]
        if bad:
            raise ValueError(f"ai_agents must be robots.txt product tokens (letters, _ and -): {bad}")
        return v

#: The faithfulness guard's rules (goldpan.synthesize.guard), named here so the recipe types need no import.
GUARD_RULES: tuple[str, ...] = ("new_numbers", "new_dates", "new_urls", "new_entities", "language_change",
                                "copy_similarity", "min_length_ratio", "max_length_ratio")


class SynthTask(_Strict):
    """One synthesis task (goldpan.synthesize): which kept documents, which prompt, which sampling.

    Selection is by language, domain label (doc_scores.domain), quality band (doc_scores.quality_score in
    [min_quality, max_quality), e.g. Nemotron-CC's rephrasing of the low band) and page origin
    (pages.source). The prompt is `<prompts_dir>/<template>.<lang>.txt` (one file per language).
    """

    name: str = Field(pattern=r"^[A-Za-z0-9_.\-]{1,64}$")
    kind: Literal["rewrite", "qa", "continuation"]
    template: str = Field(pattern=r"^[A-Za-z0-9_.\-]{1,64}$")
    style: str = "textbook"  # rewrite: the style named in the prompt (textbook, encyclopedic, ...)
    languages: list[str] = ["en"]
    domains: list[str] = []
    min_quality: float | None = Field(None, ge=0, le=1)
    max_quality: float | None = Field(None, ge=0, le=1)
    origins: list[str] = []
    max_parents: int = Field(50, ge=1)  # per batch, in a seeded order
    outputs_per_parent: int = Field(1, ge=1, le=16)
    max_parent_chars: int = Field(1500, ge=50)  # passage given to the model (cut at a sentence end)
    min_parent_chars: int = Field(200, ge=1)
    max_tokens: int = Field(256, ge=1)
    temperature: float = Field(0.7, ge=0, le=2)
    top_p: float = Field(0.9, gt=0, le=1)
    seed: int = 0
    stop: list[str] = []  # stop sequences sent with the request (e.g. a blank line ends a continuation)
    skip_guard: list[str] = []  # guard rules not applied to this task (e.g. length_ratio for qa)

    @field_validator("skip_guard")
    @classmethod
    def _known_rules(cls, v: list[str]) -> list[str]:
        unknown = sorted(set(v) - set(GUARD_RULES))
        if unknown:
            raise ValueError(f"skip_guard names unknown guard rules {unknown}; known: {list(GUARD_RULES)}")
        return v


class GuardSection(_Strict):
    """Faithfulness guard (goldpan.synthesize.guard): an output is rejected, with rule, value and
    threshold, when it carries more facts its parents lack than allowed, changes language, copies
    its parent, or falls outside the length ratio. null disables a rule."""

    max_new_numbers: int | None = Field(0, ge=0)
    max_new_dates: int | None = Field(0, ge=0)
    max_new_urls: int | None = Field(0, ge=0)
    max_new_entities: int | None = Field(0, ge=0)
    language_min_score: float | None = Field(0.5, ge=0, le=1)  # lid confidence at which another language rejects
    max_copy_similarity: float | None = Field(0.7, gt=0, le=1)  # Jaccard of word 3-grams / char 4-grams
    min_length_ratio: float | None = Field(0.2, ge=0)  # output chars / parent chars
    max_length_ratio: float | None = Field(3.0, gt=0)


class PerplexitySection(_Strict):
    """Perplexity of documents under a small reference model (CCNet-style): every sampled document's outcome
    in `doc_perplexity`, the value in `doc_scores.perplexity` with the model's sha256 (`mix.max_perplexity`)."""

    enabled: bool = False
    model: str = "smollm2-135m-instruct"  # bundled name (gemma3-270m is the base model) or .gguf path
    first_tokens: int = Field(256, ge=8, le=4096)  # only the first N tokens are scored
    sample_fraction: float = Field(1.0, gt=0, le=1)  # seeded sample of each batch's kept documents
    seed: int = 0
    languages: list[str] = []  # empty: every language


class SynthesizeSection(_Strict):
    enabled: bool = False
    source: str = Field("synthetic", pattern=r"^[A-Za-z0-9_.\-]{1,64}$")  # mix source of the outputs
    prompts_dir: str = "recipes/prompts"
    tasks: list[SynthTask] = []
    guard: GuardSection = GuardSection()
    apply_filter: bool = True  # the filter section's rules also judge outputs (as for crawled text)
    chunk_rows: int = Field(8, ge=1)  # outputs per commit: a killed run repeats at most this many requests
    perplexity: PerplexitySection = PerplexitySection()

    @field_validator("tasks")
    @classmethod
    def _unique(cls, v: list[SynthTask]) -> list[SynthTask]:
        names = [t.name for t in v]
        if len(names) != len(set(names)):
            raise ValueError(f"synthesize task names must be unique: {names}")
        return v


class RayEngineSection(_Strict):
    """Where the Ray engine runs (used when `engine.kind` is ray). $GOLDPAN_RAY_ADDRESS overrides
    `address`. `runtime_env` is Ray's own (pip, env_vars, working_dir...): on a cluster it must
    give workers goldpan, e.g. `{"pip": ["goldpan==0.1.0"]}`, unless the image has it."""

    address: str | None = None  # None/"local": a private Ray on this machine; "auto"; "ray://head:10001"
    runtime_env: dict[str, Any] = Field(default_factory=dict)
    max_retries: int = Field(3, ge=0, le=100)  # a task whose worker died is retried this often
    object_store_mb: int | None = Field(None, ge=75, le=1_000_000)  # private instance only
    # A sliced stage cuts its batch into workers x tasks_per_worker tasks, handed to workers as they
    # free up: `row_group` cuts runs of Parquet row groups, largest first so that the last tasks are
    # small (goldpan.engine.units.unit_shares; a heavy input file is spread over several tasks), `file`
    # deals whole files (goldpan.engine.units, bench/ray_engine.py)
    slice_unit: Literal["file", "row_group"] = "row_group"
    tasks_per_worker: int = Field(8, ge=1, le=64)


class EngineSection(_Strict):
    """Where per-document work runs (goldpan.engine). Not part of the recipe id: every engine and
    worker count writes the same rows (tests/unit/test_engine.py), so moving a run to more cores does
    not make a new recipe. The environment overrides it: GOLDPAN_ENGINE, GOLDPAN_WORKERS."""

    # local: worker processes; inprocess: this process only; ray: Ray tasks (goldpan.engine.ray_engine)
    kind: Literal["local", "inprocess", "ray"] = "local"
    workers: int | None = Field(None, ge=1, le=1024)  # None: one per core (ray: CPUs a stage may use)
    batch_rows: int = Field(128, ge=1, le=100_000)  # documents per batch handed to a worker
    # Dagster steps `goldpan run` runs at once on threads of its one process (assets/executor.py), and of
    # those how many may be heavy (pooled stages, model training, large writes: assets/step_load.py). Light
    # steps (GX suites, consent, small views) run beside the one heavy step. None: 2 where the per-document
    # work runs in worker processes (2+ local workers, Ray), 1 where it runs in the run process itself (one
    # worker, `inprocess`), since there a light step only takes turns with the stage for the GIL
    # (goldpan.engine.resolve_concurrent_steps). Two heavy steps at once gained nothing more on 2 cores and
    # put two steps' peaks in the run process at once.
    concurrent_steps: int | None = Field(None, ge=1, le=64)
    heavy_steps: int = Field(1, ge=1, le=64)
    # local engine: `driver` -- rows go to the workers and back through the run process, which writes
    # the table; `workers` -- a stage whose input is cut in its scanned table has each worker read its
    # slice and write a Parquet part, the run process only commits (as on Ray). Measured even on 2 cores
    # (goldpan/engine/local.py); `workers` keeps the rows off the run process (object-store lakes).
    lake_io: Literal["workers", "driver"] = "driver"
    ray: RayEngineSection = RayEngineSection()


class Recipe(_Strict):
    name: str
    description: str = ""
    crawl: CrawlSection
    warc: WarcSection = WarcSection()
    extract: ExtractSection = ExtractSection()
    dedup: DedupSection = DedupSection()
    filter: FilterSection = FilterSection()
    classify: ClassifySection = ClassifySection()
    mix: MixSection
    consent: ConsentSection = ConsentSection()
    decontam: DecontamSection = DecontamSection()
    gate: GateSection = GateSection()
    release: ReleaseSection = ReleaseSection()
    export: ExportSection = ExportSection()
    engine: EngineSection = EngineSection()
    synthesize: SynthesizeSection = SynthesizeSection()

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
        # crawl.connect_to only says where packets go (URLs and ids are unchanged), so it is left out:
        # the demo keeps one recipe id whichever port its site got.
        dump = self.model_dump(exclude={"engine"})
        dump["crawl"].pop("connect_to", None)
        return hashlib.sha1(json.dumps(dump, sort_keys=True).encode()).hexdigest()


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
