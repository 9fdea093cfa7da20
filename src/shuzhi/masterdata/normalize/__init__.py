"""Chinese normalisation for base libraries: pure functions, no database.

``normalize_person`` and ``normalize_entity`` (``records``) are the entry points; each part
is a module of its own, listed below, usable alone.
"""

from shuzhi.masterdata.normalize.records import normalize_entity, normalize_person

# The public surface: the modules other packages may import, and the two entry points.
__all__ = [
    "addresses",
    "divisions",
    "enterprise",
    "evidence",
    "legal_ids",
    "names",
    "normalize_entity",
    "normalize_person",
    "pinyin",
    "records",
    "resident_ids",
    "text",
]
