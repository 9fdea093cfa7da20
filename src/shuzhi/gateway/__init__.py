"""The sharing gateway: consumers' systems read granted data through it, masked, metered and
audited on every call."""
