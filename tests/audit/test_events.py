"""Every audit event names real fields as its target and unit."""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil

import shuzhi
from shuzhi.audit import texts as audit_texts
from shuzhi.audit.events import AuditEvent


def _all_events() -> list[type[AuditEvent]]:
    for module in pkgutil.walk_packages(shuzhi.__path__, "shuzhi."):
        if module.name.endswith("events") and ".migrations" not in module.name:
            importlib.import_module(module.name)
    found: list[type[AuditEvent]] = []
    pending = [AuditEvent]
    while pending:
        cls = pending.pop()
        for sub in cls.__subclasses__():
            pending.append(sub)
            if "action" in vars(sub):
                found.append(sub)
    return found


def test_events_are_found() -> None:
    actions = {event.action for event in _all_events()}
    assert {"catalog.entry_created", "org.unit_created", "audit.verified"} <= actions


def test_target_and_unit_fields_exist() -> None:
    for event in _all_events():
        names = {field.name for field in dataclasses.fields(event)}
        assert event.target_fields, event.__name__
        assert set(event.target_fields) <= names, event.__name__
        assert event.unit_field is None or event.unit_field in names, event.__name__


def test_target_id_joins_the_named_fields() -> None:
    from shuzhi.catalog.events import CodeChanged, EntryViewed

    assert CodeChanged(table="share_type", code="1", changes={}).target_id == "share_type:1"
    assert CodeChanged(table="share_type", code="1", changes={}).unit_id is None
    viewed = EntryViewed(resource_code="330182-1-01-0001", unit=7, version=1)
    assert (viewed.target_id, viewed.unit_id) == ("330182-1-01-0001", 7)


def test_every_action_and_target_kind_has_a_name_in_both_languages() -> None:
    """The audit page and its exports name every action and target kind, never a code."""
    missing = []
    for event in _all_events():
        for key in (f"audit.act.{event.action}", f"audit.target_type.{event.target_type}"):
            zh, en = audit_texts.TEXTS.get(key, ("", ""))
            if not zh.strip() or not en.strip():
                missing.append(f"{event.__name__}: {key}")
    assert missing == []
