"""The audit gate: decisions of releasekit.audit on pip-audit's real JSON shapes, and
real runs of pip-audit and of `make audit` (which cannot reach vulnerability data here, so
everything must come out UNAUDITED, never clean)."""
from __future__ import annotations

import json
import re
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from conftest import (
    PACKAGES, REPO, VENV, VERSION, JSONHandler, base_env, free_port, releasekit, run)
from indexkit import MAKE, toolkit_env

PINS = "six==1.17.0\nurllib3==2.8.0\n"

# Captured from pip-audit 2.10 on this machine (PyPI service, no access to its JSON API):
# exit 0, "No known vulnerabilities found" on stderr, and every dependency skipped.
REAL_SKIPPED = json.dumps({"dependencies": [
    {"name": "six",
     "skip_reason": "Dependency not found on PyPI and could not be audited: six (1.17.0)"},
    {"name": "urllib3",
     "skip_reason": "Dependency not found on PyPI and could not be audited: urllib3 (2.8.0)"}],
    "fixes": []})
REAL_SKIPPED_STDERR = "No known vulnerabilities found\n"
# Captured from `pip-audit -s osv`: a traceback and exit 1, nothing on stdout.
REAL_OSV_STDERR = """Traceback (most recent call last):
  File "/work/main/.venv/lib/python3.11/site-packages/requests/adapters.py", line 729, in send
    raise ConnectionError(e, request=request)
requests.exceptions.ConnectionError: HTTPSConnectionPool(host='api.osv.dev', port=443): Max \
retries exceeded with url: /v1/query (Caused by NameResolutionError("Failed to resolve \
'api.osv.dev'"))
"""
# pip-audit's JSON for a found vulnerability (exit 1), as its JSON format writes it.
VULNERABLE = json.dumps({"dependencies": [
    {"name": "six", "version": "1.17.0", "vulns": []},
    {"name": "urllib3", "version": "2.8.0", "vulns": [
        {"id": "GHSA-aaaa-bbbb-cccc", "fix_versions": ["2.9.1"], "aliases": ["CVE-2026-1234"],
         "description": "A header injection."}]}],
    "fixes": [{"name": "urllib3", "old_version": "2.8.0", "new_version": "2.9.1"}]})


def decide(tmp_path: Path, report: str, exit_code: int, stderr: str = "",
           allowlist: str | None = None, mode: str = "strict", today: str = "2026-11-24",
           pins: str = PINS):
    (tmp_path / "req.txt").write_text(pins)
    (tmp_path / "report.json").write_text(report)
    (tmp_path / "stderr.txt").write_text(stderr)
    out = tmp_path / "decision.json"
    out.unlink(missing_ok=True)
    args = ["audit", "--requirements", str(tmp_path / "req.txt"),
            "--report", str(tmp_path / "report.json"), "--exit-code", str(exit_code),
            "--stderr", str(tmp_path / "stderr.txt"), "--mode", mode, "--today", today,
            "--ours", "open-finops-core==0.3.0", "--out", str(out)]
    if allowlist is not None:
        (tmp_path / "allow.toml").write_text(allowlist)
        args += ["--allowlist", str(tmp_path / "allow.toml")]
    proc = releasekit(*args)
    decision = json.loads(out.read_text()) if out.exists() else None
    return proc, decision


def test_all_skipped_is_unaudited_never_clean(tmp_path):
    proc, decision = decide(tmp_path, REAL_SKIPPED, 0, REAL_SKIPPED_STDERR)
    assert proc.returncode == 1, proc.explain
    assert [d["name"] for d in decision["unaudited"]] == ["six", "urllib3"]
    assert decision["clean"] == []
    assert "UNAUDITED:         six==1.17.0" in proc.stderr
    assert "ours, left out:    open-finops-core==0.3.0" in proc.stderr
    assert "could not be audited" in proc.stderr


def test_warn_mode_passes_unaudited_loudly(tmp_path):
    proc, decision = decide(tmp_path, REAL_SKIPPED, 0, REAL_SKIPPED_STDERR, mode="warn")
    assert proc.returncode == 0, proc.explain
    assert "WARNING: 2 dependencies were NOT audited" in proc.stderr
    assert "six, urllib3" in proc.stderr


def test_unreachable_service_is_all_unaudited(tmp_path):
    proc, decision = decide(tmp_path, "", 1, REAL_OSV_STDERR)
    assert proc.returncode == 1, proc.explain
    assert [d["name"] for d in decision["unaudited"]] == ["six", "urllib3"]
    assert all("audit service unreachable" in d["reason"] and "api.osv.dev" in d["reason"]
               for d in decision["unaudited"])
    # The one error that stopped the audit is said once, not once per dependency.
    assert "UNAUDITED:         six==1.17.0\n" in proc.stderr, proc.explain
    assert proc.stderr.count("Max retries exceeded") == 1, proc.explain
    assert "(those 2: audit service unreachable: " in proc.stderr, proc.explain
    proc, _ = decide(tmp_path, "", 1, REAL_OSV_STDERR, mode="warn")
    assert proc.returncode == 0, proc.explain


def test_known_vulnerability_fails_even_in_warn_mode(tmp_path):
    for mode in ("strict", "warn"):
        proc, decision = decide(tmp_path, VULNERABLE, 1, mode=mode)
        assert proc.returncode == 1, proc.explain
        assert decision["vulnerable"][0]["id"] == "GHSA-aaaa-bbbb-cccc"
        assert "VULNERABLE:        urllib3==2.8.0 GHSA-aaaa-bbbb-cccc" in proc.stderr
        assert "fixed in: 2.9.1" in proc.stderr
        assert [d["name"] for d in decision["clean"]] == ["six"]


@pytest.mark.parametrize("listed", ["GHSA-aaaa-bbbb-cccc", "CVE-2026-1234"])
def test_allowlist_by_id_or_alias_until_it_expires(tmp_path, listed):
    allow = f'[[allow]]\nid = "{listed}"\nreason = "we never send headers"\nexpires = 2026-12-31\n'
    proc, decision = decide(tmp_path, VULNERABLE, 1, allowlist=allow)
    assert proc.returncode == 0, proc.explain
    assert decision["allowed"][0]["expires"] == "2026-12-31"
    assert "allowed:           urllib3==2.8.0 GHSA-aaaa-bbbb-cccc until 2026-12-31" in proc.stderr

    proc, decision = decide(tmp_path, VULNERABLE, 1, allowlist=allow, today="2027-01-01")
    assert proc.returncode == 1, proc.explain
    assert "expired on 2026-12-31" in decision["vulnerable"][0]["why"]


def test_allowlist_entry_without_reason_or_expiry_fails(tmp_path):
    allow = '[[allow]]\nid = "GHSA-aaaa-bbbb-cccc"\n'
    proc, _ = decide(tmp_path, VULNERABLE, 1, allowlist=allow)
    assert proc.returncode == 1, proc.explain
    assert "lacks reason, expires" in proc.stderr


def test_dependency_missing_from_the_report_is_unaudited(tmp_path):
    report = json.dumps({"dependencies": [{"name": "six", "version": "1.17.0", "vulns": []}]})
    proc, decision = decide(tmp_path, report, 0)
    assert proc.returncode == 1, proc.explain
    assert decision["unaudited"] == [{"name": "urllib3", "version": "2.8.0",
                                      "reason": "missing from pip-audit's output"}]


def test_the_shipped_allowlist_is_valid(tmp_path):
    proc, _ = decide(tmp_path, json.dumps({"dependencies": [
        {"name": "six", "version": "1.17.0", "vulns": []},
        {"name": "urllib3", "version": "2.8.0", "vulns": []}]}), 0,
        allowlist=(REPO / "audit-allowlist.toml").read_text())
    assert proc.returncode == 0, proc.explain


def test_real_pip_audit_output_is_judged_unaudited(tmp_path, home):
    """A live pip-audit run here (no vulnerability data reachable): its real JSON through the
    policy. Should the service ever answer, the decision must then be clean or vulnerable."""
    (tmp_path / "req.txt").write_text(PINS)
    audit = run([str(VENV / "bin" / "pip-audit"), "--disable-pip", "--no-deps",
                 "--progress-spinner", "off", "-f", "json", "-r", str(tmp_path / "req.txt"),
                 "--timeout", "10"], env=toolkit_env(home), timeout=300)
    proc, decision = decide(tmp_path, audit.stdout, audit.returncode, audit.stderr)
    audited = {d["name"] for d in decision["clean"] + decision["vulnerable"]}
    unaudited = {d["name"] for d in decision["unaudited"]}
    assert audited | unaudited == {"six", "urllib3"}, proc.explain
    if unaudited:
        assert proc.returncode == 1, proc.explain


def test_make_audit_fails_closed_and_warns_with_audit_warn(built_copy, home):
    strict = run([*MAKE, "-s", "audit"], cwd=built_copy, env=toolkit_env(home), timeout=300)
    path = built_copy / "dist" / f"audit-{VERSION}.json"
    assert path.exists(), strict.explain
    decision = json.loads(path.read_text())
    assert {o.split("==")[0] for o in decision["ours"]} == {name for name, _ in PACKAGES}
    third_party = {d["name"] for k in ("clean", "vulnerable", "unaudited", "allowed")
                   for d in decision[k]}
    assert {"duckdb", "boto3", "botocore"} <= third_party
    assert not third_party & {"open-finops", "open-finops-core"}
    if decision["unaudited"]:
        assert strict.returncode != 0, strict.explain
        assert "could not be audited" in strict.stderr
        warned = run([*MAKE, "-s", "audit"], cwd=built_copy, timeout=300,
                     env=toolkit_env(home, AUDIT="warn"))
        assert warned.returncode == 0, warned.explain
        assert "NOT audited" in warned.stderr
    bad = run([*MAKE, "-s", "audit"], cwd=built_copy, env=toolkit_env(home, AUDIT="maybe"))
    assert bad.returncode != 0 and "AUDIT must be strict or warn" in bad.stderr


class FakeOsv(JSONHandler):
    """A fake of OSV's query API (api.osv.dev cannot be reached from here): urllib3 2.8.0 has
    one vulnerability, nothing else has any. Each answer takes 0.1 s, and the server counts the
    most queries it had in hand at once."""

    lock = threading.Lock()
    in_flight = most = 0

    def do_POST(self):
        query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with FakeOsv.lock:
            FakeOsv.in_flight += 1
            FakeOsv.most = max(FakeOsv.most, FakeOsv.in_flight)
        time.sleep(0.1)
        with FakeOsv.lock:
            FakeOsv.in_flight -= 1
        answer = {}
        if query["package"]["name"] == "urllib3" and query["version"] == "2.8.0":
            answer = {"vulns": [{
                "id": "GHSA-aaaa-bbbb-cccc", "aliases": ["CVE-2026-1234"],
                "summary": "A header injection.", "published": "2026-10-01T00:00:00Z",
                "affected": [{"package": {"name": "urllib3", "ecosystem": "PyPI"},
                              "ranges": [{"type": "ECOSYSTEM",
                                          "events": [{"introduced": "0"}, {"fixed": "2.9.1"}]}]}]}]}
        self.answer_json(answer)


def test_releasekit_pip_audit_is_pip_audit_asking_several_at_a_time(tmp_path, home):
    """scripts/audit runs `releasekit pip-audit`: on the same input it must write what
    pip-audit's own command line writes, and exit as it does, while asking the service about
    several dependencies at a time (pip-audit asks one after the other)."""
    pins = ["certifi==2026.10.19.post1", "idna==3.20", "jmespath==1.1.0", "six==1.17.0",
            "urllib3==2.8.0", "pycparser==3.12", "isodate==0.7.2", "requests==2.34.2"]
    (tmp_path / "req.txt").write_text("".join(f"{p}\n" for p in pins))
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOsv)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    args = ["--disable-pip", "--no-deps", "--progress-spinner", "off", "-f", "json",
            "--vulnerability-service", "osv", "--osv-url",
            f"http://127.0.0.1:{server.server_port}/v1/query", "-r", str(tmp_path / "req.txt")]
    env = base_env(home)
    try:
        runs = {}
        for name, command in (("pip-audit", [str(VENV / "bin" / "pip-audit"), *args]),
                              ("releasekit", None)):
            FakeOsv.most = 0
            proc = (run(command, env=env, timeout=120) if command else
                    releasekit("pip-audit", "--", *args, env=env, timeout=120))
            runs[name] = proc, FakeOsv.most
    finally:
        server.shutdown()
    (theirs, their_most), (ours, our_most) = runs["pip-audit"], runs["releasekit"]
    assert ours.returncode == theirs.returncode == 1, ours.explain + theirs.explain
    assert json.loads(ours.stdout) == json.loads(theirs.stdout), ours.explain + theirs.explain
    assert ours.stderr == theirs.stderr
    report = json.loads(ours.stdout)
    assert [f"{d['name']}=={d['version']}" for d in report["dependencies"]] == pins
    vulnerable = [d for d in report["dependencies"] if d["vulns"]]
    assert [(d["name"], {d["vulns"][0]["id"], *d["vulns"][0]["aliases"]},
             d["vulns"][0]["fix_versions"]) for d in vulnerable] == [
        ("urllib3", {"GHSA-aaaa-bbbb-cccc", "CVE-2026-1234"}, ["2.9.1"])]
    assert their_most == 1 and our_most > 1, (their_most, our_most)


def test_releasekit_pip_audit_dies_of_an_unreachable_service_as_pip_audit_does(tmp_path, home):
    """No service at the URL: both exit 1 with a traceback ending in the same error, which
    the gate then reports as the reason nothing was audited."""
    (tmp_path / "req.txt").write_text(PINS)
    args = ["--disable-pip", "--no-deps", "--progress-spinner", "off", "-f", "json",
            "--vulnerability-service", "osv", "--osv-url",
            f"http://127.0.0.1:{free_port()}/v1/query", "-r", str(tmp_path / "req.txt")]
    env = base_env(home)
    theirs = run([str(VENV / "bin" / "pip-audit"), *args], env=env, timeout=120)
    ours = releasekit("pip-audit", "--", *args, env=env, timeout=120)

    def last_line(proc):
        return re.sub(r"0x[0-9a-f]+", "0x", proc.stderr.strip().splitlines()[-1])

    assert ours.returncode == theirs.returncode == 1, ours.explain + theirs.explain
    assert ours.stdout == theirs.stdout == ""
    assert "Traceback" in ours.stderr and "Connection refused" in last_line(ours), ours.explain
    assert last_line(ours) == last_line(theirs)


def test_make_audit_of_changed_built_files_is_one_error(built_copy, home):
    """The closure (ledger check, requirements, wheelhouse, resolve) feeds pip-audit through
    a pipe: when it fails, its own line is the only error, and no decision is written."""
    wheel = next((built_copy / "core" / "dist").glob("*.whl"))
    wheel.write_bytes(wheel.read_bytes() + b"x")
    proc = run([*MAKE, "-s", "audit"], cwd=built_copy, env=toolkit_env(home, AUDIT="warn"),
               timeout=300)
    assert proc.returncode != 0, proc.explain
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "changed since the build" in errors[0], proc.explain
    assert not (built_copy / "dist" / f"audit-{VERSION}.json").exists()
