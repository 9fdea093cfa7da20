"""Data management capability assessment (数据管理能力评估, DCMM GB/T 36073 and local schemes):
models as data, rounds, platform evidence, cross-unit review, scores, gaps and plans."""

# The public surface: the modules other packages may import.
__all__ = ["schemas", "service", "texts"]
