"""A disk cache of the large regular expressions spaCy compiles for a language.

Why: importing `spacy.lang.fr` compiles its `TOKEN_MATCH`, a 1.45 MB alternation of case-insensitive
Unicode classes: 2.3 s of pure-Python regex compilation (`re._parser` and `re._compiler`) in every
process that meets French. Every worker meets French on a multilingual crawl, in parallel, so no
worker count divides that time. The compiled program (the opcode list `_sre.compile` takes) depends
only on the pattern, its flags and the Python build, so it is computed once per machine and kept;
a later process builds the same `re.Pattern` from it in milliseconds by seeding `re`'s own cache
before the import, so the import's `re.compile` finds it there. The same holds, smaller, for every
language's prefix, suffix and infix patterns (2-20k characters, goldpan.text.spacy_rules asks for
them with `min_chars`): 19 languages set up in 0.6 s instead of 1.15 s per worker.

Safety: the cache key holds the Python version and build and `_sre`'s MAGIC and CODESIZE; the files
are JSON (no code runs on load); `_sre.compile` validates the opcode list itself, and anything that
fails to load is compiled as usual. `GOLDPAN_REGEX_CACHE=0` turns the cache off.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

#: patterns shorter than this compile fast enough; only the huge ones are worth a file
MIN_PATTERN_CHARS = 100_000
FORMAT = 1
# One block at a time: `re._compiler.compile` is swapped for the block's duration (a re-entrant lock, for
# a language import that imports another).
_LOCK = threading.RLock()

try:  # the internals this relies on, as CPython 3.11-3.13 spell them
    import _sre
    from re import _compiler, _parser

    _SUPPORTED = hasattr(_compiler, "compile") and hasattr(_compiler, "_code") and hasattr(re, "_cache")
except ImportError:  # pragma: no cover - another Python implementation
    _SUPPORTED = False


def cache_dir() -> Path:
    base = Path(os.environ.get("GOLDPAN_REGEX_CACHE_DIR", Path.home() / ".cache" / "goldpan" / "regex"))
    build = f"{FORMAT}|{sys.version}|{sys.implementation.cache_tag}|{_sre.MAGIC}|{_sre.CODESIZE}" if _SUPPORTED else ""
    return base / hashlib.sha256(build.encode()).hexdigest()[:16]


def enabled() -> bool:
    return _SUPPORTED and os.environ.get("GOLDPAN_REGEX_CACHE", "1") != "0"


def _compile_args(pattern: str, flags: int) -> list:
    """What CPython's `re._compiler.compile` hands `_sre.compile` for `pattern` (the same steps)."""
    parsed = _parser.parse(pattern, flags)
    code = _compiler._code(parsed, flags)
    groupindex = dict(parsed.state.groupdict)
    indexgroup = [None] * parsed.state.groups
    for name, i in groupindex.items():
        indexgroup[i] = name
    return [pattern, flags | parsed.state.flags, list(code), parsed.state.groups - 1, groupindex, indexgroup]


def _build(args: list) -> re.Pattern:
    pattern, flags, code, groups, groupindex, indexgroup = args
    return _sre.compile(pattern, flags, code, groups, groupindex, tuple(indexgroup))


def _load(path: Path) -> list[tuple[str, int, list]]:
    try:
        return [(e["pattern"], e["flags"], e["args"]) for e in json.loads(path.read_text(encoding="utf-8"))]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def _save(path: Path, entries: list[tuple[str, int, list]]) -> None:
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps([{"pattern": p, "flags": f, "args": a} for p, f, a in entries]), encoding="utf-8")
        tmp.replace(path)  # atomic: a parallel process reads the old file or the new one


@contextlib.contextmanager
def cached_compiles(name: str, min_chars: int | None = None) -> Iterator[None]:
    """Within the block, `re.compile` of a pattern of >= `min_chars` (default MIN_PATTERN_CHARS) is
    served from the cache file `name` (seeded into `re`'s cache first) or compiled and then recorded
    into it."""
    if not enabled():
        yield
        return
    with _LOCK:
        yield from _cached_compiles(cache_dir() / f"{name}.json", MIN_PATTERN_CHARS if min_chars is None else min_chars)


def _cached_compiles(path: Path, min_chars: int) -> Iterator[None]:
    entries = _load(path)
    for pattern, flags, args in entries:
        with contextlib.suppress(Exception):  # a bad entry: the import compiles it as usual
            re._cache[str, pattern, flags] = _build(args)  # type: ignore[attr-defined]
    recorded: list[tuple[str, int, list]] = []
    original = _compiler.compile

    def recording(p, flags=0):
        if isinstance(p, str) and len(p) >= min_chars and not flags & re.DEBUG:
            args = _compile_args(p, int(flags))
            recorded.append((p, int(flags), args))
            return _build(args)
        return original(p, flags)

    _compiler.compile = recording
    try:
        yield
    finally:
        _compiler.compile = original
    if recorded:
        known = {(p, f) for p, f, _ in entries}
        _save(path, entries + [e for e in recorded if (e[0], e[1]) not in known])
