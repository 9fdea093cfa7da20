"""Chinese full-text search with facets, on SQLite (FTS5) and PostgreSQL (tsvector)."""
