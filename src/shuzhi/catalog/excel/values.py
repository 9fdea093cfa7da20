"""The compile template: reading cell values (dates, numbers, codes, booleans)."""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import date, datetime, timedelta
from typing import Any

from shuzhi.security.cells import unguard


class BadValue(ValueError):
    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh, self.en = zh, en


def text(value: object) -> str:
    """A cell as trimmed, NFKC-normalised text (numbers without a spurious ``.0``)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date() if value.time() == datetime.min.time() else value
    if isinstance(value, date):
        return value.isoformat()
    return unguard(unicodedata.normalize("NFKC", str(value)).strip()).strip()


def typed(value: object) -> str:
    """Free text (names, abstracts, conditions) as typed, trimmed: full-width punctuation
    stays; only codes and values that are looked up are NFKC-normalised (``text``)."""
    if isinstance(value, str):
        return unguard(value.strip()).strip()
    return text(value)


def digits(value: object, width: int) -> str:
    """A code segment; a number cell lost its leading zeros in Excel, so pad it back."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if float(value).is_integer() and value >= 0:
            return str(int(value)).zfill(width)
        raise BadValue("应为数字代码。", "Must be a numeric code.")
    out = text(value)
    if out and not out.isdigit():
        raise BadValue("应为数字代码。", "Must be a numeric code.")
    return out


def integer(value: object) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise BadValue("应为整数。", "Must be a whole number.")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise BadValue("应为整数。", "Must be a whole number.")
    out = text(value)
    if not out:
        return None
    if re.fullmatch(r"\d+(\.0+)?", out):
        return int(float(out))
    raise BadValue("应为整数。", "Must be a whole number.")


YES = {"是", "y", "yes", "true", "1", "涉密", "√", "有"}


NO = {"否", "n", "no", "false", "0", "非涉密", "不涉密", "×", "无"}


def yes_no(value: object) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    out = text(value).casefold()
    if not out:
        return None
    if out in YES:
        return True
    if out in NO:
        return False
    raise BadValue("应为「是」或「否」。", "Must be yes (是) or no (否).")


EXCEL_EPOCH = date(1899, 12, 30)


DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日")


def a_date(value: object) -> date | None:
    """An Excel date, an Excel serial number, or text such as 2024-03-01 or 2024年3月1日."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 1 <= value < 2_958_466:
            return EXCEL_EPOCH + timedelta(days=int(value))
        raise BadValue("日期无效。", "Not a valid date.")
    out = text(value)
    if not out:
        return None
    cleaned = re.sub(r"\s.*$", "", out)  # drop a time part
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
    raise BadValue(
        f"日期「{out}」无法识别（应如 2024-03-01）。",
        f"Cannot read the date '{out}' (use e.g. 2024-03-01).",
    )


def code_list(value: object) -> list[str]:
    return [part for part in re.split(r"[;,、\s]+", text(value)) if part]


def json_object(value: object) -> dict[str, Any]:
    # Not NFKC-normalised: extension values are stored exactly as given.
    out = unguard(value.strip()) if isinstance(value, str) else text(value)
    if not out:
        return {}
    try:
        data = json.loads(out)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise BadValue(
            '扩展元数据应为 JSON 对象，如 {"联系人": "张三"}。',
            'Extension metadata must be a JSON object, e.g. {"contact": "Zhang"}.',
        )
    return data
