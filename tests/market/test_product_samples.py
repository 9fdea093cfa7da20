"""A product's sample may hold no personal information in clear: every spelling of an
identifier (groups, full width, the legacy 15-digit ID, +86, dashes), bank cards, names and
house-level addresses are refused, naming the column and never echoing the value; a sample
masked as the lake masks is accepted."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from shuzhi.app import create_app
from shuzhi.auth import service as auth
from shuzhi.auth.schemas import ApiKeyCreate
from shuzhi.context import SYSTEM, Role
from shuzhi.db.engine import Database
from shuzhi.errors import Invalid
from shuzhi.lake import service as lake
from shuzhi.market import service
from shuzhi.market.schemas import ProductIn
from shuzhi.market.service.samples import unmasked_columns
from shuzhi.security.categories import Category
from shuzhi.security.masking import MaskLevel, mask
from tests.conftest import acting
from tests.factories import seed_org
from tests.lake.helpers import resident_id
from tests.market.helpers import active_agreement, figures_entry, operator_party, product_data
from tests.sharing.helpers import shared_entry

C = Category
ID = resident_id(7, "19800101")
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
CARD = "6222 0212 3456 7890 123"
LUHN_CARD = "4111 1111 1111 1111"
# column → (value in clear, the category it is refused as)
IN_CLEAR: dict[str, tuple[str, Category]] = {
    "身份证号": (f"{ID[:6]} {ID[6:14]} {ID[14:]}", C.RESIDENT_ID),
    "证件号码": (ID.translate(FULL_WIDTH), C.RESIDENT_ID),
    "旧证件号": (ID[:6] + ID[8:17], C.RESIDENT_ID),  # 15 digits: 2-digit year, no check digit
    "手机": ("+86 139 1234 5678", C.MOBILE_PHONE),
    "联系手机": ("139-1234-5678", C.MOBILE_PHONE),
    "移动电话": ("8613912345678", C.MOBILE_PHONE),
    "银行卡号": (CARD, C.BANK_CARD),
    "姓名": ("张三丰", C.PERSON_NAME),
    "住址": ("浙江省杭州市西湖区文三路100号3幢201室", C.ADDRESS),
    # Inside other text, under names that say nothing of people.
    "备注": ("请联系 +86 139-1234-5678 办理", C.MOBILE_PHONE),
    "说明": (f"申请人证件：{ID[:6]}-{ID[6:14]}-{ID[14:]}。", C.RESIDENT_ID),
    "订单号": (f"付款卡{LUHN_CARD}", C.BANK_CARD),
}


@pytest.mark.parametrize("column", list(IN_CLEAR))
def test_each_spelling_in_clear_is_found_in_its_column(column: str) -> None:
    value, category = IN_CLEAR[column]
    sample = [{"行业": "制造业", "指数": 86.5, column: value}]
    assert unmasked_columns(sample, {}) == [(column, category)]


@pytest.mark.parametrize("column", list(IN_CLEAR))
def test_the_lakes_masked_form_of_each_passes(column: str) -> None:
    value, category = IN_CLEAR[column]
    masked = mask(value, category.value, MaskLevel.PARTIAL)  # as the lake shows the column
    assert masked != value
    assert unmasked_columns([{"行业": "制造业", column: masked}], {}) == []


def test_a_sample_in_clear_is_refused_naming_every_column_never_a_value(
    database: Database,
) -> None:
    seeded = seed_org(database)
    party = operator_party(database, seeded)
    code = figures_entry(database)
    agreement = active_agreement(database, seeded, party.id, [code])
    sample = [
        {"行业": "制造业", "指数": 86.5, **{c: v for c, (v, _) in IN_CLEAR.items()}},
        {"行业": "批发零售", "指数": 79.1},
    ]
    data = product_data(agreement.id, [code], sample=sample)
    with pytest.raises(Invalid) as caught, acting(database, seeded.actor(Role.OPERATOR)) as ctx:
        service.create_product(ctx, ProductIn.model_validate(data))
    errors = caught.value.errors
    assert {e.field for e in errors} == {"sample"}
    named = [c for c in IN_CLEAR if any(f"「{c}」" in e.message.zh for e in errors)]
    assert named == list(IN_CLEAR) and len(errors) == len(IN_CLEAR)
    assert all(f"“{c}”" in e.message.en for c, e in zip(IN_CLEAR, errors, strict=True))
    shown = " ".join(f"{e.message.zh} {e.message.en}" for e in errors)
    for value, _ in IN_CLEAR.values():
        assert value not in shown
    for digits in ("1234", "5678", ID[6:14], "文三路"):
        assert digits not in shown
    with acting(database, SYSTEM) as ctx:
        assert service.list_products(ctx) == []
    # Over HTTP: a bilingual 422 naming the column.
    with acting(database, SYSTEM) as ctx:
        token = auth.create_api_key(
            ctx, ApiKeyCreate(name="op", role=Role.OPERATOR, unit_code="A")
        ).token
    data["sample"] = [{"行业": "制造业", "手机": "+86 139 1234 5678"}]
    with TestClient(create_app(database.settings, database=database, migrate=False)) as client:
        answer = client.post(
            "/api/v1/market/products", json=data, headers={"Authorization": f"Bearer {token}"}
        )
    assert answer.status_code == 422
    assert "「手机」" in answer.text and "“手机”" in answer.text
    assert "139" not in answer.text and "5678" not in answer.text


def test_a_sample_masked_as_the_lake_masks_it_is_accepted(database: Database) -> None:
    seeded = seed_org(database)
    party = operator_party(database, seeded)
    people = shared_entry(database, unit="B", loaded=True)
    agreement = active_agreement(database, seeded, party.id, [people])
    with acting(database, SYSTEM) as ctx:
        current = lake.current_version(ctx, people)
        assert current is not None
        version = current[0]
    with acting(database, seeded.other_unit_actor(Role.UNIT_CDO)) as ctx:
        for c in version.classification:
            if c.personal:  # the source unit confirms the classifier's categories
                lake.override_classification(ctx, people, c.name, c.category, "已核对")
    with acting(database, SYSTEM) as ctx:
        shown = lake.sample_rows(ctx, people, version.number, limit=5)
    assert {"姓名", "公民身份号码", "联系电话"} <= set(shown.masked_columns)
    sample = [dict(zip(shown.columns, row, strict=True)) for row in shown.rows]
    assert sample[0]["公民身份号码"].endswith("********")  # type: ignore[union-attr]
    with acting(database, seeded.actor(Role.OPERATOR)) as ctx:
        made = service.create_product(
            ctx, ProductIn.model_validate(product_data(agreement.id, [people], sample=sample))
        )
    assert made.sample == sample
    # The same rows unmasked are refused.
    clear = [dict(r, 公民身份号码=ID, 姓名="张三丰") for r in sample]
    with pytest.raises(Invalid) as caught, acting(database, seeded.actor(Role.OPERATOR)) as ctx:
        service.create_product(
            ctx, ProductIn.model_validate(product_data(agreement.id, [people], sample=clear))
        )
    named = sorted(e.message.en.split("“")[1].split("”")[0] for e in caught.value.errors)
    assert named == ["公民身份号码", "姓名"]
