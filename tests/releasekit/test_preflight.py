"""The pre-flight: `make publish` stops before any upload and says why (dirty tree, no tag,
no CHANGELOG section, changed or foreign built files), and the confirmation."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from conftest import VERSION, run
from indexkit import MAKE, git, publish, toolkit_env, uploaded_names


def _dirty(repo: Path) -> str:
    (repo / "README.md").write_text((repo / "README.md").read_text() + "\nuncommitted\n")
    return "uncommitted changes"


def _untagged(repo: Path) -> str:
    git(repo, "tag", "-d", f"v{VERSION}")
    return f"not tagged v{VERSION}"


def _no_changelog_section(repo: Path) -> str:
    path = repo / "CHANGELOG.md"
    text = re.sub(rf"^## \[{re.escape(VERSION)}\].*?(?=^## |\Z)", "", path.read_text(),
                  flags=re.S | re.M)
    path.write_text(text)
    git(repo, "commit", "-qam", "drop the notes")
    git(repo, "tag", "-f", f"v{VERSION}")
    return f"no non-empty section for {VERSION}"


@pytest.mark.parametrize("spoil", [_dirty, _untagged, _no_changelog_section])
def test_preflight_refuses_before_any_upload(built_copy, local_index, spoil):
    reason = spoil(built_copy)
    proc = publish(built_copy, local_index.env())
    assert proc.returncode != 0, proc.explain
    assert reason in proc.stderr, proc.explain
    assert "nothing was uploaded" in proc.stderr
    assert uploaded_names(proc.stderr) == []
    assert local_index.files() == {}


def preflight(repo: Path, index, *args: str, **env: str):
    return run([str(repo / "scripts" / "preflight"), *args], cwd=repo,
               env=index.env(**env))


@pytest.mark.parametrize("notes, ok", [
    (f"## [{VERSION}] - 2026-11-01\n\n### Added\n\n- A thing.\n", True),
    (f"## v{VERSION}\nFixed it.\n", True),
    (f"## [{VERSION}] - 2026-11-01\n\n### Added\n\n## [0.0.1]\n\n- Old.\n", False),
    (f"## [{VERSION}0] - 2026-11-01\n\n- Another version.\n", False),
    (f"## [Unreleased]\n\n- {VERSION} is coming.\n", False),
])
def test_changelog_section_must_name_the_version(work_copy, home, notes, ok):
    # The source phase (git, tag, CHANGELOG) is the one that reads the notes: no build, no
    # index needed.
    (work_copy / "CHANGELOG.md").write_text(f"# Changelog\n\n{notes}")
    git(work_copy, "commit", "-qam", "notes")
    git(work_copy, "tag", "-f", f"v{VERSION}")
    proc = run([str(work_copy / "scripts" / "preflight"), "--phase", "source"], cwd=work_copy,
               env=toolkit_env(home))
    assert (proc.returncode == 0) == ok, proc.explain
    assert ("section for" in proc.stderr) != ok


def test_changed_built_file_is_refused(built_copy, local_index):
    wheel = next((built_copy / "docker" / "dist").glob("*.whl"))
    wheel.write_bytes(wheel.read_bytes() + b"\0")
    proc = preflight(built_copy, local_index, "--rehearsal")
    assert proc.returncode == 1, proc.explain
    assert "differ from the release ledger" in proc.stderr and wheel.name in proc.stderr


def test_files_built_from_another_commit_are_refused(built_copy, local_index):
    (built_copy / "NOTES.txt").write_text("later\n")
    git(built_copy, "add", "NOTES.txt")
    git(built_copy, "commit", "-qm", "later")
    git(built_copy, "tag", "-f", f"v{VERSION}")
    proc = preflight(built_copy, local_index)
    assert proc.returncode == 1, proc.explain
    assert "not HEAD" in proc.stderr


def test_pypirc_readable_by_others_is_warned_about(built_copy, local_index, home):
    pypirc = home / ".pypirc"
    pypirc.write_text("[pypi]\nusername = __token__\npassword = pypi-secret\n")
    pypirc.chmod(0o644)
    proc = preflight(built_copy, local_index, "--rehearsal")
    assert proc.returncode == 0, proc.explain
    assert "readable by others" in proc.stderr and "chmod 600" in proc.stderr
    assert "pypi-secret" not in proc.stdout + proc.stderr
    pypirc.chmod(0o600)
    proc = preflight(built_copy, local_index, "--rehearsal")
    assert "readable by others" not in proc.stderr


def test_publish_on_a_terminal_asks_and_no_means_nothing_uploaded(built_copy, local_index):
    env = local_index.env(AUDIT="warn")
    proc = subprocess.run(["script", "-qec", " ".join([*MAKE, "publish"]), "/dev/null"],
                          cwd=built_copy, env=env, input="no\n", capture_output=True,
                          text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "This cannot be undone. Type yes:" in out, out
    assert "not confirmed; nothing was uploaded" in out, out
    assert local_index.files() == {}
