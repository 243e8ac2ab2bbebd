"""moto's S3 server over real HTTP on 127.0.0.1, for the tests of the vendors that read S3 or
an S3-compatible store (aws; oci through Object Storage's S3-compatible endpoint)."""
from __future__ import annotations

import subprocess
import time
import urllib.request
from collections.abc import Iterator

from conftest import VENV, free_port, stop


def serve(tmp_path_factory) -> Iterator[str]:
    """`moto_server` on a free port until the generator is closed; yields its endpoint."""
    port = free_port()
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("w")
    server = subprocess.Popen([str(VENV / "bin" / "moto_server"), "-H", "127.0.0.1", "-p",
                               str(port)], stdout=log, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(endpoint + "/moto-api/", timeout=1).close()
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise RuntimeError(f"moto_server did not start; see {log.name}") from None
            time.sleep(0.1)
    try:
        yield endpoint
    finally:
        stop(server)
        log.close()
