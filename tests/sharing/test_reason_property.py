"""A reason that must be given is at least ten display columns after trimming: five Chinese
characters or ten Latin letters."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shuzhi.errors import Invalid
from shuzhi.validation import MIN_REASON_WIDTH, required_reason

HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
LATIN = st.characters(min_codepoint=ord("a"), max_codepoint=ord("z"))


@pytest.mark.parametrize(
    ("reason", "accepted"),
    [
        ("不行", False),
        ("不同意。", False),
        ("材料不全", False),
        ("缺少任命文件", True),
        ("资源已合并", True),
        ("no reason", False),
        ("incomplete", True),
        ("  不行      ", False),
        ("第三条不符", True),
    ],
)
def test_examples(reason: str, accepted: bool) -> None:
    if accepted:
        assert required_reason(reason, "拒绝", "A refusal") == reason.strip()
    else:
        with pytest.raises(Invalid) as err:
            required_reason(reason, "拒绝", "A refusal")
        assert "5 个汉字" in err.value.errors[0].message.zh
        assert "10 letters" in err.value.errors[0].message.en


@settings(max_examples=200)
@given(st.text(HAN, max_size=12), st.text(LATIN, max_size=20))
def test_a_chinese_character_counts_as_two_letters(han: str, latin: str) -> None:
    text = han + latin
    if 2 * len(han) + len(latin) >= MIN_REASON_WIDTH:
        assert required_reason(text, "拒绝", "A refusal") == text
    else:
        with pytest.raises(Invalid):
            required_reason(text, "拒绝", "A refusal")


@settings(max_examples=200)
@given(st.text(max_size=30), st.text(min_size=1, max_size=5).filter(lambda s: s.strip() == s))
def test_surrounding_blanks_never_count_and_more_text_never_hurts(text: str, more: str) -> None:
    try:
        kept = required_reason(" \t" + text + "\n ", "拒绝", "A refusal")
    except Invalid:
        return
    assert kept == text.strip()
    assert required_reason(kept + more, "拒绝", "A refusal") == kept + more
