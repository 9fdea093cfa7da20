"""Open data portal (数据开放): public catalogue, downloads, CKAN and DCAT interfaces."""

# The public surface: the modules other packages may import.
__all__ = ["schemas", "service", "texts"]
