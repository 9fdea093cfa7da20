"""Quality control: rules per dataset, run on every load, scores and issues."""

# The public surface: the modules other packages may import.
__all__ = ["cross_source", "schemas", "service", "texts"]
