"""The publish workflow, .github/workflows/publish.yml: read as YAML, and its run steps run as
a GitHub runner runs them (`bash --noprofile --norc -eo pipefail`, GITHUB_OUTPUT, the job's
env, ${{ }} expressions filled in) on a built working copy against a real pypiserver.

The publish jobs run a bare python3 (no venv); here that is this interpreter's base Python
with -S, so no site-packages at all: the toolkit's publish commands must need the standard
library only. The one thing that cannot run here, pypa/gh-action-pypi-publish, is stood in
for by the venv's twine uploading the same upload/ directory."""
from __future__ import annotations

import itertools
import json
import re
import shutil
import socket
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REPO, VENV, VERSION, run
from indexkit import ledger, sha256, toolkit_env

WORKFLOW = REPO / ".github" / "workflows" / "publish.yml"
#: What a Linux runner runs a step with: for `shell: bash` "bash --noprofile --norc -eo
#: pipefail {0}", with no shell given "bash -e {0}" (GitHub's documentation of `shell`).
SHELLS = {"bash": ["bash", "--noprofile", "--norc", "-eo", "pipefail"], None: ["bash", "-e"]}
PUBLISH_ACTION = "pypa/gh-action-pypi-publish@"
EXPRESSION = re.compile(r"\$\{\{\s*(.+?)\s*\}\}")
#: A pipe between commands: one "|" that is not half of "||".
PIPE = re.compile(r"(?<!\|)\|(?!\|)")
_STEP_RUNS = itertools.count()


def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def publish_jobs(wf: dict) -> dict[str, dict]:
    """The jobs that upload (a step uses the PyPI publish action), by name."""
    return {name: job for name, job in wf["jobs"].items()
            if any(step.get("uses", "").startswith(PUBLISH_ACTION) for step in job["steps"])}


def step_with(job: dict, **where: str) -> dict:
    """The one step of a job whose fields contain the given texts (id="state", run="...")."""
    found = [s for s in job["steps"] if all(text in str(s.get(k, "")) for k, text in where.items())]
    assert len(found) == 1, f"expected one step with {where}, found {len(found)}"
    return found[0]


def expand(value: str, values: dict[str, str]) -> str:
    """A ${{ }} expression filled in; one the test did not provide fails (KeyError), so the
    test knows everything a step reads."""
    return EXPRESSION.sub(lambda m: values[m.group(1)], str(value))


def read_outputs(path: Path) -> dict[str, str]:
    """GITHUB_OUTPUT's two forms: name=value and name<<DELIMITER ... DELIMITER."""
    outputs, lines = {}, path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    while lines:
        line = lines.pop(0)
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body = []
            while (item := lines.pop(0)) != delimiter:
                body.append(item)
            outputs[name] = "\n".join(body)
        else:
            name, value = line.split("=", 1)
            outputs[name] = value
    return outputs


@pytest.fixture(scope="module")
def bare_python3(tmp_path_factory) -> Path:
    """A directory whose python3 is the base interpreter without site-packages (-S)."""
    bin_dir = tmp_path_factory.mktemp("bare-python") / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "python3"
    base = getattr(sys, "_base_executable", "") or Path(sys.base_prefix) / "bin" / "python3"
    shim.write_text(f'#!/bin/sh\nexec "{base}" -S "$@"\n')
    shim.chmod(0o755)
    return bin_dir


def run_step(wf: dict, job_name: str, step: dict, cwd: Path, home: Path, path: str,
             values: dict[str, str], check: bool | None = None, **env: str):
    """Run one step's script as the runner would; returns (process, its GITHUB_OUTPUT)."""
    job = wf["jobs"][job_name]
    outputs = home / f"github-output-{next(_STEP_RUNS)}"
    settings = {**wf.get("env", {}), **job.get("env", {}), **step.get("env", {})}
    full = toolkit_env(home, PATH=path, GITHUB_OUTPUT=str(outputs),
                       **{k: expand(v, values) for k, v in settings.items()})
    full.pop("VENV", None)  # a runner knows nothing of the toolkit's venv
    full.update(env)
    script = home / "step.sh"
    script.write_text(step["run"], encoding="utf-8")
    shell = (step.get("shell") or job.get("defaults", {}).get("run", {}).get("shell")
             or wf.get("defaults", {}).get("run", {}).get("shell"))
    proc = run([*SHELLS[shell], str(script)], cwd=cwd, env=full, check=check, timeout=300)
    return proc, read_outputs(outputs)


def build_outputs(wf, copy: Path, home: Path, path: str) -> dict[str, str]:
    """The build job's outputs, from the steps that set them, run in the built copy."""
    build = wf["jobs"]["build"]
    found = {}
    for name, value in build["outputs"].items():
        step_id, output = re.fullmatch(r"\$\{\{\s*steps\.([\w-]+)\.outputs\.([\w-]+)\s*\}\}",
                                       value).groups()
        proc, outputs = run_step(wf, "build", step_with(build, id=step_id), copy, home, path,
                                 {}, check=True)
        found[name] = outputs[output]
    return found


def runner_path(bare: Path) -> str:
    return f"{bare}:/usr/local/bin:/usr/bin:/bin"


@pytest.fixture
def runner_copy(built_copy):
    """A built copy with the toolkit's venv where the build job has it (.venv)."""
    (built_copy / ".venv").symlink_to(VENV)
    return built_copy


# --- the shell --------------------------------------------------------------------------

def test_every_run_step_is_bash_with_pipefail():
    wf = workflow()
    assert wf["defaults"]["run"]["shell"] == "bash"
    piping = []
    for name, job in wf["jobs"].items():
        assert job.get("defaults", {}).get("run", {}).get("shell", "bash") == "bash", name
        for step in job["steps"]:
            if "run" in step:
                assert step.get("shell", "bash") == "bash", (name, step)
                if PIPE.search(step["run"]):
                    piping.append((name, step.get("name", step["run"])))
    # The test is about something: the state step pipes into tee in every publish job.
    assert len(piping) >= len(publish_jobs(wf)) >= 3, piping


def test_an_unreachable_index_fails_the_state_step_instead_of_uploading_nothing(
        runner_copy, bare_python3, home):
    """The old bug: `state | tee` under bash without pipefail left missing=0, skipped the
    upload and waited 900 s for files never sent."""
    wf = workflow()
    with socket.socket() as s:  # a port nothing listens on: connections are refused
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/simple/"
    job = "publish-layer-1"
    proc, outputs = run_step(wf, job, step_with(wf["jobs"][job], id="state"), runner_copy,
                             home, runner_path(bare_python3),
                             {"matrix.distribution": "open-finops-core"},
                             DISTRIBUTION="open-finops-core", INDEX_URL=dead)
    assert proc.returncode == 1, proc.explain
    assert "missing" not in outputs, proc.explain
    assert f"error: cannot reach the index at {dead}open-finops-core/" in proc.stderr, \
        proc.explain
    assert "Traceback" not in proc.stderr, proc.explain


# --- the downloaded files ---------------------------------------------------------------

def test_publish_jobs_check_the_download_against_the_build_jobs_output():
    wf = workflow()
    jobs = publish_jobs(wf)
    assert len(jobs) == 3
    outputs = [o for o in wf["jobs"]["build"]["outputs"] if o != "layers"]  # the sums
    assert outputs
    for name, job in jobs.items():
        steps = job["steps"]
        kinds = [s.get("uses", "").split("@")[0] or "run" for s in steps]
        download = kinds.index("actions/download-artifact")
        publish = kinds.index(PUBLISH_ACTION.rstrip("@"))
        checks = [i for i, s in enumerate(steps) if "run" in s and any(
            f"needs.build.outputs.{o}" in v for o in outputs for v in s.get("env", {}).values())]
        assert checks and download < checks[0] < publish, (name, kinds, checks)
        assert "build" in ([job["needs"]] if isinstance(job["needs"], str) else job["needs"])


def test_the_publish_steps_run_on_bare_python3_and_upload_exactly_the_missing_files(
        runner_copy, bare_python3, local_index, home):
    """Layer 1 (open-finops-core) as its job runs it: the download check, the state, the
    upload of upload/ (twine standing in for the publish action), the barrier; then a rerun
    uploads nothing (it resumes)."""
    wf = workflow()
    path = runner_path(bare_python3)
    values = {"matrix.distribution": "open-finops-core", **{
        f"needs.build.outputs.{k}": v
        for k, v in build_outputs(wf, runner_copy, home, path).items()}}
    job_name = "publish-layer-1"
    job = wf["jobs"][job_name]
    env = {"DISTRIBUTION": "open-finops-core", "INDEX_URL": local_index.index_url,
           "REPOSITORY_URL": local_index.repository_url}
    check_step = step_with(job, run="sha256sum --check")
    run_step(wf, job_name, check_step, runner_copy, home, path, values, check=True, **env)
    proc, outputs = run_step(wf, job_name, step_with(job, id="state"), runner_copy, home,
                             path, values, check=True, **env)
    core = {f["filename"]: f["sha256"] for f in ledger(runner_copy)["files"]
            if f["distribution"] == "open-finops-core"}
    assert outputs["missing"] == "2", proc.explain
    upload = runner_copy / "upload"
    assert {p.name: sha256(p) for p in upload.iterdir()} == core

    run([str(VENV / "bin/twine"), "upload", "--non-interactive", "--disable-progress-bar",
         "--repository-url", local_index.repository_url, *map(str, sorted(upload.iterdir()))],
        env=local_index.env(), check=True)
    shutil.rmtree(upload)
    run_step(wf, job_name, step_with(job, name="Propagation barrier"), runner_copy, home,
             path, values, check=True, **env)
    assert local_index.files() == core

    proc, outputs = run_step(wf, job_name, step_with(job, id="state"), runner_copy, home,
                             path, values, check=True, **env)
    assert outputs["missing"] == "0", proc.explain
    assert sorted(proc.stdout.split("\n")[:-1]) == sorted(
        f"present\t{name}\topen-finops-core\tcore/dist/{name}" for name in core)


def test_a_download_changed_together_with_its_ledger_is_refused(runner_copy, bare_python3,
                                                                home):
    """An artifact that carries other bytes and a ledger agreeing with them passes the
    ledger's own check; only the build job's output catches it."""
    wf = workflow()
    path = runner_path(bare_python3)
    values = {"matrix.distribution": "open-finops-aws", **{
        f"needs.build.outputs.{k}": v
        for k, v in build_outputs(wf, runner_copy, home, path).items()}}
    data = ledger(runner_copy)
    wheel = next(f for f in data["files"]
                 if f["distribution"] == "open-finops-aws" and f["filename"].endswith(".whl"))
    target = runner_copy / wheel["path"]
    target.write_bytes(target.read_bytes() + b"\0")
    wheel["sha256"], wheel["size"] = sha256(target), target.stat().st_size
    (runner_copy / "dist" / f"release-{VERSION}.json").write_text(json.dumps(data, indent=2))
    (runner_copy / "dist" / ".sha256-cache.json").unlink(missing_ok=True)  # not in artifacts
    bare = toolkit_env(home, PATH=path, PYTHONPATH="scripts")
    run(["python3", "-m", "releasekit", "ledger", "verify", "--distribution", "open-finops-aws"],
        cwd=runner_copy, env=bare, check=True)

    for job_name, job in publish_jobs(wf).items():
        proc, _ = run_step(wf, job_name, step_with(job, run="sha256sum --check"), runner_copy,
                           home, path, values, DISTRIBUTION="open-finops-aws")
        assert proc.returncode == 1, proc.explain
        assert f"{wheel['path']}: FAILED" in proc.stdout + proc.stderr, proc.explain
        assert f"dist/release-{VERSION}.json: FAILED" in proc.stdout + proc.stderr, proc.explain


# --- the layers ---------------------------------------------------------------------------

def test_the_publish_matrices_are_the_build_jobs_three_layers_and_name_no_distribution():
    wf = workflow()
    jobs = publish_jobs(wf)
    includes = [job["strategy"]["matrix"]["include"] for job in jobs.values()]
    assert includes == [f"${{{{ fromJSON(needs.build.outputs.layers)[{i}] }}}}"
                        for i in range(3)]
    assert [job["needs"] for job in jobs.values()] == [
        "build", ["build", "publish-layer-1"], ["build", "publish-layer-2"]]
    text = WORKFLOW.read_text(encoding="utf-8")
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    names = re.search(r"^PACKAGES := (.*)$", makefile, re.M).group(1).split()
    for name in (word.split("=")[0] for word in names):
        assert name not in text, f"{name} is written in the workflow"


def test_a_file_pypi_holds_with_other_bytes_stops_the_job_saying_bump(
        runner_copy, bare_python3, local_index, home):
    wf = workflow()
    wheel = next(f for f in ledger(runner_copy)["files"]
                 if f["distribution"] == "open-finops-core" and f["filename"].endswith(".whl"))
    local_index.packages.mkdir(parents=True, exist_ok=True)
    (local_index.packages / wheel["filename"]).write_bytes(b"other bytes")
    job = "publish-layer-1"
    proc, outputs = run_step(wf, job, step_with(wf["jobs"][job], id="state"), runner_copy,
                             home, runner_path(bare_python3),
                             {"matrix.distribution": "open-finops-core"},
                             DISTRIBUTION="open-finops-core", INDEX_URL=local_index.index_url)
    assert proc.returncode == 1 and "missing" not in outputs, proc.explain
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and wheel["filename"] in errors[0], proc.explain
    assert "bump the version" in errors[0] and "resume" not in proc.stderr, proc.explain
