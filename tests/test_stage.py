"""`make stage` end to end: the embedded index, the whole pipeline, the summary, the secret
password, and the index stopped on every exit path (success, Ctrl-C)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from conftest import run
from releasekit import (
    MAKE,
    STEPS,
    Watch,
    all_process_args,
    env_of_processes,
    ledger_files,
    running_servers,
    toolkit_env,
)


def test_stage_end_to_end(built_copy, home):
    """make stage: embedded index, the whole pipeline, a summary; the password never leaks
    and the server is gone afterwards."""
    env = toolkit_env(home)
    seen_args: set[str] = set()

    def sample():
        seen_args.update(all_process_args())
        return env_of_processes("TWINE_PASSWORD", str(built_copy))

    watch = Watch(sample)
    watch.start()
    try:
        proc = run([*MAKE, "stage"], cwd=built_copy, env=env, timeout=600)
    finally:
        watch.done.set()
        watch.join()
    assert proc.returncode == 0, proc.explain

    summary = json.loads((built_copy / "dist" / "stage-summary.json").read_text())
    assert summary["status"] == "ok"
    assert [s["step"] for s in summary["steps"]] == STEPS
    assert all(s["result"] == "ok" and s["seconds"] >= 0 for s in summary["steps"])
    assert {f["filename"]: f["sha256"] for f in summary["files"]} == ledger_files(built_copy)
    assert {f["where"] for f in summary["files"]} == {"uploaded"}
    assert [r["spec"] for r in summary["install"]] == [
        "open-finops", "open-finops[aws]", "open-finops[docker]", "open-finops[all]"]
    assert {r["result"] for r in summary["install"]} == {"ok"}, proc.explain
    for spec in ("open-finops[aws]", "open-finops[all]"):
        assert f"{spec} -> ok" in proc.stderr
    assert "WARNING" in proc.stderr and "NOT audited" in proc.stderr  # stage warns, goes on

    # Stopped on success, its folder removed.
    assert running_servers(env["TMPDIR"]) == []
    assert not list(Path(env["TMPDIR"]).glob("finops-stage.*"))

    # The random password: in the environment of the run's processes only.
    passwords = set().union(*watch.samples) if watch.samples else set()
    assert passwords, "never saw the stage's processes (sampling too slow?)"
    written = [p.read_text(errors="replace") for p in (built_copy / "dist").glob("*.json")]
    for password in passwords:
        assert len(password) >= 32
        assert password not in proc.stdout + proc.stderr
        assert not any(password in args for args in seen_args)
        assert not any(password in text for text in written)


def test_stage_stops_the_index_on_ctrl_c(built_copy, home):
    env = toolkit_env(home)
    proc = subprocess.Popen([*MAKE, "stage"], cwd=built_copy, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not running_servers(env["TMPDIR"]) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert running_servers(env["TMPDIR"]), "the index never started"
        time.sleep(0.5)
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does: the whole foreground group
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode != 0, out
    assert running_servers(env["TMPDIR"]) == [], out
    assert not list(Path(env["TMPDIR"]).glob("finops-stage.*")), out
