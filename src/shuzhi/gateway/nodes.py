"""Serving processes registered by heartbeat, so that a grant's rate limit is shared.

Every process that answers gateway calls (each worker of each API node) keeps one row in
``gateway_node`` and refreshes it every ``HEARTBEAT_SECONDS`` from the gateway's background
thread; the same statement round counts the rows seen within ``LIVE_SECONDS``. Each process
then enforces ``ceil(limit / live)`` of a grant's per-minute limit (``limits.RateLimiter``):
with calls spread over the processes by the load balancer, the whole installation stays
within the grant's limit, and no call waits on the database to decide. A stopped process
deletes its row; a killed one stops counting once its heartbeat is ``LIVE_SECONDS`` old.
See docs/deploy.md for the tolerance.
"""

from __future__ import annotations

import os
import secrets
import socket
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from shuzhi.db.base import utcnow
from shuzhi.db.cas import affected
from shuzhi.db.engine import Database
from shuzhi.gateway.models import GatewayNode

HEARTBEAT_SECONDS = 5.0
LIVE_SECONDS = 15.0
# Rows of processes gone this long (killed, never deleted) are removed by the others.
FORGET_SECONDS = 3600.0


def live_nodes(session: Session, now: datetime | None = None) -> int:
    """Processes whose heartbeat is recent (0 when none has registered)."""
    since = (now or utcnow()) - timedelta(seconds=LIVE_SECONDS)
    found = session.scalar(
        select(func.count()).select_from(GatewayNode).where(GatewayNode.seen_at >= since)
    )
    return int(found or 0)


class NodeRegistry:
    """This process's row: ``beat`` refreshes it and answers how many are live."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.host = socket.gethostname()[:255]
        self.pid = os.getpid()
        self.node_id = f"{self.host[:40]}:{self.pid}:{secrets.token_hex(4)}"
        self.started_at = utcnow()

    def beat(self) -> int:
        """Refresh this process's heartbeat; the number of live processes (at least 1)."""
        now = utcnow()
        with self.database.sessions.begin() as session:
            done = session.execute(
                update(GatewayNode).where(GatewayNode.node_id == self.node_id).values(seen_at=now)
            )
            if affected(done) == 0:
                session.execute(
                    insert(GatewayNode).values(
                        node_id=self.node_id,
                        host=self.host,
                        pid=self.pid,
                        started_at=self.started_at,
                        seen_at=now,
                    )
                )
            session.execute(
                delete(GatewayNode).where(
                    GatewayNode.seen_at < now - timedelta(seconds=FORGET_SECONDS)
                )
            )
            return max(1, live_nodes(session, now))

    def leave(self) -> None:
        with self.database.sessions.begin() as session:
            session.execute(delete(GatewayNode).where(GatewayNode.node_id == self.node_id))
