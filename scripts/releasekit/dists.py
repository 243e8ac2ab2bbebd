"""The one reader of built files: a wheel's or an sdist's metadata, member names, entry
points and RECORD (standard library only)."""
from __future__ import annotations

import csv
import functools
import io
import tarfile
import zipfile
from dataclasses import dataclass, field
from email.message import Message
from email.parser import HeaderParser
from pathlib import Path

from releasekit.errors import Failure

UNREADABLE = (OSError, ValueError, KeyError, zipfile.BadZipFile, tarfile.TarError)


@dataclass
class Built:
    """One built file, read: its metadata and the paths inside it."""
    distribution: str
    path: str       # as the ledger writes it (relative to the repo root)
    kind: str       # "wheel" | "sdist"
    metadata: Message = field(default_factory=Message)
    names: list[str] = field(default_factory=list)
    entry_points: dict[str, dict[str, str]] = field(default_factory=dict)
    record: list[str] | None = None

    @property
    def requires(self) -> list[str]:
        return self.metadata.get_all("Requires-Dist") or []

    @property
    def extras(self) -> list[str]:
        return [e.strip() for e in self.metadata.get_all("Provides-Extra") or []]


def parse_entry_points(text: str) -> dict[str, dict[str, str]]:
    groups: dict[str, dict[str, str]] = {}
    group = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            group = line[1:-1].strip()
            groups.setdefault(group, {})
        elif group is not None and "=" in line:
            name, _, value = line.partition("=")
            groups[group][name.strip()] = value.strip()
    return groups


def read_wheel(distribution: str, path: Path, rel: str = "") -> Built:
    built = Built(distribution, rel or str(path), "wheel")
    with zipfile.ZipFile(path) as whl:
        built.names = [n for n in whl.namelist() if not n.endswith("/")]
        info = sorted({n.split("/")[0] for n in built.names
                       if n.split("/")[0].endswith(".dist-info") and "/" in n})
        if len(info) != 1:
            raise ValueError(f"{len(info)} .dist-info directories")
        built.metadata = HeaderParser().parsestr(whl.read(f"{info[0]}/METADATA").decode())
        if f"{info[0]}/entry_points.txt" in built.names:
            built.entry_points = parse_entry_points(
                whl.read(f"{info[0]}/entry_points.txt").decode())
        if f"{info[0]}/RECORD" in built.names:
            rows = csv.reader(io.StringIO(whl.read(f"{info[0]}/RECORD").decode()))
            built.record = [row[0] for row in rows if row]
    return built


def read_sdist(distribution: str, path: Path, rel: str = "") -> Built:
    built = Built(distribution, rel or str(path), "sdist")
    with tarfile.open(path, "r:gz") as tar:
        members = [m for m in tar.getmembers() if not m.isdir()]
        built.names = [m.name for m in members]
        pkg_info = [m for m in members if m.name.count("/") == 1 and
                    m.name.endswith("/PKG-INFO")]
        if len(pkg_info) != 1:
            raise ValueError("no top-level PKG-INFO")
        extracted = tar.extractfile(pkg_info[0])
        if extracted is None:
            raise ValueError("PKG-INFO is not a file")
        built.metadata = HeaderParser().parsestr(extracted.read().decode())
    return built


@functools.cache
def _read(distribution: str, path: Path, rel: str, stat: tuple[int, ...]) -> Built:
    reader = read_wheel if path.name.endswith(".whl") else read_sdist
    return reader(distribution, path, rel)


def read(distribution: str, path: Path, rel: str = "") -> Built:
    """A wheel or an sdist, by its name; each file (as long as it is unchanged) is read once
    per process."""
    try:
        st = path.stat()
        return _read(distribution, path, rel,
                     (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns))
    except UNREADABLE as exc:
        kind = "wheel" if path.name.endswith(".whl") else "sdist"
        raise Failure(f"{rel or path}: cannot be read as a {kind} ({exc}); run make build") \
            from None


def texts(wheel: Path, prefix: str) -> dict[str, str]:
    """{file name: text} of the wheel's members under prefix (package data)."""
    with zipfile.ZipFile(wheel) as archive:
        return {Path(n).name: archive.read(n).decode("utf-8") for n in archive.namelist()
                if n.startswith(prefix) and not n.endswith("/")}
