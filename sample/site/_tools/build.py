"""Regenerate the bundled sample site from `_src/` (run: python sample/site/_tools/build.py).

Why a generator instead of hand-written HTML: the site is a test fixture whose value lies in
*relationships between pages* (a print copy must extract to exactly the same text as its
original, a near-duplicate must differ by a controlled handful of words, the GBK page must be
GBK bytes). Deriving those pages from one source text keeps the relationships true when
someone edits an article. The generated HTML is committed, so nothing at run time (server,
crawler, tests) depends on this script; it only needs the standard library.

Everything under a path segment starting with "_" (this folder, `_src/`, `_headers.yaml`) is
never served by `sample.server`, so the crawler cannot see it.

All prose in `_src/` and below was written for this project.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

SITE = Path(__file__).resolve().parent.parent
SRC = SITE / "_src"

EN_SITE = "Eskerford Notebook"
ZH_SITE = "生活笔记（中文版）"
ZH_TW_SITE = "生活筆記（中文版）"
DE_SITE = "Eskerford Notebook (Deutsch)"
OFFSITE = "https://example.org/outside"


# --------------------------------------------------------------------------------------------
# Sources
# --------------------------------------------------------------------------------------------


@dataclass
class Article:
    slug: str
    lang: str  # "en", "de", "zh-CN", "zh-TW"
    title: str
    author: str
    date: dt.date
    tags: list[str]
    summary: str
    paragraphs: list[str]
    encoding: str = "utf-8"
    url: str = ""
    extra_footer_links: list[tuple[str, str]] = field(default_factory=list)


def load(lang_dir: str, slug: str) -> Article:
    raw = (SRC / lang_dir / f"{slug}.txt").read_text(encoding="utf-8")
    head, body = raw.split("\n---\n", 1)
    meta = dict(line.split(": ", 1) for line in head.strip().splitlines())
    encoding = meta.get("encoding", "utf-8")
    (meta["title"] + body).encode(encoding)  # strict: the article itself must be pure GBK/Big5
    lang = lang_dir if lang_dir in ("en", "de") else ("zh-TW" if encoding == "big5" else "zh-CN")
    spaced = lang in ("en", "de")  # space-separated prose: source line breaks become spaces
    paragraphs = [" ".join(p.split()) if spaced else p.strip() for p in body.strip().split("\n\n")]
    return Article(
        slug=slug,
        lang=lang,
        title=meta["title"],
        author=meta["author"],
        date=dt.date.fromisoformat(meta["date"]),
        tags=[t.strip() for t in meta["tags"].split(",")],
        summary=meta["summary"],
        paragraphs=paragraphs,
        encoding=encoding,
        url=f"/{lang_dir}/articles/{slug}.html",
    )


def edited(art: Article, edits: list[tuple[str, str]], **changes) -> Article:
    """A copy of `art` with each (old, new) replacement applied exactly once.

    Asserting a single occurrence keeps near-duplicates honest: if the source text is edited
    so that a replacement no longer applies, the build fails instead of silently producing an
    exact duplicate.
    """
    text = "\n\n".join(art.paragraphs)
    for old, new in edits:
        n = text.count(old)
        if n != 1:
            raise SystemExit(f"edit {old!r} matches {n} times in {art.slug}")
        text = text.replace(old, new)
    return replace(art, paragraphs=text.split("\n\n"), **changes)


# --------------------------------------------------------------------------------------------
# Templates
# --------------------------------------------------------------------------------------------

e = html.escape


def en_date(d: dt.date) -> str:
    return f"{d.day} {d.strftime('%B')} {d.year}"


DE_MONTHS = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
]


def de_date(d: dt.date) -> str:
    return f"{d.day}. {DE_MONTHS[d.month - 1]} {d.year}"  # not strftime: independent of the locale


def zh_date(d: dt.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def paras(art: Article) -> str:
    return "\n".join(f"    <p>{e(p)}</p>" for p in art.paragraphs)


def byline(art: Article) -> str:
    if art.lang == "en":
        return f"By {art.author}, {en_date(art.date)}"
    if art.lang == "de":
        return f"Von {art.author}, {de_date(art.date)}"
    return f"作者：{art.author}　{zh_date(art.date)}"


def link_list(items: list[tuple[str, str]], indent: str = "      ") -> str:
    return "\n".join(f'{indent}<li><a href="{u}">{e(t)}</a></li>' for u, t in items)


EN_NAV = [
    ("/", "Home"),
    ("/en/", "Articles"),
    ("/en/tags.html", "Tags"),
    ("/en/archive.html", "Archive"),
    ("/zh/", "中文"),
    ("/sitemap.html", "Site map"),
]
ZH_NAV = [("/", "首页"), ("/zh/", "中文文章"), ("/en/", "English"), ("/sitemap.html", "网站地图")]
ZH_TW_NAV = [("/", "首頁"), ("/zh/", "中文文章"), ("/en/", "English"), ("/sitemap.html", "網站地圖")]
DE_NAV = [("/", "Startseite"), ("/en/", "English"), ("/zh/", "中文"), ("/sitemap.html", "Seitenübersicht")]


def en_page(title: str, main: str, related: list[tuple[str, str]], description: str = "") -> str:
    """The standard English page: header + nav, main, sidebar, footer with cookie notice.

    The boilerplate is deliberately heavy (menus, a newsletter box, popular links, copyright,
    cookie banner) because main-content extraction has to remove all of it.
    """
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{e(title)} | {EN_SITE}</title>
  <meta name="description" content="{e(description)}">
  <link rel="stylesheet" href="/static/site.css">
</head>
<body>
<header class="site-header">
  <a class="logo" href="/">{EN_SITE}</a>
  <nav class="main-nav" aria-label="Main menu">
    <ul>
{link_list(EN_NAV)}
    </ul>
  </nav>
</header>
<div class="page">
<main id="content">
{main}
</main>
<aside class="sidebar">
  <section class="related">
    <h2>Related links</h2>
    <ul>
{link_list(related)}
    </ul>
  </section>
  <section class="popular">
    <h2>Popular this week</h2>
    <ul>
      <li><a href="/en/articles/canal-history.html">How the Canal Made Eskerford</a></li>
      <li><a href="/en/articles/first-loaf.html">Baking Your First Loaf</a></li>
    </ul>
  </section>
  <section class="newsletter">
    <h2>Newsletter</h2>
    <p>Get one email a month with new articles from the notebook. No spam, unsubscribe at any time.</p>
  </section>
</aside>
</div>
<footer class="site-footer">
  <p>&copy; 2024 {EN_SITE}. Written by volunteers in Eskerford. All rights reserved.</p>
  <p><a href="/sitemap.html">Site map</a> &middot; <a href="{OFFSITE}">Our friends at example.org</a></p>
  <div class="cookie-notice" id="cookie-notice">
    <p>This site uses cookies to remember your preferences and count visits. By continuing to browse you agree to our use of cookies.</p>
    <button type="button">Accept</button>
  </div>
</footer>
</body>
</html>
"""


def en_article_main(art: Article, print_url: str | None = None) -> str:
    tools = (
        f'\n      <p class="print-link"><a href="{print_url}">Printer-friendly version</a></p>'
        if print_url
        else ""
    )
    tags = ", ".join(f'<a href="/en/tags.html#{tag_id(t)}">{e(t)}</a>' for t in art.tags)
    return f"""  <article class="post">
    <h1>{e(art.title)}</h1>
    <p class="byline">{e(byline(art))}</p>
{paras(art)}
    <footer class="post-footer">
      <p class="tags">Tags: {tags}</p>{tools}
    </footer>
  </article>"""


def zh_page(
    art: Article, related: list[tuple[str, str]], print_url: str | None = None, main: str | None = None
) -> str:
    """Chinese article page; Traditional wording and a legacy http-equiv meta for zh-TW/Big5.

    Non-ASCII punctuation outside the CJK repertoire (copyright sign, middle dot) is written as
    an entity so the same template can be encoded as GBK or Big5 without loss.
    """
    tw = art.lang == "zh-TW"
    site = ZH_TW_SITE if tw else ZH_SITE
    nav = ZH_TW_NAV if tw else ZH_NAV
    if art.encoding == "utf-8":
        meta = '<meta charset="utf-8">'
    elif tw:
        meta = f'<meta http-equiv="Content-Type" content="text/html; charset={art.encoding}">'
    else:
        meta = f'<meta charset="{art.encoding}">'
    t = (lambda s, tr: tr) if tw else (lambda s, tr: s)
    tools = f'\n      <p class="print-link"><a href="{print_url}">打印版</a></p>' if print_url else ""
    if main is None:
        main = f"""  <article class="post">
    <h1>{e(art.title)}</h1>
    <p class="byline">{e(byline(art))}</p>
{paras(art)}
    <footer class="post-footer">
      <p class="tags">{t("标签", "標籤")}：{"、".join(e(x) for x in art.tags)}</p>{tools}
    </footer>
  </article>"""
    return f"""<!DOCTYPE html>
<html lang="{art.lang}">
<head>
  {meta}
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{e(art.title)} - {site}</title>
  <meta name="description" content="{e(art.summary)}">
  <link rel="stylesheet" href="/static/site.css">
</head>
<body>
<header class="site-header">
  <a class="logo" href="/zh/">{site}</a>
  <nav class="main-nav">
    <ul>
{link_list(nav)}
    </ul>
  </nav>
</header>
<div class="page">
<main id="content">
{main}
</main>
<aside class="sidebar">
  <section class="related">
    <h2>{t("相关链接", "相關連結")}</h2>
    <ul>
{link_list(related)}
    </ul>
  </section>
  <section class="newsletter">
    <h2>{t("订阅", "訂閱")}</h2>
    <p>{t("每月一封邮件，推送本站的新文章。", "每月一封郵件，推送本站的新文章。")}</p>
  </section>
</aside>
</div>
<footer class="site-footer">
  <p>&copy; 2024 {site} {t("版权所有", "版權所有")}</p>
  <p><a href="/sitemap.html">{t("网站地图", "網站地圖")}</a> &middot; <a href="{OFFSITE}">{
        t("友情链接", "友情連結")
    }</a></p>
  <div class="cookie-notice">
    <p>{
        t(
            "本网站使用 Cookie 来记住您的偏好设置。继续浏览即表示您同意我们使用 Cookie。",
            "本網站使用 Cookie 來記住您的偏好設定。繼續瀏覽即表示您同意我們使用 Cookie。",
        )
    }</p>
    <button type="button">{t("接受", "接受")}</button>
  </div>
</footer>
</body>
</html>
"""


def de_page(art: Article, related: list[tuple[str, str]]) -> str:
    """German article page: the English template's structure with German labels.

    The site has a single German article and no German section index, so the logo and "Startseite"
    lead to the (English) home page, which links the article.
    """
    return f"""<!DOCTYPE html>
<html lang="de">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{e(art.title)} | {DE_SITE}</title>
  <meta name="description" content="{e(art.summary)}">
  <link rel="stylesheet" href="/static/site.css">
</head>
<body>
<header class="site-header">
  <a class="logo" href="/">{DE_SITE}</a>
  <nav class="main-nav" aria-label="Hauptmenü">
    <ul>
{link_list(DE_NAV)}
    </ul>
  </nav>
</header>
<div class="page">
<main id="content">
  <article class="post">
    <h1>{e(art.title)}</h1>
    <p class="byline">{e(byline(art))}</p>
{paras(art)}
    <footer class="post-footer">
      <p class="tags">Schlagwörter: {e(", ".join(art.tags))}</p>
    </footer>
  </article>
</main>
<aside class="sidebar">
  <section class="related">
    <h2>Auf Englisch weiterlesen</h2>
    <ul>
{link_list(related)}
    </ul>
  </section>
  <section class="newsletter">
    <h2>Newsletter</h2>
    <p>Einmal im Monat eine E-Mail mit den neuen Artikeln aus dem Notizbuch. Kein Spam, jederzeit abbestellbar.</p>
  </section>
</aside>
</div>
<footer class="site-footer">
  <p>&copy; 2024 {EN_SITE}. Geschrieben von Ehrenamtlichen in Eskerford. Alle Rechte vorbehalten.</p>
  <p><a href="/sitemap.html">Seitenübersicht</a> &middot; <a href="{OFFSITE}">Unsere Freunde bei example.org</a></p>
  <div class="cookie-notice">
    <p>Diese Website verwendet Cookies, um Ihre Einstellungen zu speichern und Besuche zu zählen. Wenn Sie weiter surfen, stimmen Sie der Verwendung von Cookies zu.</p>
    <button type="button">Akzeptieren</button>
  </div>
</footer>
</body>
</html>
"""


def print_page(art: Article, back_url: str) -> str:
    """Printer-friendly copy: a different, minimal template around the very same article text."""
    zh = art.lang != "en"
    head = "生活笔记（中文版） &middot; 打印版" if zh else f"{EN_SITE} &middot; printer-friendly version"
    back = "返回原文" if zh else "Back to the full page"
    foot = "打印自生活笔记。&copy; 2024" if zh else f"Printed from {EN_SITE}. &copy; 2024."
    return f"""<!DOCTYPE html>
<html lang="{art.lang}">
<head>
  <meta charset="utf-8">
  <title>{e(art.title)} ({"打印版" if zh else "print"})</title>
  <style>body {{ font-family: Georgia, serif; max-width: 40em; margin: 2em auto; }} .no-print {{ display: none; }}</style>
</head>
<body class="print">
<header class="print-header">
  <p>{head}</p>
  <p><a href="{back_url}">{back}</a></p>
</header>
<main>
  <article>
    <h1>{e(art.title)}</h1>
    <p class="byline">{e(byline(art))}</p>
{paras(art)}
  </article>
</main>
<footer class="print-footer"><p>{foot}</p></footer>
</body>
</html>
"""


def mirror_page(art: Article) -> str:
    """A scraper/mirror site's copy: old-fashioned div layout, a sponsored column, no <article>."""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{e(art.title)} - Pedal Power Digest</title>
  <style>#wrapper {{ display: flex; }} #post-body {{ flex: 3; }} #right-column {{ flex: 1; }}</style>
</head>
<body>
<div id="top-bar" class="navbar">
  <a href="/">Pedal Power Digest</a> | <a href="/sitemap.html">Latest</a> | <a href="{OFFSITE}">Shop</a>
</div>
<div id="wrapper">
  <div id="post-body" class="entry-content">
    <h1>{e(art.title)}</h1>
    <p class="byline">{e(byline(art))}</p>
{paras(art)}
  </div>
  <div id="right-column" class="sidebar widget-area">
    <h3>Sponsored</h3>
    <ul>
      <li><a href="{OFFSITE}">Puncture-proof tyres at half price</a></li>
      <li><a href="{OFFSITE}">Win a weekend cycling holiday</a></li>
    </ul>
  </div>
</div>
<div id="bottom" class="footer">
  <p>Mirror copy. The original appeared on {EN_SITE} and is reproduced here for archival purposes.</p>
</div>
</body>
</html>
"""


def tag_id(tag: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", tag.lower()).strip("-")


# --------------------------------------------------------------------------------------------
# Low-quality pages: each fails one Gopher rule first (see sample/README.md)
# --------------------------------------------------------------------------------------------


def spam_pages() -> dict[str, str]:
    pages: dict[str, str] = {}
    related = [("/en/", "All articles"), ("/sitemap.html", "Site map")]

    # (a) gopher repetition: the same line dozens of times -> duplicate-line fraction ~0.95.
    line = "Cheap flights to Eskerford best price cheap flights book cheap flights now."  # no commas: see (e)
    body = "\n".join(f"    <p>{line}</p>" for _ in range(40))
    pages["en/deals/cheap-flights.html"] = en_page(
        "Cheap Flights Eskerford",
        f"""  <article class="post">
    <h1>Cheap Flights Eskerford</h1>
    <p>Looking for cheap flights? We have the best deals on cheap flights to Eskerford and to everywhere else.</p>
{body}
  </article>""",
        related,
        "cheap flights cheap flights cheap flights",
    )

    # (b) gopher alpha-words: a price-table dump where fewer than 80% of words contain a letter.
    rows = []
    for i in range(32):
        code = 4100 + i * 7
        price = 1.49 + (i * 37 % 100) / 4
        qty = i % 9 + 1
        weight = (i * 13 % 40) / 8
        rows.append(
            f"      <tr><td>{code}</td><td>${price:.2f}</td><td>{qty}</td>"
            f"<td>${price * qty:.2f}</td><td>{weight:.3f}</td><td>{2024 - i % 3}</td></tr>"
        )
    pages["en/prices.html"] = en_page(
        "Price List",
        """  <article class="post">
    <h1>Price List</h1>
    <p>The prices of all the items that we have in stock are listed below and are subject to change without notice.</p>
    <table class="prices">
      <tr><th>Code</th><th>Unit</th><th>Qty</th><th>Total</th><th>Kg</th><th>Year</th></tr>
"""
        + "\n".join(rows)
        + """
    </table>
  </article>""",
        related,
    )

    # (c) gopher word count: a real notice of ~36 words (< 50). It needs two *distinct, lower-case*
    # stop words (the set intersection is case-sensitive), and it cannot be much shorter: the
    # top-4-gram rule counts even a single occurrence, so a ~20-word text trips it as well.
    pages["en/notice.html"] = en_page(
        "Library Closing Early",
        """  <article class="post">
    <h1>Library Closing Early</h1>
    <p>The Eskerford library will close at noon on Friday for the annual staff training day and will open again on Saturday morning. Books that are due back on Friday can be returned on Saturday without a fine.</p>
  </article>""",
        related,
    )

    # (d) gopher ellipsis lines: a teaser list where nearly every line ends with "...".
    teasers = [
        "When the floodwater reached the bakery on Mill Street in 1947, the owners did something nobody expected...",
        "Our volunteer counted every swallow nest under the old railway bridge this summer and found a surprise...",
        "A retired engineer explains why the church clock has been running four minutes fast since the spring...",
        "The allotment committee has a new plan for the empty plots by the river, and not everyone is happy...",
        "We asked ten readers to name the best walk within an hour of the town centre, and the answers were...",
        "Behind the locked door of the old warehouse cellar there is a room that few people have ever seen...",
        "Three simple changes to the way you store flour could make your bread rise higher than it ever has...",
        "The school chess club lost its first match of the season, but the coach says the real story is...",
        "Why does mist settle in the valley below Hollin Edge on still autumn mornings? A local farmer says...",
        "Before you buy a new router, try the free trick that fixed the signal in our back bedroom in minutes...",
        "The recipe card was found inside a second-hand cookery book, and the handwriting belonged to someone...",
        "After forty years behind the counter, the owner of the hardware shop on Wharf Row is finally ready to...",
    ]
    pages["en/more-stories.html"] = en_page(
        "More Stories",
        '  <article class="post">\n    <h1>More Stories</h1>\n'
        + "\n".join(f'    <p class="teaser">{e(t)}</p>' for t in teasers)
        + "\n  </article>",
        related,
    )

    # (e) gopher stop words: a product catalogue with none of the, be, to, of, and, that, have, with.
    # No commas: punctuation tokens count against the alpha-words ratio, which must stay >= 0.8.
    products = [
        "Enamel Camping Mug Forest Green 350 ml",
        "Beeswax Food Wrap Trio Assorted Sizes",
        "Cast Iron Skillet Preseasoned Wooden Handle",
        "Larch Raised Bed Kit Untreated Timber",
        "Bamboo Chopping Board Large Reversible",
        "Waxed Canvas Tool Roll Olive Brown",
        "Bicycle Chain Lubricant Dry Formula",
        "Folding Hand Pump Aluminium Silver",
        "Combination Whetstone Medium Fine Grit",
        "Linen Tea Towel Striped Natural Colour",
        "Birdwatching Binoculars Roof Prism Compact",
        "Pocket Field Notebook Waterproof Paper",
        "Wool Draught Excluder Grey Herringbone",
        "Radiator Bleed Key Brass Twin Pack",
        "Folding Chess Set Walnut Magnetic Pieces",
        "Rattan Proving Basket Round Linen Liner",
    ]
    pages["en/catalogue.html"] = en_page(
        "Shop Catalogue",
        '  <article class="post">\n    <h1>Shop Catalogue, Spring Range</h1>\n    <div class="product-grid">\n'
        + "\n".join(f'      <p class="product">{e(p)}</p>' for p in products)
        + "\n    </div>\n  </article>",
        related,
    )
    return pages


# --------------------------------------------------------------------------------------------
# Other special pages
# --------------------------------------------------------------------------------------------

APP_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Eskerford Events</title>
  <script>
    window.__INITIAL_STATE__ = {"events": [], "locale": "en-GB", "apiBase": "/api/v1/"};
  </script>
</head>
<body>
  <div id="root"></div>
  <script>
    (function () {
      var state = window.__INITIAL_STATE__;
      var root = document.getElementById("root");
      fetch(state.apiBase + "events").then(function (r) { return r.json(); }).then(function (data) {
        data.forEach(function (ev) {
          var el = document.createElement("div");
          el.textContent = ev.title;
          root.appendChild(el);
        });
      });
    })();
  </script>
</body>
</html>
"""

SECRET_PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Volunteer Area</title></head>
<body>
<main>
  <h1>Volunteer Area</h1>
  <p>This page lists the editing rota and the shared login for the notebook's mailing list. It sits under a
  path that robots.txt disallows, so a polite crawler must never fetch it. If this text ever appears in a
  corpus built from the sample site, the crawler ignored robots.txt.</p>
</main>
</body>
</html>
"""

ROBOTS = """# Eskerford Notebook (goldpan sample site)
User-agent: *
Disallow: /private/
"""

CSS = """/* Eskerford Notebook: just enough style to look like a real site in a browser. */
body { font-family: system-ui, sans-serif; margin: 0; color: #222; line-height: 1.55; }
.site-header { background: #2f4f3a; color: #fff; padding: 0.6em 1.5em; display: flex; gap: 2em; align-items: center; }
.site-header a { color: #fff; text-decoration: none; }
.main-nav ul { list-style: none; display: flex; gap: 1.2em; margin: 0; padding: 0; }
.page { display: flex; gap: 2em; max-width: 62em; margin: 1.5em auto; padding: 0 1em; }
main { flex: 3; }
.sidebar { flex: 1; font-size: 0.9em; border-left: 1px solid #ddd; padding-left: 1em; }
.byline { color: #666; font-style: italic; }
.post-footer { border-top: 1px solid #eee; font-size: 0.85em; }
.site-footer { background: #eee; padding: 1em 1.5em; font-size: 0.85em; }
.cookie-notice { background: #333; color: #fff; padding: 0.5em 1em; }
table.prices td { padding: 0 0.6em; text-align: right; }
"""


def pdf_bytes() -> bytes:
    """A tiny but valid one-page PDF: the crawler must record it as a non-HTML fetch."""
    stream = b"BT /F1 16 Tf 72 770 Td (Eskerford Notebook - Annual Report 2023) Tj ET\n"
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>"
        ),
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"endstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


# --------------------------------------------------------------------------------------------
# Build
# --------------------------------------------------------------------------------------------

EN_SLUGS = [
    "raised-beds",
    "bike-check",
    "first-loaf",
    "canal-history",
    "home-wifi",
    "bird-notebook",
    "winter-heating",
    "adult-chess",
    "knife-sharpening",
]
ZH_SLUGS = ["green-tea", "city-cycling", "tomato-egg", "qingming", "slow-reading", "balcony-garden"]
ZH_ENCODED = ["gbk-page", "big5-page"]
DE_SLUGS = ["rundweg-hollin-edge"]  # kept through the filter, left out by a recipe without "de"


def related_for(arts: list[Article], i: int, n: int = 3) -> list[tuple[str, str]]:
    others = arts[i + 1 :] + arts[:i]
    return [(a.url, a.title) for a in others[:n]]


def build() -> dict[str, bytes]:
    files: dict[str, bytes] = {}

    def put(path: str, text: str, encoding: str = "utf-8") -> None:
        # Like a real CMS, characters the legacy charset lacks (the Simplified titles in the Big5
        # page's sidebar) become numeric character references; the article text itself is
        # checked to be strictly encodable in load().
        files[path] = text.encode(encoding, errors="xmlcharrefreplace")

    en = [load("en", s) for s in EN_SLUGS]
    zh = [load("zh", s) for s in ZH_SLUGS + ZH_ENCODED]
    de = [load("de", s) for s in DE_SLUGS]
    by = {a.slug: a for a in en + zh}

    print_urls = {"first-loaf": "/en/print/first-loaf.html", "green-tea": "/zh/print/green-tea.html"}

    # Good originals.
    for i, art in enumerate(en):
        put(
            f"en/articles/{art.slug}.html",
            en_page(
                art.title, en_article_main(art, print_urls.get(art.slug)), related_for(en, i), art.summary
            ),
        )
    for i, art in enumerate(zh):
        put(
            f"zh/articles/{art.slug}.html",
            zh_page(art, related_for(zh, i), print_urls.get(art.slug)),
            art.encoding,
        )

    de_related = [(by[s].url, by[s].title) for s in ("canal-history", "bird-notebook")]
    for art in de:
        put(f"de/articles/{art.slug}.html", de_page(art, de_related))

    # Exact duplicates: same article text, different URL and template.
    put("en/print/first-loaf.html", print_page(by["first-loaf"], by["first-loaf"].url))
    put("mirror/bike-check.html", mirror_page(by["bike-check"]))
    put("zh/print/green-tea.html", print_page(by["green-tea"], by["green-tea"].url))

    # Near duplicates: a handful of words changed, a date moved, one short sentence added.
    canal = edited(
        by["canal-history"],
        [
            ("a town of eleven thousand people", "a town of twelve thousand people"),
            ("one of the most popular walks", "one of the best loved walks"),
            (
                "how important the canal once was.",
                "how important the canal once was. New volunteers are always welcome at the trust's monthly work days.",
            ),
        ],
        date=dt.date(2024, 3, 9),
        url="/en/news/canal-history-reprint.html",
    )
    wifi = edited(
        by["home-wifi"],
        [
            ("in my experience", "in our experience"),
            ("spending an evening", "spending an afternoon"),
            ("can double the speed", "can easily double the speed"),
            (
                "the wireless coverage is the problem.",
                "the wireless coverage is the problem. Repeat the test at a different time of day as well.",
            ),
        ],
        date=dt.date(2024, 2, 17),
        url="/en/articles/home-wifi-updated.html",
    )
    tomato = edited(
        by["tomato-egg"],
        [
            ("供大家参考", "分享给大家"),
            ("三个番茄配四个鸡蛋", "两个番茄配三个鸡蛋"),
            ("一小勺白糖", "半勺白糖"),
            ("中火翻炒", "大火翻炒"),
            ("撒上葱花", "撒上一把葱花"),
        ],
        date=dt.date(2024, 1, 6),
        url="/zh/articles/tomato-egg-repost.html",
    )
    put(
        "en/news/canal-history-reprint.html",
        en_page(
            canal.title,
            en_article_main(canal),
            [(by["canal-history"].url, "Original article"), ("/en/archive.html", "Archive")],
            "Reprinted from the Eskerford Gazette.",
        ),
    )
    put(
        "en/articles/home-wifi-updated.html",
        en_page(wifi.title, en_article_main(wifi), related_for(en, 4), wifi.summary),
    )
    put(
        "zh/articles/tomato-egg-repost.html",
        zh_page(tomato, [(by["tomato-egg"].url, "原文"), ("/zh/", "中文文章")]),
    )

    files.update({k: v.encode("utf-8") for k, v in spam_pages().items()})

    # Navigation-only pages.
    en_all = en + [canal, wifi]
    en_items = [(a.url, a.title) for a in en]
    put(
        "en/index.html",
        en_page(
            "Articles",
            f"""  <h1>Articles</h1>
  <ul class="article-list">
{link_list(en_items, "    ")}
    <li><a href="/en/articles/home-wifi-updated.html">{e(wifi.title)} (updated)</a></li>
    <li><a href="/en/news/canal-history-reprint.html">{e(canal.title)} (Gazette reprint)</a></li>
  </ul>
  <ul class="more">
    <li><a href="/en/more-stories.html">More stories</a></li>
    <li><a href="/en/notice.html">Library notice</a></li>
    <li><a href="/en/missing.html">Events calendar</a></li>
    <li><a href="/en/app.html">Events app</a></li>
  </ul>""",
            [("/en/tags.html", "Tags"), ("/en/archive.html", "Archive")],
        ),
    )

    tags: dict[str, list[Article]] = {}
    for a in en:
        for t in a.tags:
            tags.setdefault(t, []).append(a)
    sections = "\n".join(
        f'  <h2 id="{tag_id(t)}">{e(t)}</h2>\n  <ul>\n{link_list([(a.url, a.title) for a in arts], "    ")}\n  </ul>'
        for t, arts in sorted(tags.items())
    )
    put(
        "en/tags.html",
        en_page(
            "Tags",
            f"  <h1>Tags</h1>\n{sections}\n"
            '  <h2 id="old">old pages</h2>\n  <ul>\n'
            '    <li><a href="/old/garden.html">Garden page (old address)</a></li>\n  </ul>',
            [("/en/archive.html", "Archive")],
        ),
    )

    months: dict[str, list[Article]] = {}
    for a in sorted(en_all, key=lambda a: a.date, reverse=True):
        months.setdefault(a.date.strftime("%B %Y"), []).append(a)
    sections = "\n".join(
        f"  <h2>{m}</h2>\n  <ul>\n{link_list([(a.url, a.title) for a in arts], '    ')}\n  </ul>"
        for m, arts in months.items()
    )
    put(
        "en/archive.html",
        en_page(
            "Archive",
            f"  <h1>Archive</h1>\n{sections}\n"
            "  <h2>Older</h2>\n  <ul>\n"
            '    <li><a href="/old/garden.html">Gardening notes (moved)</a></li>\n  </ul>',
            [("/en/tags.html", "Tags")],
        ),
    )

    zh_items = [(a.url, a.title) for a in zh] + [(tomato.url, tomato.title + "（转载）")]
    zh_index = Article("index", "zh-CN", "中文文章", "", dt.date(2024, 1, 1), [], "中文文章列表", [])
    put(
        "zh/index.html",
        zh_page(
            zh_index,
            [("/en/", "English")],
            main=(
                '  <h1>中文文章</h1>\n  <ul class="article-list">\n'
                + link_list(zh_items, "    ")
                + "\n  </ul>"
            ),
        ),
    )

    sitemap_groups = [
        ("English articles", [(a.url, a.title) for a in en_all]),
        ("中文文章", zh_items),
        (
            "Copies",
            [
                ("/en/print/first-loaf.html", "First loaf (print)"),
                ("/zh/print/green-tea.html", "绿茶（打印版）"),
                ("/mirror/bike-check.html", "Bicycle check (mirror)"),
            ],
        ),
        (
            "Other pages",
            [
                ("/en/deals/cheap-flights.html", "Cheap flights"),
                ("/en/prices.html", "Price list"),
                ("/en/notice.html", "Library notice"),
                ("/en/more-stories.html", "More stories"),
                ("/en/catalogue.html", "Shop catalogue"),
                ("/en/app.html", "Events app"),
                ("/en/tags.html", "Tags"),
                ("/en/archive.html", "Archive"),
            ],
        ),
        (
            "Files and old addresses",
            [
                ("/files/report.pdf", "Annual report (PDF)"),
                ("/old/garden.html", "Old garden page"),
                ("/en/missing.html", "Events calendar"),
                ("/private/secret.html", "Volunteer area"),
                (OFFSITE, "Friends of the notebook"),
            ],
        ),
    ]
    sections = "\n".join(
        f"  <h2>{e(g)}</h2>\n  <ul>\n{link_list(items, '    ')}\n  </ul>" for g, items in sitemap_groups
    )
    put("sitemap.html", en_page("Site map", f"  <h1>Site map</h1>\n{sections}", [("/", "Home")]))

    put(
        "index.html",
        en_page(
            "Home",
            f"""  <h1>Welcome to the {EN_SITE}</h1>
  <p>Short articles by people who live in Eskerford. Read in English or in Chinese.</p>
  <ul class="sections">
    <li><a href="/en/">English articles</a></li>
    <li><a href="/zh/">中文文章</a></li>
{link_list([(a.url, "Deutsch") for a in de], "    ")}
    <li><a href="/en/tags.html">Tags</a></li>
    <li><a href="/en/archive.html">Archive</a></li>
    <li><a href="/sitemap.html">Site map</a></li>
  </ul>
  <h2>Featured</h2>
  <ul class="featured">
    <li><a href="/en/articles/raised-beds.html">Raised Beds on Heavy Clay Soil</a></li>
    <li><a href="/en/articles/canal-history.html">How the Canal Made Eskerford</a></li>
    <li><a href="/zh/articles/green-tea.html">泡一杯绿茶的讲究</a></li>
  </ul>
  <h2>Also here</h2>
  <ul class="misc">
    <li><a href="/en/app.html">Events app</a></li>
    <li><a href="/files/report.pdf">Annual report (PDF)</a></li>
    <li><a href="/old/garden.html">Our old gardening page</a></li>
    <li><a href="/en/missing.html">Events calendar</a></li>
    <li><a href="/private/secret.html">Volunteer area</a></li>
    <li><a href="{OFFSITE}">Friends of the notebook</a></li>
  </ul>""",
            [("/en/", "All articles"), ("/zh/", "中文文章")],
            "Community notebook of the town of Eskerford.",
        ),
    )

    put("en/app.html", APP_PAGE)
    put("private/secret.html", SECRET_PAGE)
    put("robots.txt", ROBOTS)
    put("static/site.css", CSS)
    files["files/report.pdf"] = pdf_bytes()
    return files


def main() -> None:
    files = build()
    for rel, data in sorted(files.items()):
        path = SITE / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    print(f"wrote {len(files)} files under {SITE}")


if __name__ == "__main__":
    main()
