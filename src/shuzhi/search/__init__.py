"""Chinese full-text search with facets, on SQLite (FTS5) and PostgreSQL (tsvector)."""

# The public surface: the modules other packages may import.
__all__ = ["service"]
