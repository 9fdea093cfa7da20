"""Data resource catalogue (政务数据资源目录) to the national metadata standard."""

# The public surface: the modules other packages may import.
__all__ = ["codes", "dcat", "schemas", "service", "texts"]
