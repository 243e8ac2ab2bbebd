"""make check-versions: every version site found from PACKAGES and the files, printed as a
table, and each disagreement named by file and line; plus releasekit.versions' pieces."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import REPO, VERSION, base_env, run
from release_tools import MAKE, OTHER, error_lines
from releasekit import versions
from releasekit.errors import Failure, UsageError

SITES = versions.find_sites(REPO)


def table(stdout: str) -> list[tuple[str, int, str, str]]:
    rows = []
    for line in stdout.splitlines()[1:]:
        m = re.match(r"(\S+)\s+(\d+)\s+(.+?)\s{2,}(\S+)$", line)
        assert m, f"not a table row: {line!r}"
        rows.append((m[1], int(m[2]), m[3], m[4]))
    return rows


def test_table_lists_every_site_in_agreement(work_copy):
    proc = run([*MAKE, "check-versions"], cwd=work_copy, check=True)
    assert proc.stdout.splitlines()[0].split() == ["FILE", "LINE", "KIND", "VERSION"]
    rows = table(proc.stdout)
    assert {r[3] for r in rows} == {VERSION}
    kinds = {(f, k) for f, _, k, _ in rows}
    for directory in ("core", "vendors/aws", "docker"):
        assert (f"{directory}/setup.py", "version") in kinds
    assert ("setup.py", "version") in kinds
    for init in ("core/open_finops/core/__init__.py", "vendors/aws/open_finops/aws/__init__.py",
                 "docker/open_finops/docker/__init__.py"):
        assert (init, "__version__") in kinds
    for pin in ("open-finops-core", "open-finops-aws", "open-finops-docker"):
        assert ("setup.py", f"pin {pin}") in kinds
    assert ("vendors/aws/setup.py", "pin open-finops-core") in kinds
    assert ("docker/setup.py", "pin open-finops-core") in kinds
    assert (".bumpversion.cfg", "current_version") in kinds


def test_bump2version_files_are_exactly_the_files_with_sites():
    """Every file bump2version edits holds a site, and every file holding one is edited."""
    with_sites = {s.file for s in SITES} - {".bumpversion.cfg"}
    assert set(versions.bumped_files(REPO)) == with_sites
    assert versions.problems(SITES, REPO) == []


def edit_site(root: Path, site, new: str = OTHER) -> None:
    path = root / site.file
    lines = path.read_text().splitlines(keepends=True)
    text = lines[site.line - 1]
    if site.kind.startswith("pin "):
        old = f"{site.kind[4:]}=={site.version}"
        lines[site.line - 1] = text.replace(old, f"{site.kind[4:]}=={new}")
    else:
        lines[site.line - 1] = text.replace(site.version, new, 1)
    assert lines[site.line - 1] != text
    path.write_text("".join(lines))


@pytest.mark.parametrize("site", SITES, ids=lambda s: f"{s.file}:{s.line}:{s.kind}")
def test_any_site_changed_by_hand_fails_naming_it(work_copy, site):
    edit_site(work_copy, site)
    proc = run([*MAKE, "check-versions"], cwd=work_copy, check=False)
    errors = "\n".join(error_lines(proc.stderr))
    if site.file == ".bumpversion.cfg":
        assert f".bumpversion.cfg says {OTHER}" in errors, proc.explain
    else:
        assert f"error: {site.file}:{site.line}: {site.kind} is {OTHER}" in errors, proc.explain
        assert "make bump" in errors, proc.explain
    assert OTHER in proc.stdout, proc.explain  # the table shows what was found


def test_script_exit_code_is_1_and_runs_from_any_directory(work_copy, tmp_path):
    edit_site(work_copy, next(s for s in SITES if s.kind == "__version__"))
    proc = run([str(work_copy / "scripts" / "check-versions")], cwd=tmp_path,
               env=base_env(), check=False)
    assert proc.returncode == 1, proc.explain


def test_third_party_occurrence_of_the_version_is_refused(work_copy):
    """bump2version replaces every occurrence of the version in a setup.py: one that is not a
    site must fail."""
    setup = work_copy / "vendors/aws/setup.py"
    setup.write_text(setup.read_text().replace('"boto3>=1.34"', f'"boto3>={VERSION}"'))
    proc = run([*MAKE, "check-versions"], cwd=work_copy, check=False)
    assert "vendors/aws/setup.py" in proc.stderr and "not a version site" in proc.stderr, \
        proc.explain


def test_unpinned_sibling_is_refused(work_copy):
    setup = work_copy / "docker/setup.py"
    setup.write_text(setup.read_text().replace(f"open-finops-core=={VERSION}",
                                               "open-finops-core>=0.3"))
    proc = run([*MAKE, "check-versions"], cwd=work_copy, check=False)
    assert "docker/setup.py" in proc.stderr and "not pinned" in proc.stderr, proc.explain


@pytest.mark.parametrize("requirement, found", [
    ("open-finops-core", "pin open-finops-core has no version, not pinned"),
    ('open-finops-core; python_version >= \'3.10\'',
     "pin open-finops-core has no version, not pinned"),
    (f"open-finops-core[extra]=={OTHER}", f"pin open-finops-core is {OTHER}"),
])
def test_sibling_without_its_pin_is_refused(work_copy, requirement, found):
    """A sibling requirement whose version was deleted, or written with extras or a marker,
    is still a site (and bump2version would not bump it)."""
    setup = work_copy / "docker/setup.py"
    pin = f'"open-finops-core=={VERSION}"'
    text = setup.read_text()
    line = next(n for n, t in enumerate(text.splitlines(), 1) if pin in t)
    setup.write_text(text.replace(pin, f'"{requirement}"'))
    proc = run([*MAKE, "check-versions"], cwd=work_copy, check=False)
    assert proc.returncode != 0, proc.explain
    assert f"docker/setup.py:{line}: {found}" in proc.stderr, proc.explain


def test_names_and_docstrings_are_no_pins():
    """name="open-finops-core" and a docstring naming the distribution are not requirements."""
    assert not [s for s in SITES if s.kind.startswith("pin ") and s.version != VERSION]
    assert ("core/setup.py", "pin open-finops-core") not in {(s.file, s.kind) for s in SITES}


def test_file_missing_from_bumpversion_cfg_is_refused(work_copy):
    cfg = work_copy / ".bumpversion.cfg"
    text = cfg.read_text()
    cfg.write_text(text.replace("[bumpversion:file:docker/setup.py]\n", ""))
    proc = run([*MAKE, "check-versions"], cwd=work_copy, check=False)
    assert "docker/setup.py:1: holds version sites but bump2version does not edit it" \
        in proc.stderr, proc.explain


def test_bumpversion_section_without_site_is_refused(work_copy):
    cfg = work_copy / ".bumpversion.cfg"
    cfg.write_text(cfg.read_text() + "\n[bumpversion:file:README.md]\n")
    proc = run([*MAKE, "check-versions"], cwd=work_copy, check=False)
    assert "bump2version edits README.md, which holds no version site" in proc.stderr, \
        proc.explain


def test_new_package_sites_are_found_from_packages(work_copy):
    """A vendor added to PACKAGES brings its sites without any other list to update."""
    pkg = work_copy / "vendors/acme"
    (pkg / "open_finops/acme").mkdir(parents=True)
    (pkg / "open_finops/acme/__init__.py").write_text(f'__version__ = "{VERSION}"\n')
    (pkg / "setup.py").write_text('setup(name="open-finops-acme", version="0.2.0",\n'
                                  f'      install_requires=["open-finops-core=={VERSION}"])\n')
    packages = ("open-finops-core=core open-finops-aws=vendors/aws open-finops-acme=vendors/acme "
                "open-finops-docker=docker open-finops=.")
    proc = run([str(work_copy / "scripts/check-versions")], cwd=work_copy,
               env=base_env(PACKAGES=packages), check=False)
    assert "vendors/acme/setup.py:1: version is 0.2.0" in proc.stderr, proc.explain
    assert "vendors/acme/setup.py:1: holds version sites but bump2version" in proc.stderr
    assert "vendors/acme/open_finops/acme/__init__.py" in proc.stdout


@pytest.mark.parametrize("current, version, part, expected", [
    ("0.3.0", "0.3.1", None, "0.3.1"),
    ("0.3.0", "1.0.0", None, "1.0.0"),
    ("0.3.0", "0.10.0", None, "0.10.0"),
    ("0.3.9", None, "patch", "0.3.10"),
    ("0.3.9", None, "minor", "0.4.0"),
    ("0.3.9", None, "major", "1.0.0"),
])
def test_next_version(current, version, part, expected):
    assert versions.next_version(current, version, part) == expected


@pytest.mark.parametrize("version, part", [
    ("abc", None), ("0.3", None), ("0.3.0", None), ("0.2.9", None), ("0.3.1; touch x", None),
    ("0.3.1rc1", None), ("v0.3.1", None), ("0.03.1", None), (" 0.3.1", None), ("0.3.1.0", None),
    ("0.3.1", "minor"), (None, None), (None, "micro"),
])
def test_next_version_refuses(version, part):
    with pytest.raises(UsageError):
        versions.next_version("0.3.0", version, part)


CHANGELOG = """# Changelog

Intro.

## [Unreleased]

### Fixed
- a bug

## [0.3.0] - 2026-11-24

### Added
- everything

[Unreleased]: https://example.invalid/r/compare/v0.3.0...HEAD
[0.3.0]: https://example.invalid/r/releases/tag/v0.3.0
"""


def test_changelog_moves_unreleased_under_the_version():
    text = versions.changelog(CHANGELOG, "0.3.1", "2026-12-01")
    assert text == CHANGELOG.replace(
        "## [Unreleased]\n\n### Fixed",
        "## [Unreleased]\n\n## [0.3.1] - 2026-12-01\n\n### Fixed",
    ).replace(
        "[Unreleased]: https://example.invalid/r/compare/v0.3.0...HEAD\n",
        "[Unreleased]: https://example.invalid/r/compare/v0.3.1...HEAD\n"
        "[0.3.1]: https://example.invalid/r/compare/v0.3.0...v0.3.1\n",
    )


def test_changelog_refusals():
    with pytest.raises(Failure, match="no '## \\[Unreleased\\]' section"):
        versions.changelog("# Changelog\n", "0.3.1", "2026-12-01")
    with pytest.raises(Failure, match="already has a section for 0.3.0"):
        versions.changelog(CHANGELOG, "0.3.0", "2026-12-01")
    empty = CHANGELOG.replace("### Fixed\n- a bug\n", "")
    with pytest.raises(UsageError, match="add your changes under ## \\[Unreleased\\] in "
                                         "CHANGELOG.md first"):
        versions.changelog(empty, "0.3.1", "2026-12-01")


def test_changelog_of_the_repository_has_unreleased_and_the_first_release():
    text = (REPO / "CHANGELOG.md").read_text()
    assert re.search(r"^## \[Unreleased\]$", text, re.M)
    assert re.search(r"^## \[0\.3\.0\] - 2026-11-24$", text, re.M)
    assert text.index("## [Unreleased]") < text.index("## [0.3.0]")
