"""The embedded index (scripts/index) and the reading of simple pages (releasekit.index):
a real pypiserver, PEP 503 HTML and PEP 691 JSON, the propagation barrier, its progress and
its fast failure on a dead index."""
from __future__ import annotations

import shutil
import socket
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from conftest import REPO, JSONHandler, base_env, releasekit, run
from indexkit import (
    LocalIndex,
    all_process_args,
    ledger,
    running_servers,
    sha256,
    toolkit_env,
)

OWN_SCRIPTS = ["index", "upload", "preflight", "audit", "verify", "stage", "release", "bench",
               "wheelhouse"]


@pytest.mark.parametrize("script", OWN_SCRIPTS)
def test_help(script):
    proc = run([str(REPO / "scripts" / script), "--help"], check=True)
    text = proc.stdout + proc.stderr
    assert "Usage" in text or "usage" in text, proc.explain


def test_index_start_status_stop(tmp_path, home):
    index = LocalIndex(tmp_path / "state", home).start()
    try:
        assert index.url.startswith("http://127.0.0.1:")
        status = run([str(REPO / "scripts" / "index"), "status", str(index.state)], check=True)
        assert status.stdout.strip() == index.url
        # The password is in no process's arguments and only hashed on disk.
        assert not any(index.password in args for args in all_process_args())
        htpasswd = (index.state / "htpasswd").read_text()
        assert htpasswd.startswith(f"{index.username}:$5$") and index.password not in htpasswd
        assert (index.state / "htpasswd").stat().st_mode & 0o077 == 0
        assert len(running_servers(str(index.state))) == 1
        again = run([str(REPO / "scripts" / "index"), "start", str(index.state)],
                    env=toolkit_env(home, TWINE_USERNAME="u", TWINE_PASSWORD="p"))
        assert again.returncode == 1 and "already running" in again.stderr, again.explain
    finally:
        index.stop()
    assert running_servers(str(index.state)) == []
    status = run([str(REPO / "scripts" / "index"), "status", str(index.state)])
    assert status.returncode == 1, status.explain


def test_index_without_an_account_is_read_only(built_template, tmp_path, home):
    """What `KEEP_INDEX=1 make stage` tells to run: the kept files served again, for
    `make verify`, and no upload accepted whatever the credentials."""
    state = tmp_path / "state"
    (state / "packages").mkdir(parents=True)
    wheel = next((built_template / "core" / "dist").glob("*.whl"))
    shutil.copy(wheel, state / "packages" / wheel.name)
    index = LocalIndex(state, home)
    proc = run([str(REPO / "scripts" / "index"), "start", str(state)], env=toolkit_env(home),
               check=True)
    index.url = proc.stdout.strip()
    try:
        assert "read-only" in proc.stderr
        listed = releasekit("--index", index.index_url, "index", "files", "open-finops-core",
                            check=True)
        assert listed.stdout.split("\t")[:2] == [wheel.name, sha256(wheel)]
        sdist = next((built_template / "core" / "dist").glob("*.tar.gz"))
        for user in ("read-only", "stage", "release"):
            upload = run([str(REPO / ".venv" / "bin" / "twine"), "upload", "--non-interactive",
                          "--repository-url", index.repository_url, str(sdist)],
                         env=toolkit_env(home, TWINE_USERNAME=user, TWINE_PASSWORD="guess"))
            assert upload.returncode != 0 and "403" in upload.stdout + upload.stderr, \
                upload.explain
        assert sorted(p.name for p in index.packages.iterdir()) == [wheel.name]
    finally:
        index.stop()


def test_pep503_html_page_of_pypiserver(built_template, local_index):
    # built_template fills the shared wheelhouse (the index's second root) first.
    local_index.packages.mkdir(parents=True, exist_ok=True)
    sdist = local_index.packages / "open_finops_core-9.9.9.tar.gz"
    sdist.write_bytes(b"sdist bytes")
    proc = releasekit("--index", local_index.index_url, "index", "files", "open_finops.core",
                      check=True)
    name, digest, url = proc.stdout.strip().split("\t")
    assert (name, digest) == (sdist.name, sha256(sdist))
    assert url == f"{local_index.url}/packages/{sdist.name}"
    # The wheelhouse is the second root: third-party wheels are served too.
    six = releasekit("--index", local_index.index_url, "index", "files", "six", check=True)
    assert ".whl\t" in six.stdout
    missing = releasekit("--index", local_index.index_url, "index", "files", "no-such-project",
                         check=True)
    assert missing.stdout == ""


def test_a_file_changed_on_disk_is_served_with_its_new_sha256(local_index):
    """The index caches each file's digest (pypiserver's cached-dir backend): a file that
    changes on disk while it runs is listed anew, never with the digest of its old bytes."""
    local_index.packages.mkdir(parents=True, exist_ok=True)
    sdist = local_index.packages / "open_finops_core-9.9.9.tar.gz"

    def listed() -> list[str]:
        proc = releasekit("--index", local_index.index_url, "index", "files",
                          "open-finops-core", check=True)
        return proc.stdout.split("\t")[:2] if proc.stdout.strip() else []

    def eventually(expected: list[str]) -> None:
        # The change reaches the server through inotify, a moment after the write.
        deadline = time.monotonic() + 10
        while listed() != expected and time.monotonic() < deadline:
            time.sleep(0.1)
        assert listed() == expected

    for content in (b"first bytes", b"other bytes", b"third bytes"):
        sdist.write_bytes(content)
        eventually([sdist.name, sha256(sdist)])
    sdist.unlink()
    eventually([])


class _Pep691(JSONHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        accept = self.headers.get("Accept", "")
        if "application/vnd.pypi.simple.v1+json" not in accept:
            self.send_error(406)
            return
        self.answer_json({"meta": {"api-version": "1.1"}, "name": "open-finops-core", "files": [
            {"filename": "open_finops_core-1.0.tar.gz", "url": "../../files/core-1.0.tar.gz",
             "hashes": {"sha256": "ab" * 32}},
            {"filename": "open_finops_core-1.0-py3-none-any.whl",
             "url": "https://files.example.invalid/core.whl", "hashes": {}}]},
            "application/vnd.pypi.simple.v1+json")


def test_pep691_json_page():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Pep691)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/simple/"
        proc = releasekit("--index", base, "index", "files", "Open_Finops-Core", check=True)
    finally:
        server.shutdown()
    rows = [line.split("\t") for line in proc.stdout.splitlines()]
    assert rows == [
        ["open_finops_core-1.0.tar.gz", "ab" * 32,
         f"http://127.0.0.1:{server.server_address[1]}/files/core-1.0.tar.gz"],
        ["open_finops_core-1.0-py3-none-any.whl", "", "https://files.example.invalid/core.whl"],
    ]


def test_unreachable_index_is_one_clear_line(tmp_path):
    proc = releasekit("--index", "http://127.0.0.1:9/simple/", "index", "files", "open-finops")
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: cannot reach the index at http://127.0.0.1:9/")
    assert "Traceback" not in proc.stderr


def _wait(repo: Path, index: LocalIndex, deadline: str, *extra: str, **env: str):
    return releasekit("--index", index.index_url, "index", "wait",
                      "--distribution", "open-finops-core", "--repository", index.repository_url,
                      "--deadline", deadline, *extra, repo=repo,
                      env=toolkit_env(index.home, **env))


def _core_files(repo: Path) -> list[Path]:
    return [repo / f["path"] for f in ledger(repo)["files"]
            if f["distribution"] == "open-finops-core"]


def test_barrier_waits_for_files_that_appear_late(built_copy, local_index):
    def publish_late():
        time.sleep(1.5)
        local_index.packages.mkdir(parents=True, exist_ok=True)
        for path in _core_files(built_copy):
            shutil.copy(path, local_index.packages / path.name)

    late = threading.Thread(target=publish_late)
    late.start()
    began = time.monotonic()
    proc = _wait(built_copy, local_index, "30")
    late.join()
    assert proc.returncode == 0, proc.explain
    assert time.monotonic() - began >= 1.5
    records = ledger(built_copy)["uploads"][local_index.repository_url]
    assert {r["status"] for r in records.values()} == {"present"}
    assert set(records) == {p.name for p in _core_files(built_copy)}


def test_barrier_backs_off_and_gives_up_at_its_deadline(built_copy, local_index):
    began = time.monotonic()
    proc = _wait(built_copy, local_index, "3")
    assert proc.returncode == 1, proc.explain
    # The last poll is at the deadline, not before it.
    assert 3 <= time.monotonic() - began < 20
    assert "gave up after 3s" in proc.stderr and "not yet listed" in proc.stderr
    assert ledger(built_copy)["uploads"] == {}
    # Backoff: polls at about 0, 0.2, 0.6, 1.4 and 3 s; a fixed 0.2 s period would make 16.
    polls = local_index.requests("GET", "/simple/open-finops-core/")
    assert 3 <= polls <= 6, local_index.log()


def test_barrier_fails_at_once_on_other_bytes(built_copy, local_index):
    local_index.packages.mkdir(parents=True, exist_ok=True)
    wheel = _core_files(built_copy)[0]
    (local_index.packages / wheel.name).write_bytes(b"other bytes")
    began = time.monotonic()
    proc = _wait(built_copy, local_index, "60")
    assert proc.returncode == 1, proc.explain
    assert time.monotonic() - began < 10
    assert "bump the version" in proc.stderr


def test_launch_prints_the_url_at_once_and_await_waits_until_it_answers(tmp_path, home):
    """make stage launches its index and builds meanwhile: launch prints the URL of a server
    it started, await returns once that answers; a server that cannot come up (its port
    taken) makes await fail in one line naming the URL and the log."""
    index = REPO / "scripts" / "index"
    env = toolkit_env(home, TWINE_USERNAME="u", TWINE_PASSWORD="p")
    state = tmp_path / "state"
    launched = run([str(index), "launch", str(state)], env=env, check=True)
    try:
        url = launched.stdout.strip()
        assert url.startswith("http://127.0.0.1:"), launched.explain
        # launch returns while its child may not yet have exec'd pypi-server (a fork that
        # a busy machine schedules late): wait for the server, not for the scheduler.
        assert within(10, lambda: len(running_servers(str(state))) == 1), \
            f"no pypi-server for {state}; its log:\n{(state / 'server.log').read_text()}"
        run([str(index), "await", str(state)], env=env, check=True)
        assert releasekit("index", "answers", url, check=True).returncode == 0
    finally:
        run([str(index), "stop", str(state)], env=env, check=True)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = tmp_path / "busy"
        run([str(index), "launch", str(busy)], env={**env, "INDEX_PORT": str(port)},
            check=True)
        failed = run([str(index), "await", str(busy)], env=env, timeout=120)
        run([str(index), "stop", str(busy)], env=env, check=True)
    errors = [line for line in failed.stderr.splitlines() if line.startswith("error:")]
    assert failed.returncode == 1 and errors == [
        f"error: pypiserver did not come up at http://127.0.0.1:{port}; see {busy}/server.log"
    ], failed.explain
    assert running_servers(str(busy)) == []


def within(seconds: float, condition) -> bool:
    """True as soon as condition() is, polling every 20 ms; False after `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_index_server_gets_no_password(tmp_path, home):
    index = LocalIndex(tmp_path / "state", home).start()
    try:
        pid = (index.state / "pid").read_text().strip()
        environ = Path(f"/proc/{pid}/environ").read_bytes()
        assert b"TWINE_PASSWORD" not in environ and index.password.encode() not in environ
    finally:
        index.stop()


def test_stop_is_idempotent(tmp_path, home):
    index = LocalIndex(tmp_path / "state", home).start()
    index.stop()
    index.stop()
    assert running_servers(str(index.state)) == []
    assert not (index.state / "pid").exists()


def test_barrier_says_what_it_awaits_how_long_so_far_and_its_deadline(built_copy, local_index):
    """One line at least every PROGRESS_EVERY seconds (15 by default); here every second."""
    proc = _wait(built_copy, local_index, "4", PROGRESS_EVERY="1")
    assert proc.returncode == 1, proc.explain
    lines = [line for line in proc.stderr.splitlines() if line.startswith("==> waiting for")]
    assert len(lines) >= 3, proc.explain
    assert all(f"{local_index.index_url} to list open-finops-core" in line
               and "s so far, deadline 4s" in line for line in lines), proc.explain
    assert "not yet listed: open_finops_core-" in lines[-1]


def test_a_refused_connection_fails_after_the_grace_naming_the_url(built_copy, home):
    """A dead index is not propagation: INDEX_GRACE seconds, not the 600 s deadline."""
    dead = "http://127.0.0.1:9/simple/"
    began = time.monotonic()
    proc = releasekit("--index", dead, "index", "wait", "--distribution", "open-finops-core",
                      "--repository", "http://127.0.0.1:9/", "--deadline", "600",
                      repo=built_copy, env=toolkit_env(home, INDEX_GRACE="2"))
    assert proc.returncode == 1, proc.explain
    assert time.monotonic() - began < 30
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "http://127.0.0.1:9/simple/open-finops-core/" in errors[0], \
        proc.explain
    assert "INDEX_GRACE=2" in errors[0] and "Traceback" not in proc.stderr


def test_cli_usage_errors_exit_2():
    for args in ([], ["index"], ["index", "wait"], ["frobnicate"]):
        proc = releasekit(*args, env=base_env())
        assert proc.returncode == 2, proc.explain
        assert proc.stderr.startswith("error: releasekit") and "Traceback" not in proc.stderr
