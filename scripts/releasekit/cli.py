"""The one command line of the toolkit's Python (python -m releasekit COMMAND), and the one
place where its exceptions become messages and exit codes (0 ok, 1 a failed check, 2 usage,
130 interrupted). Each command is a thin function over a module; scripts/<verb> call them.
Modules are imported by the command that needs them, so the ones the publish workflow runs
(ledger, index) need nothing but the standard library."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path

from releasekit import ledger, repo
from releasekit.errors import Failure, UsageError


def _ledger(args: argparse.Namespace) -> Path:
    return args.ledger or ledger.path_for(args.version or repo.current_version())


# --- ledger ------------------------------------------------------------------------------

def cmd_ledger_write(args: argparse.Namespace) -> None:
    built = []
    for word in args.built:
        dist, sep, file = word.partition("=")
        if not sep or not dist or not file:
            raise UsageError(f"{word!r} is not DIST=PATH (see --help)")
        if not Path(file).is_file():
            raise Failure(f"{file}: no such built file; run 'make build'")
        built.append((dist, Path(file).resolve()))
    version = args.version or repo.current_version()
    built = built or ledger.discover(version)
    epoch = args.source_date_epoch
    if epoch is None and os.environ.get("SOURCE_DATE_EPOCH", "").isdigit():
        epoch = int(os.environ["SOURCE_DATE_EPOCH"])
    commit = args.commit or repo.git(repo.ROOT, "rev-parse", "HEAD")
    # Clean when it was before the build (--clean-at) and still is, at the same commit.
    clean = bool(args.clean_at) and repo.clean_commit() == args.clean_at == commit
    path = _ledger(args)
    ledger.write(path, version, built, commit, epoch, clean=clean)
    print(path)


def cmd_ledger_reusable(args: argparse.Namespace) -> int:
    version = args.version or repo.current_version()
    try:
        data = ledger.load(_ledger(args))
        reason = ledger.not_reusable(data, version, args.source_date_epoch)
    except Failure as exc:  # no ledger, or not one: build
        reason = str(exc)
    if reason:
        if os.environ.get("DEBUG") == "1":
            print(f"not reusing the built files: {reason}", file=sys.stderr)
        return 1
    for f in data["files"]:
        print(f"{f['distribution']}={f['path']}")
    return 0


def cmd_clean_commit(args: argparse.Namespace) -> None:
    print(repo.clean_commit() or "")


def cmd_ledger_files(args: argparse.Namespace) -> None:
    for f in ledger.files(ledger.load(_ledger(args)), args.distribution):
        print(f"{f['path']}\t{f['sha256']}")


def cmd_ledger_verify(args: argparse.Namespace) -> None:
    ledger.require_verified(ledger.load(_ledger(args)), args.distribution)


def cmd_ledger_path(args: argparse.Namespace) -> None:
    print(_ledger(args))


def cmd_ledger_commit(args: argparse.Namespace) -> None:
    print(ledger.load(_ledger(args))["commit"] or "")


def cmd_ledger_forget(args: argparse.Namespace) -> None:
    ledger.forget(_ledger(args), args.prefix, args.keep)


# --- index -------------------------------------------------------------------------------

def _index_url(args: argparse.Namespace) -> str:
    if not args.index:
        raise UsageError("no index: set INDEX_URL or pass --index")
    if not args.index.startswith(("http://", "https://")):
        raise UsageError(f"the index {args.index!r} is no http(s) URL: set INDEX_URL to one, "
                         "e.g. https://test.pypi.org/simple/")
    return args.index


def cmd_index_files(args: argparse.Namespace) -> None:
    from releasekit import index
    for project in args.projects:
        for name, f in index.fetch(_index_url(args), project).items():
            print(f"{name}\t{f['sha256']}\t{f['url']}")


def cmd_index_state(args: argparse.Namespace) -> None:
    """state<TAB>filename<TAB>distribution<TAB>path per ledger file; a conflict fails, one
    line naming every such file (with --fail-on-conflict)."""
    from releasekit import index
    data = ledger.load(_ledger(args))
    if args.verify:  # the built files first: exactly the ledger's bytes, nothing stray
        for d in args.distribution or [None]:
            ledger.require_verified(data, d)
    chosen = [f for d in (args.distribution or [None]) for f in ledger.files(data, d)]
    pages: dict = {}
    states = index.state(_index_url(args), chosen, pages)
    for s, f in states:
        print(f"{s}\t{f['filename']}\t{f['distribution']}\t{f['path']}")
    sys.stdout.flush()
    if args.fail_on_conflict:
        index.require_no_conflict(states, _index_url(args))
    days = upload_window(_index_url(args)) if args.upload_window else 0
    if days:
        closed, unknown = index.closed_releases(states, pages, data["version"], days)
        for dist in unknown:
            print(f"warning: {_index_url(args)} does not say when {dist} {data['version']} "
                  f"was first uploaded (no upload-time, PEP 700); if that is more than {days:g} "
                  "days ago, the index will refuse its missing files", file=sys.stderr)
        if closed:
            raise Failure("; ".join(closed))


def upload_window(index_url: str) -> float:
    """Days a release takes new files after its first one: UPLOAD_WINDOW when set (0: no
    limit), else 14 on PyPI and TestPyPI (their rule since July 2026) and none elsewhere."""
    import urllib.parse
    setting = os.environ.get("UPLOAD_WINDOW", "")
    if setting:
        try:
            days = float(setting)
        except ValueError:
            days = -1.0
        if not days >= 0:
            raise UsageError(f"UPLOAD_WINDOW={setting!r} is no number of days; set it to one "
                             "(0 for no limit), or unset it")
        return days
    from pip._internal.models.index import PyPI, TestPyPI
    host = urllib.parse.urlsplit(index_url).hostname
    return 14.0 if host in {urllib.parse.urlsplit(i.simple_url).hostname
                            for i in (PyPI, TestPyPI)} else 0.0


def cmd_index_wait(args: argparse.Namespace) -> None:
    from releasekit import upload
    upload.confirm(_ledger(args), args.distribution, args.repository, _index_url(args),
                   args.uploaded, args.deadline)


def cmd_upload(args: argparse.Namespace) -> int:
    from releasekit import upload
    try:
        upload.run(_ledger(args), args.distribution, args.repository, _index_url(args),
                   args.section, args.deadline, args.twine_log)
    except upload.TwineFailed:
        args.twine_failed.touch()  # no error line: scripts/upload explains twine's log
        return 1
    return 0


def cmd_index_await_version(args: argparse.Namespace) -> None:
    from releasekit import index
    data = ledger.load(_ledger(args))
    url = _index_url(args)
    index.wait_listed(url, data["files"], args.deadline,
                      f"{url} to serve every file of {data['version']}")


def cmd_index_answers(args: argparse.Namespace) -> int:
    from releasekit import index
    if args.pid is not None:
        return 0 if index.await_answer(args.url, args.pid, args.wait) else 1
    return 0 if index.answers(args.url) else 1


def cmd_index_free_port(args: argparse.Namespace) -> None:
    from releasekit import index
    print(index.free_port(args.prefer))


def cmd_index_cache_port(args: argparse.Namespace) -> None:
    from releasekit import index
    print(index.cache_port(args.cache_dir))


def cmd_index_htpasswd(args: argparse.Namespace) -> None:
    from releasekit import index
    index.write_htpasswd(args.file)


def cmd_token(args: argparse.Namespace) -> None:
    import secrets
    print(secrets.token_urlsafe(32))


def cmd_default_url(args: argparse.Namespace) -> None:
    """The URLs twine (uploads) and pip (the simple index) themselves use for an index."""
    if args.kind == "upload":
        import twine.utils
        print({"pypi": twine.utils.DEFAULT_REPOSITORY,
               "testpypi": twine.utils.TEST_REPOSITORY}[args.name])
    else:
        from pip._internal.models.index import PyPI, TestPyPI
        print({"pypi": PyPI, "testpypi": TestPyPI}[args.name].simple_url.rstrip("/") + "/")


# --- versions, registrations, policy ---------------------------------------------------

def cmd_check_versions(args: argparse.Namespace) -> None:
    from releasekit import registry, versions
    table, found = versions.check()
    print(table)
    found += registry.problems()
    if found:
        raise Failure("\n".join(found))


def cmd_versions_files(args: argparse.Namespace) -> None:
    from releasekit import versions
    print("\n".join(versions.bump_files()))


def cmd_versions_next(args: argparse.Namespace) -> None:
    from releasekit import versions
    print(versions.next_version(repo.current_version(), args.version or None,
                                args.part or None))


def cmd_versions_notes(args: argparse.Namespace) -> None:
    from releasekit import versions
    versions.require_notes()


def cmd_versions_changelog(args: argparse.Namespace) -> None:
    from releasekit import versions
    versions.release_changelog(args.version, args.date)


def cmd_check(args: argparse.Namespace) -> None:
    from releasekit import checks
    print("\n".join(checks.run(args.version or repo.current_version())))


def cmd_policy(args: argparse.Namespace) -> None:
    from releasekit import policy
    policy.check()


def cmd_contract(args: argparse.Namespace) -> None:
    from releasekit import contract
    contract.check()


def cmd_build(args: argparse.Namespace) -> None:
    from releasekit import builder
    if len(args.outdir) != len(args.srcdir):
        raise UsageError(f"releasekit build: {len(args.outdir)} --outdir for "
                         f"{len(args.srcdir)} SRCDIR; give one each (see --help)")
    failed = builder.build_each(list(zip(args.srcdir, args.outdir)), args.epoch)
    if failed:
        raise Failure(f"{failed} of {len(args.srcdir)} builds failed (see their .failed files)")


def cmd_sdist(args: argparse.Namespace) -> None:
    from releasekit import sdist
    sdist.normalize_all(args.sdists, args.epoch)


def cmd_new_vendor(args: argparse.Namespace) -> None:
    from releasekit import scaffold
    for path in scaffold.create(args.name):
        print(path.relative_to(repo.ROOT))


def cmd_credentials(args: argparse.Namespace) -> None:
    from releasekit import credentials
    credentials.require(args.repository_url, args.section or None)


# --- closure, audit, install, summary ---------------------------------------------------

def cmd_closure_requirements(args: argparse.Namespace) -> None:
    from releasekit import closure
    print("\n".join(closure.requirements()))
    if args.with_platform:  # what the wheelhouse's wheels were chosen for
        import sysconfig
        print("#", sys.implementation.cache_tag, sysconfig.get_platform())


def cmd_closure_pins(args: argparse.Namespace) -> None:
    from releasekit import closure
    for kind, pin in closure.pins(json.loads(args.report.read_text(encoding="utf-8"))):
        print(f"{kind}\t{pin}")


def cmd_closure_resolve(args: argparse.Namespace) -> None:
    from releasekit import closure
    third_party = None
    if args.requirements:  # what `closure requirements` printed (its # lines aside)
        third_party = [line for line in args.requirements.read_text(encoding="utf-8").splitlines()
                       if line.strip() and not line.startswith("#")]
    for kind, pin in closure.resolve(args.wheelhouse, args.dir, third_party=third_party):
        print(f"{kind}\t{pin}")


def cmd_closure_layers(args: argparse.Namespace) -> None:
    from releasekit import closure
    print(json.dumps(closure.layers(ledger.load(_ledger(args)))))


def cmd_audit(args: argparse.Namespace) -> None:
    from releasekit import audit
    audit.gate(args.requirements, args.report, args.exit_code, args.stderr, args.allowlist,
               args.ours, args.mode, args.today, args.out)


def cmd_pip_audit(args: argparse.Namespace) -> int:
    from releasekit import audit
    return audit.pip_audit(args.args[1:] if args.args[:1] == ["--"] else args.args)


def cmd_install_specs(args: argparse.Namespace) -> None:
    from releasekit import install
    print("\n".join(install.specs(ledger.load(_ledger(args)))))


def cmd_install_report(args: argparse.Namespace) -> None:
    from releasekit import install
    install.check_report(ledger.load(_ledger(args)), args.spec, args.report, _index_url(args))


def cmd_install_venv(args: argparse.Namespace) -> None:
    from releasekit import install
    install.install_spec(ledger.load(_ledger(args)), args.spec, args.python, args.dir,
                         _index_url(args), os.environ.get("EXTRA_INDEX_URL", ""))


def cmd_install_results(args: argparse.Namespace) -> None:
    from releasekit import install
    data = ledger.load(_ledger(args))
    install.write_results(args.tsv, args.out, _index_url(args), data["version"])


def cmd_summary(args: argparse.Namespace) -> None:
    from releasekit import summary
    print(summary.write(args.target, args.status, args.run, args.out,
                        os.environ.get("REPOSITORY_URL", ""), os.environ.get("INDEX_URL", ""),
                        seconds=args.seconds),
          file=sys.stderr)


def cmd_steps(args: argparse.Namespace) -> None:
    for step in json.loads(args.summary.read_text(encoding="utf-8"))["steps"]:
        print(f"  {step['step']:<34} {step['seconds']:6.1f}s")


# --- the tree --------------------------------------------------------------------------

class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # usage errors: one line, exit 2
        raise UsageError(f"{self.prog}: {message} (see --help)")


class _Unbuilt:
    """A command that was not asked for: its arguments are not added (see parser)."""

    def add_argument(self, *args, **kwargs) -> None:
        pass


#: The options of the top level that take a value (the command words come after them).
_TOP_VALUE_OPTIONS = ("--ledger", "--version", "--index")


def command_words(argv: list[str]) -> tuple[str, ...]:
    """The first two words of argv that are no option or option value of the top level: the
    command, or a group and its command."""
    words: list[str] = []
    rest = iter(argv)
    for word in rest:
        if word in _TOP_VALUE_OPTIONS and not words:
            next(rest, None)
        elif not word.startswith("-"):
            words.append(word)
            if len(words) == 2:
                break
    return tuple(words)


def parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The command tree. Given argv, only the commands on its path get their parsers (each
    costs about a millisecond, and a release starts releasekit some 35 times); the whole tree
    when argv names none of them, so that help and usage errors list every command."""
    wanted = command_words(argv) if argv is not None else ()
    top, built = _tree(wanted)
    if wanted and not built:
        top, _ = _tree(())
    return top


def _tree(wanted: tuple[str, ...]) -> tuple[argparse.ArgumentParser, int]:
    """The parser with the commands whose path agrees with wanted (all of them for ()), and
    how many commands that is."""
    top = _Parser(prog="releasekit", description=__doc__)
    top.add_argument("--ledger", type=Path, help="ledger file (default dist/release-V.json)")
    top.add_argument("--version", help="release version (default: .bumpversion.cfg)")
    top.add_argument("--index", default=os.environ.get("INDEX_URL"),
                     help="simple index URL (default: $INDEX_URL)")
    sub = top.add_subparsers(dest="command", required=True, parser_class=_Parser)
    built = 0

    def agrees(path: tuple[str, ...]) -> bool:
        return path[:len(wanted)] == wanted[:len(path)]

    def command(name: str, func, help: str, parent=None):
        nonlocal built
        group_name, subparsers = parent or ((), sub)
        if subparsers is None or not agrees((*group_name, name)):
            return _Unbuilt()
        built += 1
        p = subparsers.add_parser(name, help=help, description=help)
        p.set_defaults(func=func)
        return p

    def group(name: str, help: str):
        if not agrees((name,)):
            return (name,), None
        p = sub.add_parser(name, help=help, description=help)
        return (name,), p.add_subparsers(dest="subcommand", required=True, parser_class=_Parser)

    g = group("ledger", "the release ledger")
    p = command("write", cmd_ledger_write, "record the built files; print the ledger's path", g)
    p.add_argument("--commit")
    p.add_argument("--source-date-epoch", type=int)
    p.add_argument("--clean-at", metavar="COMMIT",
                   help="the tree was clean at COMMIT when the build began (clean-commit)")
    p.add_argument("built", nargs="*", metavar="DIST=PATH")
    p = command("reusable", cmd_ledger_reusable, "print DIST=PATH of each built file and exit "
                "0 when a build would make exactly them again; else exit 1", g)
    p.add_argument("--source-date-epoch", type=int, required=True)
    for name, func, help in (("files", cmd_ledger_files, "path<TAB>sha256 of each file"),
                             ("verify", cmd_ledger_verify, "every file on disk, unchanged")):
        command(name, func, help, g).add_argument("--distribution", metavar="NAME")
    command("path", cmd_ledger_path, "the ledger's path", g)
    command("commit", cmd_ledger_commit, "the commit the files were built from", g)
    p = command("forget", cmd_ledger_forget, "drop upload records of old repositories", g)
    p.add_argument("--prefix", required=True)
    p.add_argument("--keep", default="")

    g = group("index", "simple pages, the index state of our files, the barrier")
    command("files", cmd_index_files, "filename<TAB>sha256<TAB>url of projects", g) \
        .add_argument("projects", nargs="+")
    p = command("state", cmd_index_state, "missing|present|conflict of each ledger file", g)
    p.add_argument("--distribution", action="append", default=[])
    p.add_argument("--fail-on-conflict", action="store_true")
    p.add_argument("--verify", action="store_true", help="first check the built files against "
                   "the ledger")
    p.add_argument("--upload-window", action="store_true", help="fail when a release with a "
                   "missing file is older on the index than it takes new files (UPLOAD_WINDOW)")
    p = command("wait", cmd_index_wait, "the propagation barrier for one distribution", g)
    p.add_argument("--distribution", required=True)
    p.add_argument("--repository", required=True)
    p.add_argument("--uploaded", action="append", default=[],
                   help="a file this run sent (twine accepted it)")
    p.add_argument("--deadline", type=float, default=600.0)
    p = command("upload", cmd_upload, "scripts/upload in one process: the index state of "
                "one distribution's files, twine for the missing ones, the barrier")
    p.add_argument("--distribution", required=True)
    p.add_argument("--repository", required=True, help="the upload URL (the ledger's key)")
    p.add_argument("--section", default="", help="a ~/.pypirc section for twine instead")
    p.add_argument("--deadline", type=float, default=600.0)
    p.add_argument("--twine-log", type=Path, required=True, help="twine's output")
    p.add_argument("--twine-failed", type=Path, required=True,
                   help="created when twine fails (scripts/upload explains its log)")
    command("await-version", cmd_index_await_version, "wait until every file is listed", g) \
        .add_argument("--deadline", type=float, default=600.0)
    p = command("answers", cmd_index_answers, "exit 0 when URL/simple/ answers", g)
    p.add_argument("url")
    p.add_argument("--pid", type=int, help="wait while this server process runs")
    p.add_argument("--wait", type=float, default=30.0, help="at most this long (with --pid)")
    command("free-port", cmd_index_free_port, "a free port on 127.0.0.1", g) \
        .add_argument("--prefer", type=int, help="this port, when it is free")
    command("cache-port", cmd_index_cache_port,
            "the port the indexes sharing uv's cache CACHE_DIR prefer", g) \
        .add_argument("cache_dir")
    command("htpasswd", cmd_index_htpasswd, "the upload account's htpasswd file", g) \
        .add_argument("file")

    command("token", cmd_token, "a random password for one run")
    p = command("default-url", cmd_default_url, "twine's or pip's own URL of an index")
    p.add_argument("name", choices=("pypi", "testpypi"))
    p.add_argument("kind", choices=("upload", "index"))
    command("check-versions", cmd_check_versions,
            "every version site as a table; fail on a disagreement or a missing registration")
    g = group("versions", "the bump's helpers")
    command("files", cmd_versions_files, "the files make bump rewrites", g)
    p = command("next", cmd_versions_next, "the next release version", g)
    p.add_argument("--version", dest="version")
    p.add_argument("--part")
    command("notes", cmd_versions_notes, "fail unless CHANGELOG.md's Unreleased has notes", g)
    p = command("changelog", cmd_versions_changelog, "release the Unreleased section", g)
    p.add_argument("version")
    p.add_argument("date")
    command("check", cmd_check, "twine check, check-wheel-contents and our policy, at once")
    command("policy", cmd_policy, "our policy over the built metadata")
    command("contract", cmd_contract, "the built wheels and docker pins against the DuckDB "
            "contract")
    p = command("build", cmd_build, "build each SRCDIR's sdist, then its wheel from it, into its "
                "--outdir (OUTDIR.log, OUTDIR.failed), all in this process")
    p.add_argument("--outdir", type=Path, action="append", required=True,
                   help="one per SRCDIR, in their order")
    p.add_argument("--epoch", type=int, required=True, help="SOURCE_DATE_EPOCH of the sdist")
    p.add_argument("srcdir", type=Path, nargs="+")
    p = command("sdist", cmd_sdist, "make sdists reproducible")
    p.add_argument("--epoch", type=int, required=True)
    p.add_argument("sdists", nargs="+", type=Path)
    command("new-vendor", cmd_new_vendor, "scaffold vendors/NAME and register it") \
        .add_argument("name")
    command("clean-commit", cmd_clean_commit, "HEAD's commit if git sees no change in the "
            "tree, untracked files included; else an empty line")
    p = command("credentials", cmd_credentials, "fail unless twine will find credentials")
    p.add_argument("--repository-url", required=True)
    p.add_argument("--section", default="")

    g = group("closure", "the third-party closure and the upload layers")
    command("requirements", cmd_closure_requirements, "third-party requirements", g) \
        .add_argument("--with-platform", action="store_true")
    command("pins", cmd_closure_pins, "pins of a pip --report", g) \
        .add_argument("report", type=Path)
    p = command("resolve", cmd_closure_resolve, "pins of the closure, resolved offline", g)
    p.add_argument("--wheelhouse", type=Path, required=True)
    p.add_argument("--dir", type=Path, required=True, help="for the resolver's input and lock")
    p.add_argument("--requirements", type=Path, help="the third-party requirements, computed")
    command("layers", cmd_closure_layers, "the upload layers as JSON", g)
    p = command("audit", cmd_audit, "the audit gate over pip-audit's output")
    p.add_argument("--requirements", type=Path, required=True)
    p.add_argument("--report", type=Path, required=True)
    p.add_argument("--exit-code", type=int, required=True)
    p.add_argument("--stderr", type=Path)
    p.add_argument("--allowlist", type=Path)
    p.add_argument("--ours", action="append", default=[])
    p.add_argument("--mode", choices=("strict", "warn"), default="strict")
    p.add_argument("--today", type=dt.date.fromisoformat, default=dt.date.today())
    p.add_argument("--out", type=Path, required=True)
    p = command("pip-audit", cmd_pip_audit, "pip-audit's command line, asking its service "
                "about several dependencies at a time")
    p.add_argument("args", nargs=argparse.REMAINDER, help="-- then pip-audit's arguments")
    g = group("install", "install specs, the checks of a resolution, the install of a spec")
    command("specs", cmd_install_specs, "the install specs", g)
    p = command("report", cmd_install_report, "check one pip install --report", g)
    p.add_argument("--spec", required=True)
    p.add_argument("--report", type=Path, required=True)
    p = command("venv", cmd_install_venv,
                "resolve a spec with uv, check our files, install them into a venv", g)
    p.add_argument("--spec", required=True)
    p.add_argument("--python", required=True, help="the venv's interpreter")
    p.add_argument("--dir", type=Path, required=True, help="for the lock and the log")
    p = command("results", cmd_install_results, "write dist/verify-V.json", g)
    p.add_argument("tsv", type=Path)
    p.add_argument("out", type=Path)
    p = command("summary", cmd_summary, "the release run's summary")
    p.add_argument("--target", required=True)
    p.add_argument("--status", choices=("ok", "failed"), required=True)
    p.add_argument("--run", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seconds", type=float, help="the run's wall time (steps may overlap)")
    command("steps", cmd_steps, "the step table of a summary JSON") \
        .add_argument("summary", type=Path)
    return top, built


def error(message: str) -> None:
    for line in message.splitlines():
        print(f"error: {line}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    try:
        if sys.flags.no_site:  # `python -S -m releasekit` (scripts/lib.sh): the venv's packages
            import site
            site.main()
        argv = sys.argv[1:] if argv is None else argv
        args = parser(argv).parse_args(argv)
        return args.func(args) or 0
    except Failure as exc:
        error(str(exc))
        return exc.code
    except KeyboardInterrupt:
        # Die of SIGINT, as an interrupted program must, so that the shell verb that ran
        # this knows (and says so, once); no traceback.
        import signal
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
        return 130
    except BrokenPipeError:
        # The reader went away (`| head`): nothing more to say to it.
        sys.stderr.close()
        return 0
    except Exception as exc:  # a bug: one line; the traceback behind DEBUG=1
        if os.environ.get("DEBUG") == "1":
            import traceback
            traceback.print_exc()
        error(f"releasekit failed unexpectedly ({type(exc).__name__}: {exc}); run again with "
              "DEBUG=1 for the traceback")
        return 1
