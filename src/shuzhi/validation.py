"""Turn pydantic validation errors into the bilingual ``Invalid`` error, and tidy user text."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from shuzhi.errors import FieldError, Invalid, Message

M = TypeVar("M", bound=BaseModel)

_TEMPLATES: dict[str, tuple[str, str]] = {
    "missing": ("必填项。", "This field is required."),
    "string_too_short": (
        "内容过短（至少 {min_length} 个字符）。",
        "Too short (at least {min_length} characters).",
    ),
    "string_too_long": (
        "内容过长（最多 {max_length} 个字符）。",
        "Too long (at most {max_length} characters).",
    ),
    # Limits placed after a cleaning validator are checked generically (pydantic ≥ 2.14).
    "too_short": ("长度不足（至少 {min_length}）。", "Too short (at least {min_length})."),
    "too_long": ("长度超出（最多 {max_length}）。", "Too long (at most {max_length})."),
    "string_pattern_mismatch": ("格式不正确。", "The format is not valid."),
    "enum": ("取值不在允许范围内：{expected}。", "Not an allowed value: {expected}."),
    "literal_error": ("取值不在允许范围内：{expected}。", "Not an allowed value: {expected}."),
    "int_parsing": ("须为整数。", "Must be a whole number."),
    "int_type": ("须为整数。", "Must be a whole number."),
    "date_from_datetime_parsing": ("日期格式应为 YYYY-MM-DD。", "Dates look like YYYY-MM-DD."),
    "date_parsing": ("日期格式应为 YYYY-MM-DD。", "Dates look like YYYY-MM-DD."),
    "greater_than_equal": ("不能小于 {ge}。", "Must be at least {ge}."),
    "less_than_equal": ("不能大于 {le}。", "Must be at most {le}."),
    "bool_parsing": ("须为是/否。", "Must be yes or no."),
    "json_invalid": ("不是有效的 JSON。", "Not valid JSON."),
    "model_attributes_type": ("请求体格式不正确。", "The request body has the wrong shape."),
    "dict_type": ("请求体格式不正确。", "The request body has the wrong shape."),
}


def translate(errors: list[Any]) -> list[FieldError]:
    """Bilingual field errors from pydantic's error list (used for forms and the JSON API)."""
    out: list[FieldError] = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "form")]
        field = ".".join(loc) or "body"
        ctx = {k: v for k, v in (err.get("ctx") or {}).items()}
        zh, en = _TEMPLATES.get(err.get("type", ""), ("", ""))
        if not zh:
            text = str(err.get("msg", "invalid"))
            out.append(FieldError(field, Message(f"输入无效：{text}", text)))
            continue
        try:
            out.append(FieldError(field, Message(zh.format(**ctx), en.format(**ctx))))
        except (KeyError, IndexError):
            out.append(FieldError(field, Message(zh, en)))
    return out


def parse(model: type[M], data: Mapping[str, Any]) -> M:
    """Validate untrusted input into ``model`` or raise ``Invalid`` naming every bad field."""
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        raise Invalid(errors=translate(exc.errors())) from None


def clean_text(value: Any) -> Any:
    """Trim text and keep every character as typed (full-width punctuation stays, e.g. ，；：（）).

    Text is stored the way people wrote it; comparisons and search go through ``text_key``.
    """
    if isinstance(value, str):
        return value.strip()
    return value


def clean_code(value: Any) -> Any:
    """Codes and identifiers: NFKC-normalised (full-width digits and letters to ASCII), trimmed."""
    if isinstance(value, str):
        return unicodedata.normalize("NFKC", value).strip()
    return value


def text_key(value: str) -> str:
    """The comparison form of a text: NFKC, case-folded, whitespace removed.

    Two names that differ only in full-width/ASCII punctuation, case or spacing share a key
    (人口（户籍） and 人口(户籍)); never stored as what the user typed.
    """
    return "".join(unicodedata.normalize("NFKC", value).casefold().split())


def blank_to_none(value: Any) -> Any:
    value = clean_text(value)
    return None if value == "" else value


def blank_code_to_none(value: Any) -> Any:
    value = clean_code(value)
    return None if value == "" else value


# One rule for every reason a decision must give (refusing, returning, withdrawing, revoking,
# appealing, extending): long enough to name a provision, a missing item or a condition.
# Measured in display columns, a Chinese character counting two: five characters
# (「缺少任命文件」) or ten Latin letters say something, 「不行」 and "no" do not.
MIN_REASON_WIDTH = 10
REASON_RULE = f"at least {MIN_REASON_WIDTH // 2} Chinese characters or {MIN_REASON_WIDTH} letters"


def text_width(text: str) -> int:
    """Display columns: wide and full-width characters (汉字, full-width punctuation) count 2."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def required_reason(reason: str, what_zh: str, what_en: str, field: str = "reason") -> str:
    """A reason that must be given, trimmed; refused when too short to say anything."""
    reason = reason.strip()
    if text_width(reason) < MIN_REASON_WIDTH:
        raise Invalid.field(
            field,
            f"{what_zh}须写明具体理由（至少 {MIN_REASON_WIDTH // 2} 个汉字或"
            f" {MIN_REASON_WIDTH} 个字母），如依据的规定、缺少的材料或不符合的条件；"
            "「不行」「不同意」之类不够。",
            f"{what_en} needs a specific reason (at least {MIN_REASON_WIDTH // 2} Chinese"
            f" characters or {MIN_REASON_WIDTH} letters), such as the provision relied on,"
            " the missing material or the condition not met; a bare 'no' is not enough.",
        )
    return reason
