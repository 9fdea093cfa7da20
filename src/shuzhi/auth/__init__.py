"""Accounts, sessions, API keys and the permission rules."""
