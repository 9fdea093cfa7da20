"""Accounts, sessions, API keys and the permission rules."""

# The public surface: the modules other packages may import.
__all__ = ["passwords", "permissions", "service", "texts", "throttle"]
