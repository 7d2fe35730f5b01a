"""The extract stage: one `documents` row for every page the crawl kept.

Input = kept pages; output rows are kept (usable text), rejected (a named rule with value and
threshold: no text, too little text, navigation only) or error (decode or extractor crash, with the
message). Nothing is dropped, so `documents` rows == kept `pages` rows for every batch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from goldpan.extract.encoding import decode_page
from goldpan.extract.html_text import EXTRACTOR, EXTRACTOR_VERSION, extract_html
from goldpan.extract.langid import LanguageIdentifier
from goldpan.extract.normalize import normalize_text
from goldpan.lake.schemas import ERROR, KEPT, REJECTED
from goldpan.text.tokenize import count_sentences, words

PLAIN_TEXT_TYPES = frozenset({"text/plain"})


@dataclass(frozen=True)
class ExtractConfig:
    """Thresholds of the extract stage's own rules (what counts as "no usable text")."""

    min_chars: int = 80  # fewer non-space characters of main text: no usable text
    max_link_density: float = 0.6  # more of the visible page inside links: a navigation page
    max_link_density_min_chars: int = 400  # ...unless the main text is at least this long


def doc_id_for(page_id: str, extractor: str = EXTRACTOR) -> str:
    """Stable document id: one page can be extracted by several extractors, each a document."""
    return hashlib.sha1(f"{page_id}|{extractor}".encode()).hexdigest()[:20]


def extract_documents(
    pages: Iterable[Mapping], lid: LanguageIdentifier, config: ExtractConfig = ExtractConfig()
) -> Iterator[dict]:
    for page in pages:
        yield extract_one(page, lid, config)


def extract_one(page: Mapping, lid: LanguageIdentifier, config: ExtractConfig = ExtractConfig()) -> dict:
    row = {
        "doc_id": doc_id_for(page["page_id"]),
        "page_id": page["page_id"],
        "batch_id": page["batch_id"],
        "url": page["url"],
        "host": page.get("host"),
        "fetched_at": page.get("fetched_at"),
        "status": KEPT,
        "rule": None,
        "value": None,
        "threshold": None,
        "detail": None,
        "title": None,
        "text": None,
        "lang": None,
        "lang_score": None,
        "n_chars": 0,
        "n_words": 0,
        "n_sentences": 0,
        "n_lines": 0,
        "encoding": None,
        "encoding_source": None,
        "extractor": EXTRACTOR,
        "extractor_version": EXTRACTOR_VERSION,
    }
    try:
        content = page.get("content")
        if content is None:
            raise ValueError("page has no content bytes")
        decoded = decode_page(bytes(content), page.get("charset_declared"))
        row["encoding"], row["encoding_source"] = decoded.encoding, decoded.source
        if (page.get("content_type") or "") in PLAIN_TEXT_TYPES:
            raw_text, ext = decoded.text, None
            row["extractor"], row["extractor_version"] = "plaintext", "1"
            row["doc_id"] = doc_id_for(page["page_id"], "plaintext")
        else:
            ext = extract_html(decoded.text)
            raw_text = ext.text
            row["title"] = ext.title
        text = normalize_text(raw_text or "")
    except Exception as exc:  # noqa: BLE001 -- any decoder/extractor failure is an error row, never a crashed batch
        row.update(status=ERROR, rule="extract_error", detail=f"{type(exc).__name__}: {exc}"[:500])
        return row

    n_visible = len("".join(text.split()))
    row["text"] = text
    row["n_chars"] = len(text)
    row["n_lines"] = text.count("\n") + 1 if text else 0
    if n_visible == 0:
        row.update(status=REJECTED, rule="empty_text", value=0.0, threshold=1.0)
        return row
    guess = lid.identify(text)
    row["lang"], row["lang_score"] = guess.lang, round(guess.score, 4)
    row["n_words"] = len(words(text, guess.lang))
    row["n_sentences"] = count_sentences(text, guess.lang)
    if n_visible < config.min_chars:
        row.update(status=REJECTED, rule="min_text_chars", value=float(n_visible), threshold=float(config.min_chars))
    elif (
        ext is not None
        and n_visible < config.max_link_density_min_chars
        and (link_density := ext.link_density()) > config.max_link_density
    ):
        row.update(
            status=REJECTED, rule="navigation_page", value=round(link_density, 4), threshold=config.max_link_density
        )
    return row
