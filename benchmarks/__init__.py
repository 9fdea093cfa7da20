"""Benchmarks: each module runs on its own (``python -m benchmarks.NAME``) and prints a table."""
