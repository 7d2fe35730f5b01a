"""Runs datatrove 0.10.1's four FineWeb heuristic filters on a JSONL of documents (bench only).

Executed by `bench/datatrove_agreement.py` with the interpreter of `bench/.venv-datatrove` (datatrove
pins old dependencies, so it never enters the project's venv). Imports only datatrove; writes one
JSON object: per-document decisions and per-filter timings.

Two readings are recorded for each document:
- independent: every filter sees the original text (C4 both as FineWeb runs it,
  `filter_no_terminal_punct=False`, and with datatrove's default `True`); FineWeb sees the text the
  FineWeb-setting C4 left, as in `examples/fineweb.py`, whenever that C4 kept the document.
- timing: seconds per filter over all documents (every document through every filter, the same
  work goldpan's single pass does), plus the pipeline order where each filter sees survivors only.
"""

from __future__ import annotations

import json
import sys
import time

# CPU seconds of this process: the machine is shared, so wall time mostly measures the neighbours.
clock = time.process_time


def main(in_path: str, out_path: str) -> int:
    from datatrove.data import Document
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
    )
    from datatrove.utils.text import split_into_words

    with open(in_path, encoding="utf-8") as lines:
        docs = [json.loads(line) for line in lines]
    split_into_words("warm up the spaCy tokenizer.", "en")  # model load outside the timings

    def decide(flt, text: str, doc_id: str):
        doc = Document(text=text, id=doc_id, metadata={})
        res = flt.filter(doc)
        keep, reason = (res, None) if isinstance(res, bool) else (res[0], res[1])
        return bool(keep), reason, doc.text

    filters = {
        "gopher_repetition": GopherRepetitionFilter(),
        "gopher_quality": GopherQualityFilter(),
        "c4": C4QualityFilter(filter_no_terminal_punct=False),
        "c4_strict": C4QualityFilter(),
    }
    fineweb = FineWebQualityFilter()
    out: dict = {"docs": {}, "seconds": {}}
    for name, flt in filters.items():
        t0 = clock()
        for d in docs:
            keep, reason, text = decide(flt, d["text"], d["doc_id"])
            rec = out["docs"].setdefault(d["doc_id"], {})
            rec[name] = [keep, reason]
            if name == "c4" and keep:
                rec["c4_text"] = text
        out["seconds"][name] = clock() - t0
    t0 = clock()
    for d in docs:
        rec = out["docs"][d["doc_id"]]
        if "c4_text" in rec:
            keep, reason, _ = decide(fineweb, rec.pop("c4_text"), d["doc_id"])
            rec["fineweb"] = [keep, reason]
    out["seconds"]["fineweb_on_c4_kept"] = clock() - t0
    # FineWeb on every document's original text, only to time it over the same number of documents.
    t0 = clock()
    for d in docs:
        decide(fineweb, d["text"], d["doc_id"])
    out["seconds"]["fineweb"] = clock() - t0

    # The pipeline as FineWeb runs it (examples/fineweb.py): each filter sees the survivors only.
    t0 = clock()
    kept = 0
    for d in docs:
        text = d["text"]
        ok = True
        for flt in (filters["gopher_repetition"], filters["gopher_quality"], filters["c4"], fineweb):
            ok, _, text = decide(flt, text, d["doc_id"])
            if not ok:
                break
        kept += ok
    out["seconds"]["pipeline"] = clock() - t0
    out["pipeline_kept"] = kept
    out["n_docs"] = len(docs)
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(out, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
