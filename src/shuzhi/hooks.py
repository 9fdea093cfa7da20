"""The one seam between capabilities: "something happened that other capabilities care about".

A capability that changes something others depend on *publishes* a typed hook event; the
capabilities that must react *subscribe* to it. The publisher does not import its
subscribers, so the dependency points one way only (sharing and portal build on the
catalogue; the catalogue only announces that an entry was withdrawn).

- Events are frozen dataclasses deriving from ``Hook``. They are not audit events (those live
  in each capability's ``events.py`` and go into the hash-chained log); a hook is a notice
  between services and is never stored.
- Dispatch is synchronous, in the publisher's unit of work: a subscriber runs inside the same
  transaction as the change it reacts to, so both commit or roll back together, and an error
  raised by a subscriber fails the publishing operation.
- Subscribers are registered once, explicitly, by ``shuzhi.wiring.register_all()`` (called by
  the app, the CLI, the demo builder, the benchmarks and the test session). Publishing before
  that raises ``HooksNotRegistered``: a service can never silently skip a required reaction.
- Registration is idempotent: subscribing the same function twice to the same event keeps one.

This module imports no capability service: everything may import it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from shuzhi.context import Ctx
from shuzhi.lake.manifest import Version
from shuzhi.security.categories import Category


@dataclass(frozen=True)
class Hook:
    """Base of every hook event."""


# ---------------------------------------------------------------- authorisation


@dataclass(frozen=True)
class OperationRefused(Hook):
    """``require``/``deny`` refused an operation. Published by ``auth.permissions`` after the
    refused unit of work rolled back, in a transaction of its own; the audit log records it."""

    operation: str
    target: str


# ---------------------------------------------------------------- catalogue


@dataclass(frozen=True)
class EntryRepublished(Hook):
    """An entry (a new version of it) was approved and is published."""

    resource_code: str
    unit_id: int
    version: int


@dataclass(frozen=True)
class EntryWithdrawn(Hook):
    """A published entry was taken out of the catalogue."""

    resource_code: str
    unit_id: int
    reason: str


@dataclass(frozen=True)
class EntryRevised(Hook):
    """A published or withdrawn entry was reopened as a new draft version."""

    resource_code: str
    unit_id: int
    version: int


# ---------------------------------------------------------------- datasets


@dataclass(frozen=True)
class VersionWritten(Hook):
    """A load wrote a new version to the lake and is about to analyse it and register it.

    A subscriber that must read the new data appends work to ``alongside``: each callable runs
    on a worker thread beside the lake's own analysis, so it must read only the lake (never
    the database session, which is the load's), and returns a ``Finish``: the function that
    stores its result once the version is registered, called in the load's unit of work with
    the ``VersionLoaded`` event, before that event is published."""

    resource_code: str
    unit_id: int
    version: Version
    alongside: list[Callable[[], Finish]] = field(default_factory=list, compare=False)


@dataclass(frozen=True)
class VersionLoaded(Hook):
    """A load registered a new dataset version (current, or pending review when its columns
    drift from the catalogue). ``hidden`` maps the columns whose values must not be shown in
    clear to their category; ``reject_ratio`` is the share of source rows that could not be
    parsed."""

    resource_code: str
    unit_id: int
    version_key: int
    number: int
    version: Version
    hidden: Mapping[str, Category]
    reject_ratio: float


Finish = Callable[[Ctx, VersionLoaded], None]


@dataclass(frozen=True)
class LakeCollecting(Hook):
    """``shuzhi lake gc`` looks for files that serve nobody. A capability keeping files derived
    from versions (under the data directory) appends those whose version is gone to
    ``found``; ``gone`` lists the version files the lake found itself (removed when the run
    applies). The lake lists them as ``derived_file`` and removes them with its own."""

    gone: frozenset[Path]
    found: list[Path] = field(default_factory=list, compare=False)


# ---------------------------------------------------------------- audit


@dataclass(frozen=True)
class SealsChecking(Hook):
    """``audit verify`` met entries sealing records kept outside the log (one entry stands
    for many records: its details carry their number and a digest over them). ``seals`` are
    ``(seq, kind, details JSON)``, the kind being the entry's target id. The capability that
    keeps records of a kind recomputes each of its seals from the records stored now, appends
    ``(seq, reason)`` to ``broken`` for every seal they no longer match, and adds the kind to
    ``handled``; ``records`` counts the records it read."""

    seals: tuple[tuple[int, str, str], ...]
    broken: list[tuple[int, str]] = field(default_factory=list, compare=False)
    handled: set[str] = field(default_factory=set, compare=False)
    records: list[int] = field(default_factory=list, compare=False)


@dataclass(frozen=True)
class VersionAccepted(Hook):
    """A version that was pending review was accepted and is now current."""

    resource_code: str
    unit_id: int
    number: int


@dataclass(frozen=True)
class ClassificationChanged(Hook):
    """A person confirmed or corrected a column's category: every version is read with it
    from now on, and the current version's grade was derived again."""

    resource_code: str
    unit_id: int
    column: str


@dataclass(frozen=True)
class VersionRejected(Hook):
    """A version that was pending review was rejected; the previous version stays current."""

    resource_code: str
    unit_id: int
    number: int


# ---------------------------------------------------------------- sharing


@dataclass(frozen=True)
class GrantIssued(Hook):
    """A grant was issued on an approved request (a new one, or one replacing another)."""

    grant_id: int
    resource_code: str
    provider_unit_id: int
    consumer_unit_id: int


@dataclass(frozen=True)
class GrantRevoked(Hook):
    """An active grant ended early (revoked, or ended by a change of its entry)."""

    grant_id: int
    resource_code: str
    provider_unit_id: int
    consumer_unit_id: int


@dataclass(frozen=True)
class AppKeyRevoked(Hook):
    """An application key of a connected system was revoked."""

    application_code: str
    prefix: str


# ---------------------------------------------------------------- portal


@dataclass(frozen=True)
class PublicationChanged(Hook):
    """An open dataset was opened on the portal or closed (``status``: open or closed)."""

    resource_code: str
    unit_id: int
    status: str


# ---------------------------------------------------------------- market


@dataclass(frozen=True)
class AgreementEnded(Hook):
    """An authorisation agreement (授权运营协议) expired or was terminated: what it let the
    operator reach ends with it (``grant_ids``: the sharing grants issued under it)."""

    agreement_id: int
    operator_unit_id: int
    grant_ids: tuple[int, ...]
    reason: str


@dataclass(frozen=True)
class AgreementHeld(Hook):
    """Security operations contains (``held``) an authorisation agreement in force, or lifts
    that containment. The market suspends the agreement (or puts it back in force, unless it
    ended meanwhile) and answers in ``found``: the operator's unit and the sharing grants
    issued under it (which security operations suspends with it). Nothing answering means
    no such agreement; an agreement not in force is a ``Conflict``."""

    agreement_id: int
    held: bool
    reason: str
    found: list[tuple[int, tuple[int, ...]]] = field(default_factory=list, compare=False)


# ---------------------------------------------------------------- registry

E = TypeVar("E", bound=Hook)


class HooksNotRegistered(RuntimeError):
    """A hook was published before the subscribers were registered."""


class Registry:
    """Subscribers per event type. ``seal`` marks the registration as done."""

    def __init__(self) -> None:
        self._subscribers: dict[type[Hook], list[Callable[[Ctx, object], None]]] = {}
        self._sealed = False

    def subscribe(self, kind: type[E], subscriber: Callable[[Ctx, E], None]) -> None:
        listed = self._subscribers.setdefault(kind, [])
        if subscriber not in listed:
            listed.append(subscriber)  # type: ignore[arg-type]

    def seal(self) -> None:
        self._sealed = True

    @property
    def sealed(self) -> bool:
        return self._sealed

    def subscribers(self, kind: type[Hook]) -> list[Callable[[Ctx, object], None]]:
        return list(self._subscribers.get(kind, ()))

    def publish(self, ctx: Ctx, event: Hook) -> None:
        if not self._sealed:
            raise HooksNotRegistered(
                f"{type(event).__name__} published before the subscribers were registered: "
                "call shuzhi.wiring.register_all() where the service stack is assembled"
            )
        for subscriber in self._subscribers.get(type(event), ()):
            subscriber(ctx, event)


REGISTRY = Registry()


def subscribe(kind: type[E], subscriber: Callable[[Ctx, E], None]) -> None:
    """Have ``subscriber(ctx, event)`` called for every published event of type ``kind``."""
    REGISTRY.subscribe(kind, subscriber)


def publish(ctx: Ctx, event: Hook) -> None:
    """Call every subscriber of ``type(event)`` now, in registration order, in ``ctx``'s
    unit of work."""
    REGISTRY.publish(ctx, event)
