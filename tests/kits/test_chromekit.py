"""tests/kits/chromekit.py does what the HTML report test relies on: Chromium renders a file
offline, the DOM after load comes back, and the screenshot's pixels are where the page drew
them (and nowhere else)."""
from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

import chromekit
from conftest import JSONHandler

RED = (255, 0, 0)
RECT = (40, 30, 240, 130)  # left, top, right, bottom of the red rectangle below
PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>kit</title>
<style>body {{ margin: 0; background: #fff; font: 16px sans-serif; }}</style></head>
<body>{body}</body></html>
"""
SVG = ('<svg width="300" height="200" xmlns="http://www.w3.org/2000/svg">'
       '<rect class="bar" x="40" y="30" width="200" height="100" fill="#ff0000"/></svg>')


def page(folder: Path, body: str) -> Path:
    path = folder / "page.html"
    path.write_text(PAGE.format(body=body))
    return path


def test_an_svg_rect_is_in_the_dom_and_its_red_pixels_only_where_it_is(tmp_path):
    html = page(tmp_path, SVG + '<p style="position:absolute; top:220px">Monthly cost</p>')
    png, dom = chromekit.render(html, tmp_path / "out", width=400, height=300)
    assert '<rect class="bar"' in dom and "Monthly cost" in dom, dom
    width, height, rows = chromekit.png_pixels(png)
    assert (width, height, len(rows), len(rows[0])) == (400, 300, 300, 400)
    left, top, right, bottom = RECT
    inside = chromekit.colours(png, RECT)
    assert chromekit.near(inside, RED, tolerance=2) == (right - left) * (bottom - top), inside
    everything = chromekit.colours(png)
    assert chromekit.near(everything, RED) == chromekit.near(inside, RED), (
        "red pixels outside the rectangle")
    # The text is drawn (dark pixels below the chart), the corner is background.
    assert chromekit.colour_count(png, (0, 210, 400, 260)) > 1
    assert rows[0][0] == chromekit.WHITE and rows[299][399] == chromekit.WHITE


def test_a_page_without_the_svg_has_no_red_pixels(tmp_path):
    png, dom = chromekit.render(page(tmp_path, "<p>No chart here</p>"), tmp_path, 400, 300)
    assert "<svg" not in dom and "No chart here" in dom
    counts = chromekit.colours(png)
    assert chromekit.near(counts, RED) == 0, counts.most_common(5)
    assert chromekit.colour_count(png, (0, 100, 400, 300)) == 0  # below the text


def test_a_page_reaches_no_server_not_even_on_the_loopback(tmp_path):
    seen: list[str] = []

    class Handler(JSONHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            self.answer_json({})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        html = page(tmp_path, f'<img src="{base}/image.png"><p>offline</p>'
                    f'<script>fetch("{base}/fetch").catch(e => document.body.dataset.net ='
                    f' "failed")</script>')
        _, dom = chromekit.render(html, tmp_path, 400, 300)
    finally:
        server.shutdown()
        server.server_close()
    assert seen == [], f"Chromium reached {seen}"
    assert 'data-net="failed"' in dom, dom


def test_colour_count_counts_drawn_colours_only(tmp_path):
    gradient = "".join(f'<rect x="{i * 10}" width="10" height="50" fill="rgb({i * 20},90,200)"/>'
                       for i in range(10))
    html = page(tmp_path, f'<svg width="100" height="50">{gradient}</svg>')
    png, _ = chromekit.render(html, tmp_path, 200, 100)
    assert chromekit.colour_count(png, (0, 0, 100, 50)) == 10
    assert chromekit.colour_count(png, (100, 0, 200, 100)) == 0
