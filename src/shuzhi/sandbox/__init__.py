"""The data sandbox (数据沙箱, 可用不可见): aggregate questions over granted datasets,
answered inside the platform without releasing a row or a figure about fewer than k people."""

# The public surface: the modules other packages may import.
__all__ = ["monitoring", "privacy", "releases", "rules", "schemas", "service", "texts"]
