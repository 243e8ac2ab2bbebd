"""The lake: a folder of Parquet files, one folder per billing period and provider, that any
Parquet reader reads (DuckDB, Trino, Spark, Metabase through DuckDB:
open_finops.core.reports.lake_sql), and that a rerun replaces a period of as a whole.

Layout under LOCATION::

    focus/billing_period=2024-01/provider=aws   (a link to the folder below)
    _runs/<run>/billing_period=2024-01/provider=aws/part-*.parquet

A build writes its rows into a folder of its own (``_runs/<run>``), where no reader looks;
only when Spark's job has succeeded is each period's link replaced by one to the new folder,
with a rename (atomic on a POSIX file system): a reader lists either the old files or the new
ones, never half of a period and never both. A build that fails or is killed leaves the links
as they were. The folders no link names are removed by later builds, once they are older
than the run before the last and were superseded more than :data:`GRACE` ago (a reader that
listed them may still be reading them).

Why not Delta or Iceberg: both need jars from Maven at run time (delta-spark's
configure_spark_with_delta_pip and Iceberg's runtime are ``spark.jars.packages``), which a
machine that reaches only PyPI cannot fetch, and DuckDB reads them only through extensions it
downloads too. Plain Parquet with an atomic switch per partition gives the two properties
asked of the lake (a period replaced whole, no half period seen) with no jar.
"""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from open_finops.core.errors import FinopsError
from open_finops.core.reports import LAKE_FILES

FOCUS = LAKE_FILES.split("/", 1)[0]
RUNS = "_runs"
#: The columns that partition the lake, beside the FOCUS ones (which the files keep).
PERIOD, PROVIDER = "billing_period", "provider"


def check(location: str) -> Path:
    """The lake's folder (created), or an error: the lake is a file system path."""
    if "://" in location and not location.startswith("file://"):
        raise FinopsError(f"--lake {location}: the lake is a folder (a local or mounted file "
                          "system: the switch of a period is a rename), not an object store")
    root = Path(location.removeprefix("file://")).expanduser().resolve()
    try:
        (root / FOCUS).mkdir(parents=True, exist_ok=True)
        (root / RUNS).mkdir(exist_ok=True)
    except OSError as exc:
        raise FinopsError(f"cannot create the lake {root}: {exc.strerror}") from None
    return root


def new_run(root: Path, vendor: str) -> Path:
    """A folder of its own for a build's files (not yet existing)."""
    return root / RUNS / f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{vendor}-{os.getpid()}"


def partition(period: str, provider: str) -> str:
    return f"{PERIOD}={period}/{PROVIDER}={provider}"


def switch(root: Path, run: Path, periods: list[str], provider: str) -> list[str]:
    """Point each period's folder of ``provider`` at what ``run`` wrote for it (or remove it
    where the run wrote no rows); returns the periods that have rows."""
    filled = []
    for period in periods:
        name = partition(period, provider)
        link = root / FOCUS / name
        link.parent.mkdir(parents=True, exist_ok=True)
        superseded = Path(os.path.realpath(link)) if link.is_symlink() else None
        if (run / name).is_dir():
            staged = run / f".link-{period}-{provider}"
            staged.symlink_to(os.path.relpath(run / name, link.parent))
            os.replace(staged, link)  # atomic: readers see the old folder or the new one
            filled.append(period)
        elif link.is_symlink():
            link.unlink()
        if superseded is not None and superseded.is_relative_to(root / RUNS):
            # Its clock starts now: sweep leaves it for GRACE to the readers that listed it.
            os.utime(root / RUNS / superseded.relative_to(root / RUNS).parts[0])
    return filled


#: How long a run no link names stays for the readers that listed its files before the
#: switch (a query that globbed the old files still opens them).
GRACE = 600


def sweep(root: Path, keep: int = 2, grace: float = GRACE) -> None:
    """Remove the runs no link points at, but the ``keep`` newest and those written or
    superseded less than ``grace`` seconds ago (readers may be in them)."""
    used = {Path(os.path.realpath(link)).relative_to(root / RUNS).parts[0]
            for link in (root / FOCUS).glob("*/*") if link.is_symlink()
            and Path(os.path.realpath(link)).is_relative_to(root / RUNS)}
    runs = sorted((p for p in (root / RUNS).iterdir() if p.is_dir()),
                  key=lambda p: p.stat().st_mtime)
    now = time.time()
    for old in runs[:-keep] if keep else runs:
        if old.name not in used and now - old.stat().st_mtime >= grace:
            shutil.rmtree(old, ignore_errors=True)
