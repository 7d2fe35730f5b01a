"""Tokenizer speed before/after the exact fast path, and its agreement with plain spaCy.

Text (real, offline): the shipped reference text (goldpan/data/reference/*.jsonl, English part),
the HTML of Debian's python3.11-doc when present (bench/data/pydoc or bench/out/cache, extracted
with resiliparse main-content as the extract stage does), and the sample site's pages.

Measures, in CPU-seconds of this process (the machine is shared):
- chunks/s on every unique whitespace chunk: plain `nlp.tokenizer(chunk)` vs goldpan's fast path
  with spaCy fallback (i.e. the cost of a chunk-cache miss);
- docs/s tokenising every document line by line the way extract's counts and the filter do, each
  side starting from an empty chunk cache: "before" = chunk cache + spaCy per miss (the previous
  goldpan.text.tokenize), "after" = chunk cache + fast path;
- agreement: share of unique chunks whose tokens are identical to spaCy's (must be 100 %), and the
  share the fast path answered without spaCy.

`--quick` caps the documents at 400. Writes bench/out/tokenize_speed.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))


def load_texts(limit: int | None) -> dict[str, list[str]]:
    from resiliparse.extract.html2text import extract_plain_text

    from goldpan.text.tokenize import cjk_ratio

    ref = []
    for path in sorted((ROOT / "goldpan" / "data" / "reference").glob("*.jsonl")):
        with open(path, encoding="utf-8") as f:
            ref.extend(json.loads(line)["text"] for line in f if line.strip())
    ref = [t for t in ref if cjk_ratio(t) < 0.05]
    html_files: list[Path] = []
    for base in (ROOT / "bench" / "data" / "pydoc", ROOT / "bench" / "out" / "cache" / "python3.11-doc"):
        if base.exists():
            html_files = sorted(base.rglob("*.html"))
            break
    pydoc = []
    for path in html_files[: limit or None]:
        pydoc.append(
            extract_plain_text(path.read_text(encoding="utf-8", errors="replace"), main_content=True)
        )
    site = [
        extract_plain_text(p.read_text(encoding="utf-8", errors="replace"), main_content=True)
        for p in sorted((ROOT / "sample" / "site").rglob("*.html"))
    ]
    if limit:
        ref = ref[:limit]
    return {"reference": ref, "pydoc": [t for t in pydoc if t.strip()], "sample_site": site}


def tokenize_docs(docs: list[str], split_chunk) -> int:
    """Line-by-line tokenisation as counts.py / signals.py do it; returns the token count."""
    n = 0
    for doc in docs:
        for line in doc.split("\n"):
            for chunk in line.split():
                n += len(split_chunk(chunk))
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="at most 400 documents per source")
    args = ap.parse_args()

    import spacy

    from goldpan.text.spacy_fast import FastChunkTokenizer

    sources = load_texts(400 if args.quick else None)
    tok = spacy.blank("en").tokenizer
    fast = FastChunkTokenizer(tok, english_shortcut=True)
    rows = []
    for name, docs in [*sources.items(), ("all", [d for ds in sources.values() for d in ds])]:
        chunks = sorted({c for d in docs for c in d.split()})
        if not chunks:
            continue
        t0 = time.process_time()
        ref = [[t.text for t in tok(c)] for c in chunks]
        t1 = time.process_time()
        got = []
        for c in chunks:
            g = fast(c)
            got.append([t.text for t in tok(c)] if g is None else g)
        t2 = time.process_time()
        answered = sum(fast(c) is not None for c in chunks)
        agree = sum(g == r for g, r in zip(got, ref))

        # Fresh spaCy tokenizers too: spaCy keeps its own chunk cache, warmed by the pass above.
        tok_before, tok_after = spacy.blank("en").tokenizer, spacy.blank("en").tokenizer
        fast = FastChunkTokenizer(tok_after, english_shortcut=True)

        def before_chunk(chunk, _tok=tok_before):
            return tuple(t.text for t in _tok(chunk))

        def after_chunk(chunk, _fast=fast, _tok=tok_after):
            out = _fast(chunk)
            return tuple(t.text for t in _tok(chunk)) if out is None else tuple(out)

        # Fresh caches on both sides (same size as goldpan.text.tokenize's).
        before = lru_cache(maxsize=200_000)(before_chunk)
        after = lru_cache(maxsize=200_000)(after_chunk)
        t3 = time.process_time()
        n_before = tokenize_docs(docs, before)
        t4 = time.process_time()
        n_after = tokenize_docs(docs, after)
        t5 = time.process_time()
        assert n_before == n_after
        rows.append(
            {
                "source": name,
                "docs": len(docs),
                "unique_chunks": len(chunks),
                "tokens": n_after,
                "chunks_per_s_spacy": len(chunks) / max(t1 - t0, 1e-9),
                "chunks_per_s_fast": len(chunks) / max(t2 - t1, 1e-9),
                "docs_per_s_before": len(docs) / max(t4 - t3, 1e-9),
                "docs_per_s_after": len(docs) / max(t5 - t4, 1e-9),
                "agreement": agree / len(chunks),
                "answered_without_spacy": answered / len(chunks),
            }
        )
    hdr = (
        f"{'source':<12} {'docs':>5} {'chunks':>7} {'chunk/s spaCy':>13} {'chunk/s fast':>12} "
        f"{'docs/s before':>13} {'docs/s after':>12} {'speedup':>7} {'agree':>7} {'no-spaCy':>8}"
    )
    print(hdr)
    for r in rows:
        print(
            f"{r['source']:<12} {r['docs']:>5} {r['unique_chunks']:>7} {r['chunks_per_s_spacy']:>13.0f} "
            f"{r['chunks_per_s_fast']:>12.0f} {r['docs_per_s_before']:>13.1f} {r['docs_per_s_after']:>12.1f} "
            f"{r['docs_per_s_after'] / r['docs_per_s_before']:>6.2f}x {r['agreement']:>7.2%} "
            f"{r['answered_without_spacy']:>8.1%}"
        )
    print(
        "CPU-seconds of this process (time.process_time); the machine is shared, wall time is not reported."
    )
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "tokenize_speed.json").write_text(json.dumps({"quick": args.quick, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
