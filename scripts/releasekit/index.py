"""A package index's simple pages compared with the release ledger, and the propagation
barrier (standard library only: the publish workflow runs this with a bare python3).

An index's simple page is the only thing trusted to say whether a file of ours is on it:
PEP 691 JSON when the index serves it (PyPI does), PEP 503 HTML with #sha256= fragments
otherwise (pypiserver). Each ledger file is then `missing`, `present` (same name, same
sha256) or `conflict` (same name, other bytes: an index never lets a file name be reused).

Waiting: a 404 or a page that does not list a file yet is propagation, awaited up to the
deadline; a refused or unresolvable connection is a wrong URL or a dead index, and fails
after a short grace (INDEX_GRACE seconds, default 60). Every page read and every failure to
reach the index is recorded for the run's summary (releasekit.observations).
"""
from __future__ import annotations

import json
import os
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from datetime import datetime, timezone
from html.parser import HTMLParser
from typing import Any

from releasekit import observations, repo
from releasekit.errors import Failure
from releasekit.progress import Progress

PEP691 = "application/vnd.pypi.simple.v1+json"
ACCEPT = f"{PEP691}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1"
BUMP = "an index never lets a file name be reused: bump the version (make bump PART=patch)"


def timeout() -> float:
    return float(os.environ.get("INDEX_TIMEOUT", "30"))


def grace() -> float:
    return float(os.environ.get("INDEX_GRACE", "60"))


class Unreachable(Failure):
    """The index did not answer at all (refused, unresolvable, timed out)."""

    def __init__(self, message: str, refused: bool) -> None:
        super().__init__(message)
        self.refused = refused


class Conflict(Failure):
    """The index holds one of our file names with other bytes: only a new version helps."""


def project_url(index_url: str, project: str) -> str:
    """PEP 503: the project's page is the normalized name under the index root."""
    return index_url.rstrip("/") + "/" + repo.canonical(project) + "/"


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href") or ""
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append((self._href, "".join(self._text).strip()))
            self._href = None


def parse_page(body: bytes, content_type: str, page_url: str) -> dict[str, dict[str, str]]:
    """{filename: {"sha256": hex or "", "url": absolute URL without fragment}}, and the
    file's "upload-time" where the index serves it (PEP 700, JSON pages only)."""
    files: dict[str, dict[str, str]] = {}
    if content_type.split(";")[0].strip() == PEP691:
        for f in json.loads(body.decode("utf-8")).get("files", []):
            url = urllib.parse.urljoin(page_url, f["url"]).split("#")[0]
            files[f["filename"]] = {"sha256": f.get("hashes", {}).get("sha256", ""), "url": url}
            if f.get("upload-time"):
                files[f["filename"]]["upload-time"] = f["upload-time"]
        return files
    parser = _Anchors()
    parser.feed(body.decode("utf-8", errors="replace"))
    for href, text in parser.links:
        url, _, fragment = urllib.parse.urljoin(page_url, href).partition("#")
        filename = urllib.parse.unquote(url.rsplit("/", 1)[-1]) or text
        algo, _, digest = fragment.partition("=")
        files[filename] = {"sha256": digest if algo == "sha256" else "", "url": url}
    return files


def _refused(exc: BaseException) -> bool:
    reason = getattr(exc, "reason", exc)
    return isinstance(reason, (ConnectionRefusedError, socket.gaierror))


def fetch(index_url: str, project: str) -> dict[str, dict[str, str]]:
    """The files the index lists for a project; {} when it does not know the project."""
    url = project_url(index_url, project)
    request = urllib.request.Request(url, headers={
        "Accept": ACCEPT,
        # PyPI's CDN may serve a page from before our upload; ask for a fresh one.
        "Cache-Control": "max-age=0",
        "User-Agent": "open-finops-release-toolkit",
    })
    try:
        with urllib.request.urlopen(request, timeout=timeout()) as response:
            files = parse_page(response.read(), response.headers.get("Content-Type", ""),
                               response.geturl())
    except urllib.error.HTTPError as exc:
        if exc.code != 404:
            observations.unreachable(index_url, project, f"HTTP {exc.code}")
            raise Failure(f"cannot read {url}: HTTP {exc.code} {exc.reason}") from None
        files = {}
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        observations.unreachable(index_url, project, str(reason))
        raise Unreachable(f"cannot reach the index at {url}: {reason}", _refused(exc)) from None
    observations.page(index_url, project, files)
    return files


def state(index_url: str, files: list[dict[str, Any]],
          pages: dict[str, dict[str, dict[str, str]]] | None = None,
          ) -> list[tuple[str, dict[str, Any]]]:
    """(missing|present|conflict, ledger file) for each file, one page per distribution (read
    into `pages` when given, by distribution)."""
    pages = {} if pages is None else pages
    result = []
    for f in files:
        dist = f["distribution"]
        if dist not in pages:
            pages[dist] = fetch(index_url, dist)
        listed = pages[dist].get(f["filename"])
        if listed is None:
            result.append(("missing", f))
        elif listed["sha256"] == f["sha256"]:
            result.append(("present", f))
        else:
            result.append(("conflict", f))
    return result


def conflict_message(conflicts: list[dict[str, Any]], index_url: str) -> str:
    """One line naming every file the index holds with other bytes."""
    names = ", ".join(f["filename"] for f in conflicts)
    what = "this file" if len(conflicts) == 1 else f"these {len(conflicts)} files"
    return f"{index_url} already holds {what} with other bytes than the build: {names}; {BUMP}"


def require_no_conflict(states: list[tuple[str, dict[str, Any]]], index_url: str) -> None:
    conflicts = [f for s, f in states if s == "conflict"]
    if conflicts:
        raise Conflict(conflict_message(conflicts, index_url))


def release_version(filename: str) -> str:
    """The version in a distribution file's name: a wheel's second field, an sdist's last."""
    if filename.endswith(".whl"):
        return filename.split("-")[1] if filename.count("-") >= 4 else ""
    for suffix in (".tar.gz", ".zip"):
        if filename.endswith(suffix):
            return filename[: -len(suffix)].rpartition("-")[2]
    return ""


def parse_time(text: str) -> datetime:
    """An ISO 8601 instant as indexes write it (PEP 700: "...Z"), timezone-aware."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def closed_releases(states: list[tuple[str, dict[str, Any]]],
                    pages: dict[str, dict[str, dict[str, str]]], version: str, days: float,
                    when: datetime | None = None) -> tuple[list[str], list[str]]:
    """The releases that can no longer be completed: an index that refuses new files on a
    release whose first file is more than `days` old (PyPI since July 2026, warehouse pull
    request 19727) would refuse the files still missing. Returns (reasons, unknown): a reason
    per distribution with a missing file whose release's first file on the index is that
    old, and the distributions whose release has files on the index but no upload-time."""
    when = when or datetime.now(timezone.utc)
    reasons, unknown = [], []
    missing = sorted({f["distribution"] for s, f in states if s == "missing"})
    for dist in missing:
        released = [f for name, f in pages.get(dist, {}).items()
                    if release_version(name) == version]
        if not released:
            continue  # a new release: the window starts with its first upload
        times = [parse_time(f["upload-time"]) for f in released if f.get("upload-time")]
        if not times:
            unknown.append(dist)
            continue
        first = min(times)
        age = (when - first).total_seconds() / 86400
        if age > days:
            reasons.append(f"{dist} {version} is {age:.0f} days old on the index (its first "
                           f"file was uploaded {first:%Y-%m-%d %H:%M} UTC) and the index refuses "
                           f"new files on a release more than {days:g} days old; the release "
                           "can no longer be completed: bump the version (make bump PART=patch)")
    return reasons, unknown


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def wait_listed(index_url: str, files: list[dict[str, Any]], deadline: float,
                what: str) -> None:
    """Poll with backoff (0.2 s doubling up to 15 s, the last poll at the deadline) until
    every file is listed with its sha256, saying how it goes at least every 15 s. A conflict
    fails at once; a refused or unresolvable connection after the grace; anything else (a
    404, a page without our files, a timeout, a server error) at the deadline."""
    progress = Progress(what, deadline)
    delay = 0.2
    refused_since: float | None = None
    try:
        while True:
            try:
                states = state(index_url, files)
            except Unreachable as exc:
                states, problem = None, str(exc)
                if exc.refused:
                    refused_since = refused_since if refused_since is not None else time.monotonic()
                    if time.monotonic() - refused_since >= min(grace(), deadline):
                        raise Failure(f"{problem} for {progress.elapsed:.0f}s (INDEX_GRACE="
                                      f"{grace():g}); check that URL, then run the same target "
                                      "again: it resumes") from None
            except Failure as exc:
                states, problem = None, str(exc)
            if states is not None:
                refused_since = None
                require_no_conflict(states, index_url)
                waiting = [f["filename"] for s, f in states if s != "present"]
                if not waiting:
                    return
                problem = f"not yet listed: {', '.join(waiting)}"
            left = deadline - progress.elapsed
            if left <= 0:
                raise Failure(f"{what}: gave up after {deadline:g}s; {problem}; run the same "
                              "target again later: it resumes where it stopped")
            progress.say(problem)
            progress.sleep(min(delay, left), problem)
            delay = min(delay * 2, 15.0)
    finally:
        progress.done()


# --- the embedded pypiserver ------------------------------------------------------------

def answers(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(base_url.rstrip("/") + "/simple/", timeout=2) as response:
            return response.status == 200
    except Exception:
        return False


def _alive(pid: int) -> bool:
    """Running, and not a zombie waiting for a parent that never reaps it."""
    try:
        os.kill(pid, 0)
        with open(f"/proc/{pid}/stat", encoding="utf-8") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:  # no /proc: kill -0 said enough
        return True
    except OSError:
        return False


def await_answer(base_url: str, pid: int, seconds: float) -> bool:
    """True once base_url answers; False when the server process `pid` ended first or after
    `seconds`. One process polls every 20 ms: a starting server is asked often and cheaply."""
    deadline = time.monotonic() + seconds
    while _alive(pid) and time.monotonic() < deadline:
        if answers(base_url):
            return True
        time.sleep(0.02)
    return False


def cache_port(cache_dir: str) -> int:
    """The port every index sharing uv's cache ``cache_dir`` prefers (20000-29999): uv keys
    what it downloaded and unpacked by the index's URL, so third-party wheels that verify
    installs are unpacked once per cache, not once per port (scripts/stage, the tests'
    local indexes)."""
    return 20000 + zlib.crc32(cache_dir.encode()) % 10000


def free_port(prefer: int | None = None) -> int:
    """A port on 127.0.0.1 that is free now: `prefer` when it is, else any. A port whose last
    connections linger in TIME_WAIT is free for the server, which binds with SO_REUSEADDR as
    HTTP servers do; so does this probe."""
    for port in ([prefer] if prefer else []) + [0]:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise Failure("no free port on 127.0.0.1")


def write_htpasswd(path: str) -> None:
    """The upload account TWINE_USERNAME/TWINE_PASSWORD, read from the environment (never an
    argument), or, without one, an account nobody knows the password of (read-only)."""
    import secrets
    import sys

    from passlib.apache import HtpasswdFile, htpasswd_context

    # SHA-256 crypt at 5000 rounds: the password is random and lives for one run, so a slower
    # hash would only slow every upload down.
    context = htpasswd_context.copy(default="sha256_crypt", sha256_crypt__default_rounds=5000)
    htpasswd = HtpasswdFile(path, new=True, context=context)
    username, password = os.environ.get("TWINE_USERNAME"), os.environ.get("TWINE_PASSWORD")
    if not (username and password):
        print("==> no TWINE_USERNAME and TWINE_PASSWORD: the index is read-only",
              file=sys.stderr)
        username, password = "read-only", secrets.token_urlsafe(32)
    htpasswd.set_password(username, password)
    htpasswd.save()
    os.chmod(path, 0o600)
