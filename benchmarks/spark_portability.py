#!/usr/bin/env python3
"""Measure the other design of "one mapping, not two": would Spark SQL run the vendors' FOCUS
mappings as they are (portable SQL), or does DuckDB have to run them inside Spark tasks?

Summary: imports a small delivery of every kind (aws v1, v2, focus; azure actual, amortized,
focus) with the vendors' importers, then hands each kind's mapping (Mappings.sql, and
Mappings.focus_sql: held to core's rules) to a local Spark in ANSI mode with double-quoted
identifiers: its parser, then its analyser over a temporary view of the loaded table. Then
once more with TIMESTAMP WITH TIME ZONE spelled TIMESTAMP (what SQLGlot's transpiler does),
to show the next error. Prints whether Spark parsed and analysed each statement and the
first error. A measurement, not a test.

Usage: .venv/bin/python benchmarks/spark_portability.py
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests" / "kits"), str(REPO / "tests")]


def _attempt(spark, parser, sql: str) -> dict:
    """Whether Spark parses and analyses ``sql``, and its first error."""
    parsed = analysed = False
    error = ""
    try:
        parser.parsePlan(sql)
        parsed = True
        spark.sql(sql).schema
        analysed = True
    except Exception as exc:  # noqa: BLE001 (any of Spark's)
        error = re.sub(r"\s+", " ", str(exc))[:200]
    return {"parsed": parsed, "analysed": analysed, "error": error}


def main() -> int:
    import duckdb

    import azuregen
    from curgen import CurBucket
    from open_finops.aws.focus import MAPPINGS as AWS
    from open_finops.azure.focus import MAPPINGS as AZURE
    from open_finops.spark import session

    finops = str(Path(sys.executable).with_name("finops"))
    with tempfile.TemporaryDirectory(prefix="finops-portability-") as folder:
        root = Path(folder)
        db = root / "finops.duckdb"
        bucket = CurBucket(root / "bucket")
        bucket.legacy("v1", "2024-01", rows=50)
        bucket.cur2("v2", "2024-02", rows=50)
        bucket.focus_export("f", "2024-02", rows=50)
        for export in ("v1", "v2", "f"):
            subprocess.run([finops, "aws", "import", "--source", str(bucket.source),
                            "--export-name", export, "--database", str(db)], check=True,
                           capture_output=True)
        tree = azuregen.write_standard(root / "container")
        for name, exp in tree.exports.items():
            kind = [] if exp.layout == "current" else ["--kind", exp.kind]
            subprocess.run([finops, "azure", "import", "--source", str(root / "container"),
                            "--export-name", name, *kind, "--database", str(db)],
                           check=True, capture_output=True)
        con = duckdb.connect(str(db), read_only=True)
        statements = []
        for mappings, kind_column in ((AWS, "cur_version"), (AZURE, "kind")):
            schema = f"open_finops_{mappings.vendor}"
            seen = set()
            for kind, table in con.execute(f"SELECT {kind_column}, table_name FROM "
                                           f"{schema}.loaded WHERE table_name IS NOT NULL "
                                           "ORDER BY ALL").fetchall():
                if kind in seen:
                    continue
                seen.add(kind)
                arrow = con.execute(f'SELECT * FROM {schema}."{table}"').to_arrow_table()
                columns = {n: t for n, t, *_ in con.execute(
                    f'DESCRIBE {schema}."{table}"').fetchall()}
                statements.append((f"{mappings.vendor} {kind}", arrow,
                                   mappings.sql(kind, columns, "delivery")))
                statements.append((f"{mappings.vendor} {kind} + core's rules", arrow,
                                   mappings.focus_sql(kind, columns, "delivery")))
        con.close()
        # Portable SQL's best chance: ANSI mode (Spark 4's default) with "double-quoted"
        # identifiers, as DuckDB quotes them.
        spark = session.local("local[1]", {"spark.sql.ansi.enabled": "true",
                                           "spark.sql.ansi.doubleQuotedIdentifiers": "true"})
        try:
            parser = spark._jsparkSession.sessionState().sqlParser()
            results = []
            for name, arrow, sql in statements:
                spark.createDataFrame(arrow.to_pandas()).createOrReplaceTempView("delivery")
                results.append({"mapping": name, "characters": len(sql),
                                **_attempt(spark, parser, sql),
                                # What SQLGlot does to it: Spark's TIMESTAMP (an instant in
                                # the session's zone) for TIMESTAMPTZ. The next error shows.
                                "as_timestamp": _attempt(spark, parser, sql.replace(
                                    "TIMESTAMP WITH TIME ZONE", "TIMESTAMP"))})
        finally:
            spark.stop()
    for result in results:
        again = result["as_timestamp"]
        print(f"==> {result['mapping']}: parsed {result['parsed']}, analysed "
              f"{result['analysed']} {result['error'][:90]}; with TIMESTAMP: parsed "
              f"{again['parsed']}, analysed {again['analysed']} {again['error'][:120]}",
              file=sys.stderr)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
