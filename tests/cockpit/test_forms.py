"""The cockpit's form parsers (codes, milestone lines, filter lines) and threshold levels,
checked on generated input."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from shuzhi.cockpit.indicators import level_of
from shuzhi.cockpit.schemas import IndicatorCreate, ScenarioCreate

CODE = st.from_regex(r"[0-9]{6}/[0-9]{6}", fullmatch=True)
NAME = st.text(alphabet="数据共享上线确认 ab", min_size=1, max_size=20).filter(
    lambda s: s.strip() == s and "  " not in s
)
DAY = st.dates(min_value=date(2030, 1, 1), max_value=date(2030, 12, 31))


@given(st.lists(CODE, max_size=5), st.sampled_from([", ", " ", "，", ";", "\n"]))
def test_codes_split_on_any_separator(codes: list[str], sep: str) -> None:
    parsed = ScenarioCreate.model_validate(
        {
            "year": 2030,
            "name": "场景",
            "goal": "目标",
            "owner": "王芳",
            "resource_codes": sep.join(codes),
            "milestones": "上线 2030-12-01",
        }
    )
    assert parsed.resource_codes == codes


@given(st.lists(st.tuples(NAME, DAY), min_size=1, max_size=5))
def test_milestone_lines_keep_names_with_spaces(stones: list[tuple[str, date]]) -> None:
    text = "\n".join(f"{name} {day.isoformat()}" for name, day in stones)
    parsed = ScenarioCreate.model_validate(
        {"year": 2030, "name": "场景", "goal": "目标", "owner": "王芳", "milestones": text}
    )
    assert [(m.name, m.due_on) for m in parsed.milestones] == stones


@given(
    st.lists(
        st.tuples(
            st.text(alphabet="年龄姓名abc", min_size=1, max_size=6),
            st.sampled_from(["eq", "ge", "lt", "like_prefix"]),
            st.text(alphabet="办理中 0123", min_size=1, max_size=8).map(str.strip).filter(bool),
        ),
        max_size=4,
    )
)
def test_filter_lines_round_trip(filters: list[tuple[str, str, str]]) -> None:
    text = "\n".join(" ".join(f) for f in filters)
    parsed = IndicatorCreate.model_validate(
        {"code": "X1", "name": "n", "resource_code": "r", "func": "count", "filters": text}
    )
    assert [(f.column, f.op, f.value) for f in parsed.filters] == filters


@given(
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e9, max_value=1e9),
    st.floats(min_value=0, max_value=1e6),
    st.floats(min_value=0, max_value=1e6),
)
def test_levels_are_monotonic(value: float, warn: float, gap: float) -> None:
    above = level_of(value, "above", warn, warn + gap + 1)
    below = level_of(value, "below", -warn, -warn - gap - 1)
    assert above == ("alarm" if value >= warn + gap + 1 else "warn" if value >= warn else "ok")
    assert below == ("alarm" if value <= -warn - gap - 1 else "warn" if value <= -warn else "ok")
    assert level_of(None, "above", 1, 2) == "ok"
