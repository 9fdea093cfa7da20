"""Classification, grading, masking and safe spreadsheet cells for dataset columns (pure logic,
no storage)."""

# The public surface: the modules other packages may import.
__all__ = [
    "categories",
    "cells",
    "classifier",
    "digests",
    "disclosure",
    "evidence",
    "grading",
    "masking",
    "minors",
]
