"""Self-checks of the Azure export generator (tests/kits/azuregen.py): what it lays out is what a
container holds, and the totals it returns are those of the files, read back by DuckDB."""
from __future__ import annotations

import gzip
import json
import re
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

import azuregen


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> azuregen.Tree:
    return azuregen.write_standard(tmp_path_factory.mktemp("container"))


def _read(root: Path, keys, fmt: str) -> duckdb.DuckDBPyRelation:
    con = duckdb.connect()
    paths = [str(root / k) for k in keys]
    if fmt == "parquet":
        return con.read_parquet(paths)
    return con.read_csv(paths, all_varchar=True, header=True)


def _sum(rel, column: str) -> Decimal:
    value = rel.aggregate(f'sum(CAST("{column}" AS DECIMAL(38, 10)))').fetchone()[0]
    return Decimal(value or 0)


def test_every_current_run_has_a_manifest_listing_exactly_its_blobs(tree):
    runs = [run for exp in tree.exports.values() if exp.layout == "current"
            for per in exp.periods.values() for run in per.runs]
    assert runs
    for run in runs:
        manifest = json.loads((tree.root / run.manifest).read_text(encoding="utf-8"))
        folder = run.manifest.rsplit("/", 1)[0]
        on_disk = sorted(p.relative_to(tree.root).as_posix()
                         for p in (tree.root / folder).iterdir() if p.name != "manifest.json")
        blobs = manifest["blobs"]
        assert sorted(b["blobName"] for b in blobs) == on_disk == sorted(run.files)
        assert manifest["blobCount"] == len(blobs)
        for blob in blobs:
            assert blob["byteCount"] == (tree.root / blob["blobName"]).stat().st_size
            fmt = "parquet" if blob["blobName"].endswith(".parquet") else "csv"
            assert _read(tree.root, [blob["blobName"]], fmt).shape[0] == blob["dataRowCount"]
        assert manifest["byteCount"] == sum(b["byteCount"] for b in blobs)
        assert manifest["dataRowCount"] == run.rows
        assert manifest["runInfo"]["runId"] == folder.rsplit("/", 1)[1]


def test_part_files_are_what_their_names_say(tree):
    exp = tree.exports["mca-actual"]
    gz = exp.periods["2026-01"].newest.files[0]
    assert gz.endswith("/part_0_0001.csv.gz")
    assert gzip.decompress((tree.root / gz).read_bytes()).startswith(b"invoiceId,")
    pq = tree.exports["focus-1.2-preview"].periods["2026-01"].newest.files[1]
    assert pq.endswith("/part_1_0001.snappy.parquet")
    assert (tree.root / pq).read_bytes()[:4] == b"PAR1"


def test_dates_and_column_sets_per_agreement(tree):
    ea = tree.exports["ea-amortized"].periods["2026-01"].newest.files
    rel = _read(tree.root, ea, "csv")
    assert rel.columns == azuregen.EA_COLUMNS
    dates = {r[0] for r in rel.project('"Date"').fetchall()}
    assert dates and all(re.fullmatch(r"01/\d\d/2026", d) for d in dates)
    mca = tree.exports["mca-actual"].periods["2026-02"].newest.files
    rel = _read(tree.root, mca, "csv")
    assert rel.columns == azuregen.MCA_COLUMNS
    assert all(re.fullmatch(r"2026-02-\d\d", r[0]) for r in rel.project('"date"').fetchall())
    focus10 = tree.exports["focus-1.0"].periods["2026-01"].newest.files
    starts = _read(tree.root, focus10, "csv").project('"ChargePeriodStart"').fetchall()
    assert all(re.fullmatch(r"2026-01-\d\dT00:00Z", r[0]) for r in starts)


def test_totals_are_those_of_the_files(tree):
    for exp in tree.exports.values():
        fmt = "parquet" if exp.fmt == "parquet" else "csv"
        for per in exp.periods.values():
            rel = _read(tree.root, per.newest.files, fmt)
            assert rel.shape[0] == per.rows > 0, (exp.name, per.month)
            if exp.kind == "focus":
                assert azuregen.cents(_sum(rel, "BilledCost")) == azuregen.cents(per.billed)
                assert azuregen.cents(_sum(rel, "EffectiveCost")) == azuregen.cents(per.effective)
            else:
                cost = "CostInBillingCurrency" if exp.agreement == "EA" else "costInBillingCurrency"
                key = "billed" if exp.kind == "actual" else "effective"
                assert azuregen.cents(_sum(rel, cost)) == azuregen.cents(getattr(per, key))


def test_a_commitment_is_billed_in_actual_and_spread_in_amortized(tree):
    actual = tree.exports["ea-actual-current"].periods["2026-02"]
    pair_actual = tree.exports["mca-actual"].periods["2026-02"]
    pair_amortized = tree.exports["mca-amortized"].periods["2026-02"]
    # Monthly purchases equal what they cover plus what stayed unused: same month total.
    assert pair_actual.billed == pair_amortized.effective
    assert pair_actual.commitment_rows == 2 == actual.commitment_rows
    rel = _read(tree.root, pair_amortized.newest.files, "parquet")
    types = {r[0] for r in rel.project('"chargeType"').fetchall()}
    assert {"UnusedReservation", "UnusedSavingsPlan", "Usage", "Purchase"} == types
    # The January refund makes billed and effective differ in a FOCUS export.
    jan = tree.exports["focus-1.0r2"].periods["2026-01"]
    assert jan.effective - jan.billed == Decimal("25.50")


def test_a_restated_period_has_a_newer_run_whose_name_sorts_first(tree):
    current = tree.exports["focus-1.2-preview"].periods["2026-01"]
    old, new = current.runs
    assert new.submitted > old.submitted and new.run_id < old.run_id
    assert (new.rows, new.billed) != (old.rows, old.billed)
    older = tree.exports["ea actual ü #1+%"].periods["2026-01"]
    old, new = older.runs
    assert old.manifest is None and new.mtime > old.mtime and new.files[0] < old.files[0]
    assert (tree.root / new.files[0]).stat().st_mtime == new.mtime


def test_million_rows_helper_writes_a_gzip_csv_export_with_its_totals(tmp_path):
    exp = azuregen.million_rows(tmp_path, rows=2000, partitions=3)
    per = exp.periods["2026-03"]
    rel = _read(tmp_path, per.newest.files, "csv")
    assert rel.shape[0] == per.rows == 2000
    assert rel.columns == azuregen.MCA_COLUMNS
    assert azuregen.cents(_sum(rel, "costInBillingCurrency")) == azuregen.cents(per.billed)
    manifest = json.loads((tmp_path / per.newest.manifest).read_text(encoding="utf-8"))
    assert manifest["blobCount"] == 3 and manifest["dataRowCount"] == 2000
