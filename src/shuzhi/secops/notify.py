"""Who must be told of an incident, by when: the notification checklist's parties and their
deadlines per severity (hours after the incident was opened; no entry: not required).

The defaults follow the reporting duties a data bureau works under and are justified in
docs/secops.md: the affected unit's CDO and the bureau's security officer are told of every
incident (at once for a major one); the network-information (cyberspace) department within
an hour of a critical and four hours of a high incident; the persons whose information was
affected within three days of a high or critical one (personal-information protection law:
"promptly"; the bureau's working deadline).
"""

from __future__ import annotations

from dataclasses import dataclass

from shuzhi.secops.models import Severity


@dataclass(frozen=True)
class Party:
    code: str
    zh: str
    en: str
    hours: dict[Severity, float]
    needs_unit: bool = False  # only when the incident names a unit


PARTIES: tuple[Party, ...] = (
    Party(
        "unit_cdo",
        "所涉单位首席数据官",
        "The affected unit's CDO",
        {Severity.CRITICAL: 1, Severity.HIGH: 2, Severity.MEDIUM: 8, Severity.LOW: 24},
        needs_unit=True,
    ),
    Party(
        "security_officer",
        "数据局安全负责人",
        "The bureau's security officer",
        {Severity.CRITICAL: 1, Severity.HIGH: 2, Severity.MEDIUM: 8, Severity.LOW: 24},
    ),
    Party(
        "cyberspace_dept",
        "网信部门（重大事件报告）",
        "The network-information (cyberspace) department (major incidents)",
        {Severity.CRITICAL: 1, Severity.HIGH: 4},
    ),
    Party(
        "affected_persons",
        "受影响的个人",
        "The affected persons",
        {Severity.CRITICAL: 72, Severity.HIGH: 72},
    ),
)
BY_CODE = {p.code: p for p in PARTIES}


def parties_for(severity: Severity, has_unit: bool) -> list[tuple[Party, float]]:
    """The parties an incident of ``severity`` must tell, each with its deadline in hours."""
    return [
        (p, p.hours[severity])
        for p in PARTIES
        if severity in p.hours and (has_unit or not p.needs_unit)
    ]
