"""Unexpected failures in the log without the data they quote.

Some libraries' error messages quote the data they failed on: DuckDB's conversion errors the
stored value, a database driver's errors a statement's parameters, Arrow's and Spark's the
values they could not read. ``log_unexpected`` logs a failure as ``logger.exception`` would —
its chain of causes, each with its traceback — but with the message of any error raised by
such a library replaced by the error's kind.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

# Libraries whose error messages quote the data they failed on.
QUOTING_LIBRARIES = frozenset({"duckdb", "pyarrow", "pyspark", "py4j", "sqlalchemy", "psycopg"})


def log_unexpected(logger: logging.Logger, err: BaseException, what: str, *args: Any) -> None:
    """Log an unexpected failure as ``logger.exception`` would, but with the message of any
    error in its chain raised by a library that quotes data withheld (``failure_text``)."""
    logger.error(what + "\n%s", *args, failure_text(err))


def failure_text(err: BaseException) -> str:
    """``err``'s chain of causes, each with its traceback, oldest first."""
    chain: list[BaseException] = []
    current: BaseException | None = err
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    parts: list[str] = []
    for n, e in enumerate(reversed(chain)):
        if n:
            parts.append("\nwhich led to:\n")
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_tb(e.__traceback__))
        parts.append(described(e) + "\n")
    return "".join(parts)


def described(err: BaseException) -> str:
    """``Kind: message`` of one error, the message withheld where a library that quotes
    data raised it (for a failure reported elsewhere than a log, too)."""
    kind = type(err)
    if kind.__module__.split(".")[0].lstrip("_") in QUOTING_LIBRARIES:
        name = f"{kind.__module__}.{kind.__qualname__}"
        return f"{name}: (message withheld: it may quote stored data)"
    return "".join(traceback.format_exception_only(err)).rstrip("\n")
