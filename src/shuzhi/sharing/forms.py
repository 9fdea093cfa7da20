"""Console forms → the API's input shapes (forms send text and repeated fields).

Condition rows are numbered fields ``cond_column_N`` / ``cond_op_N`` / ``cond_value_N``;
a row without a column is ignored. Per-column masking is ``mask__<column>`` (empty: keep).
"""

from __future__ import annotations

from typing import Any

Multi = dict[str, list[str]]
CONDITION_ROWS = 3


def first(form: Multi, name: str, default: str = "") -> str:
    values = form.get(name)
    return values[0] if values else default


def conditions(form: Multi) -> list[dict[str, Any]]:
    out = []
    for i in range(CONDITION_ROWS):
        column = first(form, f"cond_column_{i}").strip()
        if not column:
            continue
        out.append(
            {
                "column": column,
                "op": first(form, f"cond_op_{i}"),
                "value": first(form, f"cond_value_{i}"),
            }
        )
    return out


def request_data(form: Multi) -> dict[str, Any]:
    return {
        "resource_code": first(form, "resource_code"),
        "application_code": first(form, "application_code"),
        "purpose": first(form, "purpose"),
        "legal_basis": first(form, "legal_basis"),
        "columns": form.get("columns", []),
        "row_filter": conditions(form),
        "delivery": form.get("delivery", []),
        "duration_days": first(form, "duration_days", "365") or "365",
    }


def decision_data(form: Multi) -> dict[str, Any]:
    """approve carries only a reason, refuse also its basis; a partial approval also its
    narrowing fields."""
    outcome = first(form, "outcome")
    data: dict[str, Any] = {"outcome": outcome, "reason": first(form, "reason")}
    if outcome == "refuse":
        data["basis"] = first(form, "basis")
    if outcome != "partly_approve":
        return data
    data["columns"] = form.get("columns", [])
    data["delivery"] = form.get("delivery", [])
    data["masking"] = {
        name.removeprefix("mask__"): values[0]
        for name, values in form.items()
        if name.startswith("mask__") and values and values[0]
    }
    data["row_filter"] = conditions(form)
    for name in ("duration_days", "rate_limit_per_minute"):
        value = first(form, name).strip()
        if value:
            data[name] = value
    return data
