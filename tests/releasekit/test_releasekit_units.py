"""releasekit's small pieces, imported plainly: progress lines, the summary's "where" from
what the index served, the credentials check, the registrations, the one error place."""
from __future__ import annotations

import argparse
import io
import re

import pytest

from releasekit import credentials, progress, registry, summary
from releasekit.cli import main, parser
from releasekit.errors import Failure

from conftest import REPO

FILE = {"filename": "open_finops_core-1.0-py3-none-any.whl", "distribution": "open-finops-core",
        "sha256": "a" * 64}
INDEX = "http://127.0.0.1:1/simple/"
REPOSITORY = "http://127.0.0.1:1/"


def page(files: dict[str, str], project: str = "open-finops-core") -> dict:
    return {"kind": "page", "index": INDEX, "project": project, "files": files}


SENT = {"kind": "sent", "repository": REPOSITORY, "files": [FILE["filename"]]}
DOWN = {"kind": "unreachable", "index": INDEX, "project": "open-finops-core", "reason": "x"}


@pytest.mark.parametrize("seen, where", [
    ([], "unknown: the index could not be reached"),
    ([DOWN, DOWN], "unknown: the index could not be reached"),
    ([SENT, DOWN], "sent; unknown: the index could not be reached"),
    ([page({FILE["filename"]: "a" * 64})], "already there"),
    ([page({}), SENT, page({FILE["filename"]: "a" * 64})], "uploaded"),
    ([page({}), SENT, page({})], "sent, not yet listed"),
    ([page({})], "not on the index"),
    ([page({FILE["filename"]: "b" * 64})], "other bytes on the index"),
    # Pages of another index or project say nothing about this file.
    ([page({FILE["filename"]: "a" * 64}, project="open-finops-aws")],
     "unknown: the index could not be reached"),
])
def test_where_comes_from_what_the_index_served(seen, where):
    assert summary.where(FILE, seen, INDEX, REPOSITORY) == where


def test_progress_says_what_how_long_and_the_deadline(monkeypatch):
    err = io.StringIO()
    monkeypatch.setattr(progress.sys, "stderr", err)
    p = progress.Progress("the index to list open-finops-core", 600, every=0.05)
    p.say("not yet listed: x.whl", force=True)
    p.sleep(0.2, "not yet listed: x.whl")
    lines = err.getvalue().splitlines()
    assert len(lines) >= 3
    assert all(re.fullmatch(r"==> waiting for the index to list open-finops-core: \d+s so far, "
                            r"deadline 600s; not yet listed: x\.whl", line) for line in lines)


def test_credentials_from_the_environment_or_pypirc(monkeypatch, home):
    for name in ("TWINE_USERNAME", "TWINE_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(Failure, match=r"no credentials for https://u\.example/: .*\[pypi\] "
                                      r"section of ~/\.pypirc"):
        credentials.require("https://u.example/", "pypi")
    (home / ".pypirc").write_text("[pypi]\nusername = __token__\npassword = pypi-secret\n")
    credentials.require("https://u.example/", "pypi")
    with pytest.raises(Failure):
        credentials.require("https://u.example/", None)  # a URL override: twine skips pypirc
    monkeypatch.setenv("TWINE_PASSWORD", "x")
    credentials.require("https://u.example/", None)


def test_the_repository_registers_every_vendor():
    assert registry.problems(REPO) == []


def test_one_place_turns_errors_into_lines_and_codes(capsys):
    assert main(["frobnicate"]) == 2
    assert main(["ledger", "--ledger-does-not-exist"]) == 2
    assert main(["--ledger", "/nonexistent/release.json", "ledger", "verify"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert all(line.startswith("error: ") for line in err) and len(err) == 3, err


def commands(tree: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """(path, {option or positional: its settings}) of every command of an argparse tree."""
    for action in tree._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from commands(sub, (*path, name))
            return
    yield path, {(a.dest, *a.option_strings): (a.nargs, a.required, a.default, a.choices)
                 for a in tree._actions}


def test_a_command_line_gets_only_its_own_command_with_the_whole_trees_arguments():
    """releasekit builds the parser of the command it runs only (it starts some 35 times in a
    release); that parser must be the one the whole tree has, and a line that names no
    command gets the whole tree, so that help and usage errors list every command."""
    whole = dict(commands(parser()))
    assert len(whole) > 30 and ("ledger", "verify") in whole and ("upload",) in whole
    for path, arguments in whole.items():
        built = dict(commands(parser(["--ledger", "x.json", *path, "--flag", "value"])))
        assert built == {path: arguments}
    for line in (["bogus"], ["ledger", "bogus"], ["--version", "1.0"], []):
        assert dict(commands(parser(line))).keys() == whole.keys(), line
    assert dict(commands(parser(["ledger"]))).keys() == {p for p in whole if p[0] == "ledger"}


def test_indexes_sharing_a_uv_cache_prefer_one_port_and_others_another():
    from releasekit.index import cache_port

    a, b = cache_port("/repo/.cache/uv-tests/gw0"), cache_port("/repo/.cache/uv-tests/gw1")
    assert a == cache_port("/repo/.cache/uv-tests/gw0")
    assert 20000 <= a < 30000 and 20000 <= b < 30000 and a != b
