"""Console and API plumbing shared by every capability: sessions, CSRF, errors, templates."""
