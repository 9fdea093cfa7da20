"""The entry editor: blank optional numbers, required lengths, empty forms and the 目 code."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from shuzhi.catalog import service
from shuzhi.catalog.schemas import ElementIn, EntryFields, ItemIn
from shuzhi.context import Role
from shuzhi.db.engine import Database
from shuzhi.errors import Forbidden, Invalid
from shuzhi.validation import parse
from tests.catalog.helpers import create, entry_data, item
from tests.catalog.test_rules import problems
from tests.conftest import acting
from tests.factories import PASSWORD, seed_org
from tests.web.helpers import csrf, login

BLANKS = st.sampled_from(["", " ", "\u3000", "\t", None])

# (schema, valid input without the field, the optional numeric field)
OPTIONAL_NUMBERS: list[tuple[type[BaseModel], dict[str, Any], str]] = [
    (ItemIn, {"name": "出生日期", "data_type": "D"}, "length"),
    (ElementIn, {"code": "DE9001", "name": "出生日期", "data_type": "D"}, "length"),
]


@pytest.mark.parametrize(("model", "base", "key"), OPTIONAL_NUMBERS)
@given(blank=BLANKS)
def test_blank_optional_numbers_are_none(
    model: type[BaseModel], base: dict[str, Any], key: str, blank: str | None
) -> None:
    # pydantic ≥ 2.14 applied ge/le to None and raised TypeError (HTTP 500 in the console).
    assert getattr(parse(model, {**base, key: blank}), key) is None


@pytest.mark.parametrize(("model", "base", "key"), OPTIONAL_NUMBERS)
@given(value=st.one_of(st.integers(max_value=0), st.integers(min_value=10_000_001), st.text()))
def test_bad_optional_numbers_are_field_errors(
    model: type[BaseModel], base: dict[str, Any], key: str, value: object
) -> None:
    try:
        out = parse(model, {**base, key: value})
    except Invalid as err:
        assert [e.field for e in err.errors] == [key]
        assert all(e.message.zh and e.message.en for e in err.errors)
    else:
        length = getattr(out, key)
        assert length is None or 1 <= length <= 10_000_000


def test_item_length_is_required_only_for_variable_width_types() -> None:
    # Dates, times, logicals and binary numbers have a fixed storage size (standards §1.6).
    for data_type in "DTLMGBIY":
        assert problems(items=[item("某项", data_type=data_type, length=None)]) == {}
    for data_type in "CNF":
        found = problems(items=[item("某项", data_type=data_type, length=None)])
        assert set(found) == {"items.0.length"}
        assert "数据长度" in found["items.0.length"] and "length" in found["items.0.length"]
    # Unstructured resources (documents, images) need no lengths at all.
    assert problems(format_code="1", format_subtype="pdf", items=[item("正文", length=None)]) == {}


def _form(token: str, **over: str) -> dict[str, str]:
    form = {
        "csrf_token": token,
        "name": "婚姻登记信息",
        "abstract": "本区婚姻登记的基本信息。",
        "classification": "1:01",
        "group_code": "001",
        "format_code": "3",
        "share_type": "unconditional",
        "share_method": "platform",
        "share_method_type": "interface",
        "open_type": "not_open",
        "not_open_reason": "sensitive",
        "update_cycle": "4",
        "items-0-name": "登记日期",
        "items-0-data_type": "D",
        "items-0-length": "",
        "items-0-share_type": "unconditional",
        "items-1-name": "",
        "items-1-data_type": "C",
        "items-1-length": "",
        "items-1-share_type": "unconditional",
        "items-2-name": "",
        "items-2-length": "",
    }
    form.update(over)
    return form


def test_blank_length_on_a_date_item_saves(client: TestClient, database: Database) -> None:
    seed_org(database)
    login(client, "a.liaison", PASSWORD)
    token = csrf(client, "/catalog/entries/new")
    saved = client.post("/catalog/entries/new", data=_form(token), follow_redirects=False)
    assert saved.status_code == 303, saved.text[:2000]
    page = client.get(saved.headers["location"])
    assert page.status_code == 200 and "登记日期" in page.text


def test_blank_required_length_is_shown_next_to_its_field(
    client: TestClient, database: Database
) -> None:
    seed_org(database)
    login(client, "a.liaison", PASSWORD)
    token = csrf(client, "/catalog/entries/new")
    form = _form(token, **{"items-1-name": "男方姓名", "items-1-data_type": "C"})
    bad = client.post("/catalog/entries/new", data=form)
    assert bad.status_code == 422
    # The message sits in the item's length cell, tied to the input for screen readers.
    cell = re.search(
        r'<input name="items-1-length"[^>]*aria-invalid="true"[^>]*'
        r'aria-describedby="items-1-length-error"[^>]*>\s*'
        r'<span class="field-error" id="items-1-length-error">([^<]+)</span>',
        bad.text,
    )
    assert cell, bad.text[:4000]
    assert "数据长度" in cell.group(1)
    # What was typed is kept; the date item without a length is not flagged.
    assert 'value="男方姓名"' in bad.text and 'id="items-0-length-error"' not in bad.text


def test_add_row_on_an_empty_form_adds_rows(client: TestClient, database: Database) -> None:
    seed_org(database)
    login(client, "a.liaison", PASSWORD)
    page = client.get("/catalog/entries/new")
    shown = len(re.findall(r'name="items-\d+-name"', page.text))
    assert shown >= 1
    token = csrf(client, "/catalog/entries/new")
    blank = {k: v for k, v in _form(token).items() if not k.startswith("items-")}
    blank.update({f"items-{i}-name": "" for i in range(shown)})
    more = client.post("/catalog/entries/new", data={**blank, "action": "add_row"})
    assert more.status_code == 200
    assert len(re.findall(r'name="items-\d+-name"', more.text)) > shown


def _group_code(html: str) -> str:
    found = re.search(r'<input name="group_code"[^>]*value="([^"]*)"', html)
    assert found, html[:3000]
    return found.group(1)


def test_group_code_is_prefilled_for_the_unit(client: TestClient, database: Database) -> None:
    seeded = seed_org(database)
    # Another unit already uses 目 001: a unit without entries is offered the next free one.
    with acting(database, seeded.other_unit_actor(Role.DATA_LIAISON)) as ctx:
        service.create_entry(ctx, create(group_code="001"))
    login(client, "a.liaison", PASSWORD)
    page = client.get("/catalog/entries/new")
    assert _group_code(page.text) == "002"
    # Saving the prefilled form as it is (only the required texts typed) works first time.
    token = csrf(client, "/catalog/entries/new")
    form = _form(token)
    form["group_code"] = _group_code(page.text)
    saved = client.post("/catalog/entries/new", data=form, follow_redirects=False)
    assert saved.status_code == 303, saved.text[:2000]
    # Once the unit has entries, its own 目 is offered.
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        service.create_entry(ctx, create(name="收养登记信息", group_code="007"))
        service.create_entry(ctx, create(name="离婚登记信息", group_code="007"))
    assert _group_code(client.get("/catalog/entries/new").text) == "007"


def test_new_entry_defaults_need_the_right_to_create(database: Database) -> None:
    seeded = seed_org(database)
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        assert service.new_entry_defaults(ctx).group_code == "001"
    with acting(database, seeded.actor(Role.AUDITOR)) as ctx, pytest.raises(Forbidden):
        service.new_entry_defaults(ctx)


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"abstract": "甲"}, "abstract"),
        ({"name": "名" * 200}, "name"),
        ({"items": [item("")]}, "items.0.name"),
        ({"items": [item("性别", data_type="CC")]}, "items.0.data_type"),
        ({"related_codes": [f"101001/{i:06d}" for i in range(60)]}, "related_codes"),
    ],
)
def test_limited_fields_give_bilingual_field_errors(over: dict[str, Any], field: str) -> None:
    # Limits after a text-cleaning validator are checked generically by pydantic ≥ 2.14
    # (too_short/too_long), which used to come out as untranslated English.
    with pytest.raises(Invalid) as info:
        parse(EntryFields, entry_data(**over))
    [error] = info.value.errors
    assert error.field == field
    assert not error.message.zh.startswith("输入无效") and "items after" not in error.message.en
