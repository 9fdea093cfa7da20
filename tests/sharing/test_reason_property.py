"""A reason that must be given is at least MIN_REASON_CHARS characters after trimming."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shuzhi.errors import Invalid
from shuzhi.sharing.schemas import MIN_REASON_CHARS
from shuzhi.sharing.service.common import required_reason


def test_the_minimum_is_ten() -> None:
    assert MIN_REASON_CHARS == 10


@settings(max_examples=200)
@given(st.text(max_size=30))
def test_required_reason_counts_characters_after_trimming(text: str) -> None:
    stripped = text.strip()
    if len(stripped) >= MIN_REASON_CHARS:
        assert required_reason(text, "拒绝", "A refusal") == stripped
    else:
        with pytest.raises(Invalid):
            required_reason(text, "拒绝", "A refusal")
