"""The faster paths of the release keep its guarantees.

scripts/verify installs each spec with uv's pip interface (`releasekit install venv`: uv
resolves into a pylock.toml, our files in it are checked, uv installs exactly the locked
files by sha256). Here, against a real pypiserver holding the built files and the
wheelhouse: uv installs the same (name, version, file) as `pip install --dry-run --report`
picks for every spec; a file of ours with other bytes than the ledger's is refused; uv's cache
never stands in for what the index serves now; and `uv pip check` fails where `pip check`
does. The oracle is pip itself, never our code.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
import tomllib
import zipfile
from pathlib import Path

import pytest

from conftest import VENV, VERSION, run
from indexkit import LocalIndex, ledger, toolkit_env

SPECS = ["open-finops", "open-finops[aws]", "open-finops[docker]", "open-finops[all]"]
CORE_WHEEL = f"open_finops_core-{VERSION}-py3-none-any.whl"


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def serve_built_files(repo: Path, index: LocalIndex) -> None:
    """Put the ledger's files on the index as an upload would."""
    index.packages.mkdir(parents=True, exist_ok=True)
    for f in ledger(repo)["files"]:
        shutil.copy(repo / f["path"], index.packages / f["filename"])


def env_for(index: LocalIndex, tmp_path: Path, repo: Path) -> dict[str, str]:
    return toolkit_env(index.home, INDEX_URL=index.index_url, PYTHONPATH=str(repo / "scripts"),
                       UV_CACHE_DIR=str(tmp_path / "uv-cache"), UV_NO_CONFIG="1")


def new_venv(path: Path) -> Path:
    subprocess.run([str(VENV / "bin" / "python"), "-m", "venv", "--without-pip", str(path)],
                   check=True, stdin=subprocess.DEVNULL, timeout=120)
    return path / "bin" / "python"


def install_venv(repo: Path, env: dict[str, str], spec: str, work: Path):
    """What scripts/verify runs for one spec: a fresh venv, then releasekit install venv."""
    python = new_venv(work / "venv")
    proc = run([str(VENV / "bin" / "python"), "-m", "releasekit", "install", "venv",
                "--spec", spec, "--python", str(python), "--dir", str(work)],
               cwd=repo, env=env, timeout=300)
    return proc, python


def installed(python: Path) -> set[tuple[str, str]]:
    """(name, version) of every distribution in the venv, read from its dist-info."""
    site = next(python.parent.parent.glob("lib/python*/site-packages"))
    found = set()
    for meta in site.glob("*.dist-info/METADATA"):
        header = meta.read_text().split("\n\n", 1)[0].splitlines()  # Version may come late
        fields = dict(line.split(": ", 1) for line in header if ": " in line)
        found.add((canonical(fields["Name"]), fields["Version"]))
    return found


def pip_picks(index: LocalIndex, spec: str, report: Path) -> set[tuple[str, str, str]]:
    """(name, version, file name) that pip would install for the spec, from its own report."""
    run([str(VENV / "bin" / "pip"), "install", "--dry-run", "--ignore-installed", "--quiet",
         "--report", str(report), "--index-url", index.index_url, f"{spec}=={VERSION}"],
        cwd=report.parent, env=toolkit_env(index.home), check=True, timeout=300)
    return {(canonical(i["metadata"]["name"]), i["metadata"]["version"],
             i["download_info"]["url"].split("#")[0].rsplit("/", 1)[-1])
            for i in json.loads(report.read_text())["install"]}


def uv_picks(work: Path, python: Path) -> set[tuple[str, str, str]]:
    """(name, version, file name) that uv installed: every pin of the requirements it was
    given names one sha256, i.e. one file of the lock; and the venv holds exactly those."""
    lock = tomllib.loads((work / "pylock.toml").read_text())
    by_hash = {a["hashes"]["sha256"]: a["url"].rsplit("/", 1)[-1]
               for p in lock["packages"]
               for a in [*p.get("wheels", []), *([p["sdist"]] if "sdist" in p else [])]}
    picks = set()
    for line in (work / "requirements.txt").read_text().splitlines():
        pin, *hashes = line.split()
        assert len(hashes) == 1, f"{pin} may come from {len(hashes)} files: ambiguous pick"
        name, version = pin.split("==")
        picks.add((canonical(name), version, by_hash[hashes[0].removeprefix("--hash=sha256:")]))
    assert {(n, v) for n, v, _ in picks} == installed(python)
    return picks


def test_uv_installs_the_files_pip_picks_for_every_spec(built_copy, local_index, tmp_path):
    serve_built_files(built_copy, local_index)
    env = env_for(local_index, tmp_path, built_copy)
    for i, spec in enumerate(SPECS):
        work = tmp_path / str(i)
        work.mkdir()
        proc, python = install_venv(built_copy, env, spec, work)
        assert proc.returncode == 0, proc.explain
        pip = pip_picks(local_index, spec, work / "pip-report.json")
        uv = uv_picks(work, python)
        assert uv == pip, f"{spec}: uv only {sorted(uv - pip)}; pip only {sorted(pip - uv)}"
        ours = {f for n, _, f in uv if n.startswith("open-finops")}
        assert ours <= {f["filename"] for f in ledger(built_copy)["files"]}, spec
        assert (canonical("open-finops-core"), VERSION, CORE_WHEEL) in uv


def rewrite_core_wheel(path: Path, marker: str) -> None:
    """Other bytes under the same file name: one more module, with a consistent RECORD."""
    with zipfile.ZipFile(path) as old:
        items = [(info.filename, old.read(info)) for info in old.infolist()]
    record = next(n for n, _ in items if n.endswith(".dist-info/RECORD"))
    items = [(n, d) for n, d in items if n != record]
    items.append(("open_finops/core/_marker.py", f"MARKER = {marker!r}\n".encode()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        lines = []
        for name, data in items:
            new.writestr(name, data)
            digest = hashlib.sha256(data).digest()
            b64 = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            lines.append(f"{name},sha256={b64},{len(data)}")
        new.writestr(record, "\n".join(lines) + f"\n{record},,\n")


def test_other_bytes_of_ours_are_refused_and_never_taken_from_the_cache(
        built_copy, local_index, tmp_path):
    """The same URL serving other bytes: refused while the ledger says otherwise; once the
    ledger records the new bytes (a rebuild), those are installed, not what uv cached."""
    serve_built_files(built_copy, local_index)
    env = env_for(local_index, tmp_path, built_copy)
    proc, _ = install_venv(built_copy, env, "open-finops", tmp_path / "first")
    assert proc.returncode == 0, proc.explain  # uv's cache now holds the built core wheel

    served = local_index.packages / CORE_WHEEL
    local_index.stop()
    rewrite_core_wheel(served, "rebuilt")
    local_index.start()  # the same port: the same URLs
    proc, python = install_venv(built_copy, env, "open-finops", tmp_path / "refused")
    assert proc.returncode == 1, proc.explain
    assert f"{CORE_WHEEL} has sha256" in proc.stderr and "the ledger says" in proc.stderr, \
        proc.explain
    assert not any(n.startswith("open-finops") for n, _ in installed(python)), proc.explain

    data = ledger(built_copy)
    for f in data["files"]:
        if f["filename"] == CORE_WHEEL:
            f["sha256"] = hashlib.sha256(served.read_bytes()).hexdigest()
    (built_copy / "dist" / f"release-{VERSION}.json").write_text(json.dumps(data))
    proc, python = install_venv(built_copy, env, "open-finops", tmp_path / "rebuilt")
    assert proc.returncode == 0, proc.explain
    site = next(python.parent.parent.glob("lib/python*/site-packages"))
    assert (site / "open_finops/core/_marker.py").read_text() == "MARKER = 'rebuilt'\n"


@pytest.mark.parametrize("checker", ["uv", "pip"])
def test_uv_pip_check_fails_where_pip_check_does(built_copy, local_index, tmp_path, checker):
    """A venv missing dependencies (the aws plugin alone, without core, duckdb, boto3): both
    checkers fail, naming them."""
    serve_built_files(built_copy, local_index)
    python = new_venv(tmp_path / "venv")
    env = env_for(local_index, tmp_path, built_copy)
    run([str(VENV / "bin" / "uv"), "pip", "install", "--python", str(python), "--no-deps",
         "--index-url", local_index.index_url, f"open-finops-aws=={VERSION}"],
        env=env, check=True, timeout=300)
    command = {"uv": [str(VENV / "bin" / "uv"), "pip", "check", "--python", str(python)],
               "pip": [str(VENV / "bin" / "pip"), "--python", str(python), "check"]}[checker]
    proc = run(command, env=env, timeout=120)
    assert proc.returncode != 0, proc.explain
    for missing in ("open-finops-core", "duckdb", "boto3"):
        assert missing in proc.stdout + proc.stderr, proc.explain


def test_the_audit_closure_is_the_one_pip_resolves(built_copy, home, tmp_path):
    """scripts/audit's closure (uv, offline, from the built wheels and the wheelhouse): the
    same pins as pip's own resolution of the same input."""
    env = toolkit_env(home, PYTHONPATH=str(built_copy / "scripts"), UV_NO_CONFIG="1")
    releasekit = [str(VENV / "bin" / "python"), "-m", "releasekit"]
    third_party = tmp_path / "third-party.in"
    third_party.write_text(run([*releasekit, "closure", "requirements"], cwd=built_copy,
                               env=env, check=True).stdout)
    wheels = [str(built_copy / f["path"]) for f in ledger(built_copy)["files"]
              if f["filename"].endswith(".whl")]
    report = tmp_path / "report.json"
    run([str(VENV / "bin" / "pip"), "install", "--quiet", "--dry-run", "--ignore-installed",
         "--no-index", "--find-links", env["WHEELHOUSE"], "--report", str(report), *wheels,
         "-r", str(third_party)], cwd=tmp_path, env=env, check=True, timeout=300)
    pip = {f"{canonical(i['metadata']['name'])}=={i['metadata']['version']}"
           for i in json.loads(report.read_text())["install"]}
    (tmp_path / "uv").mkdir()
    proc = run([*releasekit, "closure", "resolve", "--wheelhouse", env["WHEELHOUSE"],
                "--dir", str(tmp_path / "uv")], cwd=built_copy, env=env, check=True)
    uv = {line.split("\t")[1] for line in proc.stdout.splitlines()}
    assert uv == pip and len(pip) > len(wheels), proc.explain


def test_free_port_takes_the_preferred_port_only_when_free():
    """make stage prefers one port per uv cache (a warm cache); a taken port is never used."""
    import socket

    from releasekit import index

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        taken = listener.getsockname()[1]
        other = index.free_port(prefer=taken)
        assert other != taken
    assert index.free_port(prefer=taken) == taken  # free again once the listener is gone
