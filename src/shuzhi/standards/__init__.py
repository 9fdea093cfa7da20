"""National-standard rules as plain functions: identifiers, checksums, code tables."""

# The public surface: the modules other packages may import.
__all__ = [
    "addresses",
    "attributes",
    "dates",
    "divisions",
    "documents",
    "health",
    "identifiers",
    "names",
    "network",
    "phones",
    "regions",
    "resident_id",
    "text",
]
