"""Vital-sign indicators (体征指标): one structured aggregation over a dataset's current version,
through the lake's query interface (never SQL text), compared with warn/alarm thresholds.

Evaluation runs on demand (console, API) and on a schedule (``shuzhi cockpit evaluate`` from
cron). Each run keeps a reading (the history); an alert is raised when the level becomes
worse than ok or changes while not ok, and is posted to the configured webhook after the
transaction commits. An indicator that can no longer be computed (its column disappeared
after a schema change, its dataset is gone) gets an ``error`` reading that says why.

Disclosure rules (``security.disclosure``): people who see the cockpit need not be allowed
to read rows, so an indicator may not filter on, group by, or take the minimum or maximum
of a column classified as personal information; a definition that does is refused, and a
stored one (defined before the rule, or whose column was classified later) gets an
``error`` reading and its readings and alerts no longer show their group. A grouped figure
over fewer than ``MIN_GROUP_SIZE`` rows (5), and any figure other than a plain count over
fewer rows than that, is suppressed.
"""

from __future__ import annotations

from shuzhi.cockpit.indicators.common import (
    GROUP_HIDDEN,
    HISTORY,
    NUMERIC,
    SEVERITY,
    WEBHOOK_ATTEMPTS,
    WEBHOOK_BATCH,
    WEBHOOK_HOOKED,
    WEBHOOK_RETRY_WINDOW,
    WEBHOOK_TIMEOUT,
    log,
)
from shuzhi.cockpit.indicators.definition import define_indicator, update_indicator
from shuzhi.cockpit.indicators.evaluation import (
    deliver_webhooks,
    evaluate_indicators,
    level_of,
    post_webhook,
)
from shuzhi.cockpit.indicators.reading import (
    acknowledge_alert,
    get_indicator,
    list_alerts,
    list_indicators,
)

__all__ = [
    "GROUP_HIDDEN",
    "HISTORY",
    "NUMERIC",
    "SEVERITY",
    "WEBHOOK_ATTEMPTS",
    "WEBHOOK_BATCH",
    "WEBHOOK_HOOKED",
    "WEBHOOK_RETRY_WINDOW",
    "WEBHOOK_TIMEOUT",
    "acknowledge_alert",
    "define_indicator",
    "deliver_webhooks",
    "evaluate_indicators",
    "get_indicator",
    "level_of",
    "list_alerts",
    "list_indicators",
    "log",
    "post_webhook",
    "update_indicator",
]
