"""The toolkit's conventions, for every script: --help, exit codes, DEBUG=1, any working
directory; `make help`; and the package list against the package directories."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from conftest import REPO, VENV, VERSION, base_env, make_work_copy, run
from release_tools import MAKE, error_lines

SCRIPTS = sorted(p for p in (REPO / "scripts").iterdir()
                 if p.is_file() and p.read_text().startswith("#!"))
BASH_SCRIPTS = [p for p in SCRIPTS if p.read_text().startswith("#!/usr/bin/env bash")]
CI_RUN = REPO / ".ci" / "run"
# Scripts of this part of the toolkit that take no arguments: any argument is a usage error.
NO_ARGUMENTS = ["check-versions", "bump", "build", "check", "lint", "clean"]
PACKAGES = run(["make", "-s", "print-packages"], check=True).stdout.split()


def ids(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


@pytest.mark.parametrize("script", [*SCRIPTS, CI_RUN], ids=ids)
def test_help_prints_the_header_and_exits_0(script):
    command = [str(VENV / "bin/python"), str(script)] if script.suffix == ".py" else [str(script)]
    proc = run([*command, "--help"], check=True)
    text = proc.stdout + proc.stderr
    if script.suffix == ".py":
        assert "usage:" in text.lower(), proc.explain
    else:
        assert "Summary:" in text and "Usage:" in text, proc.explain
        assert "set -Eeuo" not in text, proc.explain  # the header only, not the code


@pytest.mark.parametrize("script", [*BASH_SCRIPTS, CI_RUN], ids=ids)
def test_house_rules_of_every_bash_script(script):
    text = script.read_text()
    lines = text.splitlines()
    assert lines[0] == "#!/usr/bin/env bash"
    assert "set -Eeuo pipefail" in lines
    header = "\n".join(next(iter([lines[1:lines.index("set -Eeuo pipefail")]]), []))
    assert "# Summary:" in header and "# Usage:" in header
    assert [line for line in lines if line.strip()][-1] == 'main "$@"'
    assert script.stat().st_mode & 0o111, "not executable"


@pytest.mark.parametrize("name", NO_ARGUMENTS)
def test_unexpected_argument_is_a_usage_error(name):
    proc = run([str(REPO / "scripts" / name), "--frobnicate"], check=False)
    assert proc.returncode == 2, proc.explain
    assert len(error_lines(proc.stderr)) == 1 and "--help" in proc.stderr, proc.explain


def test_debug_traces_and_scripts_work_from_any_directory(tmp_path):
    plain = run([str(REPO / "scripts/check-versions")], cwd=tmp_path, check=True)
    traced = run([str(REPO / "scripts/check-versions")], cwd=tmp_path,
                 env=base_env(DEBUG="1"), check=True)
    assert traced.stdout == plain.stdout
    assert "+ " in traced.stderr and "+ " not in plain.stderr, traced.explain


def test_packages_from_make_when_run_alone(tmp_path):
    """Without PACKAGES in the environment a script asks the Makefile (no second list)."""
    env = base_env()
    env.pop("PACKAGES", None)
    proc = run([str(REPO / "scripts/check-versions")], cwd=tmp_path, env=env, check=True)
    assert "vendors/aws/setup.py" in proc.stdout


def public_targets() -> list[str]:
    makefile = (REPO / "Makefile").read_text()
    return re.findall(r"^\.PHONY: *([\w-]+) *## ", makefile, re.M)


def test_make_help_lists_every_public_target():
    proc = run(["make", "help"], check=True)
    listed = re.findall(r"^  ([\w-]+) ", proc.stdout, re.M)
    targets = public_targets()
    assert listed == targets, proc.explain
    for mine in ("check-versions", "bump", "build", "check", "lint", "test", "clean"):
        assert mine in listed
    assert run(["make"], check=True).stdout == proc.stdout  # help is the default goal


def test_make_help_lists_every_setting_with_its_default_and_one_line():
    """Every `?=` variable of the Makefile, written once there with the `##` line above it."""
    makefile = (REPO / "Makefile").read_text()
    declared = dict(re.findall(r"^([A-Z_]+) *\?= *(.*)$", makefile, re.M))
    proc = run(["make", "help"], check=True)
    settings = proc.stdout.split("\nSettings", 1)[1]
    listed = dict(re.findall(r"^  ([A-Z_]+)=(\S*) +\S", settings, re.M))
    assert listed == declared, proc.explain
    assert "(undocumented)" not in settings, proc.explain
    assert {"VERSION", "PART", "CONFIRM", "AUDIT", "KEEP_INDEX", "INDEX_URL", "REPOSITORY_URL",
            "EXTRA_INDEX_URL", "VERIFY_SPECS", "UPLOAD_DEADLINE", "VERIFY_DEADLINE",
            "INDEX_GRACE", "PYTHON", "DEBUG"} <= set(listed)
    # A default given here is the one a script falls back to when run alone.
    fallbacks = re.findall(r'\$\{([A-Z_]+):-(\w+)\}|environ\.get\("([A-Z_]+)", "(\w+)"\)',
                           "".join(p.read_text() for p in SCRIPTS) +
                           "".join(p.read_text() for p in (REPO / "scripts" / "releasekit")
                                   .glob("*.py")))
    for name, value in {(a or c, b or d) for a, b, c, d in fallbacks}:
        if declared.get(name):
            assert value == declared[name], (name, value, declared[name])
    assert {"UPLOAD_DEADLINE", "VERIFY_DEADLINE", "INDEX_GRACE"} <= {
        a or c for a, _, c, _ in fallbacks}


def package_dirs(root: Path) -> set[str]:
    """Every directory holding a setup.py, outside tooling and build output."""
    skip = {".venv", ".cache", ".git", "build", "dist", "node_modules", "tests", ".github"}
    found = set()
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [name for name in subfolders if name not in skip]  # not walked at all
        if "setup.py" in files:
            rel = Path(folder).relative_to(root)
            found.add(rel.as_posix() if rel.parts else ".")
    return found


def missing_from_packages(root: Path, packages: list[str]) -> set[str]:
    return package_dirs(root) - {word.split("=", 1)[1] for word in packages}


def test_every_package_directory_is_in_packages():
    assert missing_from_packages(REPO, PACKAGES) == set(), "add it to PACKAGES in the Makefile"
    for word in PACKAGES:
        assert (REPO / word.split("=", 1)[1] / "setup.py").is_file(), word


def test_a_new_package_directory_missing_from_packages_is_caught(tmp_path):
    (tmp_path / "vendors/acme").mkdir(parents=True)
    (tmp_path / "vendors/acme/setup.py").write_text("")
    (tmp_path / "core").mkdir()
    (tmp_path / "core/setup.py").write_text("")
    assert missing_from_packages(tmp_path, ["open-finops-core=core"]) == {"vendors/acme"}


def test_packages_are_in_dependency_order():
    """A distribution's sibling requirements come before it in PACKAGES."""
    names = [word.split("=", 1)[0] for word in PACKAGES]
    for position, word in enumerate(PACKAGES):
        name, directory = word.split("=", 1)
        setup = (REPO / directory / "setup.py").read_text()
        for sibling in names:
            if sibling != name and re.search(rf'"{re.escape(sibling)}==', setup):
                assert names.index(sibling) < position, f"{sibling} must come before {name}"


def test_clean_removes_build_output_only(work_copy):
    for rel in ("core/dist/x.whl", "dist/y.tar.gz", "core/build/lib/z.py",
                "vendors/aws/open_finops_aws.egg-info/PKG-INFO", ".cache/build/a.log",
                "dist/release-0.3.0.json", ".cache/actionlint/keep"):
        (work_copy / rel).parent.mkdir(parents=True, exist_ok=True)
        (work_copy / rel).write_text("x")
    run([*MAKE, "clean"], cwd=work_copy, check=True)
    assert not (work_copy / "core/dist").exists()
    assert not (work_copy / "core/build").exists()
    assert not (work_copy / "vendors/aws/open_finops_aws.egg-info").exists()
    assert not (work_copy / ".cache/build").exists()
    assert not (work_copy / "dist/y.tar.gz").exists()
    assert (work_copy / "dist/release-0.3.0.json").exists()
    assert (work_copy / ".cache/actionlint/keep").exists()
    assert (work_copy / "core/setup.py").exists()


def test_test_script_refuses_a_run_without_tests(tmp_path):
    """pytest's exit 5 (nothing collected) must fail, so CI never passes on no tests."""
    proc = run([str(REPO / "scripts/test"), "-k", "no_test_has_this_name_at_all", "-n", "0",
                "tests/releasekit/test_scripts.py"], env=base_env(), check=False)
    assert proc.returncode == 1, proc.explain
    assert "collected no tests" in proc.stderr, proc.explain


def test_ci_run_runs_make_test():
    text = CI_RUN.read_text()
    assert "make test" in text
    assert "make test" in (REPO / "README.md").read_text()


def test_a_fresh_clone_bootstraps_its_venv_on_first_need(tmp_path):
    """Only python3, make and git on PATH, no .venv: the first target creates .venv from the
    pinned requirements (PyPI, through pip's and uv's caches), installs the packages of this
    clone editable, and does so once; a changed requirements-dev.txt or setup.py makes it
    again. The venv holds the lock's versions and nothing else."""
    repo = make_work_copy(tmp_path / "repo")
    passed = {k: os.environ[k] for k in ("PIP_CERT", "SSL_CERT_FILE") if k in os.environ}
    # PIP_COMPILE=0 and UV_COMPILE_BYTECODE=0 (pip's and uv's own switches): byte-compiling
    # every installed module, most of the bootstrap's CPU here, is the installers' own work,
    # and nothing below depends on it.
    env = base_env(PATH="/usr/local/bin:/usr/bin:/bin", PIP_CACHE_DIR=str(REPO / ".cache/pip"),
                   UV_CACHE_DIR=str(REPO / ".cache/uv"), PIP_COMPILE="0",
                   UV_COMPILE_BYTECODE="0", PROGRESS_EVERY="2",
                   **passed)
    del env["VENV"]  # the clone's own .venv
    first = run(["make", "check-versions"], cwd=repo, env=env, check=True, timeout=900)
    assert "==> creating" in first.stderr and (repo / ".venv/.stamp").is_file(), first.explain
    # The bootstrap talks while the installers work, through ticking (a line every
    # PROGRESS_EVERY seconds): here only if this install outlasted 2 s, which a warm cache
    # does not; test_ticking_says_what_it_awaits_while_it_waits shows the line itself.
    if "==> still " in first.stderr:
        assert re.search(r"==> still installing requirements-dev.txt into \S+: \d+s so far",
                         first.stderr), first.explain
    assert "is ready" in first.stderr
    assert "Editable installation" not in first.stderr, first.explain  # no setuptools banner
    where = run([str(repo / ".venv/bin/python"), "-c",
                 "import open_finops.aws, open_finops.core, open_finops.docker as d;"
                 " print(d.__file__)"], cwd=tmp_path, env=env, check=True)
    assert where.stdout.startswith(str(repo / "docker")), where.explain
    version = run([str(repo / ".venv/bin/finops"), "--version"], cwd=tmp_path, env=env,
                  check=True)
    assert f"open-finops-core {VERSION}" in version.stdout, version.explain
    frozen = run([str(repo / ".venv/bin/python"), "-m", "pip", "freeze", "--exclude-editable"],
                 cwd=tmp_path, env=env, check=True).stdout
    pinned = set(re.findall(r"^([A-Za-z0-9_.-]+==\S+)", (repo / "requirements-dev.txt")
                            .read_text(), re.M))
    installed = {line.strip() for line in frozen.splitlines() if "==" in line}
    canon = lambda req: re.sub(r"[-_.]+", "-", req).lower()  # noqa: E731
    # Every installed version is the lock's (entries behind another platform's or Python's
    # markers are not installed), and the big ones are there.
    assert {canon(r) for r in installed} <= {canon(r) for r in pinned}, frozen
    names = {canon(r).split("==")[0] for r in installed}
    assert {"uv", "duckdb", "pytest", "twine", "azure-storage-blob"} <= names, frozen

    again = run(["make", "check-versions"], cwd=repo, env=env, check=True)
    assert "==> creating" not in again.stderr, again.explain
    later = (repo / ".venv/.stamp").stat().st_mtime + 10
    for changed in ("requirements-dev.txt", "docker/setup.py"):
        os.utime(repo / changed, (later, later))
        planned = run(["make", "-n", "check-versions"], cwd=repo, env=env, check=True)
        assert "scripts/dev" in planned.stdout, (changed, planned.explain)
        os.utime(repo / changed, (later - 20, later - 20))
    # As after `make bump` (every setup.py changes): the venv is brought up to date, and the
    # next target says so.
    os.utime(repo / "docker/setup.py", (later, later))
    updated = run(["make", "check-versions"], cwd=repo, env=env, check=True)
    assert f"==> updating {repo}/.venv from requirements-dev.txt and the packages' setup.py" \
        in updated.stderr and "==> creating" not in updated.stderr, updated.explain


def test_ticking_says_what_it_awaits_while_it_waits():
    """lib.sh's ticking, as scripts/dev runs the installers with it: a line each
    PROGRESS_EVERY seconds while the command runs, its exit status kept."""
    assert 'ticking "installing requirements-dev.txt into $venv"' in \
        (REPO / "scripts" / "dev").read_text()
    proc = run(["bash", "-c", f"source {REPO}/scripts/lib.sh; "
                "PROGRESS_EVERY=1 ticking 'installing x' sh -c 'sleep 2.5; exit 3'"],
               env=base_env())
    assert proc.returncode == 3, proc.explain
    said = re.findall(r"^==> still installing x: (\d+)s so far \(no deadline of ours; the "
                      r"installer retries by itself\)$", proc.stderr, re.M)
    assert said and len(said) == len(proc.stderr.splitlines()), proc.explain
    assert [int(s) for s in said] == sorted(int(s) for s in said) and int(said[0]) >= 1


def test_a_venv_of_another_checkout_is_never_built_from_here(tmp_path):
    proc = run(["make", "check-versions"], env=base_env(VENV=str(tmp_path / "elsewhere")),
               check=False)
    assert proc.returncode == 2, proc.explain
    assert proc.stderr.splitlines()[0] == (f"error: no virtualenv at {tmp_path}/elsewhere; run"
                                           " 'make dev' in its checkout"), proc.explain
    assert not (tmp_path / "elsewhere").exists()


# Python's own words when Ctrl-C lands while it starts or while it handles another exception.
CHAINED_INTERRUPT = """import sys
try:
    {}["missing"]
except KeyError:
    raise KeyboardInterrupt
"""


@pytest.mark.parametrize("program, kept, chain_shown", [
    (CHAINED_INTERRUPT, False, False),
    ("raise KeyboardInterrupt", False, False),
    ("raise ValueError('a real failure')", True, False),
    ("try:\n    {}['missing']\nexcept KeyError:\n    raise ValueError('chained')", True, True),
    # A real traceback, then an interrupt's: the first stays.
    ("import traceback\ntry:\n    raise ValueError('a real failure')\nexcept ValueError:\n"
     "    traceback.print_exc()\nraise KeyboardInterrupt", True, False),
    # Ctrl-C, then a failure while handling it: the failure stays, the interrupt goes.
    ("try:\n    raise KeyboardInterrupt\nfinally:\n    raise ValueError('after Ctrl-C')", True,
     False),
])
def test_quiet_interrupts_drops_interrupt_tracebacks_only(tmp_path, program, kept, chain_shown):
    """lib.sh's filter of releasekit's stderr: a traceback ending in KeyboardInterrupt (also
    one chained to another exception) never reaches a user; any other one passes whole, and
    so do the lines around it."""
    (tmp_path / "program.py").write_text(program)
    proc = run(["bash", "-c", f'source {REPO}/scripts/lib.sh; '
                f'{{ echo before; python3 {tmp_path}/program.py; echo after; }} 2>&1 | '
                'quiet_interrupts'], env=base_env())
    lines = proc.stdout.splitlines()
    assert lines[0] == "before" and lines[-1] == "after", proc.explain
    assert ("Traceback (most recent call last):" in proc.stdout) is kept, proc.explain
    assert "KeyboardInterrupt" not in proc.stdout, proc.explain
    assert ("During handling" in proc.stdout) is chain_shown, proc.explain
    if kept:
        assert lines[-2].startswith("ValueError:"), proc.explain


# A verb run by another (not the outermost) with a background job whose command ignores
# SIGINT and keeps writing into the verb's folder; its EXIT trap removes the folder (verify's
# jobs and TMP, in small).
JOB_VERB = """source {lib}
export RELEASEKIT_OUTER=1  # another process is the outermost verb
handle_interrupts
DIR={dir}
mkdir -p "$DIR"
trap 'rm -rf "$DIR"' EXIT
( trap '' INT  # as verify's jobs: Ctrl-C is the outermost verb's to handle
  sh -c 'while :; do mkdir -p "$1/venv"; touch "$1/venv/file"; sleep 0.05; done' sh "$DIR"
  rm -rf "$DIR/venv" ) &
echo started >{ready}
wait
"""


def test_ctrl_c_ends_a_jobs_commands_before_the_exit_trap_cleans_up(tmp_path):
    """The cause of a folder left behind after Ctrl-C during verify: TERM ended the job's
    subshell, but its command went on writing while the EXIT trap removed the folder."""
    import signal
    import subprocess
    import time
    work, ready = tmp_path / "work", tmp_path / "ready"
    script = tmp_path / "verb"
    script.write_text(JOB_VERB.format(lib=REPO / "scripts" / "lib.sh", dir=work, ready=ready))
    with (tmp_path / "stderr").open("w") as stderr:
        proc = subprocess.Popen(["bash", str(script)], env=base_env(), start_new_session=True,
                                stdin=subprocess.DEVNULL, stderr=stderr)
    try:
        deadline = time.monotonic() + 30
        while not (ready.exists() and (work / "venv" / "file").exists()):
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=30)
        time.sleep(0.3)  # a writer still alive would have made the folder again by now
        outlived = [p for p in Path("/proc").iterdir() if p.name.isdigit()
                    and str(work).encode() in _cmdline(p)]
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # whatever of the group is left
        except ProcessLookupError:
            pass
    err = (tmp_path / "stderr").read_text()
    assert proc.returncode == -signal.SIGINT, err  # dies of SIGINT, so its caller knows
    assert outlived == [], "the job's command outlived the verb"
    assert not work.exists(), err


def _cmdline(proc: Path) -> bytes:
    try:
        return (proc / "cmdline").read_bytes()
    except OSError:
        return b""


def test_the_slow_test_files_scheduled_first_exist():
    from conftest import SLOW_FIRST

    missing = [path for path in SLOW_FIRST if not (REPO / "tests" / path).is_file()]
    assert missing == [], "rename them in SLOW_FIRST of tests/conftest.py"
