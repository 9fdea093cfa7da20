"""Settings: one typed object, read from the environment at start-up, never at import."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from shuzhi.posture import SMTP_SECURITY, production_problems

DEFAULT_DATA_DIR = Path("shuzhi-data")
SECRET_FILE = "secret_key"
CREDENTIALS_FILE = "credentials_key"


class UnsafeSettings(RuntimeError):
    """Raised when production settings would be unsafe (e.g. a missing secret key).

    The message has one line per problem, each naming the variable, in Chinese and English.
    """


class InvalidSetting(UnsafeSettings):
    """Raised when an environment variable holds a value of the wrong kind or range."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    secret_key: str
    environment: str = "development"
    cookie_secure: bool = False
    session_max_age_seconds: int = 12 * 3600
    # Login throttling (see docs/auth.md): failed logins counted over a sliding window of
    # login_lockout_seconds, per account and address, per account, and per address.
    login_max_failures: int = 5
    login_account_max_failures: int = 50
    login_address_max_failures: int = 10
    login_lockout_seconds: int = 15 * 60
    # argon2id cost: the RFC 9106 low-memory profile; tests lower it
    argon2_time_cost: int = 3
    argon2_memory_cost: int = 65536
    default_locale: str = "zh-CN"
    static_vendor_dir: Path | None = None
    # Grading scheme shown with datasets: "national" (GB/T 43697) or a local scheme code.
    grading_scheme: str = "national"
    # Encrypts stored source connection URLs (they hold database passwords).
    credentials_key: str = ""
    # A load's worker process is killed after this many seconds / above this resident
    # memory (None: the defaults in shuzhi.lake.limits).
    load_seconds: int | None = None
    load_memory_mb: int | None = None
    # Keys the audit chain's MACs (HKDF from the secret key when empty); anchors of the chain
    # head go to DATA_DIR/audit-anchors every so many entries or seconds, and to a command.
    audit_key: str = ""
    audit_anchor_every: int = 1000
    audit_anchor_seconds: int = 300
    audit_anchor_command: str = ""
    # Cockpit: application scenarios each unit commits to per year; where alerts are posted.
    scenario_annual_target: int = 3
    cockpit_webhook_url: str = ""
    # Notices (sharing decisions, deadlines, cockpit alerts) leave by e-mail over SMTP and/or
    # as JSON posted to a webhook; both stay off while unset (docs/deployment.md).
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_security: str = "starttls"  # starttls | ssl | none
    smtp_user: str = ""
    smtp_password: str = ""
    mail_from: str = ""
    notice_webhook_url: str = ""
    # The console's address as users reach it, for links in e-mails (relative when unset).
    console_url: str = ""
    # Worker processes serving the app (WEB_CONCURRENCY, as uvicorn and gunicorn read it):
    # each enforces its share of per-client rate limits.
    workers: int = 1
    # Gateway: how long a worker reuses an authenticated key and grant; meter batch size and
    # age; whether batches are written in a child process of each worker.
    gateway_cache_seconds: float = 5.0
    gateway_flush_rows: int = 500
    gateway_flush_seconds: float = 1.0
    gateway_meter_process: bool = True
    # Portal: requests per minute and client address before a 429 (0: no limit).
    portal_rate_limit: int = 600
    # Sharing: working days a provider may extend a request's decision deadline by, once,
    # with a stated reason (check period; 0: no extensions).
    sharing_extension_days: int = 5
    # Security operations: seconds between the server's own runs of the monitoring rules
    # (0: only `shuzhi secops evaluate`, e.g. from cron).
    secops_evaluate_seconds: float = 30.0
    # Security operations: days after which a risk assessment nobody confirmed is overdue
    # (重要数据 at most 365 whatever is set: the Data Security Law asks for a yearly one).
    secops_risk_review_days: int = 365
    # Periodic grant review: an active grant this many days old (or this long after its last
    # confirmed review began) needs its provider to confirm it; unconfirmed after the grace days, it
    # is suspended (0: no reviews).
    grant_review_days: int = 180
    grant_review_grace_days: int = 14
    # Production runs on PostgreSQL unless the embedded SQLite file is chosen on purpose.
    allow_sqlite: bool = False
    # Dataset queries: "duckdb" (embedded, the default) or "spark" (the optional extra
    # shuzhi[spark]; Java 17), with Spark's master URL and driver memory (docs/lake.md).
    query_engine: str = "duckdb"
    spark_master: str = "local[2]"
    spark_driver_memory: str = "1g"

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    def check(self) -> None:
        """Refuse settings that would be unsafe in production."""
        if not self.is_production:
            return
        problems = production_problems(self)
        if problems:
            raise UnsafeSettings("\n".join(str(p) for p in problems))


def _truthy(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _number(
    env: Mapping[str, str], name: str, default: float, kind: type[int] | type[float], least: float
) -> Any:
    raw = env.get(name, "").strip()
    if raw == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise InvalidSetting(f"{name} must be a number, not {raw!r}") from None
    if value < least:
        raise InvalidSetting(f"{name} must be at least {least}, not {raw}")
    return value


QUERY_ENGINES = ("duckdb", "spark")
# Spark master URLs: local, local[N], local[*], local[N,F], spark://…, yarn, k8s://…
SPARK_MASTER = re.compile(r"local(\[(\*|[1-9][0-9]*)(,[1-9][0-9]*)?\])?|spark://\S+|yarn|k8s://\S+")
SPARK_MEMORY = re.compile(r"[1-9][0-9]*[kmgt]", re.IGNORECASE)


def _check_engine(settings: Settings) -> None:
    """The query engine settings, checked at start-up (Spark itself starts on first use)."""
    if settings.query_engine not in QUERY_ENGINES:
        raise InvalidSetting(
            f"SHUZHI_QUERY_ENGINE 只能是 {' 或 '.join(QUERY_ENGINES)} /"
            f" SHUZHI_QUERY_ENGINE must be one of {', '.join(QUERY_ENGINES)},"
            f" not {settings.query_engine!r}"
        )
    if not SPARK_MASTER.fullmatch(settings.spark_master):
        raise InvalidSetting(
            "SHUZHI_SPARK_MASTER 不是 Spark 主节点地址"
            "（local[N]、spark://主机:端口、yarn、k8s://…） /"
            " SHUZHI_SPARK_MASTER is not a Spark master URL (local[N], spark://host:port, yarn,"
            f" k8s://…): {settings.spark_master!r}"
        )
    if not SPARK_MEMORY.fullmatch(settings.spark_driver_memory):
        raise InvalidSetting(
            "SHUZHI_SPARK_DRIVER_MEMORY 应形如 1g、512m /"
            " SHUZHI_SPARK_DRIVER_MEMORY must look like 1g or 512m,"
            f" not {settings.spark_driver_memory!r}"
        )


def _write_private(path: Path, text: str) -> None:
    """Create ``path`` (it must not exist) readable by this account only, holding ``text``."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def _wait_for_content(path: Path, seconds: float = 2.0) -> None:
    """Wait until ``path`` holds something (another process created it an instant ago and
    writes it now), for at most ``seconds``; an empty file is then the caller's to refuse."""
    deadline = time.monotonic() + seconds
    while not path.read_text(encoding="utf-8").strip() and time.monotonic() < deadline:
        time.sleep(0.02)


def _persistent_secret(data_dir: Path, name: str, variable: str) -> str:
    """A development secret kept in the data directory so sessions survive restarts.

    Several server workers may start at once on a new directory: the secret is written to a
    file of this process's own and linked into place, so the first link wins, each process
    reads the winner's secret, and none ever reads a file still being written."""
    path = data_dir / name
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_urlsafe(48)
        draft = data_dir / f".{name}.{os.getpid()}.{secrets.token_hex(4)}"
        _write_private(draft, secret)
        try:
            os.link(draft, path)
        except FileExistsError:
            pass  # another process's secret is in place: use it
        except OSError:  # a file system without hard links: the file is made in place
            with contextlib.suppress(FileExistsError):
                _write_private(path, secret)
        finally:
            draft.unlink()
    # Made in place by another process (no hard links), the file may still be empty.
    _wait_for_content(path)
    secret = path.read_text(encoding="utf-8").strip()
    if not secret:
        raise InvalidSetting(
            f"{path} 为空：请删除它（将生成新密钥）或设置 {variable} /"
            f" {path} is empty: delete it (a new secret is made) or set {variable}"
        )
    return secret


def configured_location(
    data_dir: Path | str | None = None, env: Mapping[str, str] | None = None
) -> tuple[Path, str | None]:
    """The data directory and the database URL as configured (``None``: the SQLite file in
    the directory), without creating or reading anything there (``shuzhi restore``)."""
    env = os.environ if env is None else env
    directory = Path(data_dir or env.get("SHUZHI_DATA_DIR") or DEFAULT_DATA_DIR)
    return directory, env.get("SHUZHI_DATABASE_URL") or None


def load_settings(
    env: Mapping[str, str] | None = None, data_dir: Path | str | None = None
) -> Settings:
    """Build settings from the environment; ``data_dir`` (``--data-dir``) wins over env."""
    env = os.environ if env is None else env
    directory = Path(data_dir or env.get("SHUZHI_DATA_DIR") or DEFAULT_DATA_DIR).resolve()
    environment = env.get("SHUZHI_ENV", "development")
    production = environment == "production"
    database_url = env.get("SHUZHI_DATABASE_URL") or f"sqlite:///{directory / 'shuzhi.db'}"
    secret = env.get("SHUZHI_SECRET_KEY") or (
        "" if production else _persistent_secret(directory, SECRET_FILE, "SHUZHI_SECRET_KEY")
    )
    credentials = env.get("SHUZHI_CREDENTIALS_KEY") or (
        ""
        if production
        else _persistent_secret(directory, CREDENTIALS_FILE, "SHUZHI_CREDENTIALS_KEY")
    )
    vendor = env.get("SHUZHI_STATIC_VENDOR_DIR")
    settings = Settings(
        data_dir=directory,
        database_url=database_url,
        secret_key=secret,
        environment=environment,
        cookie_secure=_truthy(env.get("SHUZHI_COOKIE_SECURE"), production),
        session_max_age_seconds=_number(env, "SHUZHI_SESSION_MAX_AGE", 12 * 3600, int, 60),
        login_max_failures=_number(env, "SHUZHI_LOGIN_MAX_FAILURES", 5, int, 1),
        login_account_max_failures=_number(env, "SHUZHI_LOGIN_ACCOUNT_MAX_FAILURES", 50, int, 1),
        login_address_max_failures=_number(env, "SHUZHI_LOGIN_ADDRESS_MAX_FAILURES", 10, int, 1),
        login_lockout_seconds=_number(env, "SHUZHI_LOGIN_LOCKOUT_SECONDS", 15 * 60, int, 0),
        default_locale=env.get("SHUZHI_DEFAULT_LOCALE", "zh-CN"),
        static_vendor_dir=Path(vendor) if vendor else None,
        grading_scheme=env.get("SHUZHI_GRADING_SCHEME", "national"),
        credentials_key=credentials,
        load_seconds=_number(env, "SHUZHI_LOAD_SECONDS", 0, int, 1) or None,
        load_memory_mb=_number(env, "SHUZHI_LOAD_MEMORY_MB", 0, int, 64) or None,
        audit_key=env.get("SHUZHI_AUDIT_KEY", ""),
        audit_anchor_every=_number(env, "SHUZHI_AUDIT_ANCHOR_EVERY", 1000, int, 0),
        audit_anchor_seconds=_number(env, "SHUZHI_AUDIT_ANCHOR_SECONDS", 300, int, 0),
        audit_anchor_command=env.get("SHUZHI_AUDIT_ANCHOR_COMMAND", ""),
        scenario_annual_target=_number(env, "SHUZHI_SCENARIO_TARGET", 3, int, 0),
        cockpit_webhook_url=env.get("SHUZHI_COCKPIT_WEBHOOK_URL", ""),
        smtp_host=env.get("SHUZHI_SMTP_HOST", "").strip(),
        smtp_port=_number(env, "SHUZHI_SMTP_PORT", 587, int, 1),
        smtp_security=env.get("SHUZHI_SMTP_SECURITY", "starttls").strip().lower() or "starttls",
        smtp_user=env.get("SHUZHI_SMTP_USER", ""),
        smtp_password=env.get("SHUZHI_SMTP_PASSWORD", ""),
        mail_from=env.get("SHUZHI_MAIL_FROM", "").strip(),
        notice_webhook_url=env.get("SHUZHI_NOTICE_WEBHOOK_URL", "").strip(),
        console_url=env.get("SHUZHI_CONSOLE_URL", "").strip().rstrip("/"),
        workers=_number(env, "WEB_CONCURRENCY", 1, int, 1),
        gateway_cache_seconds=_number(env, "SHUZHI_GATEWAY_CACHE_SECONDS", 5.0, float, 0.01),
        gateway_flush_rows=_number(env, "SHUZHI_GATEWAY_FLUSH_ROWS", 500, int, 1),
        gateway_flush_seconds=_number(env, "SHUZHI_GATEWAY_FLUSH_SECONDS", 1.0, float, 0.01),
        gateway_meter_process=_truthy(env.get("SHUZHI_GATEWAY_METER_PROCESS"), True),
        portal_rate_limit=_number(env, "SHUZHI_PORTAL_RATE_LIMIT", 600, int, 0),
        sharing_extension_days=_number(env, "SHUZHI_SHARING_EXTENSION_DAYS", 5, int, 0),
        secops_evaluate_seconds=_number(env, "SHUZHI_SECOPS_EVALUATE_SECONDS", 30.0, float, 0),
        secops_risk_review_days=_number(env, "SHUZHI_SECOPS_RISK_REVIEW_DAYS", 365, int, 1),
        grant_review_days=_number(env, "SHUZHI_GRANT_REVIEW_DAYS", 180, int, 0),
        grant_review_grace_days=_number(env, "SHUZHI_GRANT_REVIEW_GRACE_DAYS", 14, int, 1),
        allow_sqlite=_truthy(env.get("SHUZHI_ALLOW_SQLITE"), False),
        query_engine=env.get("SHUZHI_QUERY_ENGINE", "").strip().lower() or "duckdb",
        spark_master=env.get("SHUZHI_SPARK_MASTER", "").strip() or "local[2]",
        spark_driver_memory=env.get("SHUZHI_SPARK_DRIVER_MEMORY", "").strip() or "1g",
    )
    _check_engine(settings)
    if settings.smtp_security not in SMTP_SECURITY:
        raise InvalidSetting(
            f"SHUZHI_SMTP_SECURITY must be one of {', '.join(SMTP_SECURITY)},"
            f" not {settings.smtp_security!r}"
        )
    settings.check()
    return settings
