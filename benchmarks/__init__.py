"""Benchmarks: one command each, printing a comparison table."""
