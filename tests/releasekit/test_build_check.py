"""make build and make check: two files per distribution, reproducible, recorded in the
ledger; and the checks of the built files, each violation produced for real (an edited
setup.py rebuilt, or a built wheel rewritten) and named by file."""
from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import zipfile
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser
from pathlib import Path

import pytest

from conftest import PACKAGES, REPO, VERSION, base_env, make_work_copy, releasekit, run
from release_tools import MAKE, NEXT_PATCH, error_lines, git

DISTS = [(name, directory, name.replace("-", "_")) for name, directory in PACKAGES]
EXPECTED = [
    f"{'' if directory == '.' else directory + '/'}dist/{stem}-{VERSION}{suffix}"
    for _, directory, stem in DISTS
    for suffix in ("-py3-none-any.whl", ".tar.gz")
]
LEDGER = f"dist/release-{VERSION}.json"


@dataclass
class Built:
    repo: Path
    stdout: list[str]
    env: dict[str, str]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Built:
    """One build for the module: a work copy after `make build`."""
    repo = make_work_copy(tmp_path_factory.mktemp("built") / "repo")
    env = base_env(home=tmp_path_factory.mktemp("home"))
    proc = run([*MAKE, "build"], cwd=repo, env=env, check=True)
    return Built(repo, proc.stdout.splitlines(), env)


@pytest.fixture
def copy(built, tmp_path) -> Path:
    """A private copy of the built work copy (dist dirs, ledger and git history included)."""
    return Path(shutil.copytree(built.repo, tmp_path / "repo", symlinks=True))


def test_build_makes_ten_files_and_records_them(built):
    assert built.stdout == EXPECTED
    data = json.loads((built.repo / LEDGER).read_text())
    assert data["version"] == VERSION
    assert data["commit"] == git(built.repo, "rev-parse", "HEAD")
    assert data["source_date_epoch"] == int(git(built.repo, "log", "-1", "--format=%ct"))
    assert data["uploads"] == {}
    assert [f["path"] for f in data["files"]] == EXPECTED
    for f in data["files"]:
        path = built.repo / f["path"]
        assert f["filename"] == path.name
        assert f["sha256"] == sha256(path) and f["size"] == path.stat().st_size
        assert f["distribution"] in {d for d, _, _ in DISTS}
        assert Path(f["path"]).parent.parent.as_posix() in {d for _, d, _ in DISTS}


def test_sdists_carry_no_build_time_or_user(built):
    epoch = int(git(built.repo, "log", "-1", "--format=%ct"))
    for path in EXPECTED:
        if path.endswith(".tar.gz"):
            raw = (built.repo / path).read_bytes()
            assert int.from_bytes(raw[4:8], "little") == epoch  # the gzip header's mtime
            with tarfile.open(built.repo / path) as tar:
                for member in tar.getmembers():
                    assert (member.mtime, member.uid, member.gid) == (epoch, 0, 0), member.name
                    assert member.mode in (0o644, 0o755), member.name


def test_check_passes_on_the_build(built):
    proc = run([*MAKE, "check"], cwd=built.repo, env=built.env, check=True)
    assert proc.stdout.splitlines() == EXPECTED
    assert error_lines(proc.stderr) == []


def wheel_metadata(path: Path) -> Message:
    with zipfile.ZipFile(path) as whl:
        name = next(n for n in whl.namelist() if n.endswith(".dist-info/METADATA"))
        return HeaderParser().parsestr(whl.read(name).decode())


def test_built_metadata_declares_python_licence_urls_and_classifiers(built):
    """What PyPI shows and pip enforces, read from the built wheels: the same for all of them."""
    for path in EXPECTED[::2]:
        meta = wheel_metadata(built.repo / path)
        assert meta["Requires-Python"] == ">=3.10", path
        assert meta["License"] == "MIT" and meta["License-File"] == "LICENSE", path
        with zipfile.ZipFile(built.repo / path) as whl:
            assert any(n.endswith(".dist-info/licenses/LICENSE") for n in whl.namelist()), path
        urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL"))
        assert set(urls) == {"Source", "Issues", "Changelog"}, path
        assert all(u.startswith("https://github.com/open-finops/") for u in urls.values())
        classifiers = meta.get_all("Classifier")
        assert "Programming Language :: Python :: 3.10" in classifiers, path
        assert not any(c.startswith("License ::") for c in classifiers), path  # License: field
        assert meta["Description-Content-Type"] == "text/markdown", path
        assert meta.get_payload().lstrip().startswith("# open-finops"), path


def oldest_python() -> str | None:
    """A Python 3.10 (the oldest python_requires admits): one of pyenv's, or on PATH (a pyenv
    shim there may name a version that is not active, hence the probe)."""
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    candidates = [str(p) for p in sorted(pyenv.glob("versions/3.10*/bin/python3.10"))]
    candidates += [p for p in [shutil.which("python3.10")] if p]
    for candidate in candidates:
        probe = subprocess.run([candidate, "-c", "import sys; print(sys.version_info[:2])"],
                               capture_output=True, text=True, stdin=subprocess.DEVNULL,
                               timeout=60)
        if probe.returncode == 0 and probe.stdout.strip() == "(3, 10)":
            return candidate
    return None


OLDEST_PYTHON = oldest_python()  # at import, before the tests' own HOME hides ~/.pyenv


@pytest.mark.skipif(OLDEST_PYTHON is None, reason="no Python 3.10 on PATH or in ~/.pyenv")
def test_built_wheels_work_on_the_oldest_python(built, tmp_path):
    """core and docker installed from the built wheels into a Python 3.10 venv outside the
    repository (tomli comes from the index): config read with tomli, docker init from the
    package data, the aws extra named, versions listed without a warning."""
    venv = tmp_path / "venv310"
    run([OLDEST_PYTHON, "-m", "venv", str(venv)], cwd=tmp_path, check=True, timeout=120)
    # Only what reaches the package index through this machine's network.
    passed = {k: os.environ[k] for k in ("PIP_CERT", "SSL_CERT_FILE") if k in os.environ}
    env = base_env(tmp_path, PIP_CACHE_DIR=str(REPO / ".cache" / "pip"), **passed)
    wheels = [str(built.repo / p) for p in EXPECTED if p.startswith(("core/", "docker/"))
              and p.endswith(".whl")]
    run([str(venv / "bin/python"), "-m", "pip", "install", "--quiet", *wheels], cwd=tmp_path,
        env=env, check=True, timeout=300)
    finops = str(venv / "bin/finops")
    work = tmp_path / "work"
    work.mkdir()
    (work / "config.toml").write_text('[docker]\nport = 8080\n')
    version = run([finops, "--version"], cwd=work, env=env, check=True)
    listed = version.stdout.splitlines()
    assert listed == [f"open-finops-core {VERSION}", f"open-finops-docker {VERSION}"], \
        version.explain
    assert version.stderr == "", version.explain
    init = run([finops, "docker", "init"], cwd=work, env=env, check=True)
    assert "METABASE_PORT='8080'" in (work / "open-finops-docker/.env").read_text(), init.explain
    assert (work / "open-finops-docker/compose.yaml").is_file(), init.explain
    aws = run([finops, "aws", "--help"], cwd=work, env=env, check=False)
    assert aws.returncode == 1 and "pip install 'open-finops[aws]'" in aws.stderr, aws.explain


def test_build_leaves_the_tree_clean(built):
    for _, directory, _ in DISTS:
        assert not (built.repo / directory / "build").exists()
        assert not list((built.repo / directory).glob("*.egg-info"))
    assert git(built.repo, "status", "--porcelain") == ""


def test_rebuild_is_reproducible_drops_stale_files_and_keeps_uploads(built, copy):
    first = {p: sha256(built.repo / p) for p in EXPECTED}  # wheels and sdists
    stale = [copy / "core/dist/open_finops_core-0.2.0-py3-none-any.whl",
             copy / "dist/open_finops-0.2.0.tar.gz",
             copy / "vendors/aws/dist/open_finops_aws-9.9.9-py3-none-any.whl"]
    for path in stale:
        path.write_bytes(b"old")
    ledger = copy / LEDGER
    data = json.loads(ledger.read_text())
    data["uploads"] = {"staging": {"open-finops-core": "done"}}
    ledger.write_text(json.dumps(data))
    # A different umask must not change a byte: the build sets its own.
    proc = run(["bash", "-c", 'umask 077 && exec "$@"', "-", *MAKE, "build"], cwd=copy,
               env=built.env, check=True)
    assert proc.stdout.splitlines() == EXPECTED
    assert {p: sha256(copy / p) for p in first} == first
    assert not any(p.exists() for p in stale)
    data = json.loads(ledger.read_text())
    assert data["uploads"] == {"staging": {"open-finops-core": "done"}}
    assert [f["sha256"] for f in data["files"]] == [sha256(copy / p) for p in EXPECTED]


def test_a_clean_unchanged_commit_reuses_its_build_and_a_change_rebuilds(built, copy):
    """`make build` twice builds once; a tampered file or any change git sees builds again,
    and a build of a tree with changes is never reused (its bytes may be of the change)."""
    first = {p: sha256(built.repo / p) for p in EXPECTED}
    stats = {p: (copy / p).stat() for p in EXPECTED}

    def build() -> str:
        proc = run([*MAKE, "build"], cwd=copy, env=built.env, check=True)
        assert proc.stdout.splitlines() == EXPECTED, proc.explain
        assert {p: sha256(copy / p) for p in EXPECTED} == first, proc.explain
        return "reused" if f"==> reusing the {len(EXPECTED)} files" in proc.stderr else "built"

    assert build() == "reused"
    assert {p: ((copy / p).stat().st_ino, (copy / p).stat().st_mtime_ns) for p in EXPECTED} \
        == {p: (st.st_ino, st.st_mtime_ns) for p, st in stats.items()}  # not even rewritten
    (copy / EXPECTED[0]).write_bytes(b"tampered")
    assert build() == "built"
    assert build() == "reused"
    (copy / "notes.txt").write_text("an untracked file\n")
    assert build() == "built"
    (copy / "notes.txt").unlink()
    assert build() == "built"
    assert build() == "reused"


def test_a_pass_of_the_checks_is_recorded_and_a_change_checks_again(built, copy):
    """The same files at the same clean commit, with the same checkers, are checked once; a
    change git sees, or a changed file, runs every check again."""
    def check(expect_ok: bool = True) -> str:
        proc = run([*MAKE, "check"], cwd=copy, env=built.env, check=expect_ok)
        if "not checking them again" in proc.stderr:
            assert "==> twine check" not in proc.stderr, proc.explain
            assert proc.stdout.splitlines() == EXPECTED, proc.explain
            return "reused"
        assert f"==> twine check --strict ({len(EXPECTED)} files)" in proc.stderr, proc.explain
        return "checked"

    data = json.loads((copy / LEDGER).read_text())
    data.pop("checked", None)  # another test of the module may have checked `built` already
    (copy / LEDGER).write_text(json.dumps(data))
    assert check() == "checked"
    assert json.loads((copy / LEDGER).read_text())["checked"]["files"] == {
        p: sha256(copy / p) for p in EXPECTED}
    assert check() == "reused"
    (copy / "notes.txt").write_text("an untracked file\n")
    assert check() == "checked"  # and records nothing: that pass is of a tree with changes
    (copy / "notes.txt").unlink()
    assert check() == "reused"
    wheel = copy / EXPECTED[0]
    original = wheel.read_bytes()
    wheel.write_bytes(original + b"\0")
    assert check(expect_ok=False) == "checked"  # the changed file fails, never skipped
    wheel.write_bytes(original)
    assert check() == "reused"


def test_parallel_make_builds_then_checks(copy, built):
    run([*MAKE, "clean"], cwd=copy, env=built.env, check=True)
    assert not (copy / "core/dist").exists()
    assert (copy / LEDGER).exists()  # the ledger outlives clean: it records uploads
    proc = run([*MAKE, "-j4", "build", "check"], cwd=copy, env=built.env, check=True)
    assert EXPECTED[0] in proc.stdout


def test_check_without_a_build_says_to_build(tmp_path):
    repo = make_work_copy(tmp_path / "repo")
    proc = run([*MAKE, "check"], cwd=repo, check=False)
    assert error_lines(proc.stderr) == [
        f"error: no release ledger {LEDGER} for {VERSION}; run 'make build' first"], proc.explain


def test_build_failures_are_all_reported(copy, built):
    for directory in ("vendors/aws", "docker"):
        setup = copy / directory / "setup.py"
        setup.write_text(setup.read_text() + "\nthis is not python\n")
    proc = run([*MAKE, "build"], cwd=copy, env=built.env, check=False)
    errors = "\n".join(error_lines(proc.stderr))
    assert "build of open-finops-aws failed" in errors, proc.explain
    assert "build of open-finops-docker failed" in errors, proc.explain
    assert "open-finops-core" not in errors, proc.explain
    assert (copy / ".cache/build/open-finops-aws.log").is_file()


def rebuild_and_check(repo: Path, env) -> str:
    run([*MAKE, "build"], cwd=repo, env=env, check=True)
    proc = run([*MAKE, "check"], cwd=repo, env=env, check=False)
    assert proc.returncode != 0, proc.explain
    return "\n".join(error_lines(proc.stderr))


def test_check_names_each_policy_violation_of_edited_sources(copy, built):
    """Three real mistakes in setup.py files, rebuilt: every one is reported, naming its file."""
    aws = copy / "vendors/aws/setup.py"
    (copy / "vendors/aws/tests").mkdir()
    (copy / "vendors/aws/tests/__init__.py").write_text("")
    aws.write_text(aws.read_text().replace(
        'include=["open_finops.aws", "open_finops.aws.*"]',
        'include=["open_finops.aws", "open_finops.aws.*", "tests"]'))
    meta = copy / "setup.py"
    meta.write_text(meta.read_text().replace(f'"aws": ["open-finops-aws=={VERSION}"],', ""))
    docker = copy / "docker/setup.py"
    docker.write_text(docker.read_text().replace(f'"open-finops-core=={VERSION}"',
                                                 '"open-finops-core>=0.3"'))
    errors = rebuild_and_check(copy, built.env)
    assert (f"vendors/aws/dist/open_finops_aws-{VERSION}-py3-none-any.whl: ships "
            "'tests/__init__.py'") in errors
    assert f"dist/open_finops-{VERSION}-py3-none-any.whl: extra 'aws' is missing" in errors
    assert (f"docker/dist/open_finops_docker-{VERSION}-py3-none-any.whl: sibling requirement "
            "'open-finops-core>=0.3' is not pinned") in errors
    assert f"docker/dist/open_finops_docker-{VERSION}.tar.gz: sibling requirement" in errors
    # Each line names a fix as well as the file.
    assert all("; " in line for line in errors.splitlines())


def test_check_names_a_missing_entry_point_and_a_foreign_sdist_file(copy, built):
    aws = copy / "vendors/aws/setup.py"
    aws.write_text(aws.read_text().replace(
        'entry_points={"open_finops.vendors": ["aws = open_finops.aws.plugin:PLUGIN"]},', ""))
    manifest = copy / "MANIFEST.in"
    manifest.write_text(manifest.read_text() + "graft scripts\n")
    errors = rebuild_and_check(copy, built.env)
    assert (f"vendors/aws/dist/open_finops_aws-{VERSION}-py3-none-any.whl: no entry point 'aws' "
            "in group [open_finops.vendors]") in errors
    assert f"dist/open_finops-{VERSION}.tar.gz: holds 'scripts/" in errors


def rewrite_wheel(path: Path, extra: dict[str, bytes]) -> None:
    """Add files to a built wheel, with a consistent RECORD (as a careless tool would)."""
    with zipfile.ZipFile(path) as old:
        items = [(info, old.read(info)) for info in old.infolist()]
    record_name = next(i.filename for i, _ in items if i.filename.endswith(".dist-info/RECORD"))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        rows = []
        for info, data in items:
            if info.filename != record_name:
                new.writestr(info, data)
                rows.append(info.filename)
        for name, data in extra.items():
            new.writestr(name, data)
            rows.append(name)
        record = ""
        for name in rows:
            data = new.read(name)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            record += f"{name},sha256={digest.decode()},{len(data)}\n"
        new.writestr(record_name, record + f"{record_name},,\n")


def record_in_ledger(repo: Path) -> None:
    releasekit("ledger", "write", repo=repo, check=True)


def test_check_names_files_outside_the_package_in_a_rewritten_wheel(copy, built):
    wheel = copy / f"core/dist/open_finops_core-{VERSION}-py3-none-any.whl"
    rewrite_wheel(wheel, {"open_finops/__init__.py": b"", "core/helpers.py": b"x = 1\n"})
    record_in_ledger(copy)
    proc = run([*MAKE, "check"], cwd=copy, env=built.env, check=False)
    errors = "\n".join(error_lines(proc.stderr))
    name = f"core/dist/open_finops_core-{VERSION}-py3-none-any.whl"
    assert f"{name}: ships 'open_finops/__init__.py'" in errors, proc.explain
    assert f"{name}: ships 'core/helpers.py'" in errors, proc.explain
    # ...and the sdist no longer agrees with its wheel.
    assert (f"core/dist/open_finops_core-{VERSION}.tar.gz: lacks 'open_finops/__init__.py', "
            "which the wheel ships") in errors, proc.explain


def test_check_names_a_code_free_code_wheel(copy, built):
    wheel = copy / f"docker/dist/open_finops_docker-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as whl:
        keep = [i for i in whl.infolist() if ".dist-info/" in i.filename]
        data = {i.filename: whl.read(i) for i in keep}
    with zipfile.ZipFile(wheel, "w") as whl:
        for info in keep:
            whl.writestr(info, data[info.filename])
    record_in_ledger(copy)
    proc = run([*MAKE, "check"], cwd=copy, env=built.env, check=False)
    assert "has no modules under open_finops/docker/ (an empty code wheel)" in proc.stderr, \
        proc.explain


def test_check_refuses_a_file_changed_after_the_build(copy, built):
    wheel = copy / f"vendors/aws/dist/open_finops_aws-{VERSION}-py3-none-any.whl"
    rewrite_wheel(wheel, {})  # same contents, different bytes
    (copy / "dist/open_finops-0.0.1.tar.gz").write_bytes(b"stray")
    proc = run([*MAKE, "check"], cwd=copy, env=built.env, check=False)
    errors = "\n".join(error_lines(proc.stderr))
    assert (f"vendors/aws/dist/open_finops_aws-{VERSION}-py3-none-any.whl: changed since the "
            "build") in errors, proc.explain
    assert "dist/open_finops-0.0.1.tar.gz: not in the ledger" in errors, proc.explain


def test_check_refuses_a_build_of_another_version(copy, built):
    new = NEXT_PATCH
    cfg = copy / ".bumpversion.cfg"
    cfg.write_text(cfg.read_text().replace(f"current_version = {VERSION}",
                                           f"current_version = {new}"))
    proc = run([*MAKE, "check"], cwd=copy, env=built.env, check=False)
    assert f"no release ledger dist/release-{new}.json for {new}; run 'make build' first" in \
        proc.stderr, proc.explain
    # A ledger of that name holding the old build: every file's Version is named.
    shutil.copy(copy / LEDGER, copy / f"dist/release-{new}.json")
    proc = run([*MAKE, "check"], cwd=copy, env=built.env, check=False)
    errors = "\n".join(error_lines(proc.stderr))
    assert f"ledger is for {VERSION}, .bumpversion.cfg says {new}" in errors, proc.explain
    for path in EXPECTED:
        assert f"{path}: Version is '{VERSION}', .bumpversion.cfg says {new}" in errors
