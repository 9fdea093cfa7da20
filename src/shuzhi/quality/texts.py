"""Console texts of quality rules, scores and issues."""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    "quality.title": ("数据质量", "Data quality"),
    "quality.by_unit": ("各单位质量得分", "Scores by unit"),
    "quality.open_issues": ("待处理问题", "Open issues"),
    "quality.issues": ("质量问题", "Quality issues"),
    "quality.summary": ("问题", "Issue"),
    "quality.results": ("质量检查", "Quality checks"),
    "quality.rule": ("规则", "Rule"),
    "quality.failing": ("不合格", "Failing"),
    "quality.failing_rows": ("{n} 条不合格", "{n} failing"),
    "quality.pass_rate": ("合格率", "Pass rate"),
    "quality.sample": ("不合格样例", "Failing sample"),
    "quality.no_rules": ("未设置质量规则。", "No quality rules defined."),
    "quality.mark_fixed": ("已整改", "Mark fixed"),
    "quality.verify": ("核验通过", "Verify"),
    "quality.status.open": ("待整改", "Open"),
    "quality.status.fixed": ("已整改待核验", "Fixed"),
    "quality.status.verified": ("已核验", "Verified"),
    "quality.kind.not_null": ("非空", "Not null"),
    "quality.kind.unique": ("唯一", "Unique"),
    "quality.kind.pattern": ("格式", "Pattern"),
    "quality.kind.range": ("取值范围", "Range"),
    "quality.kind.resident_id": ("身份证号校验", "Valid resident ID"),
    "quality.kind.uscc": ("统一社会信用代码校验", "Valid USCC"),
    "quality.kind.allowed_values": ("代码值", "Allowed codes"),
    "quality.kind.reference": ("参照一致", "Reference"),
    "quality.kind.freshness": ("时效", "Freshness"),
}
