"""The summary at the end of a release run (scripts/release): each file with its sha256 and
where it is, the audit's verdict, each install spec and its result, each step's duration, and
the closing line. For people on stderr; for tools as dist/<target>-summary.json.

"Where" comes only from what the index served during this run (releasekit.observations):

- ``already there``: the first page the index served in this run listed the file;
- ``uploaded``: not listed at first, sent by this run's twine, then listed;
- ``sent, not yet listed``: twine accepted it, but no page of this run listed it;
- ``not on the index``: the last page served did not list it (nothing was sent);
- ``other bytes on the index``: listed with another sha256;
- ``unknown: the index could not be reached``: no page of the project was served in this run.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from releasekit import ledger, observations, repo

UNKNOWN = "unknown: the index could not be reached"


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def where(f: dict[str, Any], seen: list[dict[str, Any]], index_url: str,
          repository: str) -> str:
    pages = [o for o in seen if o["kind"] == "page" and o["index"] == index_url
             and repo.canonical(o["project"]) == repo.canonical(f["distribution"])]
    sent = any(o["kind"] == "sent" and o["repository"] == repository
               and f["filename"] in o["files"] for o in seen)
    if not pages:
        return f"sent; {UNKNOWN}" if sent else UNKNOWN
    first, last = pages[0]["files"].get(f["filename"]), pages[-1]["files"].get(f["filename"])
    if last is not None and last != f["sha256"]:
        return "other bytes on the index"
    if first == f["sha256"]:
        return "already there"
    if last == f["sha256"]:
        return "uploaded" if sent else "listed during this run (sent by another)"
    return "sent, not yet listed" if sent else "not on the index"


def steps_of(steps_tsv: Path) -> list[dict[str, Any]]:
    steps = []
    if steps_tsv.exists():
        for line in steps_tsv.read_text(encoding="utf-8").splitlines():
            name, seconds, outcome = line.split("\t")
            steps.append({"step": name, "seconds": float(seconds), "result": outcome})
    return steps


def build(target: str, status: str, run: Path, ledger_path: Path, repository: str,
          index_url: str, seconds: float | None = None) -> dict[str, Any]:
    """The summary; total_seconds is the run's wall time when known (the audit runs beside
    the index check and check), else the sum of the steps."""
    data = ledger.load(ledger_path)
    version = data["version"]
    seen = observations.read(run)
    files = [{"filename": f["filename"], "distribution": f["distribution"],
              "sha256": f["sha256"], "size": f["size"],
              "where": where(f, seen, index_url, repository)} for f in data["files"]]
    steps = steps_of(run / "steps.tsv")
    dist = ledger_path.parent
    verify = read_json(dist / f"verify-{version}.json") or {}
    audit = read_json(dist / f"audit-{version}.json") or {}
    return {
        "target": target, "status": status, "version": version,
        "repository_url": repository, "index_url": index_url,
        "files": files,
        "audit": {k: [d["name"] if isinstance(d, dict) else d for d in audit.get(k, [])]
                  for k in ("vulnerable", "allowed", "unaudited", "clean", "ours")},
        "install": verify.get("results", []),
        "steps": steps,
        "total_seconds": round(seconds if seconds is not None
                               else sum(s["seconds"] for s in steps), 2),
    }


def closing(s: dict[str, Any]) -> str:
    if s["status"] != "ok":
        failed = next((st["step"] for st in s["steps"] if st["result"] != "ok"), "?")
        return f"==> {s['target']} of {s['version']} stopped at step {failed} (its error above)"
    if s["target"] != "stage":
        return f"==> released {s['version']} to {s['repository_url']}"
    unaudited = s["audit"]["unaudited"]
    if unaudited:
        return (f"==> the rehearsal of {s['version']} passed, but {len(unaudited)} dependencies "
                "were not audited: make testpypi and make publish would refuse the audit "
                "unless AUDIT=warn")
    return (f"==> the rehearsal of {s['version']} passed: every step above would publish the "
            "same way")


def render(s: dict[str, Any]) -> str:
    out = [f"==> summary: {s['version']} to {s['repository_url']} ({s['target']}): {s['status']}",
           f"files (as {s['index_url']} served them during this run):"]
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
    out.append(closing(s))
    return "\n".join(out)


def write(target: str, status: str, run: Path, out: Path, repository: str,
          index_url: str, root: Path = repo.ROOT, seconds: float | None = None) -> str:
    s = build(target, status, run, ledger.current_path(root), repository, index_url, seconds)
    repo.atomic_write(out, json.dumps(s, indent=2) + "\n")
    return render(s)
