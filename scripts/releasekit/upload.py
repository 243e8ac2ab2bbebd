"""One distribution's upload, as scripts/upload does it, in one process: the index state of
its ledger files, twine for the missing ones, then the propagation barrier and the ledger's
upload records. One interpreter and one import of twine per distribution instead of three
interpreters. twine runs here as its own command line runs it (``twine.__main__.main``, the
same arguments and environment, its output in a log that scripts/upload explains when it
fails). :func:`confirm` is the barrier alone (``releasekit index wait``, standard library
only: the publish workflow runs it with a bare python3).
"""
from __future__ import annotations

import contextlib
import os
import sys
import traceback
from pathlib import Path

from releasekit import index, ledger, observations, repo
from releasekit.errors import Failure

RESUME = "run the same target again when the index answers: it resumes"
#: Variables with which twine would send the files elsewhere than the index the barrier reads.
TWINE_ELSEWHERE = ("TWINE_REPOSITORY_URL", "TWINE_REPOSITORY")


def log(message: str) -> None:
    print(f"==> {message}", file=sys.stderr, flush=True)


class TwineFailed(Exception):
    """twine did not upload; its output is in the log for scripts/upload to explain."""


def confirm(path: Path, distribution: str, repository: str, index_url: str,
            uploaded: list[str], deadline: float) -> None:
    """The barrier: wait until index_url lists every file of distribution with its sha256,
    then record the uploads (and what twine accepted, for the summary)."""
    files = ledger.files(ledger.load(path), distribution)
    if uploaded:
        observations.sent(repository, uploaded)
    index.wait_listed(index_url, files, deadline, f"{index_url} to list {distribution}")
    ledger.record_upload(path, repository, index_url, files, set(uploaded), index.now())


def twine_upload(paths: list[Path], repository: str, section: str, twine_log: Path) -> None:
    """`twine upload --non-interactive --disable-progress-bar` of paths, its output (errors,
    tracebacks included, as its command line prints them) into twine_log."""
    target = ["--repository", section] if section else ["--repository-url", repository]
    argv = ["twine", "upload", "--non-interactive", "--disable-progress-bar", *target,
            *(str(p) for p in paths)]
    saved_argv, saved = sys.argv, {k: os.environ.pop(k) for k in TWINE_ELSEWHERE
                                   if k in os.environ}
    try:
        with open(twine_log, "w", encoding="utf-8") as out, \
                contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            sys.argv = argv
            try:
                import twine.__main__
                failed = twine.__main__.main()
            except Exception:  # what twine's command line would die of, as it would print it
                traceback.print_exc()
                failed = True
    finally:
        sys.argv = saved_argv
        os.environ.update(saved)
    if failed:
        raise TwineFailed(twine_log)


def run(path: Path, distribution: str, repository: str, index_url: str, section: str,
        deadline: float, twine_log: Path) -> None:
    data = ledger.load(path)
    # The built files first: exactly the ledger's bytes, nothing stray.
    ledger.require_verified(data, distribution)
    try:
        states = index.state(index_url, ledger.files(data, distribution))
    except index.Unreachable as exc:  # e.g. the index died after the layer before this one
        raise Failure(f"{exc}; nothing more was uploaded; {RESUME}") from None
    # A conflict is one line naming every such file.
    index.require_no_conflict(states, index_url)
    missing = [f for s, f in states if s == "missing"]
    for s, f in states:
        if s == "present":
            log(f"{f['filename']} is already on the index with the same sha256: skipped")
    if missing:
        log(f"uploading {' '.join(f['filename'] for f in missing)} to {repository}")
        twine_upload([repo.ROOT / f["path"] for f in missing], repository, section, twine_log)
    log(f"waiting until {index_url} lists every file of {distribution} with its sha256")
    confirm(path, distribution, repository, index_url, [f["filename"] for f in missing],
            deadline)
    log(f"{distribution} confirmed on {index_url}")
