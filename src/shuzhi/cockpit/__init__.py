"""Leadership cockpit (驾驶舱): the three daily questions, application scenarios, indicators."""

# The public surface: the modules other packages may import.
__all__ = ["schemas", "service", "texts"]
