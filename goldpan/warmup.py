"""Imported once by the forkserver (goldpan.engine.local.PRELOAD): loads what every worker needs.

Workers are forked from the forkserver after this ran, so they start with the language-ID model,
the GPT-2 BPE ranks and spaCy's tokenizer rules of the languages in $GOLDPAN_WARM_LANGS (default
English and the multi-language rules) already in memory (shared copy-on-write) instead of each
loading them again. Other languages are built by each worker when it first meets them: from the language's defaults,
~0.05 s each (goldpan.text.spacy_rules; building spaCy's tokenizer took 2 s for Indonesian), and
French's 2.3 s regex compile comes from a disk cache after the first time (goldpan.text.regex_cache).
Warming ~33 web languages here before those two changes kept one core busy for ~7 s before the first
worker could start, and the whole graph over 6,000 real pages in 20 languages took 93.0 s against 84.4 s
with the default (bench/end_to_end.py, two runs each, alternated), tree RSS 2,917 against 2,729 MB.
After them it still does not pay: with the pool started while the WARC imports, warming those 33
languages outlasted the import, and extract at 2 workers took 20.7 s against 17.2 s.
The Ray engine runs the same warm-up in each of its workers when it starts
(goldpan.engine.ray_engine.setup_worker).
Anything that fails to load here is simply loaded later, by the worker that needs it.
"""

from __future__ import annotations

import contextlib
import os

from goldpan.engine.cache import worker_cache


def warm() -> None:
    from goldpan.bpe.counter import TokenCounter
    from goldpan.extract.langid import LanguageIdentifier, default_model_path
    from goldpan.text.tokenize import _chunk_cache

    path = default_model_path()
    with contextlib.suppress(Exception):
        worker_cache(("lid", path), lambda: LanguageIdentifier(path))
    for lang in os.environ.get("GOLDPAN_WARM_LANGS", "en,xx").split(","):
        with contextlib.suppress(Exception):
            _chunk_cache(lang.strip())
    with contextlib.suppress(Exception):
        worker_cache(("tokens", "gpt2", 1), lambda: TokenCounter("gpt2", threads=1))
    # dedup's code-point tables (word characters for shingles, punctuation for exact hashes): 0.2 s
    # per process over the whole code space, the same whatever the text
    with contextlib.suppress(Exception):
        from goldpan.dedup.exact import _table
        from goldpan.dedup.shingles import _word_chars

        _word_chars()
        _table()


if os.environ.get("GOLDPAN_ENGINE_WARM", "1") != "0":
    warm()
