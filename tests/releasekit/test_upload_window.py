"""PyPI's 14-day rule (warehouse pull request 19727, July 2026): an index refuses new files on
a release whose first file is more than 14 days old. A `make publish` that would resume such
a release is refused by the pre-flight, before any upload, in one line. The first upload time
comes from the index's JSON pages (PEP 691), their `upload-time` (PEP 700); here a local index
of the test's own serves them, since pypiserver does not."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from http.server import ThreadingHTTPServer

import pytest

from conftest import VERSION, JSONHandler, run
from indexkit import ledger, publish, toolkit_env, uploaded_names

PEP691 = "application/vnd.pypi.simple.v1+json"


class PypiLikeIndex:
    """A PEP 691 index on 127.0.0.1 listing some ledger files, each with its upload-time."""

    def __init__(self, listed: dict[str, datetime | None]) -> None:
        self.listed = listed  # filename -> upload-time (None: the index does not say)
        self.files: list[dict] = []
        index = self

        class Handler(JSONHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                project = self.path.rstrip("/").rsplit("/", 1)[-1]
                files = []
                for f in index.files:
                    if f["distribution"] == project and f["filename"] in index.listed:
                        entry = {"filename": f["filename"], "hashes": {"sha256": f["sha256"]},
                                 "url": f"/files/{f['filename']}"}
                        moment = index.listed[f["filename"]]
                        if moment is not None:
                            entry["upload-time"] = moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                        files.append(entry)
                if not files:
                    self.send_error(404)
                    return
                self.answer_json({"meta": {"api-version": "1.1"}, "name": project,
                                  "files": files}, PEP691)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/simple/"

    def __enter__(self) -> "PypiLikeIndex":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def ago(days: float) -> datetime:
    return datetime.now(timezone.utc) - timedelta(days=days)


def files_of(repo, distribution: str) -> list[dict]:
    return [f for f in ledger(repo)["files"] if f["distribution"] == distribution]


def wheel_of(repo, distribution: str) -> str:
    return next(f["filename"] for f in files_of(repo, distribution)
                if f["filename"].endswith(".whl"))


def refusals(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("refused:")]


def test_publish_refuses_to_resume_a_release_older_than_the_window(built_copy, local_index):
    """core's wheel went up 15 days ago and its sdist never did: the index would refuse the
    sdist, so nothing is uploaded anywhere and the one line says to bump. aws's wheel went up
    3 days ago: that release can still be completed, and is not named."""
    core, aws = wheel_of(built_copy, "open-finops-core"), wheel_of(built_copy, "open-finops-aws")
    with PypiLikeIndex({core: ago(15), aws: ago(3)}) as index:
        index.files = ledger(built_copy)["files"]
        proc = publish(built_copy, local_index.env(INDEX_URL=index.url, UPLOAD_WINDOW="14"))
    assert proc.returncode != 0, proc.explain  # make's own exit code
    (line,) = refusals(proc.stderr)
    assert line.startswith(f"refused: open-finops-core {VERSION} is 15 days old on the index "
                           "(its first file was uploaded "), proc.explain
    assert line.endswith("the release can no longer be completed: bump the version "
                         "(make bump PART=patch)"), proc.explain
    assert "open-finops-aws" not in line
    assert "nothing was uploaded" in proc.stderr and "step upload" not in proc.stderr
    assert uploaded_names(proc.stderr) == [] and local_index.files() == {}


@pytest.mark.parametrize("days, window, refused", [
    (13, "14", False),     # within the window: the release can be completed
    (100, "", False),      # a local index has no such rule unless UPLOAD_WINDOW says so
    (100, "0", False),     # 0: no limit
    (2.5, "2", True),      # any window the setting names
])
def test_the_window_is_pypis_rule_or_the_settings(built_copy, home, days, window, refused):
    core = wheel_of(built_copy, "open-finops-core")
    with PypiLikeIndex({core: ago(days)}) as index:
        index.files = ledger(built_copy)["files"]
        env = toolkit_env(home, INDEX_URL=index.url, UPLOAD_WINDOW=window)
        proc = run([str(built_copy / "scripts" / "preflight"), "--phase", "built"],
                   cwd=built_copy, env=env)
    assert (proc.returncode == 1) == refused, proc.explain
    assert bool(refusals(proc.stderr)) == refused, proc.explain
    if not refused:  # the state lines of every file, core's wheel present
        assert f"present\t{core}" in proc.stdout, proc.explain


def test_a_complete_or_new_release_is_never_refused(built_copy, home):
    """Every file of core is there (nothing to add), the rest are not there at all (their
    window starts with their first upload): old or not, nothing is refused."""
    listed = {f["filename"]: ago(400) for f in files_of(built_copy, "open-finops-core")}
    with PypiLikeIndex(listed) as index:
        index.files = ledger(built_copy)["files"]
        proc = run([str(built_copy / "scripts" / "preflight"), "--phase", "built"],
                   cwd=built_copy, env=toolkit_env(home, INDEX_URL=index.url, UPLOAD_WINDOW="14"))
    assert proc.returncode == 0 and refusals(proc.stderr) == [], proc.explain


def test_an_index_that_does_not_say_when_is_warned_about(built_copy, home):
    core = wheel_of(built_copy, "open-finops-core")
    with PypiLikeIndex({core: None}) as index:
        index.files = ledger(built_copy)["files"]
        proc = run([str(built_copy / "scripts" / "preflight"), "--phase", "built"],
                   cwd=built_copy, env=toolkit_env(home, INDEX_URL=index.url, UPLOAD_WINDOW="14"))
    assert proc.returncode == 0, proc.explain
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == [f"warning: {index.url} does not say when open-finops-core {VERSION} "
                        "was first uploaded (no upload-time, PEP 700); if that is more than 14 "
                        "days ago, the index will refuse its missing files"], proc.explain


def test_pypi_and_testpypi_have_the_rule_by_default(monkeypatch):
    from pip._internal.models.index import PyPI, TestPyPI

    from releasekit import cli
    from releasekit.errors import UsageError
    monkeypatch.delenv("UPLOAD_WINDOW", raising=False)
    assert cli.upload_window(PyPI.simple_url) == 14
    assert cli.upload_window(TestPyPI.simple_url) == 14
    assert cli.upload_window("http://127.0.0.1:8080/simple/") == 0
    monkeypatch.setenv("UPLOAD_WINDOW", "0")
    assert cli.upload_window(PyPI.simple_url) == 0
    monkeypatch.setenv("UPLOAD_WINDOW", "soon")
    with pytest.raises(UsageError, match="UPLOAD_WINDOW='soon' is no number of days"):
        cli.upload_window(PyPI.simple_url)


def test_a_bad_window_is_refused_before_any_work(built_copy, local_index):
    proc = publish(built_copy, local_index.env(UPLOAD_WINDOW="two weeks"))
    assert proc.returncode != 0, proc.explain
    assert "error: UPLOAD_WINDOW must be a number of days (0: no limit), not 'two weeks' " \
        "(see --help)" in proc.stderr, proc.explain
    assert "step " not in proc.stderr and local_index.files() == {}
