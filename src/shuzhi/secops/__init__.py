"""Security operations (数据安全运营): monitoring rules over the metered flows, alerts,
containment in one step, incidents and drills."""

# The public surface: the modules other packages may import.
__all__ = ["schemas", "service", "texts"]
