"""PII: e-mail, IP and phone patterns in English and Chinese text, and what only looks like a phone."""

from __future__ import annotations

import pytest

from goldpan.filter.pii import count_pii, redact_pii


def test_english_contact_paragraph_is_redacted() -> None:
    text = (
        "For press enquiries write to jane.doe+press@marlow-creek.example.org or call our office on "
        "+1 (415) 555-0132 between nine and five. The old server at 203.0.113.7 is retired."
    )
    red, counts = redact_pii(text)
    assert counts == {"email": 1, "ip": 1, "phone": 1}
    assert red == (
        "For press enquiries write to <EMAIL> or call our office on "
        "<PHONE> between nine and five. The old server at <IP> is retired."
    )


def test_chinese_contact_paragraph_is_redacted() -> None:
    text = "如有疑问请致电客服13800138000，或拨打座机010-62345678，也可发邮件至 service@eskerford.example.cn 联系我们。"
    red, counts = redact_pii(text)
    assert counts == {"email": 1, "ip": 0, "phone": 2}
    assert red == "如有疑问请致电客服<PHONE>，或拨打座机<PHONE>，也可发邮件至 <EMAIL> 联系我们。"


@pytest.mark.parametrize(
    "phone",
    [
        "+1 (415) 555-0132",
        "+44 20 7946 0958",
        "+86 138 0013 8000",
        "+86-10-6234-5678",
        "+49 30 901820",
        "(415) 555-0132",
        "415-555-0132",
        "415.555.0132",
        "13800138000",
        "138-0013-8000",
        "138 0013 8000",
        "010-62345678",
        "0755-8765-4321",
        "(0755) 8765 4321",
        "021 5432 1098",
    ],
)
def test_phone_formats_are_found(phone: str) -> None:
    for text in (f"Call {phone} today.", f"电话：{phone}。"):
        red, counts = redact_pii(text)
        assert counts["phone"] == 1, text
        assert phone not in red and "<PHONE>" in red


@pytest.mark.parametrize(
    "text",
    [
        "The meeting moved from 2024-03-15 to 2024.03.22 at 10:30:00.",
        "会议日期为2024-03-15，截止日期2024年3月22日。",
        "Upgrade Python from 3.11.7 to 3.12.1; the library is at v1.2.3.4 and 1.2.3.4.5 is a build id.",
        "The camera costs $1,299.00, down from $1,499.99; 1,234,567 units were sold.",
        "价格：￥1299.00，原价￥1,599.00，共售出1234567台。",
        "ISBN 978-7-111-54742-6 and ISBN-13: 9780306406157 (also 978-0-306-40615-7).",
        "Order number 2024031500123, invoice SO-2024031500123, tracking 1Z999AA10123456784.",
        "订单号：20240315001234567，身份证号110101199003071234，快递单号SF1234567890123。",
        "In C++ write std::vector or a::b; ratios like 16:9 and 4:3 are not addresses.",
        "Section 12.4.1 of RFC 5322, page 415-420.",
    ],
)
def test_text_that_only_looks_like_pii_is_left_alone(text: str) -> None:
    red, counts = redact_pii(text)
    assert counts == {"email": 0, "ip": 0, "phone": 0}, red
    assert red == text


def test_ip_addresses_v4_and_v6() -> None:
    text = "Hosts 192.168.1.20, ::1, fe80::1ff:fe23:4567:890a and 2001:0db8:85a3:0000:0000:8a2e:0370:7334 answer; 256.1.1.1 does not."
    red, counts = redact_pii(text)
    assert counts == {"email": 0, "ip": 4, "phone": 0}
    assert red == "Hosts <IP>, <IP>, <IP> and <IP> answer; 256.1.1.1 does not."


def test_email_edge_cases() -> None:
    assert count_pii("a@b is not an address, user@localhost neither")["email"] == 0
    assert count_pii("王小明 <wang.xm@mail.example.com.cn> 写道")["email"] == 1
    red, _ = redact_pii("user@example.com.")
    assert red == "<EMAIL>."  # the sentence's full stop stays


def test_redaction_is_idempotent_and_empty_safe() -> None:
    red, _ = redact_pii("mail a@example.com, phone 13800138000, ip 10.0.0.1")
    assert redact_pii(red) == (red, {"email": 0, "ip": 0, "phone": 0})
    assert redact_pii("") == ("", {"email": 0, "ip": 0, "phone": 0})


def test_count_matches_redaction() -> None:
    text = "a@example.com b@example.org 10.0.0.1 +86 138 0013 8000 and 415-555-0132"
    assert count_pii(text) == redact_pii(text)[1] == {"email": 2, "ip": 1, "phone": 2}


# Every PII and look-alike string above, and each one glued to letters, digits and punctuation, so the
# look-arounds are exercised on both sides.
_PIECES = [
    "jane.doe+press@marlow-creek.example.org", "service@eskerford.example.cn", "wang.xm@mail.example.com.cn",
    "a@b", "user@localhost", "x_%+-@a.bc", "@property", "+1 (415) 555-0132", "+44 20 7946 0958",
    "+86 138 0013 8000", "+86-10-6234-5678", "+49 30 901820", "(415) 555-0132", "415-555-0132", "415.555.0132",
    "13800138000", "138-0013-8000", "138\u00a00013\u00a08000", "010-62345678", "0755-8765-4321",
    "(0755) 8765 4321", "021 5432 1098", "2024-03-15", "2024.03.22", "10:30:00", "3.11.7", "v1.2.3.4",
    "1.2.3.4.5", "203.0.113.7", "256.1.1.1", "192.168.1.20", "::1", "fe80::1ff:fe23:4567:890a", "std::vector",
    "2001:0db8:85a3:0000:0000:8a2e:0370:7334", "978-7-111-54742-6", "SO-2024031500123", "415-420", "16:9",
]
_GLUE = ["", " ", "a", "1", ".", "-", "+", "(", ":", "@", "，"]


def _variants() -> list[str]:
    return [f"{a}{p}{b}" for p in _PIECES for a in _GLUE for b in _GLUE]


def test_quick_checks_never_change_the_spans() -> None:
    """Each pattern runs only where its quick check matches (goldpan.filter.pii): the spans equal those
    of every pattern run on every text, on the strings above glued to every neighbour, and on 40 real
    Debian documentation pages (raw HTML: numbers, colons and @ everywhere) and the sample site."""
    from goldpan.filter.pii import _spans
    from tests.fixtures.real_pages import real_and_sample_htmls

    texts = _variants() + real_and_sample_htmls()
    found = 0
    for text in texts:
        assert _spans(text) == _spans(text, checked=False), text
        found += len(_spans(text))
    assert found > 1000  # the texts do hold PII-shaped strings: the comparison is not vacuous


@pytest.mark.parametrize("kind", ["email", "ipv4", "ipv6", "phone0", "phone1", "phone2", "phone3"])
def test_each_quick_check_is_implied_by_its_pattern(kind: str) -> None:
    """Wherever a pattern matches, its check matches the same text (a necessary condition)."""
    from goldpan.filter import pii

    pairs = {"email": (pii._EMAIL, pii._EMAIL_CHECK), "ipv4": (pii._IPV4, pii._IPV4_CHECK),
             "ipv6": (pii._IPV6_CAND, pii._IPV6_CHECK),
             **{f"phone{i}": pc for i, pc in enumerate(zip(pii._PHONE_PATTERNS, pii._PHONE_CHECKS, strict=True))}}
    pattern, check = pairs[kind]
    matched = 0
    for text in _variants():
        for m in pattern.finditer(text):
            matched += 1
            assert check.search(m.group(0)), (kind, m.group(0))
    assert matched
