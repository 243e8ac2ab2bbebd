"""Where exports are read from. PLACEHOLDER of **plugin** until **blob**'s sources.py (local
folders and az://CONTAINER/PATH) replaces it: a local folder laid out like the container."""
from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from open_finops.azure.errors import AzureError, UsageError


@dataclass(frozen=True)
class Obj:
    key: str
    size: int
    mtime: float


class Source:
    def __init__(self, path: str) -> None:
        self.root = Path(path).expanduser()
        if not self.root.is_dir():
            raise AzureError(f"source {self.root} is not a folder")
        self.root = self.root.resolve()

    def describe(self, key: str = "") -> str:
        return str(self.root / key) if key else str(self.root)

    def list(self, folder: str) -> dict[str, Obj]:
        found: dict[str, Obj] = {}
        for directory, _dirs, files in os.walk(self.root / folder):
            for name in files:
                path = Path(directory, name)
                stat = path.stat()
                key = path.relative_to(self.root).as_posix()
                found[key] = Obj(key, stat.st_size, stat.st_mtime)
        return found

    def read_bytes(self, key: str) -> bytes:
        try:
            return (self.root / key).read_bytes()
        except OSError as exc:
            raise AzureError(f"cannot read {self.describe(key)}: {exc.strerror}") from None

    def stage(self, objects: list[Obj], workdir: Path) -> Iterator[list[tuple[Obj, Path]]]:
        batch = []
        for number, obj in enumerate(objects):
            suffix = next((s for s in (".csv.gz", ".parquet", ".csv", ".gz")
                           if obj.key.lower().endswith(s)), "")
            link = workdir / f"f{number:05d}{suffix}"
            link.symlink_to(self.root / obj.key)
            batch.append((obj, link))
        yield batch


def open_source(spec: str, account_url: str | None = None) -> Source:
    if not str(spec).strip():
        raise UsageError("no source: give --source PATH or az://CONTAINER/PATH")
    if "://" in spec:
        raise AzureError(f"source {spec}: az:// is not wired yet")
    return Source(spec)


def cleanup(workdir: Path) -> None:
    shutil.rmtree(workdir, ignore_errors=True)
