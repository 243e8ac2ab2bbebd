#!/usr/bin/env python3
"""Benchmark what publishing the copy Metabase reads costs, in time and disk.

Summary: writes one billing period of a legacy CUR (gzip CSV, ~90 columns) with
tests/kits/curgen.py, imports it once into a fresh database (``import_cur`` without its publish
step), then times, each ``--repeat`` times on that same database:

* copy: what open_finops.core.store.publish does for every working file the stack creates
  (``CHECKPOINT``, a byte copy, fsync, rename);
* rewrite: what it does for a working file a DuckDB 2.x created before the contract (``ATTACH``
  in the contract's storage version, ``COPY FROM DATABASE``, fsync, rename);
* copy+readers: the copy, then ``store.for_readers`` (``focus`` as a table, the views of the
  schema ``reports``): what publish does since release 0.4 (the copy alone was 0.3's);

and prints the seconds of each against the import's own (the baseline), and the sizes of the
working database and of the published copy (the disk the design adds; while it publishes, a
temporary second copy exists beside the first).

Then what a reader pays per query, in the copy of 0.3 (``focus`` the view over the vendors'
mappings: the baseline) and in the copy of 0.4 (``focus`` a table), side by side: the median
of ``--queries`` runs of ``SELECT count(*) FROM focus``, of a month-by-service group-by, of
``EXPLAIN`` of the count (planning alone) and of the report view ``spend_by_service``, each
on one read-only connection as Metabase holds it, in this DuckDB and in the reader's (Metabase
driver's) DuckDB when tests/kits/readerkit.py has made its virtualenv (.cache/). A measurement,
not a test.

Usage: .venv/bin/python benchmarks/publish.py [--rows 1000000] [--chunks 8] [--repeat 3]
       [--queries 20] [--workdir DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "kits"))

import curgen  # noqa: E402

from open_finops.aws import loader, store  # noqa: E402
from open_finops.aws.sources import open_source  # noqa: E402
from open_finops.core import store as core_store  # noqa: E402


def copy_for_readers(con, database: Path, staging: Path) -> None:
    core_store.copy_file(con, database, staging)
    core_store.for_readers(staging)


DESIGNS = {
    "copy": lambda con, database, staging: core_store.copy_file(con, database, staging),
    "rewrite": lambda con, database, staging: core_store.rewrite(con, staging),
    "copy+readers": copy_for_readers,
}
#: The queries a reader runs, by name.
QUERIES = {
    "count": "SELECT count(*) FROM focus",
    "EXPLAIN count": "EXPLAIN SELECT count(*) FROM focus",
    "month x service": "SELECT strftime(BillingPeriodStart, '%Y-%m') AS month, ServiceName, "
                       "sum(BilledCost), sum(EffectiveCost) FROM focus GROUP BY ALL",
    "reports.spend_by_service": "SELECT * FROM reports.spend_by_service",
}
# Run by a DuckDB (this one, or the reader's in its own virtualenv): the median milliseconds
# of each query on each file, one read-only connection per file.
TIMER = r"""
import json, statistics, sys, time, duckdb
files, queries, runs = json.loads(sys.argv[1]), json.loads(sys.argv[2]), int(sys.argv[3])
found = {"duckdb": duckdb.__version__}
for label, path in files.items():
    con = duckdb.connect(path, read_only=True, config={"old_implicit_casting": "true"})
    for name, sql in queries.items():
        try:
            con.execute(sql).fetchall()
        except duckdb.Error:
            continue  # (0.3's copy has no reports schema)
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            con.execute(sql).fetchall()
            times.append((time.perf_counter() - started) * 1000)
        found[f"{label}|{name}"] = statistics.median(times)
    con.close()
print(json.dumps(found))
"""


def by(design):
    """A publish that writes the copy with ``design``, then flushes and renames it."""

    def publish(con, database: Path) -> None:
        target = core_store.published_path(database)
        staging = target.with_name(f".{target.name}.bench.tmp")
        design(con, database, staging)
        with open(staging, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(staging, target)

    return publish


def timed(function, *args, **kwargs) -> float:
    started = time.perf_counter()
    function(*args, **kwargs)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--chunks", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--queries", type=int, default=20)
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args(argv)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="publish-bench-"))
    try:
        bucket = curgen.CurBucket(work / "bucket")
        bucket.legacy("bench", "2024-01", rows=args.rows, chunks=args.chunks)
        database = work / "data" / "finops.duckdb"
        publish = store.publish
        store.publish = lambda con, database: None  # the import alone, then each way apart
        try:
            seconds_import = timed(loader.import_cur, open_source(str(bucket.source)), "bench",
                                   database, log=lambda message: None)
        finally:
            store.publish = publish
        con = store.connect(database)
        try:
            rows = con.execute("SELECT count(*) FROM aws_cur").fetchone()[0]
            designs = {name: by(design) for name, design in DESIGNS.items()}
            seconds = {name: [] for name in designs}
            sizes = {}
            copies = {}
            for _ in range(args.repeat):
                for name, design in designs.items():
                    seconds[name].append(timed(design, con, database))
                    sizes[name] = core_store.published_path(database).stat().st_size
                    if name != "rewrite":
                        copies[name] = work / f"{name}.duckdb"
                        shutil.copyfile(core_store.published_path(database), copies[name])
            working_size = database.stat().st_size
        finally:
            con.close()
        print(f"rows: {rows:,}; import without publishing (the baseline):"
              f" {seconds_import:.1f} s; working database {working_size / 2**20:.0f} MiB")
        for name, times in seconds.items():
            median = statistics.median(times)
            print(f"publish by {name}: median {median:.2f} s of {args.repeat}"
                  f" ({', '.join(f'{t:.2f}' for t in times)}), {median / seconds_import:.3f}"
                  f" of the import; published copy {sizes[name] / 2**20:.0f} MiB")
        print("disk: the published copy beside the working database, and while publishing a"
              " temporary second copy")
        files = {"0.3 copy (focus a view)": str(copies["copy"]),
                 "0.4 copy (focus a table)": str(copies["copy+readers"])}
        readers = [sys.executable]
        readers += sorted(str(p) for p in (REPO / ".cache").glob("duckdb-reader-*/bin/python"))
        for python in readers:
            out = subprocess.run([python, "-c", TIMER, json.dumps(files), json.dumps(QUERIES),
                                  str(args.queries)], capture_output=True, text=True,
                                 check=True).stdout
            found = json.loads(out)
            print(f"reader DuckDB {found.pop('duckdb')}: median ms of {args.queries} runs,"
                  " 0.3's copy (the baseline) -> 0.4's")
            for name in QUERIES:
                before = found.get(f"{list(files)[0]}|{name}")
                after = found[f"{list(files)[1]}|{name}"]
                ratio = f", {after / before:.3f} of the baseline" if before else ""
                shown = f"{before:.2f}" if before is not None else "-"
                print(f"  {name}: {shown} -> {after:.2f}{ratio}")
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
