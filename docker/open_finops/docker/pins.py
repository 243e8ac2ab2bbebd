"""The Metabase and MotherDuck DuckDB driver versions the deployment files pin, as a pair the
driver's makers released together.

Source: the driver's release 1.5.4.0 is "Metabase 62 + DuckDB 1.5.4" (its release notes,
github.com/motherduckdb/metabase_duckdb_driver/releases/tag/1.5.4.0), and the image matrix
the driver's repository publishes pairs it with Metabase 0.62.7 (docker/versions.json,
``{"metabase_version": "0.62.7", "driver_version": "1.5.4.0"}``). The next driver, 1.5.5.0,
is "Metabase 63 + DuckDB 1.5.5" and names no Metabase patch release; Metabase 0.63 with an
older driver fails to connect (the driver's issue #103).

compose.yaml and Dockerfile in templates/ carry these values literally (they are copied as
they are); tests/docker/test_docker_plugin.py and ``make check`` (releasekit contract) fail
when they differ from this module, or when the DuckDB the driver embeds (its version less the
build number) is not the reader of the DuckDB contract (open_finops.core.store.READER_DUCKDB).
"""
from __future__ import annotations

METABASE_VERSION = "0.62.7"
DUCKDB_DRIVER_VERSION = "1.5.4.0"
IMAGE = f"open-finops/metabase-duckdb:{METABASE_VERSION}-duckdb{DUCKDB_DRIVER_VERSION}"


def embedded_duckdb(driver_version: str = DUCKDB_DRIVER_VERSION) -> str:
    """The DuckDB release a driver build embeds: 1.5.4.0 -> 1.5.4."""
    return driver_version.rsplit(".", 1)[0]
