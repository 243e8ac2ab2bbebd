"""Errors for people: ``str(error)`` is one line naming what went wrong and where."""
from __future__ import annotations

import re

from open_finops.core.errors import FinopsError


class AwsError(FinopsError):
    """A failure the user can act on: core's CLI prints ``finops: error: <message>`` and
    exits with ``exit_code`` (1)."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message, exit_code)


class UsageError(AwsError):
    """A wrong option value (exit code 2, like argparse)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, 2)


_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def check_month(value: str | None, option: str) -> str | None:
    """``value`` as YYYY-MM, or a UsageError naming the option (None passes through)."""
    if value is None or value == "":
        return None
    value = str(value).strip()
    if not _MONTH.match(value):
        raise UsageError(f"{option}: expected a month as YYYY-MM, got {value!r}")
    return value


def one_line(text: object) -> str:
    """The first non-empty line of a (library) message."""
    for line in str(text).splitlines():
        if line.strip():
            return line.strip()
    return str(text).strip() or "unknown error"
