"""Base libraries (基础库): population and legal-entity records fused from many departments."""

# The public surface: the modules other packages may import.
__all__ = ["normalize", "pushback_schemas", "pushback_texts", "schemas", "service", "texts"]
