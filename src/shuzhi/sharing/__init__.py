"""Sharing and exchange (共享交换): requests, decisions, grants, connected systems, gateway."""

# The public surface: the modules other packages may import.
__all__ = ["access", "apps_service", "filters", "grants", "outbox", "schemas", "service", "texts"]
