"""Every check of `make check` over exactly the ledger's files, in one process: `twine check
--strict` on every file, check-wheel-contents on each wheel (a code wheel against its source
package under --toplevel open_finops; the code-free meta-package's with W007,W008 ignored:
an empty library is right for it), then our policy (releasekit.policy) and the DuckDB
contract (releasekit.contract). The tools' own entry
points are called with the arguments their command lines took (one interpreter instead of
six, each importing its tool again); their reports go to stderr, under one "==> check" line
each. Every check runs; a failure raises one line naming the failed checks.

What the checks read is the files (by sha256), the tracked sources and the checkers, so a
pass is recorded in the ledger ("checked") when the tree is clean: the same files at the
same commit, with no change in the tree and the same package list, Python and checkers, have
passed already and are not checked again (`make stage` then `make publish`). A rebuild
rewrites the ledger without it.
"""
from __future__ import annotations

import contextlib
import sys
from pathlib import Path

from releasekit import ledger, repo
from releasekit.errors import Failure


def _twine_check(files: list[str]) -> bool:
    from twine import cli, exceptions
    try:
        return not cli.dispatch(["--no-color", "check", "--strict", *files])
    except exceptions.TwineException as exc:  # as twine's own main reports it
        print(f"ERROR    {type(exc).__name__}: {exc}")
        return False


def _check_wheel_contents(args: list[str]) -> bool:
    import click
    from check_wheel_contents.__main__ import main
    try:
        return main.main(args=["--no-config", *args], prog_name="check-wheel-contents",
                         standalone_mode=False) == 0
    except click.ClickException as exc:  # as click's standalone mode reports it
        exc.show()
        return False


def _ours(check) -> bool:
    from releasekit import cli
    try:
        check()
    except Failure as exc:
        cli.error(str(exc))
        return False
    return True


def plan(data: dict, root: Path = repo.ROOT) -> list[tuple[str, object, list]]:
    """(heading, function, argument) of each check, in the order the reports appear."""
    files = [f["path"] for f in data["files"] if (root / f["path"]).is_file()]
    checks: list[tuple[str, object, list]] = []
    if files:
        checks.append((f"twine check --strict ({len(files)} files)", _twine_check, files))
    meta_wheels = []
    for package in repo.packages(root):
        prefix = Path(package.directory, "dist").as_posix().removeprefix("./") + "/"
        for path in (p for p in files if p.endswith(".whl") and p.startswith(prefix)):
            source = Path(package.directory, repo.NAMESPACE)
            if package.directory != "." and (root / source).is_dir():
                checks.append((f"check-wheel-contents {Path(path).name}", _check_wheel_contents,
                               ["--toplevel", repo.NAMESPACE, "--package", source.as_posix(),
                                path]))
            else:
                meta_wheels.append(path)
    if meta_wheels:
        checks.append((f"check-wheel-contents {' '.join(Path(p).name for p in meta_wheels)}",
                       _check_wheel_contents, ["--ignore", "W007,W008", *meta_wheels]))
    from releasekit import contract, policy
    checks.append(("built metadata policy (releasekit policy)", lambda _: _ours(policy.check),
                   []))
    checks.append(("DuckDB contract (releasekit contract)", lambda _: _ours(contract.check), []))
    return checks


#: The distributions whose versions decide what the checks say, besides our own code.
CHECKERS = ("twine", "check-wheel-contents", "readme-renderer", "packaging", "pkginfo")


def passed_key(data: dict, root: Path = repo.ROOT) -> dict | None:
    """What a pass of these checks depends on, or None when the tree has changes (a pass
    then says nothing about any later state)."""
    commit = repo.clean_commit(root)
    if commit is None:
        return None
    return {"commit": commit,
            "packages": [f"{p.name}={p.directory}" for p in repo.packages(root)],
            "files": {f["path"]: ledger.sha256(root / f["path"], root)
                      for f in data["files"] if (root / f["path"]).is_file()},
            "tools": ledger.toolchain(CHECKERS)}


def run(version: str, root: Path = repo.ROOT) -> list[str]:
    """Run every check (from root: the ledger's paths are relative to it); return the checked
    paths when all pass."""
    path = ledger.path_for(version, root)
    if not path.is_file():
        raise Failure(f"no release ledger {path.relative_to(root)} for {version}; "
                      "run 'make build' first")
    data = ledger.load(path)
    files = [f["path"] for f in data["files"] if (root / f["path"]).is_file()]
    key = passed_key(data, root)
    if key is not None and len(files) == len(data["files"]) and data.get("checked") == key:
        print(f"==> the {len(files)} files of {version} passed every check at this commit, "
              "with these checkers, and nothing changed since: not checking them again",
              file=sys.stderr)
        return files
    failed = []
    for heading, function, argument in plan(data, root):
        print(f"==> {heading}", file=sys.stderr, flush=True)
        with contextlib.redirect_stdout(sys.stderr):
            ok = function(argument)  # type: ignore[operator]
        sys.stderr.flush()
        if not ok:
            failed.append(heading)
    if failed:
        raise Failure(f"{len(failed)} check(s) failed: {' '.join(failed)}; fix the errors "
                      "above, then make build check")
    if key is not None and len(files) == len(data["files"]):
        with ledger.update(path) as current:
            if current["files"] == data["files"]:  # not rebuilt meanwhile
                current["checked"] = key
    print(f"==> all {len(files)} files of {version} pass", file=sys.stderr)
    return files
