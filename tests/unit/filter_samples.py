"""Hand-written sample pages for the filter tests (original text, written for these tests).

Each sample imitates a kind of page the Gopher rules exist for: a good article that must pass,
and the spam / list / table / fragment pages they must reject, in English and Chinese.
"""

GOOD_EN = """\
How a small town rebuilt its library after the flood

When the river rose over its banks in the spring of 2019, the public library in Marlow Creek lost
almost everything on its ground floor. Water reached the second shelf of the reading room, and the
children's corner, which had been moved downstairs only a year earlier, was ruined within hours.
The librarians spent the following week carrying wet boxes to the parking lot and deciding, one
volume at a time, what could be dried and what had to be thrown away.

What happened next surprised even the people who organised it. Instead of waiting for a grant, a
group of retired teachers set up a table outside the post office and asked neighbours to lend the
library one book each for a year. Within a month they had collected more than four thousand titles,
most of them in good condition, and a local carpenter offered to build new shelves at cost.

The rebuilt library opened in the autumn with a different layout. The children's books now sit on
the upper floor, the computers have been raised onto sturdy tables, and the most valuable local
archives are stored in sealed boxes above the level that the water reached. The head librarian
says that the flood forced them to think about which parts of the collection truly mattered to
the town, and that the answer was not always the one they expected.

Visitors today often ask about the small labels inside the borrowed books. Each one carries the
name of the family that lent it, and many of those families have since decided to donate their
books permanently. The library keeps a list of every lender on a board near the entrance, and the
list has become one of the most photographed things in the building.

Other towns along the river have asked how the project worked. The organisers usually give the
same advice: start with people rather than money, keep a careful record of every loan, and make it
easy for lenders to see where their books ended up. None of that requires a large budget, they
say, but all of it requires patience and a willingness to knock on a great many doors.
"""

# A forum-style repeated-line spam page: the same call to action again and again.
SPAM_REPEATED_LINES_EN = "\n".join(  # noqa: FLY002
    [
        "Best deals on garden furniture this week only",
        "Click here to claim your discount code now",
        "Free shipping on every order over fifty dollars",
        "Click here to claim your discount code now",
        "Our chairs are made from weather resistant teak wood",
        "Click here to claim your discount code now",
        "Best deals on garden furniture this week only",
        "Click here to claim your discount code now",
        "Limited stock available so order before the weekend",
        "Click here to claim your discount code now",
        "Best deals on garden furniture this week only",
        "Click here to claim your discount code now",
    ]
)

# A price table: dates, numbers and separators, almost no words with letters.
SYMBOL_TABLE_EN = (
    "\n".join(
        f"2024-03-{d:02d} | {100 + d * 1.37:.2f} | {(-1) ** d * 0.25 * d:+.2f}% | {1200 + 37 * d:,} | #{d}"
        for d in range(1, 29)
    )
    + "\nDaily closing prices of the fund, in euros."
)

SHORT_EN = "Thanks for visiting our page. The new opening hours of the shop will be announced here soon, so check back."

# A "latest posts" page: teasers cut off with an ellipsis.
ELLIPSIS_LIST_EN = """\
Latest stories from our blog
Why we moved the workshop to the old mill and what we learned about the building...
Five simple ways to keep your sourdough starter alive during a long summer holiday...
The surprising history of the village bakery and the family that has run it since...
A beginner's guide to repairing wooden chairs without special tools or expensive...
What our apprentices said when we asked them about their first year in the trade...
Notes from the regional craft fair, where the weather was better than anyone had...
Read more articles in the archive, or subscribe to receive new stories by email.
"""

GOOD_ZH = """\
城市里的社区菜园

近几年，越来越多的城市居民开始在小区的空地上种菜。最初，这只是几位退休老人自发的尝试：他们在楼下荒着的花坛里翻土，种上了葱、青菜和番茄。没想到到了夏天，菜园不仅有了收成，还吸引了不少邻居驻足聊天。

社区工作人员发现，菜园带来的变化远不止多了几筐蔬菜。过去彼此不认识的住户，如今会在傍晚一起浇水、交换种子，孩子们放学后也喜欢蹲在地边观察蚯蚓和蜗牛。有位在这里住了十多年的居民说，他是通过菜园才第一次叫出对门邻居的名字。

当然，菜园的管理也遇到过难题。有人担心施肥会产生异味，也有人抱怨公共用地被少数人占用。为此，居委会召开了几次协调会，最后定下规矩：每户只能认领一小块地，不得使用化学农药，收获的一部分要送给社区食堂，由志愿者统一安排。

如今，这个做法已经被附近几个街道借鉴。专家认为，社区菜园的意义在于让人重新建立与土地和邻里的联系，而这种联系在高密度的城市生活中尤其珍贵。对于参与者来说，最大的收获或许不是蔬菜本身，而是那份亲手照料一片绿色的踏实感。
"""

# Chinese repetitive spam: the same promotional line repeated with a few fillers.
SPAM_REPEATED_ZH = "\n".join(  # noqa: FLY002
    [
        "正品低价手机壳批发，全场包邮，欢迎选购",
        "点击进入店铺领取优惠券，先到先得",
        "正品低价手机壳批发，全场包邮，欢迎选购",
        "点击进入店铺领取优惠券，先到先得",
        "正品低价手机壳批发，全场包邮，欢迎选购",
        "新款上市，厂家直销，质量保证",
        "正品低价手机壳批发，全场包邮，欢迎选购",
        "点击进入店铺领取优惠券，先到先得",
        "正品低价手机壳批发，全场包邮，欢迎选购",
        "点击进入店铺领取优惠券，先到先得",
    ]
)

# A Chinese lottery/price table: every whitespace chunk carries a Han character, so a
# whitespace tokeniser + str.isalpha calls ~all of them "words with letters"; per character,
# most tokens are digits and symbols.
LOTTERY_TABLE_ZH = "\n".join(
    f"第{2024000 + i}期：{(i * 7) % 33 + 1:02d}、{(i * 11) % 33 + 1:02d}、{(i * 13) % 33 + 1:02d}+{(i * 5) % 16 + 1:02d}号 "
    f"销量{31000000 + i * 12345:,}元 奖池{2.1 + i * 0.07:.2f}亿"
    for i in range(1, 26)
)
