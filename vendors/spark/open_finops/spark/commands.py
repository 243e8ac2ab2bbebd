"""The handler of ``finops spark import``: options resolved by core's vocabulary (command
line > environment > config file > default), a Spark session (the running one, else a local
one it stops after), the build (open_finops.spark.build); messages on stderr."""
from __future__ import annotations

import argparse
from typing import Any

from open_finops.core.errors import UsageError
from open_finops.core.vocabulary import Options


def import_command(args: argparse.Namespace, config: Any) -> int:
    from open_finops.spark import build, session

    options = Options(config, args, "spark", UsageError)
    source = options.required("source")
    location = options.required("lake")
    if not args.export_names:
        raise UsageError("--export-name is required (repeat it for several exports)")
    start, end = options.months()
    kind = str(options.get("kind") or "auto")
    made: list[Any] = []

    def spark() -> Any:
        """The running session (a test's, a notebook's), else a local one this command
        stops."""
        session.require_pyspark()
        from pyspark.sql import SparkSession

        active = SparkSession.getActiveSession()
        if active is not None:
            return session.prepared(active)
        made.append(session.local(str(options.get("master") or "local[*]")))
        return made[-1]

    try:
        build.build(spark, args.vendor, source, list(args.export_names), location, kind=kind,
                    start=start, end=end)
    finally:
        for own in made:
            own.stop()
    return 0
