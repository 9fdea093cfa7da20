"""Benchmarks: each module runs on its own (``python -m benchmarks.NAME``) and prints a table."""

from shuzhi.wiring import register_all

# Benchmarks call the services without the app or the CLI: the same hook subscribers.
register_all()
