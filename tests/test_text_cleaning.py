"""Text cleaning: free text is only trimmed, codes are NFKC-normalised, and the comparison
key folds width, case and spaces."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from shuzhi.validation import clean_code, clean_text, text_key


@given(st.text(max_size=40))
def test_clean_text_only_trims(value: str) -> None:
    cleaned = clean_text(value)
    assert cleaned == value.strip()
    assert clean_code(value) == unicodedata.normalize("NFKC", value).strip()


@given(st.text(alphabet=st.sampled_from("人口信息（）()，,；;：: 　AaBb"), max_size=30))
def test_text_key_ignores_width_case_and_spaces(value: str) -> None:
    ascii_form = unicodedata.normalize("NFKC", value).upper()
    assert text_key(value) == text_key(ascii_form) == text_key(f"  {value}\u3000")
    assert not any(c.isspace() for c in text_key(value))
