"""Azure Blob Storage for real (loaded from conftest.py as a plugin): Azurite, Microsoft's
Storage emulator, pinned in tools/azurite and installed by scripts/install-tool (`npm ci` into
.cache/azurite, once per checkout), its blob service started once per test session on a free
port of 127.0.0.1, in memory, with the well-known development account. Tests reach it over HTTP
through azure-storage-blob with the development connection string, as a user would with their
own. Skipped, saying why, only where Node.js is absent."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import REPO, free_port, stop
#: The emulator's development account and key, published by Microsoft
#: (learn.microsoft.com/azure/storage/common/storage-use-azurite#http-connection-strings).
ACCOUNT = "devstoreaccount1"
KEY = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw"
       "==")
START_TIMEOUT = 60


@dataclass(frozen=True)
class Azurite:
    endpoint: str  # the blob service of the account: http://127.0.0.1:PORT/devstoreaccount1
    connection_string: str
    log: Path
    started_in: float  # seconds from the process's start to its first answer


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=1).close()
    except urllib.error.HTTPError:
        return True  # an unauthenticated request is refused: the service is up
    except OSError:
        return False
    return True


_prefetch: subprocess.Popen | None = None


def pytest_configure(config) -> None:
    """Start installing Azurite at once, in the background, in the process that runs the
    session (with xdist, before its workers): on a fresh clone `npm ci` waits on the network
    for half a minute, which the tests before the first blob test then hide. install() below
    waits for it (scripts/install-tool holds a lock while it installs)."""
    global _prefetch
    if os.environ.get("PYTEST_XDIST_WORKER") or shutil.which("node") is None:
        return
    _prefetch = subprocess.Popen([str(REPO / "scripts" / "install-tool"), "azurite"],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, start_new_session=True)


def pytest_unconfigure(config) -> None:
    if _prefetch is not None and _prefetch.poll() is None:
        # A run that ended first (-k, -x): the install's own temporary folder goes with it.
        os.killpg(_prefetch.pid, signal.SIGTERM)
        _prefetch.wait(timeout=30)


def install() -> Path:
    """The node_modules of the pinned Azurite (scripts/install-tool: quick when installed)."""
    proc = subprocess.run([str(REPO / "scripts" / "install-tool"), "azurite"],
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=600)
    if proc.returncode != 0:
        pytest.fail(f"installing Azurite failed:\n{proc.stderr}", pytrace=False)
    return Path(proc.stdout.strip())


@pytest.fixture(scope="session")
def azurite(tmp_path_factory) -> Azurite:
    """Azurite's blob service for the session; stopped at its end."""
    if shutil.which("node") is None:
        pytest.skip("Azurite needs Node.js 18+ (node not found; apt-get install nodejs npm)")
    node_modules = install()
    port = free_port()
    logdir = tmp_path_factory.mktemp("azurite")
    log = logdir / "azurite.log"
    began = time.monotonic()
    with log.open("w") as out:
        # No telemetry (it would call out), no access log; the workspace is memory only.
        server = subprocess.Popen(
            ["node", str(node_modules / "azurite" / "dist" / "src" / "blob" / "main.js"),
             "--blobHost", "127.0.0.1", "--blobPort", str(port), "--inMemoryPersistence",
             "--extentMemoryLimit", "512", "--skipApiVersionCheck", "--loose",
             "--disableTelemetry", "--silent"],
            cwd=logdir, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}/{ACCOUNT}"
    while not _answers(endpoint + "?comp=list"):
        if server.poll() is not None or time.monotonic() - began > START_TIMEOUT:
            server.kill()
            pytest.fail(f"Azurite did not start:\n{log.read_text()}", pytrace=False)
        time.sleep(0.05)
    started_in = time.monotonic() - began
    yield Azurite(endpoint, f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};"
                  f"AccountKey={KEY};BlobEndpoint={endpoint};", log, started_in)
    stop(server)


def upload_tree(connection_string: str, container: str, root: Path,
                under: str = "") -> list[str]:
    """Create ``container`` (if needed) and upload every file below ``root`` as a blob named by
    its path relative to ``root`` (under ``under``/ when given); the blob names, in order.

    Files go in the order of their modification times, data before manifests as Azure delivers.
    Blob Storage dates a blob by its upload, to the second: a file newer than another of its
    folder (the runs of an older-layout export) waits for the next second, so that the order
    of Last-Modified in the folder is that of the files' mtimes."""
    from azure.core.exceptions import ResourceExistsError
    from azure.storage.blob import BlobServiceClient

    client = BlobServiceClient.from_connection_string(connection_string)
    try:
        client.create_container(container)
    except ResourceExistsError:
        pass
    files = sorted((p for p in root.rglob("*") if p.is_file()),
                   key=lambda p: (p.name == "manifest.json", p.stat().st_mtime, p.as_posix()))
    latest: dict[Path, tuple[float, int]] = {}  # folder -> (newest mtime, second uploaded)
    names = []
    for path in files:
        mtime = path.stat().st_mtime
        before = latest.get(path.parent)
        if before and mtime > before[0]:
            while int(time.time()) <= before[1]:
                time.sleep(0.05)
        name = path.relative_to(root).as_posix()
        name = f"{under.strip('/')}/{name}" if under.strip("/") else name
        with path.open("rb") as data:
            client.get_blob_client(container, name).upload_blob(data, overwrite=True)
        latest[path.parent] = (max(mtime, before[0]) if before else mtime, int(time.time()))
        names.append(name)
    return names
