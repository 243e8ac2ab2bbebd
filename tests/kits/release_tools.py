"""Helpers shared by the release toolkit's tests (check-versions, bump, build, check, lint)."""
from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from conftest import VENV, VERSION, base_env

# Make in a working copy with the real checkout's .venv: `-o` keeps Make from rebuilding that
# venv when a test edits a setup.py (it would re-point its editable installs at the copy).
MAKE = ["make", "-o", f"{VENV}/.stamp"]

# Versions relative to the current one, so that the suite still passes after `make bump`.
_MAJOR, _MINOR, _PATCH = (int(part) for part in VERSION.split("."))
NEXT_PATCH = f"{_MAJOR}.{_MINOR}.{_PATCH + 1}"
NEXT_MINOR = f"{_MAJOR}.{_MINOR + 1}.0"
NEXT_MAJOR = f"{_MAJOR + 1}.0.0"
#: A release that is neither the current version nor the next patch: a site edited by hand.
OTHER = f"{_MAJOR}.{_MINOR}.{_PATCH + 9}"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, env=base_env(), check=True,
                          capture_output=True, text=True).stdout.strip()


def snapshot(repo: Path) -> dict[str, object]:
    """Everything a failed bump must leave as it was: HEAD, tags, status, every file's bytes
    (but Python's bytecode caches, which the toolkit's own processes write and git ignores)."""
    files = {}
    for path in sorted(repo.rglob("*")):
        parts = path.relative_to(repo).parts
        if path.is_file() and ".git" not in parts and "__pycache__" not in parts:
            files[path.relative_to(repo).as_posix()] = hashlib.sha256(
                path.read_bytes()).hexdigest()
    return {
        "head": git(repo, "rev-parse", "HEAD"),
        "tags": git(repo, "tag", "-l"),
        "status": [line for line in git(repo, "status", "--porcelain", "--ignored").splitlines()
                   if "__pycache__/" not in line],
        "files": files,
    }


def error_lines(stderr: str) -> list[str]:
    """The error lines of a script (make's own "make: ***" line aside)."""
    return [line for line in stderr.splitlines() if line.startswith("error:")]
