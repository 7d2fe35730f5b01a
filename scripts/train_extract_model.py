"""Train goldpan's boilerplate line classifier and write it to goldpan/data/extract/line_model.json.

Data: the gold sets of bench/extract_gold.py (ScrapingHub's article-extraction-benchmark and
trafilatura's evaluation corpus, both public git repositories brought with the search tool's
`fetch`; the documentation gold set built from Debian's python3.11-doc). Only each set's *train*
half is used (a fixed hash split of page ids); the report half is scored here as held-out metrics
and stored in the model's metadata, and it is the half bench/extract_quality.py reports on.

    .venv/bin/python scripts/train_extract_model.py [--seed 16] [--out PATH]

Same data + same seed = the same model file (tests/unit/test_extract_learned.py checks the
training function's determinism on real pages).
"""

from __future__ import annotations

import os

# One BLAS thread: on a shared machine multi-threaded BLAS made the epochs ~10x slower, and one
# thread keeps the float sums in a fixed order.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import hashlib
import json
import pickle
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

DEFAULT_OUT = ROOT / "goldpan" / "data" / "extract" / "line_model.json"


def _commit(repo: Path) -> str | None:
    try:
        return subprocess.run(["git", "--git-dir", str(repo), "rev-parse", "HEAD"], check=True,
                              capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--epochs", type=int, default=400)
    ap.add_argument("--ensemble", type=int, default=1,
                    help="networks from seeds seed..seed+k-1, folded into one (logits averaged)")
    # 1e-3 chosen with --validate (train half only): 1e-4 overfitted the pages' sites, 1e-2 underfitted.
    ap.add_argument("--l2", type=float, default=1e-3)
    ap.add_argument("--neg-weight", type=float, default=1.0, help="weight of boilerplate lines (x)")
    ap.add_argument("--validate", action="store_true",
                    help="choose settings without the report half: fit on 3/4 of the train half, score "
                         "the other 1/4 (fixed hash), write nothing")
    args = ap.parse_args()

    import extract_gold as eg

    from goldpan.extract.encoding import decode_page
    from goldpan.extract.learned import join_kept, kept_mask
    from goldpan.extract.line_training import choose_threshold, line_confusion, page_example, train_from_pages

    t0 = time.time()
    # Features depend only on the pages and the feature code: cached under bench/data, keyed by
    # the sha1 of the feature, labelling and gold-building code, so retraining is quick.
    import goldpan.extract.learned as learned_mod
    import goldpan.extract.line_training as training_mod
    import goldpan.extract.lines as lines_mod
    import goldpan.extract.source_context as source_mod

    # The gold texts and labels depend on the bench's gold builders and the labelling code too.
    sources = [lines_mod.__file__, source_mod.__file__, learned_mod.__file__, training_mod.__file__, eg.__file__,
               str(ROOT / "bench" / "extract_quality.py")]
    key = hashlib.sha1(b"".join(Path(f).read_bytes() for f in sources)).hexdigest()
    cache = eg.DATA / f"line_examples-{key[:12]}.pkl"
    if cache.exists():
        examples, golds = pickle.loads(cache.read_bytes())
    else:
        examples = {"train": [], "report": []}
        golds = {"train": [], "report": []}
        for name, loader in eg.SETS.items():
            for gp in loader():
                html = decode_page(gp.html, gp.charset).text
                ex = page_example(name, html, gp.gold)
                examples[gp.split].append(ex)
                gp.html = b""  # not needed past this point; keeps the cache small
                golds[gp.split].append(gp)
        cache.write_bytes(pickle.dumps((examples, golds)))
    print(f"features: {len(examples['train'])} train / {len(examples['report'])} report pages "
          f"({time.time() - t0:.0f} s)", flush=True)

    if args.validate:
        # The report half stays unseen: the train half is split again into fit / validation pages.
        fit = [i for i, g in enumerate(golds["train"]) if eg.split_of("val:" + g.page_id, 0.75) == "train"]
        val = [i for i in range(len(golds["train"])) if i not in set(fit)]
        examples = {"train": [examples["train"][i] for i in fit], "report": [examples["train"][i] for i in val]}
        golds = {"train": [golds["train"][i] for i in fit], "report": [golds["train"][i] for i in val]}
        print(f"validate: fit {len(fit)} / validation {len(val)} pages of the train half", flush=True)

    model = train_from_pages(examples["train"], seed=args.seed, neg_weight=args.neg_weight, hidden=args.hidden,
                             epochs=args.epochs, l2=args.l2, ensemble=args.ensemble)

    def scorer(split):
        def score_set(set_name, texts, idx):
            return eg.score(set_name, texts, [golds[split][i] for i in idx])["f1"]
        return score_set

    threshold, table = choose_threshold(model, examples["train"], scorer("train"))
    model.threshold = threshold

    held_out: dict[str, dict] = {}
    for set_name in eg.SETS:
        idx = [i for i, p in enumerate(examples["report"]) if p.set_name == set_name]
        texts = []
        for i in idx:
            p = examples["report"][i]
            texts.append(join_kept(p.lines, p.blank_before, kept_mask(p.lines, p.x, model.predict(p.x), threshold)))
        held_out[set_name] = {k: round(v, 4) for k, v in
                              eg.score(set_name, texts, [golds["report"][i] for i in idx]).items()}
        held_out[set_name]["pages"] = len(idx)
    model.meta.update(
        trained_by="scripts/train_extract_model.py",
        training_data={
            "aeb": {"repo": "github:scrapinghub/article-extraction-benchmark", "commit": _commit(eg.AEB_REPO)},
            "trafilatura": {"repo": "github:adbar/trafilatura", "commit": _commit(eg.TRAF_REPO),
                            "files": "tests/eval, tests/cache, tests/evaldata.json"},
            "docs": {"source": "Debian python3.11-doc + sample site (bench/extract_pages.py)"},
            "split": f"sha1(page_id) < {eg.TRAIN_SHARE} -> train, else report (bench/extract_gold.py)",
        },
        threshold_by_train_f1={str(t): {k: round(v, 4) for k, v in s.items()} for t, s in table.items()},
        held_out_report_split=held_out,
        held_out_lines=line_confusion(model, examples["report"]),
    )
    if args.validate:
        print(json.dumps({"threshold": threshold, "validation": held_out}, indent=1))
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(model.to_json() + "\n", encoding="utf-8")
    print(json.dumps({"threshold": threshold, "held_out": held_out, "sha1": model.sha1[:12]}, indent=1))
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes, {time.time() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
