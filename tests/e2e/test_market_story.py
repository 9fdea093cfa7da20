"""In a real browser, the data market from authorisation to disclosure: the executive admits
the operator and drafts the agreement in its form, the CDO approves it, the executive puts it in
force; the operator builds a product from figures its unit counted in the sandbox (a release
"to a data product" the provider approved), the executive reviews its compliance, the
operator files its registration (public notice) and, after the notice, the executive
confirms it; the product is listed on the public portal; a buyer applies, the operator signs
for ¥200,000 and files the transaction; the buyer takes its key and calls the gateway with
it, receiving the product's own output (the released figures per industry), not the register
of enterprises the figures came from; the year's disclosure lists the product under the
operator."""

from __future__ import annotations

from datetime import timedelta

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from playwright.sync_api import Page, expect

from shuzhi.auth import service as auth
from shuzhi.auth.schemas import UserCreate
from shuzhi.context import SYSTEM, Role
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.lake import service as lake
from shuzhi.lake.readers import FileSource
from shuzhi.market import service
from shuzhi.sandbox import releases
from shuzhi.sandbox.schemas import QueryIn, ReleaseDecisionIn, ReleaseIn
from tests.catalog.helpers import item as entry_item
from tests.conftest import acting, actor
from tests.e2e.conftest import LiveServer, login, logout
from tests.factories import PASSWORD, Org, seed_org, uscc
from tests.lake.helpers import published_entry
from tests.market.helpers import SCENARIO
from tests.market.trade_helpers import buyer, pass_notice
from tests.sandbox.helpers import grant
from tests.scratch import scratch_dir
from tests.sharing.helpers import application

pytestmark = pytest.mark.browser

FETCH = """async ([url, token]) => {
  const r = await fetch(url, {headers: {Authorization: 'Bearer ' + token}});
  return [r.status, await r.json()];
}"""

# Enterprises per industry (each at least k = 10, so no figure is suppressed).
INDUSTRIES = {"制造业": 15, "批发零售": 12, "住宿餐饮": 11}
ENTERPRISES = [
    entry_item("统一社会信用代码"),
    entry_item("行业"),
    entry_item("营业收入", data_type="N", length=12),
]
TERMS = {
    "columns": {"统一社会信用代码": "join_key", "行业": "dimension", "营业收入": "aggregate"},
    "entity_column": "统一社会信用代码",
    "k": 10,
}


def enterprises_entry(database: Database) -> str:
    """Department B's published register of enterprises (no personal information), loaded."""
    code = published_entry(database, "B", items=ENTERPRISES, share_type="unconditional")
    rows = [(i, name) for name, n in INDUSTRIES.items() for i in range(n)]
    table = pa.table(
        {
            "统一社会信用代码": [uscc(500 + n) for n in range(len(rows))],
            "行业": [name for _, name in rows],
            "营业收入": [1_000_000 + 10_000 * i for i, _ in rows],
        }
    )
    path = scratch_dir("shuzhi-market-story-") / "enterprises.parquet"
    pq.write_table(table, path)
    with acting(database, SYSTEM) as ctx:
        lake.ingest(ctx, code, FileSource(path))
    return code


def sandbox_release(database: Database, seeded: Org, code: str) -> int:
    """Department A (the operator's unit) counts enterprises per industry in the sandbox and
    asks to release the figures to a data product; department B's CDO approves."""
    analyst = seeded.actor(Role.DATA_LIAISON)
    grant(database, analyst, code, application(database, "A"), TERMS)
    sql = f'SELECT 行业, COUNT(*) AS 企业数 FROM "{code}" GROUP BY 行业 ORDER BY 行业'
    with acting(database, analyst) as ctx:
        answer = releases.answer_query(ctx, QueryIn(sql=sql))
        asked = releases.request_release(
            ctx, ReleaseIn(query_id=answer.id, purpose="企业经营健康指数", target="data_product")
        )
    with acting(database, actor(Role.UNIT_CDO, seeded.unit_ids["B"], name="b.cdo")) as ctx:
        approved = releases.decide_release(ctx, asked.id, ReleaseDecisionIn(approve=True))
    assert approved.status == "approved"
    return asked.id


def test_operator_builds_from_the_sandbox_sells_and_discloses(
    live_server: LiveServer, page: Page
) -> None:
    database = live_server.database
    seeded = seed_org(database)
    base = live_server.url
    code = enterprises_entry(database)
    other = published_entry(database, "A", items=ENTERPRISES)  # offered, not chosen
    release = sandbox_release(database, seeded, code)
    buyer_id, _ = buyer(database, seeded)
    with acting(database, SYSTEM) as ctx:
        buyer_unit = service.get_market_party(ctx, buyer_id).unit_code
        auth.create_user(
            ctx,
            UserCreate(
                username="s.buyer",
                display_name="s.buyer",
                password=PASSWORD,
                role=Role.OPERATOR,
                unit_code=buyer_unit,
            ),
        )

    # The executive records the operator's application and approves it.
    login(page, base, "exec", PASSWORD)
    page.goto(f"{base}/market")
    page.click("text=登记申请")
    form = "#apply-party"
    page.select_option(f"{form} select[name=kind]", "operator")
    page.fill(f"{form} input[name=name]", "城市数据集团有限公司")
    page.fill(f"{form} input[name=uscc]", uscc(77))
    page.fill(f"{form} input[name=unit_code]", "A")
    page.click(f"{form} button[type=submit]")
    row = page.locator("#parties tr", has_text="城市数据集团有限公司")
    row.locator("button", has_text="批准").click()
    expect(page.locator("#parties tr", has_text="城市数据集团有限公司")).to_contain_text("已批准")

    # The executive drafts the authorisation agreement through the form: a term that ends
    # before it starts is shown back with the input kept, then corrected.
    page.click("text=起草授权运营协议")
    form = "#new-agreement"
    today = utcnow().date()
    page.fill(f"{form} input[name=title]", "公共数据授权运营协议（企业经营）")
    page.select_option(
        f"{form} select[name=operator_id]", label=f"城市数据集团有限公司 · {uscc(77)}"
    )
    # The resource is ticked from the published entries, found by the filter (a script
    # narrows the list as it is typed; the filter button would ask the server).
    expect(page.locator(f"{form} label.resource", has_text=other)).to_be_visible()
    page.fill(f"{form} input[name=resource_q]", code)
    expect(page.locator(f"{form} label.resource", has_text=code)).to_be_visible()
    expect(page.locator(f"{form} label.resource", has_text=other)).to_be_hidden()
    page.check(f"{form} input[name=resources][value='{code}']")
    page.fill(f"{form} textarea[name=scenarios]", f"{SCENARIO}\n普惠金融授信")
    page.fill(f"{form} input[name=starts_on]", (today - timedelta(days=1)).isoformat())
    page.fill(f"{form} input[name=ends_on]", (today - timedelta(days=2)).isoformat())
    page.fill(f"{form} input[name=fee_cap]", "500000")
    page.fill(f"{form} input[name=revenue_share_percent]", "10")
    page.fill(f"{form} textarea[name=security_obligations]", "原始数据不出域，数据可用不可见。")
    page.fill(f"{form} textarea[name=exit_terms]", "协议终止后 30 日内删除全部加工结果。")
    page.fill(f"{form} textarea[name=breach_terms]", "违反安全义务的，实施机构可暂停或终止协议。")
    page.click("#draft-agreement")
    expect(page.locator("#errors")).to_contain_text("截止日须晚于起始日")
    expect(page.locator(f"{form} input[name=resources][value='{code}']")).to_be_checked()
    expect(page.locator(f"{form} input[name=rights][value=processing]")).to_be_checked()
    page.fill(f"{form} input[name=ends_on]", (today + timedelta(days=365)).isoformat())
    page.click("#draft-agreement")
    expect(page.locator("#agreement-status")).to_have_text("草拟")
    logout(page)

    # The CDO approves the agreement on its page; the executive puts it in force.
    login(page, base, "cdo", PASSWORD)
    page.goto(f"{base}/market/agreements")
    page.click("#agreement-list a:has-text('公共数据授权运营协议（企业经营）')")
    page.click("#agreement-actions button:has-text('批准')")
    expect(page.locator("#agreement-status")).to_have_text("已批准")
    logout(page)
    login(page, base, "exec", PASSWORD)
    page.goto(f"{base}/market")
    page.locator("#agreements button", has_text="生效").click()
    expect(page.locator("#agreements")).to_contain_text("生效中")
    logout(page)

    # The operator builds the product from the sandbox release and submits it for review.
    login(page, base, "operator", PASSWORD)
    page.goto(f"{base}/market")
    page.click("#trade-link")
    page.click("text=新建数据产品")
    form = "#new-product"
    page.fill(f"{form} input[name=name]", "企业经营健康指数")
    page.select_option(f"{form} select[name=inputs]", code)
    page.fill(f"{form} input[name=sandbox_release_id]", str(release))
    page.fill(f"{form} textarea[name=processing]", "按行业汇总企业数，计算经营健康指数，不含明细。")
    page.select_option(f"{form} select[name=scenario]", SCENARIO)
    page.fill(f"{form} input[name=price]", "200000")
    page.fill(f"{form} input[name=fee_standard]", "按年订阅，每年 20 万元。")
    page.click(f"{form} button[type=submit]")
    expect(page.locator("#errors")).to_have_count(0)
    with acting(database, SYSTEM) as ctx:
        (product,) = service.list_products(ctx)
    assert product.sandbox_release_id == release
    assert product.sample == [{"行业": name, "企业数": n} for name, n in sorted(INDUSTRIES.items())]
    page.goto(f"{base}/market")
    page.locator("#products button", has_text="提交合规审查").click()
    expect(page.locator("#products")).to_contain_text("合规审查中")
    logout(page)

    # The executive reviews it item by item.
    login(page, base, "exec", PASSWORD)
    page.goto(f"{base}/market")
    for item in (
        "source_legality",
        "authorisation_chain",
        "personal_information",
        "security_assessment",
    ):
        page.check(f"#products input[name='{item}.passed']")
    page.click("#products button:has-text('提交审查结论')")
    expect(page.locator("#products")).to_contain_text("合规")
    logout(page)

    # The operator files the first registration: the public notice starts.
    login(page, base, "operator", PASSWORD)
    page.goto(f"{base}/market/trade")
    form = "form.register"
    for name, value in {
        "data_type": "统计指数",
        "industry": "综合",
        "region": "浙江省杭州市",
        "location": "区政务云",
        "method": "数据库",
        "signatory": "王五",
    }.items():
        page.fill(f"{form} input[name={name}]", value)
    page.fill(f"{form} textarea[name=introduction]", "按行业反映企业经营健康状况的月度指数。")
    page.fill(f"{form} textarea[name=source]", "授权运营的企业统计数据。")
    page.fill(f"{form} textarea[name=description]", "产品说明书与加工规则。")
    page.check(f"{form} input[name=commitment]")
    page.click(f"{form} button[type=submit]")
    expect(page.locator("form.register")).to_have_count(0)
    page.goto(f"{base}/market")
    number = page.locator("#registrations tbody a").first.inner_text()
    expect(page.locator("#registrations")).to_contain_text("公示中")
    logout(page)

    # Not listed while under notice; after the notice the executive confirms it.
    page.goto(f"{base}/open/market")
    expect(page.locator("#no-listing")).to_be_visible()
    pass_notice(database, number)
    login(page, base, "exec", PASSWORD)
    page.goto(f"{base}/market/registrations/{number}")
    page.click("text=公示期满，确认登记")
    expect(page.locator("#status")).to_have_text("已登记")
    logout(page)
    page.goto(f"{base}/open/market")
    listed = page.locator(f"#listed-{number}")
    expect(listed).to_contain_text("企业经营健康指数")
    expect(listed.locator(".price")).to_have_text("¥200,000.00")

    # A buyer applies; the operator signs for ¥200,000 and files the transaction.
    login(page, base, "s.buyer", PASSWORD)
    page.goto(f"{base}/market/trade")
    page.fill("#listing input[name=purpose]", "评估上下游企业经营稳定性，辅助授信。")
    page.click("#listing button:has-text('申请购买')")
    expect(page.locator("#contracts .status").first).to_have_text("待签约")
    logout(page)
    login(page, base, "operator", PASSWORD)
    page.goto(f"{base}/market/trade")
    ends = (utcnow().date() + timedelta(days=365)).isoformat()
    page.fill("#contracts form.sign input[name=price]", "200000")
    page.fill("#contracts form.sign input[name=ends_on]", ends)
    page.click("#contracts form.sign button")
    expect(page.locator("#contracts .status").first).to_have_text("履行中")
    page.click("#contracts button:has-text('交易备案')")
    expect(page.locator("#contracts .filing").first).to_contain_text("SZJY-")
    expect(page.locator("#revenue-total")).to_have_text("200000.00")
    logout(page)

    # The buyer takes its key (shown once) and reads the product through the gateway.
    login(page, base, "s.buyer", PASSWORD)
    page.goto(f"{base}/market/trade")
    page.click("#contracts button:has-text('领取接口密钥')")
    token = page.locator("#key-token").inner_text()
    endpoint = page.locator("#key-endpoint").inner_text()
    assert product.output_resource_code is not None
    assert endpoint == f"/api/v1/share/{product.output_resource_code}/records" != code
    status, body = page.evaluate(FETCH, [f"{base}{endpoint}", token])
    assert status == 200, body
    # The product's own output: the released figures, never the input register's rows.
    assert sorted((r["行业"], int(r["企业数"])) for r in body["items"]) == sorted(
        INDUSTRIES.items()
    )
    assert all(set(r) == {"行业", "企业数"} for r in body["items"])
    assert len(body["items"]) == len(INDUSTRIES) < sum(INDUSTRIES.values())
    page.goto(f"{base}/market/trade")
    expect(page.locator("#key-token")).to_have_count(0)  # never shown again

    # The year's disclosure (a draft until published) lists the product under the operator.
    logout(page)
    login(page, base, "exec", PASSWORD)
    page.goto(f"{base}/market/disclosure/{utcnow().year}")
    section = page.locator(".disclosure-operator", has_text="城市数据集团有限公司")
    product_row = section.locator("tbody tr", has_text="企业经营健康指数")
    expect(product_row).to_contain_text(number)
    expect(product_row).to_contain_text("200,000.00")
