"""Errors a user can fix: the CLI prints them as one line, without a traceback."""
from __future__ import annotations

import re


class FinopsError(Exception):
    """An expected failure; ``str(error)`` is one line for people.

    Raise it from a command handler to end with ``finops: error: <message>`` on stderr and
    ``exit_code`` (1 for a failure, 2 for a usage error)."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class UsageError(FinopsError):
    """A wrong option value (exit code 2, like argparse); a vendor's usage error is also its
    own error class (``class UsageError(AwsError, core.errors.UsageError)``)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, 2)


def one_line(text: object) -> str:
    """The first non-empty line of a (library) message."""
    for line in str(text).splitlines():
        if line.strip():
            return line.strip()
    return str(text).strip() or "unknown error"


_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def check_month(value: str | None, option: str,
                error: type[FinopsError] = FinopsError) -> str | None:
    """``value`` as YYYY-MM, or ``error`` (a vendor's usage error) naming the option; None and
    "" pass through as None."""
    if value is None or value == "":
        return None
    value = str(value).strip()
    if not _MONTH.match(value):
        raise error(f"{option}: expected a month as YYYY-MM, got {value!r}")
    return value
