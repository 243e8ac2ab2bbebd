#!/usr/bin/env python3
"""The summary at the end of a release run (scripts/release): each file with its sha256 and
where it went, the audit's verdict, each install spec and its result, each step's duration.
For people on stderr; for tools as JSON.

Usage: scripts/summary.py --target NAME --status ok|failed --steps TSV --out JSON
           --since TIME [--ledger PATH]
TSV lines are "step<TAB>seconds<TAB>ok|failed". TIME is the run's start (UTC, ISO 8601): a
file is "uploaded" when this run sent it to REPOSITORY_URL (the ledger's upload record,
confirmed after TIME), "already there" when the index held those bytes before (an earlier
run's upload included), "not uploaded" when the index has not confirmed it. INDEX_URL names
the index; the audit and verify results are read from dist/audit-V.json and
dist/verify-V.json when this run wrote them. Nothing secret is read or written.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ledger  # noqa: E402


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def when(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def where(record: dict[str, Any] | None, sha256: str, since: datetime) -> str:
    if not record or record.get("sha256") != sha256:
        return "not uploaded"
    if record["status"] == "uploaded" and when(record["confirmed_at"]) >= since:
        return "uploaded"
    return "already there"


def build(target: str, status: str, steps_tsv: Path, ledger_path: Path,
          since: datetime) -> dict[str, Any]:
    data = ledger.load(ledger_path)
    version = data["version"]
    repository = os.environ.get("REPOSITORY_URL", "")
    records = data["uploads"].get(repository, {})
    files = []
    for f in data["files"]:
        rec = records.get(f["filename"])
        files.append({"filename": f["filename"], "distribution": f["distribution"],
                      "sha256": f["sha256"], "size": f["size"],
                      "where": where(rec, f["sha256"], since),
                      "repository_url": repository,
                      "confirmed_at": rec.get("confirmed_at") if rec else None})
    steps = []
    if steps_tsv.exists():
        for line in steps_tsv.read_text().splitlines():
            name, seconds, outcome = line.split("\t")
            steps.append({"step": name, "seconds": float(seconds), "result": outcome})
    dist = ledger_path.parent
    verify = read_json(dist / f"verify-{version}.json") or {}
    audit = read_json(dist / f"audit-{version}.json") or {}
    return {
        "target": target, "status": status, "version": version,
        "repository_url": repository, "index_url": os.environ.get("INDEX_URL", ""),
        "files": files,
        "audit": {k: [d["name"] if isinstance(d, dict) else d for d in audit.get(k, [])]
                  for k in ("vulnerable", "allowed", "unaudited", "clean", "ours")},
        "install": verify.get("results", []),
        "steps": steps,
        "total_seconds": round(sum(s["seconds"] for s in steps), 2),
    }


def render(s: dict[str, Any]) -> str:
    out = [f"==> summary: {s['version']} to {s['repository_url']} ({s['target']}): {s['status']}",
           "files:"]
    width = max((len(f["filename"]) for f in s["files"]), default=0)
    for f in s["files"]:
        out.append(f"  {f['filename']:<{width}}  {f['sha256']}  {f['where']}")
    if any(s["audit"].values()):
        a = s["audit"]
        out.append(f"audit: {len(a['vulnerable'])} vulnerable, {len(a['allowed'])} allowed, "
                   f"{len(a['unaudited'])} unaudited, {len(a['clean'])} clean; "
                   f"ours left out: {', '.join(a['ours']) or '-'}")
        if a["unaudited"]:
            out.append(f"  UNAUDITED: {', '.join(a['unaudited'])}")
    out.append(f"install from {s['index_url']}:")
    if not s["install"]:
        out.append("  (not verified)")
    for r in s["install"]:
        out.append(f"  {r['spec']:<22} -> {r['result']} ({r['seconds']}s)")
    out.append("steps:")
    for st in s["steps"]:
        out.append(f"  {st['step']:<15} {st['seconds']:7.2f}s  {st['result']}")
    out.append(f"  {'total':<15} {s['total_seconds']:7.2f}s")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/summary.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", required=True)
    parser.add_argument("--status", choices=("ok", "failed"), required=True)
    parser.add_argument("--steps", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--since", type=when, required=True)
    parser.add_argument("--ledger", type=Path)
    args = parser.parse_args(argv)
    try:
        path = args.ledger or ledger.ledger_path(ledger.current_version())
        summary = build(args.target, args.status, args.steps, path, args.since)
    except ledger.LedgerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(render(summary), file=sys.stderr)
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
