#!/usr/bin/env python3
"""Benchmark `finops gcp import` against DuckDB reading the same files directly.

Summary: writes one billing month of a detailed usage cost table (Parquet with BigQuery's
nested types, as EXPORT DATA writes it, in several files) with tests/kits/gcpgen.py, then,
each in a child process of its own and into a fresh database file:

* direct: ``CREATE TABLE t AS SELECT * FROM read_parquet([...the same files...])``
* import: the plugin's import (discovery, types kept, the invoice-month check,
  bookkeeping, views, publish), the code path of ``finops gcp import``, with its default
  settings (DuckDB memory_limit 512MB) unless --memory-limit is given

and prints rows per second, the ratio import/direct and each child's peak RSS (benchmarks/
harness.py). This is a measurement, not a test: nothing fails when the numbers are bad.

Usage: .venv/bin/python benchmarks/gcp_import.py [--rows 1000000] [--partitions 4]
       [--repeat 3] [--workdir DIR] [--memory-limit 2GB]
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

#: Distinct rows the generator makes; the month repeats them up to --rows.
BLOCK = 20_000
GENERATE = f"""
import json, sys
from pathlib import Path
sys.path.insert(0, {str(REPO / "tests" / "kits")!r})
import gcpgen
root, rows, files = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
table = gcpgen.table_name("detailed", gcpgen.ACCOUNTS[0])
block = min(rows, {BLOCK})
assert rows % block == 0, "--rows must be a multiple of {BLOCK:,} (or less)"
gcpgen.write_month(root, table, "2026-01", block, files=files, repeat=rows // block)
paths = sorted(str(p) for p in Path(root, table, "2026-01").iterdir())
print(json.dumps({{"files": paths, "export": table}}))
"""


def main(argv: list[str] | None = None) -> int:
    parser = harness.parser(__doc__)
    parser.add_argument("--partitions", type=int, default=4)
    args = parser.parse_args(argv)

    with harness.workdir(args.workdir) as workdir:
        print(f"==> writing {args.rows:,} rows in {args.partitions} Parquet files under "
              f"{workdir}", file=sys.stderr)
        started = time.perf_counter()
        bucket = workdir / "bucket"
        written = run_child(GENERATE, str(bucket), str(args.rows), str(args.partitions))
        print(f"==> written in {time.perf_counter() - started:.1f}s", file=sys.stderr)
        report = compare(workdir, args.rows, args.repeat, "read_parquet", written["files"],
                         harness.importer("gcp", "import_costs", str(bucket),
                                          written["export"], args.memory_limit))
        report.update(format="parquet", export="detailed usage cost")
        print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
