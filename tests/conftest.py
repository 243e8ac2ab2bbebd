"""Shared fixtures: a temporary HOME for every test, a runner for scripts and make targets as
black boxes, and a throw-away git working copy of the repository for tests that change it.

The tests mirror the code: releasekit/ (scripts/releasekit and the Make targets), core/,
vendors/<name>/ (one folder per vendor distribution, its real-format data beside it),
docker/; kits/ holds what they import by plain name (pyproject's pythonpath): fixtures,
runners, the vendors' data generators, the FOCUS rules; kits/test_*.py check the kits."""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

# Fixtures of the release-pipeline tests (built_copy, local_index...), of `finops` run
# in-process (workdir, finops) and Azurite for the Blob Storage tests, from tests/kits, loaded
# as plugins so that their modules can also import the helpers.
pytest_plugins = ["indexkit", "finopskit", "azuritekit"]

REPO = Path(__file__).resolve().parent.parent
VENV = REPO / ".venv"
#: The Makefile's PACKAGES (the one list), as (distribution, directory) in dependency order.
PACKAGES = [tuple(item.split("=", 1)) for item in re.search(
    r"^PACKAGES := (.*)$", (REPO / "Makefile").read_text(), re.M).group(1).split()]
#: The meta-package's specs in verify's order: itself, each extra of a part, then [all].
SPECS = ["open-finops", *(f"open-finops[{directory.rsplit('/', 1)[-1]}]"
                          for name, directory in PACKAGES
                          if directory != "." and name != "open-finops-core"),
         "open-finops[all]"]
VERSION = next(
    line.split("=", 1)[1].strip()
    for line in (REPO / ".bumpversion.cfg").read_text().splitlines()
    if line.startswith("current_version")
)


#: The test files that take longest (a Spark JVM and its builds, real installs from a local
#: index), longest first: collected before the rest, so that `--dist loadfile` hands them
#: out at the start, one worker each, rather than leaving a worker alone with one at the end
#: (the Spark module last in the tree made a 2-worker run 40 s longer than its share).
SLOW_FIRST = ("vendors/spark/test_spark_lake.py", "vendors/aws/test_aws_import.py",
              "releasekit/test_stage.py", "releasekit/test_build_check.py",
              "releasekit/test_index.py", "releasekit/test_scripts.py",
              "releasekit/test_release.py", "releasekit/test_release_resume.py")


def pytest_collection_modifyitems(items: list) -> None:
    def rank(item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return next((i for i, slow in enumerate(SLOW_FIRST) if path.endswith(slow)),
                    len(SLOW_FIRST))
    items.sort(key=rank)  # stable: the rest keep their order


@pytest.fixture(autouse=True)
def home(tmp_path_factory, monkeypatch) -> Path:
    """Every test gets its own empty HOME, so nothing from the developer's leaks in."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    return home


@pytest.fixture
def in_tmp(tmp_path, monkeypatch) -> Path:
    """An empty working directory and no OPEN_FINOPS_* variable of the developer's."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("OPEN_FINOPS_"):
            monkeypatch.delenv(name)
    return tmp_path


def base_env(home: Path | None = None, **extra: str) -> dict[str, str]:
    """An explicit, minimal environment for a subprocess: the toolkit's venv first on PATH,
    no pip configuration from this machine, no variables of the developer's."""
    env = {
        "PATH": f"{VENV / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home or os.environ["HOME"]),
        "LANG": "C.UTF-8",
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_NO_INPUT": "1",
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.invalid",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.invalid",
    }
    # The toolkit venv of the real checkout is reused by working copies (see work_copy).
    env["VENV"] = str(VENV)
    env.update(extra)
    return env


def run(
    args: list[str] | str,
    cwd: Path | str = REPO,
    env: dict[str, str] | None = None,
    timeout: float = 600,
    check: bool | None = None,
    input: str | None = None,
) -> subprocess.CompletedProcess:
    """Run a command with an explicit environment and no terminal; `check=True` asserts exit 0,
    `check=False` asserts a non-zero exit; either way the output goes in the message."""
    proc = subprocess.run(
        args,
        cwd=cwd,
        env=env if env is not None else base_env(),
        stdin=subprocess.DEVNULL if input is None else None,
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        shell=isinstance(args, str),
    )
    explain = (
        f"$ {args}\nexit {proc.returncode}\n"
        f"--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
    )
    if check is True:
        assert proc.returncode == 0, explain
    elif check is False:
        assert proc.returncode != 0, explain
    proc.explain = explain  # type: ignore[attr-defined]
    return proc


def tracked_files(repo: Path = REPO) -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=repo, capture_output=True, check=True,
    ).stdout.decode()
    return [f for f in out.split("\0") if f and (repo / f).exists()]


def make_work_copy(dest: Path, tag: bool = True) -> Path:
    """A fresh git repository holding the repository's current files (committed or not), with
    one commit and, by default, the tag v<version>: what a maintainer's clean clone looks like."""
    for rel in tracked_files():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, target)
    env = base_env()
    git = ["git", "-c", "init.defaultBranch=main"]
    subprocess.run([*git, "init", "-q"], cwd=dest, check=True, env=env)
    subprocess.run(["git", "add", "-A"], cwd=dest, check=True, env=env)
    subprocess.run(["git", "commit", "-qm", "release"], cwd=dest, check=True, env=env)
    if tag:
        subprocess.run(["git", "tag", f"v{VERSION}"], cwd=dest, check=True, env=env)
    return dest


@pytest.fixture
def work_copy(tmp_path) -> Path:
    """A throw-away clone-like copy of the repository that the test may change at will. Make
    targets in it use the real checkout's .venv (VENV in base_env), so no test bootstraps one."""
    return make_work_copy(tmp_path / "repo")


PYTHON = sys.executable


def releasekit(*args: str, repo: Path = REPO, env: dict[str, str] | None = None,
               check: bool | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """`python -m releasekit ARGS` of a tree's scripts/ (the real checkout's by default), run
    from that tree with the toolkit's interpreter, as scripts/lib.sh runs it."""
    env = dict(env if env is not None else base_env())
    env["PYTHONPATH"] = str(repo / "scripts")
    return run([str(VENV / "bin" / "python"), "-m", "releasekit", *args], cwd=repo, env=env,
               check=check, timeout=timeout)


class JSONHandler(BaseHTTPRequestHandler):
    """The request handler of a test's own fake HTTP service (of a service that cannot be
    reached from here): answer_json sends one JSON document; nothing is logged."""

    def answer_json(self, data: object, content_type: str = "application/json") -> None:
        import json
        body = json.dumps(data).encode()
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now (for a test's own server)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop(server: subprocess.Popen) -> None:
    """End a test's server: TERM, then KILL if it has not gone within 10 s."""
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
