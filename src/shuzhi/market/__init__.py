"""The data market: authorised operation (授权运营), data products, the registration ledger."""

__all__ = ["books_schemas", "schemas", "service", "texts"]
