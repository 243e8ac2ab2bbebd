"""What every vendor's importer shares: progress lines, the check of gzip files (DuckDB does
not check gzip checksums and stops quietly at a truncation that falls on a line end), and
DuckDB's errors as one line naming the user's file rather than its staged copy."""
from __future__ import annotations

import csv
import gzip
import re
import sys
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from open_finops.core.errors import FinopsError, one_line
from open_finops.core.sql import literal, quote

_CHUNK = 1 << 20


def plural(count: int, noun: str) -> str:
    """``1 csv file``, ``3 csv files``, ``1,281 rows``."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def log_to_stderr(message: str) -> None:
    print(f"==> {message}", file=sys.stderr, flush=True)


def precise(con: Any, probe: str | None) -> Exception | None:
    """The error of ``probe`` (run on a cursor of its own: the failed transaction cannot run
    anything), which names file, line, column and value where a cast names only the value."""
    import duckdb

    if probe is None:
        return None
    cursor = con.cursor()
    try:
        cursor.execute(probe)
    except duckdb.Error as exc:
        return exc
    finally:
        cursor.close()
    return None


def csv_probe(files: str, options: str, typed: dict[str, str]) -> str:
    """A probe for :func:`precise`: ``files`` read by DuckDB's CSV reader with ``options`` and
    the columns typed as in ``typed`` (name -> type; VARCHAR for those to leave alone), every
    typed one counted so that DuckDB converts them all."""
    spec = ", ".join(f"{literal(column)}: {literal(sql_type)}" for column, sql_type in
                     typed.items())
    counts = ", ".join(f"count({quote(column)})" for column, sql_type in typed.items()
                       if sql_type != "VARCHAR") or "count(*)"
    return f"SELECT {counts} FROM read_csv({files}, {options}, columns = {{{spec}}})"


def verify_gzip(path: Path, description: str, error: type[FinopsError] = FinopsError) -> None:
    """Decompress ``path`` to nowhere: checks every member's CRC and length and that the
    stream is complete. zlib releases the GIL, so this runs beside DuckDB's load."""
    decompressor = zlib.decompressobj(wbits=31)
    started = False
    try:
        with open(path, "rb") as handle:
            while True:
                data = handle.read(_CHUNK)
                if not data:
                    break
                while data:
                    if decompressor.eof:
                        if not data.strip(b"\0"):
                            break  # zero padding after the last member is allowed
                        decompressor = zlib.decompressobj(wbits=31)
                    started = True
                    decompressor.decompress(data, _CHUNK * 16)
                    data = (decompressor.unused_data if decompressor.eof
                            else decompressor.unconsumed_tail)
    except zlib.error as exc:
        raise error(f"{description}: corrupt gzip file ({exc})") from None
    except OSError as exc:
        raise error(f"{description}: cannot read ({exc.strerror})") from None
    if not started:
        raise error(f"{description}: empty file (not gzip)")
    if not decompressor.eof:
        raise error(f"{description}: corrupt gzip file (truncated)")


_FILE_LINE = re.compile(r"^\s*file = (.+?)\s*$", re.MULTILINE)
_DETAIL = ("Expected Number of Columns", "Could not convert", "Error when converting",
           "Conversion Error")


def explain(exc: Exception, names: dict[str, str], paths: Sequence[Path] = (),
            manifest: str = "") -> str:
    """DuckDB's (multi-line) error as one line naming the original file, not the staged
    copy. When DuckDB names no file: the file being loaded, if it was one (``paths``), else
    the manifest that lists the files."""
    text = str(exc)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    message = lines[0] if lines else type(exc).__name__
    detail = next((line for line in lines[1:] if line.startswith(_DETAIL)), "")
    if detail:
        message += f" ({detail})"
    match = _FILE_LINE.search(text)
    file = match.group(1) if match else ""
    for staged in sorted(names, key=len, reverse=True):
        message = message.replace(staged, names[staged])
        file = file.replace(staged, names[staged])
    if file and file not in message:
        message = f"{file}: {message}"
    if not any(original in message for original in names.values()):
        if len(paths) == 1:
            message = f"{names[str(paths[0])]}: {message}"
        elif manifest:
            some = f"one of {len(paths)} files" if paths else "the files"
            message += f" (loading {some} listed in {manifest})"
    return message


def csv_header(path: Path, description: str,
               error: type[FinopsError] = FinopsError) -> tuple[str, ...]:
    """The header row of a CSV file (gzip or plain), or ``error`` naming the file."""
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle), None)
    except (OSError, EOFError, zlib.error) as exc:
        raise error(f"{description}: corrupt gzip file ({one_line(exc)})") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise error(f"{description}: unreadable CSV header ({one_line(exc)})") from None
    if not header:
        raise error(f"{description}: empty file (no CSV header)")
    return tuple(header)
