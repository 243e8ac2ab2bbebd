#!/usr/bin/env python3
"""Benchmark `finops aws import` against DuckDB reading the same files directly.

Summary: writes one billing period of a legacy CUR (gzip CSV, ~90 columns or, with --shape
wide, ~160; several chunks, the layout AWS delivers) with tests/kits/curgen.py, then, each in a
child process of its own and into a fresh database file:

* direct: ``CREATE TABLE t AS SELECT * FROM read_csv([...the same files...])``
* import: the plugin's import (manifest, normalized names, types, gzip verification,
  bookkeeping, views), the code path of ``finops aws import``, with its default settings
  (DuckDB memory_limit 512MB) unless --memory-limit is given

and prints rows per second, the ratio import/direct and each child's peak RSS (from wait4).
This is a measurement, not a test: nothing fails when the numbers are bad.

Usage: .venv/bin/python benchmarks/aws_import.py [--rows 1000000] [--chunks 8]
       [--format csv|parquet] [--shape typical|wide] [--repeat 3] [--workdir DIR]
       [--memory-limit 2GB]
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

#: Product attribute columns added for --shape wide: about 160 columns in all.
WIDE_ATTRIBUTES = 70

GENERATE = f"""
import json, sys
sys.path.insert(0, {str(REPO / "tests" / "kits")!r})
import curgen
root, fmt, rows, chunks = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
attributes = int(sys.argv[5])
bucket = curgen.CurBucket(root)
delivery = bucket.legacy("bench", "2024-01", fmt=fmt, rows=rows, chunks=chunks,
                         attributes=attributes)
print(json.dumps({{"files": [str(p) for p in delivery.files], "source": str(bucket.source),
                  "columns": len(curgen.LEGACY_COLUMNS) + len(curgen.DEFAULT_TAGS) + attributes,
                  "rows": delivery.totals.rows}}))
"""


def main(argv: list[str] | None = None) -> int:
    parser = harness.parser(__doc__)
    parser.add_argument("--chunks", type=int, default=8)
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv")
    parser.add_argument("--shape", choices=("typical", "wide"), default="typical",
                        help="typical: ~90 columns; wide: ~160 (many product attributes)")
    args = parser.parse_args(argv)

    with harness.workdir(args.workdir) as workdir:
        print(f"==> writing {args.rows:,} line items in {args.chunks} {args.format} files "
              f"under {workdir}", file=sys.stderr)
        started = time.perf_counter()
        # In a child, so that this process stays small: a child's peak RSS includes what it
        # inherited at fork.
        written = run_child(GENERATE, str(workdir / "bucket"), args.format, str(args.rows),
                            str(args.chunks), str(WIDE_ATTRIBUTES if args.shape == "wide" else 0))
        size = sum(Path(p).stat().st_size for p in written["files"])
        print(f"==> written in {time.perf_counter() - started:.1f}s: {size / 1e6:.1f} MB, "
              f"{written['columns']} columns", file=sys.stderr)
        reader = "read_csv" if args.format == "csv" else "read_parquet"
        report = compare(workdir, args.rows, args.repeat, reader, written["files"],
                         harness.importer("aws", "import_cur", written["source"], "bench",
                                          args.memory_limit))
        report.update(format=args.format, shape=args.shape, columns=written["columns"])
        print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
