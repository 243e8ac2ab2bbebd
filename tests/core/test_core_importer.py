"""open_finops.core.importer with a toy vendor that gives only its three things (discovery,
reading, mapping): what core does for every vendor, checked once here: periods chosen by
month, a loaded version skipped, a new version replacing its period in one transaction, a
broken file failing its period with the data before it left as it was and the failure
recorded, a column a later file brings, the bookkeeping, and the published copy."""
from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from open_finops.core import focus, importer, store
from open_finops.core.errors import FinopsError
from open_finops.core.ledger import Ledger
from open_finops.core.sources import LocalSource
from open_finops.core.sql import literal, quote


class ToyError(FinopsError):
    pass


class Toy:
    """A vendor of CSV files at ``<export>/<YYYY-MM>/v<N>/*.csv``, columns day, service and
    cost; its mapping is a FOCUS view of a few columns."""

    ledger = Ledger("toy", kind_column="kind", kind_header="KIND", version_column="version",
                    version_header="VERSION", table_prefix="t_",
                    first_import="import first", period_source="the folders",
                    error=ToyError, usage_error=ToyError)

    def locate(self, source, export_name):
        return source, None

    def discover(self, source, export_name, kind, listing):
        found: dict[tuple[str, str], list] = {}
        for key, obj in source.list(export_name).items():
            _export, period, version, _file = key.split("/")
            found.setdefault((period, version), []).append(obj)
        newest = {}
        for (period, version), objs in sorted(found.items(), key=lambda i: int(i[0][1][1:])):
            newest[period] = importer.Delivery(
                export_name, period, "toy", "csv", version,
                f"{source.describe()}/{export_name}/{period}/{version}",
                sorted(objs, key=lambda o: o.key), what="toy",
                shown_version=f"version {version}", label=f"version {version}")
        return dict(sorted(newest.items()))

    def read(self, con, delivery, table, batch, names):
        head, head_columns = importer.constants({"billing_period": delivery.period})
        for _obj, path in batch:
            header = con.execute(f"DESCRIBE SELECT * FROM read_csv({literal(str(path))}, "
                                 "header = true, all_varchar = true)").fetchall()
            columns = {name: "DOUBLE" if name == "cost" else "VARCHAR" for name, *_ in header}
            select = ", ".join(f"CAST({quote(n)} AS {t}) AS {quote(n)}" for n, t in
                               columns.items())
            table.add(f"SELECT {head}, {select} FROM read_csv({literal(str(path))}, "
                      "header = true, all_varchar = true)", {**head_columns, **columns},
                      None, [path])

    def finish(self, con, delivery, table):
        return delivery.kind, ""

    def refresh(self, con):
        tables = [name for (name,) in con.execute(
            f"SELECT table_name FROM {self.ledger.schema}.loaded "
            "WHERE table_name IS NOT NULL ORDER BY ALL").fetchall()]
        body = " UNION ALL BY NAME ".join(
            f"SELECT * FROM {self.ledger.schema}.{quote(t)}" for t in tables) or \
            "SELECT NULL AS billing_period, NULL AS cost, NULL AS service WHERE false"
        con.execute(f"CREATE OR REPLACE VIEW {self.ledger.schema}.focus AS SELECT "
                    "CAST(cost AS DOUBLE) AS BilledCost, CAST(cost AS DOUBLE) AS EffectiveCost,"
                    " service AS ServiceName, 'Toy' AS ProviderName, billing_period AS "
                    f"x_BillingPeriod FROM ({body})")
        focus.refresh(con)

    def prepare(self, con):
        pass


def write(root: Path, period: str, version: str, name: str, text: str) -> None:
    folder = root / "acme" / period / version
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)


@pytest.fixture
def toy(tmp_path):
    root = tmp_path / "source"
    write(root, "2026-01", "v1", "a.csv", "day,service,cost\n1,compute,1.5\n2,storage,2.0\n")
    write(root, "2026-02", "v1", "a.csv", "day,service,cost\n1,compute,10.0\n")
    database = tmp_path / "data" / "toy.duckdb"
    messages: list[str] = []

    def run(**options):
        return importer.run(Toy(), LocalSource(root), "acme", database, log=messages.append,
                            **options)
    return {"root": root, "db": database, "run": run, "log": messages}


def totals(db: Path, view: str = "focus") -> dict[str, float]:
    con = duckdb.connect(str(store.published_path(db)), read_only=True)
    try:
        return dict(con.execute(f"SELECT x_BillingPeriod, sum(BilledCost) FROM {view} "
                                "GROUP BY ALL").fetchall())
    finally:
        con.close()


def test_periods_load_once_and_the_published_copy_has_them(toy):
    results = toy["run"]()
    assert [(r.period, r.status, r.rows) for r in results] == [
        ("2026-01", "loaded", 2), ("2026-02", "loaded", 1)]
    assert totals(toy["db"]) == {"2026-01": 3.5, "2026-02": 10.0}
    again = toy["run"]()
    assert [r.status for r in again] == ["skipped", "skipped"]
    assert "acme 2026-01: version v1 already loaded (2 rows); skipped" in toy["log"]
    only = toy["run"](start="2026-02", end="2026-02", force=True)
    assert [(r.period, r.status) for r in only] == [("2026-02", "loaded")]


def test_a_new_version_replaces_its_period_and_may_bring_a_column(toy):
    toy["run"]()
    write(toy["root"], "2026-01", "v2", "a.csv", "day,service,cost\n1,compute,4.0\n")
    write(toy["root"], "2026-01", "v2", "b.csv", "day,service,cost,region\n3,db,1.0,eu\n")
    results = toy["run"]()
    assert [(r.period, r.status, r.version) for r in results] == [
        ("2026-01", "loaded", "v2"), ("2026-02", "skipped", "v1")]
    assert totals(toy["db"]) == {"2026-01": 5.0, "2026-02": 10.0}


def test_a_broken_file_fails_its_period_and_leaves_the_data_before(toy):
    toy["run"]()
    write(toy["root"], "2026-02", "v2", "a.csv", "day,service,cost\n1,compute,ten\n")
    results = toy["run"]()
    failed = [r for r in results if r.status == "failed"]
    assert [r.period for r in failed] == ["2026-02"]
    assert "a.csv" in failed[0].message and "ten" in failed[0].message
    assert totals(toy["db"]) == {"2026-01": 3.5, "2026-02": 10.0}  # v1 still there
    con = duckdb.connect(str(toy["db"]), read_only=True)
    try:
        history = con.execute("SELECT billing_period, version, status FROM "
                              "open_finops_toy.imports ORDER BY started").fetchall()
    finally:
        con.close()
    assert history[-1] == ("2026-02", "v2", "failed")


def test_a_month_without_data_names_what_there_is(toy):
    with pytest.raises(ToyError) as refused:
        toy["run"](start="2030-01")
    assert str(refused.value) == ("no billing period between 2030-01 and the last: the folders "
                                  "covers 2026-01..2026-02")
