"""Console texts of the data sandbox."""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    "sbx.title": ("数据沙箱", "Data sandbox"),
    "sbx.intro": (
        "只能提交聚合查询；每个结果分组至少包含最小分组人数，不足的分组不予显示。",
        "Aggregate queries only; every released group holds at least the minimum number of"
        " people, smaller groups are suppressed.",
    ),
    "sbx.grants": ("已授权数据集", "Granted datasets"),
    "sbx.none": ("本单位尚无沙箱授权。", "Your unit holds no sandbox grant."),
    "sbx.table": ("表名", "Table name"),
    "sbx.k": ("最小分组人数", "Minimum group size"),
    "sbx.entity": ("个人标识列", "Entity column"),
    "sbx.dp": ("要求差分隐私", "Differential privacy required"),
    "sbx.column": ("列", "Column"),
    "sbx.type": ("类型", "Type"),
    "sbx.role": ("用途", "Role"),
    "sbx.role.dimension": ("维度（可分组、筛选、输出）", "Dimension (group, filter, output)"),
    "sbx.role.aggregate": ("聚合（仅在聚合函数内）", "Aggregate (inside aggregates only)"),
    "sbx.role.join_key": ("关联键（仅用于连接）", "Join key (joins only)"),
    "sbx.role.hidden": ("隐藏", "Hidden"),
    "sbx.extremes": ("允许最值", "MIN/MAX allowed"),
    "sbx.query": ("查询语句", "Query"),
    "sbx.run": ("运行", "Run"),
    "sbx.result": ("查询结果", "Result"),
    "sbx.suppressed": ("因人数不足未显示的分组", "Groups suppressed (too few people)"),
    "sbx.no_rows": ("没有可显示的分组。", "No group can be shown."),
    "sbx.refused": ("查询被拒绝", "Query refused"),
}
