"""CDO organisation: units, people, appointments and their two-level filing."""

# The public surface: the modules other packages may import.
__all__ = ["schemas", "service", "texts"]
