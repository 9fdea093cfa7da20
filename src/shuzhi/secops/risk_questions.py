"""The questionnaire's default items: what a risk assessment needs and the platform cannot
know by itself (safeguards outside it, the unit's own organisation). Seeded into
``secops_risk_question`` by the ``secops_0002`` migration; afterwards the table is the truth.

Each item is (code, kind, points, zh, en). A "no" adds the points, an unanswered item half
of them (rounded down), "yes" and "not applicable" nothing.
"""

from __future__ import annotations

DEFAULT_QUESTIONS: tuple[tuple[str, str, int, str, str], ...] = (
    # ---- per dataset
    (
        "ds_purpose",
        "dataset",
        6,
        "该数据的收集和处理目的、依据已书面记录，且处理范围未超出该目的。",
        "The purpose and legal basis of collecting and processing this data are written "
        "down, and the processing stays within them.",
    ),
    (
        "ds_retention",
        "dataset",
        4,
        "已规定该数据的保存期限，到期数据会被删除或匿名化。",
        "A retention period is set for this data and data past it is deleted or anonymised.",
    ),
    (
        "ds_source_copies",
        "dataset",
        5,
        "平台之外的副本（业务系统、导出文件）已登记并受同等保护。",
        "Copies outside the platform (business systems, exported files) are listed and "
        "protected alike.",
    ),
    (
        "ds_backup",
        "dataset",
        4,
        "该数据有异地备份，且最近一年做过恢复演练。",
        "This data has an off-site backup and a restore was rehearsed in the past year.",
    ),
    (
        "ds_outbound",
        "dataset",
        8,
        "该数据未向境外提供，或已依法完成出境安全评估或备案。",
        "This data is not provided abroad, or its transfer passed the security assessment "
        "or filing the law requires.",
    ),
    (
        "ds_entrusted",
        "dataset",
        5,
        "委托第三方处理该数据时，已签订协议约定安全责任并进行监督。",
        "Where a third party processes this data on the unit's behalf, a contract sets its "
        "security duties and the unit supervises it.",
    ),
    # ---- per unit
    (
        "unit_officer",
        "unit",
        6,
        "单位已明确数据安全负责人和管理机构，并报送了其姓名和联系方式。",
        "The unit named a person and a body responsible for data security and reported "
        "their names and contacts.",
    ),
    (
        "unit_rules",
        "unit",
        5,
        "单位已制定数据安全管理制度和操作规程，并在一年内更新过。",
        "The unit has written data security rules and procedures, revised within the year.",
    ),
    (
        "unit_training",
        "unit",
        3,
        "接触数据的人员在过去一年内接受过数据安全培训。",
        "Staff who handle data were trained in data security in the past year.",
    ),
    (
        "unit_incident_plan",
        "unit",
        5,
        "单位有数据安全事件应急预案，并在过去一年内演练过。",
        "The unit has a data security incident response plan and rehearsed it in the past year.",
    ),
    (
        "unit_offboarding",
        "unit",
        4,
        "人员离岗或调岗时，其账号和权限在当日收回。",
        "Accounts and rights of staff who leave or change posts are withdrawn the same day.",
    ),
    (
        "unit_encryption",
        "unit",
        5,
        "单位业务系统中的敏感和重要数据在存储和传输中加密。",
        "Sensitive and important data in the unit's business systems is encrypted at rest "
        "and in transit.",
    ),
)
