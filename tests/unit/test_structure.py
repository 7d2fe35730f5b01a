"""The layering rules of the library, checked on its import graph (issue 13): the curation library has no
Dagster import and no package cycles, only the CLI commands import the reporting package, and the
stage contract (the current text of a document) is written once."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIB = ROOT / "goldpan"


def _imports() -> dict[str, set[str]]:
    """module path -> goldpan modules it imports (top-level or inside functions)."""
    out: dict[str, set[str]] = {}
    for path in LIB.rglob("*.py"):
        rel = path.relative_to(ROOT).with_suffix("").as_posix().replace("/", ".")
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        out[rel] = names
    return out


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in list(graph):
        if v not in index:
            visit(v)
    return found


def _cross_package_edges(node) -> dict[str, set[str]]:
    """Import edges that cross packages, between `node(module)` of each side: modules themselves, or
    their packages for the coarser graph. An import names the deepest goldpan module it reaches."""
    imports = {k.removesuffix(".__init__"): v for k, v in _imports().items()}
    graph: dict[str, set[str]] = defaultdict(set)
    for module, names in imports.items():
        for name in names:
            target = name
            while target and target not in imports:
                target = target.rpartition(".")[0]
            if target and target != module and _package(target) != _package(module):
                graph[node(module)].add(node(target))
    return graph


def test_no_dagster_in_the_library():
    bad = {m: sorted(n for n in names if n.split(".")[0] == "dagster") for m, names in _imports().items()}
    assert not {m: n for m, n in bad.items() if n}


def test_no_import_cycles_between_packages():
    """No cycle of module imports (top-level or function-local) that crosses packages. A package's
    `__init__` re-exporting its own modules is not a cycle."""
    assert _cycles(_cross_package_edges(lambda module: module)) == []


def test_only_commands_import_the_reporting_package():
    offenders = sorted(m for m, names in _imports().items()
                       if _package(m) not in ("lineage", "commands")
                       and any(n == "goldpan.lineage" or n.startswith("goldpan.lineage.") for n in names))
    assert offenders == []


def test_current_text_is_defined_once():
    needle = "COALESCE(c." + "dedup_text"
    hits = [p.relative_to(ROOT).as_posix() for d in ("goldpan", "assets", "quality_checks")
            for p in (ROOT / d).rglob("*.py") if needle in p.read_text(encoding="utf-8")]
    assert hits == ["goldpan/lake/views.py"]


def test_no_cycles_between_packages():
    """The coarser graph too: package A importing anything of package B and B anything of A is a cycle
    (recipe loading, which reads the filter rule table and the language-ID labels, sits above them in
    `recipe_loader`; the recipe types stay at the bottom)."""
    assert _cycles(_cross_package_edges(_package)) == []


#: An asset wires the library to Dagster: a call into the library's stage entry point plus metadata.
MAX_ASSET_FUNCTION_LINES = 40


def test_asset_functions_are_short():
    """Every function in assets/*.py (nested ones counted inside their parent), from `def` to its last
    line, fits in MAX_ASSET_FUNCTION_LINES: stage work lives in `goldpan/<stage>/`, not in the wiring."""
    long = {}
    for path in sorted((ROOT / "assets").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_ASSET_FUNCTION_LINES:
                    long[f"{path.name}:{node.name}"] = lines
    assert long == {}


def _test_sources() -> dict[str, ast.Module]:
    return {p.relative_to(ROOT).as_posix(): ast.parse(p.read_text(encoding="utf-8"))
            for p in (ROOT / "tests").rglob("*.py")}


def test_tests_share_helpers_through_fixtures_only():
    """Shared helpers live in tests/fixtures/; no module imports a test module (tests/**/test_*.py)."""
    offenders = []
    for path, tree in _test_sources().items():
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path}: {n}" for n in names if n.rpartition(".")[2].startswith("test_")]
    assert offenders == []


def test_no_test_monkeypatches_the_asset_layer():
    """Library behaviour is reached through the library: a test that must patch `assets.*` tests the
    wiring instead (the dedup crash test patches goldpan.dedup.stage, where the write order lives)."""
    offenders = []
    for path, tree in _test_sources().items():
        from_assets = {a.asname or a.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                       and (node.module or "").split(".")[0] == "assets" for a in node.names}
        from_assets |= {(a.asname or a.name).split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                        for a in node.names if a.name.split(".")[0] == "assets"}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "setattr"
                    and node.args):
                target = node.args[0]
                if (isinstance(target, ast.Constant) and str(target.value).startswith("assets.")) or (
                        isinstance(target, ast.Name) and target.id in from_assets):
                    offenders.append(f"{path}:{node.lineno}")
    assert offenders == []


def test_loading_the_code_location_imports_no_text_model_library():
    """Every process that loads the code location (the UI, the daemon, each run's driver) imports
    `definitions`; spaCy (~0.5 s and its memory), Great Expectations (~2.5 s, scipy.stats) and tiktoken load
    only where a stage uses them. A module-level `from spacy.attrs import ORTH` in the fast tokenizer
    once made every one of those processes import spaCy."""
    import subprocess
    import sys

    code = ("import sys, definitions; "
            "print(sorted(m for m in ('spacy', 'great_expectations', 'tiktoken', 'ray') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
