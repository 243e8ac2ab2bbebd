"""Errors a user can fix: the CLI prints them as one line, without a traceback."""
from __future__ import annotations


class FinopsError(Exception):
    """An expected failure; ``str(error)`` is one line for people.

    Raise it from a command handler to end with ``finops: error: <message>`` on stderr and
    ``exit_code`` (1 for a failure, 2 for a usage error)."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code
