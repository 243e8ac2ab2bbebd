"""A page as a person sees it: a real Chromium, headless and offline, renders an HTML file to a
PNG screenshot and to its DOM after load, and the screenshot is read back pixel by pixel with
the standard library (zlib and PNG's five row filters), so that a test can assert that a chart
is drawn where it should be, not only that its markup is there.

Chromium comes from the machine (.ci/run installs Debian's chromium; or apt-get install
chromium); the tests that need it skip, saying so, where there is none. It runs with a HOME and
a profile of its own under the test's folder and a dead proxy for every request, the loopback
included (--proxy-bypass-list=<-loopback>): a page that needs the network shows it broken."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import zlib
from collections import Counter
from pathlib import Path

import pytest

RGB = tuple[int, int, int]
Region = tuple[int, int, int, int]  # left, top, right, bottom in CSS pixels; right, bottom out
WHITE: RGB = (255, 255, 255)
TIMEOUT = 60
CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
# Nothing of the browser's own reaches out (updates, sync, first-run pages), and whatever the
# page asks for goes to port 9 of the loopback, where nothing answers.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update",
         "--disable-default-apps", "--disable-extensions", "--disable-sync", "--no-first-run",
         "--no-default-browser-check", "--hide-scrollbars", "--force-device-scale-factor=1",
         "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
         # Timers and animations run to their end at once, not in wall-clock time.
         "--virtual-time-budget=5000")


def _missing(reason: str):
    """Skip, saying why; fail where Chromium must be there (FINOPS_REQUIRE_CHROMIUM=1: .ci/run
    sets it once it has installed one), so that CI never passes charts it did not draw."""
    if os.environ.get("FINOPS_REQUIRE_CHROMIUM") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def chromium() -> str:
    """The Chromium to run: $CHROMIUM, else the first of CANDIDATES on PATH; else the test
    skips, saying how to get one."""
    wanted = os.environ.get("CHROMIUM")
    if wanted:
        found = shutil.which(wanted)
        if found is None:
            _missing(f"CHROMIUM={wanted} is not a command (unset it, or point it at a"
                     " Chromium or Chrome binary)")
        return found
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    _missing(f"no Chromium ({', '.join(CANDIDATES)} not on PATH, CHROMIUM unset): bash"
             " .ci/run installs it; or apt-get install chromium")


def _run(args: list[str], home: Path) -> subprocess.CompletedProcess:
    """Run Chromium in a session of its own, so that a timeout ends its helpers too."""
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
           "XDG_CONFIG_HOME": str(home / ".config"), "XDG_CACHE_HOME": str(home / ".cache")}
    proc = subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"Chromium did not finish within {TIMEOUT} s:\n$ {' '.join(args)}\n{err}",
                    pytrace=False)
    assert proc.returncode == 0, f"$ {' '.join(args)}\nexit {proc.returncode}\n{err}"
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


def render(html_path: Path, out_dir: Path, width: int = 1200,
           height: int = 900) -> tuple[Path, str]:
    """Render ``html_path`` in a window of ``width`` x ``height``: the screenshot (a PNG in
    ``out_dir``, one CSS pixel a pixel) and the DOM after load, as HTML text."""
    browser = chromium()
    url = Path(html_path).resolve().as_uri()
    out_dir = Path(out_dir)
    home = out_dir / "chromium-home"
    home.mkdir(parents=True, exist_ok=True)
    png = out_dir / f"{Path(html_path).stem}.png"
    png.unlink(missing_ok=True)
    shot = _run([browser, *FLAGS, f"--user-data-dir={home / 'screenshot'}",
                 f"--screenshot={png}", f"--window-size={width},{height}", url], home)
    assert png.is_file(), f"Chromium wrote no screenshot of {url}:\n{shot.stderr}"
    dom = _run([browser, *FLAGS, f"--user-data-dir={home / 'dom'}",
                f"--window-size={width},{height}", "--dump-dom", url], home)
    assert dom.stdout.strip(), f"Chromium dumped no DOM of {url}:\n{dom.stderr}"
    return png, dom.stdout


def _unfilter(kind: int, line: bytes, above: bytes, bpp: int) -> bytes:
    """One scanline of PNG undone from its filter (PNG spec, section 9.2)."""
    if kind == 0:
        return line
    if kind == 2:
        return bytes((a + b) & 0xFF for a, b in zip(line, above))
    out = bytearray(line)
    for i in range(len(out)):
        left = out[i - bpp] if i >= bpp else 0
        if kind == 1:
            out[i] = (out[i] + left) & 0xFF
        elif kind == 3:
            out[i] = (out[i] + ((left + above[i]) >> 1)) & 0xFF
        elif kind == 4:
            up, corner = above[i], above[i - bpp] if i >= bpp else 0
            p = left + up - corner
            pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
            predicted = left if pa <= pb and pa <= pc else up if pb <= pc else corner
            out[i] = (out[i] + predicted) & 0xFF
        else:
            raise ValueError(f"unknown PNG filter type {kind}")
    return bytes(out)


def png_pixels(path: Path) -> tuple[int, int, list[list[RGB]]]:
    """Width, height and the rows of (r, g, b) of an 8-bit RGB or RGBA, non-interlaced PNG
    (what Chromium writes; alpha is dropped)."""
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    pos, idat, header = 8, bytearray(), b""
    while pos < len(data):
        length = int.from_bytes(data[pos:pos + 4], "big")
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
        pos += 12 + length
    width, height = int.from_bytes(header[0:4], "big"), int.from_bytes(header[4:8], "big")
    depth, colour_type, interlace = header[8], header[9], header[12]
    if depth != 8 or colour_type not in (2, 6) or interlace != 0:
        raise ValueError(f"{path}: only 8-bit RGB or RGBA, non-interlaced PNGs are read (bit"
                         f" depth {depth}, colour type {colour_type}, interlace {interlace})")
    bpp = 3 if colour_type == 2 else 4
    raw = zlib.decompress(bytes(idat))
    stride = width * bpp
    rows, above = [], bytes(stride)
    for y in range(height):
        start = y * (stride + 1)
        line = _unfilter(raw[start], raw[start + 1:start + 1 + stride], above, bpp)
        rows.append(list(zip(line[0::bpp], line[1::bpp], line[2::bpp])))
        above = line
    return width, height, rows


def colours(path: Path, region: Region | None = None) -> Counter[RGB]:
    """How many pixels of each colour the PNG has, in ``region`` or in all of it."""
    width, height, rows = png_pixels(path)
    left, top, right, bottom = region or (0, 0, width, height)
    counts: Counter[RGB] = Counter()
    for row in rows[max(top, 0):min(bottom, height)]:
        counts.update(row[max(left, 0):min(right, width)])
    return counts


def near(counts: Counter[RGB], colour: RGB, tolerance: int = 40) -> int:
    """The pixels of ``counts`` within ``tolerance`` of ``colour`` on every channel
    (anti-aliased edges blend into their background)."""
    return sum(n for rgb, n in counts.items()
               if all(abs(a - b) <= tolerance for a, b in zip(rgb, colour)))


def ink(counts: Counter[RGB], background: RGB = WHITE, tolerance: int = 8) -> Counter[RGB]:
    """The colours of ``counts`` that are not the background: what is drawn."""
    return Counter({rgb: n for rgb, n in counts.items()
                    if any(abs(a - b) > tolerance for a, b in zip(rgb, background))})


def colour_count(path: Path, region: Region | None = None, background: RGB = WHITE) -> int:
    """The distinct colours drawn in ``region`` (all but the background): a chart's bars,
    lines and labels show as many; an empty or failed chart as none or a few."""
    return len(ink(colours(path, region), background))
