#!/usr/bin/env python3
"""Benchmark `finops azure import-costs` against DuckDB reading the same files directly.

Summary: writes one month of a Microsoft Customer Agreement actual-cost export (gzip CSV in
partitions, the current delivery with manifest.json) with tests/azuregen.py's
``million_rows``, then, each in a child process of its own and into a fresh database file:

* direct: ``CREATE TABLE t AS SELECT * FROM read_csv([...the same files...])``
* import: the plugin's import (manifest, column names, types, gzip verification,
  bookkeeping, views, publish), the code path of ``finops azure import-costs``, with its
  default settings (DuckDB memory_limit 512MB) unless --memory-limit is given

and prints rows per second, the ratio import/direct and each child's peak RSS (benchmarks/
harness.py). This is a measurement, not a test: nothing fails when the numbers are bad.

Usage: .venv/bin/python benchmarks/azure_import.py [--rows 1000000] [--partitions 4]
       [--repeat 3] [--workdir DIR] [--memory-limit 2GB]
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))
from harness import compare, run_child  # noqa: E402

GENERATE = f"""
import json, sys
sys.path.insert(0, {str(REPO / "tests")!r})
import azuregen
root, rows, partitions = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
export = azuregen.million_rows(root, rows=rows, partitions=partitions)
files = [f"{{root}}/{{key}}" for period in export.periods.values()
         for key in period.runs[-1].files]
print(json.dumps({{"files": files, "export": export.name}}))
"""
IMPORT = """
import json, sys, time
from pathlib import Path
from open_finops.azure.loader import import_costs
from open_finops.azure.sources import open_source
database, source, export, memory_limit = sys.argv[1:5]
started = time.perf_counter()
results = import_costs(open_source(source), export, Path(database),
                       memory_limit=memory_limit or None, log=lambda message: None)
seconds = time.perf_counter() - started
assert all(r.status == "loaded" for r in results), results
print(json.dumps({"seconds": seconds, "rows": sum(r.rows for r in results)}))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, help="keep the files here (default: temp)")
    parser.add_argument("--memory-limit", default="", help="DuckDB memory_limit for the import")
    args = parser.parse_args(argv)

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="finops-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        print(f"==> writing {args.rows:,} rows in {args.partitions} gzip CSV partitions under "
              f"{workdir}", file=sys.stderr)
        started = time.perf_counter()
        container = workdir / "container"
        written = run_child(GENERATE, str(container), str(args.rows), str(args.partitions))
        print(f"==> written in {time.perf_counter() - started:.1f}s", file=sys.stderr)
        report = compare(
            workdir, args.rows, args.repeat, "read_csv", written["files"],
            lambda database: run_child(IMPORT, str(database), str(container),
                                       written["export"], args.memory_limit))
        report.update(format="csv.gz", export="MCA actual")
        print(json.dumps(report, indent=2))
        return 0
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
