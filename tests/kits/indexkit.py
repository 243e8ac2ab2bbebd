"""Helpers and fixtures of the release-pipeline tests (test_index, test_preflight, test_stage,
test_release*, test_audit, test_verify): a working copy built once per session and copied for
each test, real pypiserver instances started through scripts/index (and what their logs say
they stored), and the environment the toolkit runs in.

The wheelhouse and pip's cache are the real checkout's (.cache/), shared by every test and
worker: filling the wheelhouse is the only network access (PyPI) of these tests.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import REPO, VENV, VERSION, base_env, run, tracked_files
from releasekit.index import cache_port

WHEELHOUSE = REPO / ".cache" / "wheelhouse"
PIP_CACHE = REPO / ".cache" / "pip"
# uv's cache, one per test worker: uv keys what it downloaded and unpacked (boto3, botocore,
# duckdb, pyarrow: 600 MB, seconds of CPU) by the index's URL, so all of a worker's indexes
# prefer the port releasekit.index.cache_port gives this path, as scripts/stage's own index
# does. (With a port each, a fresh clone's worker unpacked pyarrow four times: 1.3 GB.) A
# taken port only costs a cold cache. Our own files are fetched anew every time.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
UV_CACHE = REPO / ".cache" / "uv-tests" / WORKER
INDEX_PREFER_PORT = str(cache_port(str(UV_CACHE)))
# Fixed dates make every copy's commit (and so the ledger's "commit") the same.
# Make in a working copy with the real checkout's .venv, never remaking that venv.
MAKE = ["make", "-o", f"{VENV}/.stamp"]
GIT_DATES = {"GIT_AUTHOR_DATE": "2026-11-01T12:00:00Z",
             "GIT_COMMITTER_DATE": "2026-11-01T12:00:00Z"}


def toolkit_env(home: Path, **extra: str) -> dict[str, str]:
    """base_env plus the shared caches and a private TMPDIR; never any TWINE_* of ours."""
    tmp = home / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    return base_env(home, **{"WHEELHOUSE": str(WHEELHOUSE), "PIP_CACHE_DIR": str(PIP_CACHE),
                             "UV_CACHE_DIR": str(UV_CACHE), "TMPDIR": str(tmp), **extra})


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def ledger(repo: Path) -> dict:
    return json.loads((repo / "dist" / f"release-{VERSION}.json").read_text())


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "init.defaultBranch=main", *args], cwd=repo,
                          check=True, capture_output=True, text=True,
                          env=base_env(**GIT_DATES)).stdout


def ensure_changelog(repo: Path) -> None:
    """The pre-flight wants a CHANGELOG section for the version; give the copy one if the
    checkout has none yet (the tests are about the toolkit, not this release's notes)."""
    path = repo / "CHANGELOG.md"
    text = path.read_text() if path.exists() else "# Changelog\n"
    if f"[{VERSION}]" not in text:
        path.write_text(text + f"\n## [{VERSION}] - 2026-11-01\n\n- Release {VERSION}.\n")


def copy_repo(dest: Path) -> Path:
    """A clean, tagged clone-like copy of the checkout's current files."""
    for rel in tracked_files():
        if rel.startswith(("dist/", ".cache/")):
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, target)
    ensure_changelog(dest)
    git(dest, "init", "-q")
    git(dest, "add", "-A")
    git(dest, "commit", "-qm", "release")
    git(dest, "tag", f"v{VERSION}")
    return dest


@pytest.fixture(scope="session")
def built_template(tmp_path_factory) -> Path:
    """A copy of the repository with `make build check` done, once per session, shared by
    the workers (the first one builds it while the others wait; nobody changes it): the
    releases of its copies reuse that build and that pass of the checks, as a maintainer's
    `make publish` after `make stage` does (test_build_check.py builds and checks for real).
    Its wheelhouse run fills the shared wheelhouse once, before any test's index serves it."""
    import fcntl
    shared = tmp_path_factory.getbasetemp()
    if WORKER != "main":  # every worker's base is a folder of the run's own base
        shared = shared.parent
    repo, done = shared / "built-template" / "repo", shared / "built-template.done"
    with open(shared / "built-template.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():  # (again, where a worker's build failed)
            shutil.rmtree(shared / "built-template", ignore_errors=True)
            home = shared / "built-template" / "home"
            home.mkdir(parents=True)
            copy_repo(repo)
            run([*MAKE, "-s", "build", "check"], cwd=repo, env=toolkit_env(home), check=True)
            run([str(repo / "scripts" / "wheelhouse")], cwd=repo, env=toolkit_env(home),
                check=True)
            done.touch()
    return repo


@pytest.fixture
def built_copy(built_template, tmp_path) -> Path:
    """This test's own copy of the built template: same commit, same tag, same dists."""
    dest = tmp_path / "repo"
    shutil.copytree(built_template, dest, symlinks=True)
    return dest


class LocalIndex:
    """A real pypiserver started with scripts/index: uploads into STATE/packages, the shared
    wheelhouse beside them, an upload account with a random password."""

    def __init__(self, state: Path, home: Path) -> None:
        self.state = state
        self.home = home
        self.username = "release"
        self.password = secrets.token_urlsafe(24)
        self.url = ""
        self.port = ""

    @property
    def packages(self) -> Path:
        return self.state / "packages"

    @property
    def repository_url(self) -> str:
        return f"{self.url}/"

    @property
    def index_url(self) -> str:
        return f"{self.url}/simple/"

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a release to this index."""
        settings = {"TWINE_USERNAME": self.username, "TWINE_PASSWORD": self.password,
                    "REPOSITORY_URL": self.repository_url, "INDEX_URL": self.index_url}
        return toolkit_env(self.home, **{**settings, **extra})

    def start(self) -> "LocalIndex":
        extra = {"INDEX_PORT": self.port} if self.port else {"INDEX_PREFER_PORT":
                                                             INDEX_PREFER_PORT}
        proc = run([str(REPO / "scripts" / "index"), "start", str(self.state)],
                   env=toolkit_env(self.home, TWINE_USERNAME=self.username,
                                   TWINE_PASSWORD=self.password, **extra), check=True)
        self.url = proc.stdout.strip()
        self.port = self.url.rsplit(":", 1)[1]
        return self

    def stop(self) -> None:
        run([str(REPO / "scripts" / "index"), "stop", str(self.state)],
            env=toolkit_env(self.home), check=True)

    def files(self) -> dict[str, str]:
        """{filename: sha256} of what was uploaded to this index."""
        if not self.packages.exists():
            return {}
        return {p.name: sha256(p) for p in sorted(self.packages.iterdir()) if p.is_file()}

    def log(self) -> str:
        """The server's log (pypiserver -v), kept across restarts."""
        path = self.state / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stored(self) -> list[str]:
        """The file names the server accepted, one per upload, in order: what it logs."""
        return re.findall(r"^User '[^']*' stored '([^']+)'", self.log(), re.M)

    def requests(self, method: str, path: str) -> int:
        """How many METHOD requests for PATH (e.g. /simple/open-finops-core/) it served."""
        return len(re.findall(rf"^<LocalRequest: {method} {re.escape(self.url + path)}>$",
                              self.log(), re.M))


@pytest.fixture
def local_index(tmp_path, home):
    index = LocalIndex(tmp_path / "index", home).start()
    yield index
    index.stop()


def running_servers(marker: str) -> list[str]:
    """Command lines of live pypi-server processes whose arguments contain marker."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            args = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if "pypi-server" in args and marker in args and state != "Z":
            found.append(args)
    return found


def all_process_args() -> list[str]:
    """Every process's command line, as `ps` shows them."""
    out = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                out.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode())
            except OSError:
                pass
    return out


def env_of_processes(variable: str, marker: str) -> set[str]:
    """Values of an environment variable in live processes whose cwd is under marker."""
    values = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if not os.readlink(proc / "cwd").startswith(marker):
                continue
            for item in (proc / "environ").read_bytes().split(b"\0"):
                if item.startswith(variable.encode() + b"="):
                    values.add(item.split(b"=", 1)[1].decode())
        except OSError:
            continue
    return values


STEPS = ["check-versions", "preflight", "build", "index-check", "check", "audit", "upload",
         "verify"]


def publish(repo: Path, env: dict[str, str], **extra: str):
    """`make publish` confirmed, with unaudited dependencies only warned about (this machine
    cannot reach vulnerability data). Its verify installs the one spec that brings in every
    distribution (VERIFY_SPECS): these tests are about the upload; every spec is verified by
    test_stage.py and test_verify.py."""
    env = {**env, "CONFIRM": "yes", "AUDIT": "warn", "VERIFY_SPECS": "open-finops[all]",
           **extra}
    return run([*MAKE, "publish"], cwd=repo, env=env, timeout=600)


def ledger_files(repo: Path) -> dict[str, str]:
    return {f["filename"]: f["sha256"] for f in ledger(repo)["files"]}


def uploaded_names(output: str) -> list[str]:
    """File names from the "==> uploading A B to URL" lines of scripts/upload."""
    names = []
    for line in output.splitlines():
        m = re.match(r"==> uploading (.*) to \S+$", line)
        if m:
            names += m.group(1).split()
    return names


class Watch(threading.Thread):
    """Poll a condition every 20 ms while a command runs; run an action once it holds.

        with Watch(condition, action) as watch:
            proc = run(...)
        assert watch.fired
    """

    def __enter__(self) -> "Watch":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.done.set()
        self.join()

    def __init__(self, condition, action=None) -> None:
        super().__init__(daemon=True)
        self.condition, self.action = condition, action
        self.done = threading.Event()
        self.fired = False
        self.samples: list = []

    def run(self) -> None:
        while not self.done.is_set():
            result = self.condition()
            if result:
                self.samples.append(result)
                if self.action and not self.fired:
                    self.fired = True
                    self.action()
            time.sleep(0.02)


def summary_where(repo: Path) -> dict[str, str]:
    """{filename: where} of the last publish's summary (dist/pypi-summary.json)."""
    summary = json.loads((repo / "dist" / "pypi-summary.json").read_text())
    return {f["filename"]: f["where"] for f in summary["files"]}


def assert_dependency_order(stored: list[str]) -> None:
    """core, then the vendors and docker (in any order), then the meta-package."""
    layer = {"open_finops_core": 0, "open_finops": 2}
    layers = [layer.get(name.split("-")[0], 1) for name in stored]
    assert layers == sorted(layers), stored
