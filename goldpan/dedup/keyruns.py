"""Sorted key runs beside `dedup_index`: a batch's lookup costs a search per probe key, not a scan of
every index key.

Why: a batch's band and anchor keys are random, ~1 % of them hit an index of 1M documents, so every
index block holds a probe and any scan of the Delta files (`keyscan`) grows with the index (21x from
10k to 1M documents). Here each batch's index rows become one immutable *run*: per kind, its keys
sorted (int64) with a reference into the run's payload (the distinct (doc_id, cluster_id,
batch_id, config) tuples, an Arrow IPC file). Runs are memory-mapped; a lookup is one `searchsorted`
of the sorted probe keys per run and kind, then a gather of the payload of the few hits. Runs are
merged LSM style (`fanin` runs of one level become one run of the next), so a lookup searches a few
runs whatever the number of batches.

The runs mirror the Delta table; the table stays the truth. The manifest records the Delta version
(and table id) the runs cover. A reader validates them against the table at the version it reads:

- the same version: the runs answer;
- later commits that only compact or vacuum (`OPTIMIZE`, `VACUUM START/END`: no row changes), or
  that replace one batch's rows (`WRITE` in mode Overwrite with the predicate `batch_id = 'X'`, what
  `store.write_index` does: a concurrent run, or a crash between the Delta commit and the runs'
  update): the runs answer, with batch X's rows read from the table at that version instead;
- anything else (a takedown's DELETE, an append, a restore, a recreated table, log history gone):
  the runs are not used and the lookup scans the table (`keyscan`); the next `update` rebuilds them.

So a lookup never answers from rows the table no longer holds. `update` (called by `write_index`
after its commits, under a file lock) brings the runs to the table's current version the same way
and persists them; a manifest is replaced atomically, a run directory is written before the manifest
names it, and directories no manifest names are removed by the next update.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import ipc

from goldpan.folder_lock import folder_lock

FORMAT = 1
TABLE = "dedup_index"
KINDS = ("url", "sha1", "band", "anchor")
PAYLOAD_COLUMNS = ["doc_id", "cluster_id", "batch_id", "config"]
PAYLOAD = pa.schema([(c, pa.string()) for c in PAYLOAD_COLUMNS])
ROW_COLUMNS = ["kind", "key", *PAYLOAD_COLUMNS]
#: Operations that rewrite files without changing rows.
NO_CHANGE_OPS = frozenset({"OPTIMIZE", "VACUUM START", "VACUUM END"})
_BATCH_PREDICATE = re.compile(r"^batch_id = '([A-Za-z0-9_.:\-]{1,128})'$")
#: Commit metadata key of `write_index`'s dedup_index commit: lets `update` recognise its own commit.
WRITE_TOKEN = "goldpan.index_write"
_NULL = "\x00"  # stands for a null id inside the payload key (ids never contain it)


def runs_dir(lake) -> Path | None:
    """Where `lake`'s runs live (`<root>/_keyruns/dedup_index`), or None for a lake that is not local."""
    if not lake.is_local:
        return None
    return Path(lake.root.removeprefix("file://")) / "_keyruns" / TABLE


# -- one run ---------------------------------------------------------------------------------------
@dataclass
class Run:
    """Per kind sorted keys and their payload rows; `payload` holds the distinct row tuples."""

    keys: dict[str, np.ndarray]
    refs: dict[str, np.ndarray]
    payload: pa.Table
    batches: list[str]  # batches whose rows the run holds (each batch's rows are all in one run)
    name: str = ""

    @property
    def rows(self) -> int:
        return int(sum(k.size for k in self.keys.values()))

    def probe(self, kind: str, probes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(keys, payload rows) of every entry of `kind` whose key is in `probes` (sorted, unique).

        The smaller side is searched in the larger: a batch's probes in a big run, or a small run's
        keys in the probes (which also finds every row of a key held by several rows)."""
        keys = self.keys.get(kind)
        if keys is None or keys.size == 0 or probes.size == 0:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        if keys.size <= probes.size:
            at = np.searchsorted(probes, keys)
            np.minimum(at, probes.size - 1, out=at)
            pos = np.flatnonzero(probes[at] == keys)
        else:
            at = np.searchsorted(keys, probes)
            inside = at < keys.size
            hit = np.zeros(probes.size, dtype=bool)
            hit[inside] = keys[at[inside]] == probes[inside]
            if not hit.any():
                return np.empty(0, np.int64), np.empty(0, np.int64)
            lo = at[hit]
            hi = np.searchsorted(keys, probes[hit], side="right")  # a key can sit in several rows
            n = hi - lo
            pos = np.repeat(lo - np.cumsum(n) + n, n) + np.arange(int(n.sum()))
        return keys[pos], self.refs[kind][pos].astype(np.int64)


def _plain(t: pa.Table) -> pa.Table:
    """Columns as plain string/int64 (files deltalake rewrote record string_view)."""
    want = pa.schema([("kind", pa.string()), ("key", pa.int64()), *PAYLOAD])
    return t.select(ROW_COLUMNS).cast(want)


def run_from_rows(rows: pa.Table, batches: list[str]) -> Run:
    """A run of `rows` (columns kind, key, doc_id, cluster_id, batch_id, config) of `batches`."""
    rows = _plain(rows)
    # each row's payload tuple as one integer (per-column dictionary codes), then its distinct values
    code = np.zeros(rows.num_rows, dtype=np.int64)
    for c in PAYLOAD_COLUMNS:
        enc = pc.dictionary_encode(pc.fill_null(rows.column(c), _NULL)).combine_chunks()
        if code.size and int(code.max()) >= 1 << 31:  # keep the product of dictionary sizes in int64
            code = np.unique(code, return_inverse=True)[1].astype(np.int64)
        code = code * max(1, len(enc.dictionary)) + enc.indices.to_numpy(zero_copy_only=False)
    _, first, inverse = np.unique(code, return_index=True, return_inverse=True)
    payload = rows.select(PAYLOAD_COLUMNS).take(pa.array(first)).combine_chunks()
    refs_all = inverse.astype(np.int32)
    key_col = rows.column("key").to_numpy()
    keys, refs = {}, {}
    for kind in KINDS:
        sel = np.flatnonzero(pc.equal(rows.column("kind"), kind).to_numpy(zero_copy_only=False))
        k = key_col[sel]
        order = np.argsort(k)
        keys[kind] = k[order]
        refs[kind] = refs_all[sel][order]
    return Run(keys, refs, payload, sorted(batches))


def merge_runs(runs: list[Run], live: Callable[[Run], set[str]]) -> Run:
    """One run holding the live batches' entries of `runs` (entries of dead batches are dropped)."""
    payloads, maps, batches = [], [], []
    offset = 0
    for r in runs:
        alive = set(live(r))
        keep = pc.is_in(r.payload.column("batch_id"), pa.array(sorted(alive), pa.string())).to_numpy(
            zero_copy_only=False) if r.payload.num_rows else np.zeros(0, bool)
        new_ref = np.full(r.payload.num_rows, -1, dtype=np.int64)
        new_ref[keep] = offset + np.arange(int(keep.sum()))
        offset += int(keep.sum())
        payloads.append(r.payload.filter(pa.array(keep)))
        maps.append(new_ref)
        batches += [b for b in r.batches if b in alive]
    keys, refs = {}, {}
    for kind in KINDS:
        ks, rs = [], []
        for r, m in zip(runs, maps, strict=True):
            ref = m[np.asarray(r.refs[kind], dtype=np.int64)]
            ok = ref >= 0
            ks.append(np.asarray(r.keys[kind])[ok])
            rs.append(ref[ok])
        k = np.concatenate(ks) if ks else np.empty(0, np.int64)
        order = np.argsort(k, kind="stable")  # timsort: linear-ish over concatenated sorted runs
        keys[kind] = k[order]
        refs[kind] = np.concatenate(rs)[order].astype(np.int32) if rs else np.empty(0, np.int32)
    payload = pa.concat_tables(payloads).combine_chunks() if payloads else PAYLOAD.empty_table()
    return Run(keys, refs, payload, sorted(set(batches)))  # a rebuild's runs share batches


def _save_run(root: Path, run: Run) -> str:
    name = f"run-{uuid.uuid4().hex[:16]}"
    tmp = root / f".tmp-{name}"
    tmp.mkdir(parents=True)
    for kind in KINDS:
        np.save(tmp / f"{kind}.keys.npy", np.ascontiguousarray(run.keys[kind], dtype=np.int64))
        np.save(tmp / f"{kind}.refs.npy", np.ascontiguousarray(run.refs[kind], dtype=np.int32))
    with ipc.new_file(str(tmp / "payload.arrow"), PAYLOAD) as w:
        w.write_table(run.payload.cast(PAYLOAD))
    os.replace(tmp, root / name)
    run.name = name
    return name


def _load_run(root: Path, name: str, batches: list[str]) -> Run:
    d = root / name
    # plain ndarray views of the maps: np.memmap's subclass hooks cost more than a search of a small run
    keys = {k: np.asarray(np.load(d / f"{k}.keys.npy", mmap_mode="r")) for k in KINDS}
    refs = {k: np.asarray(np.load(d / f"{k}.refs.npy", mmap_mode="r")) for k in KINDS}
    payload = ipc.open_file(pa.memory_map(str(d / "payload.arrow"))).read_all()
    return Run(keys, refs, payload, list(batches), name)


# -- manifest and validation ------------------------------------------------------------------------
@dataclass
class Manifest:
    """What the persisted runs cover: Delta `version` of table `table_id`, and per run its live batches."""

    version: int = -1
    table_id: str = ""
    runs: list[dict] = field(default_factory=list)  # {"name", "batches" (live), "level"}

    @classmethod
    def load(cls, root: Path) -> Manifest | None:
        try:
            d = json.loads((root / "manifest.json").read_text())
        except (FileNotFoundError, ValueError):
            return None
        if d.get("format") != FORMAT:
            return None
        return cls(int(d["version"]), str(d["table_id"]), list(d["runs"]))

    def save(self, root: Path) -> None:
        tmp = root / f".manifest-{uuid.uuid4().hex[:8]}.json"
        tmp.write_text(json.dumps({"format": FORMAT, "version": self.version, "table_id": self.table_id,
                                   "runs": self.runs}))
        os.replace(tmp, root / "manifest.json")


def batch_of_commit(commit: dict) -> str | None:
    """The batch whose rows a commit replaced (`write_index`'s predicate write), else None."""
    if commit.get("operation") != "WRITE":
        return None
    params = commit.get("operationParameters") or {}
    if str(params.get("mode", "")).lower() != "overwrite":
        return None
    m = _BATCH_PREDICATE.match(str(params.get("predicate") or ""))
    return m.group(1) if m else None


def changes_since(dt, since: int) -> dict[str, dict] | None:
    """{batch: its last commit} for the batches whose rows commits (since, dt.version()] replaced, in
    commit order; None when some commit did anything else that may change rows (the runs are then no
    longer a mirror of the table)."""
    now = dt.version()
    if now == since:
        return {}
    if now < since:
        return None
    history = dt.history(now - since)
    if {int(c.get("version", -1)) for c in history} != set(range(since + 1, now + 1)):
        return None  # history incomplete (log cleaned up)
    changed: dict[str, dict] = {}
    for c in sorted(history, key=lambda c: int(c["version"])):
        if c.get("operation") in NO_CHANGE_OPS:
            continue
        b = batch_of_commit(c)
        if b is None:
            return None
        changed.pop(b, None)
        changed[b] = c
    return changed


def table_id(dt) -> str:
    return str(dt.metadata().id)


def read_batch_rows(lake, dt, batch_id: str) -> pa.Table:
    """Batch `batch_id`'s rows of `dedup_index` at `dt`'s version (DuckDB prunes row groups on
    batch_id statistics: ~1 s of CPU at 1M documents, where a filtered Arrow dataset took 10 s)."""
    from goldpan.lake import Lake

    whole = Lake(lake.root, lake.storage_options)  # the table as it is, whatever view `lake` has
    batches = whole.iter_batches(f"SELECT {', '.join(ROW_COLUMNS)} FROM {TABLE} WHERE batch_id = ?", [batch_id],
                                tables=[TABLE], batch_size=1 << 20, versions={TABLE: dt.version()})
    schema = pa.schema([("kind", pa.string()), ("key", pa.int64()), *PAYLOAD])
    return _plain(pa.Table.from_batches([b.cast(schema) for b in batches], schema=schema))


#: Rows per run a rebuild reads at once (the table's files in this many rows per run, then merged).
REBUILD_CHUNK_ROWS = 16_000_000


def _rebuild_runs(lake, dt, root: Path, fanin: int) -> list[tuple[Run, dict]]:
    """Runs of the whole table at `dt`'s version, in one pass over its files: groups of files of about
    `REBUILD_CHUNK_ROWS` rows become one run each (listing every batch it holds), then merged.

    Why not batch by batch: after compaction every file holds rows of every batch, and a filtered
    read per batch parses every file footer each time (10 s of CPU per batch at 1M documents)."""
    import pyarrow.parquet as pq

    from goldpan.dedup.keyscan import _without_views

    paths = sorted(u.removeprefix("file://") for u in dt.file_uris())
    runs: list[tuple[Run, dict]] = []
    chunk: list[pa.Table] = []
    n = 0

    def flush() -> None:
        nonlocal runs, chunk, n
        if not chunk:
            return
        rows = pa.concat_tables(chunk)
        batches = sorted(b for b in pc.unique(rows.column("batch_id")).to_pylist() if b is not None)
        run = run_from_rows(rows, batches)
        _save_run(root, run)
        runs.append((run, {"name": run.name, "batches": batches, "level": _level(len(batches), fanin)}))
        runs, _merged = _merge_levels(root, runs, fanin)
        chunk, n = [], 0

    for path in paths:
        m = re.search(r"/kind=([^/]+)/", path)
        t = _without_views(pq.read_table(path, columns=["key", *PAYLOAD_COLUMNS]))
        if m is None or t.num_rows == 0:
            if t.num_rows:
                raise ValueError(f"dedup_index file outside a kind= partition: {path}")
            continue
        chunk.append(t.append_column("kind", pa.array([m.group(1)] * t.num_rows, pa.string())))
        n += t.num_rows
        if n >= REBUILD_CHUNK_ROWS:
            flush()
    flush()
    return runs


# -- the view a lookup uses --------------------------------------------------------------------------
class RunView:
    """The runs that mirror `dedup_index` at one Delta version (persisted runs plus, for batches
    committed after them, runs read from the table)."""

    def __init__(self, runs: list[tuple[Run, set[str]]], version: int) -> None:
        self.runs = runs  # (run, live batches)
        self.version = version
        self._live_rows: dict[int, np.ndarray] = {}

    def _live_payload(self, i: int) -> np.ndarray:
        if i not in self._live_rows:
            run, live = self.runs[i]
            col = run.payload.column("batch_id")
            self._live_rows[i] = pc.is_in(col, pa.array(sorted(live), pa.string())).to_numpy(
                zero_copy_only=False) if run.payload.num_rows else np.zeros(0, bool)
        return self._live_rows[i]

    def lookup(self, kind: str, keys: np.ndarray, config: str, before_batch: str) -> list[tuple]:
        """(key, doc_id, cluster_id, batch_id) of rows of `kind` with a key in `keys`, config `config`
        and batch before `before_batch`, sorted by (key, batch_id, doc_id): the table scan's answer."""
        from goldpan.dedup.shingles import sorted_unique

        probes = sorted_unique(np.asarray(keys, dtype=np.int64))
        out: list[tuple] = []
        for i, (run, _live) in enumerate(self.runs):
            k, ref = run.probe(kind, probes)
            if k.size == 0:
                continue
            ok = self._live_payload(i)[ref]
            k, ref = k[ok], ref[ok]
            if k.size == 0:
                continue
            rows = run.payload.take(pa.array(ref))
            docs, clusters, batches, configs = (rows.column(c).to_pylist() for c in PAYLOAD_COLUMNS)
            out += [(kk, d, c, b) for kk, d, c, b, cfg in zip(k.tolist(), docs, clusters, batches, configs, strict=True)
                    if cfg == config and b < before_batch]
        out.sort(key=lambda r: (r[0], r[3], r[1]))
        return out


def open_view(lake, dt) -> RunView | None:
    """The runs valid for `dt` (the table as the lookup reads it), or None (then scan the table)."""
    root = runs_dir(lake)
    if root is None:
        return None
    m = Manifest.load(root)
    if m is None or m.table_id != table_id(dt):
        return None
    changed = changes_since(dt, m.version)
    if changed is None:
        return None
    try:
        runs = [(_load_run(root, r["name"], r["batches"]), set(r["batches"]) - set(changed)) for r in m.runs]
    except FileNotFoundError:  # a concurrent update removed a run after we read the manifest
        return None
    for b in changed:
        rows = read_batch_rows(lake, dt, b)
        runs.append((run_from_rows(rows, [b]), {b}))
    return RunView(runs, dt.version())


# -- keeping the runs in step ------------------------------------------------------------------------
def _level(n_batches: int, fanin: int) -> int:
    return int(math.log(max(1, n_batches), fanin) + 1e-9)


def update(lake, fanin: int = 4, own: tuple[str, str, Callable[[], Iterable[pa.RecordBatch]]] | None = None) -> dict:
    """Bring the persisted runs to `dedup_index`'s current version and merge runs per `fanin`.

    `own` = (batch_id, token, rows) for the batch the caller has just committed with commit metadata
    `WRITE_TOKEN: token`: when that commit is the batch's last one, its rows are taken from `rows()`
    (what was written) instead of being read back. Batches other commits replaced are read from the table; a
    commit that is not a batch replacement (or missing runs) makes this a rebuild from the table."""
    root = runs_dir(lake)
    dt = lake.table(TABLE)
    if root is None or dt is None:
        return {}
    t0 = time.perf_counter()
    stats = {"keyruns_rebuilt": 0, "keyruns_batches_read": 0, "keyruns_merged": 0}
    with folder_lock(root, "lock"):
        m = Manifest.load(root)
        changed = None
        if m is not None and m.table_id == table_id(dt):
            changed = changes_since(dt, m.version)
            try:
                runs = [(_load_run(root, r["name"], r["batches"]), r) for r in m.runs]
            except FileNotFoundError:
                changed = None
        if changed is None:  # rebuild
            m = Manifest(table_id=table_id(dt))
            runs = _rebuild_runs(lake, dt, root, fanin)
            changed = {}
            stats["keyruns_rebuilt"] = 1
        for b, commit in changed.items():
            if own is not None and b == own[0] and commit.get(WRITE_TOKEN) == own[1]:
                # a batch that wrote no index rows (every document unchanged or rejected upstream) has
                # no record batch to build a table from: it leaves no run, and its older entries die
                written = list(own[2]())
                rows = pa.Table.from_batches(written) if written else pa.table({})
            else:
                rows = read_batch_rows(lake, dt, b)
                stats["keyruns_batches_read"] += 1
            runs, merged = add_batch_run(root, runs, b, rows, fanin)
            stats["keyruns_merged"] += merged
        runs = [(r, e) for r, e in runs if e["batches"]]
        m.version = dt.version()
        m.runs = [e for _, e in runs]
        publish(root, m)
        stats.update(keyruns_runs=len(m.runs), keyruns_version=m.version,
                     keyruns_ms=int((time.perf_counter() - t0) * 1000))
    return stats


def add_batch_run(root: Path, runs: list[tuple[Run, dict]], batch_id: str, rows: pa.Table,
                  fanin: int) -> tuple[list[tuple[Run, dict]], int]:
    """`runs` with batch `batch_id`'s rows replaced by `rows` (its entries in older runs become dead),
    merged per `fanin`: what `update` does for each batch a commit replaced. Returns (runs, merges)."""
    for _, entry in runs:
        if batch_id in entry["batches"]:
            entry["batches"] = [x for x in entry["batches"] if x != batch_id]
    if rows.num_rows == 0:
        return runs, 0
    run = run_from_rows(rows, [batch_id])
    _save_run(root, run)
    return _merge_levels(root, [*runs, (run, {"name": run.name, "batches": [batch_id], "level": 0})], fanin)


def _merge_levels(root: Path, runs: list[tuple[Run, dict]], fanin: int) -> tuple[list[tuple[Run, dict]], int]:
    """Merge `fanin` runs of one level into one run of the next, until no level holds `fanin` runs."""
    merged = 0
    while True:
        by_level: dict[int, list[int]] = {}
        for i, (_, e) in enumerate(runs):
            by_level.setdefault(_level(len(e["batches"]), fanin), []).append(i)
        full = [lv for lv, ix in by_level.items() if len(ix) >= fanin]
        if not full:
            return runs, merged
        ix = by_level[min(full)][:fanin]
        group = [runs[i] for i in ix]
        new = merge_runs([r for r, _ in group], live=lambda r, g=group: set(next(e for x, e in g if x is r)["batches"]))
        _save_run(root, new)
        entry = {"name": new.name, "batches": new.batches, "level": _level(len(new.batches), fanin)}
        runs = [x for i, x in enumerate(runs) if i not in ix] + [(new, entry)]
        merged += 1


def publish(root: Path, manifest: Manifest) -> None:
    """Replace the manifest (atomically), then remove run directories it does not name: runs merged
    away, runs of batches replaced, orphans of a writer that crashed before its manifest."""
    manifest.save(root)
    _remove_unlisted(root, {e["name"] for e in manifest.runs})


def _remove_unlisted(root: Path, names: set[str]) -> None:
    for d in root.iterdir():
        if d.is_dir() and d.name not in names:
            shutil.rmtree(d, ignore_errors=True)
