"""Real multilingual documentation HTML from Debian packages, cached outside git, for benchmarks and
the real-size tests.

Why this exists: goldpan is judged on real pages at real volume (thousands of pages, many languages,
huge index pages), never on the bundled sample. Debian's archive is reachable from every machine this
project runs on, and its documentation packages carry real HTML written by people:

- LibreOffice's offline help (`libreoffice-help-<lang>`): ~2,500 pages per language in 30+ languages,
  Korean, Japanese and Chinese included; partly untranslated pages stay in English, as on real sites.
- Project manuals: `postgresql-doc-15` (~1,200 pages, index pages with thousands of links),
  `python3.11-doc` (~500 pages, `genindex-all.html` with >10,000 links), and the Debian manuals
  (`debian-reference-*`, `developers-reference-*`, `maint-guide-*`, `debian-faq-*`) in their translations.

`apt-get download` + `dpkg -x` needs no install; when the package lists are missing (a fresh machine)
`apt-get update` is run once. Everything lands in a cache folder (`GOLDPAN_REALDOCS_CACHE`, default
`~/.cache/goldpan/realdocs`) shared by every checkout on the machine and guarded by a file lock, so
parallel runs do not extract the same package twice.

Page order is deterministic: languages and, within a language, packages are interleaved round-robin,
so any `min_pages` prefix is a balanced multilingual slice and the same call gives the same pages.

CLI: `python bench/realdocs.py --pages 6000 [--langs en,ja,...] [--warc OUT.warc.gz]`.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from goldpan.folder_lock import folder_lock

#: Packages per language; the language is the one the package is written in (its translation), which
#: is what language-ID accuracy is measured against. Order matters only for the round-robin.
PACKAGES: dict[str, tuple[str, ...]] = {
    "en": ("postgresql-doc-15", "python3.11-doc", "libreoffice-help-en-us", "debian-reference-en",
           "developers-reference", "maint-guide", "debian-faq"),
    "zh": ("libreoffice-help-zh-cn", "debian-reference-zh-cn", "maint-guide-zh-cn", "debian-faq-zh-cn"),
    "zh-tw": ("libreoffice-help-zh-tw", "debian-reference-zh-tw", "maint-guide-zh-tw"),
    "ja": ("libreoffice-help-ja", "debian-reference-ja", "developers-reference-ja", "maint-guide-ja",
           "debian-faq-ja"),
    "ko": ("libreoffice-help-ko", "debian-faq-ko"),
    "ru": ("libreoffice-help-ru", "developers-reference-ru", "maint-guide-ru", "debian-faq-ru"),
    "de": ("libreoffice-help-de", "debian-reference-de", "developers-reference-de", "maint-guide-de",
           "debian-faq-de"),
    "fr": ("libreoffice-help-fr", "debian-reference-fr", "developers-reference-fr", "maint-guide-fr",
           "debian-faq-fr"),
    "es": ("libreoffice-help-es", "debian-reference-es", "maint-guide-es"),
    "it": ("libreoffice-help-it", "debian-reference-it", "developers-reference-it", "maint-guide-it",
           "debian-faq-it"),
    "pt": ("libreoffice-help-pt", "debian-reference-pt", "debian-faq-pt"),
    "nl": ("libreoffice-help-nl", "debian-faq-nl"),
    "pl": ("libreoffice-help-pl",),
    "cs": ("libreoffice-help-cs",),
    "sv": ("libreoffice-help-sv",),
    "tr": ("libreoffice-help-tr",),
    "vi": ("libreoffice-help-vi", "maint-guide-vi"),
    "hu": ("libreoffice-help-hu",),
    "el": ("libreoffice-help-el",),
    "id": ("libreoffice-help-id", "debian-reference-id"),
    "hi": ("libreoffice-help-hi",),
}

#: Languages of the default slice: the ones the issues measure first, CJK and Cyrillic included.
DEFAULT_LANGS: tuple[str, ...] = ("en", "zh", "ja", "ko", "ru", "de", "fr", "es", "it", "pt", "nl", "pl",
                                  "cs", "sv", "zh-tw", "tr", "vi", "hu", "el", "id")

#: Files that are not pages a crawler would keep as documents of the manual (scripts' shells, stubs).
_SKIP_NAMES = frozenset({"noscript.html", "search.html"})


@dataclass(frozen=True)
class RealPage:
    """One real HTML file: where it lives on disk, the URL it is published under here, its language."""

    url: str
    path: Path
    lang: str
    package: str

    @property
    def html(self) -> bytes:
        return self.path.read_bytes()


def cache_dir() -> Path:
    return Path(os.environ.get("GOLDPAN_REALDOCS_CACHE", Path.home() / ".cache" / "goldpan" / "realdocs"))


class PackageUnavailable(RuntimeError):
    """The Debian mirror could not be reached or does not have the package (tests skip on this)."""


def _download(package: str, debs: Path) -> Path:
    def attempt() -> subprocess.CompletedProcess:
        return subprocess.run(["apt-get", "download", package], check=False, cwd=debs,
                               capture_output=True, text=True)

    res = attempt()
    if res.returncode != 0 and "Unable to locate" in (res.stderr or ""):
        subprocess.run(["apt-get", "update", "-qq"], check=False, capture_output=True)
        res = attempt()
    found = sorted(debs.glob(f"{package}_*.deb"))
    if res.returncode != 0 or not found:
        raise PackageUnavailable(f"apt-get download {package} failed: {(res.stderr or '').strip()[:300]}")
    return found[-1]


def ensure_package(package: str) -> Path:
    """The package's extracted tree (downloaded and extracted once per machine)."""
    root = cache_dir()
    tree = root / "tree" / package
    if (tree / ".done").exists():
        return tree
    with folder_lock(root):
        if (tree / ".done").exists():
            return tree
        debs = root / "debs"
        debs.mkdir(parents=True, exist_ok=True)
        deb = _download(package, debs)
        tree.mkdir(parents=True, exist_ok=True)
        subprocess.run(["dpkg", "-x", str(deb), str(tree)], check=True, capture_output=True)
        (tree / ".done").write_text(deb.name)
    return tree


def _html_files(tree: Path) -> list[Path]:
    files = [p for p in tree.rglob("*") if p.suffix in (".html", ".htm") and p.is_file()
             and p.name not in _SKIP_NAMES and p.stat().st_size > 0]
    return sorted(files)


def package_pages(package: str, lang: str) -> list[RealPage]:
    """Every HTML page of one package, published as `https://<package>.realdocs.test/<path>`, where the
    path is relative to the package's documentation root (the deepest folder holding all its pages)."""
    tree = ensure_package(package)
    files = _html_files(tree)
    if not files:
        return []
    doc_root = Path(os.path.commonpath([str(p.parent) for p in files]))
    return [RealPage(url=f"https://{package}.realdocs.test/{p.relative_to(doc_root).as_posix()}",
                     path=p, lang=lang, package=package) for p in files]


def doc_root(package: str) -> Path:
    """The folder a static server publishes for `package` (see `site_root`)."""
    files = _html_files(ensure_package(package))
    return Path(os.path.commonpath([str(p.parent) for p in files]))


def _round_robin(lists: Sequence[Sequence[RealPage]]) -> Iterator[RealPage]:
    iters = [iter(x) for x in lists if x]
    while iters:
        alive = []
        for it in iters:
            nxt = next(it, None)
            if nxt is not None:
                yield nxt
                alive.append(it)
        iters = alive


def real_pages(min_pages: int = 5000, langs: Iterable[str] | None = None,
               packages: dict[str, tuple[str, ...]] | None = None) -> list[RealPage]:
    """At least `min_pages` real pages (fewer only if the chosen packages hold fewer), interleaved by
    language and package. Packages that cannot be downloaded are skipped with a note on stderr; if none
    can, `PackageUnavailable` is raised."""
    table = packages or PACKAGES
    chosen = list(langs) if langs is not None else [lang for lang in DEFAULT_LANGS if lang in table]
    per_lang: list[list[RealPage]] = []
    missing: list[str] = []
    for lang in chosen:
        lists = []
        for pkg in table.get(lang, ()):
            try:
                lists.append(package_pages(pkg, lang))
            except PackageUnavailable as exc:
                missing.append(str(exc))
        per_lang.append(list(_round_robin(lists)))
    if missing:
        print(f"realdocs: {len(missing)} package(s) unavailable: {missing[0]}", file=sys.stderr)
    if not any(per_lang):
        raise PackageUnavailable("no documentation package could be downloaded")
    out: list[RealPage] = []
    for page in _round_robin(per_lang):
        out.append(page)
        if len(out) >= min_pages:
            break
    return out


def site_root(packages: Iterable[str] | None = None) -> Path:
    """A folder servable as one static site: `/<package>/...` is the package's documentation root
    (symlinks), so the manuals' relative links work when crawled from `/`. An `index.html` links to every
    package; it is rewritten when the package set changes."""
    names = sorted(packages) if packages is not None else sorted({p for v in PACKAGES.values() for p in v})
    root = cache_dir() / "site"
    root.mkdir(parents=True, exist_ok=True)
    kept = []
    for name in names:
        try:
            target = doc_root(name)
        except PackageUnavailable:
            continue
        link = root / name
        if link.is_symlink() and Path(os.readlink(link)) != target:
            link.unlink()
        if not link.exists():
            link.symlink_to(target, target_is_directory=True)
        kept.append(name)
    links = "\n".join(f'<li><a href="/{n}/">{n}</a></li>' for n in kept)
    (root / "index.html").write_text(
        f"<!DOCTYPE html><html><head><meta charset=utf-8><title>realdocs</title></head>"
        f"<body><h1>Documentation</h1><ul>\n{links}\n</ul></body></html>\n", encoding="utf-8")
    return root


def _record(headers: list[tuple[str, str]], block: bytes) -> bytes:
    head = "WARC/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    return head.encode("utf-8") + block + b"\r\n\r\n"


def _sha1_b32(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


def write_warc(pages: Iterable[RealPage], out: Path) -> Path:
    """A gzip-per-record WARC/1.1 of `response` records, one per page, as a crawler would have written
    them: HTTP/1.1 200 with `Content-Type: text/html` (no charset: the page's own `<meta>` says it, as
    for most real servers), Last-Modified from the file, payload and block digests. Byte-identical for
    the same pages (record ids and dates derive from the URL and the file), written atomically."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    with open(tmp, "wb") as fh:
        info = b"software: goldpan bench/realdocs.py\r\nformat: WARC File Format 1.1\r\n"
        fh.write(gzip.compress(_record([
            ("WARC-Type", "warcinfo"), ("WARC-Date", "2026-01-01T00:00:00Z"),
            ("WARC-Record-ID", f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, str(out.name))}>"),
            ("Content-Type", "application/warc-fields"), ("Content-Length", str(len(info)))], info), mtime=0))
        for page in pages:
            body = page.html
            mtime = datetime.fromtimestamp(page.path.stat().st_mtime, UTC)
            http = (f"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {len(body)}\r\n"
                    f"Last-Modified: {mtime.strftime('%a, %d %b %Y %H:%M:%S GMT')}\r\n\r\n").encode("ascii")
            block = http + body
            fh.write(gzip.compress(_record([
                ("WARC-Type", "response"), ("WARC-Target-URI", page.url),
                ("WARC-Date", mtime.strftime("%Y-%m-%dT%H:%M:%SZ")),
                ("WARC-Record-ID", f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, page.url)}>"),
                ("Content-Type", "application/http; msgtype=response"),
                ("WARC-Payload-Digest", _sha1_b32(body)), ("WARC-Block-Digest", _sha1_b32(block)),
                ("Content-Length", str(len(block)))], block), mtime=0))
    tmp.replace(out)
    return out


def cached_warc(min_pages: int, langs: Sequence[str] | None = None) -> Path:
    """The WARC of `real_pages(min_pages, langs)`, built once into the cache and reused."""
    tag = "all" if langs is None else "-".join(langs)
    out = cache_dir() / "warc" / f"realdocs-{min_pages}-{tag}.warc.gz"
    if out.exists():
        return out
    pages = real_pages(min_pages, langs)
    with folder_lock(cache_dir()):
        if not out.exists():
            write_warc(pages, out)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=5000)
    ap.add_argument("--langs", default=None, help="comma-separated, default: " + ",".join(DEFAULT_LANGS))
    ap.add_argument("--warc", type=Path, default=None, help="write the pages as a WARC here")
    args = ap.parse_args(argv)
    langs = args.langs.split(",") if args.langs else None
    pages = real_pages(args.pages, langs)
    counts: dict[str, int] = {}
    for p in pages:
        counts[p.lang] = counts.get(p.lang, 0) + 1
    print(f"{len(pages)} pages: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])))
    if args.warc:
        write_warc(pages, args.warc)
        print(f"wrote {args.warc} ({args.warc.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
