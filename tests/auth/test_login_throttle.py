"""Login throttling: counted per account and address, per address and per account, in the
database; throttled attempts are not counted, so nobody can keep an account locked."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select, update

from shuzhi.audit import service as audit
from shuzhi.auth import service as auth
from shuzhi.auth.models import LoginFailure
from shuzhi.context import Actor, Role, unit_of_work
from shuzhi.db.engine import Database
from shuzhi.errors import ShuzhiError, TooManyRequests, Unauthenticated
from tests.conftest import Verifications
from tests.factories import ACCOUNTS, PASSWORD, seed_org

ATTACKER = "203.0.113.9"
OWNER = "198.51.100.7"
ANON = Actor(kind="anonymous")


def attempt(
    database: Database,
    username: str,
    password: str,
    client: str | None = ATTACKER,
    device: str | None = None,
) -> Actor | auth.PendingLogin | ShuzhiError:
    """One login as a request makes it (its own unit of work); the outcome or the error."""
    try:
        with unit_of_work(database, ANON, client=client) as ctx:
            return auth.authenticate(ctx, username, password, device_token=device)
    except ShuzhiError as err:
        return err


def failures(database: Database) -> int:
    with database.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(LoginFailure)) or 0


def age_failures(database: Database, seconds: int) -> None:
    """Move every counted failure ``seconds`` into the past (time passing, without sleeping)."""
    with database.engine.begin() as conn:
        rows = conn.execute(select(LoginFailure.id, LoginFailure.at)).all()
        for row_id, at in rows:
            conn.execute(
                update(LoginFailure)
                .where(LoginFailure.id == row_id)
                .values(at=at - timedelta(seconds=seconds))
            )


def test_throttled_attempts_are_not_counted_and_the_lock_lifts(database: Database) -> None:
    """The attacker's hammering after the lock neither counts nor extends it."""
    seed_org(database)
    window = database.settings.login_lockout_seconds
    for _ in range(5):
        assert isinstance(attempt(database, "cdo", "Wrong-guess-123"), Unauthenticated)
    assert failures(database) == 5
    age_failures(database, window // 2)
    for _ in range(20):  # the attacker keeps trying, half a window later
        refused = attempt(database, "cdo", "Wrong-guess-123")
        assert isinstance(refused, TooManyRequests)
        assert 0 < refused.retry_after <= window // 2 + 2
    # the correct password is refused too while locked (from the attacker's address) …
    assert isinstance(attempt(database, "cdo", PASSWORD), TooManyRequests)
    assert failures(database) == 5  # … and none of those 21 attempts was counted
    age_failures(database, window // 2 + 1)
    # a window after the last counted failure the lock is gone, though the hammering went on
    assert isinstance(attempt(database, "cdo", PASSWORD), Actor)


def test_an_attacker_cannot_lock_the_owner_out_from_another_address(database: Database) -> None:
    seed_org(database)
    for _ in range(30):
        attempt(database, "cdo", "Wrong-guess-123", client=ATTACKER)
    assert isinstance(attempt(database, "cdo", PASSWORD, client=ATTACKER), TooManyRequests)
    owner = attempt(database, "cdo", PASSWORD, client=OWNER)
    assert isinstance(owner, Actor) and owner.name == "cdo"


def test_a_known_browser_is_exempt_from_the_account_wide_limit(database: Database) -> None:
    """Many addresses together can lock an account, but not for its owner's own browser."""
    seed_org(database)
    devices = {}
    for username in ("cdo", "exec"):
        with unit_of_work(database, ANON, client=OWNER) as ctx:
            actor = auth.authenticate(ctx, username, PASSWORD)
            assert isinstance(actor, Actor)
            devices[username] = auth.device_token(ctx, actor)
    limit = database.settings.login_account_max_failures
    for i in range(limit):
        attempt(database, "cdo", "Wrong-guess-123", client=f"192.0.2.{i % 250}")
    assert isinstance(attempt(database, "cdo", PASSWORD, client=OWNER), TooManyRequests)
    # the device cookie is bound to its account
    other = attempt(database, "cdo", PASSWORD, client=OWNER, device=devices["exec"])
    assert isinstance(other, TooManyRequests)
    own = attempt(database, "cdo", PASSWORD, client=OWNER, device=devices["cdo"])
    assert isinstance(own, Actor)


def test_one_address_spraying_many_accounts_is_throttled(database: Database) -> None:
    """Ten accounts, one guess each, from one address: the address is then throttled."""
    seed_org(database)
    usernames = [name for name, _unit in ACCOUNTS.values()]
    usernames += [f"nobody{i}" for i in range(10 - len(usernames))]
    for username in usernames:
        assert isinstance(attempt(database, username, "Summer-2026-guess"), Unauthenticated)
    for username in ("cdo", "exec", "someone.else"):
        refused = attempt(database, username, "Summer-2026-guess")
        assert isinstance(refused, TooManyRequests), username
    # other addresses are not affected
    assert isinstance(attempt(database, "exec", PASSWORD, client=OWNER), Actor)


def test_logging_in_to_ones_own_account_does_not_reset_a_spraying_address(
    database: Database,
) -> None:
    seed_org(database)
    for i in range(9):
        attempt(database, f"victim{i}", "Summer-2026-guess")
    assert isinstance(attempt(database, "cdo", PASSWORD), Actor)  # the attacker's own account
    attempt(database, "victim9", "Summer-2026-guess")
    assert isinstance(attempt(database, "victim10", "Summer-2026-guess"), TooManyRequests)


def test_a_success_forgets_this_addresses_failures_on_the_account(database: Database) -> None:
    seed_org(database)
    for _ in range(4):
        attempt(database, "cdo", "Wrong-guess-123", client=OWNER)
    attempt(database, "cdo", "Wrong-guess-123", client=ATTACKER)
    assert isinstance(attempt(database, "cdo", PASSWORD, client=OWNER), Actor)
    with database.engine.connect() as conn:
        left = conn.execute(select(LoginFailure.client)).scalars().all()
    assert left == [ATTACKER]


def test_throttled_attempts_are_audited(database: Database) -> None:
    seeded = seed_org(database)
    for _ in range(6):
        attempt(database, "cdo", "Wrong-guess-123")
    with unit_of_work(database, seeded.actor(Role.AUDITOR)) as ctx:
        page = audit.view_audit(ctx, action="auth.login_failed")
    reasons = sorted(e.details["reason"] for e in page.items)
    assert reasons == ["bad credentials"] * 5 + ["throttled"]
    assert {e.details["client"] for e in page.items} == {ATTACKER}


def test_overlong_usernames_are_counted_without_a_database_error(database: Database) -> None:
    seed_org(database)
    name = "x" * 500
    assert isinstance(attempt(database, name, "Wrong-guess-123"), Unauthenticated)
    with database.engine.connect() as conn:
        stored = conn.scalar(select(LoginFailure.username))
    assert stored == "x" * 64


def test_unknown_usernames_cost_the_same_argon2_work(
    database: Database, verifications: type[Verifications]
) -> None:
    seed_org(database)
    verifications.calls = 0
    attempt(database, "cdo", "Wrong-guess-123", client=OWNER)
    known = verifications.calls
    verifications.calls = 0
    attempt(database, "no-such-user", "Wrong-guess-123", client="192.0.2.1")
    unknown = verifications.calls
    assert known == unknown == 1
    # and the dummy hash has the same costs as a real one
    from shuzhi.auth.passwords import dummy_hash, hasher

    assert not hasher(database.settings).check_needs_rehash(dummy_hash(database.settings))


def test_a_throttled_attempt_never_checks_the_password(
    database: Database, verifications: type[Verifications]
) -> None:
    seed_org(database)
    for _ in range(5):
        attempt(database, "cdo", "Wrong-guess-123")
    verifications.calls = 0
    assert isinstance(attempt(database, "cdo", PASSWORD), TooManyRequests)
    assert verifications.calls == 0


@given(st.text(max_size=120), st.text(max_size=120))
def test_staff_and_applicant_keys_never_meet(staff: str, email: str) -> None:
    """Whatever is typed, a staff key is never an applicant key (separate namespaces)."""
    from shuzhi.auth.throttle import APPLICANT, USERNAME_CHARS, account_key

    staff_key, applicant_key = account_key(staff), account_key(email, APPLICANT)
    assert staff_key != applicant_key
    assert len(staff_key) <= USERNAME_CHARS and len(applicant_key) <= USERNAME_CHARS
    name = staff.strip().lower()
    if ":" not in name and "#" not in name:  # every real username: unchanged
        assert staff_key == name[:USERNAME_CHARS]
