"""Console texts of the audit log."""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    "audit.title": ("审计日志", "Audit log"),
    "audit.verify": ("校验哈希链", "Verify the hash chain"),
    "audit.ok": (
        "哈希链完整：共 {n} 条记录未被篡改，{a} 个锚点一致。",
        "Chain intact: {n} entries, none altered; {a} anchors match.",
    ),
    "audit.bad": ("哈希链被破坏：第 {seq} 条 — {reason}", "Chain broken at entry {seq}: {reason}"),
    "audit.at": ("时间", "Time"),
    "audit.actor": ("操作者", "Actor"),
    "audit.action": ("动作", "Action"),
    "audit.target": ("对象", "Target"),
    "audit.outcome": ("结果", "Outcome"),
}
