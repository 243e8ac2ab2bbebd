"""``make new-vendor NAME=x``: a new vendor distribution in vendors/x, and every registration
it needs, made at once: PACKAGES in the Makefile, .bumpversion.cfg, core's KNOWN_VENDORS, the
meta-package's extras (its own and `all`), CHANGELOG.md. A bad or taken name changes nothing;
so does any failure while writing (every file is put back)."""
from __future__ import annotations

import keyword
import os
import re
from pathlib import Path

from releasekit import registry, repo, versions
from releasekit.errors import Failure, UsageError

NAME = re.compile(r"[a-z][a-z0-9]{1,30}")
RESERVED = {"core", "all", "plugins", "open", "finops", "help", "version", "test"}

SETUP = '''"""{dist}: {title} costs into the Open FinOps Stack."""
from pathlib import Path

from setuptools import find_namespace_packages, setup

HERE = Path(__file__).parent

setup(
    name="{dist}",
    version="{version}",
    description="Open FinOps Stack {title} plugin",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    author="Open FinOps Stack maintainers",
    license="MIT",
    license_files=["LICENSE"],
    url="https://github.com/open-finops/open-finops-stack",
    project_urls={{
        "Source": "https://github.com/open-finops/open-finops-stack",
        "Issues": "https://github.com/open-finops/open-finops-stack/issues",
        "Changelog": "https://github.com/open-finops/open-finops-stack/blob/main/CHANGELOG.md",
    }},
    packages=find_namespace_packages(
        include=["open_finops.{name}", "open_finops.{name}.*"]),
    python_requires=">=3.10",
    install_requires=[
        "{core}=={version}",
    ],
    entry_points={{
        "open_finops.vendors": ["{name} = open_finops.{name}.plugin:PLUGIN"],
    }},
    classifiers=[
        "Development Status :: 3 - Alpha",
        "Environment :: Console",
        "Operating System :: OS Independent",
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3 :: Only",
        "Programming Language :: Python :: 3.10",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Programming Language :: Python :: 3.13",
        "Topic :: Office/Business :: Financial",
    ],
)
'''
PYPROJECT = '''# Only the build system lives here: metadata is in setup.py, so that a [project]
# table can never silently override it.
[build-system]
requires = ["setuptools>=77", "wheel"]
build-backend = "setuptools.build_meta"
'''
README = '''# {dist}

The `finops {name}` commands of the Open FinOps Stack: {title} costs into its DuckDB store.

```bash
pip install 'open-finops[{name}]'
finops {name} --help
```
'''
INIT = '''"""Open FinOps Stack: {name}."""

__version__ = "{version}"
'''
PLUGIN = '''"""The ``finops {name}`` commands, registered with core through the
``open_finops.vendors`` entry point. Keep importing this module cheap: commands import
what they need."""
from __future__ import annotations

import argparse
from typing import Any

from open_finops.core.plugins import VendorPlugin

#: Every key of ``[{name}]`` in config.toml (and OPEN_FINOPS_{upper}_<KEY>), with its default.
CONFIG_DEFAULTS: dict[str, Any] = {{}}


def register(parser: argparse.ArgumentParser) -> None:
    parser.description = "{title} costs into the Open FinOps Stack's DuckDB store."


PLUGIN = VendorPlugin(name="{name}", help="{title} costs", register=register,
                      config_defaults=CONFIG_DEFAULTS)
'''
TEST = '''"""open-finops-{name}: the plugin core discovers, and its --help."""
import argparse

from open_finops.{name} import __version__
from open_finops.{name}.plugin import PLUGIN

from conftest import VERSION


def test_{name}_plugin_registers_finops_{name}():
    parser = argparse.ArgumentParser(prog="finops {name}")
    PLUGIN.register(parser)
    assert PLUGIN.name == "{name}" and __version__ == VERSION
    assert "{title}" in parser.format_help()
'''
BUMP = '''
[bumpversion:file:vendors/{name}/setup.py]

[bumpversion:file:vendors/{name}/open_finops/{name}/__init__.py]
search = __version__ = "{{current_version}}"
replace = __version__ = "{{new_version}}"
'''


def validate(name: str, root: Path) -> None:
    if not NAME.fullmatch(name) or keyword.iskeyword(name):
        raise UsageError(f"'{name}' is not a vendor name: 2 to 31 lower-case letters and digits, "
                         "starting with a letter (e.g. NAME=azure)")
    taken = {p.module for p in repo.packages(root)} | RESERVED
    if name in taken or (root / "vendors" / name).exists():
        raise UsageError(f"'{name}' is taken (a distribution, a directory or a core command); "
                         "choose another NAME")


def _insert_package(text: str, dist: str, directory: str) -> str:
    m = re.search(r"^(PACKAGES\s*:?=.*?)(\s+\S+=\.)\s*$", text, re.MULTILINE)
    if not m:
        raise Failure("Makefile: no 'PACKAGES := ... open-finops=.' line to add the vendor to")
    return text[:m.end(1)] + f" {dist}={directory}" + text[m.end(1):]


def _insert_known_vendor(text: str, name: str) -> str:
    m = registry.KNOWN_VENDORS_LINE.search(text)
    if not m or "\n" not in m["body"]:
        raise Failure(f"{registry.KNOWN_VENDORS}: KNOWN_VENDORS is not a mapping of one vendor "
                      "a line")
    at = m.end("body")
    return text[:at] + f'    "{name}": "{name}",\n' + text[at:]


def _insert_extras(text: str, name: str, dist: str, version: str) -> str:
    m = re.search(r'^(?P<indent>\s*)"all": \[\n(?P<items>(?:\s+"[^"\n]+",\n)*)(?P<close>\s*\],)',
                  text, re.MULTILINE)
    if not m:
        raise Failure('setup.py: no multi-line "all": [...] extra to add the vendor to')
    pin = f'"{dist}=={version}"'
    indent = m["indent"]
    text = (text[:m.end("items")] + f"{indent}    {pin},\n" + text[m.end("items"):])
    return text[:m.start()] + f"{indent}\"{name}\": [{pin}],\n" + text[m.start():]


def _insert_changelog(text: str, dist: str, name: str) -> str:
    m = versions.UNRELEASED.search(text)
    if not m:
        raise Failure("CHANGELOG.md has no '## [Unreleased]' section; add one")
    note = (f"- `{dist}`: a new vendor distribution, `finops {name}` "
            f"(`pip install 'open-finops[{name}]'`).\n")
    # Under the section's "### Added" (Keep a Changelog), made when it has none.
    following = re.compile(r"^## ", re.MULTILINE).search(text, m.end())
    end = following.start() if following else len(text)
    added = re.compile(r"^### Added[ \t]*\n\n?", re.MULTILINE).search(text, m.end(), end)
    if added:
        return text[:added.end()] + note + text[added.end():]
    return (text[:m.end()].rstrip("\n") + "\n\n### Added\n\n" + note + "\n"
            + text[m.end():].lstrip("\n"))


def plan(name: str, root: Path = repo.ROOT) -> dict[Path, str]:
    """Every file to write, with its new text; nothing is written."""
    validate(name, root)
    version = repo.current_version(root)
    dist = f"{repo.PREFIX}-{name}"
    directory = f"vendors/{name}"
    fields = {"name": name, "dist": dist, "version": version, "core": repo.CORE,
              "title": name.upper() if len(name) <= 3 else name.capitalize(),
              "upper": name.upper()}
    base = root / directory
    package = base / repo.NAMESPACE / name
    files = {
        base / "setup.py": SETUP.format(**fields),
        base / "pyproject.toml": PYPROJECT,
        base / "README.md": README.format(**fields),
        base / "LICENSE": (root / "LICENSE").read_text(encoding="utf-8"),
        package / "__init__.py": INIT.format(**fields),
        package / "plugin.py": PLUGIN.format(**fields),
        root / "tests" / "vendors" / name / f"test_{name}_plugin.py": TEST.format(**fields),
    }

    def edit(rel: str, change) -> None:
        path = root / rel
        files[path] = change(path.read_text(encoding="utf-8"))

    edit("Makefile", lambda t: _insert_package(t, dist, directory))
    edit(".bumpversion.cfg", lambda t: t.rstrip("\n") + "\n" + BUMP.format(**fields))
    edit(registry.KNOWN_VENDORS, lambda t: _insert_known_vendor(t, name))
    edit(f"{repo.meta_package(root).directory}/setup.py".removeprefix("./"),
         lambda t: _insert_extras(t, name, dist, version))
    edit(versions.CHANGELOG, lambda t: _insert_changelog(t, dist, name))
    return files


def create(name: str, root: Path = repo.ROOT) -> list[Path]:
    """Write the plan; check that every registration agrees; on any failure put every file
    back as it was. Returns the files written."""
    files = plan(name, root)
    before = {path: path.read_bytes() if path.exists() else None for path in files}
    try:
        for path, text in files.items():
            repo.atomic_write(path, text)
        words = [f"{p.name}={p.directory}" for p in repo.parse_packages(
            re.search(r"^PACKAGES\s*:?=(.*)$", files[root / "Makefile"], re.MULTILINE)[1].split())]
        saved = os.environ.get("PACKAGES")
        os.environ["PACKAGES"] = " ".join(words)
        try:
            found = registry.problems(root) + versions.check(root)[1]
        finally:
            if saved is None:
                os.environ.pop("PACKAGES", None)
            else:
                os.environ["PACKAGES"] = saved
        if found:
            raise Failure("\n".join(found))
    except BaseException:
        for path, data in before.items():
            if data is None:
                path.unlink(missing_ok=True)
            else:
                path.write_bytes(data)
        for directory in sorted({p.parent for p in files if before[p] is None}, reverse=True):
            for d in [directory, *directory.parents]:
                if d == root or not d.is_relative_to(root):
                    break
                if d.is_dir() and not any(d.iterdir()):
                    d.rmdir()
        raise
    return sorted(files)
