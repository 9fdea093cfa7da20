"""The console pages and the JSON API, driven like a browser and a client do."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from tests.assess.helpers import ATTEST, DOC, PDF, open_round
from tests.factories import PASSWORD, seed_org
from tests.web.helpers import TOKEN, login


def _token(client: TestClient, path: str) -> str:
    match = TOKEN.search(client.get(path).text)
    assert match
    return match.group(1)


def test_the_bureau_opens_a_round_from_the_console(client: TestClient, database: Database) -> None:
    seed_org(database)
    login(client, "exec", PASSWORD)
    token = _token(client, "/assess")
    client.post("/assess/models/seed", data={"csrf_token": token})
    page = client.get("/assess")
    assert "数据管理能力成熟度评估模型（GB/T 36073-2025）" in page.text
    today = utcnow().date()
    bad = client.post(
        "/assess/rounds",
        data={
            "csrf_token": token,
            "title": "",
            "model_code": "dcmm-2025",
            "period_start": "x",
            "period_end": str(today),
            "deadline": str(today),
        },
    )
    assert bad.status_code == 422
    assert "请选择参评单位" in bad.text and "请填写日期" in bad.text
    done = client.post(
        "/assess/rounds",
        data={
            "csrf_token": token,
            "title": "年度自评估",
            "model_code": "dcmm-2025",
            "period_start": str(today),
            "period_end": str(today),
            "deadline": str(today + timedelta(days=20)),
            "unit": ["A", "B"],
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    round_page = client.get(done.headers["location"])
    assert "区甲局" in round_page.text and "区乙局" in round_page.text
    assert "不是认证结论" in round_page.text


def test_a_unit_answers_attaches_and_the_other_unit_reviews(
    client: TestClient, database: Database
) -> None:
    seed_org(database)
    round_id = open_round(database, units=("A", "B"))
    sheet = f"/assess/rounds/{round_id}/units/A"
    login(client, "a.liaison", PASSWORD)
    token = _token(client, sheet)
    r = client.post(
        f"{sheet}/answers/{ATTEST}",
        data={"csrf_token": token, "met": "yes", "statement": "小组已成立"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    client.post(f"{sheet}/answers/{DOC}", data={"csrf_token": token, "met": "yes"})
    bad = client.post(
        f"{sheet}/answers/{DOC}/documents",
        data={"csrf_token": token},
        files={"file": ("x.exe", b"MZ\x90\x00", "application/octet-stream")},
    )
    assert bad.status_code == 422 and "不接受可执行文件" in bad.text
    ok = client.post(
        f"{sheet}/answers/{DOC}/documents",
        data={"csrf_token": token},
        files={"file": ("制度.pdf", PDF, "application/pdf")},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    page = client.get(sheet)
    assert "制度.pdf" in page.text and "小组已成立" in page.text
    client.post(f"{sheet}/submit", data={"csrf_token": token})
    # The API gives the same sheet, and the other unit (B) cannot read it as a liaison.
    api = client.get(f"/api/v1/assess/rounds/{round_id}/units/A/answers").json()
    assert {a["indicator"]: a["state"] for a in api} == {ATTEST: "submitted", DOC: "submitted"}
    doc_id = next(a for a in api if a["indicator"] == DOC)["documents"][0]["id"]
    download = client.get(f"/assess/documents/{doc_id}")
    assert download.content == PDF and download.headers["content-disposition"].startswith(
        "attachment"
    )
    client.post("/logout", data={"csrf_token": _token(client, sheet)})
    # A's CDO cannot review A; there is no review form for them.
    login(client, "a.cdo", PASSWORD)
    assert "review-form" not in client.get(sheet).text
    refused = client.post(
        f"{sheet}/answers/{ATTEST}/review",
        data={"csrf_token": _token(client, sheet), "decision": "accept"},
    )
    assert refused.status_code == 403


def test_api_models_and_results(client: TestClient, database: Database) -> None:
    seed_org(database)
    round_id = open_round(database, units=("A", "B"))
    login(client, "cdo", PASSWORD)
    models = {m["code"]: m for m in client.get("/api/v1/assess/models").json()}
    assert (models["dcmm-2018"]["domain_count"], models["dcmm-2018"]["item_count"]) == (8, 28)
    assert (models["dcmm-2025"]["domain_count"], models["dcmm-2025"]["item_count"]) == (9, 33)
    results = client.get(f"/api/v1/assess/rounds/{round_id}/results").json()
    assert results["kind"] == "self_assessment"
    assert [u["unit_code"] for u in results["units"]] == ["A", "B"]
    assert len(results["units"][0]["domains"]) == 9
    assert client.get("/assess").status_code == 200


def test_api_edits_weights_and_refuses_sums_that_do_not_add_up(
    client: TestClient, database: Database
) -> None:
    seed_org(database)
    open_round(database, units=("A",))
    login(client, "exec", PASSWORD)
    token = _token(client, "/assess")
    headers = {"X-CSRF-Token": token}
    bad = client.put(
        "/api/v1/assess/models/dcmm-2018/weights",
        json={"domains": {"strategy": 40}},
        headers=headers,
    )
    assert bad.status_code == 422
    problem = bad.json()
    assert "100" in str(problem)
    weights = {
        "strategy": 20, "governance": 20, "architecture": 10, "application": 10,
        "security": 10, "quality": 10, "standards": 10, "lifecycle": 10,
    }  # fmt: skip
    ok = client.put(
        "/api/v1/assess/models/dcmm-2018/weights", json={"domains": weights}, headers=headers
    )
    assert ok.status_code == 200 and ok.json()["revision"] == 2
    assert ok.json()["domains"][0]["weight"] == 20


def test_documents_are_served_only_to_who_may_see_them(
    client: TestClient, database: Database
) -> None:
    from shuzhi.assess import service
    from shuzhi.assess.schemas import AnswerIn
    from shuzhi.auth import service as auth
    from shuzhi.auth.schemas import UserCreate
    from shuzhi.context import SYSTEM, Role
    from tests.conftest import acting

    seeded = seed_org(database)
    round_id = open_round(database, units=("A", "B", "S"))
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        service.save_assessment_answer(ctx, round_id, "A", DOC, AnswerIn(met=True))
        doc = service.attach_assessment_document(ctx, round_id, "A", DOC, "办法.pdf", PDF)
    with acting(database, SYSTEM) as ctx:
        auth.create_user(
            ctx,
            UserCreate(username="s.liaison", display_name="街道联络员", password=PASSWORD,
                       role=Role.DATA_LIAISON, unit_code="S"),
        )  # fmt: skip
    login(client, "s.liaison", PASSWORD)
    assert client.get(f"/assess/documents/{doc.id}").status_code == 403
    assert client.get(f"/api/v1/assess/documents/{doc.id}").status_code == 403
    assert client.get(f"/api/v1/assess/rounds/{round_id}/units/A").status_code == 403
    results = client.get(f"/api/v1/assess/rounds/{round_id}/results").json()
    assert [u["unit_code"] for u in results["units"]] == ["S"]


def test_the_executive_edits_weights_in_the_console(client: TestClient, database: Database) -> None:
    seed_org(database)
    open_round(database, units=("A",))
    login(client, "exec", PASSWORD)
    token = _token(client, "/assess/models/dcmm-2025")
    form = {"csrf_token": token, "bands": "1, 2, 3, 4, 5", "partial_credit": "0"}
    codes = ["strategy", "governance", "architecture", "assets", "standards", "quality",
             "security", "lifecycle", "circulation"]  # fmt: skip
    bad = client.post(
        "/assess/models/dcmm-2025/weights", data={**form, **{f"w.{c}": "10" for c in codes}}
    )
    assert bad.status_code == 422 and "权重之和为 90" in bad.text
    good = {f"w.{c}": "10" for c in codes} | {"w.circulation": "20"}
    done = client.post(
        "/assess/models/dcmm-2025/weights", data={**form, **good}, follow_redirects=False
    )
    assert done.status_code == 303
    model = client.get("/api/v1/assess/models/dcmm-2025").json()
    assert model["revision"] == 2 and model["partial_credit"] == 0
    assert model["domains"][-1]["weight"] == 20


def test_pages_speak_english_too(client: TestClient, database: Database) -> None:
    from shuzhi.web.i18n import TEXTS
    from tests.web.test_console_language import KEY_LIKE, _Page

    seed_org(database)
    round_id = open_round(database, units=("A", "B"))
    login(client, "cdo", PASSWORD)
    for path in (
        "/assess",
        "/assess/models/dcmm-2025",
        f"/assess/rounds/{round_id}",
        f"/assess/rounds/{round_id}/units/A",
        f"/assess/rounds/{round_id}/units/A/plan",
    ):
        page = client.get(path, params={"lang": "en"})
        assert page.status_code == 200, path
        parsed = _Page()
        parsed.feed(page.text)
        text = " ".join(parsed.text)
        raw = [k for k in KEY_LIKE.findall(text) if k in TEXTS or k.startswith("assess.")]
        assert not raw, (path, raw)
        assert ">Assessment</a>" in page.text and "能力评估" not in page.text, path
