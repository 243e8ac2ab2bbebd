"""The audit gate's decisions, from pip-audit's JSON output: a gate that fails closed.

- a known vulnerability fails unless an allowlist entry whose id is the vulnerability's id or
  one of its aliases covers it and has not expired; an expired entry fails, and so does an
  entry without id, reason or expires;
- a dependency pip-audit could not audit (a skip_reason, absent from the output, or no usable
  output at all: the service was unreachable) is "unaudited": it fails in strict mode and is
  warned about, loudly, in warn mode (AUDIT=warn). "No known vulnerabilities found" with every
  dependency skipped is NOT a clean audit.
"""
from __future__ import annotations

import datetime as dt
import json
import sys
import tomllib
from pathlib import Path
from typing import Any

from releasekit import repo
from releasekit.errors import Failure


#: How many dependencies pip-audit asks its vulnerability service about at a time.
LOOKUPS_AT_ONCE = 8


def pip_audit(argv: list[str]) -> int:
    """pip-audit's own command line (the version requirements-dev.txt pins), in this process,
    with one change: its vulnerability service is asked about LOOKUPS_AT_ONCE dependencies at
    a time, in their order, instead of one after the other. Each lookup is a round trip to the
    service (PyPI's JSON API, OSV), so a sequential audit of a closure of 20-odd dependencies
    mostly waits. The output, the messages and the exit code are pip-audit's
    (tests/releasekit/test_audit.py compares the two on the same input)."""
    from concurrent.futures import ThreadPoolExecutor

    from pip_audit import _cli
    from pip_audit._service.interface import VulnerabilityService

    def query_all(service, specs):
        with ThreadPoolExecutor(LOOKUPS_AT_ONCE) as pool:
            yield from pool.map(service.query, specs)

    # The base class's one-by-one loop; no service of the pinned version overrides it.
    VulnerabilityService.query_all = query_all
    saved, sys.argv = sys.argv, ["pip-audit", *argv]
    try:
        _cli.audit()
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
    except Exception:  # what pip-audit's command line dies of, as it dies: traceback, exit 1
        import traceback
        traceback.print_exc()
        return 1
    finally:
        sys.argv = saved
    return 0


def load_allowlist(path: Path | None) -> tuple[list[dict[str, Any]], list[str]]:
    """(entries, problems): each entry has id, reason and an expires date."""
    if path is None or not path.exists():
        return [], []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        return [], [f"{path}: not valid TOML ({exc})"]
    entries, problems = [], []
    for i, raw in enumerate(data.get("allow", []), 1):
        missing = [k for k in ("id", "reason", "expires") if not raw.get(k)]
        if missing:
            problems.append(f"{path}: entry {i} lacks {', '.join(missing)}")
            continue
        expires = raw["expires"]
        if isinstance(expires, str):
            try:
                expires = dt.date.fromisoformat(expires)
            except ValueError:
                problems.append(f"{path}: entry {raw['id']}: expires is not YYYY-MM-DD")
                continue
        if isinstance(expires, dt.datetime):
            expires = expires.date()
        entries.append({"id": str(raw["id"]), "reason": str(raw["reason"]), "expires": expires})
    return entries, problems


def pinned(lines: list[str]) -> dict[str, str]:
    """{canonical name: version} of the audited requirements (name==version lines)."""
    pins = {}
    for line in lines:
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[repo.canonical(name)] = version.strip()
    return pins


def parse_report(text: str) -> list[dict[str, Any]] | None:
    """pip-audit's dependencies, or None when there is no usable output."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    deps = data.get("dependencies") if isinstance(data, dict) else None
    return deps if isinstance(deps, list) else None


def decide(pins: dict[str, str], report_text: str, exit_code: int, stderr_text: str,
           allowlist: list[dict[str, Any]], today: dt.date) -> dict[str, Any]:
    decision: dict[str, Any] = {"clean": [], "allowed": [], "vulnerable": [], "unaudited": []}
    deps = parse_report(report_text)
    if deps is None or exit_code not in (0, 1):
        tail = [line for line in stderr_text.strip().splitlines() if line.strip()]
        reason = tail[-1].strip() if tail else f"pip-audit exited {exit_code} without a report"
        decision["unaudited"] = [
            {"name": n, "version": v, "reason": f"audit service unreachable: {reason}"}
            for n, v in sorted(pins.items())]
        return decision
    seen = set()
    for dep in deps:
        name = repo.canonical(dep.get("name", "?"))
        seen.add(name)
        version = dep.get("version", pins.get(name, "?"))
        if dep.get("skip_reason") or "vulns" not in dep:
            decision["unaudited"].append({"name": name, "version": version,
                                          "reason": dep.get("skip_reason", "not audited")})
            continue
        if not dep["vulns"]:
            decision["clean"].append({"name": name, "version": version})
        for vuln in dep["vulns"]:
            ids = {vuln.get("id", "")} | set(vuln.get("aliases") or [])
            entry = next((e for e in allowlist if e["id"] in ids), None)
            item = {"name": name, "version": version, "id": vuln.get("id", "?"),
                    "aliases": vuln.get("aliases") or [],
                    "fix_versions": vuln.get("fix_versions") or []}
            if entry and entry["expires"] >= today:
                decision["allowed"].append({**item, "reason": entry["reason"],
                                            "expires": entry["expires"].isoformat()})
            elif entry:
                decision["vulnerable"].append({
                    **item, "why": f"allowlist entry {entry['id']} expired on "
                                   f"{entry['expires'].isoformat()}"})
            else:
                decision["vulnerable"].append({**item, "why": "not in the allowlist"})
    for name in sorted(set(pins) - seen):
        decision["unaudited"].append({"name": name, "version": pins[name],
                                      "reason": "missing from pip-audit's output"})
    return decision


def explain(decision: dict[str, Any], ours: list[str], mode: str, problems: list[str]) -> None:
    def say(line: str) -> None:
        print(line, file=sys.stderr)

    for pin in ours:
        say(f"    ours, left out:    {pin}")
    for d in decision["clean"]:
        say(f"    no known vulns:    {d['name']}=={d['version']}")
    for d in decision["allowed"]:
        say(f"    allowed:           {d['name']}=={d['version']} {d['id']} until "
            f"{d['expires']} ({d['reason']})")
    for d in decision["vulnerable"]:
        fix = ", ".join(d["fix_versions"]) or "none yet"
        say(f"    VULNERABLE:        {d['name']}=={d['version']} {d['id']} "
            f"({d['why']}; fixed in: {fix})")
    # One reason is said once, after the dependencies it kept from the audit (an unreachable
    # service stops the audit of every one of them, with one error).
    by_reason: dict[str, list[str]] = {}
    for d in decision["unaudited"]:
        by_reason.setdefault(d["reason"], []).append(f"{d['name']}=={d['version']}")
    for reason, pins in by_reason.items():
        if len(pins) == 1:
            say(f"    UNAUDITED:         {pins[0]} ({reason})")
            continue
        for pin in pins:
            say(f"    UNAUDITED:         {pin}")
        say(f"    (those {len(pins)}: {reason})")
    if decision["unaudited"] and mode == "warn":
        names = ", ".join(d["name"] for d in decision["unaudited"])
        bar = "!" * 78
        say(f"{bar}\n!! WARNING: {len(decision['unaudited'])} dependencies were NOT audited "
            f"(AUDIT=warn): {names}\n!! Nobody has checked them for known vulnerabilities. "
            f"testpypi and publish refuse this\n!! unless AUDIT=warn is given.\n{bar}")


def gate(requirements: Path, report: Path, exit_code: int, stderr: Path | None,
         allowlist: Path | None, ours: list[str], mode: str, today: dt.date,
         out: Path) -> None:
    """Decide, explain on stderr, write the decision to out; raise Failure when it fails."""
    def read(path: Path | None) -> str:
        return path.read_text(encoding="utf-8", errors="replace") if path and path.exists() else ""

    entries, problems = load_allowlist(allowlist)
    decision = decide(pinned(read(requirements).splitlines()), read(report), exit_code,
                      read(stderr), entries, today)
    decision["ours"] = ours
    decision["mode"] = mode
    explain(decision, ours, mode, problems)
    repo.atomic_write(out, json.dumps(decision, indent=2, default=str) + "\n")
    failures = list(problems)
    if decision["vulnerable"]:
        failures.append("known vulnerabilities above; upgrade, or allowlist each with id, "
                        "reason and expires in audit-allowlist.toml")
    if decision["unaudited"] and mode == "strict":
        failures.append(f"{len(decision['unaudited'])} dependencies could not be audited; fix "
                        "the access to the vulnerability service, or accept the risk with "
                        "AUDIT=warn")
    if failures:
        raise Failure("\n".join(failures))
