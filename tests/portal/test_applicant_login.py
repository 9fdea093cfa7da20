"""Applicant log-ins: the same argon2 work for unknown e-mails, throttling shared with staff
logins (in its own namespace), the password policy, and changing the password."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select, update

from shuzhi.audit import service as audit
from shuzhi.auth import service as auth
from shuzhi.auth import throttle
from shuzhi.auth.models import LoginFailure
from shuzhi.context import Actor, Role, unit_of_work
from shuzhi.db.engine import Database
from shuzhi.errors import Invalid, ShuzhiError, TooManyRequests, Unauthenticated
from shuzhi.portal import service
from shuzhi.portal.schemas import ApplicantIn, ApplicantOut, ApplicantPasswordChange
from tests.conftest import Verifications
from tests.factories import PASSWORD, seed_org
from tests.portal.helpers import applicant
from tests.web.helpers import csrf as csrf_token

ATTACKER = "203.0.113.9"
OWNER = "198.51.100.7"
ANON = Actor(kind="anonymous")
RIGHT = "Open-data-2026"  # tests.portal.helpers.applicant's password
WRONG = "Wrong-guess-123"


def attempt(
    database: Database, email: str, password: str, client: str | None = ATTACKER
) -> tuple[ApplicantOut, int] | ShuzhiError:
    """One applicant log-in as the route makes it (its own unit of work)."""
    try:
        with unit_of_work(database, ANON, client=client) as ctx:
            return service.login_applicant(ctx, email, password)
    except ShuzhiError as err:
        return err


def failures(database: Database) -> int:
    """Failed applicant log-ins counted (registrations are counted in their own namespace)."""
    own = LoginFailure.username.startswith(f"{throttle.APPLICANT}:") | (
        LoginFailure.username.startswith(f"{throttle.APPLICANT}#")
    )
    with database.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(LoginFailure).where(own)) or 0


def age_failures(database: Database, seconds: int) -> None:
    with database.engine.begin() as conn:
        for row_id, at in conn.execute(select(LoginFailure.id, LoginFailure.at)).all():
            conn.execute(
                update(LoginFailure)
                .where(LoginFailure.id == row_id)
                .values(at=at - timedelta(seconds=seconds))
            )


def test_unknown_and_known_emails_cost_one_argon2_verification_each(
    database: Database, verifications: type[Verifications]
) -> None:
    applicant(database, "known@example.cn")
    counts = []
    for email, password, client in [
        ("known@example.cn", WRONG, "192.0.2.1"),
        ("nobody@example.cn", WRONG, "192.0.2.2"),
        ("known@example.cn", RIGHT, "192.0.2.3"),
    ]:
        verifications.calls = 0
        attempt(database, email, password, client)
        counts.append(verifications.calls)
    assert counts == [1, 1, 1]


def test_a_throttled_attempt_is_refused_unchecked_and_uncounted(
    database: Database, verifications: type[Verifications]
) -> None:
    applicant(database, "li@example.cn")
    window = database.settings.login_lockout_seconds
    for _ in range(5):
        assert isinstance(attempt(database, "li@example.cn", WRONG), Unauthenticated)
    assert failures(database) == 5
    verifications.calls = 0
    for password in (WRONG, WRONG, RIGHT):  # the correct password is refused too
        refused = attempt(database, "LI@example.cn ", password)
        assert isinstance(refused, TooManyRequests)
        assert 0 < refused.retry_after <= window + 1
        assert "登录失败次数过多" in refused.message.zh
        assert "Too many failed logins" in refused.message.en
    assert verifications.calls == 0 and failures(database) == 5
    age_failures(database, window + 1)
    found = attempt(database, "li@example.cn", RIGHT)
    assert not isinstance(found, ShuzhiError) and found[0].email == "li@example.cn"
    assert failures(database) == 0  # a success forgets this address's failures


def test_one_address_spraying_many_emails_is_throttled(database: Database) -> None:
    mine = applicant(database, "mine@example.cn")
    limit = database.settings.login_address_max_failures
    for n in range(limit):
        assert isinstance(attempt(database, f"user{n}@example.cn", WRONG), Unauthenticated)
    assert isinstance(attempt(database, "fresh@example.cn", WRONG), TooManyRequests)
    assert isinstance(attempt(database, mine.email, RIGHT), TooManyRequests)
    assert failures(database) == limit
    found = attempt(database, mine.email, RIGHT, client=OWNER)  # other addresses are not
    assert not isinstance(found, ShuzhiError)


def test_hammering_a_victims_email_does_not_lock_the_victim_out(database: Database) -> None:
    victim = applicant(database, "victim@example.cn")
    for _ in range(30):
        attempt(database, victim.email, WRONG)
    assert isinstance(attempt(database, victim.email, RIGHT), TooManyRequests)
    found = attempt(database, victim.email, RIGHT, client=OWNER)
    assert not isinstance(found, ShuzhiError) and found[0].id == victim.id


def test_staff_and_applicant_failures_never_share_counters(database: Database) -> None:
    seed_org(database)
    applicant(database, "cdo@example.cn")

    def staff(username: str, password: str) -> object:
        try:
            with unit_of_work(database, ANON, client=ATTACKER) as ctx:
                return auth.authenticate(ctx, username, password)
        except ShuzhiError as err:
            return err

    # an address that failed ten applicant log-ins may still log in to the console …
    for n in range(database.settings.login_address_max_failures):
        attempt(database, f"user{n}@example.cn", WRONG)
    assert isinstance(attempt(database, "cdo@example.cn", RIGHT), TooManyRequests)
    assert isinstance(staff("cdo", PASSWORD), Actor)
    # … and a staff "username" spelled like an applicant key counts on its own
    with database.engine.begin() as conn:
        conn.execute(delete(LoginFailure))
    for _ in range(5):
        staff("applicant:cdo@example.cn", WRONG)
    found = attempt(database, "cdo@example.cn", RIGHT)
    assert not isinstance(found, ShuzhiError)
    assert throttle.account_key("cdo@example.cn", throttle.APPLICANT) != throttle.account_key(
        "applicant:cdo@example.cn"
    )


def test_overlong_emails_are_counted_without_a_database_error(database: Database) -> None:
    email = "x" * 300 + "@example.cn"
    assert isinstance(attempt(database, email, WRONG), Unauthenticated)
    assert failures(database) == 1


def test_failures_and_refusals_are_audited(database: Database) -> None:
    seeded = seed_org(database)
    applicant(database, "li@example.cn")
    for _ in range(6):
        attempt(database, "li@example.cn", WRONG)
    with unit_of_work(database, seeded.actor(Role.AUDITOR)) as ctx:
        page = audit.view_audit(ctx, action="portal.applicant_login_failed")
    assert sorted(e.details["reason"] for e in page.items) == ["bad credentials"] * 5 + [
        "throttled"
    ]
    assert {e.details["client"] for e in page.items} == {ATTACKER}
    assert {e.details["email"] for e in page.items} == {"li@example.cn"}


def test_registration_uses_the_staff_password_policy(database: Database) -> None:
    cases = {
        "short": "至少 12 个字符",
        "password1234": "常见密码",
        "Zhangwei-researcher-77": "用户名、姓名",  # contains the e-mail's name part
    }
    for password, zh in cases.items():
        with unit_of_work(database, ANON) as ctx, pytest.raises(Invalid) as err:
            service.register_applicant(
                ctx,
                ApplicantIn(email="zhangwei@example.cn", name="张伟", password=password),
            )
        [problem] = err.value.errors
        assert problem.field == "password"
        assert zh in problem.message.zh and problem.message.en


def _change(
    database: Database, who: ApplicantOut, current: str, new: str, client: str = OWNER
) -> int | ShuzhiError:
    try:
        with unit_of_work(database, ANON, client=client) as ctx:
            return service.change_applicant_password(
                ctx, who, ApplicantPasswordChange(current_password=current, new_password=new)
            )
    except ShuzhiError as err:
        return err


def test_changing_the_password_needs_the_current_one_and_the_policy(
    database: Database,
) -> None:
    seeded = seed_org(database)
    who = applicant(database, "li@example.cn")
    new = "Harbour-lantern-fog-91"
    wrong = _change(database, who, WRONG, new)
    assert isinstance(wrong, Unauthenticated) and "当前密码" in wrong.message.zh
    assert failures(database) == 1  # counted like a failed log-in
    weak = _change(database, who, RIGHT, "password1234")
    assert isinstance(weak, Invalid)
    assert [e.field for e in weak.errors] == ["new_password"]
    assert weak.errors[0].message.zh and weak.errors[0].message.en
    same = _change(database, who, RIGHT, RIGHT)
    assert isinstance(same, Invalid) and "不能与当前密码相同" in same.errors[0].message.zh
    old = attempt(database, who.email, RIGHT, client="192.0.2.50")
    assert not isinstance(old, ShuzhiError)
    epoch = _change(database, who, RIGHT, new)
    assert isinstance(epoch, int) and epoch > old[1]
    with unit_of_work(database, ANON) as ctx:  # sessions signed with the old epoch end
        assert service.applicant_for_session(ctx, who.id, old[1]) is None
        assert service.applicant_for_session(ctx, who.id, epoch) is not None
    assert isinstance(attempt(database, who.email, RIGHT, client="192.0.2.51"), Unauthenticated)
    assert not isinstance(attempt(database, who.email, new, client="192.0.2.52"), ShuzhiError)
    with unit_of_work(database, seeded.actor(Role.AUDITOR)) as ctx:
        changed = audit.view_audit(ctx, action="portal.applicant_password_changed")
        failed = audit.view_audit(ctx, action="portal.applicant_login_failed")
    assert [e.details["applicant"] for e in changed.items] == [who.id]
    assert "bad current password" in {e.details["reason"] for e in failed.items}


def test_changing_the_password_is_throttled(database: Database) -> None:
    who = applicant(database, "li@example.cn")
    for _ in range(5):
        _change(database, who, WRONG, "Harbour-lantern-fog-91", client=ATTACKER)
    refused = _change(database, who, RIGHT, "Harbour-lantern-fog-91", client=ATTACKER)
    assert isinstance(refused, TooManyRequests)


def _csrf(client: TestClient, path: str = "/open/account/login") -> str:
    """The form token of ``path`` (tokens are bound to the session: fetch anew after log-in)."""
    return csrf_token(client, path)


def test_the_login_page_says_429_with_retry_after(database: Database, client: TestClient) -> None:
    applicant(database, "li@example.cn")
    csrf = _csrf(client)
    form = {"csrf_token": csrf, "email": "li@example.cn", "password": WRONG}
    for _ in range(5):
        assert client.post("/open/account/login", data=form).status_code == 401
    throttled = client.post("/open/account/login", data={**form, "password": RIGHT})
    assert throttled.status_code == 429
    assert int(throttled.headers["Retry-After"]) > 0
    assert "登录失败次数过多" in throttled.text
    english = client.post("/open/account/login?lang=en", data=form)
    assert english.status_code == 429 and "Too many failed logins" in english.text


def test_the_account_page_changes_the_password(database: Database, client: TestClient) -> None:
    applicant(database, "li@example.cn")
    csrf = _csrf(client)
    client.post(
        "/open/account/login",
        data={"csrf_token": csrf, "email": "li@example.cn", "password": RIGHT},
    )
    page = client.get("/open/account/password")
    assert page.status_code == 200 and 'name="current_password"' in page.text
    csrf = _csrf(client, "/open/account/password")
    weak = client.post(
        "/open/account/password",
        data={"csrf_token": csrf, "current_password": RIGHT, "new_password": "short"},
    )
    assert weak.status_code == 422 and "12" in weak.text
    overlong = client.post(
        "/open/account/password",
        data={"csrf_token": csrf, "current_password": RIGHT, "new_password": "x" * 201},
    )
    assert overlong.status_code == 422 and 'data-field="new_password"' in overlong.text
    new = "Harbour-lantern-fog-91"
    done = client.post(
        "/open/account/password",
        data={"csrf_token": csrf, "current_password": RIGHT, "new_password": new},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert client.get("/open/account", follow_redirects=False).status_code == 200  # still in
    other = TestClient(client.app)
    assert other.get("/open/account/password", follow_redirects=False).status_code == 303
