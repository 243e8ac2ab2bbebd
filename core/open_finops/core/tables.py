"""Plain text tables for the terminal: a header row, aligned columns, numbers on the right."""
from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal


def cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value and abs(value) < 0.005:  # not 0.00: two significant digits
            return format(Decimal(f"{value:.2g}"), "f")
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return " ".join(str(value).split())


def render(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """The table as text; columns whose values are all numbers are right-aligned."""
    rows = [list(row) for row in rows]
    numeric = [all(isinstance(row[i], (int, float)) and not isinstance(row[i], bool)
                   for row in rows if row[i] is not None) and any(row[i] is not None
                                                                  for row in rows)
               for i in range(len(headers))]
    text = [list(headers)] + [[cell(value) for value in row] for row in rows]
    widths = [max(len(line[i]) for line in text) for i in range(len(headers))]
    out = []
    for line in text:
        parts = [value.rjust(widths[i]) if numeric[i] else value.ljust(widths[i])
                 for i, value in enumerate(line)]
        out.append("  ".join(parts).rstrip())
    return "\n".join(out)


def emit(text: str) -> None:
    """Print ``text`` on stdout. A reader that stops early (``| head``) is not an error: the
    rest is dropped, and stdout then points at /dev/null so that Python's own flush at exit
    does not fail again."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
