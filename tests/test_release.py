"""`make publish` against real pypiserver instances through REPOSITORY_URL/INDEX_URL: a
release in dependency order and a second run that uploads nothing, resuming after the index
died, parallel uploads, and the refusals that must leave the index untouched (other bytes
under our name, wrong or no credentials, no confirmation, bad settings, stale dists). What
the server stored is read from its own log. The git/tag/CHANGELOG refusals are in
test_preflight.py, `make stage` in test_stage.py."""
from __future__ import annotations

import json
import re

import pytest

from conftest import VERSION, run
from indexkit import MAKE, LocalIndex, Watch, ledger, ledger_files, publish, uploaded_names


def summary_where(repo) -> dict[str, str]:
    summary = json.loads((repo / "dist" / "pypi-summary.json").read_text())
    return {f["filename"]: f["where"] for f in summary["files"]}


def assert_dependency_order(stored: list[str]) -> None:
    """core, then the vendors and docker (in any order), then the meta-package."""
    layer = {"open_finops_core": 0, "open_finops_aws": 1, "open_finops_docker": 1,
             "open_finops_azure": 1, "open_finops": 2}
    layers = [layer[name.split("-")[0]] for name in stored]
    assert layers == sorted(layers), stored


def test_publish_then_again_then_to_a_dead_and_to_an_empty_index(built_copy, local_index):
    proc = publish(built_copy, local_index.env())
    assert proc.returncode == 0, proc.explain
    # Exactly the built bytes, nothing else, each sent once, in dependency order.
    assert local_index.files() == ledger_files(built_copy)
    assert sorted(local_index.stored()) == sorted(ledger_files(built_copy))
    assert_dependency_order(local_index.stored())
    records = ledger(built_copy)["uploads"][local_index.repository_url]
    assert {name: r["sha256"] for name, r in records.items()} == ledger_files(built_copy)
    assert {r["status"] for r in records.values()} == {"uploaded"}
    assert "open-finops[all] -> ok" in proc.stderr
    assert set(summary_where(built_copy).values()) == {"uploaded"}

    # The same target again: it checks and verifies everything, and uploads nothing.
    again = publish(built_copy, local_index.env())
    assert again.returncode == 0, again.explain
    assert uploaded_names(again.stderr) == []
    assert sorted(local_index.stored()) == sorted(ledger_files(built_copy))
    assert set(summary_where(built_copy).values()) == {"already there"}, again.stderr
    assert "open-finops[all] -> ok" in again.stderr

    # The ledger remembers those uploads; the summary must not: it says what the index served
    # in this run. With the index gone it served nothing...
    local_index.stop()
    gone = publish(built_copy, local_index.env(INDEX_GRACE="1"))
    assert gone.returncode != 0, gone.explain
    assert set(summary_where(built_copy).values()) == {
        "unknown: the index could not be reached"}, gone.stderr
    assert "already there" not in gone.stderr
    # ... and a fresh, empty index at the same URL gets (and is said to get) every file again.
    for path in local_index.packages.iterdir():
        path.unlink()
    local_index.start()
    fresh = publish(built_copy, local_index.env())
    assert fresh.returncode == 0, fresh.explain
    assert set(summary_where(built_copy).values()) == {"uploaded"}, fresh.stderr
    assert sorted(uploaded_names(fresh.stderr)) == sorted(ledger_files(built_copy))


def test_publish_resumes_after_the_index_died(built_copy, local_index):
    core = {n for n in ledger_files(built_copy) if n.startswith("open_finops_core-")}

    def core_uploaded():
        return core <= set(local_index.files())

    with Watch(core_uploaded, local_index.stop) as watch:
        first = publish(built_copy, local_index.env(UPLOAD_DEADLINE="3"))
    assert watch.fired, first.explain
    assert first.returncode != 0, first.explain
    assert re.search(r"cannot (reach|check)|gave up", first.stderr), first.explain
    assert "run the same target again" in first.stderr
    assert set(local_index.files()) < set(ledger_files(built_copy))

    local_index.start()  # same port, same package folder, same log
    second = publish(built_copy, local_index.env())
    assert second.returncode == 0, second.explain
    # The server stored every file exactly once over both runs: the built bytes.
    assert sorted(local_index.stored()) == sorted(ledger_files(built_copy)), local_index.log()
    names = uploaded_names(first.stderr) + uploaded_names(second.stderr)
    assert sorted(names) == sorted(ledger_files(built_copy)), (first.explain, second.explain)
    assert local_index.files() == ledger_files(built_copy)
    records = ledger(built_copy)["uploads"][local_index.repository_url]
    assert set(records) == set(ledger_files(built_copy))
    where = summary_where(built_copy)
    assert {where[n] for n in core} == {"already there"}, second.stderr
    assert {w for n, w in where.items() if n not in core} == {"uploaded"}, second.stderr


def test_other_bytes_under_our_name_refuse_everything(built_copy, local_index):
    squatted = f"open_finops_docker-{VERSION}-py3-none-any.whl"
    local_index.packages.mkdir(parents=True, exist_ok=True)
    (local_index.packages / squatted).write_bytes(b"not our wheel")
    before = local_index.files()
    proc = publish(built_copy, local_index.env())
    assert proc.returncode != 0, proc.explain
    assert squatted in proc.stderr and "bump the version" in proc.stderr, proc.explain
    assert "nothing was uploaded" in proc.stderr and "it resumes" not in proc.stderr
    assert local_index.files() == before
    assert uploaded_names(proc.stderr) == []


def test_wrong_password_is_a_clear_error_and_never_shown(built_copy, local_index):
    wrong = "wrong-" + local_index.password[::-1]
    proc = publish(built_copy, local_index.env(TWINE_PASSWORD=wrong))
    assert proc.returncode != 0, proc.explain
    assert "refused the credentials" in proc.stderr, proc.explain
    written = [p.read_text() for p in (built_copy / "dist").glob("*.json")]
    for secret in (wrong, local_index.password):
        assert secret not in proc.stdout + proc.stderr
        assert not any(secret in text for text in written)
    assert local_index.files() == {}


def test_no_credentials_is_a_clear_error(built_copy, local_index):
    env = local_index.env()
    del env["TWINE_PASSWORD"]
    proc = run([*MAKE, "upload"], cwd=built_copy, env=env)
    assert proc.returncode != 0, proc.explain
    assert "error: no credentials for " in proc.stderr, proc.explain
    assert "TWINE_USERNAME/TWINE_PASSWORD, ~/.pypirc or keyring" in proc.stderr
    assert local_index.files() == {}


def test_publish_without_credentials_refuses_before_building(built_copy, local_index):
    env = local_index.env(AUDIT="warn", CONFIRM="yes")
    del env["TWINE_PASSWORD"]
    for built in (built_copy / "dist").glob("*.json"):
        built.unlink()
    proc = run([*MAKE, "publish"], cwd=built_copy, env=env, timeout=120)
    assert proc.returncode != 0, proc.explain
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: no credentials for {local_index.repository_url}: set "
                      "TWINE_USERNAME=__token__ and TWINE_PASSWORD to an API token, or store it "
                      "in keyring; nothing was built or uploaded"], proc.explain
    assert "step " not in proc.stderr and not list((built_copy / "dist").glob("*.json"))
    assert local_index.files() == {}


def test_summary_after_the_confirmation_wait_failed(built_copy, local_index, tmp_path):
    """twine puts core's files up, but INDEX_URL (another, empty index here) never lists
    them: the barrier gives up, and the summary says they were sent and not yet listed,
    never "not uploaded" nor "uploaded"."""
    other = LocalIndex(tmp_path / "other", local_index.home).start()
    try:
        env = local_index.env(INDEX_URL=other.index_url, UPLOAD_DEADLINE="2")
        proc = publish(built_copy, env)
    finally:
        other.stop()
    assert proc.returncode != 0, proc.explain
    where = summary_where(built_copy)
    core = {n for n in ledger_files(built_copy) if n.startswith("open_finops_core-")}
    assert set(local_index.files()) == core
    assert {where[n] for n in core} == {"sent, not yet listed"}, proc.stderr
    assert {w for n, w in where.items() if n not in core} == {"not on the index"}, proc.stderr


def test_publish_without_a_terminal_needs_confirm(built_copy, local_index):
    env = {**local_index.env(), "AUDIT": "warn"}
    proc = run([*MAKE, "publish"], cwd=built_copy, env=env, timeout=120)
    assert proc.returncode != 0, proc.explain
    assert "CONFIRM=yes" in proc.stderr
    assert "step build" not in proc.stderr  # refused before any work
    assert local_index.files() == {}


@pytest.mark.parametrize("setting, says", [
    ({"VERSION": "9.9.9"}, "'make bump VERSION=9.9.9' first"),
    ({"AUDIT": "maybe"}, "AUDIT must be strict or warn"),
])
def test_bad_settings_are_refused_before_any_work(built_copy, local_index, setting, says):
    proc = run([*MAKE, "publish"], cwd=built_copy, timeout=120,
               env={**local_index.env(), "CONFIRM": "yes", **setting})
    assert proc.returncode != 0, proc.explain
    assert says in proc.stderr, proc.explain
    assert "step " not in proc.stderr
    assert local_index.files() == {}


def test_stale_dists_are_never_uploaded(built_copy, local_index):
    old = "0.0.1"
    wheel = next((built_copy / "core" / "dist").glob("*.whl"))
    stale = built_copy / "core" / "dist" / wheel.name.replace(VERSION, old)
    stale.write_bytes(wheel.read_bytes())
    (built_copy / "dist" / f"release-{old}.json").write_text(
        (built_copy / "dist" / f"release-{VERSION}.json").read_text().replace(VERSION, old))

    # The upload step alone refuses a dist directory holding files the ledger doesn't list.
    proc = run([*MAKE, "upload"], cwd=built_copy, env=local_index.env())
    assert proc.returncode != 0, proc.explain
    assert stale.name in proc.stderr
    assert local_index.files() == {}

    # A build removes the stale file; then only this version's files go up. In parallel
    # (aws and docker together), the layers still in order and every record in the ledger.
    run([*MAKE, "-s", "build"], cwd=built_copy, env=local_index.env(), check=True)
    assert not stale.exists()
    proc = run([*MAKE, "-j4", "upload"], cwd=built_copy, env=local_index.env())
    assert proc.returncode == 0, proc.explain
    assert not any(old in name for name in local_index.files())
    assert local_index.files() == ledger_files(built_copy)
    assert_dependency_order(local_index.stored())
    records = ledger(built_copy)["uploads"][local_index.repository_url]
    assert {n: r["sha256"] for n, r in records.items()} == ledger_files(built_copy)


def test_testpypi_fails_on_unaudited_dependencies_unless_audit_warn(built_copy, local_index):
    """Here no vulnerability data is reachable: every dependency is unaudited, and testpypi
    (like publish) refuses that before any upload; stage only warns (test_stage.py)."""
    env = {**local_index.env(), "EXTRA_INDEX_URL": local_index.index_url}
    proc = run([*MAKE, "testpypi"], cwd=built_copy, env=env, timeout=600)
    assert proc.returncode != 0, proc.explain
    assert "stopped at step audit" in proc.stderr and "could not be audited" in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "AUDIT=warn" in errors[0], proc.explain
    assert local_index.files() == {}
