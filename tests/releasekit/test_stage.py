"""`make stage` end to end: the embedded index, the whole pipeline, the summary, the secret
password, and the index stopped on every exit path (success, Ctrl-C)."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import SPECS, run
from indexkit import (
    MAKE,
    STEPS,
    Watch,
    all_process_args,
    env_of_processes,
    ledger_files,
    running_servers,
    sha256,
    toolkit_env,
)


def test_stage_end_to_end_then_verify_alone(built_copy, home):
    """make stage: embedded index, the whole pipeline, a summary; the password never leaks
    and the server is gone afterwards. With KEEP_INDEX=1 its folder stays, and served again
    read-only, as the stage tells, `make verify` passes against it on its own. (Without
    KEEP_INDEX the folder goes: test_stage_stops_the_index_on_ctrl_c.)"""
    # DEBUG=1: every script traces its commands, with the values they expand to; the
    # password must not show even then.
    env = toolkit_env(home, KEEP_INDEX="1", DEBUG="1")
    seen_args: set[str] = set()

    def sample():
        seen_args.update(all_process_args())
        return env_of_processes("TWINE_PASSWORD", str(built_copy))

    with Watch(sample) as watch:
        proc = run([*MAKE, "stage"], cwd=built_copy, env=env, timeout=600)
    assert proc.returncode == 0, proc.explain

    summary = json.loads((built_copy / "dist" / "stage-summary.json").read_text())
    assert summary["status"] == "ok"
    assert [s["step"] for s in summary["steps"]] == STEPS
    assert all(s["result"] == "ok" and s["seconds"] >= 0 for s in summary["steps"])
    assert {f["filename"]: f["sha256"] for f in summary["files"]} == ledger_files(built_copy)
    assert {f["where"] for f in summary["files"]} == {"uploaded"}
    assert [r["spec"] for r in summary["install"]] == SPECS
    assert {r["result"] for r in summary["install"]} == {"ok"}, proc.explain
    for spec in ("open-finops[aws]", "open-finops[all]"):
        assert f"{spec} -> ok" in proc.stderr
    assert "WARNING" in proc.stderr and "NOT audited" in proc.stderr  # stage warns, goes on
    # ... and its last word says that publish would not go the same way.
    closing = [line for line in proc.stderr.splitlines() if "rehearsal of" in line]
    assert closing and "make testpypi and make publish would refuse the audit unless " \
        "AUDIT=warn" in closing[-1], proc.explain
    assert "every step above would publish the same way" not in proc.stderr

    # Stopped on success.
    assert running_servers(env["TMPDIR"]) == []

    # The random password: in the environment of the run's processes only.
    passwords = set().union(*watch.samples) if watch.samples else set()
    assert passwords, "never saw the stage's processes (sampling too slow?)"
    written = [p.read_text(errors="replace") for p in (built_copy / "dist").glob("*.json")]
    for password in passwords:
        assert len(password) >= 32
        assert password not in proc.stdout + proc.stderr
        assert not any(password in args for args in seen_args)
        assert not any(password in text for text in written)

    (state,) = Path(env["TMPDIR"]).glob("finops-stage.*")
    assert f"scripts/index start {state}" in proc.stderr, proc.explain
    kept = {p.name: sha256(p) for p in (state / "packages").iterdir()}
    assert kept == ledger_files(built_copy)
    for password in passwords:  # nor in what the server wrote (its log, the hashed htpasswd)
        assert not any(password in p.read_text(errors="replace")
                       for p in state.iterdir() if p.is_file())
    start = run([str(built_copy / "scripts" / "index"), "start", str(state)], cwd=built_copy,
                env=toolkit_env(home), check=True)
    try:
        # One spec (the stage above installed every one): the point is the kept folder.
        verify = run([*MAKE, "-s", "verify"], cwd=built_copy, timeout=600,
                     env=toolkit_env(home, INDEX_URL=f"{start.stdout.strip()}/simple/",
                                     VERIFY_SPECS="open-finops[all]"))
        assert verify.returncode == 0, verify.explain
        assert verify.stdout.splitlines() == ["open-finops[all] -> ok"], verify.explain
    finally:
        run([str(built_copy / "scripts" / "index"), "stop", str(state)], env=toolkit_env(home),
            check=True)


def group_members(pgid: int) -> list[str]:
    """Live processes of a process group, as "pid command line"."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and os.getpgid(int(proc.name)) == pgid:
                found.append(f"{proc.name} {(proc / 'cmdline').read_bytes()!r}")
        except OSError:
            continue
    return found


@pytest.mark.parametrize("moment", ["==> index at ", "==> building ", "==> uploading ",
                                    "==> installing "])
def test_stage_stops_the_index_on_ctrl_c(built_copy, home, tmp_path, moment):
    """Ctrl-C once the index runs, during the build, the upload and the parallel
    verification: the index stops, nothing of the run is left running, its temporary
    folders are gone, and the run ends with one line and exit 130, no traceback, no
    misleading step failure."""
    env = toolkit_env(home)
    if moment == "==> building ":  # the copy's build would be reused: make it build again
        run([str(built_copy / "scripts" / "clean")], cwd=built_copy, env=env, check=True)
    log = tmp_path / "stage.log"
    with log.open("w") as out:
        proc = subprocess.Popen([str(built_copy / "scripts" / "stage")], cwd=built_copy, env=env,
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while moment not in log.read_text() and proc.poll() is None:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.02)
        assert running_servers(env["TMPDIR"]), log.read_text()
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does: the whole foreground group
        proc.wait(timeout=60)
        # Background jobs must not outlive the run (they would write into removed folders).
        deadline = time.monotonic() + 10
        while group_members(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert group_members(proc.pid) == [], log.read_text()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    out = log.read_text()
    assert proc.returncode == 130, out
    assert out.count("interrupted; nothing more was uploaded") == 1, out
    assert out.rstrip().endswith("interrupted; nothing more was uploaded"), out
    misleading = re.search(r"step [\w-]+ failed|^error:|Traceback|cannot resolve|stopped at",
                           out, re.M)
    assert misleading is None, out
    assert running_servers(env["TMPDIR"]) == [], out
    assert list(Path(env["TMPDIR"]).iterdir()) == [], out
    assert "No such file or directory" not in out
