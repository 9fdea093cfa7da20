"""Classification, grading and masking of dataset columns (pure logic, no storage)."""

# The public surface: the modules other packages may import.
__all__ = ["categories", "classifier", "disclosure", "grading", "masking"]
