"""The Spark session a build runs in: a local one for ``finops spark import`` (and the tests),
or the one ``spark-submit`` made, with the settings the lake needs either way.

Spark 4 runs on Java 17 and 21 (pyspark's own requirement); Java 8 and 11 are refused by
Spark itself. Nothing is downloaded when the session starts: no ``spark.jars.packages``
(Maven is not reached), only the jars pyspark ships.
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

from open_finops.core.errors import FinopsError

#: Set on every session a build uses, local or submitted: Parquet timestamps as INT64 micros
#: with isAdjustedToUTC=true (Spark's default INT96 reads as a local wall time in DuckDB),
#: UTC for every rendering of an instant, and no _SUCCESS marker among the lake's files.
LAKE_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs": "false",
    "spark.sql.parquet.compression.codec": "zstd",
}
#: A local session's own settings: no UI, bound to the loopback, few shuffle partitions (a
#: billing run's groups are accounts' periods, not millions of keys).
LOCAL_CONF = {
    "spark.ui.enabled": "false",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "4",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.execution.arrow.maxRecordsPerBatch": "100000",
}


def java_problem() -> str:
    """Why no local Spark can start here ("" when Java is found)."""
    home = os.environ.get("JAVA_HOME")
    if home and os.access(os.path.join(home, "bin", "java"), os.X_OK):
        return ""
    if shutil.which("java"):
        return ""
    return ("finops spark needs Java 17 or 21 for a local Spark (none found on PATH or in "
            "JAVA_HOME): install one, e.g. apt-get install openjdk-17-jre-headless")


def require_pyspark() -> None:
    """pyspark is the user's to install (a cluster has its own): without it, one line
    saying how to get it."""
    import importlib.util

    if importlib.util.find_spec("pyspark") is None:
        raise FinopsError("pyspark is not installed: pip install 'pyspark>=4.0,<5' "
                          "'pandas>=2.2,<3' for a local Spark (a cluster brings its own)")


def local(master: str = "local[*]", conf: dict[str, str] | None = None) -> Any:
    """A local Spark session (``master`` local[N]) with :data:`LAKE_CONF`; its workers run
    this Python."""
    problem = java_problem()
    if problem:
        raise FinopsError(problem)
    require_pyspark()
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    logging = Path(__file__).with_name("log4j2.properties")
    builder = SparkSession.builder.master(master).appName("open-finops-spark")
    java_options = {"spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={logging}"}
    for key, value in {**LOCAL_CONF, **LAKE_CONF, **java_options, **(conf or {})}.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def prepared(spark: Any) -> Any:
    """``spark`` (one spark-submit made, or a test's) with :data:`LAKE_CONF` set."""
    for key, value in LAKE_CONF.items():
        if not key.startswith("spark.hadoop."):
            spark.conf.set(key, value)
    spark.sparkContext._jsc.hadoopConfiguration().set(
        "mapreduce.fileoutputcommitter.marksuccessfuljobs", "false")
    return spark
