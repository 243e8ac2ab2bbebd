"""`make publish` against a real pypiserver through REPOSITORY_URL/INDEX_URL: a release in
dependency order, a second run that uploads nothing, then the summary against a dead and an
empty index. What the server stored is read from its own log. Resuming is in
test_release_resume.py, the refusals in test_release_refusals.py, the git/tag/CHANGELOG
refusals in test_preflight.py, `make stage` in test_stage.py. (One file per concern, so that
the test workers share them.)"""
from __future__ import annotations

from indexkit import (
    assert_dependency_order, ledger, ledger_files, publish, summary_where, uploaded_names,
)


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
    # Its verify installed exactly the spec publish() names in VERIFY_SPECS.
    assert [line for line in proc.stderr.splitlines()
            if line.startswith("open-finops") and " -> " in line] == [
        "open-finops[all] -> ok"], proc.explain
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
