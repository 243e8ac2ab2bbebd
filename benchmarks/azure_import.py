#!/usr/bin/env python3
"""Benchmark `finops azure import` against DuckDB reading the same files directly.

Summary: writes one month of a Microsoft Customer Agreement actual-cost export (gzip CSV in
partitions, the current delivery with manifest.json) with tests/kits/azuregen.py's
``million_rows``, then, each in a child process of its own and into a fresh database file:

* direct: ``CREATE TABLE t AS SELECT * FROM read_csv([...the same files...])``
* import: the plugin's import (manifest, column names, types, gzip verification,
  bookkeeping, views, publish), the code path of ``finops azure import``, with its
  default settings (DuckDB memory_limit 512MB) unless --memory-limit is given

and prints rows per second, the ratio import/direct and each child's peak RSS (benchmarks/
harness.py). This is a measurement, not a test: nothing fails when the numbers are bad.

Usage: .venv/bin/python benchmarks/azure_import.py [--rows 1000000] [--partitions 4]
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

GENERATE = f"""
import json, sys
sys.path.insert(0, {str(REPO / "tests" / "kits")!r})
import azuregen
root, rows, partitions = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
export = azuregen.million_rows(root, rows=rows, partitions=partitions)
files = [f"{{root}}/{{key}}" for period in export.periods.values()
         for key in period.runs[-1].files]
print(json.dumps({{"files": files, "export": export.name}}))
"""


def main(argv: list[str] | None = None) -> int:
    parser = harness.parser(__doc__)
    parser.add_argument("--partitions", type=int, default=4)
    args = parser.parse_args(argv)

    with harness.workdir(args.workdir) as workdir:
        print(f"==> writing {args.rows:,} rows in {args.partitions} gzip CSV partitions under "
              f"{workdir}", file=sys.stderr)
        started = time.perf_counter()
        container = workdir / "container"
        written = run_child(GENERATE, str(container), str(args.rows), str(args.partitions))
        print(f"==> written in {time.perf_counter() - started:.1f}s", file=sys.stderr)
        report = compare(workdir, args.rows, args.repeat, "read_csv", written["files"],
                         harness.importer("azure", "import_costs", str(container),
                                          written["export"], args.memory_limit))
        report.update(format="csv.gz", export="MCA actual")
        print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
