"""Reproducible sdists: rewrite a .tar.gz so that one commit always gives the same bytes:
members sorted, every mtime SOURCE_DATE_EPOCH, owner root/root (0/0), modes 0644/0755, and
a gzip header without a timestamp or file name. The contents are unchanged.

setuptools stamps an sdist with the time of the build (file mtimes, the gzip header) and with
the builder's user, so two builds of one commit differ; wheels already honour
SOURCE_DATE_EPOCH.
"""
from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

from releasekit import repo
from releasekit.errors import Failure


def normalize(path: Path, epoch: int) -> None:
    with tarfile.open(path, "r:gz") as src:
        members = sorted(src.getmembers(), key=lambda m: m.name)
        contents = {}
        for m in members:
            if m.isfile():
                extracted = src.extractfile(m)
                contents[m.name] = extracted.read() if extracted else b""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as dst:
        for member in members:
            if not (member.isfile() or member.isdir()):
                raise ValueError(f"{member.name}: neither a file nor a directory")
            member.mtime = epoch
            member.uid = member.gid = 0
            member.uname = member.gname = "root"
            member.pax_headers = {}
            executable = member.isdir() or member.mode & 0o100
            member.mode = 0o755 if executable else 0o644
            data = contents.get(member.name)
            dst.addfile(member, io.BytesIO(data) if data is not None else None)
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=epoch, compresslevel=9) as gz:
        gz.write(raw.getvalue())
    repo.atomic_write(path, out.getvalue())


def normalize_all(paths: list[Path], epoch: int) -> None:
    problems = []
    for path in paths:
        try:
            normalize(path, epoch)
        except (OSError, tarfile.TarError, ValueError) as exc:
            problems.append(f"{path}: cannot normalise ({exc}); rebuild with make build")
    if problems:
        raise Failure("\n".join(problems))
