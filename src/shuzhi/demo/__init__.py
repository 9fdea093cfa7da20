"""A deterministic demo district used by ``shuzhi demo`` and by the tests."""
