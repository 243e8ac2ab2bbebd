"""The pre-flight's advice about the release tag, followed as written: every command it
suggests works when typed, and afterwards the pre-flight passes. (It used to suggest
`git tag vX.Y.Z` when that tag already existed on another commit, which git refuses.)"""
from __future__ import annotations

import re

import pytest

from conftest import VERSION, base_env, make_work_copy, run
from indexkit import ensure_changelog
from release_tools import git

NOTE = "\n### Fixed\n\n- a fix after the tag\n"


def copy(tmp_path, tag: bool):
    repo = make_work_copy(tmp_path / "repo", tag=False)
    ensure_changelog(repo)
    git(repo, "commit", "-qam", "changelog", "--allow-empty")
    if tag:
        git(repo, "tag", "-a", f"v{VERSION}", "-m", f"Release {VERSION}")
    return repo


def preflight(repo, check=None):
    return run([str(repo / "scripts/preflight"), "--phase", "source"], cwd=repo,
               env=base_env(), check=check)


def advice(repo) -> list[str]:
    """The commands the refusal suggests (quoted 'git ...' and 'make ...')."""
    proc = preflight(repo, check=False)
    refused = [line for line in proc.stderr.splitlines() if line.startswith("refused:")]
    assert len(refused) == 1, proc.explain
    return re.findall(r"'((?:git|make) [^']+)'", refused[0])


def test_an_untagged_head_is_told_a_tag_command_that_works(tmp_path):
    repo = copy(tmp_path, tag=False)
    commands = advice(repo)
    assert commands == [f'git tag -a v{VERSION} -m "Release {VERSION}"']
    run(commands[0], cwd=repo, env=base_env(), check=True)
    preflight(repo, check=True)
    assert git(repo, "cat-file", "-t", f"v{VERSION}") == "tag"  # annotated, as bump makes it


@pytest.mark.parametrize("choice", range(3), ids=["checkout", "move the tag", "bump"])
def test_a_tag_on_another_commit_is_told_commands_that_work(tmp_path, choice):
    """HEAD moved on after the tag (a fix and its CHANGELOG note): `git tag vX.Y.Z` would fail
    (the tag exists); each suggestion, typed, works and the pre-flight then passes."""
    repo = copy(tmp_path, tag=True)
    changelog = repo / "CHANGELOG.md"
    changelog.write_text(changelog.read_text().replace("## [Unreleased]\n",
                                                       "## [Unreleased]\n" + NOTE, 1))
    git(repo, "commit", "-qam", "a fix after the tag")
    commands = advice(repo)
    assert commands == [f"git checkout v{VERSION}",
                        f'git tag -f -a v{VERSION} -m "Release {VERSION}"',
                        "make bump PART=patch"]
    assert f"git tag v{VERSION}" not in commands
    run(commands[choice], cwd=repo, env=base_env(), check=True)
    preflight(repo, check=True)
