"""The tokens indexed for Chinese text, codes and odd input (pure functions, no database)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shuzhi.search.query import AllOf, AnyOf, Token, build, render_fts5, render_tsquery
from shuzhi.search.segmenter import segment


def test_two_character_words_are_tokens_inside_longer_words() -> None:
    tokens = segment("常住人口基本信息；不动产登记；企业法人登记注册信息；社保参保缴费记录")
    for word in ("人口", "登记", "法人", "社保", "常住人口", "不动产"):
        assert word in tokens


def test_single_characters_are_indexed_for_one_character_queries() -> None:
    assert "税" in segment("税务登记")


def test_codes_and_latin_words_are_lower_cased_whole_tokens() -> None:
    assert segment("USCC 91330182MA2B3C4D5E 代码330182") == [
        "uscc",
        "91330182ma2b3c4d5e",
        "代码",
        "代",
        "码",
        "330182",
    ]


def test_full_width_text_is_normalised() -> None:
    assert segment("ＡＢＣ１２３") == ["abc123"]


def test_punctuation_and_whitespace_give_no_tokens() -> None:
    assert segment(" \t\n，。！？\"'*:&|!()\x00") == []


@given(st.text(max_size=300))
def test_tokens_never_carry_whitespace_or_query_syntax(text: str) -> None:
    for token in segment(text):
        assert token
        assert token.isalnum(), repr(token)


def test_query_is_words_anded_with_bigram_fallback() -> None:
    expr = build("常住人口 信息", {})
    assert expr == AllOf(
        (
            AnyOf((Token("常住人口"), AllOf((Token("常住"), Token("住人"), Token("人口"))))),
            Token("信息"),
        )
    )


def test_synonym_terms_are_found_inside_the_query_and_ored() -> None:
    group = ["公民身份号码", "身份证"]
    expr = build("查身份证", {"身份证": group, "公民身份号码": group})
    # the particle 查 drops out next to a real word; the synonym group is ORed
    assert isinstance(expr, AnyOf)
    assert Token("查") not in expr.parts
    assert AnyOf((Token("身份证"), AllOf((Token("身份"), Token("份证"))))) in expr.parts


def test_rendering_quotes_every_token() -> None:
    expr = AllOf((Token('a"b'), AnyOf((Token("c'd"), Token("e\\f")))))
    assert render_fts5(expr) == '("a""b" AND ("c\'d" OR "e\\f"))'
    assert render_tsquery(expr) == "('a\"b' & ('c''d' | 'e\\\\f'))"
