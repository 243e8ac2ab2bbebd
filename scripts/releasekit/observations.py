"""What the index itself served during one release run: the summary's only source for
"where" each file is (never the ledger's records, which are history).

scripts/release sets RELEASE_RUN to a directory of its own; every page the toolkit reads
from an index during the run, every failure to reach one, and every file twine accepted,
is appended there as one JSON line. Outside a run (RELEASE_RUN unset) nothing is recorded.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

FILE = "observations.jsonl"


def _path() -> Path | None:
    run = os.environ.get("RELEASE_RUN")
    return Path(run) / FILE if run else None


def _append(record: dict[str, Any]) -> None:
    path = _path()
    if path is None:
        return
    record["t"] = time.time()
    # One write of one line with O_APPEND: parallel uploads never interleave their lines.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, (json.dumps(record) + "\n").encode("utf-8"))
    finally:
        os.close(fd)


def page(index_url: str, project: str, files: dict[str, dict[str, str]]) -> None:
    _append({"kind": "page", "index": index_url, "project": project,
             "files": {name: f["sha256"] for name, f in files.items()}})


def unreachable(index_url: str, project: str, reason: str) -> None:
    _append({"kind": "unreachable", "index": index_url, "project": project, "reason": reason})


def sent(repository: str, filenames: list[str]) -> None:
    _append({"kind": "sent", "repository": repository, "files": filenames})


def read(run: Path) -> list[dict[str, Any]]:
    path = run / FILE
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
