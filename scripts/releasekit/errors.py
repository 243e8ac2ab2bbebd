"""The toolkit's exceptions: ``__main__`` turns each into ``error:`` lines and an exit code."""
from __future__ import annotations


class Failure(Exception):
    """A failed check or tool (exit 1). The message names the problem and the fix; a message
    of several lines is several problems, one ``error:`` line each."""

    code = 1


class UsageError(Failure):
    """A bad argument or setting (exit 2)."""

    code = 2
