"""The WARC importer as it is on another git revision (default `main`), loaded as a separate module
next to the current one, so that one benchmark run times both under the same machine load.

    old = load_importer("main")   # a module with rows_from_file, import_warc_batch, WarcSection (WarcImportConfig before)

Only `goldpan/warc/importer.py` and `goldpan/warc/reader.py` of that revision are taken (what the
import's speed depends on); the rest of goldpan (crawl helpers, lake) is the current one.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent


def _show(rev: str, path: str) -> str:
    return subprocess.run(["git", "show", f"{rev}:{path}"], cwd=ROOT, check=True, capture_output=True,
                          text=True).stdout  # fmt: skip


def _load(name: str, source: str, folder: Path) -> ModuleType:
    file = folder / f"{name}.py"
    file.write_text(source)
    spec = importlib.util.spec_from_file_location(name, file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_importer(rev: str = "main") -> ModuleType:
    tag = rev.replace("/", "_").replace("-", "_")
    folder = Path(tempfile.mkdtemp(prefix=f"warc-{tag}-"))
    reader = f"goldpan_warc_reader_{tag}"
    _load(reader, _show(rev, "goldpan/warc/reader.py"), folder)
    importer = _show(rev, "goldpan/warc/importer.py").replace("from goldpan.warc.reader import", f"from {reader} import")
    return _load(f"goldpan_warc_importer_{tag}", importer, folder)
