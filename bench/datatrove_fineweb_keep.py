"""datatrove 0.10.1's FineWeb filters as FineWeb runs them, keep/drop per document (bench only).

Run by `bench/filter_multilingual.py` with `bench/.venv-datatrove`'s interpreter: GopherRepetition ->
GopherQuality -> C4 (filter_no_terminal_punct=False) -> FineWebQuality, each on the survivors and on
the text the previous one left (datatrove examples/fineweb.py). Writes {"keep": {doc_id: bool}}.
"""

from __future__ import annotations

import json
import sys


def main(in_path: str, out_path: str) -> int:
    from datatrove.data import Document
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
    )

    chain = (GopherRepetitionFilter(), GopherQualityFilter(), C4QualityFilter(filter_no_terminal_punct=False),
             FineWebQualityFilter())
    keep: dict[str, bool] = {}
    reasons: dict[str, str] = {}
    with open(in_path, encoding="utf-8") as f:
        docs = [json.loads(line) for line in f]
    for d in docs:
        doc = Document(text=d["text"], id=d["doc_id"], metadata={})
        ok = True
        for flt in chain:
            res = flt.filter(doc)
            ok, why = (res, None) if isinstance(res, bool) else (res[0], res[1])
            if not ok:
                reasons[d["doc_id"]] = str(why)
                break
        keep[d["doc_id"]] = bool(ok)
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump({"keep": keep, "reasons": reasons}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
