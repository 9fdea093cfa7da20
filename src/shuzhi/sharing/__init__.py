"""Sharing and exchange (共享交换): requests, decisions, grants, connected systems, gateway."""
