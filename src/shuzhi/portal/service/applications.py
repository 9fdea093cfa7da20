"""Portal: applicants and conditional-open applications."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NoReturn

from sqlalchemy import select, update

from shuzhi.audit.service import record
from shuzhi.auth import throttle
from shuzhi.auth.passwords import (
    check_strength,
    hash_password,
    needs_rehash,
    verify_login,
    verify_password,
)
from shuzhi.auth.permissions import allowed, require, scope_unit
from shuzhi.auth.service import (
    audit_name,
    new_token,
    token_digest,
    token_matches,
    token_prefix,
)
from shuzhi.catalog.schemas import EntryOut, OpenType
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.errors import (
    Conflict,
    ErrorCollector,
    Forbidden,
    NotFound,
    TooManyRequests,
    Unauthenticated,
)
from shuzhi.portal.events import (
    ApplicantKeyIssued,
    ApplicantLoggedIn,
    ApplicantLoginFailed,
    ApplicantPasswordChanged,
    ApplicantRegistered,
    ApplicantRegistrationRepeated,
    OpenApplicationDecided,
    OpenApplicationRevoked,
    OpenApplicationSubmitted,
)
from shuzhi.portal.models import (
    Applicant,
    ApplicantKey,
    ApplicationStatus,
    OpenApplication,
    Publication,
)
from shuzhi.portal.schemas import (
    ApplicantIn,
    ApplicantOut,
    ApplicantPasswordChange,
    ApplicationIn,
    ApplicationOut,
    IssuedKey,
)
from shuzhi.portal.service.common import (
    AGREEMENT_VERSION,
    APPLICANT_KEY_KIND,
    APPLICANT_KINDS,
    DECISION_DAYS,
    KEY_DAYS,
    _open,
)
from shuzhi.validation import required_reason


def _applicant_out(a: Applicant) -> ApplicantOut:
    return ApplicantOut(
        id=a.id, email=a.email, name=a.name, organisation=a.organisation, kind=a.kind
    )


_EMAIL_CHARS = 200  # the column's width


def register_applicant(ctx: Ctx, data: ApplicantIn) -> ApplicantOut | None:
    """A member of the public opens an account to apply for conditionally open data.

    The answer never tells whether the address was registered before: a repeated address
    creates nothing, is audited and returns None, and the public page shows the same result
    either way (the owner logs in with the password they already have). The password is
    hashed before the address is looked up, so both answers cost the same argon2 work and
    take the same time. Registrations are
    counted per address like failed log-ins (namespace ``REGISTRATION``), so trying many
    e-mail addresses from one client is throttled and shows in the audit log.
    """
    errors = ErrorCollector()
    email = data.email.strip().lower()
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        errors.add("email", "请填写有效的电子邮箱。", "Enter a valid e-mail address.")
    if data.kind not in APPLICANT_KINDS:
        errors.add("kind", "申请人类型无效。", "Unknown applicant type.")
    check_strength(data.password, errors, username=email, display_name=data.name.strip())
    errors.raise_if_any()
    throttle.serialise(ctx, email, ctx.client, namespace=throttle.REGISTRATION)
    wait = throttle.wait_seconds(ctx, email, ctx.client, namespace=throttle.REGISTRATION)
    if wait is not None:
        raise TooManyRequests(
            f"注册尝试过于频繁，请 {wait} 秒后再试。",
            f"Too many registrations from here; try again in {wait} seconds.",
            retry_after=wait,
        )
    throttle.record_failure(ctx, email, ctx.client, namespace=throttle.REGISTRATION)
    # hashed on both paths, before the lookup: a repeated address must not answer faster
    password_hash = hash_password(ctx.settings, data.password)
    if ctx.db.scalar(select(Applicant.id).where(Applicant.email == email)) is not None:
        record(ctx, ApplicantRegistrationRepeated(email[:_EMAIL_CHARS], ctx.client))
        return None
    applicant = Applicant(
        email=email,
        name=data.name.strip(),
        organisation=data.organisation.strip(),
        kind=data.kind,
        password_hash=password_hash,
    )
    ctx.db.add(applicant)
    ctx.db.flush()
    record(ctx, ApplicantRegistered(applicant.id, data.kind))
    return _applicant_out(applicant)


_WRONG_LOGIN = ("邮箱或密码不正确。", "Wrong e-mail or password.")


def _gate(ctx: Ctx, email: str, *, shown: str) -> None:
    """Serialise and throttle an applicant's attempt (``auth.throttle``, applicant namespace).

    A throttled attempt is refused before the password is checked and is not counted; the
    refusal is audited after the rollback, naming the account as ``shown`` (``audit_name``).
    """
    throttle.serialise(ctx, email, ctx.client, namespace=throttle.APPLICANT)
    wait = throttle.wait_seconds(ctx, email, ctx.client, namespace=throttle.APPLICANT)
    if wait is None:
        return
    err = TooManyRequests(
        f"登录失败次数过多，请 {wait} 秒后再试。",
        f"Too many failed logins; try again in {wait} seconds.",
        retry_after=wait,
    )
    event = ApplicantLoginFailed(email=shown[:_EMAIL_CHARS], client=ctx.client, reason="throttled")
    err.after_rollback = lambda c: record(c, event, outcome="failed")
    raise err


def _refuse(
    ctx: Ctx, email: str, reason: str, message: tuple[str, str] = _WRONG_LOGIN, *, shown: str
) -> NoReturn:
    """Count (under ``email``) and audit (naming ``shown``) a failed check, committed at once
    (while the attempt's locks are held), then refuse."""
    throttle.record_failure(ctx, email, ctx.client, namespace=throttle.APPLICANT)
    event = ApplicantLoginFailed(email=shown[:_EMAIL_CHARS], client=ctx.client, reason=reason)
    record(ctx, event, outcome="failed")
    ctx.db.commit()
    raise Unauthenticated(*message)


def login_applicant(ctx: Ctx, email: str, password: str) -> tuple[ApplicantOut, int]:
    """The applicant and the session epoch to sign into the portal's own cookie.

    Throttled like staff log-ins (in the applicant namespace); an unknown e-mail costs the
    same argon2 work as a known one. The audit log names a failure's e-mail only when it is
    an applicant's (``auth.service.audit_name``).
    """
    typed = email.strip().lower()
    found = None
    if len(typed) <= _EMAIL_CHARS:
        found = ctx.db.scalar(select(Applicant).where(Applicant.email == typed))
    shown = audit_name(ctx, found.email if found is not None else None, typed)
    _gate(ctx, typed, shown=shown)
    stored = found.password_hash if found is not None else None
    if not verify_login(ctx.settings, stored, password) or found is None:
        _refuse(ctx, typed, "bad credentials", shown=shown)
    if needs_rehash(ctx.settings, found.password_hash):
        found.password_hash = hash_password(ctx.settings, password)
    # failures are forgotten before the audit log's head is taken (lock order: failures, head)
    throttle.forget_failures(ctx, typed, ctx.client, namespace=throttle.APPLICANT)
    record(ctx, ApplicantLoggedIn(found.id, ctx.client))
    return _applicant_out(found), found.epoch


def change_applicant_password(
    ctx: Ctx, applicant: ApplicantOut, data: ApplicantPasswordChange
) -> int:
    """A logged-in applicant sets a new password, knowing the current one.

    The current password is throttled and counted like a log-in; the new one must meet the
    password policy. Every other session of the applicant ends: the new session epoch is
    returned for the browser that made the change.
    """
    found = ctx.db.get(Applicant, applicant.id)
    if found is None:
        raise Unauthenticated("请先登录。", "Log in first.")
    _gate(ctx, found.email, shown=found.email)
    if not verify_password(ctx.settings, found.password_hash, data.current_password):
        _refuse(
            ctx,
            found.email,
            "bad current password",
            ("当前密码不正确。", "The current password is not correct."),
            shown=found.email,
        )
    errors = ErrorCollector()
    check_strength(
        data.new_password, errors, "new_password", username=found.email, display_name=found.name
    )
    if not errors.errors and verify_password(ctx.settings, found.password_hash, data.new_password):
        errors.add(
            "new_password",
            "新密码不能与当前密码相同。",
            "The new password must differ from the current one.",
        )
    errors.raise_if_any()
    found.password_hash = hash_password(ctx.settings, data.new_password)
    found.epoch += 1
    throttle.forget_failures(ctx, found.email, ctx.client, namespace=throttle.APPLICANT)
    record(ctx, ApplicantPasswordChanged(found.id))
    return found.epoch


def applicant_for_session(ctx: Ctx, applicant_id: int, epoch: int) -> ApplicantOut | None:
    found = ctx.db.get(Applicant, applicant_id)
    if found is None or found.epoch != epoch:
        return None
    return _applicant_out(found)


def _application_out(ctx: Ctx, a: OpenApplication, now: datetime) -> ApplicationOut:
    applicant = ctx.db.get(Applicant, a.applicant_id)
    p = ctx.db.scalar(select(Publication).where(Publication.resource_code == a.resource_code))
    name = EntryOut.model_validate(p.entry_json).name if p else a.resource_code
    return ApplicationOut(
        id=a.id,
        resource_code=a.resource_code,
        dataset_name=name,
        applicant_name=applicant.name if applicant else "",
        applicant_organisation=applicant.organisation if applicant else "",
        purpose=a.purpose,
        agreement_version=a.agreement_version,
        status=ApplicationStatus(a.status),
        due_at=a.due_at,
        overdue=a.status == ApplicationStatus.PENDING and a.due_at < now,
        decided_by=a.decided_by,
        decided_at=a.decided_at,
        decision_note=a.decision_note,
        created_at=a.created_at,
    )


def submit_open_application(
    ctx: Ctx, applicant: ApplicantOut, data: ApplicationIn
) -> ApplicationOut:
    """Apply for a conditionally open dataset: purpose stated, data-use agreement accepted."""
    p = _open(ctx, data.resource_code)
    errors = ErrorCollector()
    if p.open_type != OpenType.CONDITIONAL:
        errors.add(
            "resource_code",
            "该数据集无条件开放，无需申请，可直接下载。",
            "This dataset is open without conditions; download it directly.",
        )
    if len(data.purpose.strip()) < 10:
        errors.add(
            "purpose",
            "请说明数据用途（至少 10 个字）。",
            "Describe what the data is for (at least 10 characters).",
        )
    if not data.accept_agreement:
        errors.add(
            "accept_agreement",
            "须阅读并同意《数据利用协议》。",
            "You must read and accept the data-use agreement.",
        )
    errors.raise_if_any()
    pending = ctx.db.scalar(
        select(OpenApplication.id).where(
            OpenApplication.applicant_id == applicant.id,
            OpenApplication.resource_code == p.resource_code,
            OpenApplication.status.in_([ApplicationStatus.PENDING, ApplicationStatus.APPROVED]),
        )
    )
    if pending is not None:
        raise Conflict(
            "您对该数据集已有待审批或已通过的申请。",
            "You already have a pending or approved application for this dataset.",
        )
    now = utcnow()
    application = OpenApplication(
        applicant_id=applicant.id,
        resource_code=p.resource_code,
        unit_id=p.unit_id,
        purpose=data.purpose.strip(),
        agreement_version=AGREEMENT_VERSION,
        agreed_at=now,
        due_at=now + timedelta(days=DECISION_DAYS),
    )
    ctx.db.add(application)
    ctx.db.flush()
    record(
        ctx,
        OpenApplicationSubmitted(
            application.id,
            p.unit_id,
            p.resource_code,
            applicant.id,
            AGREEMENT_VERSION,
            application.due_at.isoformat(),
        ),
    )
    return _application_out(ctx, application, now)


def my_applications(ctx: Ctx, applicant: ApplicantOut) -> list[ApplicationOut]:
    now = utcnow()
    rows = ctx.db.scalars(
        select(OpenApplication)
        .where(OpenApplication.applicant_id == applicant.id)
        .order_by(OpenApplication.id.desc())
    )
    return [_application_out(ctx, a, now) for a in rows]


def list_open_applications(ctx: Ctx) -> list[ApplicationOut]:
    """Applications to the actor's unit (region readers: all), pending first."""
    unit = scope_unit(ctx, "view_open_applications")
    query = select(OpenApplication).order_by(
        OpenApplication.status != "pending", OpenApplication.due_at
    )
    if unit is not None:
        query = query.where(OpenApplication.unit_id == unit)
    now = utcnow()
    return [_application_out(ctx, a, now) for a in ctx.db.scalars(query)]


def _application(ctx: Ctx, application_id: int) -> OpenApplication:
    found = ctx.db.get(OpenApplication, application_id)
    if found is None:
        raise NotFound("开放申请不存在。", "No such open-data application.")
    return found


def decide_open_application(
    ctx: Ctx, application_id: int, approve: bool, note: str
) -> ApplicationOut:
    """The provider unit's CDO approves or refuses; a refusal must give its reason."""
    a = _application(ctx, application_id)
    require(ctx, "decide_open_application", a.unit_id, str(a.id))
    if a.status != ApplicationStatus.PENDING:
        raise Conflict("该申请已处理。", "This application has already been decided.")
    if not approve:
        note = required_reason(note, "不同意申请", "A refusal", field="note")
    a.status = ApplicationStatus.APPROVED if approve else ApplicationStatus.REFUSED
    a.decided_by, a.decided_at, a.decision_note = ctx.actor.label, utcnow(), note.strip()
    record(ctx, OpenApplicationDecided(a.id, a.unit_id, a.status, a.decision_note))
    return _application_out(ctx, a, utcnow())


def revoke_open_application(ctx: Ctx, application_id: int, reason: str) -> ApplicationOut:
    """Withdraw an approval: every key of the application stops working at once."""
    a = _application(ctx, application_id)
    require(ctx, "revoke_open_application", a.unit_id, str(a.id))
    if a.status != ApplicationStatus.APPROVED:
        raise Conflict("只有已通过的申请可以撤销。", "Only approved applications can be revoked.")
    reason = required_reason(reason, "撤销申请", "Revoking an application")
    a.status, a.decision_note = ApplicationStatus.REVOKED, reason.strip()
    now = utcnow()
    ctx.db.execute(
        update(ApplicantKey)
        .where(ApplicantKey.application_id == a.id, ApplicantKey.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    record(ctx, OpenApplicationRevoked(a.id, a.unit_id, reason.strip()))
    return _application_out(ctx, a, now)


def issue_applicant_key(ctx: Ctx, applicant: ApplicantOut, application_id: int) -> IssuedKey:
    """A key for an approved application of the applicant (shown once)."""
    a = _application(ctx, application_id)
    if a.applicant_id != applicant.id:
        raise NotFound("开放申请不存在。", "No such open-data application.")
    if a.status != ApplicationStatus.APPROVED:
        raise Conflict("申请尚未通过，不能获取密钥。", "The application is not approved.")
    prefix, token = new_token(APPLICANT_KEY_KIND)
    now = utcnow()
    key = ApplicantKey(
        application_id=a.id,
        applicant_id=applicant.id,
        prefix=prefix,
        key_hash=token_digest(token),
        expires_at=now + timedelta(days=KEY_DAYS),
    )
    ctx.db.add(key)
    ctx.db.flush()
    record(ctx, ApplicantKeyIssued(a.id, a.unit_id, prefix))
    return IssuedKey(application_id=a.id, prefix=prefix, token=token, expires_at=key.expires_at)


def authorised_applicant(ctx: Ctx, token: str | None, resource_code: str) -> int:
    """The applicant whose key may read this conditional dataset, or a clear 401/403."""
    if not token:
        raise Unauthenticated(
            "该数据集有条件开放，请先申请并使用获批的 API 密钥。",
            "This dataset is open on conditions: apply, then use the key you are given.",
        )
    prefix = token_prefix(token, APPLICANT_KEY_KIND) if "\x00" not in token else None
    row = (
        ctx.db.execute(
            select(ApplicantKey, OpenApplication)
            .join(OpenApplication, OpenApplication.id == ApplicantKey.application_id)
            .where(ApplicantKey.prefix == prefix)
        ).first()
        if prefix
        else None
    )
    if row is None or not token_matches(row[0].key_hash, token):
        raise Unauthenticated("API 密钥无效。", "The API key is not valid.")
    key, application = row
    if key.revoked_at is not None or key.expires_at <= utcnow():
        raise Unauthenticated("API 密钥已失效。", "The API key has been revoked or has expired.")
    if application.status != ApplicationStatus.APPROVED:
        raise Forbidden("申请已被撤销。", "The application has been revoked.")
    if application.resource_code != resource_code:
        raise Forbidden("该密钥未获准读取此数据集。", "This key is not approved for this dataset.")
    return int(application.applicant_id)


def may_manage(ctx: Ctx, unit_id: int) -> bool:
    return allowed(ctx, "open_dataset", unit_id)
