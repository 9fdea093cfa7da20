"""The one error hierarchy of Shuzhi; every message exists in Chinese and English.

    ShuzhiError
     ├── NotFound        the thing asked for does not exist (or is not visible to the caller)
     ├── Unauthenticated no valid session or API key
     ├── Forbidden       the caller's role or unit does not allow the operation
     ├── Invalid         input failed validation; carries per-field errors
     ├── Conflict        the request clashes with the current state (duplicates, wrong status)
     └── TooManyRequests throttled; try again later

HTTP status codes and the problem+json shape are decided in one place: ``shuzhi.web.problems``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class Message:
    """A bilingual text shown to people."""

    zh: str
    en: str

    def get(self, locale: str) -> str:
        return self.en if locale.startswith("en") else self.zh


@dataclass(frozen=True)
class FieldError:
    field: str
    message: Message


class ShuzhiError(Exception):
    status: int = 400
    kind: str = "error"
    default: ClassVar[Message] = Message("请求无法处理。", "The request cannot be processed.")

    def __init__(self, zh: str | None = None, en: str | None = None) -> None:
        self.message = Message(zh, en or zh) if zh else self.default
        # Work that must still be committed after the failed transaction rolls back
        # (audit of a refusal, a failed-login counter); run by ``context.unit_of_work``.
        self.after_rollback: Callable[[Any], None] | None = None
        super().__init__(self.message.en)


class NotFound(ShuzhiError):
    status = 404
    kind = "not-found"
    default = Message("未找到所请求的对象。", "The requested item was not found.")


class Unauthenticated(ShuzhiError):
    status = 401
    kind = "unauthenticated"
    default = Message("请先登录或提供有效的 API 密钥。", "Log in or supply a valid API key.")


class Forbidden(ShuzhiError):
    status = 403
    kind = "forbidden"
    default = Message(
        "您的角色或所属单位无权执行此操作。", "Your role or unit is not allowed to do this."
    )

    def __init__(
        self, zh: str | None = None, en: str | None = None, *, operation: str = "", target: str = ""
    ) -> None:
        super().__init__(zh, en)
        self.operation = operation
        self.target = target


class Conflict(ShuzhiError):
    status = 409
    kind = "conflict"
    default = Message("请求与当前状态冲突。", "The request conflicts with the current state.")


class TooManyRequests(ShuzhiError):
    status = 429
    kind = "too-many-requests"
    default = Message("请求过于频繁，请稍后再试。", "Too many requests; try again later.")

    def __init__(
        self, zh: str | None = None, en: str | None = None, *, retry_after: int = 60
    ) -> None:
        super().__init__(zh, en)
        self.retry_after = retry_after


class Unavailable(ShuzhiError):
    """The service cannot take the request now (e.g. its audit trail is behind)."""

    status = 503
    kind = "unavailable"
    default = Message("服务繁忙，请稍后再试。", "The service is busy; try again later.")

    def __init__(
        self, zh: str | None = None, en: str | None = None, *, retry_after: int = 5
    ) -> None:
        super().__init__(zh, en)
        self.retry_after = retry_after


class Invalid(ShuzhiError):
    status = 422
    kind = "invalid"
    default = Message("提交的内容有误，请按提示修改。", "Some input is invalid; see the details.")

    def __init__(
        self,
        zh: str | None = None,
        en: str | None = None,
        *,
        errors: list[FieldError] | None = None,
    ) -> None:
        super().__init__(zh, en)
        self.errors: list[FieldError] = errors or []

    @classmethod
    def field(cls, name: str, zh: str, en: str) -> Invalid:
        """One invalid field: the common case."""
        return cls(errors=[FieldError(name, Message(zh, en))])


@dataclass
class ErrorCollector:
    """Collects field errors so a form reports every problem at once, not the first one only."""

    errors: list[FieldError] = field(default_factory=list)

    def add(self, name: str, zh: str, en: str) -> None:
        self.errors.append(FieldError(name, Message(zh, en)))

    def raise_if_any(self) -> None:
        if self.errors:
            raise Invalid(errors=self.errors)
