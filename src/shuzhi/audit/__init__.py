"""Append-only, hash-chained audit log."""

# The public surface: the modules other packages may import.
__all__ = ["anchors", "events", "service", "texts"]
