"""The repository's facts, computed in one place: its root, the package list (from the
Makefile's PACKAGES, the only list), the release version, distribution names, git, and the
one atomic writer."""
from __future__ import annotations

import configparser
import contextlib
import functools
import os
import re
from collections import namedtuple
from pathlib import Path

from releasekit.errors import Failure

ROOT = Path(__file__).resolve().parent.parent.parent
NAMESPACE = "open_finops"
PREFIX = "open-finops"
CORE = "open-finops-core"


# (A named tuple, not a dataclass: every toolkit process imports this module, and the
# dataclasses module costs each of them ten milliseconds of imports.)
class Package(namedtuple("Package", "name directory")):
    """A distribution of PACKAGES: its name (e.g. open-finops-aws) and its directory
    (relative to the repo root, "." for the meta-package)."""
    __slots__ = ()

    @property
    def module(self) -> str | None:
        """open-finops-aws -> aws (the import package open_finops.aws); None for the
        meta-package, which ships no code."""
        if self.directory == ".":
            return None
        return self.name.removeprefix(PREFIX + "-").replace("-", "_")

    @property
    def is_vendor(self) -> bool:
        """A plugin of `finops` (every code distribution but core)."""
        return self.module is not None and self.name != CORE

    def dist_dir(self, root: Path = ROOT) -> Path:
        return root / self.directory / "dist"


def canonical(name: str) -> str:
    """PEP 503's normalized name (open_finops.Core -> open-finops-core): the one normaliser;
    file names use its underscore form, :func:`file_stem`."""
    return re.sub(r"[-_.]+", "-", name).lower()


def file_stem(name: str) -> str:
    """The distribution name as wheel and sdist file names spell it (open_finops_core)."""
    return canonical(name).replace("-", "_")


def parse_packages(words: list[str]) -> list[Package]:
    pairs = []
    for word in words:
        name, sep, directory = word.partition("=")
        if not sep or not name or not directory:
            raise Failure(f"PACKAGES word {word!r} is not name=dir; fix PACKAGES in the Makefile")
        pairs.append(Package(name, directory.rstrip("/") or "."))
    return pairs


@functools.cache
def _packages_from_make(root: Path) -> tuple[str, ...]:
    import subprocess
    out = subprocess.run(
        ["make", "-s", "--no-print-directory", "-C", str(root), "print-packages"],
        capture_output=True, text=True, check=True,
    ).stdout
    return tuple(out.split())


def packages(root: Path = ROOT) -> list[Package]:
    """The distributions in dependency order: PACKAGES (exported by the Makefile) or, for a
    command run outside make, `make print-packages`."""
    words = os.environ.get("PACKAGES", "").split()
    return parse_packages(words or list(_packages_from_make(root)))


def package(name: str, root: Path = ROOT) -> Package:
    for p in packages(root):
        if canonical(p.name) == canonical(name):
            return p
    raise Failure(f"unknown distribution '{name}'; known: "
                  f"{', '.join(p.name for p in packages(root))}")


def meta_package(root: Path = ROOT) -> Package:
    for p in packages(root):
        if p.module is None:
            return p
    raise Failure("no distribution at '.' in PACKAGES: no meta-package; fix the Makefile")


def current_version(root: Path = ROOT) -> str:
    cfg = configparser.ConfigParser(interpolation=None)
    if not cfg.read(root / ".bumpversion.cfg", encoding="utf-8"):
        raise Failure(f"{root / '.bumpversion.cfg'} is missing; it holds the release version")
    return cfg["bumpversion"]["current_version"].strip()


def git(root: Path, *args: str) -> str | None:
    """stdout of a git command, or None outside a git repository (an sdist, a tarball)."""
    import subprocess
    try:
        proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)
    except OSError:
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def clean_commit(root: Path = ROOT) -> str | None:
    """HEAD's commit when git sees no change in the tree, untracked files included (ignored
    ones aside); None when it does, or outside a git repository."""
    if git(root, "status", "--porcelain", "--untracked-files=all") != "":
        return None
    return git(root, "rev-parse", "HEAD")


def atomic_write(path: Path, data: bytes | str, mode: int = 0o644) -> None:
    """Write so that a reader sees the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    import tempfile
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
