"""The CKAN Action API's reading half, mapped onto open datasets.

CKAN clients (``ckanapi``, harvesters, portals' widgets) read ``/api/3/action/<name>`` and
expect CKAN's shapes: packages (datasets) with resources (files) and an organization
(the providing unit). Names here are CKAN's; the mapping is:

    package.name / id      = resource code          organization.name / id = unit code
    resource.id            = <resource code>-<format>, url = the portal's download link
    fq fields              organization, open_type, update_cycle, class, res_format
    display_name / title   = the unit's name; extras' update_cycle = the cycle's name (每月),
                             update_cycle_code = its code (fq and facets use codes)

Malformed ``fq``/``sort``/``rows``/``start`` raise ``CkanError`` with CKAN's error types,
which ckanapi turns into its own exceptions (ValidationError, SearchQueryError, NotFound).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shuzhi.portal.data import CONTENT_TYPES
from shuzhi.portal.schemas import FORMATS, OpenDataset, UnitFigures

API_VERSION = 3
CKAN_VERSION = "2.10.0"  # the Action API level the responses follow
MAX_ROWS = 200
# fq / facet field (CKAN name) → the portal's search facet
FIELDS = {
    "organization": "unit",
    "open_type": "open_type",
    "update_cycle": "update_cycle",
    "class": "class",
}
FORMAT_NAMES = {f.upper(): f for f in FORMATS}
SORTS = {
    "score desc": "relevance",
    "name asc": "key",
    "id asc": "key",
    "title_string asc": "key",
    "metadata_modified desc": "key",
    "metadata_created desc": "key",
}
_TERM = re.compile(r'\s*\+?([a-z_]+):(?:"([^"]*)"|([^\s"]+))\s*')


@dataclass
class CkanError(Exception):
    status: int
    type: str
    message: str
    fields: dict[str, list[str]] | None = None

    def body(self, help_url: str) -> dict[str, Any]:
        error: dict[str, Any] = {"__type": self.type, "message": self.message}
        if self.fields:
            error.update(self.fields)
        return {"help": help_url, "success": False, "error": error}


def validation(field: str, message: str) -> CkanError:
    return CkanError(409, "Validation Error", message, {field: [message]})


def not_found(what: str) -> CkanError:
    return CkanError(404, "Not Found Error", f"Not found: {what}")


def parse_fq(fq: str) -> tuple[dict[str, list[str]], set[str]]:
    """Solr-style ``field:value`` terms (ANDed) → portal filters and wanted download formats."""
    filters: dict[str, list[str]] = {}
    formats: set[str] = set()
    text = fq.strip()
    pos = 0
    while pos < len(text):
        m = _TERM.match(text, pos)
        if m is None or m.end() == pos:
            raise CkanError(
                409, "Search Query Error", f"Search Query Error: cannot parse fq {fq[:80]!r}"
            )
        pos = m.end()
        field, value = m.group(1), m.group(2) if m.group(2) is not None else m.group(3)
        if field == "res_format":
            formats.add(value.upper())
            continue
        if field not in FIELDS:
            raise CkanError(
                409, "Search Query Error", f"Search Query Error: unknown fq field {field[:40]!r}"
            )
        filters.setdefault(FIELDS[field], []).append(
            value.upper() if field == "organization" else value
        )
    return filters, formats


def parse_int(value: Any, field: str, default: int, high: int) -> int:
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise validation(field, f"Invalid integer: {str(value)[:40]}") from None
    if number < 0 or number > high:
        raise validation(field, f"Must be between 0 and {high}")
    return number


def parse_sort(value: Any) -> str:
    if value in (None, ""):
        return "relevance"
    key = " ".join(str(value).split()[:2]).lower()
    if key not in SORTS:
        raise validation("sort", "Unsupported sort; use one of: " + ", ".join(SORTS))
    return SORTS[key]


def organization(unit: UnitFigures, packages: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": unit.unit_code,
        "name": unit.unit_code.lower(),
        "title": unit.unit_name,
        "display_name": unit.unit_name,
        "description": "",
        "type": "organization",
        "is_organization": True,
        "state": "active",
        "approval_status": "approved",
        "package_count": unit.open_entries,
        "image_url": "",
    }
    if packages is not None:
        out["packages"] = packages
    return out


def resource(d: OpenDataset, fmt: str, base: str) -> dict[str, Any]:
    return {
        "id": f"{d.slug}-{fmt}",
        "package_id": d.slug,
        "name": f"{d.entry.name}.{fmt}",
        "description": d.entry.abstract if fmt == "csv" else "",
        "format": fmt.upper(),
        "mimetype": CONTENT_TYPES[fmt].split(";")[0],
        "url": f"{base}/open/datasets/{d.slug}/download.{fmt}",
        "url_type": None,
        "state": "active",
        "created": d.opened_at.isoformat(),
        "last_modified": d.modified_at.isoformat(),
        "position": FORMATS.index(fmt),
        "datastore_active": False,
    }


# Code table (portal labels) behind each facet field's values, for display names.
FACET_LABELS = {"organization": "unit", "update_cycle": "update_cycle", "class": "resource_class"}


def facet_display_name(field: str, value: str, labels: Mapping[str, Mapping[str, str]]) -> str:
    """A facet value as people read it: a unit's or a cycle's name, else the value."""
    table = labels.get(FACET_LABELS.get(field, ""), {})
    return table.get(value.upper() if field == "organization" else value, value)


def package(
    d: OpenDataset,
    base: str,
    unit: UnitFigures | None = None,
    labels: Mapping[str, Mapping[str, str]] | None = None,
) -> dict[str, Any]:
    e = d.entry
    resources = [resource(d, f, base) for f in FORMATS] if d.columns else []
    cycle = (labels or {}).get("update_cycle", {}).get(e.update_cycle, e.update_cycle)
    org = {
        "id": e.unit_code,
        "name": e.unit_code.lower(),
        "title": e.unit_name,
        "display_name": e.unit_name,
        "type": "organization",
        "is_organization": True,
        "state": "active",
    }
    return {
        "id": d.slug,
        "name": d.slug.lower(),
        "title": e.name,
        "notes": e.abstract,
        "type": "dataset",
        "state": "active",
        "private": False,
        "owner_org": e.unit_code,
        "organization": org
        if unit is None
        else {**org, "title": unit.unit_name, "display_name": unit.unit_name},
        "author": e.unit_name,
        "maintainer": e.unit_name,
        "license_id": "notspecified",
        "license_title": "开放数据利用协议" if d.conditional else "无条件开放",
        "url": f"{base}/open/datasets/{d.slug}",
        "metadata_created": d.opened_at.isoformat(),
        "metadata_modified": d.modified_at.isoformat(),
        "resources": resources,
        "num_resources": len(resources),
        "tags": [{"name": i.name, "display_name": i.name} for i in e.items[:20]],
        "num_tags": min(len(e.items), 20),
        "groups": [],
        "extras": [
            {"key": "open_type", "value": e.open_type.value},
            {"key": "open_conditions", "value": e.open_conditions},
            {"key": "update_cycle", "value": cycle},
            {"key": "update_cycle_code", "value": e.update_cycle},
            {"key": "record_count", "value": str(d.record_count)},
        ],
    }
