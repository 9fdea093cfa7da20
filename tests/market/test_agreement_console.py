"""Authorisation agreements in the console: the bureau drafts one through the form (resources
ticked from the catalogue entries that may be authorised, by unit; bad input re-shown with
what was typed, nothing stored), the CDO approves it, the executive puts it in force,
suspends and ends it; an operator sees its own agreements only; both languages."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from shuzhi.audit.models import AuditEntry
from shuzhi.catalog import service as catalog
from shuzhi.context import SYSTEM, Role
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.market import service
from shuzhi.market.models import Agreement
from tests.conftest import acting
from tests.factories import PASSWORD, seed_org
from tests.market.helpers import (
    SCENARIO,
    active_agreement,
    compliant_product,
    figures_entry,
    operator_party,
)
from tests.market.trade_helpers import load_output
from tests.web.helpers import csrf, login

NEW = "/market/agreements/new"


def _form(token: str, operator_id: int, *codes: str, **over: object) -> dict[str, object]:
    today = utcnow().date()
    return {
        "csrf_token": token,
        "title": "公共数据授权运营协议（企业经营）",
        "operator_id": str(operator_id),
        "resources": list(codes),
        "rights": ["processing", "operating"],
        "scenarios": f"{SCENARIO}\n普惠金融授信\n",
        "starts_on": str(today - timedelta(days=1)),
        "ends_on": str(today + timedelta(days=365)),
        "fee_cap": "500,000.00",
        "revenue_share_percent": "10",
        "security_obligations": "原始数据不出域，数据可用不可见。",
        "exit_terms": "协议终止后 30 日内删除全部加工结果。",
        "breach_terms": "违反安全义务的，实施机构可暂停或终止协议。",
        **over,
    }


def _agreements(database: Database) -> int:
    with acting(database, SYSTEM) as ctx:
        return int(ctx.db.scalar(select(func.count()).select_from(Agreement)) or 0)


def _logout(client: TestClient) -> None:
    client.post("/logout", data={"csrf_token": csrf(client, "/market")})


def test_agreement_is_drafted_approved_and_run_through_the_console(
    client: TestClient, database: Database
) -> None:
    seeded = seed_org(database)
    party = operator_party(database, seeded)
    code = figures_entry(database)
    login(client, "exec", PASSWORD)
    page = client.get(NEW)
    assert page.status_code == 200 and 'id="new-agreement"' in page.text
    assert party.name in page.text and "数据加工使用权" in page.text
    # The resource is offered as a check box under its unit, with its name and code.
    assert f'name="resources" value="{code}"' in page.text and 'data-unit="B"' in page.text
    assert '<textarea name="resources"' not in page.text
    token = csrf(client, NEW)

    # Every bad field at once: reasons in Chinese, the input kept, nothing stored.
    with acting(database, SYSTEM) as ctx:
        audited = int(ctx.db.scalar(select(func.count()).select_from(AuditEntry)) or 0)
    today = utcnow().date()
    bad = client.post(
        "/market/agreements",
        data=_form(
            token,
            party.id,
            code,
            "NO-SUCH-ENTRY",
            title="公共数据授权运营协议（企业经营）",
            ends_on=str(today - timedelta(days=30)),
            fee_cap="五十万",
            scenarios=f"{SCENARIO}\n{SCENARIO}\n",
        ),
    )
    assert bad.status_code == 422 and 'id="errors"' in bad.text
    assert "运营服务费上限" in bad.text  # the fee cap's label, not its field name
    assert "五十万" in bad.text and "公共数据授权运营协议（企业经营）" in bad.text
    assert _agreements(database) == 0
    drafted_wrong = client.post(
        "/market/agreements",
        data=_form(
            token,
            party.id,
            code,
            "NO-SUCH-ENTRY",
            ends_on=str(today - timedelta(days=30)),
            scenarios=f"{SCENARIO}\n{SCENARIO}\n",
        ),
    )
    assert drafted_wrong.status_code == 422
    for reason in ("NO-SUCH-ENTRY 不存在或未发布", "截止日须晚于起始日", "应用场景重复"):
        assert reason in drafted_wrong.text
    assert 'value="processing" checked' in drafted_wrong.text
    assert f'value="{code}" checked' in drafted_wrong.text  # the ticked resource stays ticked
    assert "普惠金融授信" not in drafted_wrong.text
    assert _agreements(database) == 0
    with acting(database, SYSTEM) as ctx:
        since = select(AuditEntry.action).order_by(AuditEntry.seq).offset(audited)
        refused = ctx.db.scalars(since).all()
    assert "market.refused" in refused and "market.agreement_changed" not in refused
    english = client.post(
        "/market/agreements?lang=en",
        data=_form(token, party.id, code, rights=[]),
    )
    assert english.status_code == 422 and "Rights" in english.text
    assert _agreements(database) == 0

    made = client.post(
        "/market/agreements", data=_form(token, party.id, code), follow_redirects=False
    )
    assert made.status_code == 303
    location = made.headers["location"]
    agreement_id = int(location.rsplit("/", 1)[1])
    with acting(database, SYSTEM) as ctx:
        stored = service.get_agreement(ctx, agreement_id)
    assert stored.status == "draft" and stored.resources == [code]
    assert stored.fee_cap_cents == 50_000_000 and stored.revenue_share_percent == 10
    assert stored.scenarios == [SCENARIO, "普惠金融授信"]
    assert stored.rights == ["operating", "processing"] and stored.created_by == "user:exec"
    detail = client.get(location)
    assert "草拟" in detail.text and "500,000.00" in detail.text
    assert "/approval" not in detail.text  # the executive drafted it; the CDO approves
    listed = client.get("/market/agreements")
    assert f'id="agreement-{agreement_id}"' in listed.text and "草拟" in listed.text
    assert "Draft" in client.get("/market/agreements?lang=en").text
    _logout(client)

    login(client, "cdo", PASSWORD)
    token = csrf(client, location)
    approved = client.post(
        f"{location}/approval", data={"csrf_token": token}, follow_redirects=False
    )
    assert approved.status_code == 303 and approved.headers["location"] == location
    assert "已批准" in client.get(location).text
    _logout(client)

    login(client, "exec", PASSWORD)
    token = csrf(client, location)
    client.post(f"{location}/activation", data={"csrf_token": token})
    assert "生效中" in client.get(location).text
    # A suspension without a reason is shown back on the agreement's page; nothing changes.
    bare = client.post(f"{location}/suspension", data={"csrf_token": token, "reason": "不行"})
    assert bare.status_code == 422 and "须写明具体理由" in bare.text
    with acting(database, SYSTEM) as ctx:
        assert service.get_agreement(ctx, agreement_id).status == "active"
    suspended = client.post(
        f"{location}/suspension",
        data={"csrf_token": token, "reason": "运营机构未按季度报送安全评估报告。", "back": "list"},
        follow_redirects=False,
    )
    assert suspended.headers["location"] == "/market/agreements"
    assert "已暂停" in client.get(location).text
    forged = client.post(f"{location}/termination", data={"reason": "违反安全义务，终止协议。"})
    assert forged.status_code == 403
    client.post(
        f"{location}/termination",
        data={"csrf_token": token, "reason": "违反安全义务，依协议第九条终止。"},
    )
    ended = client.get(f"{location}?lang=en")
    assert "Terminated" in ended.text and "违反安全义务" in ended.text
    _logout(client)

    # The operator sees its own agreement, read-only, and cannot draft.
    login(client, "operator", PASSWORD)
    mine = client.get("/market/agreements")
    assert mine.status_code == 200 and f'id="agreement-{agreement_id}"' in mine.text
    assert "new-agreement-link" not in mine.text
    assert "/termination" not in client.get(location).text
    assert client.get(NEW).status_code == 403


def test_operator_does_not_see_another_organisations_agreement(
    client: TestClient, database: Database
) -> None:
    seeded = seed_org(database)
    other = operator_party(database, seeded, unit="B")
    code = figures_entry(database)
    login(client, "exec", PASSWORD)
    made = client.post(
        "/market/agreements",
        data=_form(csrf(client, NEW), other.id, code),
        follow_redirects=False,
    )
    assert made.status_code == 303
    location = made.headers["location"]
    swept = client.post(
        "/market/agreements/expiry",
        data={"csrf_token": csrf(client, "/market/agreements")},
        follow_redirects=False,
    )
    assert swept.status_code == 303 and swept.headers["location"] == "/market/agreements"
    _logout(client)
    login(client, "operator", PASSWORD)
    assert "公共数据授权运营协议" not in client.get("/market/agreements").text
    assert client.get(location).status_code == 403


def test_the_form_offers_only_what_may_be_authorised_and_filters_without_losing_input(
    client: TestClient, database: Database
) -> None:
    """Published entries of every unit are offered by unit; a withdrawn entry and a data
    product's own output are not, and posting them anyway is refused with the reason. The
    filter (a button, no script needed) narrows the list and keeps what was typed and
    ticked; nothing is drafted by filtering."""
    seeded = seed_org(database)
    party = operator_party(database, seeded)
    kept = figures_entry(database, unit="B", loaded=False)
    other = figures_entry(database, unit="A", loaded=False)
    gone = figures_entry(database, unit="B", loaded=False)
    with acting(database, seeded.other_unit_actor(Role.UNIT_CDO)) as ctx:
        catalog.withdraw_entry(ctx, gone, "资源已合并到新目录")
    agreement = active_agreement(database, seeded, party.id, [kept])
    product = compliant_product(database, seeded, agreement.id, [kept])
    output = load_output(database, seeded, product.id, [["制造业", "86.5"]])
    with acting(database, SYSTEM) as ctx:
        kept_name = catalog.get_entry(ctx, kept).name
    before = _agreements(database)

    login(client, "exec", PASSWORD)
    page = client.get(NEW)
    assert f'value="{kept}"' in page.text and f'value="{other}"' in page.text
    assert f'value="{gone}"' not in page.text and f'value="{output}"' not in page.text
    assert page.text.index('data-unit="A"') < page.text.index('data-unit="B"')  # unit order
    token = csrf(client, NEW)

    # Filter by the kept entry's name: the other unit's entry is not listed; the ticked one
    # (other) stays, and so does everything typed; nothing is drafted.
    found = client.post(
        "/market/agreements",
        data=_form(token, party.id, other, find="1", resource_q=kept_name, title="协议甲"),
    )
    assert found.status_code == 200 and 'id="errors"' not in found.text
    assert f'value="{kept}"' in found.text and f'value="{other}" checked' in found.text
    assert 'value="协议甲"' in found.text and f'value="{kept_name}"' in found.text
    nothing = client.post(
        "/market/agreements", data=_form(token, party.id, find="1", resource_q="不存在的资源")
    )
    assert 'id="no-resource"' in nothing.text and f'value="{kept}"' not in nothing.text
    assert client.get(f"{NEW}?resource_q={other}").text.count('name="resources"') == 1
    assert _agreements(database) == before

    # Posted anyway (a stale or forged form): each refused with its own reason.
    refused = client.post("/market/agreements", data=_form(token, party.id, kept, gone, output))
    assert refused.status_code == 422
    assert f"目录 {gone} 已撤销" in refused.text and "产品结果" in refused.text
    assert f'value="{kept}" checked' in refused.text
    english = client.post(
        "/market/agreements?lang=en", data=_form(token, party.id, kept, gone, output)
    )
    assert f"Catalogue entry {gone} was withdrawn" in english.text
    assert f"Catalogue entry {output} is the output of the data product" in english.text
    assert _agreements(database) == before
    made = client.post(
        "/market/agreements", data=_form(token, party.id, kept, other), follow_redirects=False
    )
    assert made.status_code == 303
    with acting(database, SYSTEM) as ctx:
        drafted = service.get_agreement(ctx, int(made.headers["location"].rsplit("/", 1)[1]))
    assert drafted.resources == [kept, other]
