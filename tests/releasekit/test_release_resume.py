"""`make publish` interrupted and run again against real pypiserver instances: resuming
after the index died without a second upload of any file, the summary after the barrier gave
up, and stale dists that never go up (parallel uploads, the layers still in order)."""
from __future__ import annotations

import re

from conftest import VERSION, run
from indexkit import (
    LocalIndex, MAKE, Watch, assert_dependency_order, ledger, ledger_files, publish,
    summary_where, uploaded_names,
)


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
