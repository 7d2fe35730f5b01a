"""The near-duplicate benchmark corpus: real documentation pages plus planted near-duplicates.

Real text: the Python 3.11 documentation HTML from Debian (`apt-get download python3.11-doc`, then
`dpkg -x` into bench/data, which is gitignored; done on first use), main text extracted with
resiliparse. Each of `n_families` long pages gets copies at word edit rates 1%..30% (scattered
substitutions, deletions and insertions, the hard case for word shingles) and each copy also gets
a different header and footer (navigation, cookie and newsletter lines): the "boilerplate changes"
of real re-publications. One extra copy per family changes only the boilerplate.
"""

from __future__ import annotations

import glob
import random
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
TEMPLATE_WORDS = 400
EDIT_RATES = [0.01, 0.02, 0.03, 0.05, 0.08, 0.10, 0.15, 0.20, 0.30]

HEADERS = [
    "Skip to main content | Home | Documentation | Downloads | Community | Search",
    "We use cookies to improve your experience. By continuing you accept our cookie policy.",
    "Navigation: index | modules | next | previous | Python 3.11 documentation",
    "Sign up for our newsletter and never miss an update from the team.",
    "This page is a mirror of the official documentation, provided for your convenience.",
    "Theme: Auto Light Dark | Table of contents | Previous topic | Next topic | This page",
]
FOOTERS = [
    "Copyright 2001-2023, Python Software Foundation. All rights reserved.",
    "Found a bug? Report it on our tracker. Last updated on the date shown above.",
    "Share this page: Twitter Facebook LinkedIn Email Print",
    "Mirror maintained by volunteers. Hosting sponsored by a friendly company.",
    "Back to top | Privacy | Terms of use | Contact | Accessibility",
]


@dataclass(frozen=True)
class Doc:
    doc_id: str
    family: str  # the original's id; originals are their own family
    edit_rate: float | None  # None for originals, 0.0 for boilerplate-only copies
    text: str


def ensure_pydoc() -> Path:
    root = DATA / "pydoc"
    html = root / "usr/share/doc/python3.11/html"
    if html.is_dir():
        return html
    DATA.mkdir(parents=True, exist_ok=True)
    debs = glob.glob(str(DATA / "python3.11-doc_*.deb"))
    if not debs:
        subprocess.run(["apt-get", "download", "python3.11-doc"], cwd=DATA, check=True)
        debs = glob.glob(str(DATA / "python3.11-doc_*.deb"))
    subprocess.run(["dpkg", "-x", debs[0], str(root)], check=True)
    return html


def extract_pages(min_words: int = 300, max_words: int = 4000) -> list[tuple[str, str]]:
    """(relative path, main text) of every doc page with at least `min_words` words, sorted by path.
    Long pages are cut at `max_words` words so a few giant pages do not dominate the timings."""
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.encoding import bytes_to_str, detect_encoding

    html = ensure_pydoc()
    out = []
    for p in sorted(html.rglob("*.html")):
        b = p.read_bytes()
        text = extract_plain_text(bytes_to_str(b, detect_encoding(b, from_html_meta=True)), main_content=True)
        words = text.split()
        if len(words) >= min_words:
            if len(words) > max_words:
                text = " ".join(words[:max_words])
            out.append((str(p.relative_to(html)), text))
    return out


def edit_words(text: str, rate: float, rnd: random.Random) -> str:
    """Change `rate` of the words at scattered positions: 60% substituted, 20% deleted, 20% inserted."""
    ws = text.split(" ")
    n = max(1, round(len(ws) * rate))
    pos = set(rnd.sample(range(len(ws)), min(n, len(ws))))
    out: list[str] = []
    for i, w in enumerate(ws):
        if i in pos:
            r = rnd.random()
            if r < 0.6:
                out.append(f"w{rnd.randrange(10**6)}")
            elif r < 0.8:
                continue
            else:
                out.extend([w, f"ins{rnd.randrange(10**6)}"])
        else:
            out.append(w)
    return " ".join(out)


def with_boilerplate(text: str, rnd: random.Random) -> str:
    head = rnd.sample(HEADERS, 2)
    foot = rnd.sample(FOOTERS, 2)
    return "\n".join([*head, text, *foot])


def build(n_families: int = 150, seed: int = 1) -> list[Doc]:
    pages = extract_pages()
    rnd = random.Random(seed)
    docs = [Doc(f"orig:{path}", f"orig:{path}", None, text) for path, text in pages]
    # Hard negatives: short, unrelated pages inside one shared site template (a long navigation
    # sidebar), so whole-page similarity is high while the content differs. A matcher without
    # verification chains them into clusters; each is its own family here.
    template = " ".join(pages[0][1].split()[:TEMPLATE_WORDS])
    for path, text in extract_pages(min_words=60, max_words=250):
        if len(text.split()) < 250:
            docs.append(Doc(f"tmpl:{path}", f"tmpl:{path}", None, f"{template}\n{text}\n{template[:300]}"))
    fam = rnd.sample(range(len(pages)), min(n_families, len(pages)))
    for k in sorted(fam):
        path, text = pages[k]
        fid = f"orig:{path}"
        docs.append(Doc(f"copy:{path}:bp", fid, 0.0, with_boilerplate(text, rnd)))
        for rate in EDIT_RATES:
            docs.append(Doc(f"copy:{path}:{rate:.2f}", fid, rate, with_boilerplate(edit_words(text, rate, rnd), rnd)))
    return docs
