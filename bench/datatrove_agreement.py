"""goldpan's heuristic filter vs datatrove 0.10.1 on the same English documents: agreement and speed.

What it does:
1. Creates `bench/.venv-datatrove` (datatrove==0.10.1, spaCy, regex from PyPI) unless it exists:
   datatrove pins old dependencies, so it never enters the project's venv.
2. Collects real pages: the HTML of Debian's `python3.11-doc` (fetched once with `apt-get download`
   + `dpkg -x` into bench/out/cache), the bundled sample site, and any `--html-dir`. Extracts them
   with goldpan's extractor, so both sides judge the same text; keeps English documents.
3. goldpan: every signal in one pass (`compute_signal_batch`, every column of `SIGNAL_COLUMNS` incl. C4, FineWeb, PII) in
   a fresh process (cold caches), then the default rules.
4. datatrove (`bench/datatrove_worker.py` in its venv): GopherRepetitionFilter, GopherQualityFilter,
   C4QualityFilter as FineWeb runs it (filter_no_terminal_punct=False) and with datatrove's default,
   and FineWebQualityFilter on the text that C4 kept (the order of datatrove's examples/fineweb.py).
5. Prints agreement per rule set (and whether datatrove's reason is among goldpan's failed rules),
   lists every disagreement, and prints docs/s for goldpan's pass vs datatrove's four filters.
   Writes bench/out/datatrove_agreement.json.

`--quick` uses at most 120 documents. Speeds are documents per CPU-second of each process
(`time.process_time`): the machine is shared by several jobs, so wall time mostly measures them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUT = BENCH / "out"
CACHE = OUT / "cache"
DT_VENV = BENCH / ".venv-datatrove"
DT_PINS = ["datatrove==0.10.1", "spacy==3.8.18", "regex"]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

RULE_SETS = ("gopher_quality", "gopher_repetition", "c4", "c4_strict", "fineweb")

# datatrove's drop reasons -> goldpan rule names (the reason is the first rule datatrove failed).
DT_REASONS = {
    "gopher_short_doc": "gopher_min_words",
    "gopher_long_doc": "gopher_max_words",
    "gopher_below_avg_threshold": "gopher_mean_word_length_min",
    "gopher_above_avg_threshold": "gopher_mean_word_length_max",
    "gopher_too_many_hashes": "gopher_hash_ratio",
    "gopher_too_many_ellipsis": "gopher_ellipsis_ratio",
    "gopher_too_many_bullets": "gopher_bullet_lines",
    "gopher_too_many_end_ellipsis": "gopher_ellipsis_lines",
    "gopher_below_alpha_threshold": "gopher_alpha_words",
    "gopher_enough_stop_words": "gopher_stop_words",
    "dup_para_frac": "gopher_dup_para_frac",
    "dup_para_char_frac": "gopher_dup_para_char_frac",
    "dup_line_frac": "gopher_dup_line_frac",
    "dup_line_char_frac": "gopher_dup_line_char_frac",
    **{f"top_{n}_gram": f"gopher_top_{n}gram" for n in (2, 3, 4)},
    **{f"duplicated_{n}_n_grams": f"gopher_dup_{n}gram" for n in range(5, 11)},
    "lorem_ipsum": "c4_lorem_ipsum",
    "curly_bracket": "c4_curly_bracket",
    "too_few_sentences": "c4_min_sentences",
    "line_punct_ratio": "fineweb_line_punct_ratio",
    "empty": "fineweb_line_punct_ratio",
    "short_line_ratio": "fineweb_short_line_ratio",
    "char_dup_ratio": "fineweb_char_dup_ratio",
    "list_ratio": "fineweb_list_ratio",
}


def rule_set_of(rule: str) -> str:
    if rule.startswith(("gopher_dup_", "gopher_top_")):
        return "gopher_repetition"
    if rule.startswith("gopher_"):
        return "gopher_quality"
    if rule.startswith("c4_"):
        return "c4"
    return "fineweb"


# --- environment and documents -------------------------------------------------------------------


def ensure_datatrove_venv(extra: list[str] | None = None) -> Path:
    """The datatrove venv, created or completed with `extra` pins (e.g. the WARC reader and trafilatura
    that bench/end_to_end.py's full FineWeb pipeline needs)."""
    py = DT_VENV / "bin" / "python"
    pins = DT_PINS + list(extra or [])
    modules = ["datatrove", "spacy", "regex"] + [_module_of(p) for p in extra or []]
    ok = py.exists() and subprocess.run([str(py), "-c", "import " + ", ".join(modules)],
                                        capture_output=True, check=False).returncode == 0
    if not ok:
        print(f"creating {DT_VENV} ({' '.join(pins)}) ...", flush=True)
        if not py.exists():
            subprocess.run([sys.executable, "-m", "venv", str(DT_VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *pins],
                       check=True)
    return py


def _module_of(pin: str) -> str:
    """The import name of a pip requirement ("fasttext-numpy2==0.10.4" -> "fasttext")."""
    name = pin.split("=")[0].split(">")[0].split("<")[0].strip().lower()
    return {"fasttext-numpy2": "fasttext", "fasttext-numpy2-wheel": "fasttext", "faust-cchardet": "cchardet",
            "python-magic": "magic"}.get(name, name.replace("-", "_"))


def debian_python_doc_html() -> list[Path]:
    """HTML pages of Debian's python3.11-doc (real documentation pages), downloaded once."""
    root = CACHE / "python3.11-doc"
    html = root / "x" / "usr" / "share" / "doc" / "python3.11" / "html"
    if not html.exists():
        root.mkdir(parents=True, exist_ok=True)
        subprocess.run(["apt-get", "download", "python3.11-doc"], cwd=root, check=True, capture_output=True)
        deb = next(root.glob("python3.11-doc_*.deb"))
        subprocess.run(["dpkg", "-x", str(deb), str(root / "x")], check=True)
    return sorted(p for p in html.rglob("*.html") if "_static" not in p.parts)


def collect_documents(html_dirs: list[Path], use_debian: bool, limit: int | None) -> list[dict]:
    from run_all import sample_pages

    from goldpan.extract.langid import LanguageIdentifier
    from goldpan.extract.stage import extract_documents

    pages = [dict(p, page_id=f"sample-{i}", batch_id="agree") for i, p in enumerate(sample_pages())]
    files: list[Path] = debian_python_doc_html() if use_debian else []
    for d in html_dirs:
        files += sorted(d.rglob("*.html")) + sorted(d.rglob("*.htm"))
    if limit:  # extraction is the slow part: do not extract far more pages than will be judged
        files = files[: max(0, limit + limit // 4 - len(pages))]
    for i, f in enumerate(files):
        pages.append({"url": f.as_uri(), "content": f.read_bytes(), "content_type": "text/html",
                      "charset_declared": None, "host": "local", "page_id": f"file-{i}", "batch_id": "agree"})
    # Extraction (incl. extract's own word and sentence counts) dominates the run: cache its output
    # per page set, so re-running the comparison after a filter change takes seconds.
    key = hashlib.sha1("\n".join(p["url"] + str(len(p["content"])) for p in pages).encode()).hexdigest()[:16]
    cached = CACHE / f"extracted-{key}.jsonl"
    if cached.exists():
        with cached.open(encoding="utf-8") as lines:
            docs = [json.loads(line) for line in lines]
    else:
        print(f"extracting {len(pages)} pages with goldpan's extractor ...", flush=True)
        docs = [d for d in extract_documents(pages, LanguageIdentifier()) if d["status"] == "kept" and d["lang"] == "en"]
        docs = [{"doc_id": d["doc_id"], "url": d["url"], "lang": "en", "text": d["text"]} for d in docs]
        CACHE.mkdir(parents=True, exist_ok=True)
        with open(cached, "w", encoding="utf-8") as f:
            for d in docs:
                f.write(json.dumps(d, ensure_ascii=False) + "\n")
    return docs[:limit] if limit else docs


# --- the two sides -------------------------------------------------------------------------------


def goldpan_pass(in_path: str, out_path: str) -> int:
    """Child process: all signals of every document, timed from cold caches, then the decisions."""
    from goldpan.filter.defaults import DATATROVE_RULES_CONFIG
    from goldpan.filter.rules import RuleSet, decide_batch, merge_rules_config
    from goldpan.filter.signals import compute_signal_batch
    from goldpan.text.tokenize import tokens

    with open(in_path, encoding="utf-8") as lines:
        docs = [json.loads(line) for line in lines]
    tokens("warm up the spaCy tokenizer.", "en")  # model load outside the timing, as for datatrove
    clock = time.process_time  # CPU seconds: on a shared machine wall time measures the neighbours
    t0, w0 = clock(), time.perf_counter()
    batch = compute_signal_batch(docs)
    t_signals, wall = clock() - t0, time.perf_counter() - w0
    rows = batch.to_pylist()
    t0 = clock()
    default = list(decide_batch(rows, RuleSet.default(), "bench"))
    t_decide = clock() - t0
    strict_cfg = merge_rules_config(DATATROVE_RULES_CONFIG, {"default": {
        r: {"filter_no_terminal_punct": True} for r in ("c4_lorem_ipsum", "c4_curly_bracket", "c4_min_sentences")}})
    strict = [r for r in decide_batch(rows, RuleSet.from_config(strict_cfg), "bench") if r["rule"].startswith("c4_")]
    out = {"seconds_signals": t_signals, "wall_seconds_signals": wall, "seconds_decisions": t_decide, "n_docs": len(docs),
           "failures": {}, "failures_c4_strict": {}, "errors": [r["doc_id"] for r in rows if r["status"] != "kept"]}
    for key, rejs in (("failures", default), ("failures_c4_strict", strict)):
        for r in rejs:
            out[key].setdefault(r["doc_id"], []).append([r["rule"], r["value"], r["op"], r["threshold"]])
    Path(out_path).write_text(json.dumps(out))
    return 0


def compare(docs: list[dict], gp: dict, dt: dict) -> dict:
    by_id = {d["doc_id"]: d for d in docs}
    stats = {rs: {"docs": 0, "agree": 0, "dt_drop": 0, "gp_drop": 0, "both_drop": 0, "reason_match": 0}
             for rs in (*RULE_SETS, "pipeline")}
    disagreements = []
    for doc_id, d in by_id.items():
        dtd = dt["docs"][doc_id]
        fails: dict[str, list] = {}
        for f in gp["failures"].get(doc_id, []):
            fails.setdefault(rule_set_of(f[0]), []).append(f)
        fails["c4_strict"] = gp["failures_c4_strict"].get(doc_id, [])
        gp_keep_all = True
        for rs in RULE_SETS:
            if rs not in dtd:  # FineWeb only sees documents that C4 kept (datatrove's pipeline order)
                continue
            dt_keep, dt_reason = dtd[rs]
            gp_keep = not fails.get(rs)
            if rs != "c4_strict":
                gp_keep_all &= gp_keep
            s = stats[rs]
            s["docs"] += 1
            s["agree"] += dt_keep == gp_keep
            s["dt_drop"] += not dt_keep
            s["gp_drop"] += not gp_keep
            if not dt_keep and not gp_keep:
                s["both_drop"] += 1
                s["reason_match"] += DT_REASONS.get(dt_reason) in {f[0] for f in fails[rs]}
            if dt_keep != gp_keep:
                disagreements.append({"rule_set": rs, "url": d["url"], "doc_id": doc_id,
                                      "datatrove": "keep" if dt_keep else f"drop ({dt_reason})",
                                      "goldpan": "keep" if gp_keep else fails[rs]})
        dt_keep_all = all(dtd[rs][0] for rs in ("gopher_repetition", "gopher_quality", "c4")) and dtd.get(
            "fineweb", [True])[0]
        s = stats["pipeline"]
        s["docs"] += 1
        s["agree"] += dt_keep_all == gp_keep_all
        s["dt_drop"] += not dt_keep_all
        s["gp_drop"] += not gp_keep_all
    return {"stats": stats, "disagreements": disagreements}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="at most 120 documents")
    ap.add_argument("--max-docs", type=int)
    ap.add_argument("--html-dir", type=Path, action="append", default=[], help="more HTML to include")
    ap.add_argument("--no-debian", action="store_true", help="skip the python3.11-doc pages")
    ap.add_argument("--goldpan-pass", nargs=2, metavar=("IN", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.goldpan_pass:
        return goldpan_pass(*args.goldpan_pass)

    OUT.mkdir(parents=True, exist_ok=True)
    dt_py = ensure_datatrove_venv()
    limit = args.max_docs or (120 if args.quick else None)
    docs = collect_documents(args.html_dir, not args.no_debian, limit)
    docs_path = OUT / "datatrove_docs.jsonl"
    with open(docs_path, "w", encoding="utf-8") as f:
        f.writelines(json.dumps(d, ensure_ascii=False) + "\n" for d in docs)
    n_chars = sum(len(d["text"]) for d in docs)
    print(f"{len(docs)} English documents, {n_chars / 1e6:.2f} M characters (mean {n_chars // max(1, len(docs))})",
          flush=True)

    env = dict(os.environ, OMP_NUM_THREADS="1")
    gp_out, dt_out = OUT / "goldpan_signals_run.json", OUT / "datatrove_run.json"
    subprocess.run([sys.executable, __file__, "--goldpan-pass", str(docs_path), str(gp_out)], check=True, env=env)
    subprocess.run([str(dt_py), str(BENCH / "datatrove_worker.py"), str(docs_path), str(dt_out)], check=True, env=env)
    gp, dt = json.loads(gp_out.read_text()), json.loads(dt_out.read_text())
    res = compare(docs, gp, dt)

    print(f"\n{'rule set':<20}{'docs':>6}{'agree':>8}{'agree %':>9}{'dt drop':>9}{'gp drop':>9}{'reason ok':>11}")
    for rs, s in res["stats"].items():
        pct = 100 * s["agree"] / s["docs"] if s["docs"] else float("nan")
        s["agree_pct"] = round(pct, 2)
        reason = f"{s['reason_match']}/{s['both_drop']}" if rs != "pipeline" else "-"
        print(f"{rs:<20}{s['docs']:>6}{s['agree']:>8}{pct:>8.2f}%{s['dt_drop']:>9}{s['gp_drop']:>9}{reason:>11}")
    print("(c4 = C4QualityFilter(filter_no_terminal_punct=False) as in FineWeb; c4_strict = datatrove's default;"
          " fineweb = on the text C4 kept, for documents C4 kept; pipeline = GopherRep+GopherQuality+C4+FineWeb)")
    print(f"\ndisagreements: {len(res['disagreements'])}")
    for x in res["disagreements"]:
        print(f"  [{x['rule_set']}] {x['url']}\n      datatrove: {x['datatrove']}\n      goldpan:   {x['goldpan']}")

    n = len(docs)
    dt_four = sum(dt["seconds"][k] for k in ("gopher_repetition", "gopher_quality", "c4", "fineweb"))
    speed = {
        "goldpan_signals_docs_per_s": n / gp["seconds_signals"],
        "goldpan_decisions_docs_per_s": n / gp["seconds_decisions"] if gp["seconds_decisions"] else None,
        "datatrove_four_filters_docs_per_s": n / dt_four,
        "datatrove_pipeline_docs_per_s": n / dt["seconds"]["pipeline"],
        "datatrove_seconds": dt["seconds"],
        "goldpan_seconds_signals": gp["seconds_signals"],
    }
    speed["ratio_vs_four_filters"] = speed["goldpan_signals_docs_per_s"] / speed["datatrove_four_filters_docs_per_s"]
    speed["ratio_vs_pipeline"] = speed["goldpan_signals_docs_per_s"] / speed["datatrove_pipeline_docs_per_s"]
    print("\nthroughput, one process each, per CPU-second of that process (1 core; shared machine):")
    from goldpan.filter.signals import SIGNAL_COLUMNS

    print(f"  goldpan all signals ({len(SIGNAL_COLUMNS)} columns, one pass)     {speed['goldpan_signals_docs_per_s']:>9.1f} docs/s")
    print(f"  goldpan decisions over stored signals           {speed['goldpan_decisions_docs_per_s']:>9.1f} docs/s")
    for k in ("gopher_repetition", "gopher_quality", "c4", "fineweb"):
        print(f"  datatrove {k:<38}{n / dt['seconds'][k]:>9.1f} docs/s")
    print(f"  datatrove four filters, every document          {speed['datatrove_four_filters_docs_per_s']:>9.1f} docs/s")
    print(f"  datatrove FineWeb pipeline (survivors only)     {speed['datatrove_pipeline_docs_per_s']:>9.1f} docs/s")
    print(f"  ratio goldpan / datatrove four filters          {speed['ratio_vs_four_filters']:>9.1f}x")
    print(f"  ratio goldpan / datatrove pipeline              {speed['ratio_vs_pipeline']:>9.1f}x")
    (OUT / "datatrove_agreement.json").write_text(json.dumps(
        {"n_docs": n, "n_chars": n_chars, "stats": res["stats"], "disagreements": res["disagreements"],
         "speed": speed, "errors": gp["errors"]}, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
