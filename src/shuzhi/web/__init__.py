"""Console and API plumbing shared by every capability: sessions, CSRF, errors, templates."""

# The public surface: the modules other packages may import.
__all__ = ["deps", "forms", "i18n", "problems", "session", "templating"]
