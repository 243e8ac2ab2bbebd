#!/usr/bin/env python3
"""Read a package index's simple pages and compare them with the release ledger.

An index's simple page is the only thing trusted to say whether a file of ours is on it:
PEP 691 JSON when the index serves it (PyPI does), PEP 503 HTML with #sha256= fragments
otherwise (pypiserver). Each ledger file is then `missing`, `present` (same name, same
sha256) or `conflict` (same name, other bytes: PyPI never lets a file name be reused).

Usage: scripts/index_page.py [--index URL] [--ledger PATH] COMMAND ...
  files PROJECT...                   print "filename<TAB>sha256<TAB>url" listed for PROJECT
  state [--distribution NAME]...     print "state<TAB>filename<TAB>distribution<TAB>path" per
                                     ledger file (path relative to the repository root)
  wait --distribution NAME --repository URL [--uploaded FILENAME]... [--deadline S]
                                     the propagation barrier: poll with backoff until every
                                     file of NAME is listed with its ledger sha256, then record
                                     each in the ledger's "uploads" (uploaded or present)
  await-version [--deadline S]       wait until every ledger file is listed with its sha256
  forget --prefix URL [--keep URL]   drop the ledger's upload records of repositories whose
                                     URL starts with PREFIX (earlier rehearsals' indexes)

INDEX_URL (or --index) is the simple index (PyPI's, or a local pypiserver's /simple/).
Exit codes: 0 ok, 1 unreachable index, conflict or deadline passed (one line saying which
and what to do), 2 usage error.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ledger  # noqa: E402  (the shared ledger module, next to this file)

PEP691 = "application/vnd.pypi.simple.v1+json"
ACCEPT = f"{PEP691}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1"
TIMEOUT = float(os.environ.get("INDEX_TIMEOUT", "30"))


class IndexProblem(Exception):
    """The index could not be read, or it holds something we must not overwrite."""


def project_url(index_url: str, project: str) -> str:
    """PEP 503: the project's page is the normalized name under the index root."""
    name = re.sub(r"[-_.]+", "-", project).lower()
    return index_url.rstrip("/") + "/" + name + "/"


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
    """{filename: {"sha256": hex or "", "url": absolute URL without fragment}}."""
    files: dict[str, dict[str, str]] = {}
    if content_type.split(";")[0].strip() == PEP691:
        for f in json.loads(body.decode("utf-8")).get("files", []):
            url = urllib.parse.urljoin(page_url, f["url"]).split("#")[0]
            files[f["filename"]] = {"sha256": f.get("hashes", {}).get("sha256", ""), "url": url}
        return files
    parser = _Anchors()
    parser.feed(body.decode("utf-8", errors="replace"))
    for href, text in parser.links:
        url, _, fragment = urllib.parse.urljoin(page_url, href).partition("#")
        filename = urllib.parse.unquote(url.rsplit("/", 1)[-1]) or text
        algo, _, digest = fragment.partition("=")
        files[filename] = {"sha256": digest if algo == "sha256" else "", "url": url}
    return files


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
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return parse_page(response.read(), response.headers.get("Content-Type", ""),
                              response.geturl())
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return {}
        raise IndexProblem(f"cannot read {url}: HTTP {exc.code} {exc.reason}") from None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise IndexProblem(f"cannot reach the index at {url}: {reason}") from None


def state(index_url: str, files: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """(missing|present|conflict, ledger file) for each file, one page per distribution."""
    pages: dict[str, dict[str, dict[str, str]]] = {}
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


def conflict_message(f: dict[str, Any], index_url: str) -> str:
    return (f"{index_url} already holds {f['filename']} with other bytes than the build "
            f"(sha256 {f['sha256'][:12]}...); an index never lets a file name be reused: "
            "bump the version ('make bump PART=patch') and release that")


def now() -> str:
    """UTC, to the microsecond: scripts/summary.py tells this run's uploads from earlier
    runs' by comparing it with the run's start."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def wait_listed(index_url: str, files: list[dict[str, Any]], deadline: float,
                what: str) -> None:
    """Poll with backoff (0.2 s doubling up to 15 s, the last poll at the deadline) until
    every file is listed with its sha256. A conflict fails at once; an unreachable index is
    retried until the deadline (PyPI has bad minutes too)."""
    end = time.monotonic() + deadline
    delay = 0.2
    while True:
        try:
            states = state(index_url, files)
        except IndexProblem as exc:
            states, problem = None, str(exc)
        if states is not None:
            for s, f in states:
                if s == "conflict":
                    raise IndexProblem(conflict_message(f, index_url))
            waiting = [f["filename"] for s, f in states if s != "present"]
            if not waiting:
                return
            problem = f"not yet listed: {', '.join(waiting)}"
        left = end - time.monotonic()
        if left <= 0:
            raise IndexProblem(f"{what}: gave up after {deadline:g}s; {problem}. Run the "
                               "same target again later: it resumes where it stopped")
        time.sleep(min(delay, left))
        delay = min(delay * 2, 15.0)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/index_page.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", default=os.environ.get("INDEX_URL"),
                        help="simple index URL (default: $INDEX_URL)")
    parser.add_argument("--ledger", type=Path, help="ledger file (default dist/release-V.json)")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("files")
    p.add_argument("projects", nargs="+")
    p = sub.add_parser("state")
    p.add_argument("--distribution", action="append", default=[])
    p = sub.add_parser("wait")
    p.add_argument("--distribution", required=True)
    p.add_argument("--repository", required=True)
    p.add_argument("--uploaded", action="append", default=[])
    p.add_argument("--deadline", type=float, default=600.0)
    p = sub.add_parser("await-version")
    p.add_argument("--deadline", type=float, default=600.0)
    p = sub.add_parser("forget")
    p.add_argument("--prefix", required=True)
    p.add_argument("--keep", default="")
    args = parser.parse_args(argv)
    if not args.index and args.command != "forget":
        parser.error("no index: set INDEX_URL or pass --index")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if args.command == "files":
            for project in args.projects:
                for name, f in fetch(args.index, project).items():
                    print(f"{name}\t{f['sha256']}\t{f['url']}")
            return 0
        path = args.ledger or ledger.ledger_path(ledger.current_version())
        if args.command == "forget":
            if path.exists():
                with ledger.update(path) as data:
                    for url in [u for u in data["uploads"]
                                if u.startswith(args.prefix) and u != args.keep]:
                        del data["uploads"][url]
            return 0
        data = ledger.load(path)
        if args.command == "state":
            chosen = [f for d in (args.distribution or [None]) for f in ledger.files(data, d)]
            for s, f in state(args.index, chosen):
                print(f"{s}\t{f['filename']}\t{f['distribution']}\t{f['path']}")
        elif args.command == "wait":
            files = ledger.files(data, args.distribution)
            wait_listed(args.index, files, args.deadline,
                        f"waiting for {args.index} to list {args.distribution}")
            ledger.record_upload(path, args.repository, args.index, files,
                                 set(args.uploaded), now())
        elif args.command == "await-version":
            wait_listed(args.index, data["files"], args.deadline,
                        f"waiting for {args.index} to serve {data['version']}")
    except (IndexProblem, ledger.LedgerError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
