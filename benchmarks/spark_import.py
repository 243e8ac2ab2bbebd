#!/usr/bin/env python3
"""Benchmark `finops spark import aws` (Spark local[1] and local[2]) against `finops aws
import` (DuckDB) on one CUR period.

Summary: writes one billing period of a legacy CUR (gzip CSV, ~90 columns, --chunks files, the
layout AWS delivers) with tests/kits/curgen.py, then runs, each as a command of its own:

* duckdb: `finops aws import` into a fresh database (its default memory_limit, 512MB);
* spark local[N]: `finops spark import aws --master local[N]` into a fresh lake (the JVM's
  start included; the build alone is shown too, from the command's own progress lines);
* direct: DuckDB's own ``read_csv`` of the same files counted (what reading costs at all).

and prints rows per second and the peak RSS of each command's whole process tree (the JVM and
Spark's Python workers included: /proc sampled every 0.1 s). This is a measurement, not a
test: nothing fails when the numbers are bad.

Usage: .venv/bin/python benchmarks/spark_import.py [--rows 2000000] [--chunks 8]
       [--masters local[1],local[2]] [--workdir DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))
import harness  # noqa: E402
from harness import run_child  # noqa: E402

FINOPS = str(Path(sys.executable).with_name("finops"))
GENERATE = f"""
import json, sys
sys.path.insert(0, {str(REPO / "tests" / "kits")!r})
import curgen
root, rows, chunks = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
bucket = curgen.CurBucket(root)
delivery = bucket.legacy("bench", "2024-01", rows=rows, chunks=chunks)
print(json.dumps({{"files": [str(p) for p in delivery.files], "source": str(bucket.source),
                  "rows": delivery.totals.rows}}))
"""
DIRECT = """
import json, sys, time, duckdb
files = json.loads(sys.argv[1])
started = time.perf_counter()
rows = duckdb.sql("SELECT count(*) FROM read_csv($files, all_varchar = true)",
                  params={"files": files}).fetchone()[0]
print(json.dumps({"seconds": time.perf_counter() - started, "rows": rows}))
"""


def tree_rss(root: int) -> int:
    """Bytes of resident memory of ``root`` and every process below it."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, parent = int(entry), int(fields[1])
        children.setdefault(parent, []).append(pid)
        rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += children.get(pid, [])
    return total


def measured(command: list[str]) -> dict:
    """Run ``command``: wall seconds, peak RSS of its process tree, its stderr."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True)
    peak, done = [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], tree_rss(proc.pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample)
    sampler.start()
    _out, err = proc.communicate()
    done.set()
    sampler.join()
    if proc.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{err}")
    return {"seconds": time.perf_counter() - started, "peak_rss_mb": peak[0] / 2**20,
            "stderr": err}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--chunks", type=int, default=8)
    parser.add_argument("--masters", default="local[1],local[2]")
    parser.add_argument("--workdir", type=Path, help="keep the files here (default: temp)")
    args = parser.parse_args(argv)
    with harness.workdir(args.workdir) as workdir:
        print(f"==> writing {args.rows:,} line items in {args.chunks} gzip CSV files",
              file=sys.stderr)
        written = run_child(GENERATE, str(workdir / "bucket"), str(args.rows),
                            str(args.chunks))
        rows = written["rows"]
        results = {}
        direct = run_child(DIRECT, json.dumps(written["files"]))
        results["direct read_csv"] = {"seconds": direct["seconds"],
                                      "peak_rss_mb": direct["peak_rss_mb"]}
        results["duckdb import"] = measured(
            [FINOPS, "aws", "import", "--source", written["source"], "--export-name", "bench",
             "--database", str(workdir / "bench.duckdb")])
        for master in args.masters.split(","):
            lake = workdir / f"lake-{master.strip('local[]')}"
            run = measured([FINOPS, "spark", "import", "aws", "--source", written["source"],
                            "--export-name", "bench", "--lake", str(lake), "--master", master])
            results[f"spark {master}"] = run
            build = re.search(r"built \d+ rows .* in ([\d.]+)s", run["stderr"])
            if build:  # the build alone, once the session is up
                results[f"spark {master} (build only)"] = {
                    "seconds": float(build.group(1)), "peak_rss_mb": run["peak_rss_mb"]}
        for name, result in results.items():
            result.pop("stderr", None)
            result["rows_per_second"] = round(rows / result["seconds"])
            print(f"==> {name}: {result['seconds']:.1f}s, {result['rows_per_second']:,} rows/s,"
                  f" peak RSS {result['peak_rss_mb']:.0f} MB (process tree)", file=sys.stderr)
        print(json.dumps({"rows": rows, "files": len(written["files"]), "cpus": os.cpu_count(),
                          "results": results}, indent=2, default=round))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
