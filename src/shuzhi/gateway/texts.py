"""Console texts of the sharing gateway's statistics."""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    "gw.stats.title": ("共享接口调用统计", "Sharing API call statistics"),
    "gw.stats.days": ("天数", "Days"),
    "gw.stats.show": ("查看", "Show"),
    "gw.stats.period": ("统计区间", "Period"),
    "gw.stats.calls": ("调用次数", "Calls"),
    "gw.stats.rows": ("返回行数", "Rows returned"),
    "gw.stats.errors": ("失败次数", "Failed calls"),
    "gw.stats.calls_per_day": ("每日调用次数", "Calls per day"),
    "gw.stats.errors_per_day": ("每日失败次数", "Failed calls per day"),
    "gw.stats.p99_per_day": ("每日 p99 延迟（毫秒）", "Daily p99 latency (ms)"),
    "gw.stats.top_consumers": ("调用最多的使用单位", "Top consumer units"),
    "gw.stats.top_entries": ("调用最多的目录", "Top entries"),
    "gw.stats.top_applications": ("调用最多的应用系统", "Top connected systems"),
    "gw.stats.application": ("应用系统", "System"),
    "gw.stats.outcomes": ("调用结果", "Outcomes"),
    "gw.stats.recent": ("最近调用", "Recent calls"),
    "gw.stats.time": ("时间", "Time"),
    "gw.stats.endpoint": ("接口", "Endpoint"),
    "gw.outcome.ok": ("成功", "OK"),
    "gw.outcome.not_found": ("未找到", "Not found"),
    "gw.outcome.invalid": ("参数错误", "Invalid"),
    "gw.outcome.unauthenticated": ("密钥无效", "Bad key"),
    "gw.outcome.forbidden": ("无权", "Forbidden"),
    "gw.outcome.rate_limited": ("限流", "Rate limited"),
    "gw.outcome.busy": ("记录滞后暂停", "Paused: records behind"),
    "gw.outcome.error": ("服务器错误", "Server error"),
}
