"""Console texts: each capability keeps its own, and together they form one table."""

from __future__ import annotations

from collections import Counter

from shuzhi.web.i18n import TEXT_SOURCES, TEXTS, translate


def test_a_key_belongs_to_exactly_one_capability() -> None:
    counts = Counter(key for source in TEXT_SOURCES for key in source)
    assert [key for key, n in counts.items() if n > 1] == []
    assert len(TEXTS) == sum(len(source) for source in TEXT_SOURCES)


def test_every_text_has_chinese_and_english() -> None:
    missing = [key for key, (zh, en) in TEXTS.items() if not zh.strip() or not en.strip()]
    assert missing == []


def test_translate_picks_the_locale_and_falls_back_to_the_key() -> None:
    key = next(iter(TEXTS))
    assert translate("zh-CN", key) == TEXTS[key][0]
    assert translate("en", key) == TEXTS[key][1]
    assert translate("en", "no.such.key") == "no.such.key"
