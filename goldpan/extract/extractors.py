"""Main-content extractors behind one small interface, selected by name in the recipe.

- `resiliparse` (default): `extract_plain_text(main_content=True)`, the DCLM setting, hundreds of
  pages per second per core; optional goldpan post-processing drops link-only lines.
- `trafilatura`: trafilatura 2.3 `extract()`, slower (about ten pages per second per core) and more
  precise on news pages; selectable as primary or as a comparison variant.

Each extractor reports its name, library version and options; the stage stores them as columns, so
every document says exactly how its text was produced.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from importlib.metadata import version as _pkg_version
from typing import Any, ClassVar

from goldpan.extract.boilerplate import drop_link_lines, strip_boilerplate_elements
from goldpan.extract.html_text import ParsedHtml


class Extractor(ABC):
    """Turns a parsed HTML page into main text. Exceptions propagate: the stage makes them error rows."""

    name: ClassVar[str]
    package: ClassVar[str]
    defaults: ClassVar[dict[str, Any]]

    def __init__(self, options: Mapping[str, Any] | None = None):
        unknown = set(options or {}) - set(self.defaults)
        if unknown:
            raise ValueError(f"unknown {self.name} options: {sorted(unknown)}; known: {sorted(self.defaults)}")
        self.options: dict[str, Any] = {**self.defaults, **(options or {})}
        self.version = _pkg_version(self.package)

    @property
    def options_json(self) -> str:
        return json.dumps(self.options, sort_keys=True, separators=(",", ":"))

    @abstractmethod
    def extract(self, page: ParsedHtml) -> str: ...


class ResiliparseExtractor(Extractor):
    name = "resiliparse"
    package = "resiliparse"
    defaults: ClassVar[dict[str, Any]] = {
        "main_content": True,
        "preserve_formatting": True,
        "list_bullets": True,
        "alt_texts": False,
        "links": False,
        "form_fields": False,
        "noscript": False,
        "comments": False,
        # goldpan post-processing (see goldpan.extract.boilerplate); 0 / False disables it.
        "drop_link_lines_max_words": 0,
        "strip_boilerplate_elements": False,
    }

    def extract(self, page: ParsedHtml) -> str:
        from resiliparse.extract.html2text import extract_plain_text

        opts = dict(self.options)
        max_words = int(opts.pop("drop_link_lines_max_words"))
        strip = bool(opts.pop("strip_boilerplate_elements"))
        tree = page.tree
        if strip:
            # Anchors are read from the source, and the tree is re-parsed for link density, so
            # mutating this page's tree only changes what this extractor sees.
            from resiliparse.parse.html import HTMLTree

            tree = HTMLTree.parse(page.html)
            strip_boilerplate_elements(tree)
        text = extract_plain_text(tree, **opts)
        if max_words > 0:
            text = drop_link_lines(text, page.anchor_texts, max_words)
        return text


class TrafilaturaExtractor(Extractor):
    name = "trafilatura"
    package = "trafilatura"
    defaults: ClassVar[dict[str, Any]] = {
        "fast": False,
        "favor_precision": False,
        "favor_recall": False,
        "include_comments": False,
        "include_tables": True,
        "include_formatting": False,
        "deduplicate": False,
    }

    def extract(self, page: ParsedHtml) -> str:
        import trafilatura

        text = trafilatura.extract(page.html, output_format="txt", with_metadata=False, **self.options)
        return text or ""


EXTRACTORS: dict[str, type[Extractor]] = {c.name: c for c in (ResiliparseExtractor, TrafilaturaExtractor)}


def make_extractor(name: str, options: Mapping[str, Any] | None = None) -> Extractor:
    try:
        cls = EXTRACTORS[name]
    except KeyError:
        raise ValueError(f"unknown extractor {name!r}; available: {sorted(EXTRACTORS)}") from None
    return cls(options)
