"""The build under ``spark-submit``: ``spark-submit [--master ...] $(python -m
open_finops.spark.submit --path) VENDOR --source ... --export-name ... --lake ...``, the
same options as ``finops spark import``. The executors need open-finops-spark (and the
vendor's distribution) installed in their Python."""
from __future__ import annotations

import argparse
import sys

from open_finops.core.errors import FinopsError


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["--path"]:
        print(__file__)
        return 0
    from open_finops.spark import build, session
    from open_finops.spark.plugin import register

    parser = argparse.ArgumentParser(prog="open_finops.spark.submit")
    register(parser)
    args = parser.parse_args(["import", *argv])
    from pyspark.sql import SparkSession

    spark = session.prepared(SparkSession.builder.getOrCreate())
    try:
        build.build(lambda: spark, args.vendor, args.source, args.export_names or [], args.lake,
                    kind=args.kind or "auto", start=args.month or args.start,
                    end=args.month or args.end)
    except FinopsError as exc:
        print(f"open_finops.spark: error: {exc}", file=sys.stderr)
        return exc.exit_code
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
