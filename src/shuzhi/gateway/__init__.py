"""The sharing gateway: consumers' systems read granted data through it, masked, metered and
audited on every call."""

# The public surface: the modules other packages may import.
__all__ = ["indexing", "limits", "monitoring", "redaction", "sealing", "service", "stats", "texts"]
