"""The install specs of a release, and how scripts/verify installs each one: the guard
against a broken release and against dependency confusion.

A resolution passes when every open-finops distribution the spec needs is in it, every one of
ours in it is at exactly the ledger's version, and each of our files comes from INDEX_URL: its
URL is one that INDEX_URL's simple page lists for the project, and its sha256 is the ledger's
for that file name. The resolution is a `pip install --report` (:func:`check_report`) or, as
verify makes it, uv's (:func:`install_spec`): `uv pip compile --format pylock.toml` resolves
the spec for the venv's interpreter from the same indexes, the lock's files are checked as a
report's are, and `uv pip install --require-hashes --no-deps` installs exactly the locked
files (uv refuses any other bytes). tests/releasekit/test_speed_choices.py shows that uv picks
the same files as pip for every spec.
"""
from __future__ import annotations

import json
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement

from releasekit import closure, index, repo
from releasekit.errors import Failure


def meta_requirements(data: dict[str, Any]) -> tuple[list[str], list[Requirement]]:
    """(extras, requirements) of the meta-package's built wheel."""
    meta = repo.canonical(repo.meta_package().name)
    wheel = next(w for w in closure.built_wheels(data)
                 if repo.canonical(w.distribution) == meta)
    return wheel.extras, [Requirement(r) for r in wheel.requires]


def specs(data: dict[str, Any]) -> list[str]:
    meta = repo.meta_package().name
    extras, requires = meta_requirements(data)
    # An extra that adds nothing to the plain install ("core") is not a spec of its own.
    plain = {repo.canonical(r.name) for r in requires if not r.marker}
    useful = [e for e in extras
              if {repo.canonical(r.name) for r in requires
                  if r.marker and r.marker.evaluate({"extra": e})} - plain]
    return [meta, *(f"{meta}[{e}]" for e in useful)]


def expected(data: dict[str, Any], spec: str) -> set[str]:
    """Our distributions that installing SPEC must bring in (closure over our own wheels)."""
    ours = closure.ours()
    req = Requirement(spec)
    requires_of = {repo.canonical(w.distribution): [Requirement(r) for r in w.requires]
                   for w in closure.built_wheels(data)}
    want: set[str] = set()
    todo = [(repo.canonical(req.name), set(req.extras))]
    while todo:
        name, extras = todo.pop()
        if name in want:
            continue
        want.add(name)
        for r in requires_of.get(name, []):
            dep = repo.canonical(r.name)
            if dep in ours and (not r.marker or any(r.marker.evaluate({"extra": e})
                                                    for e in ["", *extras])):
                todo.append((dep, set(r.extras)))
    return want


def report_sha256(item: dict[str, Any]) -> str:
    info = item.get("download_info", {}).get("archive_info", {})
    digest = info.get("hashes", {}).get("sha256")
    if not digest and info.get("hash", "").startswith("sha256="):
        digest = info["hash"].split("=", 1)[1]
    return digest or ""


def check(data: dict[str, Any], spec: str, report: dict[str, Any], index_url: str) -> list[str]:
    ours = closure.ours()
    by_filename = {f["filename"]: f for f in data["files"]}
    version = data["version"]
    problems = []
    installed = {}
    for item in report.get("install", []):
        name = repo.canonical(item["metadata"]["name"])
        if name in ours:
            installed[name] = item
    for name in sorted(expected(data, spec) - set(installed)):
        problems.append(f"{name} was not installed")
    pages: dict[str, dict[str, dict[str, str]]] = {}
    for name, item in sorted(installed.items()):
        got = item["metadata"]["version"]
        if got != version:
            problems.append(f"{name} {got} installed, not {version}")
        url = item.get("download_info", {}).get("url", "")
        filename = re.sub(r"[?#].*$", "", url).rsplit("/", 1)[-1]
        built = by_filename.get(filename)
        if built is None:
            problems.append(f"{name}: installed from {filename or url!r}, not a file of the ledger")
            continue
        if name not in pages:
            pages[name] = index.fetch(index_url, name)
        listed = {f["url"] for f in pages[name].values()}
        if url.split("#")[0] not in listed:
            problems.append(f"{name}: {url} is not a file that {index_url} lists "
                            "(dependency confusion?)")
        if report_sha256(item) != built["sha256"]:
            problems.append(f"{name}: {filename} has sha256 {report_sha256(item)[:12]}..., "
                            f"the ledger says {built['sha256'][:12]}...")
    return problems


def uv_index_args(index_url: str, extra_index_url: str = "") -> list[str]:
    """uv's arguments for pip's view of the indexes: with a second index (third-party
    dependencies from PyPI beside TestPyPI), pip merges every version of every name from both
    and takes the best; uv's own default would take a name from one index only. Our files are
    checked to come from INDEX_URL either way."""
    args = ["--index-url", index_url]
    if extra_index_url:
        args += ["--extra-index-url", extra_index_url, "--index-strategy", "unsafe-best-match"]
    return args


def lock_report(lock: dict[str, Any], ours: set[str]) -> dict[str, Any]:
    """Our distributions in a pylock.toml as the part of a pip --report that check() reads:
    each with the file that will be installed: its wheel (a pure wheel, the only one we
    build), else its sdist. :func:`lock_requirements` pins exactly that file."""
    items = []
    for package in lock.get("packages", []):
        if repo.canonical(package["name"]) not in ours:
            continue
        artifact = (package.get("wheels") or [package.get("sdist") or {}])[0]
        items.append({
            "metadata": {"name": package["name"], "version": package.get("version", "")},
            "download_info": {"url": artifact.get("url", ""), "archive_info": {
                "hashes": {"sha256": artifact.get("hashes", {}).get("sha256", "")}}},
        })
    return {"install": items}


def lock_requirements(lock: dict[str, Any], ours: set[str]) -> str:
    """The lock as hashed pins for `uv pip install --require-hashes --no-deps`: a third-party
    package may be installed from any file the lock lists for it (uv then picks as it would
    have); one of ours only from the file :func:`lock_report` checked."""
    lines = []
    for package in lock.get("packages", []):
        artifacts = [*package.get("wheels", []), *([package["sdist"]] if "sdist" in package
                                                   else [])]
        if repo.canonical(package["name"]) in ours:
            artifacts = artifacts[:1]
        hashes = [a["hashes"]["sha256"] for a in artifacts if a.get("hashes", {}).get("sha256")]
        if not hashes:
            raise Failure(f"uv's lock has no sha256 for {package['name']}; cannot pin it")
        lines.append(" ".join([f"{package['name']}=={package['version']}",
                               *(f"--hash=sha256:{h}" for h in hashes)]))
    return "\n".join(lines) + "\n"


def _uv(args: list[str], log: Path) -> None:
    """Run uv (the toolkit's), its output appended to log; a failure is one line."""
    with log.open("a", encoding="utf-8") as out:
        proc = subprocess.run(["uv", *args, "--no-config"], stdin=subprocess.DEVNULL,
                              stdout=out, stderr=subprocess.PIPE, text=True)
        out.write(proc.stderr)
    if proc.returncode != 0:
        lines = [line.strip(" ×╰─▶") for line in proc.stderr.splitlines()]
        reason = next((line for line in lines if line.startswith(("error:", "Because"))),
                      lines[-1] if lines else f"exit {proc.returncode}")
        raise Failure(f"uv pip {args[1]} failed: {reason.removeprefix('error: ')}")


def install_spec(data: dict[str, Any], spec: str, python: str, workdir: Path, index_url: str,
                 extra_index_url: str = "") -> None:
    """Install SPEC at the ledger's version into the venv of PYTHON as verify does: resolve
    with uv into workdir/pylock.toml, check our files in it (:func:`check`), then install
    exactly the locked files. Our distributions are always fetched anew (--refresh-package):
    uv's cache never stands in for what INDEX_URL serves now."""
    ours = closure.ours()
    refresh = [arg for name in sorted(ours) for arg in ("--refresh-package", name)]
    indexes = uv_index_args(index_url, extra_index_url)
    log = workdir / "log"
    (workdir / "spec.in").write_text(f"{spec}=={data['version']}\n", encoding="utf-8")
    _uv(["pip", "compile", "--quiet", "--python", python, *indexes, *refresh,
         "--format", "pylock.toml", "-o", str(workdir / "pylock.toml"),
         str(workdir / "spec.in")], log)
    lock = tomllib.loads((workdir / "pylock.toml").read_text(encoding="utf-8"))
    problems = check(data, spec, lock_report(lock, ours), index_url)
    if problems:
        raise Failure("\n".join(problems))
    (workdir / "requirements.txt").write_text(lock_requirements(lock, ours), encoding="utf-8")
    _uv(["pip", "install", "--quiet", "--python", python, *indexes, *refresh,
         "--no-deps", "--require-hashes", "-r", str(workdir / "requirements.txt")], log)


def check_report(data: dict[str, Any], spec: str, report: Path, index_url: str) -> None:
    problems = check(data, spec, json.loads(report.read_text(encoding="utf-8")), index_url)
    if problems:
        raise Failure("\n".join(problems))


def write_results(results_tsv: Path, out: Path, index_url: str, version: str) -> None:
    """dist/verify-VERSION.json from scripts/verify's "spec<TAB>result<TAB>seconds" lines."""
    rows = [line.split("\t") for line in results_tsv.read_text(encoding="utf-8").splitlines()]
    repo.atomic_write(out, json.dumps({
        "index_url": index_url, "version": version,
        "results": [{"spec": s, "result": r, "seconds": int(t)} for s, r, t in rows],
    }, indent=2) + "\n")
