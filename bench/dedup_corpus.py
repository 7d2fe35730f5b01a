"""The near-duplicate benchmark corpus: real documentation pages, planted near-duplicates with a known
truth, and natural duplicates.

Real pages (Debian packages via `apt-get download` + `dpkg -x` into bench/data, gitignored; main text
extracted with resiliparse; done on first use, cached in bench/data/dedup_pages.json):

- python3.11-doc: the Python 3.11 documentation (English);
- debian-reference-{en,de,ja,zh-cn}: the Debian Reference in four locales (English, German, and the
  CJK pages that exercise character shingles); chapters are cut into sections of ~600 words;
- libstdc++-{11,12}-doc: the libstdc++ manual of GCC 11 and GCC 12, the same pages in two
  versions (natural near-duplicates: "mirrored docs in several versions"), and a sample of GCC 12's
  Doxygen class/file pages (real templated pages: unrelated content in one shared page template).

Planted families (one original each, chosen among pages of >= 150 words/characters):
- copies with words substituted, deleted and inserted at 0/1/2/3/5/8/10/12/15% of positions, the new
  words drawn at random from the vocabulary of the whole corpus (never from the page itself), each
  with a banner on top and a dated footer (different per copy);
- the original contained in a longer page: filler text before and after it of 0.3-2x the original's
  length (at most 3,000 tokens), lines of held-out pages that are not in the corpus, each line
  used by one container only (containers sharing filler would be near duplicates of each other);
- CJK pages are edited per token: a CJK character is a token, a run of other word characters is one.

Hard negatives: short unrelated pages wrapped in one shared site template (a long navigation block
before and a footer after; those pages are held out of the rest of the corpus), and the Doxygen
pages. Each is its own family, unless `natural_similarities` finds it a natural near duplicate.

Natural truth: a libstdc++ manual page of GCC 11 and the same path in GCC 12 are a true pair when
their word sequences are >= 85% similar (difflib ratio, i.e. <= ~15% of words changed, the planted
range); pairs below that are "changed pages" and left out of both recall and precision.
"""

from __future__ import annotations

import difflib
import json
import random
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
CACHE = DATA / "dedup_pages.json"
EDIT_RATES = [0.0, 0.01, 0.02, 0.03, 0.05, 0.08, 0.10, 0.12, 0.15]
TEMPLATE_WORDS = 250
NATURAL_MIN_RATIO = 0.85
CONTAINER_FILLER_CAP = 3000  # filler tokens of a container at most (0.3-2x the original's length)
PACKAGES = ["python3.11-doc", "debian-reference-en", "debian-reference-de", "debian-reference-ja",
            "debian-reference-zh-cn", "libstdc++-11-doc", "libstdc++-12-doc"]

BANNERS = [
    "Skip to main content | Home | Documentation | Downloads | Community | Search",
    "We use cookies to improve your experience. By continuing you accept our cookie policy.",
    "This page is a mirror of the official documentation, provided for your convenience.",
    "Sign up for our newsletter and never miss an update from the team.",
    "Theme: Auto Light Dark | Table of contents | Previous topic | Next topic | This page",
]
FOOTERS = [
    "Copyright {y} the authors. All rights reserved. Last updated on {d}.",
    "Mirror synchronised on {d}. Report problems to the mirror maintainers.",
    "Page generated {d} by the documentation build ({y}). Back to top | Privacy | Terms",
]
_CJK_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]|[^\s\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]+")
_CJK_TOKEN_WS = re.compile(r"\s+|" + _CJK_TOKEN.pattern)


@dataclass(frozen=True)
class Page:
    path: str  # package-relative id
    lang: str
    text: str


@dataclass(frozen=True)
class Doc:
    doc_id: str
    family: str  # the original's id; every other page is its own family
    kind: str  # original | copy | bp | contained | natural | template | doxygen | page
    edit_rate: float | None  # planted copies only
    lang: str
    text: str


def _extract(html: bytes) -> str:
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.encoding import bytes_to_str, detect_encoding

    return extract_plain_text(bytes_to_str(html, detect_encoding(html, from_html_meta=True)), main_content=True)


def _unpack(pkg: str) -> Path:
    root = DATA / "debs" / pkg
    if root.is_dir():
        return root
    DATA.mkdir(parents=True, exist_ok=True)
    debs = sorted(DATA.glob(f"{pkg}_*.deb"))
    if not debs:
        subprocess.run(["apt-get", "download", pkg], cwd=DATA, check=True, capture_output=True)
        debs = sorted(DATA.glob(f"{pkg}_*.deb"))
    root.mkdir(parents=True)
    subprocess.run(["dpkg", "-x", str(debs[0]), str(root)], check=True)
    return root


def _sections(text: str, words: int = 600) -> list[str]:
    """Cut a long chapter into consecutive pieces of about `words` words at line ends."""
    out, cur, n = [], [], 0
    for line in text.splitlines():
        cur.append(line)
        n += len(line.split()) or 0
        if n >= words:
            out.append("\n".join(cur))
            cur, n = [], 0
    if cur:
        out.append("\n".join(cur))
    return out


def load_pages() -> dict[str, list[Page]]:
    """Extracted pages per group (cached as JSON after the first run)."""
    if CACHE.exists():
        raw = json.loads(CACHE.read_text())
        return {g: [Page(**p) for p in ps] for g, ps in raw.items()}
    groups: dict[str, list[Page]] = {"pydoc": [], "debref": [], "stdcxx11": [], "stdcxx12": [], "doxygen": []}
    py = _unpack("python3.11-doc")
    for p in sorted(py.rglob("*.html")):
        if "_static" in p.parts:
            continue
        groups["pydoc"].append(Page(str(p.relative_to(py)), "en", _extract(p.read_bytes())))
    for loc, lang in (("en", "en"), ("de", "de"), ("ja", "ja"), ("zh-cn", "zh")):
        root = _unpack(f"debian-reference-{loc}")
        for p in sorted(root.rglob(f"*.{loc}.html")):
            for k, sec in enumerate(_sections(_extract(p.read_bytes()))):
                groups["debref"].append(Page(f"{p.name}#{k}", lang, sec))
    for v in ("11", "12"):
        root = _unpack(f"libstdc++-{v}-doc")
        man = next(root.rglob("libstdc++/manual"))
        for p in sorted(man.glob("*.html")):
            groups[f"stdcxx{v}"].append(Page(f"manual/{p.name}", "en", _extract(p.read_bytes())))
        if v == "12":
            user = next(root.rglob("libstdc++/user"))
            files = sorted(p for p in user.glob("a*.html") if "_source" not in p.name)
            for p in random.Random(12).sample(files, min(1500, len(files))):
                groups["doxygen"].append(Page(f"user/{p.name}", "en", _extract(p.read_bytes())))
    CACHE.write_text(json.dumps({g: [p.__dict__ for p in ps] for g, ps in groups.items()}))
    return groups


def _tokens(text: str, lang: str) -> list[str]:
    return _CJK_TOKEN.findall(text) if lang in ("zh", "ja") else text.split()


def _join(tokens: list[str], lang: str) -> str:
    return ("" if lang in ("zh", "ja") else " ").join(tokens)


def edit_tokens(text: str, lang: str, rate: float, vocab: dict[str, list[str]], rnd: random.Random) -> str:
    """Change `rate` of the token positions: 60% substituted, 20% deleted, 20% inserted, the new
    tokens drawn from the corpus vocabulary of that script (not from this page). CJK pages keep
    their whitespace (an untranslated English section of a Japanese page stays English text)."""
    cjk = lang in ("zh", "ja")
    parts = _CJK_TOKEN_WS.findall(text) if cjk else text.split()
    editable = [k for k, p in enumerate(parts) if not p.isspace()] if cjk else list(range(len(parts)))
    if rate <= 0 or not editable:
        return ("" if cjk else " ").join(parts)
    toks = [parts[k] for k in editable]
    own = set(toks)
    pool = vocab["cjk" if cjk else "latin"]

    def fresh() -> str:
        while True:
            w = rnd.choice(pool)
            if w not in own:
                return w

    pos = {editable[i] for i in rnd.sample(range(len(toks)), max(1, round(len(toks) * rate)))}
    out: list[str] = []
    for i, t in enumerate(parts):
        if i not in pos:
            out.append(t)
            continue
        r = rnd.random()
        if r < 0.6:
            out.append(fresh())
        elif r >= 0.8:
            out.extend([t, fresh()])
    return ("" if cjk else " ").join(out)


def with_banner_footer(text: str, rnd: random.Random) -> str:
    d = f"2025-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"
    return "\n".join([rnd.choice(BANNERS), text, rnd.choice(FOOTERS).format(d=d, y=d[:4])])


def _size(text: str, lang: str) -> int:
    return len(_tokens(text, lang))


def natural_pairs(groups: dict[str, list[Page]]) -> dict[tuple[str, str], float]:
    """(GCC 11 id, GCC 12 id) -> word-sequence similarity, for manual pages present in both."""
    v12 = {p.path: p for p in groups["stdcxx12"]}
    out = {}
    for p in groups["stdcxx11"]:
        q = v12.get(p.path)
        if q is None or _size(p.text, "en") < 50:
            continue
        out[(f"gcc11:{p.path}", f"gcc12:{q.path}")] = difflib.SequenceMatcher(
            None, p.text.split(), q.text.split(), autojunk=False).ratio()
    return out


class _FillerStream:
    """Lines of held-out pages handed out in order, each line to one container only: two containers
    never share filler text, so a container is a near duplicate of nothing but its own family."""

    def __init__(self, pages: list[tuple[str, Page]], lang: str) -> None:
        self.lines = [ln for _, p in pages for ln in p.text.splitlines() if ln.strip()]
        self.lang = lang
        self.next = 0

    def take(self, tokens: float) -> list[str]:
        out, got = [], 0
        while got < tokens:
            if self.next >= len(self.lines):
                raise RuntimeError("filler text exhausted: fewer families or more held-out pages")
            ln = self.lines[self.next]
            self.next += 1
            out.append(ln)
            got += _size(ln, self.lang)
        return out


BASE_KINDS = ("page", "original", "template", "doxygen", "natural")  # unedited pages, as found


GREY_MIN = 0.7  # natural pairs between this and NATURAL_MIN_RATIO are neither true nor false


def natural_similarities(docs: list[Doc]) -> dict[tuple[str, str], tuple[float, float, int]]:
    """(ratio, containment, tokens of the smaller page) of every pair of unedited pages (BASE_KINDS)
    whose ratio can reach GREY_MIN: ratio = difflib's ratio of the two token sequences;
    containment = the tokens of the smaller page in difflib's matching blocks / its length.
    Found exhaustively over all pairs: an independent truth for the near duplicates the corpus
    holds by itself (e.g. Doxygen pages of two classes that differ by a name, or a member list
    inside its class page).

    The multiset overlap of the tokens bounds the ratio from above (difflib's `quick_ratio`), and
    the overlap of all pairs at once is one sparse product (occurrence k of word w is one column),
    so only pairs that can reach GREY_MIN are aligned. A short page inside a page more than ~2x
    its length is therefore not looked for (its ratio is below GREY_MIN): such natural containment
    is not in the truth. Cached in bench/data."""
    import hashlib

    import numpy as np
    import scipy.sparse as sp

    base = sorted((d for d in docs if d.kind in BASE_KINDS), key=lambda d: d.doc_id)
    digest = hashlib.sha1("\0".join(f"{d.doc_id}\1{d.text}" for d in base).encode()).hexdigest()[:16]
    cache = DATA / f"dedup_natural_{digest}.json"
    if cache.exists():
        return {tuple(k.split("\t")): tuple(v) for k, v in json.loads(cache.read_text()).items()}
    columns: dict[tuple[str, int], int] = {}
    rows, cols, lens = [], [], []
    toks = [_tokens(d.text, d.lang) for d in base]
    for i, ts in enumerate(toks):
        seen: dict[str, int] = {}
        for w in ts:
            seen[w] = seen.get(w, 0) + 1
            cols.append(columns.setdefault((w, seen[w]), len(columns)))
        rows.extend([i] * len(ts))
        lens.append(len(ts))
    x = sp.csr_matrix((np.ones(len(rows), np.int32), (rows, cols)), shape=(len(base), len(columns)))
    overlap = np.triu((x @ x.T).toarray(), k=1).astype(np.float64)
    n = np.array(lens, dtype=np.float64)
    quick = 2.0 * overlap / np.maximum(n[:, None] + n[None, :], 1.0)
    a_idx, b_idx = np.nonzero(quick >= GREY_MIN)
    out: dict[tuple[str, str], tuple[float, float, int]] = {}
    for a, b in zip(a_idx.tolist(), b_idx.tolist(), strict=True):
        small, big = (a, b) if lens[a] <= lens[b] else (b, a)
        m = difflib.SequenceMatcher(None, toks[small], toks[big], autojunk=False)
        inside = sum(blk.size for blk in m.get_matching_blocks())
        ratio, cont = 2.0 * inside / max(1, lens[a] + lens[b]), inside / max(1, lens[small])
        if ratio >= GREY_MIN or cont >= GREY_MIN:
            out[(base[a].doc_id, base[b].doc_id)] = (round(ratio, 4), round(cont, 4), min(lens[a], lens[b]))
    DATA.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps({f"{a}\t{b}": v for (a, b), v in out.items()}))
    return out


def is_natural_duplicate(ratio: float, containment: float, smaller_tokens: int) -> bool:
    """A true pair: >= NATURAL_MIN_RATIO similar (difflib ratio), or a page of >= 50 tokens that lies
    >= NATURAL_MIN_RATIO inside the other (difflib's alignment): the planted range of edits."""
    return ratio >= NATURAL_MIN_RATIO or (containment >= NATURAL_MIN_RATIO and smaller_tokens >= 50)


def build(n_families: int = 300, seed: int = 1) -> tuple[list[Doc], dict[tuple[str, str], float]]:
    """The corpus and the natural pairs with their similarity (see module docstring)."""
    groups = load_pages()
    rnd = random.Random(seed)
    vocab: dict[str, set[str]] = {"latin": set(), "cjk": set()}
    for ps in groups.values():
        for p in ps:
            vocab["cjk" if p.lang in ("zh", "ja") else "latin"].update(_tokens(p.text, p.lang))
    vocab_l = {k: sorted(v) for k, v in vocab.items()}

    base = [(f"py:{p.path}", p) for p in groups["pydoc"]] + [(f"debref:{p.path}", p) for p in groups["debref"]]
    # hard negatives: unrelated short pages in one shared site template; those pages (and the
    # template's source) are held out of everything else, or a templated page would contain a
    # page of the corpus and be its true near duplicate
    tmpl_src = next(p for p in groups["pydoc"] if _size(p.text, "en") > 2 * TEMPLATE_WORDS)
    shorts = [p for p in groups["pydoc"] if 120 <= _size(p.text, "en") < 400 and p is not tmpl_src][:150]
    held = {f"py:{p.path}" for p in [tmpl_src, *shorts]}
    base = [(i, p) for i, p in base if _size(p.text, p.lang) >= 150 and i not in held]
    rnd.shuffle(base)
    # two fifths of the CJK sections and the rest of the families from the other pages; the filler
    # text of containers comes from held-out pages (never in the corpus), each line used once
    cjk = [b for b in base if b[1].lang in ("zh", "ja")]
    other = [b for b in base if b[1].lang not in ("zh", "ja")]
    n_cjk = min(len(cjk) * 2 // 5, n_families // 6)
    n_other = n_families - n_cjk
    fam = cjk[:n_cjk] + other[:n_other]
    fillers = {True: _FillerStream(cjk[n_cjk:], "zh"), False: _FillerStream(other[n_other : n_other + 200], "en")}
    used = {i for i, _ in fam} | {i for i, _ in cjk[n_cjk:]} | {i for i, _ in other[n_other : n_other + 200]}
    docs: list[Doc] = []
    for i, p in base:
        if i not in used:
            docs.append(Doc(i, i, "page", None, p.lang, p.text))
    for i, p in fam:
        docs.append(Doc(i, i, "original", None, p.lang, p.text))
        for rate in EDIT_RATES:
            docs.append(Doc(f"{i}~{rate:.2f}", i, "copy", rate, p.lang,
                            with_banner_footer(edit_tokens(p.text, p.lang, rate, vocab_l, rnd), rnd)))
        want = min(_size(p.text, p.lang), CONTAINER_FILLER_CAP / 2) * rnd.uniform(0.3, 2.0)
        filler = fillers[p.lang in ("zh", "ja")].take(want)
        cut = rnd.randint(0, len(filler))
        docs.append(Doc(f"{i}~in", i, "contained", None, p.lang, "\n".join([*filler[:cut], p.text, *filler[cut:]])))
    head = " ".join(tmpl_src.text.split()[:TEMPLATE_WORDS])
    tail = " ".join(tmpl_src.text.split()[TEMPLATE_WORDS : TEMPLATE_WORDS + 40])
    for p in shorts:
        docs.append(Doc(f"tmpl:{p.path}", f"tmpl:{p.path}", "template", None, "en", f"{head}\n{p.text}\n{tail}"))
    for p in groups["doxygen"]:
        if _size(p.text, "en") >= 30:
            docs.append(Doc(f"dox:{p.path}", f"dox:{p.path}", "doxygen", None, "en", p.text))
    for v in ("11", "12"):
        for p in groups[f"stdcxx{v}"]:
            if _size(p.text, "en") >= 50:
                docs.append(Doc(f"gcc{v}:{p.path}", f"gcc{v}:{p.path}", "natural", None, "en", p.text))
    return docs, natural_pairs(groups)
