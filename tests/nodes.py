"""API nodes as real processes: ``shuzhi serve`` on a free port over a test's settings.

Used where the point is what several processes share (revocations, rate limits) or what a
process does when it is stopped (metering flushed at SIGTERM); everything else tests the
app in process.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from shuzhi.settings import Settings

SRC = Path(__file__).resolve().parents[1] / "src"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def node_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment a node needs to serve exactly the test's data directory and database
    with the test's secrets (the audit chain's MACs derive from the secret key)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHUZHI_")}
    env.update(
        {
            "PYTHONPATH": os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
            "SHUZHI_DATA_DIR": str(settings.data_dir),
            "SHUZHI_DATABASE_URL": settings.database_url,
            "SHUZHI_SECRET_KEY": settings.secret_key,
            "SHUZHI_CREDENTIALS_KEY": settings.credentials_key,
            "SHUZHI_AUDIT_ANCHOR_SECONDS": "0",
        }
    )
    env.update(extra)
    return env


@dataclass
class Node:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def client(self, timeout: float = 30.0) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=timeout)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60.0) -> int:
        """Signal the node and wait for it to end; its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"node did not stop; log:\n{self.log.read_text()}") from None


def start_node(settings: Settings, log_dir: Path, name: str, **env: str) -> Node:
    port = free_port()
    log = log_dir / f"{name}.log"
    handle = log.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "shuzhi", "serve", "--port", str(port)],
        env=node_env(settings, **env),
        stdout=handle,
        stderr=subprocess.STDOUT,
        cwd=log_dir,
    )
    handle.close()
    node = Node(process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"node {name} exited at start:\n{log.read_text()}")
        try:
            if httpx.get(f"{node.url}/healthz", timeout=2).status_code == 200:
                return node
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    node.stop(signal.SIGKILL)
    raise AssertionError(f"node {name} did not answer in time:\n{log.read_text()}")


@contextmanager
def nodes(settings: Settings, log_dir: Path, count: int = 2, **env: str) -> Iterator[list[Node]]:
    """``count`` API nodes over one data directory and database, stopped (SIGTERM) on exit."""
    with ExitStack() as stack:
        started: list[Node] = []
        for i in range(count):
            node = start_node(settings, log_dir, f"node-{chr(ord('a') + i)}", **env)
            started.append(node)
            stack.callback(node.stop)
        yield started


def wait_for(check: object, timeout: float, step: float = 0.05) -> float:
    """Seconds until ``check()`` is true; AssertionError after ``timeout``."""
    assert callable(check)
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if check():
            return time.monotonic() - start
        time.sleep(step)
    raise AssertionError(f"not true within {timeout} s")
