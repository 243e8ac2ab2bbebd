#!/usr/bin/env python3
"""Rewrite sdists (.tar.gz) so that one commit always gives the same bytes: members sorted,
every mtime SOURCE_DATE_EPOCH, owner root/root (0/0), modes 0644/0755, and a gzip header
without a timestamp or file name. The contents are unchanged.

Usage: scripts/reproducible_sdist.py --epoch N SDIST...

setuptools stamps an sdist with the time of the build (file mtimes, the gzip header) and with
the builder's user, so two builds of one commit differ; wheels already honour
SOURCE_DATE_EPOCH. Exit 1 when a file is not a readable .tar.gz, 2 on a usage error.
"""
from __future__ import annotations

import argparse
import gzip
import io
import os
import sys
import tarfile
import tempfile
from pathlib import Path


def normalize(path: Path, epoch: int) -> None:
    with tarfile.open(path, "r:gz") as src:
        members = sorted(src.getmembers(), key=lambda m: m.name)
        contents = {m.name: src.extractfile(m).read() for m in members if m.isfile()}
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
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=epoch,
                               compresslevel=9) as gz:
                gz.write(raw.getvalue())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/reproducible_sdist.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epoch", type=int, required=True, help="SOURCE_DATE_EPOCH")
    parser.add_argument("sdists", nargs="+", type=Path, metavar="SDIST")
    args = parser.parse_args(argv)
    failed = 0
    for path in args.sdists:
        try:
            normalize(path, args.epoch)
        except (OSError, tarfile.TarError, ValueError) as exc:
            print(f"error: {path}: cannot normalise ({exc}); rebuild with make build",
                  file=sys.stderr)
            failed = 1
    return failed


if __name__ == "__main__":
    sys.exit(main())
