"""`finops azure` through core's real command line (the `finops` fixture of
tests/kits/finopskit.py): bad runs at the source and a locked database failing with one line
while the data loaded before stays, --force, a newer run replacing its period, the options
from config.toml and OPEN_FINOPS_AZURE_*, the reporting tables, and the installed entry point
writing into a pipe that closes early. Exports come from tests/kits/azuregen.py, written once
for the module."""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from conftest import base_env
import azuregen
from finopskit import FINOPS, holding_lock

NEW_RUN_ID = "00000000-0000-4000-8000-00000000beef"
LOCKED = "finops: error: database {db} is locked by another process (PID {pid}); retry when " \
         "it has finished"


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict[str, azuregen.Export]:
    """The container: a FOCUS CSV export of two months with January restated, a FOCUS
    Parquet export, and an older EA actual export (whose kind the CSV does not say)."""
    root = tmp_path_factory.mktemp("container")
    exports = {
        "daily": azuregen.write_export(root, "daily", kind="focus", agreement="EA",
                                       months=("2026-01", "2026-02"), restate=("2026-01",)),
        "pq": azuregen.write_export(root, "pq", kind="focus", agreement="MCA", fmt="parquet",
                                    focus_version="1.2-preview", months=("2026-01",)),
        "old-ea": azuregen.write_export(root, "old-ea", kind="actual", agreement="EA",
                                        layout="older", months=("2026-01",)),
    }
    return {"root": root, **exports}


def options(source: Path, export: str = "daily") -> list[str]:
    return ["--source", str(source), "--export-name", export]


def totals(db: Path) -> dict[tuple[str, str], tuple[float, float, int]]:
    """(export, period) -> billed, effective (to the cent) and rows of Azure's focus rows."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {(x, p): (b, e, n) for x, p, b, e, n in con.execute(
            "SELECT x_ExportName, x_BillingPeriod, round(sum(BilledCost), 2), "
            "round(sum(EffectiveCost), 2), count(*) FROM focus "
            "WHERE ProviderName = 'Microsoft' GROUP BY ALL").fetchall()}
    finally:
        con.close()


def expected(export: azuregen.Export, month: str, run: int = -1) -> tuple[float, float, int]:
    written = export.periods[month].runs[run]
    return tuple(None if cost is None else float(azuregen.cents(cost))
                 for cost in (written.billed, written.effective)) + (written.rows,)


def table(text: str) -> list[list[str]]:
    """A rendered table as rows of cells (cells are separated by two or more spaces)."""
    return [re.split(r"\s{2,}", line.strip()) for line in text.strip().splitlines()
            if line.strip()]


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("finops: error:")]


def newer_run(source: Path, run: azuregen.Run, manifest: bool = True) -> list[Path]:
    """A copy of ``run`` under a new runId, written a day later: its data files, and its
    manifest (runId, submittedTime and blobNames made the new run's) unless not wanted."""
    old = (source / run.files[0]).parent
    new = old.with_name(NEW_RUN_ID)
    shutil.copytree(old, new)
    later = run.mtime + 86_400
    manifest_path = new / "manifest.json"
    if manifest:
        data = json.loads(manifest_path.read_text())
        stamp = dt.datetime.fromtimestamp(later, dt.timezone.utc)
        data["runInfo"].update(runId=NEW_RUN_ID,
                               submittedTime=f"{stamp:%Y-%m-%dT%H:%M:%S}.0000000Z")
        for blob in data["blobs"]:
            blob["blobName"] = blob["blobName"].replace(run.run_id, NEW_RUN_ID)
        manifest_path.write_text(json.dumps(data))
    else:
        manifest_path.unlink()
    for path in new.iterdir():
        os.utime(path, (later, later))
    return [new / Path(key).name for key in run.files]


def history(finops, month: str, export: str = "daily") -> list[list[str]]:
    """state's History rows of one period: export, period, kind, run, status, ..."""
    out = finops("azure", "state", "--month", month, "--export-name", export).out
    return table(out.split("History:")[1])[1:]


def test_a_run_without_its_manifest_fails_and_keeps_the_data(finops, generated, source, db):
    daily = generated["daily"]
    finops("azure", "import", *options(source))
    before = totals(db)
    assert before[("daily", "2026-01")] == expected(daily, "2026-01")
    files = newer_run(source, daily.periods["2026-01"].newest, manifest=False)
    run_ = finops("azure", "import", *options(source), code=1)
    assert error_lines(run_.err) == [
        f"finops: error: daily 2026-01: {files[0].parent}: data files but no manifest.json "
        "(a run still being written, or a copy without its manifest)"], run_.err
    assert "Traceback" not in run_.err
    assert totals(db) == before
    rows = history(finops, "2026-01")
    assert [row[4] for row in rows] == ["loaded", "failed"]
    assert NEW_RUN_ID in rows[1][3] and "no manifest.json" in rows[1][-1]


def test_a_parquet_blob_that_is_not_parquet_fails_naming_it(finops, generated, source, db):
    finops("azure", "import", *options(source, "pq"))
    before = totals(db)
    assert before == {("pq", "2026-01"): expected(generated["pq"], "2026-01")}
    files = newer_run(source, generated["pq"].periods["2026-01"].newest)
    files[0].write_bytes(b"PAR1 but not really a Parquet file")
    manifest = files[0].parent / "manifest.json"
    data = json.loads(manifest.read_text())
    data["blobs"][0]["byteCount"] = files[0].stat().st_size  # the size agrees, the data not
    manifest.write_text(json.dumps(data))
    run_ = finops("azure", "import", *options(source, "pq"), code=1)
    errors = error_lines(run_.err)
    assert len(errors) == 1 and "Traceback" not in run_.err, run_.err
    assert errors == [f"finops: error: pq 2026-01: {files[0]}: not a readable Parquet file (No "
                      "magic bytes found at end of file); export the period again, or copy the "
                      "blob again"]
    assert totals(db) == before
    rows = history(finops, "2026-01", "pq")
    assert [row[4] for row in rows] == ["loaded", "failed"] and str(files[0]) in rows[1][-1]


def test_a_locked_database(finops, generated, source, db):
    finops("azure", "import", *options(source))
    before = totals(db)
    with holding_lock(db) as pid:
        newer_run(source, generated["daily"].periods["2026-02"].newest)
        locked = LOCKED.format(db=db, pid=pid)
        run_ = finops("azure", "import", *options(source), code=1)
        assert error_lines(run_.err) == [locked] and "Traceback" not in run_.err, run_.err
        # state, summary and list read the copy the last import published.
        busy = (f"==> database {db} is locked by another process (PID {pid}): showing the "
                "state that the last import published")
        state = finops("azure", "state")
        assert state.err.strip() == busy
        assert [row[:2] for row in table(state.out.split("History:")[0])[2:]] == [
            ["daily", "2026-01"], ["daily", "2026-02"]]
        summary = finops("azure", "summary")
        assert summary.err == "" and table(summary.out)[-1][0] == "TOTAL"
        listing = finops("azure", "list", *options(source))
        rows = table(listing.out)
        assert rows[0][7] == "LOADED" and [row[7] for row in rows[1:]] == [
            "no", "yes", "yes", "no"]
        assert listing.err.strip() == busy
    assert totals(db) == before


def test_force_reloads_an_unchanged_period(finops, generated, source, db):
    finops("azure", "import", *options(source), "--start", "2026-02")
    before = totals(db)
    assert before == {("daily", "2026-02"): expected(generated["daily"], "2026-02")}
    again = finops("azure", "import", *options(source), "--start", "2026-02")
    assert "0 loaded, 1 up to date, 0 failed" in again.err
    forced = finops("azure", "import", *options(source), "--start", "2026-02", "--force")
    assert "1 loaded, 0 up to date, 0 failed" in forced.err
    assert totals(db) == before
    rows = history(finops, "2026-02")
    assert [row[4] for row in rows] == ["loaded", "loaded"] and rows[0][3] == rows[1][3]


def test_a_newer_run_replaces_its_period_only(finops, generated, source, db):
    daily = generated["daily"]
    january = daily.periods["2026-01"]
    later = source / january.runs[1].manifest
    held = source.parent / "held-back"
    shutil.move(later.parent, held)  # the source as it was before January was restated
    finops("azure", "import", *options(source))
    finops("azure", "import", *options(source, "pq"))
    first = totals(db)
    assert first[("daily", "2026-01")] == expected(daily, "2026-01", run=0)
    shutil.move(held, later.parent)
    run_ = finops("azure", "import", *options(source))
    assert "1 loaded, 1 up to date, 0 failed" in run_.err
    after = totals(db)
    assert after[("daily", "2026-01")] == expected(daily, "2026-01", run=1)
    assert after[("daily", "2026-01")] != first[("daily", "2026-01")]
    assert {k: v for k, v in after.items() if k != ("daily", "2026-01")} == {
        k: v for k, v in first.items() if k != ("daily", "2026-01")}
    loaded = table(finops("azure", "state", "--month", "2026-01", "--export-name",
                          "daily").out.split("History:")[0])
    assert loaded[2][4].startswith(january.runs[1].run_id + "@")
    con = duckdb.connect(str(db), read_only=True)
    try:  # the older run's table went with it: one table per export and period
        tables = con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = "
                             "'open_finops_azure' AND table_name LIKE 'c_%'").fetchone()[0]
    finally:
        con.close()
    assert tables == 3


def test_options_come_from_config_file_then_environment_then_command_line(
        finops, generated, source, workdir, monkeypatch):
    daily, old = generated["daily"], generated["old-ea"]
    (workdir / "config.toml").write_text(
        '[core]\ndatabase = "store/costs.duckdb"\n\n'
        f'[azure]\nsource = "{source}"\naccount_url = "https://file.blob.core.windows.net"\n'
        'export_name = "old-ea"\nkind = "actual"\nstart = "2026-01"\nend = "2026-01"\n'
        'force = false\nmonth = "2026-01"\nby = "region"\nmemory_limit = "300MB"\n')
    db = workdir / "store" / "costs.duckdb"
    run_ = finops("-v", "azure", "import")
    for key, value in (("source", str(source)), ("export_name", "old-ea"), ("kind", "actual"),
                       ("start", "2026-01"), ("end", "2026-01"), ("force", False),
                       ("memory_limit", "300MB"),
                       ("account_url", "https://file.blob.core.windows.net")):
        assert f"finops: {key} = {value!r} (from file)" in run_.err, (key, run_.err)
    assert "finops: DuckDB memory_limit = 286.1 MiB" in run_.err
    assert "old-ea 2026-01: loaded" in run_.err and db.is_file()
    billed, _effective, rows = totals(db)[("old-ea", "2026-01")]  # actual alone: billed
    assert (billed, rows) == (expected(old, "2026-01")[0], old.periods["2026-01"].rows)
    summary = table(finops("azure", "summary").out)  # by and month from the file
    assert summary[0][0] == "REGION" and summary[-1][2] == f"{expected(old, '2026-01')[0]:,.2f}"

    monkeypatch.setenv("OPEN_FINOPS_AZURE_EXPORT_NAME", "daily")
    monkeypatch.setenv("OPEN_FINOPS_AZURE_KIND", "auto")
    monkeypatch.setenv("OPEN_FINOPS_AZURE_END", "2026-02")
    monkeypatch.setenv("OPEN_FINOPS_AZURE_BY", "resource-group")
    # A range in the environment beats the month of the file (which says the same as the
    # file's range: a configuration of 0.3, where month was summary's, stays valid).
    run_ = finops("azure", "import")
    assert "daily 2026-01: loaded" in run_.err and "daily 2026-02: loaded" in run_.err
    monkeypatch.setenv("OPEN_FINOPS_AZURE_FORCE", "yes")
    assert "2 loaded, 0 up to date" in finops("azure", "import").err
    monkeypatch.delenv("OPEN_FINOPS_AZURE_FORCE")
    monkeypatch.setenv("OPEN_FINOPS_AZURE_MONTH", "2026-02")  # beats the file's range
    assert "0 loaded, 1 up to date" in finops("azure", "import").err
    summary = table(finops("azure", "summary").out)
    assert summary[0][0] == "RESOURCE_GROUP"
    assert summary[-1][2] == f"{expected(daily, '2026-02')[0]:,.2f}"
    state = table(finops("azure", "state").out.split("History:")[0])
    assert [row[:2] for row in state[2:]] == [["daily", "2026-02"]]

    # The command line wins; the database is core's (OPEN_FINOPS_DATABASE beats the file).
    run_ = finops("azure", "import", "--export-name", "pq", "--kind", "focus",
                  "--start", "2026-01", "--end", "2026-01", "--force",
                  "--database", "other.duckdb")
    assert "pq 2026-01: loaded" in run_.err and (workdir / "other.duckdb").is_file()
    monkeypatch.setenv("OPEN_FINOPS_DATABASE", str(workdir / "other.duckdb"))
    # export_name narrows summary and state, as in every vendor: daily (the environment)
    assert "no cost data for 2026-01" in finops("azure", "summary", "--month", "2026-01").err
    summary = table(finops("azure", "summary", "--month", "2026-01", "--by", "service",
                           "--export-name", "pq").out)
    assert summary[0][0] == "SERVICE"
    assert summary[-1][2] == f"{expected(generated['pq'], '2026-01')[0]:,.2f}"
    monkeypatch.setenv("OPEN_FINOPS_AZURE_KIND", "sideways")
    run_ = finops("azure", "import", code=2)
    assert run_.err.strip() == ("finops: error: --kind: expected one of auto, actual, "
                                "amortized, focus, got 'sideways'")


def test_list_exports_and_show_state_tables(finops, generated, source):
    daily = generated["daily"]
    january = daily.periods["2026-01"]
    finops("azure", "import", *options(source), "--end", "2026-01")
    rows = table(finops("azure", "list", *options(source)).out)
    assert rows[0] == ["BILLING_PERIOD", "LAYOUT", "KIND", "FORMAT", "RUN_ID", "FILES",
                       "LATEST", "LOADED", "PROBLEM"]
    assert rows[1:] == [
        ["2026-01", "current", "focus", "csv", january.runs[0].run_id, "1", "no", "no", "-"],
        ["2026-01", "current", "focus", "csv", january.runs[1].run_id, "1", "yes", "yes", "-"],
        ["2026-02", "current", "focus", "csv", daily.periods["2026-02"].newest.run_id, "1",
         "yes", "no", "-"]]
    loaded, past = finops("azure", "state").out.split("History:")
    loaded, past = table(loaded), table(past)
    assert loaded[:2] == [["Loaded:"], ["EXPORT", "BILLING_PERIOD", "KIND", "FORMAT", "RUN",
                                        "ROWS", "FILES", "LOADED_AT"]]
    assert loaded[2][:4] == ["daily", "2026-01", "focus", "csv"]
    assert loaded[2][4].startswith(january.runs[1].run_id + "@2026-02-01T07:34:00.")
    assert loaded[2][5:7] == [str(january.rows), "1"] and len(loaded) == 3
    assert past[0] == ["EXPORT", "BILLING_PERIOD", "KIND", "RUN", "STATUS", "ROWS", "FILES",
                       "STARTED", "FINISHED", "ERROR"]
    assert past[1][:7] == ["daily", "2026-01", "focus", loaded[2][4], "loaded",
                           str(january.rows), "1"]
    assert past[1][-1] == "-" and len(past) == 2


def test_installed_entry_point_into_a_pipe(finops, source, workdir, home):
    finops("azure", "import", *options(source))
    header = "SERVICE  CURRENCY  BILLED_COST  EFFECTIVE_COST  LINE_ITEMS"
    # head -1 leaves after the first line; head -n 0 before finops has written anything, so
    # that the write itself fails.
    for reader, wanted in (("head -1", [header]), ("head -n 0", [])):
        piped = subprocess.run(
            ["bash", "-o", "pipefail", "-c", f"'{FINOPS}' azure summary | {reader}"],
            cwd=workdir, env=base_env(home), stdin=subprocess.DEVNULL, capture_output=True,
            text=True, timeout=120)
        assert piped.returncode == 0, piped
        assert [re.sub(r"\s{2,}", "  ", line.strip()) for line in
                piped.stdout.splitlines()] == wanted, piped
        assert "Traceback" not in piped.stderr and "Error" not in piped.stderr, piped.stderr


def test_a_manifest_whose_blobs_are_not_objects_fails_its_period_only(finops, generated, source,
                                                                      db):
    finops("azure", "import", *options(source))
    before = totals(db)
    files = newer_run(source, generated["daily"].periods["2026-02"].newest)
    manifest = files[0].parent / "manifest.json"
    data = json.loads(manifest.read_text())
    data["blobs"] = [None]
    manifest.write_text(json.dumps(data))
    run_ = finops("azure", "import", *options(source), code=1)
    assert error_lines(run_.err) == [
        f"finops: error: daily 2026-02: {manifest}: not a valid export manifest (its blobs are "
        "not a list of objects)"] and "Traceback" not in run_.err, run_.err
    assert "0 loaded, 1 up to date, 1 failed" in run_.err  # January is untouched
    assert totals(db) == before


def test_an_export_name_without_runs_is_an_error(finops, source, db):
    (source / "reports").mkdir()
    (source / "reports" / "notes.txt").write_text("not an export\n")
    run_ = finops("azure", "import", *options(source, "reports"), code=1)
    assert error_lines(run_.err) == [
        f"finops: error: {source / 'reports'}: no runs of export 'reports' (expected folders "
        "reports/YYYYMMDD-YYYYMMDD/); check --export-name"], run_.err
    assert not db.exists() or totals(db) == {}


def test_a_sas_in_the_account_url_never_reaches_the_log(finops, monkeypatch):
    monkeypatch.setenv("OPEN_FINOPS_AZURE_ACCOUNT_URL",
                       "https://acct.blob.core.windows.net/?sv=2024&sig=S3CRET%2Bsig")
    run_ = finops("-v", "azure", "import", "--source", "az://costs/exports",
                  "--export-name", "daily", code=2)
    assert "account_url = 'https://acct.blob.core.windows.net' (from env)" in run_.err
    assert "carries a SAS token" in run_.err and "S3CRET" not in run_.err + run_.out


def test_a_bad_number_names_its_file_line_and_column(finops, generated, source, db):
    """The old-ea export's CSV (cost details, numbers cast by the load): DuckDB's typed
    reader names the file, the line and the column, not the staged copy."""
    finops("azure", "import", *options(source, "old-ea"), "--kind", "actual")
    before = totals(db)
    run = generated["old-ea"].periods["2026-01"].newest
    csv_file = source / run.files[0]
    lines = csv_file.read_text().splitlines()
    header = lines[0].split(",")
    costs = ("costinbillingcurrency", "cost", "pretaxcost")
    column = next(name for name in header if name.lower() in costs)
    cells = lines[3].split(",")
    cells[header.index(column)] = "12x5"
    lines[3] = ",".join(cells)
    csv_file.write_text("\n".join(lines) + "\n")
    later = run.mtime + 86_400
    os.utime(csv_file, (later, later))
    run_ = finops("azure", "import", *options(source, "old-ea"), "--kind", "actual", code=1)
    errors = error_lines(run_.err)
    assert len(errors) == 1 and str(csv_file) in errors[0], run_.err
    assert "Line: 4" in errors[0] or "line 4" in errors[0].lower(), errors[0]
    assert column in errors[0] and "12x5" in errors[0], errors[0]
    assert ".azure-staging" not in run_.err
    assert totals(db) == before


def test_a_mistyped_export_name_lists_the_exports_there(finops, source):
    run_ = finops("azure", "list", *options(source, "daly"), code=1)
    assert run_.err.strip() == (f"finops: error: no export 'daly' under {source}; exports "
                                "there: daily, old-ea, pq; did you mean 'daily'?")
    run_ = finops("azure", "import", *options(source, "zzz"), code=1)
    assert run_.err.strip().splitlines()[-1] == (
        f"finops: error: no export 'zzz' under {source}; exports there: daily, old-ea, pq")


def test_the_progress_line_of_a_run_that_cannot_load(finops, generated, source, db):
    files = newer_run(source, generated["daily"].periods["2026-01"].newest, manifest=False)
    run_ = finops("azure", "import", *options(source), "--month", "2026-01", code=1)
    assert f"==> daily 2026-01: loading {files[0].parent}\n" in run_.err
    assert "0 csv files" not in run_.err and NEW_RUN_ID + " (" not in run_.err


@pytest.mark.parametrize("old, new, extra", [
    ("import-costs", "import", ["--force"]),
    ("list-exports", "list", []),
    ("show-state", "state", ["--month", "2026-01"]),
])
def test_each_old_name_warns_and_does_the_same(finops, source, old, new, extra):
    finops("azure", "import", *options(source))
    argv = [*(options(source) if new != "state" else []), *extra]
    now, then = finops("azure", new, *argv), finops("azure", old, *argv)
    warning = (f"finops: warning: {old!r} is now {new!r}; the old name will be removed in a "
               "later release")
    assert then.err.splitlines()[0] == warning and warning not in now.err
    assert then.out == now.out  # import: none; list and state: the same tables
    assert then.code == now.code == 0
    bad = finops("azure", old, *argv[:4 if new != "state" else 0], "--month", "2026-13",
                 code=2)
    assert bad.err.splitlines()[0] == warning
    assert bad.err.splitlines()[1] == ("finops: error: --month: expected a month as YYYY-MM, "
                                       "got '2026-13'")


def test_month_is_start_and_end_and_not_both(finops, source):
    run_ = finops("azure", "import", *options(source), "--month", "2026-02")
    assert "daily 2026-02: loaded" in run_.err and "2026-01" not in run_.err
    run_ = finops("azure", "import", *options(source), "--month", "2026-02", "--start",
                  "2026-01", code=2)
    assert run_.err.strip() == ("finops: error: --month cannot be given with --start: "
                                "--month M is --start M --end M")
    for command in ("list", "state", "summary"):
        argv = options(source) if command == "list" else []
        run_ = finops("azure", command, *argv, "--month", "2026-01", "--end", "2026-02",
                      code=2)
        assert "--month cannot be given with --end" in run_.err
    rows = table(finops("azure", "list", *options(source), "--month", "2026-02").out)
    assert {row[0] for row in rows[1:]} == {"2026-02"}
    state = finops("azure", "state", "--start", "2026-02", "--end", "2026-02").out
    assert [row[:2] for row in table(state.split("History:")[0])[2:]] == [["daily", "2026-02"]]
