"""Shuzhi (数治): an open platform for the Chief Data Officer system."""

__version__ = "0.1.0"
