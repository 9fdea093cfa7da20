"""Conditional open data: applicant accounts, applications, the provider's decision, keys."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from shuzhi.context import Role
from shuzhi.db.engine import Database
from shuzhi.errors import Conflict, Forbidden, Invalid, Unauthenticated
from shuzhi.portal import service
from shuzhi.portal.schemas import ApplicantIn, ApplicationIn
from tests.conftest import acting
from tests.factories import seed_org
from tests.portal.helpers import applicant, open_entry, opened, provider
from tests.web.helpers import TOKEN, csrf


def _apply(database: Database, who, code: str, accept: bool = True):  # type: ignore[no-untyped-def]
    with acting(database) as ctx:
        return service.submit_open_application(
            ctx,
            who,
            ApplicationIn(
                resource_code=code, purpose="研究本区公共交通站点布局", accept_agreement=accept
            ),
        )


def test_applicants_are_not_staff_and_passwords_are_checked(database: Database) -> None:
    seed_org(database)
    who = applicant(database, "Li@Example.cn")
    with acting(database) as ctx:
        found, _epoch = service.login_applicant(ctx, "li@example.cn", "Open-data-2026")
        assert found.id == who.id
        with pytest.raises(Unauthenticated):
            service.login_applicant(ctx, "li@example.cn", "wrong-password-1")
    with acting(database) as ctx:
        again = service.register_applicant(
            ctx, ApplicantIn(email="li@example.cn", name="x", password="Another-pass-1")
        )
    assert again is None  # nothing created, and the owner's password still works
    with acting(database) as ctx:
        assert service.login_applicant(ctx, "li@example.cn", "Open-data-2026")[0].id == who.id
        with pytest.raises(Unauthenticated):
            service.login_applicant(ctx, "li@example.cn", "Another-pass-1")
    with acting(database) as ctx, pytest.raises(Invalid) as err:
        service.register_applicant(ctx, ApplicantIn(email="nobody", name="x", password="short"))
    assert {e.field for e in err.value.errors} == {"email", "password"}


def test_application_decision_key_and_revocation(database: Database, client: TestClient) -> None:
    seeded = seed_org(database)
    code = open_entry(database, "conditional", rows=6)
    other = open_entry(database, "conditional")
    opened(database, seeded, code)
    opened(database, seeded, other)
    who = applicant(database)
    with pytest.raises(Invalid):
        _apply(database, who, code, accept=False)
    submitted = _apply(database, who, code)
    assert submitted.status == "pending" and not submitted.overdue
    with pytest.raises(Conflict):
        _apply(database, who, code)
    with acting(database, seeded.actors[Role.UNIT_CDO]) as ctx, pytest.raises(Forbidden):
        service.decide_open_application(ctx, submitted.id, True, "")
    with acting(database, provider(seeded)) as ctx:
        with pytest.raises(Invalid):
            service.decide_open_application(ctx, submitted.id, False, "")
        assert service.decide_open_application(ctx, submitted.id, True, "同意").status == "approved"
    with acting(database) as ctx:
        issued = service.issue_applicant_key(ctx, who, submitted.id)
    assert issued.token.startswith("szo_")
    url = f"/open/datasets/{code.replace('/', '-')}/download.csv"
    ok = client.get(url, headers={"Authorization": f"Bearer {issued.token}"})
    assert ok.status_code == 200 and len(ok.content.decode("utf-8-sig").splitlines()) == 7
    wrong = client.get(
        f"/open/datasets/{other.replace('/', '-')}/download.csv",
        headers={"Authorization": issued.token},
    )
    assert wrong.status_code == 403
    with acting(database, provider(seeded)) as ctx:
        service.revoke_open_application(ctx, submitted.id, "超出申请用途使用")
    revoked = client.get(url, headers={"Authorization": f"Bearer {issued.token}"})
    assert revoked.status_code == 401


def test_unconditional_data_needs_no_application(database: Database) -> None:
    seeded = seed_org(database)
    code = open_entry(database)
    opened(database, seeded, code)
    with pytest.raises(Invalid):
        _apply(database, applicant(database), code)


def test_the_applicant_site_flow(database: Database, client: TestClient) -> None:
    seeded = seed_org(database)
    code = open_entry(database, "conditional", name="公交客流明细")
    opened(database, seeded, code)
    slug = code.replace("/", "-")
    # The CSRF token comes from the page, like a browser's (it is bound to the session).
    token = csrf(client, "/open/account/register")
    form = {"csrf_token": token, "email": "wang@example.cn", "name": "王企业", "kind": "company"}
    bad = client.post("/open/account/register", data={**form, "password": "short"})
    assert bad.status_code == 422
    client.post("/open/account/register", data={**form, "password": "Open-data-2026"})
    client.post(
        "/open/account/login",
        data={"csrf_token": token, "email": "wang@example.cn", "password": "Open-data-2026"},
    )
    page = client.get(f"/open/datasets/{slug}/apply")
    assert "数据利用协议" in page.text
    found = TOKEN.search(page.text)
    assert found is not None
    token = found.group(1)
    missing = client.post(
        f"/open/datasets/{slug}/apply",
        data={"csrf_token": token, "purpose": "用于交通规划研究分析"},
    )
    assert missing.status_code == 422
    client.post(
        f"/open/datasets/{slug}/apply",
        data={"csrf_token": token, "purpose": "用于交通规划研究分析", "accept_agreement": "yes"},
    )
    assert "待审批" in client.get("/open/account").text
