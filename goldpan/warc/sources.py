"""Where WARC/WET files come from: local paths and globs, or object-store URIs with globs.

Object stores are reached through pyarrow's filesystems (S3, GCS; built into the pyarrow wheel),
configured from the same storage options the lake hands to deltalake, so one set of credentials
serves both. The deltalake option names (`AWS_ACCESS_KEY_ID`, `AWS_ENDPOINT_URL`, ...) are mapped
to pyarrow's arguments; keys that have no pyarrow equivalent are ignored.
"""

from __future__ import annotations

import fnmatch
import glob
import os
from collections.abc import Iterable, Mapping
from typing import IO

from goldpan.lake.objectstore import filesystem_for, is_uri

_GLOB_CHARS = set("*?[")


def expand_sources(patterns: Iterable[str], storage_options: Mapping[str, str] | None = None) -> list[str]:
    """Sorted, de-duplicated file list for `patterns` (paths, globs, URIs, URI globs).

    Local paths come back absolute. A pattern that matches nothing contributes nothing (the
    caller decides whether an empty batch is an error)."""
    out: list[str] = []
    for pat in patterns:
        pat = pat.removeprefix("file://")
        if is_uri(pat):
            if not _GLOB_CHARS & set(pat):
                out.append(pat)
                continue
            scheme = pat.split("://", 1)[0]
            fs, path = filesystem_for(pat, storage_options)
            base = path
            while base and _GLOB_CHARS & set(base):
                base = base.rsplit("/", 1)[0] if "/" in base else ""
            import pyarrow.fs as pafs

            infos = fs.get_file_info(pafs.FileSelector(base, recursive=True))
            out += [f"{scheme}://{i.path}" for i in infos if i.is_file and fnmatch.fnmatch(i.path, path)]
        elif _GLOB_CHARS & set(pat):
            out += [os.path.abspath(p) for p in glob.glob(os.path.expanduser(pat), recursive=True) if os.path.isfile(p)]
        else:
            out.append(os.path.abspath(os.path.expanduser(pat)))
    return sorted(dict.fromkeys(out))


def open_source(uri: str, storage_options: Mapping[str, str] | None = None) -> IO[bytes]:
    """A seekable binary stream of one file (seeking is what lets a damaged file be resynced)."""
    if not is_uri(uri):
        return open(uri.removeprefix("file://"), "rb", buffering=1 << 20)
    fs, path = filesystem_for(uri, storage_options)
    return fs.open_input_file(path)


def source_size(uri: str, storage_options: Mapping[str, str] | None = None) -> int | None:
    if not is_uri(uri):
        try:
            return os.path.getsize(uri.removeprefix("file://"))
        except OSError:
            return None
    fs, path = filesystem_for(uri, storage_options)
    return fs.get_file_info(path).size
