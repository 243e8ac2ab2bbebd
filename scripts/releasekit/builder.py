"""One distribution built as `python -m build --no-isolation` builds it: the sdist, then the
wheel from that sdist, with pypa/build's ProjectBuilder (the pyproject's own backend and
build requirements, its dependency check) and the toolkit venv's pinned setuptools. The one
difference: build runs each backend hook in a new interpreter (five per distribution, each
importing setuptools again); here every hook runs in this process, one after the other, with
its working directory, environment, argv and sys.path as the hook's own process would have
them, and all restored afterwards. Same frontend, backend and inputs: the same bytes (the
reproducibility tests compare two builds byte for byte). The sdist is then made
reproducible (releasekit.sdist).
"""
from __future__ import annotations

import contextlib
import os
import runpy
import sys
import tarfile
import tempfile
import traceback
from collections.abc import Iterator, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from releasekit import sdist
from releasekit.errors import Failure


def run_hook_here(cmd: Sequence[str], cwd: str | None = None,
                  extra_environ: Mapping[str, str] | None = None) -> None:
    """A pyproject_hooks runner: `cmd` is [python, _in_process.py, hook, control_dir]; run
    that script as __main__ in this process instead of a subprocess."""
    script = cmd[1]
    saved_cwd, saved_argv, saved_path = os.getcwd(), sys.argv[:], sys.path[:]
    saved_environ = dict(os.environ)
    try:
        if cwd:
            os.chdir(cwd)
        os.environ.update(extra_environ or {})
        sys.argv = list(cmd[1:])
        # The hook's process would start with its script's directory first on sys.path.
        sys.path.insert(0, os.path.dirname(script))
        runpy.run_path(script, run_name="__main__")
    finally:
        os.chdir(saved_cwd)
        sys.argv, sys.path[:] = saved_argv, saved_path
        os.environ.clear()
        os.environ.update(saved_environ)


def _build(srcdir: Path, distribution: str, outdir: Path) -> Path:
    import build

    builder = build.ProjectBuilder(srcdir, runner=run_hook_here)
    try:
        missing = builder.check_dependencies(distribution)
        if missing:
            unmet = ", ".join(sorted(" -> ".join(chain) for chain in missing))
            raise Failure(f"{srcdir}: the toolkit's venv lacks build requirements ({unmet}); "
                          "run 'make dev'")
        return Path(builder.build(distribution, outdir))
    except build.BuildBackendException as exc:
        # As `python -m build` shows it: the backend's last frame, in the build log.
        traceback.print_exception(exc.exception, limit=-1, file=sys.stderr)
        raise Failure(f"{srcdir}: building the {distribution} failed: {exc.exception!r}") \
            from None
    except build.BuildException as exc:
        raise Failure(f"{srcdir}: building the {distribution} failed: {exc}") from None


@contextlib.contextmanager
def entry_points_read_once() -> Iterator[None]:
    """setuptools asks importlib.metadata for entry points some forty times per distribution
    (each command class, each setup keyword, the egg-info writers), and each ask reads the
    entry points of every distribution in the toolkit's venv anew: half of a build's CPU.
    Nothing installs during a build, so each search path's answer is read once; the same
    answers, hence the same bytes."""
    original = metadata.entry_points
    read: dict[tuple[str, ...], Any] = {}

    def entry_points(**params: Any) -> Any:
        path = tuple(sys.path)
        if path not in read:
            read[path] = original()
        return read[path].select(**params) if params else read[path]

    metadata.entry_points = entry_points  # type: ignore[assignment]
    try:
        yield
    finally:
        metadata.entry_points = original


def build_package(srcdir: Path, outdir: Path, epoch: int) -> list[Path]:
    """srcdir's wheel (built from its sdist) and its reproducible sdist, in outdir."""
    outdir.mkdir(parents=True, exist_ok=True)
    with entry_points_read_once():
        built_sdist = _build(srcdir.resolve(), "sdist", outdir)
        with tempfile.TemporaryDirectory(prefix="build-via-sdist-") as tmp:
            with tarfile.open(built_sdist) as tar:
                tar.extractall(tmp, filter="data")
            top = built_sdist.name.removesuffix(".tar.gz")
            wheel = _build(Path(tmp) / top, "wheel", outdir)
    sdist.normalize_all([built_sdist], epoch)
    return [wheel, built_sdist]


@contextlib.contextmanager
def _output_to(log: Path) -> Iterator[None]:
    """This process's stdout and stderr (file descriptors too: what the backend's tools
    print) into ``log`` until the block ends."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(log, "w", encoding="utf-8") as out:
        os.dup2(out.fileno(), 1)
        os.dup2(out.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def build_each(jobs: Sequence[tuple[Path, Path]], epoch: int) -> int:
    """Each (srcdir, outdir) built as :func:`build_package` builds it, one after the other in
    this process: setuptools and build are imported once, not once per distribution (the
    bytes are the same: the reproducibility tests compare them). A job's output goes to
    OUTDIR.log; a failed job leaves OUTDIR.failed saying so, and the next job still runs.
    Returns how many failed."""
    failed = 0
    for srcdir, outdir in jobs:
        log = outdir.with_name(outdir.name + ".log")
        with _output_to(log):
            try:
                build_package(srcdir, outdir, epoch)
                continue
            except Failure as exc:
                print(f"error: {exc}", file=sys.stderr)
            except Exception:  # a backend's bug: its traceback, in its own log
                traceback.print_exc()
        failed += 1
        outdir.with_name(outdir.name + ".failed").write_text(
            f"build of {outdir.name} failed (log: {log})\n", encoding="utf-8")
    return failed
