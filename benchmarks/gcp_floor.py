#!/usr/bin/env python3
"""What any gcp import must write, against the import benchmark's baseline (issue 20's 1.5x).

Summary: writes one month of a detailed usage cost table (as benchmarks/gcp_import.py does),
then times, alternating, each into a fresh database file closed (checkpointed) inside the
timing, in this one process:

* direct: ``CREATE TABLE AS SELECT * FROM read_parquet(...)`` at DuckDB's defaults (the
  baseline of gcp_import.py);
* the same read at the import's settings (memory_limit 512MB, preserve_insertion_order off,
  as core's importer sets them);
* the store's minimum: the delivered rows, then a table of their FOCUS rows mapped from them
  (open_finops.gcp.focus, the SQL the view and the readers' copy run);
* a table of FOCUS rows mapped while reading, the delivered rows not kept.

and prints the medians, each as a ratio to the baseline. No bookkeeping, views or copy for
readers: a floor under the real import. A measurement, not a test.

Usage: .venv/bin/python benchmarks/gcp_floor.py [--rows 1000000] [--partitions 4]
       [--repeat 3] [--workdir DIR]
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))
import gcp_import  # noqa: E402
import harness  # noqa: E402
from harness import run_child  # noqa: E402

IMPORT_SETTINGS = ("SET memory_limit = '512MB'", "SET preserve_insertion_order = false")


def main(argv: list[str] | None = None) -> int:
    import duckdb

    from open_finops.core.sql import literal
    from open_finops.gcp.focus import billing_sql

    parser = harness.parser(__doc__)
    parser.add_argument("--partitions", type=int, default=4)
    args = parser.parse_args(argv)
    with harness.workdir(args.workdir) as workdir:
        written = run_child(gcp_import.GENERATE, str(workdir / "bucket"), str(args.rows),
                            str(args.partitions))
        files = "[" + ", ".join(literal(f) for f in written["files"]) + "]"
        read = f"read_parquet({files}, binary_as_string = true)"
        delivered = f"(SELECT 'bench' AS export_name, '2026-01' AS billing_period, * FROM {read})"

        def fresh(settings: tuple[str, ...]):
            path = workdir / "floor.duckdb"
            for stale in (path, path.with_name(path.name + ".wal")):
                stale.unlink(missing_ok=True)
            con = duckdb.connect(str(path))
            for setting in settings:
                con.execute(setting)
            return con

        def mapped(con, relation: str) -> None:
            have = {row[0]: row[1] for row in con.execute(f"DESCRIBE {relation}").fetchall()}
            con.execute(f"CREATE TABLE focus_rows AS {billing_sql(have, relation)}")

        def direct(settings: tuple[str, ...]):
            def run(con) -> None:
                con.execute(f"CREATE TABLE t AS SELECT * FROM {read}")
            return settings, run

        def both(con) -> None:
            con.execute(f"CREATE TABLE delivered AS SELECT * FROM {delivered}")
            mapped(con, "delivered")

        def focus_only(con) -> None:
            con.execute(f"CREATE VIEW delivered AS SELECT * FROM {delivered}")
            mapped(con, "delivered")

        variants = {
            "direct read, DuckDB's defaults (the baseline)": direct(()),
            "direct read at the import's settings": direct(IMPORT_SETTINGS),
            "the delivered rows, then their FOCUS rows": (IMPORT_SETTINGS, both),
            "only FOCUS rows, mapped while reading": (IMPORT_SETTINGS, focus_only),
        }
        seconds: dict[str, list[float]] = {name: [] for name in variants}
        for attempt in range(args.repeat):
            for name, (settings, run) in variants.items():
                started = time.perf_counter()
                con = fresh(settings)
                run(con)
                con.close()
                seconds[name].append(time.perf_counter() - started)
                print(f"==> {name} #{attempt + 1}: {seconds[name][-1]:.2f}s", file=sys.stderr)
        base = statistics.median(seconds[next(iter(seconds))])
        print(f"{args.rows:,} rows, {args.partitions} Parquet files, median of {args.repeat}:")
        for name, runs in seconds.items():
            median = statistics.median(runs)
            print(f"  {name:48s} {median:6.2f}s  {median / base:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
