"""A copy of the bundled sample site with publishers' opt-outs planted (shared by the consent tests).

Opt-outs the way publishers write them: a robots.txt with wildcards and a GPTBot/CCBot group,
`tdm-reservation` as a header and as a <meta> tag, /.well-known/tdmrep.json with path rules, and
`X-Robots-Tag: noai`; the home page links to URLs only the wildcards disallow.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[2] / "sample" / "site"
EN = "The ferry crossed the estuary at dawn, and the gulls followed it all the way to the harbour wall."
ZH = "清晨，渡船穿过河口，海鸥一路跟着它飞到港口的防波堤。"

ROBOTS = """# Eskerford Notebook, with the wildcards real sites use
User-agent: *
Allow: /
Disallow: /private/
Disallow: /*.pdf$
Disallow: /*?sessionid=

User-agent: GPTBot
User-agent: CCBot
Disallow: /en/articles/canal-history.html
"""
TDMREP = [
    {"location": "/zh/articles/green-tea.html", "tdm-reservation": 1,
     "tdm-policy": "https://eskerford.example/tdm-policy.json"},
    {"location": "/zh/*", "tdm-reservation": 0},
]
HEADERS = """
/en/articles/bike-check.html:
  tdm-reservation: "1"
  tdm-policy: https://eskerford.example/policy.html
/en/articles/home-wifi.html:
  X-Robots-Tag: noai, noimageai
/en/print/first-loaf.html:
  X-Robots-Tag: noindex
/robots.txt:
  Content-Type: text/plain; charset=utf-8
"""


def make_site(root: Path) -> Path:
    """A copy of the sample site with opt-outs planted, and links to wildcard-disallowed URLs."""
    shutil.copytree(SAMPLE, root)
    (root / "robots.txt").write_text(ROBOTS, encoding="utf-8")
    (root / "_headers.yaml").write_text(HEADERS, encoding="utf-8")
    (root / ".well-known").mkdir()
    (root / ".well-known" / "tdmrep.json").write_text(json.dumps(TDMREP), encoding="utf-8")
    knife = root / "en" / "articles" / "knife-sharpening.html"
    knife.write_text(knife.read_text(encoding="utf-8").replace(
        "<head>", '<head>\n<meta name="tdm-reservation" content="1">', 1), encoding="utf-8")
    index = root / "index.html"
    index.write_text(index.read_text(encoding="utf-8").replace(
        "</body>", '<p><a href="/en/articles/first-loaf.html?sessionid=abc123">loaf</a> '
        '<a href="/files/report.pdf">report</a> <a href="/en/notes.pdf">notes</a></p></body>', 1), encoding="utf-8")
    return root
