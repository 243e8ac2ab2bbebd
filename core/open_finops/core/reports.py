"""The reports: the questions of the FinOps Foundation's FOCUS use-case library that the
``focus`` view answers, each defined once here (its SQL and what it means) for every reader:
``finops report`` prints them; later readers (the HTML report, the published database) take
the same definitions.

Every report runs over ``focus`` (every provider in the database), for whole billing months
(``BillingPeriodStart`` in UTC), and sums costs as DECIMAL(38, 10) so that totals are exact
to the cent and the same whatever the order of the rows. A report's rows are keyed by FOCUS
column names where there is one (``ProviderName``, ``ServiceName``, ``BilledCost``...);
``BillingPeriod`` is the billing month as YYYY-MM.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from open_finops.core.errors import FinopsError
from open_finops.core.sql import literal, quote

#: The FOCUS use-case library.
LIBRARY = "https://focus.finops.org/use-case/"

#: ``--by`` names and the FOCUS column each groups by, in the order ``--list`` shows them.
DIMENSIONS = {
    "provider": "ProviderName",
    "billing-account": "BillingAccountId",
    "sub-account": "SubAccountId",
    "service-category": "ServiceCategory",
    "service": "ServiceName",
    "region": "RegionId",
}
#: ``--by tag:KEY`` groups by the value of one tag (NULL: the row has no such tag).
TAG_PREFIX = "tag:"
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class ReportError(FinopsError):
    """A usage error of ``finops report`` (exit 2)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, exit_code=2)


@dataclass(frozen=True)
class Params:
    """What a report is asked: whole billing months ``start``..``end`` (YYYY-MM, inclusive)
    and the dimension to group by (a FOCUS column, or a tag key)."""

    start: str
    end: str
    by: str = "provider"
    limit: int = 10

    def group(self) -> tuple[str, str]:
        """(SQL expression, output name) of the dimension."""
        if self.by.startswith(TAG_PREFIX):
            key = self.by[len(TAG_PREFIX):]
            return (f"json_extract_string(Tags, {literal('$.' + quote(key))})",
                    f"Tags.{key}")
        column = DIMENSIONS[self.by]
        return quote(column), column


@dataclass(frozen=True)
class Report:
    name: str
    title: str
    capability: str  # the FinOps capability of the use case
    use_cases: tuple[str, ...]  # slugs of the library's use cases it answers ("" none)
    meaning: str  # what it answers, for people (--list, comments in the published database)
    sql: Callable[[Params], str] = field(repr=False)
    grouped: bool = True  # takes --by

    def urls(self) -> list[str]:
        return [LIBRARY + slug + "/" for slug in self.use_cases]


def _month(column: str = "BillingPeriodStart") -> str:
    return f"strftime(timezone('UTC', {quote(column)}), '%Y-%m')"


def _cost(column: str) -> str:
    return f"sum(CAST({quote(column)} AS DECIMAL(38, 10)))"


def _spend(p: Params) -> str:
    group, name = p.group()
    return f"""
WITH monthly AS (
    SELECT {_month()} AS BillingPeriod, {group} AS grp, BillingCurrency,
           {_cost('BilledCost')} AS BilledCost, {_cost('EffectiveCost')} AS EffectiveCost
    FROM focus GROUP BY ALL
)
SELECT m.BillingPeriod, m.grp AS {quote(name)}, m.BillingCurrency, m.BilledCost,
       m.EffectiveCost, p.BilledCost AS PreviousBilledCost,
       p.EffectiveCost AS PreviousEffectiveCost,
       m.BilledCost - coalesce(p.BilledCost, 0) AS BilledCostChange,
       m.EffectiveCost - coalesce(p.EffectiveCost, 0) AS EffectiveCostChange
FROM monthly m LEFT JOIN monthly p
  ON p.BillingPeriod = strftime(strptime(m.BillingPeriod, '%Y-%m') - INTERVAL 1 MONTH, '%Y-%m')
 AND p.grp IS NOT DISTINCT FROM m.grp AND p.BillingCurrency IS NOT DISTINCT FROM m.BillingCurrency
WHERE m.BillingPeriod BETWEEN {literal(p.start)} AND {literal(p.end)}
ORDER BY m.BillingPeriod, m.BilledCost DESC, m.grp NULLS LAST
"""


def _movers(p: Params) -> str:
    """The groups whose EffectiveCost changed most from the month before ``start`` to ``end``
    (both whole months): the largest absolute changes first."""
    group, name = p.group()
    return f"""
WITH monthly AS (
    SELECT {_month()} AS BillingPeriod, {group} AS grp, BillingCurrency,
           {_cost('EffectiveCost')} AS EffectiveCost
    FROM focus GROUP BY ALL
), before AS (
    SELECT * FROM monthly WHERE BillingPeriod = strftime(
        strptime({literal(p.start)}, '%Y-%m') - INTERVAL 1 MONTH, '%Y-%m')
), after AS (
    SELECT * FROM monthly WHERE BillingPeriod = {literal(p.end)}
)
SELECT coalesce(a.grp, b.grp) AS {quote(name)}, coalesce(a.BillingCurrency, b.BillingCurrency)
       AS BillingCurrency, coalesce(b.EffectiveCost, 0) AS PreviousEffectiveCost,
       coalesce(a.EffectiveCost, 0) AS EffectiveCost,
       coalesce(a.EffectiveCost, 0) - coalesce(b.EffectiveCost, 0) AS EffectiveCostChange
FROM after a FULL JOIN before b
  ON a.grp IS NOT DISTINCT FROM b.grp AND a.BillingCurrency = b.BillingCurrency
ORDER BY abs(EffectiveCostChange) DESC, 1 NULLS LAST
LIMIT {int(p.limit)}
"""


#: Every report, by name, in the order ``--list`` shows them.
REPORTS = {r.name: r for r in (
    Report(
        "spend", "Spend per month", "Reporting and analytics",
        ("verify-service-charges", "identify-sources-of-billed-cost"),
        "BilledCost and EffectiveCost per billing month and group (provider, billing account, "
        "sub-account, service category, service, region or a tag), each beside the previous "
        "month's and the change from it.",
        _spend),
    Report(
        "movers", "Top movers", "Anomaly management", (),
        "The groups whose EffectiveCost changed most between two billing months: the month "
        "before --from (or --month) and --to (or --month), the largest changes first (--limit).",
        _movers),
)}


def months(start: str | None, end: str | None, month: str | None) -> tuple[str, str] | None:
    """The months asked for: --month alone, or --from and --to (either alone means that
    month); None when none is given (the report's default: the latest month)."""
    for option, value in (("--month", month), ("--from", start), ("--to", end)):
        if value is not None and not _MONTH.match(value):
            raise ReportError(f"{option}: expected a month as YYYY-MM, got {value!r}")
    if month and (start or end):
        raise ReportError("give --month, or --from and --to, not both")
    if month:
        return month, month
    if start or end:
        first, last = start or end, end or start
        if first > last:
            raise ReportError(f"--from {first} is after --to {last}")
        return first, last
    return None


def dimension(by: str) -> str:
    """``by`` when it names a dimension, else a usage error listing them."""
    if by in DIMENSIONS or (by.startswith(TAG_PREFIX) and len(by) > len(TAG_PREFIX)):
        return by
    raise ReportError(f"--by: unknown dimension {by!r}; use one of "
                      f"{', '.join(DIMENSIONS)}, or tag:KEY")


def report(name: str) -> Report:
    try:
        return REPORTS[name]
    except KeyError:
        raise ReportError(f"unknown report {name!r}; 'finops report --list' lists them: "
                          f"{', '.join(REPORTS)}") from None


def billing_months(con) -> list[str]:
    """The billing months ``focus`` holds, oldest first."""
    return [m for (m,) in con.execute(
        f"SELECT DISTINCT {_month()} FROM focus WHERE BillingPeriodStart IS NOT NULL "
        "ORDER BY 1").fetchall()]


def run(con, rep: Report, params: Params) -> tuple[list[str], list[tuple]]:
    """(column names, rows) of a report over the connection's ``focus``."""
    cursor = con.execute(rep.sql(params))
    return [d[0] for d in cursor.description], cursor.fetchall()


def format_rows(columns: list[str], rows: list[tuple], fmt: str) -> str:
    """A report's rows as a table (cents), CSV or JSON (exact: a sum's decimal digits)."""
    import csv
    import io
    import json
    from decimal import Decimal

    from open_finops.core.tables import render

    def exact(value: object) -> object:
        if isinstance(value, Decimal):
            return format(value.normalize(), "f") if value else "0"
        return value

    if fmt == "json":
        return json.dumps([{c: float(v) if isinstance(v, Decimal) else v
                            for c, v in zip(columns, row)} for row in rows], indent=1)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[exact(v) for v in row] for row in rows])
        return out.getvalue().rstrip("\n")
    return render(columns, [[float(v) if isinstance(v, Decimal) else v for v in row]
                            for row in rows])
