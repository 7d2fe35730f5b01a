"""Multilingual filter benchmark: real documentation pages kept, spam removed, language ID, per language.

Material: >= 3,000 real documentation pages in 20 languages from Debian packages (`bench/realdocs.py`:
LibreOffice help, Debian manuals, PostgreSQL/Python manuals), extracted by goldpan's extract stage
(resiliparse + lid.176 language ID), deduplicated by exact text; plus the spam set `goldpan.filter.spam`
builds from each language's own pages (keyword stuffing, lorem ipsum, navigation-only,
boilerplate-only, repeated lines, word salad, and held-out kinds). As in the pipeline, goldpan's dedup
stage (URL, exact and near-duplicate clusters, then paragraphs found in >= 3 documents removed and a page
left with < 200 characters rejected; the recipe's dedup section) runs over real pages and spam together
before the filter; a real page it rejects does not reach the filter (the keep rate is over the
deduplicated pages reaching the filter, as in issue 17), a spam page it rejects counts as removed for
every filter compared.

Compared on the same documents, in one run:
- goldpan multilingual mode (the default recipe: per-language FineWeb-2 thresholds, prose lines, code
  pages judged by the code section);
- goldpan datatrove mode (FineWeb's English rules for every language, whole text);
- datatrove 0.10.1's FineWeb filters (GopherRepetition -> GopherQuality -> C4(FineWeb setting) ->
  FineWebQuality, each on the survivors, in `bench/.venv-datatrove`) as FineWeb runs them.

Language ID accuracy: the stored `lang` against the package's language, where a page the translators
left in English (no letter of the package's script, or far more English stop words than the package
language's) counts as English. That reference is independent of lid.176.

    python bench/filter_multilingual.py [--pages 3200] [--quick] [--no-datatrove] [--out bench/out/filter_multilingual.json]
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from realdocs import real_pages

from goldpan.dedup.clusters import BatchDeduplicator, DedupInput, MemoryPriorStore
from goldpan.dedup.stage import dedup_config
from goldpan.extract.langid import LanguageIdentifier, letter_weight, main_lines
from goldpan.extract.stage import extract_documents, language_profile
from goldpan.filter.defaults import DATATROVE_RULES_CONFIG
from goldpan.filter.rules import RuleSet, ruleset_from_section
from goldpan.filter.signals import compute_signals
from goldpan.filter.spam import ALL_KINDS, HELD_OUT_KINDS, SPAM_KINDS, spam_set
from goldpan.filter.stopwords import GOPHER_STOP_WORDS_EN, stop_words_for
from goldpan.recipe import DedupSection, ExtractSection, FilterSection
from goldpan.text.scripts import script_counts

OUT = BENCH / "out"
DT_VENV = BENCH / ".venv-datatrove"
# The script a translated page of the language must be written in (Latin-script languages: None).
LANG_SCRIPTS = {"zh": {"Han"}, "ja": {"Han", "Hiragana", "Katakana"}, "ko": {"Hangul"}, "ru": {"Cyrillic"},
                "el": {"Greek"}, "hi": {"Devanagari"}}
_EN_REF = GOPHER_STOP_WORDS_EN | {"is", "for", "in", "this", "a", "are", "on", "you", "can", "or"}


def base_lang(lang: str) -> str:
    return lang.split("-")[0]


def reference_lang(text: str, package_lang: str) -> str:
    """The page's real language, independent of lid.176: the package's, unless it is untranslated English."""
    lang = base_lang(package_lang)
    if lang == "en":
        return "en"
    scripts = script_counts(text)
    letters = sum(scripts.values()) or 1
    if lang in LANG_SCRIPTS:
        own = sum(scripts[s] for s in LANG_SCRIPTS[lang])
        return lang if own / letters >= 0.15 else ("en" if scripts["Latin"] / letters > 0.8 else lang)
    words = [w.strip(".,;:()\"'!?").lower() for w in text.split()]
    own_stop = stop_words_for(lang) or frozenset()
    n_own = sum(1 for w in words if w in own_stop)
    n_en = sum(1 for w in words if w in _EN_REF)
    return "en" if n_en >= 5 and n_en > 3 * max(n_own, 1) else lang


def _line_lang(line: str, lang: str, own_stop: frozenset[str]) -> str | None:
    """`lang`, "en" or None (undecided) for one prose line, by script and stop words (not lid.176).

    English needs two English stop words in a Latin-script line, so code that the code-line detector
    missed (`Dim oForm As Object`) and untranslated names in a heading decide nothing.
    """
    scripts = script_counts(line)
    letters = sum(scripts.values()) or 1
    words = [w.strip(".,;:()\"'!?«»“”").lower() for w in line.split()]
    n_en = sum(1 for w in words if w in _EN_REF)
    if lang in LANG_SCRIPTS:
        if sum(scripts[s] for s in LANG_SCRIPTS[lang]) / letters >= 0.3:
            return lang
        return "en" if n_en >= 2 and scripts["Latin"] / letters >= 0.7 else None
    n_own = sum(1 for w in words if w in own_stop)
    if n_own > n_en:
        return lang
    return "en" if n_en > n_own and n_en >= 2 else None


def reference_lang_majority(text: str, package_lang: str) -> str:
    """The page's real language as the language of most of its prose, independent of lid.176.

    Each prose line (goldpan's code-line detector leaves code out; >= 20 letters) is called the package
    language or English by its script (CJK, Cyrillic, Greek...) or, in Latin script, by which stop
    words it holds more of; lines are weighted by letters, a CJK character as 2.5 letters (a
    translation into Chinese, Japanese or Korean is 2-3 times shorter in characters). The page is
    English when English lines hold the majority, else the package's language. This counts a partly
    translated page as the language most of it is in, where `reference_lang` calls it English only when
    English stop words outnumber the package's three to one.
    """
    return reference_majority(text, package_lang)[0]


def reference_majority(text: str, package_lang: str) -> tuple[str, float]:
    """(`reference_lang_majority`, the share of the decided prose in that language; 1.0 if undecided)."""
    lang = base_lang(package_lang)
    if lang == "en":
        return "en", 1.0
    own_stop = stop_words_for(lang) or frozenset()
    weight = {lang: 0.0, "en": 0.0}
    for line in main_lines(text):
        got = _line_lang(line, lang, own_stop)
        if got:
            weight[got] += letter_weight(line)
    total = weight["en"] + weight[lang]
    if not total:
        return lang, 1.0
    best = "en" if weight["en"] > weight[lang] else lang
    return best, weight[best] / total


def extract(pages, lid) -> list[dict]:
    cfg = ExtractSection()
    rows = []
    for i, p in enumerate(pages):
        rows.append({"page_id": f"p{i}", "batch_id": "bench", "url": p.url, "content": p.html, "_lang": p.lang,
                     "_package": p.package})
    docs = []
    for page, doc in zip(rows, extract_documents(rows, lid, cfg)):
        if doc["status"] != "kept" or not doc.get("text"):
            continue
        docs.append({"doc_id": doc["doc_id"], "text": doc["text"], "lang": doc["lang"], "package_lang": page["_lang"],
                     "package": page["_package"], "url": page["url"]})
    return docs


def dedup_exact(docs: list[dict]) -> list[dict]:
    seen, out = set(), []
    for d in docs:
        h = hashlib.sha1(d["text"].encode("utf-8")).hexdigest()
        if h not in seen:
            seen.add(h)
            out.append(d)
    return out


def dedup_stage(items: list[dict]) -> dict[str, str]:
    """goldpan's dedup stage over real pages and spam together, as one batch (the recipe's dedup section:
    URL, exact, near-duplicate clusters, then paragraphs in >= 3 documents removed and a page left with
    < 200 characters rejected). Sets each kept document's text to the text dedup kept; returns
    {doc_id: dedup rule} of the rejected ones.

    Why the whole stage and not only its paragraph step: an untranslated page ships in every
    translated package (LibreOffice help in 10 languages carries the same English page), and exact
    text dedup misses the copies (their menus differ). Without the near-duplicate step all copies reach
    the paragraph step, which then finds every paragraph in >= 3 documents and strips each copy to its
    headings: the filter would judge gutted duplicates, not documentation pages.
    """
    dd = BatchDeduplicator(dedup_config(DedupSection()))
    inputs = [DedupInput(doc_id=d["doc_id"], text=d["text"], lang=d.get("lid", d["lang"]), url=d.get("url"))
              for d in items]
    out = dd.run(inputs, MemoryPriorStore().begin("bench"))
    rejected = {}
    for d, r in zip(items, out.results):
        d["dedup_rule"] = r.rule if r.status != "kept" else None
        if d["dedup_rule"]:
            rejected[d["doc_id"]] = d["dedup_rule"]
        elif r.dedup_text is not None:
            d["text"] = r.dedup_text
    return rejected


def run_datatrove(docs: list[dict]) -> dict[str, bool] | None:
    py = DT_VENV / "bin" / "python"
    if not py.exists():
        print("datatrove venv missing: run bench/datatrove_agreement.py once (it creates bench/.venv-datatrove)")
        return None
    OUT.mkdir(parents=True, exist_ok=True)
    inp, outp = OUT / "fm_dt_in.jsonl", OUT / "fm_dt_out.json"
    with open(inp, "w", encoding="utf-8") as f:
        f.writelines(json.dumps({"doc_id": d["doc_id"], "text": d["text"]}, ensure_ascii=False) + "\n" for d in docs)
    subprocess.run([str(py), str(BENCH / "datatrove_fineweb_keep.py"), str(inp), str(outp)], check=True,
                   env={**os.environ, "PYTHONPATH": ""})
    return json.loads(outp.read_text())["keep"]


SIGNAL_CODE = ("goldpan/filter/signals.py", "goldpan/filter/lines.py", "goldpan/filter/junk.py",
               "goldpan/filter/pii.py", "goldpan/filter/stopwords.py", "goldpan/filter/spam.py",
               "goldpan/text/tokenize.py", "goldpan/text/technical.py", "goldpan/text/spacy_fast.py")


LID_CODE = ("goldpan/extract/langid.py", "goldpan/extract/stage.py", "goldpan/text/scripts.py",
            "goldpan/text/technical.py")


def _code_only(path: Path) -> bytes:
    """The module's code without comments and docstrings: what a cache of its results depends on."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]
    return ast.unparse(tree).encode("utf-8")


def _code_key(paths, extra: str = "") -> str:
    return hashlib.sha1(b"".join(_code_only(ROOT / m) for m in paths) + extra.encode()).hexdigest()[:10]


class SignalCache:
    """Signals per (language, text), kept in bench/data between runs of the same signal code: a rule
    change is then re-evaluated in seconds instead of recomputing every signal."""

    def __init__(self, path: Path):
        self.path = path
        self.rows: dict[str, dict] = {}
        if path.exists():
            for line in path.open(encoding="utf-8"):
                k, v = json.loads(line)
                self.rows[k] = v
        self.new: dict[str, dict] = {}

    def get(self, text: str, lang: str) -> dict:
        k = hashlib.sha1(f"{lang}\0{text}".encode("utf-8", "replace")).hexdigest()
        if k not in self.rows:
            self.rows[k] = self.new[k] = compute_signals(text, lang)
        return self.rows[k]

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            f.writelines(json.dumps([k, v]) + "\n" for k, v in self.new.items())
        self.new = {}


def lid_report(docs: list[dict], label: str) -> dict:
    """Accuracy of `docs[i][label]` against both references, on clear and on mixed pages, and the
    confusion pairs (reference -> label)."""
    def acc(items, ref):
        return round(sum(1 for d in items if base_lang(d[label]) == base_lang(d[ref])) / len(items), 4) if items else None

    clear = [d for d in docs if d["ref_share"] >= 2 / 3]
    mixed = [d for d in docs if d["ref_share"] < 2 / 3]
    either = sum(1 for d in mixed if base_lang(d[label]) in {base_lang(d["package_lang"]), "en"})
    return {
        "accuracy_ref_stopwords": acc(docs, "ref_lang"),
        "accuracy_ref_majority": acc(docs, "ref_majority"),
        "clear_pages": len(clear), "accuracy_clear_pages": acc(clear, "ref_majority"),
        "mixed_pages": len(mixed), "mixed_labelled_with_one_of_their_languages": either,
        "confusions_ref_stopwords": Counter(f"{base_lang(d['ref_lang'])}->{d[label]}" for d in docs
                                            if base_lang(d[label]) != base_lang(d["ref_lang"])).most_common(15),
        "confusions_clear_pages": Counter(f"{base_lang(d['ref_majority'])}->{d[label]}" for d in clear
                                          if base_lang(d[label]) != base_lang(d["ref_majority"])).most_common(15),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=3200)
    ap.add_argument("--no-datatrove", action="store_true")
    ap.add_argument("--quick", action="store_true", help="600 pages instead of --pages")
    ap.add_argument("--out", type=Path, default=OUT / "filter_multilingual.json")
    ap.add_argument("--dump", type=Path, help="write every judged document's signals and decision here (jsonl)")
    args = ap.parse_args()
    if args.quick:
        args.pages = 600
    t0 = time.perf_counter()
    pages = real_pages(min_pages=args.pages)
    lid = LanguageIdentifier()
    ex_cfg = ExtractSection()
    # Extracted documents are cached per page count and text-extraction code (bench/data, gitignored);
    # language ID is redone every run (below), so a language-ID change needs no re-extraction.
    key = _code_key(("goldpan/extract/stage.py", "goldpan/text/technical.py", "goldpan/text/scripts.py"))
    cache = ROOT / "bench" / "data" / f"filter_multilingual_{args.pages}_{key}.jsonl"
    if cache.exists():
        docs = [json.loads(line) for line in cache.open(encoding="utf-8")]
    else:
        docs = dedup_exact(extract(pages, lid))
        cache.parent.mkdir(parents=True, exist_ok=True)
        with cache.open("w", encoding="utf-8") as f:
            f.writelines(json.dumps(d, ensure_ascii=False) + "\n" for d in docs)
    print(f"{len(pages)} real pages -> {len(docs)} extracted, deduplicated documents "
          f"({time.perf_counter() - t0:.0f} s)", flush=True)
    t_lid = time.perf_counter()
    lid_settings = json.dumps({k: v for k, v in ex_cfg.model_dump().items() if k.startswith(("lid_", "mixed_"))},
                              sort_keys=True, default=str)
    lid_cache_path = ROOT / "bench" / "data" / f"filter_multilingual_lid_{_code_key(LID_CODE, lid_settings)}.json"
    lid_cache = json.loads(lid_cache_path.read_text()) if lid_cache_path.exists() else {}
    for d in docs:
        # The extract stage's language ID (goldpan.extract.stage.language_profile), with and without the
        # line-majority step, on the extracted text (cached per language-ID code).
        if d["doc_id"] not in lid_cache:
            lid_cache[d["doc_id"]] = [language_profile(lid, d["text"], ex_cfg).lang,
                                      language_profile(lid, d["text"], ex_cfg, line_majority=False).lang]
        d["lang"], d["lang_whole_text"] = lid_cache[d["doc_id"]]
    lid_cache_path.write_text(json.dumps(lid_cache))
    for d in docs:
        d["ref_lang"] = reference_lang(d["text"], d["package_lang"])
        d["ref_majority"], d["ref_share"] = reference_majority(d["text"], d["package_lang"])
    lid_results = {"goldpan": lid_report(docs, "lang"), "goldpan_whole_text_only": lid_report(docs, "lang_whole_text")}
    print(f"language ID ({time.perf_counter() - t_lid:.0f} s): {json.dumps(lid_results, ensure_ascii=False)}",
          flush=True)
    by_lang_texts = defaultdict(list)
    for d in docs:
        if d["lang"] == d["ref_lang"]:
            by_lang_texts[d["ref_lang"]].append(d["text"])
    # Development spam: the kinds the rules were developed on, from one half of the real pages. Held-out
    # spam: every kind (two never used in development) from the other half, another seed.
    spam = [{"doc_id": s.doc_id, "text": s.text, "lang": s.lang, "kind": s.kind, "set": "dev"}
            for s in spam_set(by_lang_texts, per_kind=3, kinds=SPAM_KINDS, part=0, seed=17, prefix="dev")]
    spam += [{"doc_id": s.doc_id, "text": s.text, "lang": s.lang, "kind": s.kind,
              "set": "heldout_kind" if s.kind in HELD_OUT_KINDS else "heldout_material"}
             for s in spam_set(by_lang_texts, per_kind=3, kinds=ALL_KINDS, part=1, seed=1017, prefix="ho")]
    # Spam goes through the same language ID as real pages.
    for s in spam:
        s["lid"] = language_profile(lid, s["text"], ex_cfg).lang
    print(f"{len(spam)} spam pages in {len({s['lang'] for s in spam})} languages "
          f"({Counter(s['set'] for s in spam)})", flush=True)
    # goldpan's dedup stage runs over real pages and spam together, as in one batch.
    at_dedup_rules = dedup_stage(docs + spam)
    at_dedup = set(at_dedup_rules)
    n_real_dedup = Counter(at_dedup_rules[d["doc_id"]] for d in docs if d["doc_id"] in at_dedup)
    n_spam_dedup = Counter(at_dedup_rules[s["doc_id"]] for s in spam if s["doc_id"] in at_dedup)
    docs = [d for d in docs if d["doc_id"] not in at_dedup]  # real pages reaching the filter
    print(f"dedup stage: real pages rejected {dict(n_real_dedup)}, spam pages rejected {dict(n_spam_dedup)}; "
          f"{len(docs)} real pages reach the filter", flush=True)

    multi = ruleset_from_section(FilterSection())
    dtmode = RuleSet.from_config(DATATROVE_RULES_CONFIG)
    sig_cache = SignalCache(ROOT / "bench" / "data" / f"filter_multilingual_signals_{_code_key(SIGNAL_CODE)}.jsonl")
    t1 = time.perf_counter()
    gp_keep, dm_keep, reasons = {}, {}, defaultdict(Counter)
    # Real pages, per language: every rule that failed (any_rule) and the rule that alone rejected a page
    # (sole_rule: the page is kept without it), to see which rule costs which language its pages.
    any_rule, sole_rule = defaultdict(Counter), defaultdict(Counter)
    for d in docs + spam:
        if d["doc_id"] in at_dedup:  # spam removed by the dedup stage: never reaches the filter
            gp_keep[d["doc_id"]] = dm_keep[d["doc_id"]] = False
            reasons[d.get("kind")][f"dedup:{at_dedup_rules[d['doc_id']]}"] += 1
            continue
        lang = d.get("lid", d["lang"])
        sig = sig_cache.get(d["text"], lang)
        fails = multi.evaluate(d["doc_id"], lang, sig)
        gp_keep[d["doc_id"]] = not fails
        dm_keep[d["doc_id"]] = not dtmode.evaluate(d["doc_id"], lang, sig)
        for f in fails[:1]:
            reasons[d.get("kind") or base_lang(d["ref_lang"])][f.rule] += 1
        if not d.get("kind"):
            any_rule[base_lang(d["ref_lang"])].update({f.rule for f in fails})
            if len({f.rule for f in fails}) == 1:
                sole_rule[base_lang(d["ref_lang"])][fails[0].rule] += 1
    sig_cache.save()
    t_gp = time.perf_counter() - t1
    if args.dump:
        with args.dump.open("w", encoding="utf-8") as f:
            for d in docs + spam:
                if d["doc_id"] in at_dedup:
                    continue
                lang = d.get("lid", d["lang"])
                f.write(json.dumps({"doc_id": d["doc_id"], "lang": lang, "ref": base_lang(d.get("ref_lang", d["lang"])),
                                    "kind": d.get("kind"), "set": d.get("set"), "keep": gp_keep[d["doc_id"]],
                                    "package": d.get("package"), "text": d["text"],
                                    "section": multi.section_for(lang, sig_cache.get(d["text"], lang)),
                                    "sig": sig_cache.get(d["text"], lang)}, ensure_ascii=False) + "\n")
    print(f"goldpan signals + both modes: {t_gp:.0f} s for {len(docs) + len(spam)} documents", flush=True)
    dt_keep = None
    if not args.no_datatrove:
        t2 = time.perf_counter()
        dt_keep = run_datatrove(docs + [s for s in spam if s["doc_id"] not in at_dedup])
        if dt_keep is not None:
            dt_keep.update(dict.fromkeys(at_dedup, False))
        print(f"datatrove FineWeb filters: {time.perf_counter() - t2:.0f} s", flush=True)

    def share(keep, items, want):
        return round(sum(1 for x in items if keep[x["doc_id"]] == want) / len(items), 4) if items else None

    rows = {}
    for lang in sorted({base_lang(d["ref_lang"]) for d in docs}):
        real = [d for d in docs if base_lang(d["ref_lang"]) == lang]
        sp = [s for s in spam if s["lang"] == lang]
        rows[lang] = {
            "pages": len(real),
            "lid_accuracy": round(sum(1 for d in real if base_lang(d["lang"]) == lang) / len(real), 4),
            "kept_goldpan": share(gp_keep, real, True), "kept_datatrove_mode": share(dm_keep, real, True),
            "kept_datatrove": share(dt_keep, real, True) if dt_keep else None,
            "spam": len(sp), "spam_removed_goldpan": share(gp_keep, sp, False),
            "spam_removed_datatrove_mode": share(dm_keep, sp, False),
            "spam_removed_datatrove": share(dt_keep, sp, False) if dt_keep else None,
            "top_rejections": dict(reasons[lang].most_common(3)),
            "rejections_any_rule": dict(any_rule[lang].most_common()),
            "rejections_sole_rule": dict(sole_rule[lang].most_common()),
        }
    keeps = (("goldpan", gp_keep), ("datatrove_mode", dm_keep), ("datatrove", dt_keep))
    spam_removed = {}
    for part in ("dev", "heldout_material", "heldout_kind"):
        items = [s for s in spam if s["set"] == part]
        spam_removed[part] = {k: share(keep, items, False) for k, keep in keeps if keep} | {"n": len(items)}
    spam_by_kind = {}
    for kind in ALL_KINDS:
        for part in ("dev", "heldout_material", "heldout_kind"):
            items = [s for s in spam if s["kind"] == kind and s["set"] == part]
            if items:
                spam_by_kind[f"{kind}/{part}"] = {
                    "n": len(items), **{f"removed_{k}": share(keep, items, False) for k, keep in keeps if keep},
                    "kept_goldpan": sorted(s["doc_id"] for s in items if gp_keep[s["doc_id"]])}
    first_rules = {kind: dict(reasons[kind].most_common(4)) for kind in ALL_KINDS}
    result = {"pages": len(pages), "documents_reaching_filter": len(docs), "spam": len(spam),
              "real_pages_rejected_at_dedup": dict(n_real_dedup), "spam_rejected_at_dedup": dict(n_spam_dedup), "language_id": lid_results,
              "spam_removed": spam_removed, "spam_by_kind": spam_by_kind, "spam_first_rule": first_rules,
              "languages": rows,
              "untranslated_counted_as_en": sum(1 for d in docs if d["ref_lang"] != base_lang(d["package_lang"])),
              "seconds_goldpan_signals_and_decisions": round(t_gp, 1), "load_average": os.getloadavg()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False))
    print(f"\n{'lang':<5}{'pages':>6}{'lid':>8}{'kept gp':>9}{'kept dtm':>9}{'kept dt':>9}"
          f"{'spam':>6}{'rm gp':>8}{'rm dtm':>8}{'rm dt':>8}  first rejection (goldpan)")

    def pct(v):
        return f"{100 * v:.1f}%" if v is not None else "-"

    for lang, r in rows.items():
        print(f"{lang:<5}{r['pages']:>6}{pct(r['lid_accuracy']):>8}{pct(r['kept_goldpan']):>9}"
              f"{pct(r['kept_datatrove_mode']):>9}{pct(r['kept_datatrove']):>9}{r['spam']:>6}"
              f"{pct(r['spam_removed_goldpan']):>8}{pct(r['spam_removed_datatrove_mode']):>8}"
              f"{pct(r['spam_removed_datatrove']):>8}  {r['top_rejections']}")
    print(f"\nspam removed: {json.dumps(spam_removed)}")
    for k, v in spam_by_kind.items():
        print(f"  {k:<32} n={v['n']:<4} " + " ".join(f"{m}={pct(x)}" for m, x in v.items() if m.startswith("removed_"))
              + (f"  kept by goldpan: {v['kept_goldpan'][:6]}" if v["kept_goldpan"] else ""))
    print(f"load average {os.getloadavg()}; results -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
