"""Units, people, appointments and the two-level filing workflow.

Filing: a unit (its liaison or CDO) creates an appointment and submits it; the region's
CDO executive (or CDO) approves it, which files it, or returns it with a reason; a returned
appointment can be corrected and submitted again. Every step is kept as history and audited.
Status changes are conditional updates, so two people deciding at once cannot both win.
"""

from __future__ import annotations

from shuzhi.org.service.common import (
    CDO_POSITIONS,
    LIVE,
    REGION_POSITIONS,
    SINGLE_HOLDER,
    all_unit_briefs,
    unit_brief,
    unit_id_for_code,
)
from shuzhi.org.service.filing import (
    approve_filing,
    create_appointment,
    end_appointment,
    get_appointment,
    list_appointments,
    return_filing,
    submit_filing,
)
from shuzhi.org.service.overview import (
    KIND_ZH,
    POSITION_ZH,
    ROSTER_HEADERS,
    STATUS_ZH,
    export_roster,
    filing_actions,
    org_overview,
)
from shuzhi.org.service.people import create_person, list_people
from shuzhi.org.service.units import create_unit, get_unit, list_units, parent_choices, update_unit

__all__ = [
    "CDO_POSITIONS",
    "KIND_ZH",
    "LIVE",
    "POSITION_ZH",
    "REGION_POSITIONS",
    "ROSTER_HEADERS",
    "SINGLE_HOLDER",
    "STATUS_ZH",
    "all_unit_briefs",
    "approve_filing",
    "create_appointment",
    "create_person",
    "create_unit",
    "end_appointment",
    "export_roster",
    "filing_actions",
    "get_appointment",
    "get_unit",
    "list_appointments",
    "list_people",
    "list_units",
    "org_overview",
    "parent_choices",
    "return_filing",
    "submit_filing",
    "unit_brief",
    "unit_id_for_code",
    "update_unit",
]
