"""Real English and Chinese texts for the classify tests: good prose vs. crawled boilerplate/spam."""

from __future__ import annotations

import pyarrow as pa

from goldpan.lake import Lake
from goldpan.lake.schemas import DOCUMENTS

GOOD_EN = [
    ("The river rises in the hills above the town and runs for forty miles before it reaches the sea. "
    "In winter the water is high and fast; in summer children wade across the shallows near the mill."),
    ("A good explanation starts from what the reader already knows. It introduces one new idea at a time, "
    "gives an example of each, and says plainly where the idea stops being useful."),
    ("The library was built in 1887 with money raised by the townspeople themselves. Its reading room still "
    "has the original oak tables, and the archive keeps the parish records of three centuries."),
    ("Bread needs only flour, water, salt and yeast, but the time you give the dough matters more than any "
    "ingredient. A slow rise overnight in a cool kitchen develops flavour that a quick one cannot."),
    ("When the committee reviewed the proposal, it asked for evidence that the new route would reduce "
    "travel times. The engineers answered with measurements taken over six months at four junctions."),
    ("Birds that migrate at night navigate by the stars, by the earth's magnetic field and by landmarks "
    "such as coastlines. Young birds learn the route on their first journey with older ones."),
]
GOOD_ZH = [
    "这条河发源于小镇北面的山中，向南流淌四十多公里后汇入大海。冬天河水湍急，夏天孩子们常在磨坊附近的浅滩嬉戏。",
    "一个好的解释应当从读者已经知道的东西讲起，每次只引入一个新概念，并用例子说明它，同时坦白地指出它的适用范围。",
    "这座图书馆建于一八八七年，经费全部来自镇上居民的捐款。阅览室里仍然摆着当年的橡木长桌，档案室保存着三百年的教区记录。",
    "做面包只需要面粉、水、盐和酵母，但真正决定味道的是时间。在凉爽的厨房里让面团慢慢发酵一整夜，风味远胜于快速发酵。",
]
SPAM = [
    "Home | About | Contact | Login | Register | Cart (0) | Checkout | Sitemap | Privacy Policy | Terms",
    "BUY NOW!!! cheap watches cheap watches best price free shipping click here click here limited offer",
    "Sign in to continue. Forgot password? Create account. Remember me. Cookie settings. Accept all cookies.",
    "Share this: Facebook Twitter Pinterest Email Print Like Loading... Related posts Tags Categories Archives",
    "首页 | 关于我们 | 联系我们 | 登录 | 注册 | 购物车 | 网站地图 | 隐私政策 | 使用条款",
    "特价促销！！！点击这里 点击这里 免费送货 最低价格 限时抢购 立即购买 立即购买 马上下单",
    "Page 1 2 3 4 5 6 7 8 9 10 Next » Last » Showing 1-20 of 400 results Sort by: Newest Oldest Price",
    "You must be logged in to post a comment. Log in. Leave a Reply Cancel reply. Your email will not be published.",
]
MATH_DOCS = [
    ("Let f be a continuous function on the closed interval [a, b]. Then f attains a maximum and a minimum, "
    "and by the intermediate value theorem it takes every value between f(a) and f(b)."),
    ("The derivative of x squared is 2x, and the integral of 2x from 0 to 1 equals 1. By the fundamental "
    "theorem of calculus, differentiation and integration are inverse operations."),
    ("A prime number has exactly two divisors. Euclid proved there are infinitely many primes: multiply the "
    "first n primes, add one, and the result has a prime factor not in the list."),
    ("The variance of a random variable is the expected value of the squared deviation from its mean; the "
    "standard deviation is the square root of the variance."),
]


def write_documents(root, texts: list[str], batch: str = "b20260101T000000-t", lang: str = "en",
                    ids: list[int] | None = None) -> Lake:
    """A minimal `documents` table (kept rows) so samplers and trainers have a pool to draw from."""
    lake = Lake(root)
    rows = [
        {"doc_id": f"d{i:04d}", "page_id": f"p{i:04d}", "batch_id": batch, "url": f"http://127.0.0.1/{i}",
         "host": "127.0.0.1", "status": "kept", "text": t, "lang": lang, "n_chars": len(t)}
        for i, t in zip(ids if ids is not None else range(len(texts)), texts, strict=True)
    ]
    lake.write("documents", pa.Table.from_pylist(rows, schema=DOCUMENTS), DOCUMENTS, partition_by=["batch_id"])
    return lake
