"""`make new-vendor NAME=x`: one command scaffolds a vendor distribution and registers it
everywhere; the release path then builds, checks, stages and verifies every distribution
and the new one (two files each) with no other edit, `pip install 'open-finops[x]'` gives
`finops x --help`, and the publish workflow's three upload layers still hold. Bad or taken
names change nothing; check-versions names each place a hand-made vendor forgot."""
from __future__ import annotations

import json
import re

import pytest

from conftest import PACKAGES, VENV, VERSION, run
from indexkit import MAKE, copy_repo, toolkit_env
from release_tools import error_lines, snapshot
from test_workflow import run_step, step_with, workflow


@pytest.fixture
def repo(tmp_path):
    return copy_repo(tmp_path / "repo")


def test_new_vendor_is_released_with_the_others(repo, home):
    env = toolkit_env(home)
    made = run([*MAKE, "-s", "new-vendor", "NAME=acme"], cwd=repo, env=env, check=True)
    written = set(made.stdout.split())
    assert {"vendors/acme/setup.py", "vendors/acme/pyproject.toml", "vendors/acme/README.md",
            "vendors/acme/open_finops/acme/__init__.py", "vendors/acme/open_finops/acme/plugin.py",
            "tests/vendors/acme/test_acme_plugin.py", "Makefile", ".bumpversion.cfg", "setup.py",
            "core/open_finops/core/plugins.py", "CHANGELOG.md"} <= written, made.explain
    setup = (repo / "vendors/acme/setup.py").read_text()
    assert f'version="{VERSION}"' in setup and f'"open-finops-core=={VERSION}"' in setup
    pyproject = (repo / "vendors/acme/pyproject.toml").read_text().splitlines()
    assert [line for line in pyproject if line.startswith("[")] == ["[build-system]"]
    packages = run(["make", "-s", "print-packages"], cwd=repo, env=env, check=True).stdout.split()
    assert packages[-2:] == ["open-finops-acme=vendors/acme", "open-finops=."]
    run([*MAKE, "-s", "check-versions"], cwd=repo, env=env, check=True)
    status = run(["git", "status", "--porcelain"], cwd=repo, env=env, check=True).stdout
    assert "vendors/acme/" in status and ".github" not in status, status
    run(["git", "add", "-A"], cwd=repo, env=env, check=True)
    run(["git", "commit", "-qm", "acme"], cwd=repo, env=env, check=True)

    # The specs that prove the new vendor: alone, in [all], and (plain) its hint; the other
    # vendors' specs are those of every stage (test_stage.py).
    specs = ["open-finops", "open-finops[acme]", "open-finops[all]"]
    stage = run([*MAKE, "stage"], cwd=repo, env={**env, "VERIFY_SPECS": " ".join(specs)},
                timeout=900)
    assert stage.returncode == 0, stage.explain
    summary = json.loads((repo / "dist" / "stage-summary.json").read_text())
    assert len(summary["files"]) == 2 * len(packages)
    assert {f["where"] for f in summary["files"]} == {"uploaded"}
    assert {f["distribution"] for f in summary["files"]} >= {"open-finops-acme"}
    results = {r["spec"]: r["result"] for r in summary["install"]}
    # (verify refuses a VERIFY_SPECS name that is not a spec of the release: [acme] is one.)
    assert results == dict.fromkeys(specs, "ok"), stage.explain

    # The publish workflow takes its upload layers from the built wheels and has one job per
    # layer: its layers step, run as the runner runs it over these built files, puts the new
    # vendor in the middle layer and still finds three, so the workflow needs no edit.
    (repo / ".venv").symlink_to(VENV)
    wf = workflow()
    proc, outputs = run_step(wf, "build", step_with(wf["jobs"]["build"], id="layers"), repo,
                             home, "/usr/local/bin:/usr/bin:/bin", {}, check=True)
    layers = json.loads(outputs["layers"])
    assert [[d["distribution"] for d in layer] for layer in layers] == [
        ["open-finops-core"],
        [name for name, directory in PACKAGES if directory not in (".", "core")]
        + ["open-finops-acme"],
        ["open-finops"]], proc.explain
    text = (repo / ".github/workflows/publish.yml").read_text()
    assert len(re.findall(r"^  publish-layer-\d+:", text, re.M)) == len(layers)


@pytest.mark.parametrize("name, says", [
    ("Gcp", "is not a vendor name"),
    ("g", "is not a vendor name"),
    ("my-cloud", "is not a vendor name"),
    ("class", "is not a vendor name"),
    ("aws", "is taken"),
    ("docker", "is taken"),
    ("plugins", "is taken"),
    ("", "set NAME"),
])
def test_bad_or_taken_names_change_nothing(repo, home, name, says):
    before = snapshot(repo)
    proc = run([*MAKE, "new-vendor", f"NAME={name}"], cwd=repo, env=toolkit_env(home))
    assert proc.returncode != 0, proc.explain
    errors = error_lines(proc.stderr)
    assert len(errors) == 1 and says in errors[0], proc.explain
    assert snapshot(repo) == before


def test_a_failure_after_writing_puts_every_file_back(repo, home):
    """The scaffold checks every registration once it has written them: here core names a
    vendor that does not exist, so the check fails, and every file, new or edited, goes back."""
    plugins = repo / "core/open_finops/core/plugins.py"
    plugins.write_text(plugins.read_text().replace('    "aws": "aws",\n',
                                                   '    "aws": "aws",\n    "ghost": "ghost",\n'))
    run(["git", "commit", "-qam", "ghost"], cwd=repo, env=toolkit_env(home), check=True)
    before = snapshot(repo)
    proc = run([*MAKE, "new-vendor", "NAME=acme"], cwd=repo, env=toolkit_env(home))
    assert proc.returncode != 0, proc.explain
    line = next(number for number, text in enumerate(plugins.read_text().splitlines(), 1)
                if text.startswith("KNOWN_VENDORS"))
    assert error_lines(proc.stderr) == [
        f'error: core/open_finops/core/plugins.py:{line}: KNOWN_VENDORS names "ghost", which is '
        'not in PACKAGES; remove it'], proc.explain
    assert snapshot(repo) == before
    assert not (repo / "vendors" / "acme").exists()


def test_check_versions_names_each_registration_a_hand_made_vendor_lacks(repo, home):
    """A vendor directory added by hand, with PACKAGES and nothing else: every place that
    must know it is named with the file, the line and what to add."""
    env = toolkit_env(home)
    run([*MAKE, "-s", "new-vendor", "NAME=acme"], cwd=repo, env=env, check=True)
    for rel in ("core/open_finops/core/plugins.py", "setup.py"):
        run(["git", "checkout", "--", rel], cwd=repo, env=env, check=True)
    proc = run([*MAKE, "check-versions"], cwd=repo, env=env)
    assert proc.returncode != 0, proc.explain
    errors = "\n".join(error_lines(proc.stderr))
    assert re.search(r'core/open_finops/core/plugins\.py:\d+: KNOWN_VENDORS lacks "acme": "acme"',
                     errors), proc.explain
    assert re.search(r'setup\.py:\d+: extras_require lacks "acme": \["open-finops-acme==', errors)
    assert re.search(r'setup\.py:\d+: extras_require\'s "all" lacks open-finops-acme', errors)

    run(["git", "checkout", "--", "Makefile"], cwd=repo, env=env, check=True)
    proc = run([*MAKE, "check-versions"], cwd=repo, env=env)
    assert re.search(r"Makefile:\d+: PACKAGES lacks vendors/acme; add "
                     r"open-finops-acme=vendors/acme", proc.stderr), proc.explain
