"""`finops report html FILE`: one self-contained page of a month's reports, checked against
the totals the CUR generator computed from its own rows (tests/kits/curgen.py), and drawn by a real
headless Chromium (tests/kits/chromekit.py) to show that its charts are there to see."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

import chromekit
from curgen import CurBucket
from open_finops.core import html
from open_finops.core.errors import FinopsError
from finopskit import finops_in

JAN, FEB = "2024-01", "2024-02"
ROWS = 2500  # line items a month: the charts aggregate, the page stays small
MAX_BYTES = 2 * 1024 * 1024
SVG = re.compile(r"<svg\b.*?</svg>", re.S)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict:
    """Two months of one CUR 2.0 export, imported once, and the page of the second."""
    root = tmp_path_factory.mktemp("html")
    bucket = CurBucket(root / "bucket")
    months = {month: bucket.cur2("acme", month, rows=ROWS, seed=seed)
              for month, seed in ((JAN, 1), (FEB, 2))}
    finops_in(root, "aws", "import", "--source", str(bucket.source), "--export-name", "acme")
    page = root / "costs.html"
    run = finops_in(root, "report", "html", str(page), "--month", FEB)
    return {"root": root, "totals": {m: d.totals for m, d in months.items()}, "page": page,
            "text": page.read_text(encoding="utf-8"), "err": run.err}


def colourful(png: Path) -> int:
    """The pixels of a screenshot with a clear hue (chart marks), not black, white or grey
    (text, borders, backgrounds)."""
    _, _, rows = chromekit.png_pixels(png)
    return sum(1 for row in rows for rgb in row if max(rgb) - min(rgb) >= 60)


# A screenful of charts (bars, lines) has tens of thousands of such pixels; text has none.
CHARTS_DRAWN = 20_000


def test_the_page_is_one_small_file_that_needs_nothing_from_the_network(built):
    page, text = built["page"], built["text"]
    assert page.stat().st_size < MAX_BYTES
    assert built["err"].startswith(f"finops: wrote {page} (") and built["err"].endswith(" KB)\n")
    assert "<script" not in text.lower()
    external = re.findall(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?\s*"""
                          r"""(?:https?:)?//""", text, re.I)
    assert not external, external
    assert len(re.findall(r"<svg\b", text)) >= 5
    assert re.search(rf"<title>[^<]*{FEB}[^<]*AWS[^<]*</title>", text)
    assert re.search(rf"<h1>[^<]*{FEB}[^<]*AWS[^<]*</h1>", text)
    assert f"finops report spend --by service --month {FEB}" in text


def test_the_headline_costs_are_the_generators_totals_to_the_cent(built):
    headline = built["text"].split('<section class="headline">', 1)[1].split("</section>")[0]
    cards = dict(re.findall(r'<div class="label">([^<]*)</div><div class="value">([^<]*)</div>',
                            headline))
    totals = built["totals"][FEB]
    assert cards["BilledCost"] == f"{totals.unblended:,.2f} USD"
    assert cards["EffectiveCost"] == f"{totals.effective:,.2f} USD"
    change = totals.unblended - built["totals"][JAN].unblended
    assert f"{change:+,.2f} USD" in headline and f"from {JAN}" in headline


def test_the_same_database_gives_the_same_file(built):
    again = built["root"] / "again.html"
    finops_in(built["root"], "report", "html", str(again), "--month", FEB)
    assert again.read_bytes() == built["page"].read_bytes()


def test_chromium_draws_the_charts_offline(built, tmp_path):
    png, dom = chromekit.render(built["page"], tmp_path / "page", width=1200, height=1400)
    assert len(re.findall(r"<svg\b", dom)) >= 5
    for mark in ("mark-rect", "mark-line", "mark-symbol"):  # bars, the daily line, anomalies
        assert f'class="{mark} ' in dom, mark
    assert colourful(png) >= CHARTS_DRAWN
    # The rule can fail: the same page without its charts shows no colour.
    bare = tmp_path / "bare.html"
    bare.write_text(SVG.sub("", built["text"]), encoding="utf-8")
    png, _ = chromekit.render(bare, tmp_path / "bare", width=1200, height=1400)
    assert colourful(png) < CHARTS_DRAWN


def test_without_the_chart_renderer_one_line_names_the_extra(built, monkeypatch):
    monkeypatch.setitem(sys.modules, "vl_convert", None)  # import vl_convert fails
    run = finops_in(built["root"], "report", "html", "nothing.html", code=1)
    assert run.err.count("\n") == 1 and "pip install 'open-finops-core[html]'" in run.err
    assert not (built["root"] / "nothing.html").exists()


def test_html_without_a_file_is_a_usage_error(built):
    run = finops_in(built["root"], "report", "html", code=2)
    assert "finops report html costs.html" in run.err


def test_an_unwritable_path_is_one_line_and_leaves_nothing(tmp_path):
    with pytest.raises(FinopsError, match=r"^cannot write .*missing/page\.html: .*") as error:
        html.write(str(tmp_path / "missing" / "page.html"), "<html></html>")
    assert "\n" not in str(error.value)
    assert html.write(str(tmp_path / "page.html"), "x" * 4096) == f"{tmp_path}/page.html (4 KB)"
    assert [p.name for p in tmp_path.iterdir()] == ["page.html"]


@pytest.mark.parametrize("largest, signed, wanted", [
    (3_400_000.0, False, ".3~s"), (-2_600_000.0, True, "+.3~s"), (950.0, False, ",.0f"),
    (2.0, False, ",.1~f"), (0.5, True, "+,.2~f"), (0.002, False, ",.4~f")])
def test_axis_labels_keep_the_digits_small_amounts_need(largest, signed, wanted):
    """d3 formats: a chart of cents must not label every tick 0 (as ',.0f' did)."""
    from open_finops.core import html
    assert html._ticks([{"v": 0.0}, {"v": largest}], "v", signed=signed) == wanted


def test_costs_in_two_currencies_are_never_added(tmp_path):
    """AWS bills in USD, the Azure MCA profile here in EUR: the page shows each currency's
    headline, each the generator's total, and no sum of the two."""
    import azuregen

    bucket = CurBucket(tmp_path / "bucket")
    aws = bucket.cur2("acme", FEB, rows=300, seed=5)
    finops_in(tmp_path, "aws", "import", "--source", str(bucket.source), "--export-name", "acme")
    azure = azuregen.write_export(tmp_path / "container", "mca", kind="actual", agreement="MCA",
                                  months=(FEB,))
    finops_in(tmp_path, "azure", "import", "--source", str(tmp_path / "container"),
              "--export-name", "mca")
    page = tmp_path / "two.html"
    finops_in(tmp_path, "report", "html", str(page), "--month", FEB)
    headline = page.read_text(encoding="utf-8").split('<section class="headline">', 1)[1] \
        .split("</section>")[0]
    values = re.findall(r'<div class="label">BilledCost</div><div class="value">([^<]*)</div>',
                        headline)
    assert sorted(values) == sorted([f"{aws.totals.unblended:,.2f} USD",
                                     f"{azure.periods[FEB].billed:,.2f} EUR"])
    both = aws.totals.unblended + float(azure.periods[FEB].billed)
    assert f"{both:,.2f}" not in headline
