"""Gold pages for the extraction benchmarks and for training goldpan's line classifier.

Three sets, each a list of `GoldPage` (id, set, url, html bytes, gold), split train/report by a
hash of the page id so the split is fixed and the report pages are never trained on:

- `aeb`: ScrapingHub's article-extraction-benchmark (181 real news and blog pages with their
  hand-checked article body), scored with its own metric: 4-token shingles, tp/fp/fn normalised per
  page, precision and recall averaged over pages (the figures in issue 16 were measured this way).
- `trafilatura`: trafilatura's evaluation corpus (`tests/eval`, `tests/cache`, `tests/evaldata.json`:
  ~990 real pages in many languages with text that must and must not appear), scored by its rules
  (whitespace-normalised substring matching, tp/fp/fn summed over the corpus).
- `docs`: the structural documentation gold set of `bench/extract_quality.py` (Python 3.11 docs from
  Debian's python3.11-doc and the sample site; the author-marked main container is the gold text),
  scored with bag-of-words token F1 averaged over pages.

A fourth set, `wcxb` (`wcxb_pages`), is reported on only, never trained on.

The public ones come from git repositories, brought onto this machine with the search tool's `fetch`
(`github:adbar/trafilatura`, `github:scrapinghub/article-extraction-benchmark`,
`github:tiptopjaw/web-content-extraction-benchmark`), and
are copied out of those git directories with `git archive` into `bench/data/` (gitignored):

    .venv/bin/python bench/extract_gold.py            # unpack (once) and print the set sizes
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import subprocess
import sys
import tarfile
from collections import Counter
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
DATA = ROOT / "bench" / "data"
MIRRORS = Path(os.environ.get("GOLDPAN_MIRRORS", "/work/.mirror"))
TRAF_REPO = MIRRORS / "adbar+trafilatura" / "repo"
AEB_REPO = MIRRORS / "scrapinghub+article-extraction-benchmark" / "repo"
WCXB_REPO = MIRRORS / "tiptopjaw+web-content-extraction-benchmark" / "repo"
TRAF_DIR = DATA / "trafilatura_eval"
AEB_DIR = DATA / "aeb"
WCXB_DIR = DATA / "wcxb"

# Share of each set used for training the line classifier; the rest is the report set.
TRAIN_SHARE = 0.5


@dataclass
class GoldPage:
    page_id: str
    set: str
    url: str
    html: bytes
    gold: object  # aeb/docs: the main text (str); trafilatura: {"with": [...], "without": [...]}
    charset: str | None = None

    @property
    def split(self) -> str:
        return split_of(self.page_id)


def split_of(page_id: str, share: float = TRAIN_SHARE) -> str:
    """'train' or 'report', fixed by a hash of the page id (independent of set sizes and order)."""
    h = int(hashlib.sha1(page_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "train" if h < share else "report"


def _unpack(repo: Path, paths: list[str], dest: Path) -> None:
    """`git archive HEAD <paths>` of a fetched git directory, extracted into `dest` (once)."""
    if (dest / ".complete").exists():
        return
    if not repo.is_dir():
        raise FileNotFoundError(f"{repo} missing: bring it with the search tool's fetch first")
    blob = subprocess.run(
        ["git", "--git-dir", str(repo), "archive", "--format=tar", "HEAD", *paths],
        check=True, capture_output=True,
    ).stdout
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=BytesIO(blob)) as tar:
        tar.extractall(dest, filter="data")
    commit = subprocess.run(["git", "--git-dir", str(repo), "rev-parse", "HEAD"],
                            check=True, capture_output=True, text=True).stdout.strip()
    (dest / ".complete").write_text(commit + "\n")


def trafilatura_pages() -> list[GoldPage]:
    _unpack(TRAF_REPO, ["tests/eval", "tests/cache", "tests/evaldata.json"], TRAF_DIR)
    base = TRAF_DIR / "tests"
    data = json.loads((base / "evaldata.json").read_text(encoding="utf-8"))
    out = []
    for url in sorted(data):
        item = data[url]
        for sub in ("cache", "eval"):
            f = base / sub / item["file"]
            if f.is_file():
                out.append(GoldPage("traf:" + item["file"], "trafilatura", url, f.read_bytes(),
                                    {"with": item["with"], "without": item["without"]}))
                break
    return out


def aeb_pages() -> list[GoldPage]:
    _unpack(AEB_REPO, ["html", "ground-truth.json"], AEB_DIR)
    truth = json.loads((AEB_DIR / "ground-truth.json").read_text(encoding="utf-8"))
    out = []
    for key in sorted(truth):
        html = gzip.decompress((AEB_DIR / "html" / f"{key}.html.gz").read_bytes())
        out.append(GoldPage("aeb:" + key, "aeb", truth[key].get("url") or "", html, truth[key]["articleBody"]))
    return out


def wcxb_pages() -> list[GoldPage]:
    """A 2026 web-content-extraction benchmark (`github:tiptopjaw/web-content-extraction-benchmark`):
    1,000 modern pages (articles, blogs, guides, service and product pages, some documentation and
    forums) whose gold main text an LLM wrote and people checked, scored with AEB's shingle metric as its
    README says. Report-only (`EXTRA_SETS`): the shipped model is not trained on it (a trial that did
    gained nothing, README "Extraction")."""
    _unpack(WCXB_REPO, ["release/html", "benchmark/ground-truth"], WCXB_DIR)
    out = []
    for f in sorted((WCXB_DIR / "benchmark" / "ground-truth").glob("*.json")):
        item = json.loads(f.read_text(encoding="utf-8"))
        html_path = WCXB_DIR / "release" / "html" / f"{f.stem}.html.gz"
        body = (item.get("ground_truth") or {}).get("main_content") or ""
        if html_path.is_file() and body.strip():
            out.append(GoldPage("wcxb:" + f.stem, "wcxb", item.get("url") or "",
                                gzip.decompress(html_path.read_bytes()), body))
    return out


def docs_pages() -> list[GoldPage]:
    from extract_pages import build_warc, read_pages
    from extract_quality import gold_text

    from goldpan.extract.encoding import decode_page

    out = []
    for p in read_pages(build_warc()):
        html = decode_page(p["content"], p["charset_declared"]).text
        g = gold_text(html, p["kind"])
        if g and len(g) >= 200:
            out.append(GoldPage("docs:" + p["url"], "docs", p["url"], p["content"], g, p["charset_declared"]))
    return out


# The sets the line classifier trains on (train halves) and reports on (report halves) ...
SETS = {"aeb": aeb_pages, "trafilatura": trafilatura_pages, "docs": docs_pages}
# ... and sets only reported on (`bench/extract_quality.py --sets ...,wcxb`).
EXTRA_SETS = {"wcxb": wcxb_pages}
ALL_SETS = {**SETS, **EXTRA_SETS}


# --- scoring ------------------------------------------------------------------------------------

_AEB_TOKEN = re.compile(r"\w+", re.UNICODE)


def _shingles(text: str, n: int = 4) -> Counter:
    toks = _AEB_TOKEN.findall(text or "")
    return Counter(tuple(toks[i: i + n]) for i in range(max(1, len(toks) - n + 1)) if toks[i: i + n])


def aeb_counts(pred: str, true: str) -> tuple[float, float, float]:
    """ScrapingHub's string_shingle_matching: (tp, fp, fn) over 4-token shingles, normalised."""
    t, p = _shingles(true), _shingles(pred)
    tp = sum((t & p).values())
    fp = sum((p - t).values())
    fn = sum((t - p).values())
    s = tp + fp + fn
    return (tp / s, fp / s, fn / s) if s else (0.0, 0.0, 0.0)


def aeb_scores(counts: list[tuple[float, float, float]]) -> dict:
    """Mean per-page precision and recall (the benchmark's rules), F1 of the two means."""
    def prec(tp, fp, fn):
        return 1.0 if fp == fn == 0 else (0.0 if tp == fp == 0 else tp / (tp + fp))

    def rec(tp, fp, fn):
        return 1.0 if fp == fn == 0 else (0.0 if tp == fn == 0 else tp / (tp + fn))

    ps = [prec(*c) for c in counts if c[0] + c[1] > 0]
    rs = [rec(*c) for c in counts if c[0] + c[2] > 0]
    p = sum(ps) / len(ps) if ps else 0.0
    r = sum(rs) / len(rs) if rs else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def trafilatura_counts(pred: str, item: dict) -> tuple[int, int, int, int]:
    """trafilatura's count_item: (tp, fp, fn, tn) by whitespace-normalised substring matching."""
    res = _norm(pred or "")
    tp = sum(1 for w in item["with"] if _norm(w) in res)
    fp = sum(1 for w in item["without"] if _norm(w) in res)
    return tp, fp, len(item["with"]) - tp, len(item["without"]) - fp


def trafilatura_scores(counts: list[tuple[int, int, int, int]]) -> dict:
    tp = sum(c[0] for c in counts)
    fp = sum(c[1] for c in counts)
    fn = sum(c[2] for c in counts)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"precision": p, "recall": r, "f1": 2 * tp / (2 * tp + fp + fn) if tp else 0.0}


def docs_counts(pred: str, true: str):
    from goldpan.extract.compare import token_prf

    return token_prf(pred, true)


def docs_scores(counts) -> dict:
    n = len(counts) or 1
    return {k: sum(getattr(c, k) for c in counts) / n for k in ("precision", "recall", "f1")}


SCORERS = {
    "aeb": (aeb_counts, aeb_scores),
    "trafilatura": (trafilatura_counts, trafilatura_scores),
    "docs": (docs_counts, docs_scores),
    "wcxb": (aeb_counts, aeb_scores),
}


def score(set_name: str, preds: list[str], pages: list[GoldPage]) -> dict:
    counts_fn, scores_fn = SCORERS[set_name]
    return scores_fn([counts_fn(p, g.gold) for p, g in zip(preds, pages)])


def main() -> int:
    for name, fn in ALL_SETS.items():
        pages = fn()
        n_train = sum(p.split == "train" for p in pages)
        print(f"{name:<12} pages={len(pages):>5} train={n_train:>5} report={len(pages) - n_train:>5}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
