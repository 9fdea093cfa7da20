"""A deterministic demo district used by ``shuzhi demo`` and by the tests."""

# The public surface: the modules other packages may import.
__all__ = ["district"]
