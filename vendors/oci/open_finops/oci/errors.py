"""Errors for people: ``str(error)`` is one line naming what went wrong and where."""
from __future__ import annotations

from open_finops.core import errors as core_errors
from open_finops.core.errors import FinopsError, one_line

__all__ = ["OciError", "UsageError", "one_line"]


class OciError(FinopsError):
    """A failure the user can act on: core's CLI prints ``finops: error: <message>`` and
    exits with ``exit_code`` (1 unless given)."""


class UsageError(OciError, core_errors.UsageError):
    """A wrong option value (exit code 2, like argparse)."""
