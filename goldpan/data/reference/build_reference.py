"""Rebuild the shipped reference sets from two Debian packages (run by hand; never at run time).

Why a script: the shipped JSONL files must be reproducible and their provenance checkable. Steps:

    apt-get download python3.11-doc debian-reference-zh-cn
    for f in *.deb; do dpkg -x "$f" x; done
    python goldpan/data/reference/build_reference.py x/usr/share/doc

It writes quality_en.jsonl, quality_zh.jsonl, math_seed.jsonl, code_seed.jsonl and general_seed.jsonl
next to itself (see README.md for licences). Each line is {"text", "source", "lang"}.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent

ROLE = re.compile(r":[a-zA-Z:~]+:`~?!?([^`<]*?)(?:\s*<[^>]*>)?`")
LINK = re.compile(r"`([^`<]+?)\s*<[^>]+>`_+")
LITERAL = re.compile(r"``([^`]+)``")
EMPH = re.compile(r"\*\*?([^*\n]+)\*\*?")
UNDERLINE = re.compile(r"^([=\-~^*+#\"'`.]){3,}\s*$")

MATH_DOCS = ["library/math", "library/cmath", "library/statistics", "library/fractions", "library/decimal",
             "library/numbers", "library/random", "tutorial/floatingpoint"]
CODE_DOCS = ["tutorial/controlflow", "tutorial/datastructures", "tutorial/classes", "tutorial/errors",
             "tutorial/inputoutput", "tutorial/modules", "tutorial/stdlib", "tutorial/stdlib2",
             "howto/sorting", "howto/functional", "howto/descriptor", "howto/logging-cookbook", "howto/regex",
             "howto/enum", "howto/argparse", "library/itertools", "library/collections", "library/functools",
             "library/dataclasses", "library/asyncio-task", "library/re", "library/json", "library/csv",
             "library/sqlite3", "library/unittest", "library/pathlib", "library/typing"]
QUALITY_DIRS = ["tutorial", "howto", "faq"]
GENERAL_DOCS = ["faq/general", "faq/installed", "faq/gui", "faq/windows", "howto/pyporting", "howto/unicode",
                "tutorial/appetite", "tutorial/whatnow", "tutorial/interpreter", "using/windows", "using/mac",
                "using/unix", "installing/index", "bugs", "about"]


def clean_inline(s: str) -> str:
    s = LINK.sub(r"\1", s)
    s = ROLE.sub(r"\1", s)
    s = LITERAL.sub(r"\1", s)
    s = EMPH.sub(r"\1", s)
    return s.replace("\\", "")


CODE_DIRECTIVES = ("code-block", "doctest", "testcode", "code", "sourcecode")
TEXT_DIRECTIVES = ("function", "method", "class", "attribute", "data", "exception", "decorator", "note",
                   "warning", "versionadded", "versionchanged", "deprecated", "describe", "classmethod",
                   "staticmethod", "abstractmethod", "impl-detail", "tip", "important", "seealso")


def _block(lines: list[str], i: int, base: int) -> tuple[list[str], int]:
    """Lines from i that are blank or indented deeper than `base` (an RST block body)."""
    out = []
    while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > base):
        out.append(lines[i])
        i += 1
    return out, i


def rst_blocks(text: str) -> tuple[list[str], list[str]]:
    """(prose paragraphs, code blocks) of one reStructuredText source."""
    prose: list[str] = []
    code: list[str] = []
    lines = text.splitlines()
    i, para, expect_code = 0, [], False

    def flush():
        if para:
            prose.append(clean_inline(" ".join(x.strip() for x in para)))
            para.clear()

    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        base = len(line) - len(line.lstrip())
        if not stripped:
            flush()
            i += 1
            continue
        if stripped.startswith(">>>"):
            flush()
            block = []
            while i < len(lines) and lines[i].strip():
                block.append(lines[i])
                i += 1
            code.append(_dedent("\n".join(block)))
            expect_code = False
            continue
        if expect_code and base > 0:
            flush()
            body, i = _block(lines, i, base - 1)
            code.append(_dedent("\n".join(body)))
            expect_code = False
            continue
        m = re.match(r"^\.\. ([a-zA-Z\-:]+)::", stripped)
        if stripped.startswith(".. "):
            flush()
            name = m.group(1).split(":")[-1] if m else ""
            i += 1
            if name in TEXT_DIRECTIVES:
                while i < len(lines) and re.match(r"^\s+:[a-zA-Z\-]+:", lines[i]):
                    i += 1
                continue
            body, i = _block(lines, i, base)
            body = [b for b in body if not re.match(r"^\s+:[a-zA-Z\-]+:", b)]
            if name in CODE_DIRECTIVES and "\n".join(body).strip():
                code.append(_dedent("\n".join(body)))
            continue
        if UNDERLINE.match(stripped):
            para.clear()  # the previous line was a heading
            i += 1
            continue
        para.append(line)
        expect_code = stripped.endswith("::")
        if expect_code:
            para[-1] = para[-1].rstrip()[:-1]
        i += 1
    flush()
    prose = [p for p in prose if len(p) >= 120 and not p.startswith(("|", "+"))]
    return prose, [c for c in code if c.strip()]


def _dedent(s: str) -> str:
    lines = s.splitlines()
    pad = min((len(x) - len(x.lstrip()) for x in lines if x.strip()), default=0)
    return "\n".join(x[pad:] for x in lines).strip()


def chunks(paragraphs: list[str], target: int, sep: str = "\n\n") -> list[str]:
    out, cur = [], []
    for p in paragraphs:
        cur.append(p)
        if sum(map(len, cur)) >= target:
            out.append(sep.join(cur))
            cur = []
    if cur and sum(map(len, cur)) >= target // 3:
        out.append(sep.join(cur))
    return out


def write(name: str, rows: list[dict], cap_bytes: int) -> None:
    total = 0
    with open(OUT / name, "w", encoding="utf-8") as fh:
        for r in rows:
            line = json.dumps(r, ensure_ascii=False) + "\n"
            total += len(line.encode())
            if total > cap_bytes:
                break
            fh.write(line)
    print(name, (OUT / name).stat().st_size, "bytes")


def zh_paragraphs(html_path: Path) -> list[str]:
    """Text of each <p> of a DocBook HTML chapter (stdlib parser: the builder needs no extra package)."""
    from html.parser import HTMLParser

    class P(HTMLParser):
        def __init__(self):
            super().__init__()
            self.depth, self.buf, self.out = 0, [], []

        def handle_starttag(self, tag, attrs):
            if tag == "p":
                self.depth += 1

        def handle_endtag(self, tag):
            if tag == "p" and self.depth:
                self.depth -= 1
                t = re.sub(r"\s+", " ", "".join(self.buf)).strip()
                self.buf = []
                if len(t) >= 40 and re.search(r"[\u4e00-\u9fff]", t):
                    self.out.append(t)

        def handle_data(self, data):
            if self.depth:
                self.buf.append(data)

    parser = P()
    parser.feed(html_path.read_text(encoding="utf-8"))
    return parser.out


def main(doc_root: str) -> None:
    root = Path(doc_root)
    src = root / "python3.11" / "html" / "_sources"

    def rst(rel: str) -> str:
        return (src / f"{rel}.rst.txt").read_text(encoding="utf-8")

    quality, used = [], set()
    for d in QUALITY_DIRS:
        for f in sorted((src / d).glob("*.rst.txt")):
            rel = f"{d}/{f.name[:-8]}"
            if rel in MATH_DOCS or rel in GENERAL_DOCS:
                continue
            prose, _ = rst_blocks(f.read_text(encoding="utf-8"))
            for c in chunks(prose, 900):
                quality.append({"text": c, "source": f"python3.11-doc:{rel}", "lang": "en"})
            used.add(rel)
    write("quality_en.jsonl", quality, 700_000)

    zh = []
    docs = root / "debian-reference-zh-cn" / "docs"
    for f in sorted(docs.glob("ch*.zh-cn.html")):
        for c in chunks(zh_paragraphs(f), 500, sep="\n"):
            zh.append({"text": c, "source": f"debian-reference-zh-cn:{f.name}", "lang": "zh"})
    write("quality_zh.jsonl", zh, 500_000)

    math = []
    for rel in MATH_DOCS:
        prose, _ = rst_blocks(rst(rel))
        for c in chunks(prose, 300):
            math.append({"text": c, "source": f"python3.11-doc:{rel}", "lang": "en"})
    write("math_seed.jsonl", math, 200_000)

    code = []
    for rel in CODE_DOCS:
        _, blocks = rst_blocks(rst(rel))
        for c in chunks([b for b in blocks if len(b) >= 60], 400, sep="\n\n"):
            code.append({"text": c, "source": f"python3.11-doc:{rel}", "lang": "code"})
    write("code_seed.jsonl", code, 200_000)

    general = []
    for rel in GENERAL_DOCS:
        try:
            prose, _ = rst_blocks(rst(rel))
        except FileNotFoundError:
            continue
        for c in chunks(prose, 500):
            general.append({"text": c, "source": f"python3.11-doc:{rel}", "lang": "en"})
    write("general_seed.jsonl", general, 200_000)


if __name__ == "__main__":
    main(sys.argv[1])
