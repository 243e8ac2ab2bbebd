"""scripts/upload's messages when an upload fails, against a real pypiserver (scripts/index):
one `error:` line that fits the failure; twine's own output (tracebacks, retries, HTTP
detail) only with DEBUG=1, the password never; and a file the index holds with other bytes
always says to bump the version, never to run again (a rerun cannot help: an index never lets
a file name be reused)."""
from __future__ import annotations

import socket

import pytest

from indexkit import Watch, ledger
from conftest import run

CORE = "open-finops-core"


def upload(repo, env, name=CORE):
    return run([str(repo / "scripts" / "upload"), name], cwd=repo, env=env, timeout=180)


def errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def core_files(repo) -> list[dict]:
    return [f for f in ledger(repo)["files"] if f["distribution"] == CORE]


def refused_port() -> str:
    with socket.socket() as s:  # nothing listens on it once closed: connections are refused
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/"


@pytest.mark.parametrize("failure", ["unreachable repository", "wrong password"])
def test_a_twine_failure_is_one_line_and_its_output_only_behind_debug(built_copy, local_index,
                                                                      failure):
    settings = {"UPLOAD_DEADLINE": "30", "INDEX_GRACE": "5"}
    if failure == "unreachable repository":
        settings["REPOSITORY_URL"] = refused_port()
        expected = f"error: cannot reach {settings['REPOSITORY_URL']}; nothing more was uploaded"
    else:
        settings["TWINE_PASSWORD"] = "wrong-" + local_index.password
        expected = f"error: {local_index.repository_url} refused the credentials"
    env = local_index.env(**settings)

    proc = upload(built_copy, env)
    assert proc.returncode == 1, proc.explain
    assert len(errors(proc.stderr)) == 1 and errors(proc.stderr)[0].startswith(expected), \
        proc.explain
    assert local_index.stored() == []

    debug = upload(built_copy, {**env, "DEBUG": "1"})
    assert debug.returncode == 1, debug.explain
    twine = [line.removeprefix("    twine: ").strip() for line in debug.stderr.splitlines()
             if line.startswith("    twine: ")]
    assert len(twine) >= 2, debug.explain  # the detail is there, behind DEBUG=1
    for line in filter(None, twine):
        assert line not in proc.stderr, f"twine's {line!r} shown without DEBUG\n{proc.explain}"
    assert "Traceback" not in proc.stderr and "Error:" not in proc.stderr, proc.explain
    for secret in {local_index.password, env["TWINE_PASSWORD"]}:
        assert secret not in proc.stderr + proc.stdout + debug.stderr + debug.stdout


def assert_says_bump(proc, filenames):
    assert proc.returncode == 1, proc.explain
    lines = errors(proc.stderr)
    assert len(lines) == 1, proc.explain
    assert "other bytes" in lines[0] and "bump the version" in lines[0], proc.explain
    assert all(name in lines[0] for name in filenames), proc.explain
    assert "resume" not in proc.stderr and "run again" not in proc.stderr \
        and "again later" not in proc.stderr, proc.explain


def test_files_the_index_holds_with_other_bytes_say_bump_in_one_line(built_copy, local_index):
    files = core_files(built_copy)
    local_index.packages.mkdir(parents=True, exist_ok=True)
    for f in files:
        (local_index.packages / f["filename"]).write_bytes(b"other bytes")
    proc = upload(built_copy, local_index.env(UPLOAD_DEADLINE="30"))
    assert_says_bump(proc, [f["filename"] for f in files])
    assert "uploading" not in proc.stderr and local_index.stored() == [], proc.explain


def test_a_conflict_that_appears_during_the_upload_says_bump(built_copy, local_index):
    """Another uploader puts the wheel up with other bytes after the state check and before
    twine sends ours: twine gets the index's 409, and the message still says bump."""
    wheel = next(f for f in core_files(built_copy) if f["filename"].endswith(".whl"))
    page = f"/simple/{CORE}/"
    local_index.packages.mkdir(parents=True, exist_ok=True)

    def other_uploader():
        (local_index.packages / wheel["filename"]).write_bytes(b"other bytes")

    with Watch(lambda: local_index.requests("GET", page) >= 1, other_uploader) as watch:
        proc = upload(built_copy, local_index.env(UPLOAD_DEADLINE="30"))
    assert watch.fired, proc.explain
    assert f"==> uploading {wheel['filename']}" in proc.stderr, proc.explain
    assert wheel["filename"] not in local_index.stored(), local_index.log()  # twine got a 409
    assert_says_bump(proc, [wheel["filename"]])
