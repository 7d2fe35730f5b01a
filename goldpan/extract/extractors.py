"""Main-content extractors behind one small interface, selected by name in the recipe.

- `resiliparse` (default): `extract_plain_text(main_content=True)`, the DCLM setting, hundreds of
  pages per second per core; optional goldpan post-processing drops link-only lines.
- `trafilatura`: trafilatura 2.3 `extract()`, slower (about ten pages per second per core) and more
  precise on news pages; selectable as primary or as a comparison variant.
- `goldpan` (the recipe default): resiliparse's main-content pass plus a learned boilerplate line
  classifier (goldpan.extract.learned), trafilatura's precision at close to resiliparse's speed.
- `cascade`: `goldpan`, and trafilatura for the pages the classifier is unsure about; every
  document records which path answered (`documents.extractor_path`).

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

    def extract_with_path(self, page: ParsedHtml) -> tuple[str, str]:
        """(text, path): which of the extractor's paths answered; one-path extractors return their name."""
        return self.extract(page), self.name


# resiliparse's own options: main content, formatting kept (code blocks, table rows), list bullets,
# nothing that is not visible text. The learned extractor's first pass uses the same ones.
RESILIPARSE_TEXT_OPTIONS: dict[str, Any] = {
    "main_content": True,
    "preserve_formatting": True,
    "list_bullets": True,
    "alt_texts": False,
    "links": False,
    "form_fields": False,
    "noscript": False,
    "comments": False,
}


class ResiliparseExtractor(Extractor):
    name = "resiliparse"
    package = "resiliparse"
    defaults: ClassVar[dict[str, Any]] = {
        **RESILIPARSE_TEXT_OPTIONS,
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


class LearnedLinesExtractor(Extractor):
    """resiliparse main content, then the shipped line classifier drops boilerplate lines.

    The version is the package version plus the model's sha1, so a retrained model is a new version.
    """

    name = "goldpan"
    package = "resiliparse"
    defaults: ClassVar[dict[str, Any]] = {
        "model": "shipped:line_model.json",
        "threshold": None,  # None: the model's own (chosen on its training pages)
        # Keep the headline (the first line matching the page title, before any prose) whatever the
        # model says. The news gold sets and trafilatura leave it out (AEB: -0.007 F1 with it).
        "keep_headline": True,
    }

    def __init__(self, options: Mapping[str, Any] | None = None):
        super().__init__(options)
        from goldpan.extract.line_model import load_line_model

        self.model = load_line_model(str(self.options["model"]))
        self.version = f"{self.version}+lines-{self.model.sha1[:12]}"

    @property
    def line_model(self):
        """The line classifier this extractor applies (registered in the lake's `models`)."""
        return self.model

    def decide(self, page: ParsedHtml):
        from goldpan.extract.learned import extract_lines, first_pass_tree

        tree = first_pass_tree(page.html)
        # The renamed lists change nothing in <head>: the page's title/description/canonical can be
        # read from this tree, which saves the stage a second parse.
        page.__dict__.setdefault("tree", tree)
        return extract_lines(page.html, tree, self.model, self.options["threshold"],
                             bool(self.options["keep_headline"]))

    def extract(self, page: ParsedHtml) -> str:
        return self.decide(page).text


class CascadeExtractor(Extractor):
    """`goldpan` first; trafilatura only for pages whose line decisions are unsure or whose result is
    suspiciously short, so most pages cost the fast path and the hard ones get the slow one."""

    name = "cascade"
    package = "trafilatura"
    defaults: ClassVar[dict[str, Any]] = {
        "model": "shipped:line_model.json",
        "threshold": None,
        "keep_headline": True,
        # fall back when this share of the kept+dropped characters had P(content) in 0.25..0.75
        "max_uncertainty": 0.2,
        # ... or when the fast path kept less than this many characters
        "min_chars": 200,
        "fallback_options": {"favor_precision": True, "include_tables": True},
    }

    PATH_FAST = "goldpan"
    PATH_FALLBACK = "trafilatura"

    def __init__(self, options: Mapping[str, Any] | None = None):
        super().__init__(options)
        self.fast = LearnedLinesExtractor({k: self.options[k] for k in ("model", "threshold", "keep_headline")})
        self.fallback = TrafilaturaExtractor(self.options["fallback_options"])
        self.version = f"{self.fast.version};trafilatura-{self.version}"

    @property
    def line_model(self):
        return self.fast.model

    def extract(self, page: ParsedHtml) -> str:
        return self.extract_with_path(page)[0]

    def extract_with_path(self, page: ParsedHtml) -> tuple[str, str]:
        decision = self.fast.decide(page)
        unsure = decision.uncertainty > float(self.options["max_uncertainty"])
        short = len(decision.text) < int(self.options["min_chars"])
        if not (unsure or short):
            return decision.text, self.PATH_FAST
        slow = self.fallback.extract(page)
        if not slow.strip():
            return decision.text, self.PATH_FAST
        return slow, self.PATH_FALLBACK


EXTRACTORS: dict[str, type[Extractor]] = {
    c.name: c for c in (ResiliparseExtractor, TrafilaturaExtractor, LearnedLinesExtractor, CascadeExtractor)
}


def make_extractor(name: str, options: Mapping[str, Any] | None = None) -> Extractor:
    try:
        cls = EXTRACTORS[name]
    except KeyError:
        raise ValueError(f"unknown extractor {name!r}; available: {sorted(EXTRACTORS)}") from None
    return cls(options)
