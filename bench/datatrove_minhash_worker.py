"""Runs datatrove 0.10.1's MinHash signature stage (FineWeb's 5-gram, 14 buckets x 8 hashes) over a JSONL of
documents and reports its CPU seconds (bench only; executed with the interpreter of bench/.venv-datatrove
by bench/dedup_throughput.py). The signature stage is datatrove's per-document MinHash work: word
tokenisation, shingling, hashing and writing the sorted per-bucket signature files."""

from __future__ import annotations

import json
import sys
import tempfile
import time


def main(in_path: str, out_path: str) -> int:
    from datatrove.data import Document
    from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupSignature

    with open(in_path, encoding="utf-8") as lines:
        docs = [json.loads(line) for line in lines]
    with tempfile.TemporaryDirectory() as tmp:
        warm = MinhashDedupSignature(output_folder=f"{tmp}/warm", config=MinhashConfig())
        warm.run(iter([Document(text="warm up the word tokenizer please", id="w")]), rank=0, world_size=1)
        stage = MinhashDedupSignature(output_folder=f"{tmp}/sigs", config=MinhashConfig())
        data = [Document(text=d["text"], id=d["doc_id"]) for d in docs]
        t0 = time.process_time()
        stage.run(iter(data), rank=0, world_size=1)
        cpu = time.process_time() - t0
    with open(out_path, "w") as out:
        json.dump({"docs": len(docs), "chars": sum(len(d["text"]) for d in docs), "cpu_s": cpu}, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
