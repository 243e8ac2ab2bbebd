"""make bump: every site, the sibling pins and CHANGELOG.md at once, one commit, one tag; and
anything wrong refused with one line, the tree exactly as it was."""
from __future__ import annotations

import datetime
import os
import re

import pytest

from conftest import PACKAGES, VERSION, base_env, run
from release_tools import (
    MAKE,
    NEXT_MAJOR,
    NEXT_MINOR,
    NEXT_PATCH,
    OTHER,
    error_lines,
    git,
    snapshot,
)

NEXT = NEXT_PATCH


def bump(repo, check=None, **variables):
    return run([*MAKE, "bump", *(f"{k}={v}" for k, v in variables.items())], cwd=repo,
               check=check)


def add_release_notes(repo):
    changelog = repo / "CHANGELOG.md"
    changelog.write_text(changelog.read_text().replace(
        "## [Unreleased]\n", "## [Unreleased]\n\n### Fixed\n\n- a bug\n", 1))
    git(repo, "commit", "-qam", "notes")


def test_bump_version_changes_every_site_commits_and_tags(work_copy):
    add_release_notes(work_copy)
    before = git(work_copy, "rev-parse", "HEAD")
    proc = bump(work_copy, check=True, VERSION=NEXT)
    assert proc.stdout.strip() == NEXT

    table = run([*MAKE, "check-versions"], cwd=work_copy, check=True).stdout
    rows = table.splitlines()[1:]
    assert len(rows) >= 16 and all(row.endswith(f" {NEXT}") for row in rows), table
    setup = (work_copy / "setup.py").read_text()
    # core twice (install_requires, [core]), each other part twice (its extra, [all]).
    parts = len(PACKAGES) - 2
    assert setup.count(f"=={NEXT}") == 2 + 2 * parts and VERSION not in setup

    changelog = (work_copy / "CHANGELOG.md").read_text()
    today = datetime.date.today().isoformat()
    assert re.search(rf"## \[Unreleased\]\n\n## \[{re.escape(NEXT)}\] - {today}\n\n"
                     r"### Fixed\n\n- a bug\n", changelog), changelog
    repo = "https://github.com/open-finops/open-finops-stack"
    assert f"[Unreleased]: {repo}/compare/v{NEXT}...HEAD" in changelog
    assert f"[{NEXT}]: {repo}/compare/v{VERSION}...v{NEXT}" in changelog

    assert git(work_copy, "log", "-1", "--format=%s") == f"Release {NEXT}"
    assert git(work_copy, "rev-parse", "HEAD~1") == before
    assert git(work_copy, "cat-file", "-t", f"v{NEXT}") == "tag"  # annotated
    head = git(work_copy, "rev-parse", "HEAD")
    assert git(work_copy, "rev-parse", f"v{NEXT}^{{commit}}") == head
    assert git(work_copy, "status", "--porcelain") == ""
    changed = git(work_copy, "show", "--name-only", "--format=", "HEAD").splitlines()
    # Each distribution's setup.py and (but the meta-package) its __version__.
    assert sorted(changed) == sorted([".bumpversion.cfg", "CHANGELOG.md", "setup.py", *(
        f"{d}/{f}" for _, d in PACKAGES if d != "."
        for f in ("setup.py", f"open_finops/{d.rsplit('/', 1)[-1]}/__init__.py"))])


@pytest.mark.parametrize("part, expected", [("minor", NEXT_MINOR), ("major", NEXT_MAJOR),
                                            ("patch", NEXT_PATCH)])
def test_bump_part(work_copy, part, expected):
    add_release_notes(work_copy)
    proc = bump(work_copy, check=True, PART=part)
    assert proc.stdout.strip() == expected
    assert f"current_version = {expected}" in (work_copy / ".bumpversion.cfg").read_text()
    assert git(work_copy, "describe", "--exact-match") == f"v{expected}"


def assert_refused(repo, before, proc, code=None):
    assert proc.returncode != 0, proc.explain
    if code is not None:
        assert proc.returncode == code, proc.explain
    assert len(error_lines(proc.stderr)) == 1, proc.explain
    assert snapshot(repo) == before, proc.explain


BAD = [
    {"VERSION": "abc"},
    {"VERSION": "0.3"},
    {"VERSION": VERSION},
    {"VERSION": "0.2.9"},
    {"VERSION": "0.3.1; touch x"},
    {"VERSION": "0.3.1 && touch x"},
    {"VERSION": "`touch x`"},
    {"VERSION": "0.3.1rc1"},
    {"VERSION": "v0.3.1"},
    {"VERSION": "-x"},
    {"VERSION": "0.3.1", "PART": "minor"},
    {},
    {"PART": "huge"},
]


@pytest.mark.parametrize("variables", BAD, ids=lambda v: repr(v))
def test_bad_values_are_refused_and_nothing_changes(work_copy, variables):
    before = snapshot(work_copy)
    # The script itself, with the variables as Make would export them: exit 2, one line.
    env = base_env(**variables)
    proc = run([str(work_copy / "scripts/bump")], cwd=work_copy, env=env, check=False)
    assert_refused(work_copy, before, proc, code=2)
    assert not (work_copy / "x").exists()
    assert "VERSION" in proc.stderr or "PART" in proc.stderr, proc.explain


@pytest.mark.parametrize("variables", [{"VERSION": "0.3.1; touch x"}, {}])
def test_bad_values_through_make(work_copy, variables):
    before = snapshot(work_copy)
    assert_refused(work_copy, before, bump(work_copy, **variables))
    assert not (work_copy / "x").exists()


def test_dirty_tree_is_refused(work_copy):
    (work_copy / "core/README.md").write_text("edited\n")
    (work_copy / "untracked.txt").write_text("new\n")
    before = snapshot(work_copy)
    proc = bump(work_copy, VERSION=NEXT)
    assert_refused(work_copy, before, proc)
    assert "not clean" in proc.stderr and "commit or stash" in proc.stderr


def test_existing_tag_is_refused(work_copy):
    git(work_copy, "tag", f"v{NEXT}")
    before = snapshot(work_copy)
    proc = bump(work_copy, VERSION=NEXT)
    assert_refused(work_copy, before, proc)
    assert f"tag v{NEXT} already exists" in proc.stderr


def test_disagreeing_sites_are_refused_before_any_edit(work_copy):
    init = work_copy / "docker/open_finops/docker/__init__.py"
    init.write_text(init.read_text().replace(VERSION, OTHER))
    git(work_copy, "commit", "-qam", "hand edit")
    before = snapshot(work_copy)
    proc = bump(work_copy, VERSION=NEXT)
    assert_refused(work_copy, before, proc)
    assert "docker/open_finops/docker/__init__.py" in proc.stderr
    # The advice, typed: `make check-versions` shows the site to fix.
    assert "run make check-versions and fix them first" in proc.stderr, proc.explain
    shown = run([*MAKE, "check-versions"], cwd=work_copy, check=False)
    assert "docker/open_finops/docker/__init__.py" in shown.stderr + shown.stdout, shown.explain


def hook(repo, name, body):
    path = repo / ".git" / "hooks" / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    os.chmod(path, 0o755)


@pytest.mark.parametrize("failure", ["pre-commit", "post-commit", "changelog"])
def test_failure_after_the_files_were_edited_restores_everything(work_copy, failure):
    """Forced failures late in the bump: the commit refused by a hook; the tag refused after
    the commit was made (a post-commit hook holds the tag's ref lock); CHANGELOG.md with a
    section for the new version already (found after bump2version edited every site)."""
    add_release_notes(work_copy)
    if failure == "pre-commit":
        hook(work_copy, "pre-commit", "echo 'error: refused by the hook' >&2; exit 1")
    elif failure == "post-commit":
        hook(work_copy, "post-commit", f"touch .git/refs/tags/v{NEXT}.lock")
    else:
        changelog = work_copy / "CHANGELOG.md"
        changelog.write_text(changelog.read_text().replace(
            f"## [{VERSION}]", f"## [{NEXT}] - 2026-01-01\n\n- by hand\n\n## [{VERSION}]", 1))
        git(work_copy, "commit", "-qam", "a section for the next version by hand")
    before = snapshot(work_copy)
    proc = bump(work_copy, VERSION=NEXT)
    if failure == "post-commit":
        (work_copy / f".git/refs/tags/v{NEXT}.lock").unlink()
    assert_refused(work_copy, before, proc)
    assert f"==> bumping {VERSION} -> {NEXT}" in proc.stderr, proc.explain  # it got that far
    assert "nothing changed" in proc.stderr
    assert git(work_copy, "tag", "-l", f"v{NEXT}") == ""
    if failure == "changelog":
        assert f"CHANGELOG.md already has a section for {NEXT}" in proc.stderr, proc.explain


def empty_unreleased(repo, body):
    """CHANGELOG.md's Unreleased section made to hold only `body` (committed)."""
    changelog = repo / "CHANGELOG.md"
    text = re.sub(r"(?ms)^## \[Unreleased\]\n.*?(?=^## )", f"## [Unreleased]\n{body}",
                  changelog.read_text(), count=1)
    changelog.write_text(text)
    git(repo, "commit", "-qam", "no notes", "--allow-empty")


EMPTY = "add your changes under ## [Unreleased] in CHANGELOG.md first"


@pytest.mark.parametrize("body", ["\n", "\n  \n\n\t\n"], ids=["empty", "blank lines"])
def test_empty_unreleased_section_is_refused_before_any_edit(work_copy, body):
    """Exit 2 (a usage error: say what changed first), one line, nothing changed, no tag:
    never a release that publish would then refuse."""
    empty_unreleased(work_copy, body)
    before = snapshot(work_copy)
    proc = run([str(work_copy / "scripts/bump")], cwd=work_copy,
               env=base_env(VERSION=NEXT), check=False)
    assert_refused(work_copy, before, proc, code=2)
    assert EMPTY in error_lines(proc.stderr)[0], proc.explain
    assert "==> bumping" not in proc.stderr, proc.explain  # refused before the first edit
    proc = bump(work_copy, PART="patch")
    assert_refused(work_copy, before, proc)
    assert EMPTY in proc.stderr and git(work_copy, "tag", "-l", f"v{NEXT}") == ""

    # The advice, followed as written: add the changes, commit, run the same command again.
    add_release_notes(work_copy)
    assert bump(work_copy, check=True, PART="patch").stdout.strip() == NEXT


def suggested(stderr):
    """The commands a message tells the user to type: the quoted 'git ...' and 'make ...'."""
    return re.findall(r"'((?:git|make) [^']+)'", stderr)


@pytest.mark.parametrize("remote", ["upstream", "origin", "none"])
def test_the_commands_bump_suggests_next_work_when_typed(work_copy, tmp_path, remote):
    """After the bump it says what to type next: `make publish` (a public target), and a push
    that sends the commit and the tag, spelled so that it works in this clone."""
    if remote != "none":
        origin = tmp_path / "origin.git"
        git(tmp_path, "init", "-q", "--bare", str(origin))
        git(work_copy, "remote", "add", "origin", str(origin))
        if remote == "upstream":
            git(work_copy, "push", "-q", "-u", "origin", "HEAD")
    add_release_notes(work_copy)
    proc = bump(work_copy, check=True, VERSION=NEXT)
    commands = suggested(proc.stderr)
    assert commands[0] == "make publish", proc.explain
    targets = re.findall(r"^  (\S+) ", run([*MAKE, "help"], cwd=work_copy, check=True).stdout,
                         re.M)
    assert "publish" in targets
    if remote == "none":
        assert commands == ["make publish"], proc.explain
        return
    assert len(commands) == 2 and commands[1].startswith("git push --follow-tags"), proc.explain
    run(commands[1], cwd=work_copy, env=base_env(), check=True)
    assert git(origin, "rev-parse", f"refs/tags/v{NEXT}^{{commit}}") == \
        git(work_copy, "rev-parse", "HEAD")
