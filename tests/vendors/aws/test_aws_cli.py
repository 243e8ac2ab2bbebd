"""The `finops aws` command line: help, options from config.toml and OPEN_FINOPS_AWS_*
variables, the reporting commands, and one black-box run of the installed entry point."""
from __future__ import annotations

import re
import subprocess

import pytest

from conftest import base_env, run
from curgen import CurBucket
from finopskit import FINOPS
from open_finops.aws import store

COMMANDS = ["import", "list", "state", "summary"]


@pytest.fixture
def bucket(tmp_path) -> CurBucket:
    return CurBucket(tmp_path / "bucket", prefix="cur")


def table(text: str) -> list[list[str]]:
    """A rendered table as rows of cells (cells are separated by two or more spaces)."""
    return [re.split(r"\s{2,}", line.strip()) for line in text.strip().splitlines()
            if line.strip()]


def money(value: float) -> str:
    return f"{value:,.2f}"


def test_help_lists_exactly_the_commands_that_exist(finops):
    out = finops("aws", "--help").out
    listed = re.findall(r"^    (\S+)", out, re.MULTILINE)
    assert listed == COMMANDS
    for command in COMMANDS:
        assert f"usage: finops aws {command}" in finops("aws", command, "--help").out
    # `finops aws` alone shows the same help.
    assert re.findall(r"^    (\S+)", finops("aws").out, re.MULTILINE) == COMMANDS


def test_options_come_from_config_file_then_environment_then_command_line(
        finops, bucket, workdir, monkeypatch):
    jan = bucket.legacy("from-file", "2024-01", rows=50)
    feb = bucket.legacy("from-env", "2024-02", rows=60)
    cli = bucket.legacy("from-cli", "2024-03", rows=70)
    (workdir / "config.toml").write_text(
        f'[core]\ndatabase = "store/costs.duckdb"\n\n'
        f'[aws]\nsource = "{bucket.source}"\nexport_name = "from-file"\n'
        f'start = "2024-01"\n')
    run_ = finops("aws", "import")
    assert "from-file 2024-01: loaded 50 rows" in run_.err
    assert (workdir / "store" / "costs.duckdb").exists()

    monkeypatch.setenv("OPEN_FINOPS_AWS_EXPORT_NAME", "from-env")
    assert "from-env 2024-02: loaded 60 rows" in finops("aws", "import").err

    run_ = finops("aws", "import", "--export-name", "from-cli", "--start", "2024-03",
                  "--database", "other.duckdb")
    assert "from-cli 2024-03: loaded 70 rows" in run_.err
    assert (workdir / "other.duckdb").exists()
    assert "skipped" in finops("aws", "import").err
    monkeypatch.setenv("OPEN_FINOPS_AWS_FORCE", "yes")
    assert "from-env 2024-02: loaded 60 rows" in finops("aws", "import").err
    monkeypatch.delenv("OPEN_FINOPS_AWS_FORCE")

    # export_name from the environment also selects what state reports.
    state = table(finops("aws", "state").out.split("History:")[0])
    assert [row[:2] for row in state[2:]] == [["from-env", "2024-02"]]
    monkeypatch.delenv("OPEN_FINOPS_AWS_EXPORT_NAME")
    state = table(finops("aws", "state", "--export-name", "from-file").out)
    assert [row[:2] for row in state[2:3]] == [["from-file", "2024-01"]]
    summary = table(finops("aws", "summary", "--export-name", "from-file").out)
    assert summary[-1][:3] == ["TOTAL", "USD", money(jan.totals.unblended)]
    summary = table(finops("aws", "summary", "--export-name", "from-env").out)
    assert summary[-1][:3] == ["TOTAL", "USD", money(feb.totals.unblended)]

    # The database path is core's: OPEN_FINOPS_DATABASE beats the file.
    monkeypatch.setenv("OPEN_FINOPS_DATABASE", str(workdir / "other.duckdb"))
    run_ = finops("aws", "summary")  # export_name = "from-file" in the file selects nothing
    assert table(run_.out) == [["SERVICE", "CURRENCY", "BILLED_COST", "EFFECTIVE_COST",
                                "LINE_ITEMS"]]
    assert "no cost data" in run_.err
    summary = table(finops("aws", "summary", "--export-name", "from-cli").out)
    assert summary[-1][:3] == ["TOTAL", "USD", money(cli.totals.unblended)]


def test_a_required_option_missing_is_a_usage_error(finops, bucket):
    run_ = finops("aws", "import", "--export-name", "x", code=2)
    assert run_.err.strip() == ("finops: error: --source is required (or set source in [aws] "
                                "of config.toml, or OPEN_FINOPS_AWS_SOURCE)")
    run_ = finops("aws", "list", "--source", str(bucket.source), code=2)
    assert "--export-name is required" in run_.err


def test_bad_values_from_the_environment_are_usage_errors(finops, bucket, monkeypatch):
    bucket.legacy("acme", "2024-01")
    monkeypatch.setenv("OPEN_FINOPS_AWS_CUR_VERSION", "v3")
    run_ = finops("aws", "import", "--source", str(bucket.source), "--export-name", "acme",
                  code=2)
    assert run_.err.strip() == ("finops: error: --cur-version: expected one of auto, v1, v2, "
                                "focus, got 'v3'")
    monkeypatch.delenv("OPEN_FINOPS_AWS_CUR_VERSION")
    monkeypatch.setenv("OPEN_FINOPS_AWS_MONTH", "January")
    run_ = finops("aws", "summary", code=2)
    assert "--month: expected a month as YYYY-MM, got 'January'" in run_.err


def test_memory_limit_from_the_config_file_and_a_bad_one(finops, bucket, workdir, monkeypatch):
    jan = bucket.legacy("acme", "2024-01", rows=50)
    # Unless configured, 512MB: DuckDB's own default (80% of RAM) costs gigabytes of RSS.
    run_ = finops("-v", "aws", "import", "--source", str(bucket.source), "--export-name",
                  "acme")
    assert "finops: DuckDB memory_limit = 488.2 MiB" in run_.err
    (workdir / "config.toml").write_text(f'[aws]\nsource = "{bucket.source}"\n'
                                         f'export_name = "acme"\nmemory_limit = "300MB"\n'
                                         f'force = true\n')
    run_ = finops("-v", "aws", "import")
    assert "finops: memory_limit = '300MB' (from file)" in run_.err
    assert "finops: DuckDB memory_limit = 286.1 MiB" in run_.err  # what DuckDB made of it
    assert f"loaded {jan.totals.rows} rows" in run_.err

    monkeypatch.setenv("OPEN_FINOPS_AWS_MEMORY_LIMIT", "lots")
    run_ = finops("aws", "import", code=2)
    assert run_.err.strip().splitlines()[-1].startswith(
        "finops: error: memory_limit ([aws] in config.toml or OPEN_FINOPS_AWS_MEMORY_LIMIT): "
        "expected a size such as 4GB, got 'lots' (")


def test_verbose_shows_where_options_come_from_and_the_sql(finops, bucket, workdir,
                                                           monkeypatch):
    bucket.legacy("acme", "2024-01", rows=20)
    monkeypatch.setenv("OPEN_FINOPS_AWS_EXPORT_NAME", "acme")
    quiet = finops("aws", "import", "--source", str(bucket.source))
    assert not [line for line in quiet.err.splitlines() if not line.startswith("==> ")]
    verbose = finops("aws", "import", "--source", str(bucket.source), "--force", "-v")
    assert "finops: export_name = 'acme' (from env)" in verbose.err
    assert f"finops: source = '{bucket.source}' (from command line)" in verbose.err
    assert "finops: 2024-01: newest manifest " in verbose.err
    assert "CREATE TABLE" not in verbose.err
    debug = finops("-vv", "aws", "import", "--source", str(bucket.source), "--force")
    assert "finops: CREATE TABLE open_finops_aws." in debug.err
    assert debug.out == quiet.out == verbose.out == ""
    # Nor does a long import draw DuckDB's progress bar on stdout.
    con = store.connect(workdir / "data" / "finops.duckdb", read_only=True)
    try:
        assert con.execute("SELECT current_setting('enable_progress_bar')").fetchone() == (
            False,)
    finally:
        con.close()


def test_list_manifests_shows_versions_and_what_is_loaded(finops, bucket):
    old = bucket.legacy("acme", "2024-01", rows=40, chunks=2)
    feb = bucket.legacy("acme", "2024-02", rows=30, chunks=1)
    options = ["--source", str(bucket.source), "--export-name", "acme"]
    rows = table(finops("aws", "list", *options).out)
    assert rows[0] == ["BILLING_PERIOD", "CUR", "FORMAT", "VERSION_ID", "FILES", "LATEST",
                       "LOADED"]
    assert rows[1:] == [["2024-01", "legacy", "csv", old.version_id, "2", "yes", "no"],
                        ["2024-02", "legacy", "csv", feb.version_id, "1", "yes", "no"]]
    finops("aws", "import", *options)
    new = bucket.legacy("acme", "2024-01", rows=45, chunks=3, seed=2)
    rows = table(finops("aws", "list", *options).out)
    assert rows[1:] == [["2024-01", "legacy", "csv", old.version_id, "2", "no", "yes"],
                        ["2024-01", "legacy", "csv", new.version_id, "3", "yes", "no"],
                        ["2024-02", "legacy", "csv", feb.version_id, "1", "yes", "yes"]]
    rows = table(finops("aws", "list", *options, "--start", "2024-02").out)
    assert [row[0] for row in rows[1:]] == ["2024-02"]


def test_show_state_history_with_an_error(finops, bucket):
    first = bucket.cur2("exp", "2024-01", rows=40)
    options = ["--source", str(bucket.source), "--export-name", "exp"]
    finops("aws", "import", *options)
    broken = bucket.cur2("exp", "2024-01", rows=40, seed=3)
    broken.files[0].write_bytes(b"not parquet at all")
    finops("aws", "import", *options, code=1)
    out = finops("aws", "state", "--month", "2024-01").out
    loaded, history = out.split("History:")
    assert table(loaded)[2][:7] == ["exp", "2024-01", "2.0", "parquet", first.version_id,
                                    "40", "2"]
    rows = table(history)
    assert [row[:6] for row in rows[1:]] == [
        ["exp", "2024-01", first.version_id, "loaded", "40", "2"],
        ["exp", "2024-01", broken.version_id, "failed", "-", "2"]]
    assert str(broken.files[0]) in rows[2][-1]
    assert table(finops("aws", "state", "--month", "2023-01").out) == [
        ["Loaded:"], ["EXPORT", "BILLING_PERIOD", "CUR", "FORMAT", "VERSION_ID", "ROWS",
                      "FILES", "LOADED_AT"],
        ["History:"], ["EXPORT", "BILLING_PERIOD", "VERSION_ID", "STATUS", "ROWS", "FILES",
                       "STARTED", "FINISHED", "ERROR"]]


def test_reporting_commands_before_any_import(finops):
    run_ = finops("aws", "summary", code=1)
    assert "no database at" in run_.err and "finops aws import" in run_.err
    finops("aws", "state", code=1)


@pytest.mark.parametrize("by, attribute", [("service", "by_service"),
                                           ("account", "by_account"),
                                           ("region", "by_region")])
def test_summary_totals(finops, bucket, by, attribute):
    jan = bucket.legacy("acme", "2024-01", rows=300)
    feb = bucket.cur2("acme2", "2024-02", rows=200)
    finops("aws", "import", "--source", str(bucket.source), "--export-name", "acme")
    finops("aws", "import", "--source", str(bucket.source), "--export-name", "acme2")
    run_ = finops("aws", "summary", "--by", by, "--month", "2024-01")
    rows = table(run_.out)
    assert rows[0] == [by.upper(), "CURRENCY", "BILLED_COST", "EFFECTIVE_COST", "LINE_ITEMS"]
    wanted = getattr(jan.totals, attribute)
    assert {row[0]: row[2] for row in rows[1:-1]} == {k: money(v) for k, v in wanted.items()}
    assert rows[-1][:3] == ["TOTAL", "USD", money(jan.totals.unblended)]
    assert rows[-1][3:] == [money(jan.totals.effective), f"{jan.totals.rows:,}"]
    everything = table(finops("aws", "summary", "--by", by).out)
    assert everything[-1][2] == money(jan.totals.unblended + feb.totals.unblended)
    only = table(finops("aws", "summary", "--export-name", "acme2").out)
    assert only[-1][2] == money(feb.totals.unblended)


def test_installed_entry_point_black_box(tmp_path, home, bucket):
    """The console script, run as a user would: data on stdout, messages on stderr."""
    jan = bucket.legacy("acme", "2024-01", rows=80)
    env = base_env(home)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    options = ["--source", str(bucket.source), "--export-name", "acme"]
    imported = run([FINOPS, "aws", "import", *options], cwd=cwd, env=env, check=True,
                   timeout=120)
    assert imported.stdout == "" and "loaded 80 rows" in imported.stderr
    again = run([FINOPS, "aws", "import", *options], cwd=cwd, env=env, check=True,
                timeout=120)
    assert "skipped" in again.stderr
    summary = run([FINOPS, "aws", "summary"], cwd=cwd, env=env, check=True, timeout=120)
    assert table(summary.stdout)[-1][2] == money(jan.totals.unblended)
    # `finops aws summary | head -0`: the reader is gone before the table is written.
    reader_gone = subprocess.Popen([FINOPS, "aws", "summary", "--by", "account"], cwd=cwd,
                                   env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
    reader_gone.stdout.close()
    _out, err = reader_gone.communicate(timeout=120)
    assert reader_gone.returncode == 0 and "Traceback" not in err and "Error" not in err, err
    bad = run([FINOPS, "aws", "summary", "--month", "2024/01"], cwd=cwd, env=env, check=False,
              timeout=120)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.strip() == ("finops: error: --month: expected a month as YYYY-MM, "
                                  "got '2024/01'")


@pytest.mark.parametrize("old, new", [("import-cur", "import"), ("list-manifests", "list"),
                                      ("show-state", "state")])
def test_each_old_name_warns_and_does_the_same(finops, bucket, old, new):
    bucket.legacy("acme", "2024-01", rows=20)
    options = ["--source", str(bucket.source), "--export-name", "acme"]
    finops("aws", "import", *options)
    argv = options if new != "state" else ["--export-name", "acme"]
    now, then = finops("aws", new, *argv), finops("aws", old, *argv)
    warning = (f"finops: warning: {old!r} is now {new!r}; the old name will be removed in a "
               "later release")
    assert then.err.splitlines()[0] == warning and warning not in now.err
    assert then.out == now.out and then.err.splitlines()[1:] == now.err.splitlines()
    bad = finops("aws", old, *argv, "--start", "24-01", code=2)
    assert bad.err.splitlines() == [warning, "finops: error: --start: expected a month as "
                                             "YYYY-MM, got '24-01'"]


def test_billing_period_is_now_month(finops, bucket, workdir, monkeypatch):
    bucket.legacy("acme", "2024-01", rows=20)
    bucket.legacy("acme", "2024-02", rows=30)
    finops("aws", "import", "--source", str(bucket.source), "--export-name", "acme")
    month = finops("aws", "state", "--month", "2024-02")
    old = finops("aws", "show-state", "--billing-period", "2024-02")
    assert old.out == month.out
    assert old.err.splitlines() == [  # the option's when it is parsed, then the command's
        "finops: warning: '--billing-period' is now '--month'; the old name will be removed in "
        "a later release",
        "finops: warning: 'show-state' is now 'state'; the old name will be removed in a later "
        "release"]
    assert [row[:2] for row in table(month.out.split("History:")[0])[2:]] == [
        ["acme", "2024-02"]]
    # The key of release 0.3 in config.toml, and its variable, still select the month.
    (workdir / "config.toml").write_text('[aws]\nbilling_period = "2024-02"\n')
    from_file = finops("aws", "state")
    assert from_file.out == month.out
    assert from_file.err.strip() == ("finops: warning: 'billing_period of [aws]' is now "
                                     "'month'; the old name will be removed in a later release")
    (workdir / "config.toml").unlink()
    monkeypatch.setenv("OPEN_FINOPS_AWS_BILLING_PERIOD", "2024-02")
    assert finops("aws", "state").out == month.out
    monkeypatch.setenv("OPEN_FINOPS_AWS_MONTH", "2024-01")  # month wins over the old key
    assert "2024-02" not in finops("aws", "state").out.split("History:")[0]


def test_month_everywhere_and_not_with_a_range(finops, bucket, workdir):
    for month, rows in (("2024-01", 20), ("2024-02", 30), ("2024-03", 40)):
        bucket.legacy("acme", month, rows=rows)
    options = ["--source", str(bucket.source), "--export-name", "acme"]
    run_ = finops("aws", "import", *options, "--month", "2024-02")
    assert "2024-02: loaded 30 rows" in run_.err and "2024-01" not in run_.err
    assert [row[0] for row in table(finops("aws", "list", *options, "--month",
                                           "2024-03").out)[1:]] == ["2024-03"]
    finops("aws", "import", *options)
    for command in ("import", "list", "state", "summary"):
        argv = options if command in ("import", "list") else []
        run_ = finops("aws", command, *argv, "--month", "2024-01", "--start", "2024-01",
                      "--end", "2024-02", code=2)
        assert run_.err.strip() == ("finops: error: --month cannot be given with --start or "
                                    "--end: --month M is --start M --end M")
    state = finops("aws", "state", "--start", "2024-02").out.split("History:")[0]
    assert [row[1] for row in table(state)[2:]] == ["2024-02", "2024-03"]
    january = table(finops("aws", "summary", "--month", "2024-01").out)
    assert january[-1][4] == "20"
    both = table(finops("aws", "summary", "--start", "2024-01", "--end", "2024-02").out)
    assert both[-1][4] == "50"
    # A month on the command line beats a range in the file; in the file, month and a range
    # that disagree are refused.
    (workdir / "config.toml").write_text('[aws]\nstart = "2024-02"\nend = "2024-03"\n')
    assert table(finops("aws", "summary", "--month", "2024-01").out)[-1][4] == "20"
    (workdir / "config.toml").write_text('[aws]\nstart = "2024-02"\nmonth = "2024-03"\n')
    run_ = finops("aws", "summary", code=2)
    assert run_.err.strip() == ("finops: error: month = '2024-03' and start = '2024-02' "
                                "disagree (both from config.toml): set month for one billing "
                                "period, or start and end for several, in [aws]")
    (workdir / "config.toml").write_text('[aws]\nstart = "2024-03"\nmonth = "2024-03"\n')
    assert table(finops("aws", "summary").out)[-1][4] == "40"


def test_state_and_summary_read_the_published_copy_while_an_import_holds_the_database(
        finops, bucket, workdir):
    from finopskit import holding_lock

    bucket.legacy("acme", "2024-01", rows=20)
    db = workdir / "data" / "finops.duckdb"
    db.parent.mkdir()
    with holding_lock(db):
        run_ = finops("aws", "summary", code=1)
        assert run_.err.strip() == (f"finops: error: no published copy of {db} yet "
                                    "(finops.published.duckdb): load a report first with "
                                    "'finops aws import'")
    finops("aws", "import", "--source", str(bucket.source), "--export-name", "acme")
    with holding_lock(db):
        summary = finops("aws", "summary")
        assert table(summary.out)[-1][:2] == ["TOTAL", "USD"] and summary.err == ""
        state = finops("aws", "state")
        assert table(state.out)[2][:2] == ["acme", "2024-01"]
        assert "showing the state that the last import published" in state.err
