"""The data market: authorised operation (授权运营), data products, the registration ledger."""

__all__ = ["schemas", "service", "texts"]
