"""SQL text built from names and values: the one place that quotes them."""
from __future__ import annotations


def quote(identifier: str) -> str:
    """A SQL identifier, quoted."""
    return '"' + str(identifier).replace('"', '""') + '"'


def literal(value: object) -> str:
    """A SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"
