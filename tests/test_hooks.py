"""The seam between capabilities: typed hook events, explicit and idempotent registration."""

from __future__ import annotations

from typing import Any

import pytest

from shuzhi import hooks
from shuzhi.audit import service as audit
from shuzhi.gateway import indexing as gateway_indexing
from shuzhi.portal import service as portal
from shuzhi.quality import service as quality
from shuzhi.secops import service as secops
from shuzhi.sharing import service as sharing
from shuzhi.wiring import register_all

CTX: Any = object()  # the registry only hands the context on


def test_publishing_before_registration_fails_loudly() -> None:
    registry = hooks.Registry()
    registry.subscribe(hooks.EntryWithdrawn, lambda ctx, event: None)
    with pytest.raises(hooks.HooksNotRegistered, match="register_all"):
        registry.publish(CTX, hooks.EntryWithdrawn("R1", 1, "obsolete"))


def test_subscribers_run_in_order_once_each_and_only_for_their_event() -> None:
    registry = hooks.Registry()
    seen: list[str] = []

    def first(ctx: object, event: hooks.EntryWithdrawn) -> None:
        seen.append(f"first {event.resource_code} {event.reason}")

    def second(ctx: object, event: hooks.EntryWithdrawn) -> None:
        seen.append(f"second {event.resource_code}")

    registry.subscribe(hooks.EntryWithdrawn, first)
    registry.subscribe(hooks.EntryWithdrawn, second)
    registry.subscribe(hooks.EntryWithdrawn, first)  # idempotent
    registry.seal()
    registry.publish(CTX, hooks.EntryWithdrawn("R1", 1, "obsolete"))
    registry.publish(CTX, hooks.EntryRevised("R1", 1, 2))  # nobody listens: nothing happens
    assert seen == ["first R1 obsolete", "second R1"]


def test_a_subscriber_error_reaches_the_publisher() -> None:
    registry = hooks.Registry()

    def broken(ctx: object, event: hooks.GrantRevoked) -> None:
        raise RuntimeError("subscriber failed")

    registry.subscribe(hooks.GrantRevoked, broken)
    registry.seal()
    with pytest.raises(RuntimeError, match="subscriber failed"):
        registry.publish(CTX, hooks.GrantRevoked(1, "R1", 2, 3))


def test_hook_events_are_immutable() -> None:
    event = hooks.VersionAccepted("R1", 1, 3)
    with pytest.raises(AttributeError):
        event.number = 4  # type: ignore[misc]


def test_register_all_wires_the_documented_reactions_and_is_idempotent() -> None:
    register_all()
    before = {kind: hooks.REGISTRY.subscribers(kind) for kind in _kinds()}
    register_all()
    assert {kind: hooks.REGISTRY.subscribers(kind) for kind in _kinds()} == before
    assert hooks.REGISTRY.sealed
    assert before[hooks.OperationRefused] == [audit.on_operation_refused]
    assert before[hooks.EntryWithdrawn] == [
        sharing.on_entry_withdrawn,
        portal.on_entry_withdrawn,
        secops.risk_on_entry_withdrawn,
    ]
    assert before[hooks.EntryRepublished] == [
        sharing.on_entry_republished,
        portal.on_entry_republished,
        secops.risk_on_entry_republished,
    ]
    assert before[hooks.VersionWritten] == [
        quality.on_version_written,
        gateway_indexing.on_version_written,
    ]
    assert before[hooks.LakeCollecting] == [gateway_indexing.on_lake_collecting]


def _kinds() -> list[type[hooks.Hook]]:
    return [
        value
        for value in vars(hooks).values()
        if isinstance(value, type) and issubclass(value, hooks.Hook) and value is not hooks.Hook
    ]
