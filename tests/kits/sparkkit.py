"""One local Spark session (``local[2]``) for a test run's worker: pyspark in local mode on
the machine's Java (17 or 21), no UI, bound to 127.0.0.1, few shuffle partitions, UTC. A
session takes 12-14 s to start, so every Spark test shares it (keep them in few files:
``--dist loadfile`` gives each file to one worker, and each worker starts its own JVM).

Without Java the tests skip saying why, or fail where Java must be there
(FINOPS_REQUIRE_JAVA=1: .ci/run sets it once it has one)."""
from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session")
def spark():
    from open_finops.spark import session

    problem = session.java_problem()
    if problem:
        if os.environ.get("FINOPS_REQUIRE_JAVA") == "1":
            pytest.fail(problem)
        pytest.skip(problem)
    spark = session.local("local[2]", {"spark.sql.shuffle.partitions": "2",
                                       "spark.default.parallelism": "2"})
    yield spark
    spark.stop()
