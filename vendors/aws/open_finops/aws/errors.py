"""Errors for people: ``str(error)`` is one line naming what went wrong and where."""
from __future__ import annotations

from open_finops.core import errors as core_errors
from open_finops.core.errors import FinopsError, one_line

__all__ = ["AwsError", "UsageError", "check_month", "one_line"]


class AwsError(FinopsError):
    """A failure the user can act on: core's CLI prints ``finops: error: <message>`` and
    exits with ``exit_code`` (1)."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message, exit_code)


class UsageError(AwsError):
    """A wrong option value (exit code 2, like argparse)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, 2)


def check_month(value: str | None, option: str) -> str | None:
    """``value`` as YYYY-MM, or a UsageError naming the option (None passes through)."""
    return core_errors.check_month(value, option, UsageError)
