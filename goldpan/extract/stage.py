"""The extract stage: one `documents` row for every page the crawl kept.

Input = kept pages; output rows are kept (usable text), rejected (a named rule with value and
threshold: no text, too little text, navigation only) or error (decode or extractor crash, with the
message). Nothing is dropped, so `documents` rows == kept `pages` rows for every batch.

A page cut at the byte cap (`pages.truncated`) is flagged `truncated` and, unless the recipe sets
`extract.keep_truncated`, rejected with rule `truncated` (value = bytes read, threshold = the
cap of its source): half a page is not a document, and its text would flow on silently.

Per page: decode (declared charset verified against the bytes), parse once, extract main text with
the recipe's extractor within the recipe's per-page time budget (goldpan.extract.budget: an
overrun is an error row `extract_timeout`, never a stuck batch) (plain-text and WET records skip HTML extraction), normalise, identify the
language (whole text, plus a per-line second language for mixed documents), count tokens, words and
sentences once, and compute the host's registered domain offline.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

import pyarrow as pa

from goldpan.engine import Engine, worker_cache
from goldpan.engine.pooled import StageRun, count_rows, run_pooled
from goldpan.engine.slices import LakeQuery
from goldpan.extract.budget import PageTimeout, run_with_budget
from goldpan.extract.counts import count_text
from goldpan.extract.domain import host_of, registered_domain
from goldpan.extract.encoding import decode_page
from goldpan.extract.extractors import Extractor, make_extractor
from goldpan.extract.html_text import ParsedHtml
from goldpan.extract.langid import LangProfile, LanguageIdentifier, default_model_path
from goldpan.extract.normalize import normalize_text
from goldpan.lake import Lake, batch_predicate
from goldpan.lake.delta import rows_to_batch
from goldpan.lake.schemas import DOCUMENT_VARIANTS, DOCUMENTS, ERROR, KEPT, REJECTED
from goldpan.lake.views import kept_input
from goldpan.recipe import ExtractorSpec, ExtractSection

# The stage's thresholds and choices are the recipe's `extract` section.
ExtractConfig = ExtractSection

PLAIN_TEXT_TYPES = frozenset({"text/plain"})
PLAIN_TEXT_SOURCES = frozenset({"wet"})
PLAINTEXT = "plaintext"
PLAINTEXT_VERSION = "1"


DEFAULT_EXTRACTOR = ExtractorSpec().key  # the recipe's default primary extractor ("goldpan")


def doc_id_for(page_id: str, extractor: str = DEFAULT_EXTRACTOR) -> str:
    """Stable document id: one page can be extracted by several extractors, each a document."""
    return hashlib.sha1(f"{page_id}|{extractor}".encode()).hexdigest()[:20]


def is_plain_text(page: Mapping) -> bool:
    ctype = (page.get("content_type") or "").split(";")[0].strip().lower()
    return ctype in PLAIN_TEXT_TYPES or (page.get("source") or "") in PLAIN_TEXT_SOURCES


def build_extractors(config: ExtractSection) -> list[tuple[str, Extractor]]:
    """(key, extractor) for every extractor the recipe lists, primary first."""
    return [(spec.key, make_extractor(spec.name, spec.options)) for spec in config.extractors]


def extract_documents(
    pages: Iterable[Mapping],
    lid: LanguageIdentifier,
    config: ExtractSection | None = None,
    extractor: tuple[str, Extractor] | None = None,
    byte_caps: Mapping[str, int] | None = None,
) -> Iterator[dict]:
    """Primary extraction (or `extractor`) of every page, in input order, one row each.
    `byte_caps` maps a page source (crawl, warc, wet) to the byte cap its bodies were cut at:
    the threshold of a `truncated` rejection."""
    config = config or ExtractSection()
    extractor = extractor or build_extractors(config)[0]
    caps = byte_caps or {}
    for page in pages:
        yield extract_one(page, lid, config, extractor, caps.get(page.get("source") or ""))


def _empty_row(page: Mapping, key: str, ext: Extractor | None) -> dict:
    host = page.get("host") or host_of(page.get("url"))
    row = dict.fromkeys(DOCUMENTS.names)
    row.update(
        doc_id=doc_id_for(page["page_id"], key),
        page_id=page["page_id"],
        batch_id=page["batch_id"],
        url=page["url"],
        host=host,
        fetched_at=page.get("fetched_at"),
        status=KEPT,
        n_chars=0,
        n_words=0,
        n_sentences=0,
        n_lines=0,
        n_tokens=0,
        n_paragraphs=0,
        extractor=ext.name if ext else PLAINTEXT,
        extractor_version=ext.version if ext else PLAINTEXT_VERSION,
        extractor_options=ext.options_json if ext else "{}",
        source=page.get("source"),
    )
    return row


def extract_one(
    page: Mapping,
    lid: LanguageIdentifier,
    config: ExtractSection | None = None,
    extractor: tuple[str, Extractor] | None = None,
    byte_cap: int | None = None,
) -> dict:
    """One `documents` row for one page; never raises for bad pages (they become error rows)."""
    row = _extract_one(page, lid, config or ExtractSection(), extractor)
    if page.get("truncated"):
        row["truncated"] = True
        if row["status"] == KEPT and not (config or ExtractSection()).keep_truncated:
            read = page.get("content_bytes")
            read = read if read is not None else len(page.get("content") or b"")
            row.update(status=REJECTED, rule="truncated", value=float(read),
                       threshold=float(byte_cap if byte_cap is not None else read))  # fmt: skip
    else:
        row["truncated"] = False
    return row


def _extract_one(
    page: Mapping, lid: LanguageIdentifier, config: ExtractSection, extractor: tuple[str, Extractor] | None
) -> dict:
    config = config or ExtractSection()
    key, ext = extractor or build_extractors(config)[0]
    plain = is_plain_text(page)
    row = _empty_row(page, PLAINTEXT if plain else key, None if plain else ext)
    parsed = None
    try:
        try:
            row["registered_domain"] = registered_domain(row["host"])
        except Exception:  # noqa: BLE001 -- a malformed host must not cost the document
            row["registered_domain"] = None
        content = page.get("content")
        if content is None:
            raise ValueError("page has no content bytes")
        decoded = decode_page(bytes(content), page.get("charset_declared"))
        row.update(
            encoding=decoded.encoding,
            encoding_source=decoded.source,
            encoding_declared=decoded.declared,
            encoding_declared_source=decoded.declared_source,
            encoding_detected=decoded.detected,
            encoding_mismatch=decoded.declared_mismatch,
        )
        if plain:
            raw_text = decoded.text
        else:
            parsed = ParsedHtml(decoded.text)
            raw_text, row["extractor_path"] = run_with_budget(
                _extract_page, (ext, parsed), decoded.text, config.page_time_budget_s, config.isolate_min_depth
            )
            row["title"], row["description"], row["canonical_url"] = parsed.head_meta
        text = normalize_text(raw_text or "")
    except PageTimeout as exc:
        row.update(status=ERROR, rule="extract_timeout", value=config.page_time_budget_s,
                   threshold=config.page_time_budget_s, detail=str(exc)[:500])
        return row
    except Exception as exc:  # noqa: BLE001 -- any decoder/extractor failure is an error row, never a crashed batch
        row.update(status=ERROR, rule="extract_error", detail=f"{type(exc).__name__}: {exc}"[:500])
        return row
    return _finish(row, text, parsed, lid, config)


def _extract_page(ext: Extractor, parsed: ParsedHtml) -> tuple[str, str]:
    """(text, path) of one page: a module-level function so an isolated child process can run it."""
    return ext.extract_with_path(parsed)


def language_profile(lid: LanguageIdentifier, text: str, config: ExtractSection, **overrides) -> LangProfile:
    """The document's language as the extract stage decides it, with the recipe's language-ID settings."""
    settings = {
        "doc_max_chars": config.lid_max_chars,
        "min_line_chars": config.mixed_min_line_chars,
        "min_line_score": config.mixed_min_line_score,
        "mixed_min_share": config.mixed_min_share,
        "allowed": frozenset(config.lid_labels) or None,
        "label_map": config.lid_label_map,
        "short_text_letters": config.lid_short_text_letters,
        "line_majority": config.lid_line_majority,
    }
    return lid.profile(text, **{**settings, **overrides})


def _finish(row: dict, text: str, parsed: ParsedHtml | None, lid: LanguageIdentifier, config: ExtractSection) -> dict:
    """Language, counts and the no-usable-text rules on normalised text."""
    n_visible = len(text) - text.count(" ") - text.count("\n")
    row["text"] = text
    row["n_chars"] = len(text)
    row["n_lines"] = text.count("\n") + 1 if text else 0
    if n_visible == 0:
        row.update(status=REJECTED, rule="empty_text", value=0.0, threshold=1.0)
        if parsed is not None and "<script" in parsed.html.lower():
            row["detail"] = "no visible text outside scripts/styles"
        return row
    prof = language_profile(lid, text, config)
    row.update(
        lang=prof.lang,
        lang_score=round(prof.score, 4),
        lang2=prof.lang2,
        lang2_share=prof.lang2_share,
        lang_mixed=prof.mixed,
    )
    counts = count_text(text, prof.lang, config.zh_segmenter)
    row.update(
        n_words=counts.n_words,
        n_tokens=counts.n_tokens,
        n_sentences=counts.n_sentences,
        n_paragraphs=counts.n_paragraphs,
        word_segmenter=counts.segmenter,
    )
    if n_visible < config.min_chars:
        row.update(status=REJECTED, rule="min_text_chars", value=float(n_visible), threshold=float(config.min_chars))
    elif (
        parsed is not None
        and n_visible < config.max_link_density_min_chars
        and (link_density := parsed.link_density()) > config.max_link_density
    ):
        row.update(
            status=REJECTED, rule="navigation_page", value=round(link_density, 4), threshold=config.max_link_density
        )
    return row


def extract_variants(
    pages: Iterable[Mapping], lid: LanguageIdentifier, config: ExtractSection
) -> Iterator[dict]:
    """Rows of every non-primary extractor for every HTML page (plain-text pages have no variants)."""
    variants = build_extractors(config)[1:]
    if not variants:
        return
    for page in pages:
        if is_plain_text(page):
            continue
        for key, ext in variants:
            yield extract_one(page, lid, config, (key, ext))


# -- the stage entry point -----------------------------------------------------------------------

# Pages in storage order (the order the import or crawl wrote them): no sort of the page bytes, so
# the read streams; the order is fixed for a given `pages` version, hence the same for any engine.
PAGES_SQL = (
    "SELECT page_id, batch_id, url, host, fetched_at, content, content_type, charset_declared, source, "
    "truncated, content_bytes FROM {} WHERE batch_id = ? AND {}".format(*kept_input("extract"))
)


@dataclass(frozen=True)
class ExtractContext:
    """What a worker needs to extract a batch of pages (small and picklable; models load per worker)."""

    config: ExtractSection
    lid_model_path: str
    variants: bool = False  # False: the primary extractor (`documents`); True: the others
    byte_caps: tuple[tuple[str, int], ...] = ()  # (page source, byte cap): threshold of `truncated`


def _worker_extractors(config: ExtractSection) -> list[tuple[str, Extractor]]:
    return worker_cache(("extractors", config.model_dump_json()), lambda: build_extractors(config))


def extract_batch(pages: pa.RecordBatch, ctx: ExtractContext) -> pa.RecordBatch:
    """Engine batch function: a record batch of `pages` rows -> `documents` rows (same order)."""
    lid = worker_cache(("lid", ctx.lid_model_path), lambda: LanguageIdentifier(ctx.lid_model_path))
    extractors = _worker_extractors(ctx.config)
    rows: list[dict] = []
    caps = dict(ctx.byte_caps)
    for page in pages.to_pylist():
        cap = caps.get(page.get("source") or "")
        if not ctx.variants:
            rows.append(_safe_extract(page, lid, ctx.config, extractors[0], cap))
        elif not is_plain_text(page):
            rows.extend(_safe_extract(page, lid, ctx.config, e, cap) for e in extractors[1:])
    return rows_to_batch(rows, DOCUMENTS)


def _safe_extract(page: Mapping, lid: LanguageIdentifier, config: ExtractSection, extractor,
                  byte_cap: int | None = None) -> dict:  # fmt: skip
    """`extract_one`, with a failure after decoding (language ID, counting) also an error row of its
    page: one document never fails the batch."""
    try:
        return extract_one(page, lid, config, extractor, byte_cap)
    except Exception as exc:  # noqa: BLE001 -- the page's error row carries the exception
        key, ext = extractor
        row = _empty_row(page, PLAINTEXT if is_plain_text(page) else key, None if is_plain_text(page) else ext)
        row.update(status=ERROR, rule="extract_error", detail=f"{type(exc).__name__}: {exc}"[:500])
        return row


def run(
    lake: Lake,
    config: ExtractSection,
    batch_id: str,
    *,
    engine: Engine,
    lid_model_path: str | None = None,
    commit_metadata: Mapping[str, str] | None = None,
    variants: bool = False,
    batch_rows: int = 64,
    byte_caps: Mapping[str, int] | None = None,
) -> StageRun:
    """Extract every kept page of `batch_id` into `documents` (or `document_variants`), one commit.

    Every kept page gives exactly one `documents` row (kept, rejected or error), whatever happens to
    the page, so the funnel invariant holds per batch.
    """
    table, schema = ("document_variants", DOCUMENT_VARIANTS) if variants else ("documents", DOCUMENTS)
    total, query, inputs = None, None, None
    if variants and len(config.extractors) < 2:
        inputs = iter(())
    else:
        total = count_rows(lake, PAGES_SQL, [batch_id], ["pages"])
        query = LakeQuery(PAGES_SQL, [batch_id], ["pages"], batch_rows=batch_rows, key="page_id", slice_table="pages",
                           slice_partition=(("batch_id", batch_id),))
    lid_path = lid_model_path or default_model_path()
    result = run_pooled(
        lake, engine, table=table, schema=schema, fn=extract_batch,
        context=ExtractContext(config, lid_path, variants, tuple(sorted((byte_caps or {}).items()))),
        inputs=inputs, query=query,
        predicate=batch_predicate("batch_id", batch_id), partition_by=["batch_id"], commit_metadata=commit_metadata,
        total=None if total is None else total * (len(config.extractors) - 1 if variants else 1),
    )
    rules: Counter[str] = Counter()
    if result.written is not None and result.written.rows:
        with lake.connect(tables=[table]) as con:
            rules.update(dict(con.execute(
                f"SELECT rule, count(*) FROM {table} WHERE batch_id = ? AND rule IS NOT NULL GROUP BY 1 ORDER BY 1",
                [batch_id],
            ).fetchall()))
    result.extra["rules"] = rules
    return result


__all__ = [
    "ExtractConfig",
    "ExtractContext",
    "ExtractorSpec",
    "build_extractors",
    "doc_id_for",
    "extract_batch",
    "extract_documents",
    "extract_one",
    "extract_variants",
    "is_plain_text",
    "run",
]
