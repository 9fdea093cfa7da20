"""Metadata storage: engine, sessions, base model and migrations."""

from shuzhi.db.base import Base, utcnow
from shuzhi.db.engine import Database

__all__ = ["Base", "Database", "utcnow"]
