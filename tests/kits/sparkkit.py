"""One local Spark session (``local[2]``) for a test run's worker: pyspark in local mode on
the machine's Java (17 or 21), no UI, bound to 127.0.0.1, few shuffle partitions, UTC. A
session takes 12-14 s to start, so every Spark test shares it (keep them in few files:
``--dist loadfile`` gives each file to one worker, and each worker starts its own JVM).

Without Java or pyspark (not in the bootstrap lock: `make spark` installs it) the tests skip
saying why, or fail where both must be there (FINOPS_REQUIRE_SPARK=1: .ci/run sets it once it
has them)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from open_finops.core.errors import FinopsError


@pytest.fixture(scope="session")
def spark():
    from open_finops.spark import session

    problem = session.java_problem()
    if not problem:
        try:
            session.require_pyspark()  # its one line says what to install
        except FinopsError as exc:
            problem = f"{exc} (in this checkout: make spark)"
    if problem:
        if os.environ.get("FINOPS_REQUIRE_SPARK") == "1":
            pytest.fail(problem)
        pytest.skip(problem)
    logging = Path(session.__file__).with_name("log4j2.properties")
    spark = session.local("local[2]", {
        "spark.sql.shuffle.partitions": "2", "spark.default.parallelism": "2",
        # Short jobs: the JIT's first tier only, which starts the JVM and its jobs sooner.
        "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={logging} "
                                         "-XX:TieredStopAtLevel=1"})
    yield spark
    spark.stop()
