"""Console pages of the base libraries: list, definition and run history, run button,
review queue and a pair side by side with its decision, entity page; masked per role."""

from __future__ import annotations

from sqlalchemy import select

from shuzhi.audit.models import AuditEntry
from shuzhi.context import SYSTEM
from shuzhi.db.engine import Database
from shuzhi.masterdata import service
from shuzhi.masterdata.models import ReviewStatus
from tests.conftest import acting
from tests.factories import PASSWORD, seed_org
from tests.masterdata.helpers import library, load, person, rid, two_departments
from tests.web.helpers import csrf, login


def _uncertain(i: int) -> list[str]:
    row = person(i)
    return [row[0], "", "13700000000", row[3], row[4]]


def _library(database: Database) -> tuple[str, str]:
    seed_org(database)
    a, b = two_departments(database)
    load(database, a, [person(i) for i in range(12)])
    load(database, b, [_uncertain(0), *(person(i) for i in range(1, 5))])
    library(database, a, b)
    return a, b


def test_library_run_review_and_entity_pages(client, database: Database) -> None:  # type: ignore[no-untyped-def]
    a, _b = _library(database)
    login(client, "exec", PASSWORD)
    home = client.get("/")
    assert 'href="/masterdata"' in home.text
    listing = client.get("/masterdata")
    assert listing.status_code == 200 and "人口基础库" in listing.text
    page = client.get("/masterdata/population")
    assert page.status_code == 200 and a in page.text and "尚未运行" in page.text
    token = csrf(client, "/masterdata/population")
    ran = client.post(
        "/masterdata/population/run",
        data={"csrf_token": token, "mode": "full"},
        follow_redirects=False,
    )
    assert ran.status_code == 303, ran.text
    page = client.get("/masterdata/population")
    assert 'id="md-runs"' in page.text and "全量" in page.text
    queue = client.get("/masterdata/population/review")
    assert queue.status_code == 200
    with acting(database, SYSTEM) as ctx:
        pair_id = service.list_masterdata_review(ctx, "population")[0].id
    assert f"/masterdata/population/review/{pair_id}" in queue.text
    pair = client.get(f"/masterdata/population/review/{pair_id}")
    # The executive sees the clear values; the explanation is shown per comparison.
    assert pair.status_code == 200 and person(0)[1] in pair.text and "birth_date=exact" in pair.text
    token = csrf(client, f"/masterdata/population/review/{pair_id}")
    bad = client.post(
        f"/masterdata/population/review/{pair_id}",
        data={"csrf_token": token, "decision": "perhaps"},
    )
    assert bad.status_code == 422
    done = client.post(
        f"/masterdata/population/review/{pair_id}",
        data={"csrf_token": token, "decision": "match", "note": "同一人"},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    with acting(database, SYSTEM) as ctx:
        decided = service.list_masterdata_review(ctx, "population", ReviewStatus.DECIDED)
        entity_id = service.lookup_masterdata_entity(
            ctx, "population", resident_id=rid(2)
        ).entity_id
    assert [p.note for p in decided] == ["同一人"] and decided[0].decided_by
    found = client.get(f"/masterdata/population/lookup?key={rid(2)}", follow_redirects=False)
    assert found.status_code == 303 and found.headers["location"].endswith(entity_id)
    entity = client.get(f"/masterdata/population/entities/{entity_id}")
    assert entity.status_code == 200 and rid(2) in entity.text and "一致" in entity.text
    assert "<td>女</td>" in entity.text  # person 2: the ID says female
    english = client.get(f"/masterdata/population/entities/{entity_id}?lang=en")
    assert "Golden record" in english.text
    cockpit = client.get("/cockpit")
    assert cockpit.status_code == 200 and 'id="masterdata-figures"' in cockpit.text


def test_the_pair_page_is_masked_for_the_cdo_and_refused_posts_need_csrf(  # type: ignore[no-untyped-def]
    client, database: Database
) -> None:
    _library(database)
    with acting(database, SYSTEM) as ctx:
        service.run_masterdata_library(ctx, "population")
        pair_id = service.list_masterdata_review(ctx, "population")[0].id
    login(client, "cdo", PASSWORD)
    pair = client.get(f"/masterdata/population/review/{pair_id}")
    assert pair.status_code == 200
    assert person(0)[1] not in pair.text and person(0)[2] not in pair.text
    assert 'id="md-decide"' not in pair.text  # the CDO reads, the executive decides
    no_token = client.post(f"/masterdata/population/review/{pair_id}", data={"decision": "match"})
    assert no_token.status_code in (400, 403)
    with acting(database, SYSTEM) as ctx:
        viewed = ctx.db.execute(
            select(AuditEntry.actor).where(AuditEntry.action == "masterdata.review_pair_viewed")
        ).all()
        still_open = service.list_masterdata_review(ctx, "population")
    assert len(viewed) == 1 and len(still_open) == 1
