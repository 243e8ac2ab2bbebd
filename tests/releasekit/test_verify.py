"""`make verify` and its guard against broken releases and dependency confusion
(releasekit.install), against a real pypiserver holding the built files."""
from __future__ import annotations

import hashlib
import json
import shutil
import time
from pathlib import Path

from conftest import SPECS, VENV, VERSION, releasekit, run
from indexkit import MAKE, LocalIndex, ledger, toolkit_env

#: The parts `finops plugins` lists once open-finops[all] is installed.
VENDORS = [spec[len("open-finops["):-1] for spec in SPECS[1:-1]]


def serve_built_files(repo: Path, index: LocalIndex) -> None:
    """Put the ledger's files on the index as an upload would."""
    index.packages.mkdir(parents=True, exist_ok=True)
    for f in ledger(repo)["files"]:
        shutil.copy(repo / f["path"], index.packages / f["filename"])


def test_specs_come_from_the_meta_package(built_copy, home):
    proc = releasekit("install", "specs", repo=built_copy, env=toolkit_env(home), check=True)
    assert proc.stdout.split() == SPECS


def test_make_verify_installs_every_spec(built_copy, local_index):
    serve_built_files(built_copy, local_index)
    env = toolkit_env(local_index.home, INDEX_URL=local_index.index_url)
    proc = run([*MAKE, "-s", "verify"], cwd=built_copy, env=env, timeout=600)
    assert proc.returncode == 0, proc.explain
    assert proc.stdout.splitlines() == [f"{spec} -> ok" for spec in SPECS], proc.explain
    results = json.loads((built_copy / "dist" / f"verify-{VERSION}.json").read_text())
    assert [r["result"] for r in results["results"]] == ["ok"] * len(SPECS)


def test_verify_waits_for_the_version_then_gives_up(built_copy, local_index):
    env = toolkit_env(local_index.home, INDEX_URL=local_index.index_url, VERIFY_DEADLINE="2")
    began = time.monotonic()
    proc = run([*MAKE, "-s", "verify"], cwd=built_copy, env=env, timeout=120)
    assert proc.returncode != 0, proc.explain
    assert time.monotonic() - began < 60
    assert f"to serve every file of {VERSION}: gave up after 2s" in proc.stderr, proc.explain


def test_verify_specs_must_be_specs_of_the_release(built_copy, home):
    """VERIFY_SPECS picks some of the specs; a name that is none is a usage error at once,
    before any wait for the (here unreachable) index."""
    env = toolkit_env(home, INDEX_URL="http://127.0.0.1:9/simple/",
                      VERIFY_SPECS="open-finops[aws] open-finops[awz]")
    began = time.monotonic()
    proc = run([str(built_copy / "scripts" / "verify")], cwd=built_copy, env=env, timeout=120)
    assert proc.returncode == 2, proc.explain
    assert time.monotonic() - began < 30
    errors = [line for line in proc.stderr.splitlines() if "error" in line]
    assert errors == [f"error: VERIFY_SPECS names 'open-finops[awz]', which is no install spec"
                      f" of {VERSION}; its specs: {' '.join(SPECS)} (see --help)"], proc.explain


def test_verify_needs_the_ledger_of_the_version(built_copy, home):
    env = toolkit_env(home, INDEX_URL="http://127.0.0.1:9/simple/", VERSION="9.9.9")
    proc = run([*MAKE, "-s", "verify"], cwd=built_copy, env=env)
    assert proc.returncode != 0
    assert "release-9.9.9.json" in proc.stderr


def dry_run_report(repo: Path, index: LocalIndex, spec: str, dest: Path) -> dict:
    run([str(VENV / "bin" / "pip"), "install", "--dry-run", "--ignore-installed", "--quiet",
         "--report", str(dest), "--index-url", index.index_url, f"{spec}=={VERSION}"],
        cwd=dest.parent, env=toolkit_env(index.home), check=True, timeout=300)
    return json.loads(dest.read_text())


def check_report(repo: Path, index: LocalIndex, spec: str, report: dict, path: Path):
    path.write_text(json.dumps(report))
    return releasekit("install", "report", "--spec", spec, "--report", str(path), repo=repo,
                      env=toolkit_env(index.home, INDEX_URL=index.index_url))


def item(report: dict, name: str) -> dict:
    return next(i for i in report["install"] if i["metadata"]["name"] == name)


def test_install_report_checks(built_copy, local_index, tmp_path):
    serve_built_files(built_copy, local_index)
    spec = "open-finops[aws]"
    good = dry_run_report(built_copy, local_index, spec, tmp_path / "report.json")
    proc = check_report(built_copy, local_index, spec, good, tmp_path / "r.json")
    assert proc.returncode == 0, proc.explain

    def spoiled(change) -> str:
        report = json.loads(json.dumps(good))
        change(report)
        proc = check_report(built_copy, local_index, spec, report, tmp_path / "r.json")
        assert proc.returncode == 1, proc.explain
        return proc.stderr

    def elsewhere(report):  # the same file name, served by another index
        core = item(report, "open-finops-core")
        core["download_info"]["url"] = core["download_info"]["url"].replace(
            local_index.url, "https://pypi.example.invalid")
    assert "is not a file that" in spoiled(elsewhere)

    def other_bytes(report):
        info = item(report, "open-finops-aws")["download_info"]["archive_info"]
        info["hashes"] = {"sha256": "0" * 64}
        info.pop("hash", None)
    assert "the ledger says" in spoiled(other_bytes)

    def other_version(report):
        item(report, "open-finops-aws")["metadata"]["version"] = "0.0.1"
    assert f"open-finops-aws 0.0.1 installed, not {VERSION}" in spoiled(other_version)

    def without_aws(report):
        report["install"].remove(item(report, "open-finops-aws"))
    assert "open-finops-aws was not installed" in spoiled(without_aws)

    def foreign_file(report):
        core = item(report, "open-finops-core")
        core["download_info"]["url"] = core["download_info"]["url"].replace(
            f"open_finops_core-{VERSION}", "open_finops_core-0.0.1")
    assert "not a file of the ledger" in spoiled(foreign_file)


def drop_entry_points(wheel: Path) -> None:
    """Rewrite wheel without its entry_points.txt (and RECORD's line of it): a vendor
    distribution that installs fine and registers no plugin."""
    import zipfile
    broken = wheel.with_suffix(".tmp")
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(broken, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            if item.filename.endswith(".dist-info/entry_points.txt"):
                continue
            data = src.read(item)
            if item.filename.endswith(".dist-info/RECORD"):
                data = b"".join(line for line in data.splitlines(keepends=True)
                                if b"entry_points.txt" not in line)
            out.writestr(item, data)
    broken.replace(wheel)


def test_verify_fails_a_vendor_that_installs_without_its_plugin(built_copy, local_index):
    """open-finops-aws built without its entry point (the ledger records those bytes, as a
    build would): alone, `finops aws --help` fails; beside the others, `finops plugins` lacks
    it. Both specs fail, each naming what is wrong."""
    data = ledger(built_copy)
    entry = next(f for f in data["files"]
                 if f["distribution"] == "open-finops-aws" and f["filename"].endswith(".whl"))
    wheel = built_copy / entry["path"]
    drop_entry_points(wheel)
    entry["sha256"] = hashlib.sha256(wheel.read_bytes()).hexdigest()
    entry["size"] = wheel.stat().st_size
    (built_copy / "dist" / f"release-{VERSION}.json").write_text(json.dumps(data, indent=2))
    serve_built_files(built_copy, local_index)
    env = toolkit_env(local_index.home, INDEX_URL=local_index.index_url,
                      VERIFY_SPECS="open-finops[aws] open-finops[all]")
    proc = run([str(built_copy / "scripts" / "verify")], cwd=built_copy, env=env, timeout=600)
    assert proc.returncode == 1, proc.explain
    assert proc.stdout.splitlines() == [
        "open-finops[aws] -> finops aws --help failed",
        f"open-finops[all] -> finops plugins lists {' '.join(sorted(set(VENDORS) - {'aws'}))}"
        f", but {' '.join(sorted(VENDORS))} were installed"], proc.explain
