"""Valid catalogue input for tests, changed field by field per case."""

from __future__ import annotations

from typing import Any

from shuzhi.catalog.schemas import EntryCreate, EntryFields, EntryUpdate


def item(name: str, **over: Any) -> dict[str, Any]:
    return {"name": name, "data_type": "C", "length": 50, "share_type": "unconditional", **over}


def entry_data(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "户籍人口信息",
        "abstract": "本区户籍人口的基本信息，包括姓名、公民身份号码、户籍地址等。",
        "class_code": "1",
        "subclass_code": "01",
        "group_code": "001",
        "format_code": "3",
        "format_subtype": "MySQL",
        "share_type": "unconditional",
        "share_method": "platform",
        "share_method_type": "interface",
        "open_type": "not_open",
        "not_open_reason": "sensitive",
        "update_cycle": "2",
        "items": [
            item("姓名"),
            item("公民身份号码", length=18, element_code="DE0001", is_source=True),
            item("户籍地址", length=200),
        ],
    }
    data.update(over)
    return data


def create(**over: Any) -> EntryCreate:
    return EntryCreate.model_validate(entry_data(**over))


def update(**over: Any) -> EntryUpdate:
    return EntryUpdate.model_validate(entry_data(**over))


def fields(**over: Any) -> EntryFields:
    return EntryFields.model_validate(entry_data(**over))
