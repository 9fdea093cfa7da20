"""The data lake (归集): sources are read as streams and stored as immutable Parquet versions.

Layers, inward:

- ``readers``  open a source (CSV/TSV/TXT, XLSX, JSON Lines, Parquet, a database table or
  query) and stream it as Arrow record batches; rejected rows go to a ``RejectSink``.
- ``writer``   turn one read into one complete version directory entry (Parquet + manifest),
  atomically, or raise and leave nothing behind.
- ``query``    the one interface through which dataset contents are read (``QueryEngine``);
  ``DuckDBEngine`` is the implementation today.
- ``profile``  per-column statistics of a version, computed by the query engine.

Value types in the raw version: text sources (CSV, XLSX, JSON Lines) and database sources are
stored as strings exactly as read (empty strings become null; dates stay text in whatever format
the source used — typed parsing is the profile and quality layers' job). Parquet sources keep
their native Arrow types.
"""

# The public surface: the modules other packages may import.
__all__ = [
    "analysis",
    "manifest",
    "query",
    "readers",
    "rejects",
    "schemas",
    "service",
    "texts",
    "worker",
]
