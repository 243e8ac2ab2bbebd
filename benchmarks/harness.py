"""What the import benchmarks share: a child process per measurement (its own peak RSS), and
the side-by-side runs of DuckDB's direct read against the plugin's import of the same files.
This is a measurement, not a test: nothing fails when the numbers are bad."""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

#: The baseline: DuckDB itself reading the files into a table of a fresh database.
DIRECT = """
import json, sys, time, duckdb
database, reader, files = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
con = duckdb.connect(database)
started = time.perf_counter()
con.execute(f"CREATE TABLE t AS SELECT * FROM {reader}(?)", [files])
rows = con.execute("SELECT count(*) FROM t").fetchone()[0]
con.close()
print(json.dumps({"seconds": time.perf_counter() - started, "rows": rows}))
"""

#: The plugin's import in a child: ``open_finops.<vendor>.loader.<function>`` (import_cur,
#: import_costs: the same signature) from a source into a fresh database, its defaults kept.
IMPORT = """
import json, sys, time
from pathlib import Path
from open_finops.{vendor}.loader import {function} as run_import
from open_finops.{vendor}.sources import open_source
database, source, export, memory_limit = sys.argv[1:5]
started = time.perf_counter()
results = run_import(open_source(source), export, Path(database),
                     memory_limit=memory_limit or None, log=lambda message: None)
seconds = time.perf_counter() - started
assert all(r.status == "loaded" for r in results), results
print(json.dumps({{"seconds": seconds, "rows": sum(r.rows for r in results)}}))
"""


def parser(doc: str) -> argparse.ArgumentParser:
    """The options every import benchmark has; a benchmark adds its own."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, help="keep the files here (default: temp)")
    parser.add_argument("--memory-limit", default="", help="DuckDB memory_limit for the import")
    return parser


@contextlib.contextmanager
def workdir(keep: Path | None) -> Iterator[Path]:
    """``keep`` (created), or a temporary folder removed afterwards."""
    folder = keep or Path(tempfile.mkdtemp(prefix="finops-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        yield folder
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)


def importer(vendor: str, function: str, source: str, export: str,
             memory_limit: str) -> Callable[[Path], dict]:
    """For :func:`compare`: the vendor's import of ``export`` at ``source`` into a database."""
    code = IMPORT.format(vendor=vendor, function=function)
    return lambda database: run_child(code, str(database), source, export, memory_limit)


def run_child(code: str, *argv: str) -> dict:
    """Run `code` in a fresh interpreter: its JSON result, wall time and the peak RSS of that
    process alone (os.wait4)."""
    started = time.perf_counter()
    out_file = tempfile.TemporaryFile(mode="w+")
    err_file = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen([sys.executable, "-c", code, *argv], stdout=out_file,
                            stderr=err_file, stdin=subprocess.DEVNULL, text=True)
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    out_file.seek(0)
    err_file.seek(0)
    if proc.returncode != 0:
        raise SystemExit(f"child failed ({proc.returncode}):\n{err_file.read()}")
    result = json.loads(out_file.read().strip().splitlines()[-1])
    result["wall"] = wall
    result["peak_rss_mb"] = usage.ru_maxrss / 1024  # KiB on Linux
    return result


def compare(workdir: Path, rows: int, repeat: int, reader: str, files: list[str],
            run_import: Callable[[Path], dict]) -> dict:
    """Alternate the direct read and ``run_import(database)`` ``repeat`` times, each into a
    fresh database file; the medians, rows per second, the ratio import/direct and each
    one's largest peak RSS."""
    runs: dict[str, list[dict]] = {"direct": [], "import": []}
    for attempt in range(repeat):
        for name in ("direct", "import"):
            database = workdir / f"{name}-{attempt}.duckdb"
            if name == "direct":
                result = run_child(DIRECT, str(database), reader, json.dumps(files))
            else:
                result = run_import(database)
            assert result["rows"] == rows, result
            runs[name].append(result)
            print(f"==> {name} #{attempt + 1}: {result['seconds']:.2f}s "
                  f"({rows / result['seconds']:,.0f} rows/s), wall "
                  f"{result['wall']:.2f}s, peak RSS {result['peak_rss_mb']:.0f} MB",
                  file=sys.stderr)
            database.unlink(missing_ok=True)
    direct = statistics.median(r["seconds"] for r in runs["direct"])
    imported = statistics.median(r["seconds"] for r in runs["import"])
    return {
        "rows": rows,
        "files": len(files),
        "megabytes": round(sum(Path(p).stat().st_size for p in files) / 1e6, 1),
        "direct_seconds": round(direct, 3),
        "import_seconds": round(imported, 3),
        "direct_rows_per_second": round(rows / direct),
        "import_rows_per_second": round(rows / imported),
        "ratio_import_to_direct": round(imported / direct, 3),
        "direct_peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs["direct"])),
        "import_peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs["import"])),
        "cpus": os.cpu_count(),
    }
