#!/usr/bin/env python3
"""Benchmark `finops oci import` against DuckDB reading the same files directly.

Summary: writes one month of OCI reports of one kind with tests/kits/ocigen.py (FOCUS reports
in ``FOCUS Reports/YYYY/MM/DD/``, or cost reports in ``reports/cost-csv/``: gzip CSV, a few
files a day, corrections included; one header for all files, since the baseline reads by
position), then, each in a child process of its own and into a fresh database file:

* direct: ``CREATE TABLE t AS SELECT * FROM read_csv([...the same files...])``
* import: the plugin's import (the months of the files (a cost report's from its rows, a
  read of its own), header names, types, gzip verification, bookkeeping, views, publish),
  the code path of ``finops oci import``, with its default settings (DuckDB memory_limit
  512MB) unless --memory-limit is given

and prints rows per second, the ratio import/direct and each child's peak RSS (benchmarks/
harness.py). This is a measurement, not a test: nothing fails when the numbers are bad.

Usage: .venv/bin/python benchmarks/oci_import.py [--kind focus|cost] [--rows 1000000]
       [--files 40] [--repeat 3] [--workdir DIR] [--memory-limit 2GB]
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))
import harness  # noqa: E402
from harness import compare, run_child  # noqa: E402

GENERATE = f"""
import datetime as dt, json, sys
sys.path.insert(0, {str(REPO / "tests" / "kits")!r})
import ocigen
root, kind, rows, files = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
bucket = ocigen.OciBucket(root, compresslevel=1, vary_columns=False)
per_file = rows // files
for number in range(files):
    day, part = divmod(number, 4)
    count = per_file + (rows - per_file * files if number == files - 1 else 0)
    if kind == "focus":
        bucket.focus_file(dt.date(2024, 3, 1 + day % 28), count, hour=1 + 5 * part)
    else:
        bucket.cost_file(dt.datetime(2024, 3, 1 + day % 28, 1 + 5 * part,
                                     tzinfo=dt.timezone.utc), count)
print(json.dumps({{"files": [str(p) for p in bucket.files]}}))
"""


def main(argv: list[str] | None = None) -> int:
    parser = harness.parser(__doc__)
    parser.add_argument("--kind", choices=("focus", "cost"), default="focus")
    parser.add_argument("--files", type=int, default=40)
    args = parser.parse_args(argv)

    with harness.workdir(args.workdir) as workdir:
        print(f"==> writing {args.rows:,} rows of {args.kind} reports in {args.files} gzip CSV "
              f"files under {workdir}", file=sys.stderr)
        started = time.perf_counter()
        bucket = workdir / "bucket"
        written = run_child(GENERATE, str(bucket), args.kind, str(args.rows), str(args.files))
        print(f"==> written in {time.perf_counter() - started:.1f}s", file=sys.stderr)
        report = compare(workdir, args.rows, args.repeat, "read_csv", written["files"],
                         harness.importer("oci", "import_reports", str(bucket), args.kind,
                                          args.memory_limit))
        report.update(format="csv.gz", export=f"OCI {args.kind} reports")
        print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
