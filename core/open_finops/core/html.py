"""`finops report html FILE`: the reports of one billing month as one self-contained HTML page,
for a manager who opens it offline or gets it by e-mail.

The page holds, for the month M (``params.end``, or the latest month with data up to it):

- headline numbers per billing currency: BilledCost and EffectiveCost of M and their change
  from the month before, the month-end forecast, the untagged share, commitment discount
  coverage and utilization, and the effective savings rate;
- charts, each a Vega-Lite spec that vl-convert renders to inline SVG (no script, no font or
  image to fetch): the monthly trend per provider, the top services, the top movers by
  service, the untagged share per tag key, commitment coverage and utilization, and the
  daily cost of M per provider with the anomaly days marked;
- small tables under them, and the charges of M (credits, adjustments, taxes, Marketplace).

Every number comes from a report of :data:`open_finops.core.reports.REPORTS` (one definition
per report, the same as ``finops report`` prints), except the daily series under the anomaly
marks, which sums ``focus`` per charge day as the anomalies report does. Each section names
its report and the command that prints its rows. Costs are never added across currencies:
with several, the cards repeat per currency and the charts split into one panel each.

The page holds no timestamp of its own: the same database gives the same file, byte for byte.
"""
from __future__ import annotations

import calendar
import os
import re
import shlex
from collections import defaultdict
from dataclasses import replace
from decimal import Decimal
from html import escape
from pathlib import Path

from open_finops.core import reports
from open_finops.core.errors import FinopsError, one_line
from open_finops.core.reports import Params

INSTALL = "pip install 'open-finops-core[html]'"
# Provider colours: no red or green, which mean "up" and "down" (movers) and "anomaly".
PALETTE = ["#4c78a8", "#f58518", "#72b7b2", "#b279a2", "#9d755d", "#eeca3b", "#bab0ac",
           "#ff9da6"]
UP, DOWN, ANOMALY = "#d6604d", "#1a9850", "#d62728"
WIDTH = 560
TOP = 10  # rows of the top-N charts and tables
LONG = 20  # rows of a table of every row (anomalies) before "and N more"
CONFIG = {
    "font": "sans-serif",
    "background": "white",
    # Room on the left for labels drawn in a wider font than vl-convert measured them with.
    "padding": {"left": 48, "top": 8, "right": 16, "bottom": 8},
    "view": {"stroke": None},
    "axis": {"labelColor": "#333", "titleColor": "#333", "gridColor": "#e8e8e8",
             "domainColor": "#999", "tickColor": "#999", "titleFontWeight": "normal",
             "labelLimit": 220},
    # vl-convert measures labels narrower than a browser draws them: the amounts along a
    # chart's x axis are kept apart (every band of a y axis keeps its label).
    "axisX": {"labelOverlap": "greedy", "labelSeparation": 12},
    "legend": {"orient": "top", "labelColor": "#333", "titleColor": "#333"},
    "header": {"labelFontSize": 12, "labelColor": "#333"},
    "range": {"category": PALETTE},
}
CSS = """
body{margin:0;background:#f5f6f8;color:#1f2328;font:14px/1.45 system-ui,-apple-system,
"Segoe UI",Roboto,Helvetica,Arial,sans-serif}
main{max-width:1180px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:0 0 4px}
h3{font-size:14px;margin:12px 0 6px;color:#555}
.lead,.source,.empty,.note{color:#555;margin:4px 0}
code{background:#eef0f3;border-radius:3px;padding:1px 4px;font-size:12.5px;
white-space:nowrap}
section{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:16px 20px;
margin:16px 0}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin-top:8px}
.card{flex:1 1 200px;border:1px solid #e3e6ea;border-radius:6px;padding:10px 14px}
.card .label{color:#555;font-size:12.5px}.card .value{font-size:20px;font-weight:600}
.card .more{color:#555;font-size:12.5px}
.body{display:flex;flex-wrap:wrap;gap:20px;align-items:flex-start}
figure{margin:8px 0}figure svg{max-width:100%;height:auto}
table{border-collapse:collapse;font-size:13px;margin:8px 0}
th,td{padding:3px 10px;border-bottom:1px solid #eceef1;text-align:left}
th{color:#555;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums}
footer{color:#666;font-size:12.5px;margin:24px 0}
@media print{body{background:#fff}section{break-inside:avoid;border:none;padding:0}}
"""


# --- the page --------------------------------------------------------------------------------

def render(con, params: Params, available: list[str]) -> str:
    """The HTML page of the month ``params.end`` (the latest month of ``available`` up to
    it when it has none) over the connection's ``focus``."""
    to_svg = _renderer()
    shown = [m for m in available if m <= (params.end or available[-1])] or available
    page = _Page(con, params, shown[-1], shown[-12:], to_svg)
    return page.html()


def write(path: str, text: str) -> str:
    """Write ``text`` to ``path`` atomically (a temporary file beside it, then a rename);
    "PATH (N KB)" for people."""
    target = Path(path)
    data = text.encode("utf-8")
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # mode as umask says
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(temp, target)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
    except OSError as exc:
        reason = exc.strerror or one_line(exc)
        raise FinopsError(f"cannot write {path}: {reason}; name a file in a folder you can "
                          "write to") from None
    return f"{path} ({max(1, round(len(data) / 1024))} KB)"


def _renderer():
    """vl-convert's Vega-Lite to SVG, or an error saying how to install it."""
    try:
        import vl_convert
    except ImportError:
        raise FinopsError("the HTML report needs its chart renderer, vl-convert-python, which "
                          f"is not installed; install it with: {INSTALL}") from None

    def to_svg(spec: dict) -> str:
        try:
            # No base URL allowed: a chart's data is inline, nothing may be fetched.
            return vl_convert.vegalite_to_svg(spec, config=CONFIG, allowed_base_urls=[])
        except Exception as exc:  # vl-convert raises ValueError, and its runtime others
            # Its first line only says that it failed; the second says why.
            why = " ".join(line.strip() for line in str(exc).splitlines()[:2])
            raise FinopsError(f"vl-convert could not draw a chart: {why}; "
                              f"reinstall it ({INSTALL} --force-reinstall) or report this "
                              "bug") from None
    return to_svg


class _Page:
    """The sections of one month's page; each method returns one section's HTML."""

    def __init__(self, con, params: Params, month: str, months: list[str], to_svg) -> None:
        self.con, self.params, self.month, self.months = con, params, month, months
        self.to_svg = to_svg
        self.charts = 0
        self.previous = _previous(month)
        # Spend per provider over the months of the trend: the month's and the one before.
        self.trend = self.rows("spend", start=months[0], by="provider")
        self.spend = [r for r in self.trend if r["BillingPeriod"] == month]
        self.providers = sorted({r["ProviderName"] for r in self.trend if r["ProviderName"]})
        self.currencies = sorted({r["BillingCurrency"] or "" for r in self.spend})

    # The reports' rows, as dicts keyed by column, for the month unless start says otherwise.
    def rows(self, name: str, start: str | None = None, **changes) -> list[dict]:
        params = replace(self.params, start=start or self.month, end=self.month, **changes)
        columns, rows = reports.run(self.con, reports.REPORTS[name], params)
        return [dict(zip(columns, row)) for row in rows]

    def command(self, name: str, *options: str, month: bool = True) -> str:
        """The `finops report` command that prints a section's rows."""
        words = ["finops", "report", name, *options]
        if month:
            words += ["--month", self.month]
        for dimension, value in self.params.where:
            words += ["--where", f"{dimension}={value}"]
        return " ".join(shlex.quote(w) for w in words)

    def chart(self, values: list[dict], body: dict, height: int) -> str:
        """One chart: ``body`` (mark and encoding, or layer) over ``values``, one panel per
        currency when there are several."""
        spec: dict = {"data": {"values": values}}
        currencies = {v.get("BillingCurrency") for v in values}
        if len(currencies) > 1:
            spec.update(facet={"row": {"field": "BillingCurrency", "type": "nominal",
                                       "title": None}},
                        spec={"width": WIDTH, "height": height, **body},
                        resolve={"scale": {"x": "independent", "y": "independent"}})
        else:
            spec.update({"width": WIDTH, "height": height, **body})
        self.charts += 1
        return f"<figure>{_own_ids(self.to_svg(spec), f'c{self.charts}-')}</figure>"

    def money_title(self, values: list[dict], column: str) -> str:
        currencies = sorted({v["BillingCurrency"] for v in values})
        return f"{column} ({currencies[0]})" if len(currencies) == 1 else column

    def html(self) -> str:
        providers = ", ".join(self.providers) or "no provider"
        title = f"Cloud costs of {self.month}: {providers}"
        sections = [self.headline(), self.trend_section(), self.services(), self.movers(),
                    self.untagged(), self.commitments(), self.daily(), self.charges()]
        where = "".join(f" Only the rows with {escape(d)} = {escape(v)}."
                        for d, v in self.params.where)
        return "\n".join([
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{escape(title)}</title>",
            f"<style>{CSS}</style>",
            "</head>",
            "<body><main>",
            f"<h1>{escape(title)}</h1>",
            f'<p class="lead">Billing month {escape(self.month)}, every provider of the '
            f"FOCUS data ({escape(providers)}).{where} Costs are in each bill's currency; "
            "EffectiveCost is the amortized cost (commitment purchases spread over the "
            "usage they cover), BilledCost what the invoice says.</p>",
            *sections,
            '<footer>Written by <code>finops report html</code> of the Open FinOps Stack. '
            "Every number comes from a report that <code>finops report --list</code> lists; "
            "the command under each section prints its rows (add <code>--format csv</code> "
            "for a spreadsheet).</footer>",
            "</main></body>",
            "</html>",
            ""])

    # --- sections ----------------------------------------------------------------------------

    def headline(self) -> str:
        rows = {"spend": self.spend,
                "previous": [r for r in self.trend if r["BillingPeriod"] == self.previous],
                "forecast": self.rows("forecast", by="provider"),
                "untagged": self.rows("untagged"),
                "coverage": self.rows("coverage", by="provider"),
                "utilization": self.rows("utilization"),
                "savings": self.rows("savings", by="provider")}
        parts = []
        for currency in self.currencies:
            mine = {name: [r for r in found if (r["BillingCurrency"] or "") == currency]
                    for name, found in rows.items()}
            heading = f"<h3>In {escape(currency)}</h3>" if len(self.currencies) > 1 else ""
            parts.append(f'{heading}<div class="cards">{"".join(self.cards(mine, currency))}'
                         "</div>")
        if not parts:
            parts.append(_empty(f"No costs in {self.month}."))
        commands = [self.command(name) for name in ("spend", "forecast")] + \
            [self.untagged_command()] + \
            [self.command(name) for name in ("coverage", "utilization", "savings")]
        parts.append('<p class="source">From the spend, forecast, untagged, coverage, '
                     "utilization and savings reports: "
                     + ", ".join(f"<code>{escape(c)}</code>" for c in commands) + ".</p>")
        return (f'<section class="headline"><h2>{escape(self.month)} at a glance</h2>'
                f'{"".join(parts)}</section>')

    def cards(self, rows: dict[str, list[dict]], currency: str) -> list[str]:
        """The headline numbers of one currency from each report's rows of it."""
        spend, used = rows["spend"], rows["utilization"]
        return [
            _card("BilledCost", _money(_sum(spend, "BilledCost"), currency),
                  self.change(spend, rows["previous"], "BilledCost", currency)),
            _card("EffectiveCost", _money(_sum(spend, "EffectiveCost"), currency),
                  self.change(spend, rows["previous"], "EffectiveCost", currency)),
            self.forecast_card(rows["forecast"], currency),
            self.untagged_card(rows["untagged"]),
            _card("Commitment coverage",
                  _share(_sum(rows["coverage"], "CoveredListCost"),
                         _sum(rows["coverage"], "ListCost")),
                  "of usage at list prices covered by reservations and savings plans"),
            _card("Commitment utilization",
                  _share(_sum(used, "UsedCost"),
                         _sum(used, "UsedCost") + _sum(used, "UnusedCost")),
                  "of the commitments' amortized cost used" if used
                  else "no commitment discounts this month"),
            _card("Effective savings rate",
                  _share(_sum(rows["savings"], "ListCost") - _sum(rows["savings"],
                                                                  "EffectiveCost"),
                         _sum(rows["savings"], "ListCost")),
                  "usage at list prices less its EffectiveCost, over list"),
        ]

    def change(self, now: list[dict], before: list[dict], column: str, currency: str) -> str:
        if not before:
            return f"no {self.previous} in the data to compare with"
        old = _sum(before, column)
        delta = _sum(now, column) - old
        percent = f" ({delta / old:+.1%})" if old else ""
        return f"{_money(delta, currency, signed=True)}{percent} from {self.previous}"

    def forecast_card(self, rows: list[dict], currency: str) -> str:
        if not rows:
            return _card("Month-end forecast", "n/a", "no costs this month")
        elapsed, days = rows[0]["DaysElapsed"], rows[0]["DaysInMonth"]
        if elapsed >= days:
            return _card("Month-end forecast", "month complete",
                         f"the data covers all {days} days")
        total = sum(float(r["ForecastEffectiveCost"] or 0) for r in rows)
        return _card("Month-end forecast", _money(total, currency),
                     f"EffectiveCost at the run rate of the {elapsed} of {days} days so far")

    def untagged_command(self) -> str:
        return self.command("untagged", *[o for key in self.params.tags for o in ("--tag", key)])

    def untagged_card(self, rows: list[dict]) -> str:
        """The share without each tag key asked for (--tag, tag_keys), else with no tag."""
        if self.params.tags:
            wanted = [r for r in rows if r["TagKey"] in self.params.tags]
            value = " · ".join(f"{r['TagKey']} "
                               + _share(r["UntaggedEffectiveCost"], r["EffectiveCost"])
                               for r in wanted)
            return _card("Untagged", value or "n/a", "of EffectiveCost without the tag")
        wanted = [r for r in rows if r["TagKey"] is None]
        value = _share(_sum(wanted, "UntaggedEffectiveCost"), _sum(wanted, "EffectiveCost"))
        return _card("Untagged", value, "of EffectiveCost with no tag at all")

    def trend_section(self) -> str:
        first = self.months[0]
        options = ["--from", first, "--to", self.month] if first != self.month else \
            ["--month", self.month]
        values = [{"BillingPeriod": r["BillingPeriod"], "ProviderName": r["ProviderName"],
                   "BillingCurrency": r["BillingCurrency"],
                   "EffectiveCost": float(r["EffectiveCost"])} for r in self.trend]
        head = _head("Monthly EffectiveCost per provider", "spend",
                     self.command("spend", *options, month=False))
        if not values:
            return _section(head, _empty("No costs in these months."))
        # The chart's width from the number of months: two months make no wide bars.
        step = 90 if len(self.months) < 6 else 48
        body = {"mark": {"type": "bar"}, "width": step * len(self.months),
                "encoding": {
                    "x": {"field": "BillingPeriod", "type": "ordinal", "title": None,
                          "scale": {"domain": self.months}, "axis": {"labelAngle": 0}},
                    "y": {"field": "EffectiveCost", "type": "quantitative",
                          "title": self.money_title(values, "EffectiveCost"),
                          "axis": {"format": _ticks(values, "EffectiveCost")}},
                    "color": self.provider_colour(),
                    "order": {"field": "ProviderName"}}}
        table = _table(["Month", "Provider", "BilledCost", "EffectiveCost"],
                       [(r["BillingPeriod"], _label(r["ProviderName"]),
                         _money(r["BilledCost"], r["BillingCurrency"]),
                         _money(r["EffectiveCost"], r["BillingCurrency"]))
                        for r in self.trend])
        return _section(head, self.chart(values, body, 220), table)

    def provider_colour(self) -> dict:
        return {"field": "ProviderName", "type": "nominal", "title": None,
                "scale": {"domain": self.providers, "range": PALETTE[:len(self.providers)]}}

    def services(self) -> str:
        rows = self.rows("spend", by="service")
        top = _top_per_currency(rows, lambda r: r["EffectiveCost"])
        head = _head(f"Top services of {self.month}", "spend",
                     self.command("spend", "--by", "service"))
        if not top:
            return _section(head, _empty(f"No costs in {self.month}."))
        values = [{"ServiceName": _label(r["ServiceName"]),
                   "BillingCurrency": r["BillingCurrency"],
                   "EffectiveCost": float(r["EffectiveCost"])} for r in top]
        body = {"mark": {"type": "bar", "color": PALETTE[0]},
                "encoding": {
                    "y": {"field": "ServiceName", "type": "nominal", "title": None,
                          "sort": "-x"},
                    "x": {"field": "EffectiveCost", "type": "quantitative",
                          "title": self.money_title(values, "EffectiveCost"),
                          "axis": {"format": _ticks(values, "EffectiveCost")}}}}
        table = _table(["Service", "EffectiveCost", "BilledCost", f"Change from {self.previous}"],
                       [(_label(r["ServiceName"]),
                         _money(r["EffectiveCost"], r["BillingCurrency"]),
                         _money(r["BilledCost"], r["BillingCurrency"]),
                         _money(r["EffectiveCostChange"], r["BillingCurrency"], signed=True))
                        for r in top])
        return _section(head, self.chart(values, body, 22 * _most(values)), table)

    def movers(self) -> str:
        rows = [r for r in self.rows("movers", by="service", limit=TOP)
                if r["EffectiveCostChange"]]
        head = _head(f"Top movers of {self.month} by service", "movers",
                     self.command("movers", "--by", "service", "--limit", str(TOP)))
        if not rows:
            return _section(head, _empty(f"No service's EffectiveCost changed from "
                                         f"{self.previous} to {self.month}."))
        values = [{"ServiceName": _label(r["ServiceName"]),
                   "BillingCurrency": r["BillingCurrency"],
                   "EffectiveCostChange": float(r["EffectiveCostChange"]),
                   "Direction": "increase" if r["EffectiveCostChange"] > 0 else "decrease"}
                  for r in rows]
        body = {"mark": {"type": "bar"},
                "encoding": {
                    "y": {"field": "ServiceName", "type": "nominal", "title": None,
                          "sort": None},
                    "x": {"field": "EffectiveCostChange", "type": "quantitative",
                          "title": self.money_title(values, "EffectiveCost change"),
                          "axis": {"format": _ticks(values, "EffectiveCostChange",
                                                    signed=True)}},
                    "color": {"field": "Direction", "type": "nominal", "title": None,
                              "scale": {"domain": ["increase", "decrease"],
                                        "range": [UP, DOWN]}}}}
        table = _table(["Service", self.previous, self.month, "Change"],
                       [(_label(r["ServiceName"]),
                         _money(r["PreviousEffectiveCost"], r["BillingCurrency"]),
                         _money(r["EffectiveCost"], r["BillingCurrency"]),
                         _money(r["EffectiveCostChange"], r["BillingCurrency"], signed=True))
                        for r in rows])
        return _section(head, self.chart(values, body, 22 * _most(values)), table)

    def untagged(self) -> str:
        rows = self.rows("untagged")
        head = _head(f"Untagged EffectiveCost of {self.month}", "untagged",
                     self.untagged_command())
        if not rows:
            return _section(head, _empty(f"No costs in {self.month}."))
        several = len({r["BillingCurrency"] for r in rows}) > 1

        def label(r: dict) -> str:
            key = "(no tag at all)" if r["TagKey"] is None else f"tag {r['TagKey']}"
            return f"{key} ({r['BillingCurrency']})" if several else key
        values = [{"TagKey": label(r), "UntaggedShare": float(r["UntaggedShare"] or 0)}
                  for r in rows]
        body = {"mark": {"type": "bar", "color": PALETTE[3]},
                "encoding": {
                    "y": {"field": "TagKey", "type": "nominal", "title": None, "sort": None},
                    "x": {"field": "UntaggedShare", "type": "quantitative",
                          "title": "Share of EffectiveCost without the tag",
                          "scale": {"domain": [0, 1]}, "axis": {"format": ".0%"}}}}
        table = _table(["Tag key", "Untagged", "Of EffectiveCost", "Share"],
                       [(label(r), _money(r["UntaggedEffectiveCost"], r["BillingCurrency"]),
                         _money(r["EffectiveCost"], r["BillingCurrency"]),
                         _share(r["UntaggedEffectiveCost"], r["EffectiveCost"]))
                        for r in rows])
        return _section(head, self.chart(values, body, 22 * len(values)), table)

    def commitments(self) -> str:
        coverage = self.rows("coverage", by="provider")
        utilization = self.rows("utilization")
        head = _head(f"Commitment discounts of {self.month}", "coverage and utilization reports",
                     f"{self.command('coverage')}; {self.command('utilization')}")
        if not utilization and not any(r["CoveredListCost"] for r in coverage):
            return _section(head, _empty(f"No commitment discounts (reservations, savings "
                                         f"plans) covered usage in {self.month}."))
        several = len({r["BillingCurrency"] for r in coverage + utilization}) > 1

        def label(*words: str | None, currency: str) -> str:
            text = " ".join(w for w in words if w)
            return f"{text} ({currency})" if several else text
        lines = [(label(r["ProviderName"], "coverage", currency=r["BillingCurrency"]),
                  "Coverage", r["Coverage"], _money(r["CoveredListCost"], r["BillingCurrency"])
                  + " of " + _money(r["ListCost"], r["BillingCurrency"]) + " at list prices")
                 for r in coverage]
        lines += [(label(r["ProviderName"], r["CommitmentDiscountType"], "utilization",
                         currency=r["BillingCurrency"]),
                   "Utilization", r["Utilization"],
                   f"{r['Commitments']} commitments: "
                   + _money(r["UsedCost"], r["BillingCurrency"]) + " used, "
                   + _money(r["UnusedCost"], r["BillingCurrency"]) + " unused")
                  for r in utilization]
        values = [{"Label": text, "Measure": measure, "Share": float(share or 0)}
                  for text, measure, share, _ in lines]
        body = {"mark": {"type": "bar"},
                "encoding": {
                    "y": {"field": "Label", "type": "nominal", "title": None, "sort": None},
                    "x": {"field": "Share", "type": "quantitative", "title": None,
                          "scale": {"domain": [0, 1]}, "axis": {"format": ".0%"}},
                    "color": {"field": "Measure", "type": "nominal", "title": None,
                              "scale": {"domain": ["Coverage", "Utilization"],
                                        "range": [PALETTE[0], PALETTE[2]]}}}}
        table = _table(["", "Share", "Of"],
                       [(text, _share_of(share), detail) for text, _, share, detail in lines])
        return _section(head, self.chart(values, body, 26 * len(values)), table)

    def daily(self) -> str:
        anomalies = self.rows("anomalies", by="provider")
        options = ["--by", "provider"]
        if self.params.sigmas != Params.sigmas:
            options += ["--sigmas", f"{self.params.sigmas:g}"]
        if self.params.window != Params.window:
            options += ["--window", str(self.params.window)]
        head = _head(f"Daily EffectiveCost of {self.month} and anomalies", "anomalies",
                     self.command("anomalies", *options))
        days = self.daily_costs()
        if not days:
            return _section(head, _empty(f"No charges dated in {self.month}."))
        values = [{"Day": r[0].day, "ProviderName": r[1], "BillingCurrency": r[2],
                   "EffectiveCost": float(r[3]), "Kind": "cost"} for r in days]
        values += [{"Day": r["ChargeDate"].day, "ProviderName": r["ProviderName"],
                    "BillingCurrency": r["BillingCurrency"],
                    "EffectiveCost": float(r["EffectiveCost"]), "Kind": "anomaly"}
                   for r in anomalies]
        year, number = (int(x) for x in self.month.split("-"))
        x = {"field": "Day", "type": "quantitative", "title": f"Day of {self.month}",
             "scale": {"domain": [1, calendar.monthrange(year, number)[1]], "nice": False},
             "axis": {"format": "d", "tickMinStep": 1}}
        y = {"field": "EffectiveCost", "type": "quantitative",
             "title": self.money_title(values, "EffectiveCost"),
             "axis": {"format": _ticks(values, "EffectiveCost")}}
        body = {"layer": [
            {"transform": [{"filter": "datum.Kind === 'cost'"}],
             "mark": {"type": "line", "point": False, "strokeWidth": 2},
             "encoding": {"x": x, "y": y, "color": self.provider_colour()}},
            {"transform": [{"filter": "datum.Kind === 'anomaly'"}],
             "mark": {"type": "point", "filled": True, "size": 110, "color": ANOMALY,
                      "stroke": "#000", "strokeWidth": 1, "opacity": 1},
             "encoding": {"x": x, "y": y}}]}
        rule = (f"a day above the mean of the {self.params.window} days before it by more "
                f"than {self.params.sigmas:g} standard deviations")
        if anomalies:
            shown = anomalies[:LONG]
            note = (f'<p class="note">Red dots: anomaly days ({escape(rule)}).</p>'
                    + _table(["Day", "Provider", "EffectiveCost", "Trailing mean", "Threshold"],
                             [(r["ChargeDate"].isoformat(), r["ProviderName"] or "",
                               _money(r["EffectiveCost"], r["BillingCurrency"]),
                               _money(r["TrailingMean"], r["BillingCurrency"]),
                               _money(r["Threshold"], r["BillingCurrency"]))
                              for r in shown]))
            if len(anomalies) > LONG:
                note += _empty(f"And {len(anomalies) - LONG} more; the command lists them.")
        else:
            note = _empty(f"No anomalies in {self.month}: no day was {rule}.")
        return _section(head, self.chart(values, body, 220), note)

    def daily_costs(self) -> list[tuple]:
        """(ChargeDate, ProviderName, BillingCurrency, EffectiveCost) of each charge day of
        the month: the series the anomalies report judges (its ChargeDate and sum)."""
        day = reports.charge_day()
        return self.con.execute(
            f"SELECT {day} AS ChargeDate, ProviderName, BillingCurrency, "
            f"sum(CAST(EffectiveCost AS DECIMAL(38, 10))) FROM {self.params.source()} "
            f"WHERE ChargePeriodStart IS NOT NULL AND strftime({day}, '%Y-%m') = ? "
            "GROUP BY ALL ORDER BY ALL", [self.month]).fetchall()

    def charges(self) -> str:
        rows = self.rows("charges")
        head = _head(f"Credits, adjustments, taxes and Marketplace of {self.month}", "charges",
                     self.command("charges"))
        if not rows:
            return _section(head, _empty(f"No credits, adjustments, corrections, taxes or "
                                         f"Marketplace charges in {self.month}."))
        return _section(head, _table(
            ["Provider", "Kind", "Rows", "BilledCost", "EffectiveCost"],
            [(r["ProviderName"] or "", r["Kind"], f"{r['Charges']:,}",
              _money(r["BilledCost"], r["BillingCurrency"]),
              _money(r["EffectiveCost"], r["BillingCurrency"])) for r in rows]))


# --- small helpers ---------------------------------------------------------------------------

def _previous(month: str) -> str:
    year, number = (int(x) for x in month.split("-"))
    return f"{year - 1}-12" if number == 1 else f"{year}-{number - 1:02d}"


def _ticks(values: list[dict], field: str, signed: bool = False) -> str:
    """The d3 format of an axis's tick labels, from the largest amount it shows: 2.5M for
    millions, whole numbers from 10, then as many decimals as small amounts need."""
    largest = max((abs(v[field]) for v in values), default=0)
    sign = "+" if signed else ""
    if largest >= 1_000_000:
        return f"{sign}.3~s"
    decimals = 0 if largest >= 10 else 1 if largest >= 1 else 2 if largest >= 0.1 else 4
    return f"{sign},.{decimals}~f" if decimals else f"{sign},.0f"


def _sum(rows: list[dict], column: str) -> Decimal:
    return sum((r[column] or Decimal(0) for r in rows), Decimal(0))


def _money(value, currency: str | None, signed: bool = False) -> str:
    """1,234.57 USD (to the cent; +1,234.57 USD when ``signed``)."""
    if value is None:
        return "n/a"
    text = format(Decimal(value), "+,.2f" if signed else ",.2f")
    if text.lstrip("+-") == "0.00":
        text = "0.00"
    return f"{text} {currency or ''}".rstrip()


def _share(part, whole) -> str:
    return _share_of(float(part) / float(whole) if whole else None)


def _share_of(value) -> str:
    return "n/a" if value is None else f"{float(value):.1%}"


def _label(value) -> str:
    return "(none)" if value is None else str(value)


def _most(values: list[dict]) -> int:
    """The rows of the largest panel of a chart (one panel per currency)."""
    counts: dict = defaultdict(int)
    for v in values:
        counts[v.get("BillingCurrency")] += 1
    return max(counts.values(), default=1)


def _top_per_currency(rows: list[dict], key) -> list[dict]:
    by_currency: dict = defaultdict(list)
    for r in rows:
        by_currency[r["BillingCurrency"]].append(r)
    return [r for currency in sorted(by_currency, key=str)
            for r in sorted(by_currency[currency], key=key, reverse=True)[:TOP]]


def _own_ids(svg: str, prefix: str) -> str:
    """The SVG with its ids (clip paths, gradients) prefixed: several charts share a page."""
    ids = set(re.findall(r'\bid="([^"]+)"', svg))
    for name in sorted(ids, key=len, reverse=True):
        svg = (svg.replace(f'id="{name}"', f'id="{prefix}{name}"')
               .replace(f"url(#{name})", f"url(#{prefix}{name})")
               .replace(f'href="#{name}"', f'href="#{prefix}{name}"'))
    return svg


def _card(label: str, value: str, more: str) -> str:
    return (f'<div class="card"><div class="label">{escape(label)}</div>'
            f'<div class="value">{escape(value)}</div><div class="more">{escape(more)}</div>'
            "</div>")


def _head(title: str, report: str, command: str) -> str:
    """A section's title, and where its numbers come from: "the spend report: COMMAND"."""
    if not report.endswith("reports"):
        report += " report"
    return (f"<h2>{escape(title)}</h2><p class=\"source\">From the {escape(report)}: "
            f"<code>{escape(command)}</code></p>")


def _section(head: str, *parts: str) -> str:
    return f'<section>{head}<div class="body">{"".join(parts)}</div></section>'


def _empty(sentence: str) -> str:
    return f'<p class="empty">{escape(sentence)}</p>'


def _table(header: list[str], rows: list[tuple]) -> str:
    def cell(value: str, column: int) -> str:
        numeric = column > 0 and bool(re.match(r"^[+-]?[\d,]+(\.\d+)?(%| [A-Z]{3})?$|^n/a$",
                                               value))
        return f'<td class="n">{escape(value)}</td>' if numeric else f"<td>{escape(value)}</td>"
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(cell(str(v), i) for i, v in enumerate(row)) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
