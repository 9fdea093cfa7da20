"""Files the platform writes for people to keep or print, the same for every capability: so
far PDF documents (``pdf``), built from a small document model with no capability's data."""

# The public surface: the modules other packages may import.
__all__ = ["pdf"]
