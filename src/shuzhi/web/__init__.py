"""Console and API plumbing shared by every capability: sessions, CSRF, errors, templates,
and the security headers every response carries."""

# The public surface: the modules other packages may import.
__all__ = ["deps", "forms", "headers", "i18n", "problems", "session", "templating"]
