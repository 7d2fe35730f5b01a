"""The extract stage: one `documents` row for every page the crawl kept.

Input = kept pages; output rows are kept (usable text), rejected (a named rule with value and
threshold: no text, too little text, navigation only) or error (decode or extractor crash, with the
message). Nothing is dropped, so `documents` rows == kept `pages` rows for every batch.

A page cut at the byte cap (`pages.truncated`) is flagged `truncated` and, unless the recipe sets
`extract.keep_truncated`, rejected with rule `truncated` (value = bytes read, threshold = the
cap of its source): half a page is not a document, and its text would flow on silently.

Per page: decode (declared charset verified against the bytes), parse once, extract main text with
the recipe's extractor (plain-text and WET records skip HTML extraction), normalise, identify the
language (whole text, plus a per-line second language for mixed documents), count tokens, words and
sentences once, and compute the host's registered domain offline.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping

from goldpan.extract.counts import count_text
from goldpan.extract.domain import host_of, registered_domain
from goldpan.extract.encoding import decode_page
from goldpan.extract.extractors import Extractor, make_extractor
from goldpan.extract.html_text import EXTRACTOR, ParsedHtml
from goldpan.extract.langid import LanguageIdentifier
from goldpan.extract.normalize import normalize_text
from goldpan.lake.schemas import DOCUMENTS, ERROR, KEPT, REJECTED
from goldpan.recipe import ExtractorSpec, ExtractSection

# The stage's thresholds and choices are the recipe's `extract` section.
ExtractConfig = ExtractSection

PLAIN_TEXT_TYPES = frozenset({"text/plain"})
PLAIN_TEXT_SOURCES = frozenset({"wet"})
PLAINTEXT = "plaintext"
PLAINTEXT_VERSION = "1"


def doc_id_for(page_id: str, extractor: str = EXTRACTOR) -> str:
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
            raw_text = ext.extract(parsed)
            row["title"], row["description"], row["canonical_url"] = parsed.head_meta
        text = normalize_text(raw_text or "")
    except Exception as exc:  # noqa: BLE001 -- any decoder/extractor failure is an error row, never a crashed batch
        row.update(status=ERROR, rule="extract_error", detail=f"{type(exc).__name__}: {exc}"[:500])
        return row
    return _finish(row, text, parsed, lid, config)


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
    prof = lid.profile(
        text,
        doc_max_chars=config.lid_max_chars,
        min_line_chars=config.mixed_min_line_chars,
        min_line_score=config.mixed_min_line_score,
        mixed_min_share=config.mixed_min_share,
    )
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


__all__ = [
    "ExtractConfig",
    "ExtractorSpec",
    "build_extractors",
    "doc_id_for",
    "extract_documents",
    "extract_one",
    "extract_variants",
    "is_plain_text",
]
