"""finops azure import-costs as a black box over the generator's exports (tests/kits/azuregen.py):
totals to the cent, runs chosen by time, bad input failing with one line and data intact."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

import azuregen
from finopskit import Run, finops_in


def azure(cwd: Path, db: Path, *args: str) -> Run:
    """`finops azure ARGS --database DB` from ``cwd``, in-process (finopskit's finops_in: the
    module's data is loaded once; a process each would cost a second per command)."""
    return finops_in(cwd, "azure", *args, "--database", str(db), code=None)


def totals(db: Path, export: str) -> dict[str, tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {p: (b, e, n) for p, b, e, n in con.execute(
            "SELECT x_BillingPeriod, round(sum(BilledCost), 2), round(sum(EffectiveCost), 2), "
            "count(*) FROM focus WHERE x_ExportName = ? GROUP BY ALL", [export]).fetchall()}
    finally:
        con.close()


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    root = tmp_path_factory.mktemp("azure")
    tree = azuregen.write_standard(root / "container")
    db = root / "finops.duckdb"
    for name in tree.exports:  # no --kind: the older exports' rows tell theirs
        proc = azure(root, db, "import", "--source", str(root / "container"),
                     "--export-name", name)
        assert proc.code == 0, proc.err
    return tree, db, root


def test_focus_exports_match_the_generator_to_the_cent(loaded):
    tree, db, _root = loaded
    for name, exp in tree.exports.items():
        if exp.kind != "focus":
            continue
        got = totals(db, name)
        for month, period in exp.periods.items():
            assert got[month][0] == float(azuregen.cents(period.billed)), (name, month)
            assert got[month][1] == float(azuregen.cents(period.effective)), (name, month)
            assert got[month][2] == period.rows


def test_actual_alone_bills_its_cost_and_amortized_gives_effective_cost(loaded):
    tree, db, _root = loaded
    actual = tree.exports["ea-actual-current"]  # its account has no amortized export
    for month, period in actual.periods.items():
        assert totals(db, "ea-actual-current")[month][0] == float(azuregen.cents(period.billed))
    amortized = tree.exports["mca-amortized"]
    for month, period in amortized.periods.items():
        assert totals(db, "mca-amortized")[month][1] == float(
            azuregen.cents(period.effective))


def test_a_second_import_skips_every_unchanged_period(loaded):
    _tree, db, root = loaded
    proc = azure(root, db, "import", "--source", str(root / "container"),
                 "--export-name", "focus-1.0r2")
    assert proc.code == 0 and "0 loaded, 2 up to date" in proc.err


def test_a_month_in_the_wrong_form_is_a_usage_error(loaded):
    _tree, db, root = loaded
    proc = azure(root, db, "summary", "--month", "2026-1")
    assert proc.code == 2 and proc.err.strip() == (
        "finops: error: --month: expected a month as YYYY-MM, got '2026-1'")


def test_a_manifest_naming_an_absent_blob_fails_and_keeps_the_data(loaded, tmp_path):
    tree, db, root = loaded
    copy = tmp_path / "db.duckdb"
    shutil.copyfile(db, copy)
    exp = tree.exports["focus-1.0r2"]
    before = totals(copy, "focus-1.0r2")
    source = tmp_path / "container"
    shutil.copytree(root / "container" / exp.folder, source / exp.folder)
    run_ = exp.periods["2026-01"].runs[-1]
    manifest = json.loads((source / run_.manifest).read_text())
    manifest["blobs"].append({"blobName": run_.files[0] + ".missing", "byteCount": 1})
    manifest["runInfo"]["submittedTime"] = "2027-01-01T00:00:00.0000000Z"
    (source / run_.manifest).write_text(json.dumps(manifest))
    proc = azure(tmp_path, copy, "import", "--source", str(source),
                 "--export-name", "focus-1.0r2")
    assert proc.code == 1
    errors = [line for line in proc.err.splitlines() if line.startswith("finops: error:")]
    assert len(errors) == 1 and "manifest.json lists 1 blob(s) that do not exist" in errors[0]
    assert totals(copy, "focus-1.0r2") == before


def test_a_truncated_gzip_fails_naming_the_file_and_keeps_the_data(loaded, tmp_path):
    tree, db, root = loaded
    copy = tmp_path / "db.duckdb"
    shutil.copyfile(db, copy)
    exp = tree.exports["focus-1.0"]
    before = totals(copy, "focus-1.0")
    source = tmp_path / "container"
    shutil.copytree(root / "container" / exp.folder, source / exp.folder)
    run_ = exp.periods["2026-01"].runs[-1]
    part = source / run_.files[0]
    part.write_bytes(part.read_bytes()[:-40])
    manifest = json.loads((source / run_.manifest).read_text())
    manifest["blobs"][0]["byteCount"] = part.stat().st_size  # the size agrees, the data not
    (source / run_.manifest).write_text(json.dumps(manifest))
    proc = azure(tmp_path, copy, "import", "--source", str(source),
                 "--export-name", "focus-1.0", "--force")
    assert proc.code == 1 and str(part) in proc.err and "gzip" in proc.err
    assert totals(copy, "focus-1.0") == before


def test_summary_by_resource_group(loaded):
    _tree, db, root = loaded
    proc = azure(root, db, "summary", "--by", "resource-group", "--month", "2026-02")
    assert proc.code == 0 and "RESOURCE_GROUP" in proc.out and "TOTAL" in proc.out
