"""The reports: the questions of the FinOps Foundation's FOCUS use-case library that the
``focus`` view answers, each defined once here (its SQL and what it means) for every reader:
``finops report`` prints them, ``finops report html`` charts them, and the published
database holds each as a view of its schema ``reports`` (:func:`views`).

Every report runs over ``focus`` (every provider in the database), for whole billing months
(``BillingPeriodStart`` in UTC; :class:`Params` ``start`` and ``end``, or every month when
they are None, as in the published views), and sums costs as DECIMAL(38, 10) so that totals
are exact to the cent and the same whatever the order of the rows. A report's rows are keyed
by FOCUS column names where there is one (``ProviderName``, ``ServiceName``,
``BilledCost``...); ``BillingPeriod`` is the billing month as YYYY-MM, ``ChargeDate`` a day
of ``ChargePeriodStart`` in UTC. Rates and shares are fractions (0.25 is 25%).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

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
    "availability-zone": "AvailabilityZone",
    "service-subcategory": "ServiceSubcategory",
    "charge-category": "ChargeCategory",
    "pricing-category": "PricingCategory",
    "charge-class": "ChargeClass",
    "charge-frequency": "ChargeFrequency",
    "charge-description": "ChargeDescription",
    "pricing-currency": "PricingCurrency",
    "commitment-type": "CommitmentDiscountType",
    "commitment-status": "CommitmentDiscountStatus",
    "commitment": "CommitmentDiscountId",
    "capacity-reservation": "CapacityReservationId",
    "capacity-reservation-status": "CapacityReservationStatus",
    "publisher": "PublisherName",
    "invoice-issuer": "InvoiceIssuerName",
    "invoice": "InvoiceId",
    "sku": "SkuId",
    "resource": "ResourceId",
}
#: ``--by tag:KEY`` groups by the value of one tag (NULL: the row has no such tag).
TAG_PREFIX = "tag:"
#: The schema of the published database that holds a view per report (:func:`views`).
SCHEMA = "reports"
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


#: The FOCUS 1.3 rows of a lake (open-finops-spark) under its LOCATION: one folder of Parquet
#: files per billing period and provider, each folder replaced whole by a rerun.
LAKE_FILES = "focus/billing_period=*/provider=*/*.parquet"


def lake_sql(location: str) -> str:
    """The SELECT of a lake's rows as DuckDB reads them (``focus`` of :func:`lake_connection`,
    a Metabase view): every file by name (providers' ``x_`` columns differ), with the rule over
    the whole dataset that no one build can hold alone (one ServiceCategory and
    ServiceSubcategory per ServiceName, the pair of the most rows: core.focus.conform_dataset)."""
    files = literal(f"{str(location).rstrip('/')}/{LAKE_FILES}")
    rows = f"read_parquet({files}, union_by_name = true, hive_partitioning = false)"
    picks = ("SELECT ServiceName, arg_max({'c': ServiceCategory, 's': ServiceSubcategory}, "
             "(n, ServiceCategory, ServiceSubcategory)) AS pick FROM (SELECT ServiceName, "
             "ServiceCategory, ServiceSubcategory, count(*) AS n FROM lake_rows GROUP BY ALL) "
             "GROUP BY ServiceName HAVING count(*) > 1")
    return (f"WITH lake_rows AS MATERIALIZED (SELECT * FROM {rows}), picks AS ({picks}) "
            "SELECT r.* REPLACE (CASE WHEN p.ServiceName IS NULL THEN r.ServiceCategory ELSE "
            "p.pick.c END AS ServiceCategory, CASE WHEN p.ServiceName IS NULL THEN "
            "r.ServiceSubcategory ELSE p.pick.s END AS ServiceSubcategory) "
            "FROM lake_rows r LEFT JOIN picks p ON r.ServiceName = p.ServiceName")


def lake_connection(location: str):
    """An in-memory DuckDB whose ``focus`` is the lake at ``location`` (a folder), in UTC."""
    import duckdb

    from pathlib import Path

    if not Path(location, "focus").is_dir():
        raise ReportError(f"no lake at {location}: build one with finops spark import")
    con = duckdb.connect(config={"autoinstall_known_extensions": False,
                                 "autoload_known_extensions": False})
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"CREATE VIEW focus AS {lake_sql(location)}")
    return con


class ReportError(FinopsError):
    """A usage error of ``finops report`` (exit 2)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, exit_code=2)


@dataclass(frozen=True)
class Params:
    """What a report is asked: whole billing months ``start``..``end`` (YYYY-MM, inclusive;
    None: every month), the dimension to group by (a key of :data:`DIMENSIONS`, or
    ``tag:KEY``), the rows of a top-N report (None: every row), the anomaly rule (a day above
    the mean of the ``window`` days before it by ``sigmas`` standard deviations) and the tag
    keys of the untagged report (empty: every key the rows carry)."""

    start: str | None = None
    end: str | None = None
    by: str = "provider"
    limit: int | None = 10
    sigmas: float = 3.0
    window: int = 14
    tags: tuple[str, ...] = ()
    where: tuple[tuple[str, str], ...] = ()  # (dimension, value): only the rows with it

    def group(self) -> str:
        """The SQL list of the values of ``by``'s dimensions (one or more, separated by
        commas): a report's SQL names it ``grp`` and selects :meth:`names` from it."""
        return "[" + ", ".join(_dimension(name)[0] for name in self.by.split(",")) + "]"

    def names(self, table: str = "") -> str:
        """The SELECT list of ``grp``'s values, each named after its dimension."""
        prefix = f"{table}." if table else ""
        return ", ".join(f"{prefix}grp[{i}] AS {quote(_dimension(name)[1])}"
                         for i, name in enumerate(self.by.split(","), 1))

    def source(self) -> str:
        """``focus``, or only its rows that ``where`` asks for."""
        if not self.where:
            return "focus"
        keep = " AND ".join(f"{_dimension(name)[0]} = {literal(value)}"
                            for name, value in self.where)
        return f"(SELECT * FROM focus WHERE {keep}) AS focus"

    def months(self, column: str = "BillingPeriod") -> str:
        """A condition on a YYYY-MM column: within start..end (TRUE for every month)."""
        if self.start is None:
            return "TRUE"
        return f"{quote(column)} BETWEEN {literal(self.start)} AND {literal(self.end)}"


@dataclass(frozen=True)
class Report:
    name: str
    title: str
    capability: str  # the FinOps capability of its use cases
    meaning: str  # what it answers, for people (--list, comments in the published database)
    sql: Callable[[Params], str] = field(repr=False)
    #: The --by dimensions it is published with (one view each); () when it takes no --by.
    published_by: tuple[str, ...] = ("provider",)
    #: The options it takes besides --by (when grouped), --where and the months.
    takes: tuple[str, ...] = ()

    @property
    def grouped(self) -> bool:
        return bool(self.published_by)

    @property
    def options(self) -> tuple[str, ...]:
        return (("--by",) if self.grouped else ()) + self.takes

    @property
    def use_cases(self) -> list[UseCase]:
        """The use cases of :data:`USE_CASES` it answers."""
        return [u for u in USE_CASES if u.report == self.name]

    def urls(self) -> list[str]:
        return [u.url for u in self.use_cases]


def _dimension(name: str) -> tuple[str, str]:
    """(SQL expression, output name) of one dimension: a FOCUS column or ``tag:KEY``."""
    if name.startswith(TAG_PREFIX):
        key = name[len(TAG_PREFIX):]
        return _tag_value("Tags", literal(key)), f"Tags.{key}"
    return quote(DIMENSIONS[name]), DIMENSIONS[name]


def _month(column: str = "BillingPeriodStart") -> str:
    return f"strftime(timezone('UTC', {quote(column)}), '%Y-%m')"


def charge_day(column: str = "ChargePeriodStart") -> str:
    """The day (UTC) of a charge: the ChargeDate of the daily reports."""
    return f"CAST(timezone('UTC', {quote(column)}) AS DATE)"


def _previous(month_sql: str) -> str:
    return f"strftime(strptime({month_sql}, '%Y-%m') - INTERVAL 1 MONTH, '%Y-%m')"


def _exact(column: str) -> str:
    return f"CAST({quote(column)} AS DECIMAL(38, 10))"


def _cost(column: str) -> str:
    return f"sum({_exact(column)})"


def _tag_value(tags: str, key_sql: str) -> str:
    """The value of the tag whose key is the SQL string ``key_sql`` (NULL: none)."""
    escaped = f"replace(replace({key_sql}, '\\', '\\\\'), '\"', '\\\"')"
    path = f"'$.\"' || {escaped} || '\"'"
    return f"NULLIF(json_extract_string({tags}, {path}), '')"


def _ratio(part: str, whole: str) -> str:
    return f"CAST({part} AS DOUBLE) / NULLIF(CAST({whole} AS DOUBLE), 0)"


def _limit(p: Params, rank: str = "Rank") -> str:
    return "TRUE" if p.limit is None else f"{quote(rank)} <= {int(p.limit)}"


def _spend(p: Params) -> str:
    return f"""
WITH monthly AS (
    SELECT {_month()} AS BillingPeriod, {p.group()} AS grp, BillingCurrency,
           {_cost('BilledCost')} AS BilledCost, {_cost('EffectiveCost')} AS EffectiveCost
    FROM {p.source()} GROUP BY ALL
)
SELECT m.BillingPeriod, {p.names('m')}, m.BillingCurrency, m.BilledCost,
       m.EffectiveCost, p.BilledCost AS PreviousBilledCost,
       p.EffectiveCost AS PreviousEffectiveCost,
       CASE WHEN h.BillingPeriod IS NOT NULL THEN m.BilledCost - coalesce(p.BilledCost, 0)
       END AS BilledCostChange,
       CASE WHEN h.BillingPeriod IS NOT NULL THEN m.EffectiveCost - coalesce(p.EffectiveCost, 0)
       END AS EffectiveCostChange
FROM monthly m
LEFT JOIN (SELECT DISTINCT BillingPeriod FROM monthly) h
  ON h.BillingPeriod = {_previous('m.BillingPeriod')}
LEFT JOIN monthly p
  ON p.BillingPeriod = {_previous('m.BillingPeriod')}
 AND p.grp IS NOT DISTINCT FROM m.grp AND p.BillingCurrency IS NOT DISTINCT FROM m.BillingCurrency
WHERE {p.months('BillingPeriod').replace('"BillingPeriod"', 'm.BillingPeriod')}
ORDER BY m.BillingPeriod, m.BilledCost DESC, m.grp NULLS LAST
"""


def _movers(p: Params) -> str:
    """Per month, the groups whose EffectiveCost changed most from the month before (a group
    of either month; 0 in the month it lacks), ranked by the size of the change."""
    return f"""
WITH monthly AS (
    SELECT {_month()} AS BillingPeriod, {p.group()} AS grp, BillingCurrency,
           {_cost('EffectiveCost')} AS EffectiveCost
    FROM {p.source()} GROUP BY ALL
), pairs AS (
    SELECT DISTINCT k.BillingPeriod, m.grp, m.BillingCurrency
    FROM (SELECT DISTINCT BillingPeriod FROM monthly) k JOIN monthly m
      ON m.BillingPeriod IN (k.BillingPeriod, {_previous('k.BillingPeriod')})
), changes AS (
    SELECT k.BillingPeriod, k.grp, k.BillingCurrency,
           coalesce(b.EffectiveCost, 0) AS PreviousEffectiveCost,
           coalesce(a.EffectiveCost, 0) AS EffectiveCost,
           coalesce(a.EffectiveCost, 0) - coalesce(b.EffectiveCost, 0) AS EffectiveCostChange
    FROM pairs k
    LEFT JOIN monthly a ON a.BillingPeriod = k.BillingPeriod
         AND a.grp IS NOT DISTINCT FROM k.grp AND a.BillingCurrency = k.BillingCurrency
    LEFT JOIN monthly b ON b.BillingPeriod = {_previous('k.BillingPeriod')}
         AND b.grp IS NOT DISTINCT FROM k.grp AND b.BillingCurrency = k.BillingCurrency
), ranked AS (
    SELECT *, row_number() OVER (PARTITION BY BillingPeriod, BillingCurrency
        ORDER BY abs(EffectiveCostChange) DESC, grp NULLS LAST) AS "Rank"
    FROM changes
)
SELECT BillingPeriod, {p.names()}, BillingCurrency, PreviousEffectiveCost,
       EffectiveCost, EffectiveCostChange, "Rank"
FROM ranked WHERE {p.months()} AND {_limit(p)}
ORDER BY BillingPeriod, BillingCurrency, "Rank"
"""


def _anomalies(p: Params) -> str:
    """Days whose EffectiveCost is above the mean of the ``window`` days before them by more
    than ``sigmas`` sample standard deviations, per group. Every day from the first day of
    the data to the last counts, a day without charges as 0; a day is judged only when all
    ``window`` days before it are in the data."""
    window = int(p.window)
    return f"""
WITH daily AS (
    SELECT {charge_day()} AS ChargeDate, {p.group()} AS grp, BillingCurrency,
           {_cost('EffectiveCost')} AS EffectiveCost
    FROM {p.source()} WHERE ChargePeriodStart IS NOT NULL GROUP BY ALL
), days AS (
    SELECT CAST(unnest(generate_series(CAST(min(ChargeDate) AS TIMESTAMP),
                                       CAST(max(ChargeDate) AS TIMESTAMP),
                                       INTERVAL 1 DAY)) AS DATE) AS ChargeDate
    FROM daily
), grid AS (
    SELECT d.ChargeDate, g.grp, g.BillingCurrency, coalesce(x.EffectiveCost, 0) AS EffectiveCost
    FROM days d CROSS JOIN (SELECT DISTINCT grp, BillingCurrency FROM daily) g
    LEFT JOIN daily x ON x.ChargeDate = d.ChargeDate AND x.grp IS NOT DISTINCT FROM g.grp
         AND x.BillingCurrency = g.BillingCurrency
), judged AS (
    SELECT *, avg(EffectiveCost) OVER w AS TrailingMean,
           stddev_samp(EffectiveCost) OVER w AS TrailingStddev, count(*) OVER w AS n
    FROM grid
    WINDOW w AS (PARTITION BY grp, BillingCurrency ORDER BY ChargeDate
                 ROWS BETWEEN {window} PRECEDING AND 1 PRECEDING)
)
SELECT ChargeDate, {p.names()}, BillingCurrency, EffectiveCost, TrailingMean,
       TrailingStddev, TrailingMean + {float(p.sigmas)!r} * TrailingStddev AS Threshold
FROM judged
WHERE n = {window} AND EffectiveCost > TrailingMean + {float(p.sigmas)!r} * TrailingStddev
  AND {p.months('ChargeMonth').replace('"ChargeMonth"', "strftime(ChargeDate, '%Y-%m')")}
ORDER BY ChargeDate, EffectiveCost - Threshold DESC, grp NULLS LAST
"""


def _untagged(p: Params) -> str:
    """Per month and tag key, the EffectiveCost of rows without that tag (or with an empty
    value), and its share; TagKey NULL: the rows with no tag at all."""
    if p.tags:
        keys = " UNION ALL ".join(f"SELECT {literal(k)} AS TagKey" for k in p.tags)
    else:
        keys = ("SELECT DISTINCT unnest(json_keys(Tags)) AS TagKey FROM costs "
                "WHERE Tags IS NOT NULL")
    return f"""
WITH costs AS (
    SELECT {_month()} AS BillingPeriod, BillingCurrency, Tags,
           {_exact('EffectiveCost')} AS EffectiveCost
    FROM {p.source()}
), chosen AS (
    SELECT * FROM costs WHERE {p.months()}
), keys AS ({keys}), per_key AS (
    SELECT c.BillingPeriod, k.TagKey, c.BillingCurrency,
           sum(c.EffectiveCost) FILTER (WHERE {_tag_value('c.Tags', 'k.TagKey')} IS NULL)
               AS UntaggedEffectiveCost,
           sum(c.EffectiveCost) AS EffectiveCost
    FROM chosen c CROSS JOIN keys k GROUP BY ALL
    UNION ALL
    SELECT BillingPeriod, NULL, BillingCurrency,
           sum(EffectiveCost) FILTER (WHERE Tags IS NULL OR Tags IN ('', '{{}}')),
           sum(EffectiveCost)
    FROM chosen GROUP BY ALL
)
SELECT BillingPeriod, TagKey, BillingCurrency,
       coalesce(UntaggedEffectiveCost, 0) AS UntaggedEffectiveCost, EffectiveCost,
       {_ratio('coalesce(UntaggedEffectiveCost, 0)', 'EffectiveCost')} AS UntaggedShare
FROM per_key
ORDER BY BillingPeriod, TagKey NULLS FIRST, BillingCurrency
"""


# A usage charge that is no correction of an earlier period.
_USAGE = "ChargeCategory = 'Usage' AND ChargeClass IS DISTINCT FROM 'Correction'"


def _coverage(p: Params) -> str:
    """The share of usage, at list prices, that commitment discounts covered."""
    covered = f"coalesce({_cost('ListCost')} FILTER (WHERE CommitmentDiscountStatus = 'Used'), 0)"
    return f"""
WITH monthly AS (
    SELECT {_month()} AS BillingPeriod, {p.group()} AS grp, BillingCurrency,
           {covered} AS CoveredListCost, {_cost('ListCost')} AS ListCost
    FROM {p.source()} WHERE {_USAGE} GROUP BY ALL
)
SELECT BillingPeriod, {p.names()}, BillingCurrency, CoveredListCost, ListCost,
       {_ratio('CoveredListCost', 'ListCost')} AS Coverage
FROM monthly WHERE {p.months()}
ORDER BY BillingPeriod, ListCost DESC, grp NULLS LAST
"""


def _utilization(p: Params) -> str:
    """Per commitment discount type: the amortized cost of what was used and of the unused
    rest, and the used share."""
    used = f"{_cost('EffectiveCost')} FILTER (WHERE CommitmentDiscountStatus = 'Used')"
    unused = f"{_cost('EffectiveCost')} FILTER (WHERE CommitmentDiscountStatus = 'Unused')"
    return f"""
SELECT {_month()} AS BillingPeriod, ProviderName, CommitmentDiscountType, BillingCurrency,
       count(DISTINCT CommitmentDiscountId) AS Commitments,
       coalesce({used}, 0) AS UsedCost, coalesce({unused}, 0) AS UnusedCost,
       {_ratio(f"coalesce({used}, 0)", f"coalesce({used}, 0) + coalesce({unused}, 0)")}
           AS Utilization
FROM {p.source()}
WHERE CommitmentDiscountId IS NOT NULL AND {_USAGE}
  AND {p.months('BillingPeriod').replace('"BillingPeriod"', _month())}
GROUP BY ALL ORDER BY BillingPeriod, ProviderName, CommitmentDiscountType
"""


def _savings(p: Params) -> str:
    """Usage at list prices, at contracted prices and as amortized, the savings from each,
    and the effective savings rate (list less effective, over list)."""
    return f"""
WITH monthly AS (
    SELECT {_month()} AS BillingPeriod, {p.group()} AS grp, BillingCurrency,
           {_cost('ListCost')} AS ListCost, {_cost('ContractedCost')} AS ContractedCost,
           {_cost('EffectiveCost')} AS EffectiveCost
    FROM {p.source()} WHERE {_USAGE} GROUP BY ALL
)
SELECT BillingPeriod, {p.names()}, BillingCurrency, ListCost, ContractedCost, EffectiveCost,
       CASE WHEN ListCost <> 0 THEN ListCost - EffectiveCost END AS ListSavings,
       ContractedCost - EffectiveCost AS ContractedSavings,
       {_ratio('ListCost - EffectiveCost', 'ListCost')} AS EffectiveSavingsRate
FROM monthly WHERE {p.months()}
ORDER BY BillingPeriod, ListCost DESC, grp NULLS LAST
"""


#: The kinds of the charges report and the rows of each (a row may be of two kinds: the
#: tax on a Marketplace product).
CHARGE_KINDS = {
    "Credit": "ChargeCategory = 'Credit'",
    "Adjustment": "ChargeCategory = 'Adjustment'",
    "Correction": "ChargeClass = 'Correction'",
    "Tax": "ChargeCategory = 'Tax'",
    "Marketplace": "PublisherName <> InvoiceIssuerName",
}


def _charges(p: Params) -> str:
    parts = "\nUNION ALL\n".join(
        f"SELECT {_month()} AS BillingPeriod, ProviderName, BillingCurrency, "
        f"{literal(kind)} AS Kind, count(*) AS Charges, {_cost('BilledCost')} AS BilledCost, "
        f"{_cost('EffectiveCost')} AS EffectiveCost FROM {p.source()} WHERE {where} GROUP BY ALL"
        for kind, where in CHARGE_KINDS.items())
    order = " ".join(f"WHEN {literal(k)} THEN {i}" for i, k in enumerate(CHARGE_KINDS))
    return f"""
SELECT * FROM ({parts}) WHERE {p.months()}
ORDER BY BillingPeriod, ProviderName, CASE Kind {order} END, BillingCurrency
"""


def _forecast(p: Params) -> str:
    """Each month's EffectiveCost so far, and at the month's end at its run rate. A
    provider's run rate is its cost so far over the days its data covers (from the 1st to
    its latest charge day of the month: providers deliver on their own schedules; every day
    of the month once the provider's data has a later month); a group's forecast is the sum
    of its providers'."""
    return f"""
WITH costs AS (
    SELECT {_month()} AS BillingPeriod, ProviderName, {p.group()} AS grp, BillingCurrency,
           {charge_day()} AS ChargeDate, {_exact('BilledCost')} AS BilledCost,
           {_exact('EffectiveCost')} AS EffectiveCost
    FROM {p.source()}
), covered AS (
    SELECT BillingPeriod, ProviderName,
           CAST(strptime(BillingPeriod, '%Y-%m') AS DATE) AS FirstDay,
           CAST(last_day(strptime(BillingPeriod, '%Y-%m')) AS DATE) AS LastDay,
           max(ChargeDate) AS Latest
    FROM costs GROUP BY ALL
), closed AS (
    -- a month is over for a provider whose data has a later month
    SELECT c.BillingPeriod, c.ProviderName,
           CASE WHEN EXISTS (SELECT 1 FROM costs l WHERE l.ProviderName IS NOT DISTINCT FROM
                             c.ProviderName AND l.BillingPeriod > c.BillingPeriod)
                THEN c.LastDay ELSE c.Latest END AS Latest, c.FirstDay, c.LastDay
    FROM covered c
), span AS (
    SELECT BillingPeriod, ProviderName,
           date_diff('day', FirstDay, least(greatest(Latest, FirstDay), LastDay)) + 1
               AS DaysElapsed,
           date_diff('day', FirstDay, LastDay) + 1 AS DaysInMonth
    FROM closed
), per_provider AS (
    SELECT c.BillingPeriod, c.grp, c.BillingCurrency, s.DaysElapsed, s.DaysInMonth,
           sum(c.BilledCost) AS BilledCost, sum(c.EffectiveCost) AS EffectiveCost
    FROM costs c JOIN span s ON s.BillingPeriod = c.BillingPeriod
         AND s.ProviderName IS NOT DISTINCT FROM c.ProviderName
    GROUP BY c.BillingPeriod, c.ProviderName, c.grp, c.BillingCurrency, s.DaysElapsed,
             s.DaysInMonth
), totals AS (
    SELECT BillingPeriod, grp, BillingCurrency, sum(BilledCost) AS BilledCost,
           sum(EffectiveCost) AS EffectiveCost, min(DaysElapsed) AS DaysElapsed,
           max(DaysInMonth) AS DaysInMonth,
           sum(CAST(EffectiveCost AS DOUBLE) / DaysElapsed) AS DailyRunRate,
           sum(CAST(EffectiveCost AS DOUBLE) / DaysElapsed * DaysInMonth)
               AS ForecastEffectiveCost
    FROM per_provider GROUP BY ALL
)
SELECT BillingPeriod, {p.names()}, BillingCurrency, BilledCost, EffectiveCost, DaysElapsed,
       DaysInMonth, DailyRunRate, ForecastEffectiveCost
FROM totals WHERE {p.months()}
ORDER BY BillingPeriod, EffectiveCost DESC, grp NULLS LAST
"""


def _usage(p: Params) -> str:
    """Quantities and unit costs of usage charges: per month, group and unit,
    ConsumedQuantity and PricingQuantity, with the costs and the cost per priced unit."""
    return f"""
WITH monthly AS (
    SELECT {_month()} AS BillingPeriod, {p.group()} AS grp, ConsumedUnit, PricingUnit,
           BillingCurrency,
           sum(CAST(ConsumedQuantity AS DECIMAL(38, 10))) AS ConsumedQuantity,
           sum(CAST(PricingQuantity AS DECIMAL(38, 10))) AS PricingQuantity,
           {_cost('ListCost')} AS ListCost, {_cost('EffectiveCost')} AS EffectiveCost
    FROM {p.source()}
    WHERE ChargeCategory = 'Usage' AND (ConsumedUnit IS NOT NULL OR PricingUnit IS NOT NULL)
    GROUP BY ALL
)
SELECT BillingPeriod, {p.names()}, ConsumedUnit, ConsumedQuantity, PricingUnit,
       PricingQuantity, BillingCurrency, ListCost, EffectiveCost,
       {_ratio('EffectiveCost', 'PricingQuantity')} AS EffectiveCostPerPricingUnit
FROM monthly WHERE {p.months()}
ORDER BY BillingPeriod, EffectiveCost DESC, grp NULLS LAST, ConsumedUnit, PricingUnit
"""


def _pricing_currency(p: Params) -> str:
    """Costs in the currency of the price (a provider's virtual currency, or the currency
    the price was set in) beside the billing currency's."""
    return f"""
WITH monthly AS (
    SELECT {_month()} AS BillingPeriod, {p.group()} AS grp, PricingCurrency, BillingCurrency,
           {_cost('PricingCurrencyEffectiveCost')} AS PricingCurrencyEffectiveCost,
           {_cost('EffectiveCost')} AS EffectiveCost, {_cost('BilledCost')} AS BilledCost
    FROM {p.source()} GROUP BY ALL
)
SELECT BillingPeriod, {p.names()}, PricingCurrency, PricingCurrencyEffectiveCost,
       BillingCurrency, EffectiveCost, BilledCost
FROM monthly WHERE {p.months()}
ORDER BY BillingPeriod, grp NULLS LAST, PricingCurrency, BillingCurrency
"""


def _accounts(p: Params) -> str:
    """The billing accounts and sub-accounts: their names and types, and what each billed."""
    return f"""
SELECT {_month()} AS BillingPeriod, ProviderName, BillingAccountId, BillingAccountName,
       BillingAccountType, SubAccountId, SubAccountName, SubAccountType, BillingCurrency,
       count(*) AS Charges, {_cost('BilledCost')} AS BilledCost,
       {_cost('EffectiveCost')} AS EffectiveCost
FROM {p.source()}
WHERE {p.months('BillingPeriod').replace('"BillingPeriod"', _month())}
GROUP BY ALL
ORDER BY BillingPeriod, ProviderName, BillingAccountId, SubAccountId NULLS FIRST
"""


#: Every report, by name, in the order ``--list`` shows them.
REPORTS = {r.name: r for r in (
    Report(
        "spend", "Spend per month", "Reporting and analytics",
        "BilledCost and EffectiveCost per billing month and group (provider, billing account, "
        "sub-account, service category, service, region or a tag), each beside the previous "
        "month's and the change from it (a group new this month changes from 0; no change "
        "where the data has no previous month).",
        _spend, ("provider", "billing-account", "sub-account", "service-category", "service",
                 "region", "charge-category", "commitment-type", "publisher")),
    Report(
        "movers", "Top movers", "Anomaly management",
        "Per billing month, the groups whose EffectiveCost changed most from the month "
        "before (a group new or gone counts from 0), ranked by the size of the change "
        "(--limit rows a month and currency).",
        _movers, ("provider", "service", "sub-account"), ("--limit",)),
    Report(
        "anomalies", "Daily cost anomalies", "Anomaly management",
        "Days whose EffectiveCost is above the mean of the --window days before them (14) "
        "by more than --sigmas sample standard deviations (3), per group; every day of the "
        "data counts, a day without charges as 0.",
        _anomalies, ("provider", "service"), ("--sigmas", "--window")),
    Report(
        "untagged", "Untagged spend", "Allocation",
        "Per billing month and tag key (--tag, repeatable; the core setting tag_keys; else "
        "every key found), the EffectiveCost of rows without that tag and its share; a "
        "TagKey of null stands for rows with no tag at all.",
        _untagged, (), ("--tag",)),
    Report(
        "coverage", "Commitment discount coverage", "Rate optimization",
        "The share of usage, at list prices (ListCost), that commitment discounts covered "
        "(CommitmentDiscountStatus Used), per billing month and group.",
        _coverage, ("provider", "service")),
    Report(
        "utilization", "Commitment discount utilization", "Rate optimization",
        "Per billing month, provider and commitment discount type: the amortized cost "
        "(EffectiveCost) of the commitment used and of the unused rest, and the used share.",
        _utilization, ()),
    Report(
        "savings", "Savings and effective savings rate", "Rate optimization",
        "Usage at list (ListCost), contracted (ContractedCost) and amortized (EffectiveCost) "
        "cost, the savings against list and against contracted prices, and the effective "
        "savings rate: (ListCost - EffectiveCost) / ListCost (null where no list price is "
        "given: ListCost 0).",
        _savings, ("provider", "service")),
    Report(
        "charges", "Credits, adjustments, taxes and Marketplace", "Invoicing and chargeback",
        "Per billing month and provider, the rows, BilledCost and EffectiveCost of credits, "
        "adjustments (refunds), corrections of earlier periods, taxes, and Marketplace "
        "products (a publisher other than the invoice issuer).",
        _charges, ()),
    Report(
        "forecast", "Month-end forecast", "Forecasting",
        "Each billing month's EffectiveCost so far and at the month's end at its run rate: "
        "per provider, the cost over the days from the 1st to its latest charge day (every "
        "day once its data has a later month), times the days of the month (DaysElapsed: "
        "the fewest of the group's providers).",
        _forecast, ("provider", "service")),
    Report(
        "usage", "Usage and unit costs", "Unit economics",
        "Per billing month, group and unit, of usage charges: ConsumedQuantity, "
        "PricingQuantity, ListCost and EffectiveCost, and the EffectiveCost per priced unit "
        "(quantities of different units are never added).",
        _usage, ("service", "sku")),
    Report(
        "pricing-currency", "Costs in the pricing currency", "Allocation",
        "Per billing month and group: PricingCurrencyEffectiveCost in each PricingCurrency "
        "(a provider's virtual currency, credits or tokens, or the currency of the price) "
        "beside EffectiveCost and BilledCost in the billing currency.",
        _pricing_currency, ("service",)),
    Report(
        "accounts", "Billing accounts and sub-accounts", "Invoicing and chargeback",
        "Per billing month, every billing account and sub-account with its name and type, "
        "its charges, BilledCost and EffectiveCost.",
        _accounts, ()),
)}


@dataclass(frozen=True)
class UseCase:
    """A use case of the FOCUS 1.2 library: the ``finops report`` arguments that answer it,
    or None and why our data cannot."""

    slug: str
    title: str
    capability: str
    answer: str | None  # e.g. "spend --by service-category"
    note: str = ""

    @property
    def url(self) -> str:
        return LIBRARY + self.slug + "/"

    @property
    def report(self) -> str | None:
        return self.answer.split()[0] if self.answer else None


_A, _AM, _B, _DI, _F = ("Allocation", "Anomaly management", "Budgeting", "Data ingestion",
                        "Forecasting")
_IC, _PE, _PG, _RO, _RA = ("Invoicing and chargeback", "Planning and estimating",
                           "Policy and governance", "Rate optimization",
                           "Reporting and analytics")
_UE, _WO = "Unit economics", "Workload optimization"
_NO_VIRTUAL = ("no provider of ours prices in a virtual currency: the rows are the billing "
               "currency's")
_NO_SKU_DETAILS = ("needs SkuPriceDetails keys (CoreCount, InstanceSeries) that neither "
                   "vendor maps yet (SkuPriceDetails is NULL)")

#: The FOCUS 1.2 use-case library (53 use cases, focus.finops.org/use-cases), each with the
#: report that answers it. Capabilities as the library groups them.
USE_CASES = (
    UseCase("allocate-application-multi-currency",
            "Allocate multi-currency charges per application", _A,
            "spend --by tag:Application,billing-account"),
    UseCase("analyze-effective-cost-by-pricing-currency",
            "Analyze effective cost by pricing currency", _A,
            "pricing-currency --by provider,publisher,service", _NO_VIRTUAL),
    UseCase("analyze-purchase-of-virtual-currency", "Analyze purchase of virtual currency", _A,
            "pricing-currency --by provider,charge-description --where charge-category=Purchase",
            _NO_VIRTUAL),
    UseCase("analyze-tag-coverage", "Analyze tag coverage", _A, "untagged"),
    UseCase("corrections-by-subaccount",
            "Report corrections by subaccount for a previously invoiced billing period", _A,
            "spend --by sub-account,service-category --where charge-class=Correction"),
    UseCase("determine-target-of-virtual-currency-usage",
            "Determine target of virtual currency usage", _A,
            "pricing-currency --by service,charge-description", _NO_VIRTUAL),
    UseCase("identify-sources-of-billed-cost", "Identify sources of billed cost", _A,
            "spend --by invoice-issuer,publisher,invoice"),
    UseCase("verify-accuracy-of-provider-invoices-aka-invoice-reconciliation",
            "Verify accuracy of provider invoices aka invoice reconciliation", _A,
            "spend --by provider,invoice", "the invoice itself is the provider's document; "
            "InvoiceId is empty where an export does not carry it"),
    UseCase("analyze-service-costs-by-region", "Analyze service costs by region", _AM,
            "spend --by service,region"),
    UseCase("compare-usage-month-over-month", "Compare resource usage month over month", _AM,
            "usage --by resource,sku"),
    UseCase("costs-service-name", "Analyze costs by service name", _AM,
            "spend --by service,sub-account", "--where service=NAME narrows to one service"),
    UseCase("daily-anomaly-region",
            "Identify anomalous daily spending by subaccount and region", _AM,
            "anomalies --by sub-account,region"),
    UseCase("daily-anomaly-services",
            "Identify anomalous daily spending by subaccount, region, and service", _AM,
            "anomalies --by sub-account,region,service"),
    UseCase("daily-anomaly-subaccount", "Identify anomalous daily spending by subaccount", _AM,
            "anomalies --by sub-account"),
    UseCase("identify-unused-capacity-reservations", "Identify unused capacity reservations",
            _AM, "spend --by capacity-reservation --where capacity-reservation-status=Unused"),
    UseCase("calculate-consumption-of-virtual-currency-within-a-billing-period",
            "Calculate consumption of virtual currency within a billing period", _B,
            "pricing-currency --by provider --where charge-category=Usage", _NO_VIRTUAL),
    UseCase("compare-billed-budget", "Compare billed cost per subaccount to budget", _B,
            "spend --by sub-account", "the actuals; budgets are not FOCUS data"),
    UseCase("update-application-budgets", "Update budgets for each application", _B,
            "spend --by tag:Application", "the actuals; budgets are not FOCUS data"),
    UseCase("update-budgets", "Update budgets with billed costs", _B, "spend --by provider",
            "the actuals; budgets are not FOCUS data"),
    UseCase("verify-discounts-applied",
            "Verify discount accuracy for previously invoiced billing period", _DI,
            "savings --by billing-account"),
    UseCase("verify-invoices", "Verify accuracy of provider invoices", _DI,
            "spend --by billing-account"),
    UseCase("verify-service-charges",
            "Verify accuracy of services charges across providers", _DI,
            "spend --by billing-account,service"),
    UseCase("calculate-average-rate-of-a-component-resource",
            "Calculate average rate of a component resource", _F, None, _NO_SKU_DETAILS),
    UseCase("forecast-amortized-costs",
            "Forecast amortized costs month over month based on historical trends", _F,
            "forecast --by service"),
    UseCase("forecast-cashflow",
            "Forecast cashflow month over month based on historical trends by service", _F,
            "forecast --by service-category,service"),
    UseCase("forecast-costs", "Get historical usage and rates to enable cost forecasting",
            _F, "usage --by service,region"),
    UseCase("understand-the-billing-account-or-sub-account-entity",
            "Understand the billing account or sub account entity", _IC, "accounts"),
    UseCase("determine-contracted-savings-by-virtual-currency",
            "Determine contracted savings by virtual currency", _PE, None,
            "compares unit prices per virtual currency; " + _NO_VIRTUAL),
    UseCase("effective-cost-compute", "Report effective cost of compute", _PE,
            "spend --by sub-account,commitment-type --where service-category=Compute"),
    UseCase("quantify-usage-of-a-component-resource",
            "Quantify usage of a component resource", _PE, None, _NO_SKU_DETAILS),
    UseCase("report-subaccount-regions", "Report subaccounts by region", _PG,
            "spend --by sub-account,region"),
    UseCase("commitment-discount-purchases", "Report commitment discount purchases", _RO,
            "spend --by commitment-type,commitment --where charge-category=Purchase"),
    UseCase("identify-unused-commitments", "Identify unused commitments", _RO,
            "spend --by commitment-type,commitment --where commitment-status=Unused",
            "utilization gives the used share per commitment type"),
    UseCase("recurring-commitment-charges",
            "Report recurring charges for commitment-based discounts over a period", _RO,
            "spend --by commitment --where charge-frequency=Recurring"),
    UseCase("analyze-capacity-reservations-on-compute-costs",
            "Analyze capacity reservations on compute costs", _RA,
            "spend --by capacity-reservation,capacity-reservation-status "
            "--where service-category=Compute"),
    UseCase("analyze-the-different-metered-costs-for-a-particular-sku",
            "Analyze the different metered costs for a particular SKU", _RA,
            "usage --by sku,charge-description", "--where sku=ID narrows to one SKU"),
    UseCase("application-cost", "Report application cost month over month", _RA,
            "spend --by tag:Application,service"),
    UseCase("calculate-unit-economics", "Calculate unit economics", _RA,
            "usage --by service", "cost per unit of usage; cost per customer or order needs "
                                  "business data outside FOCUS"),
    UseCase("costs-service-category", "Report costs by service category", _RA,
            "spend --by service-category"),
    UseCase("effective-savings-rate", "Determine Effective Savings Rate", _RA,
            "savings --by provider"),
    UseCase("effective-savings-rate-services", "Determine Effective Savings Rate by Service",
            _RA, "savings --by provider,service"),
    UseCase("marketplace-vendors-costs", "Analyze marketplace vendors costs", _RA,
            "charges", "spend --by publisher gives every publisher"),
    UseCase("report-corrections",
            "Report corrections for a previously invoiced billing period", _RA, "charges"),
    UseCase("report-costs-by-service-category-and-subcategory",
            "Report costs by service category and subcategory", _RA,
            "spend --by service-category,service-subcategory"),
    UseCase("report-service-costs-by-providers-subaccount",
            "Report service costs by providers subaccount", _RA,
            "spend --by provider,sub-account,service"),
    UseCase("report-spending-across-billing-periods-by-service-category",
            "Report spending across billing periods for a provider by service category", _RA,
            "spend --by billing-account,service-category"),
    UseCase("resource-costs-sku", "Analyze resource costs by SKU", _RA, "usage --by sku"),
    UseCase("service-costs-month-over-month", "Analyze service costs month over month", _RA,
            "movers --by service"),
    UseCase("service-costs-subaccount", "Analyze service costs by subaccount", _RA,
            "spend --by sub-account,service"),
    UseCase("analyze-credit-memos", "Analyze credit memos", _UE, "charges",
            "credits per provider; spend --by invoice --where charge-category=Credit per "
            "invoice"),
    UseCase("cost-compute-subaccount", "Analyze cost per compute service for a subaccount",
            _WO, "usage --by sub-account,resource --where service-category=Compute"),
    UseCase("costs-by-availability-zone",
            "Analyze costs by availability zone for a subaccount", _WO,
            "spend --by sub-account,region,availability-zone"),
    UseCase("resource-component-costs", "Analyze costs of components of a resource", _WO,
            "spend --by resource,charge-description", "--where resource=ID narrows to one"),
)


def months(start: str | None, end: str | None, month: str | None
           ) -> tuple[str | None, str | None]:
    """The months asked for: --month alone, or --from and --to; None for an end not given
    (--from alone: to the latest month; --to alone: from the first; neither: the latest
    month only, the caller's default)."""
    for option, value in (("--month", month), ("--from", start), ("--to", end)):
        if value is not None and not _MONTH.match(value):
            raise ReportError(f"{option}: expected a month as YYYY-MM, got {value!r}")
    if month and (start or end):
        raise ReportError("give --month, or --from and --to, not both")
    if month:
        return month, month
    if start and end and start > end:
        raise ReportError(f"--from {start} is after --to {end}")
    return start, end


def dimension(by: str, option: str = "--by") -> str:
    """``by`` when it names dimensions (separated by commas), else a usage error listing
    them."""
    names = by.split(",")
    for name in names:
        if names.count(name) > 1:
            raise ReportError(f"{option}: {name!r} is given twice")
        if not (name in DIMENSIONS or (name.startswith(TAG_PREFIX)
                                       and len(name) > len(TAG_PREFIX))):
            raise ReportError(f"{option}: unknown dimension {name!r}; use one of "
                              f"{', '.join(DIMENSIONS)}, or tag:KEY")
    return by


def condition(text: str) -> tuple[str, str]:
    """``--where DIMENSION=VALUE`` as (dimension, value)."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise ReportError(f"--where: expected DIMENSION=VALUE, got {text!r}; for example "
                          "--where service-category=Compute")
    dimension(name, "--where")
    return name, value


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


def view_name(rep: Report, by: str | None = None) -> str:
    """The name of a report's view in :data:`SCHEMA`: ``spend_by_service``, ``untagged``."""
    name = rep.name if by is None else f"{rep.name}_by_{by}"
    return name.replace("-", "_")


def views() -> list[tuple[str, str, str]]:
    """(name, SQL, comment) of every view of :data:`SCHEMA` in the published database: each
    report over every month, once per dimension it is published with, every row."""
    found = []
    for rep in REPORTS.values():
        for by in rep.published_by or (None,):
            params = replace(Params(), by=by or "provider", limit=None)
            grouped = f" Grouped by {DIMENSIONS[by]}." if by else ""
            settings = {"--limit": "every row", "--sigmas": f"{params.sigmas:g}",
                        "--window": f"{params.window} days", "--tag": "every key found"}
            here = ", ".join(f"{o} {settings[o]}" for o in rep.takes)
            comment = f"{rep.title}: {rep.meaning}{grouped}"
            if here:
                comment += f" In this view: {here}."
            if rep.use_cases:
                comment += (f" It answers {len(rep.use_cases)} FOCUS use case(s) ('finops "
                            f"report --use-cases' lists them), e.g. {rep.urls()[0]}")
            found.append((view_name(rep, by), rep.sql(params).strip(), comment))
    return found


def format_rows(columns: list[str], rows: list[tuple], fmt: str) -> str:
    """A report's rows as a table (cents), CSV or JSON (numbers exact: a sum's own decimal
    digits; dates as YYYY-MM-DD)."""
    import csv
    import io
    import json
    from datetime import date
    from decimal import Decimal

    def exact(value: object) -> object:
        if isinstance(value, Decimal):
            return format(value.normalize(), "f") if value else "0"
        if isinstance(value, float) and value == value and abs(value) != float("inf"):
            return format(Decimal(repr(value)), "f")  # its shortest digits, no exponent
        if isinstance(value, date):
            return value.isoformat()
        return value

    if fmt == "json":
        def number(value: object) -> str:
            if isinstance(value, float) and (value != value or abs(value) == float("inf")):
                return "null"
            if isinstance(value, (Decimal, float)):
                return str(exact(value))  # a JSON number with every digit of the sum
            return json.dumps(exact(value))
        objects = ["{" + ", ".join(f"{json.dumps(c)}: {number(v)}" for c, v in zip(columns, row))
                   + "}" for row in rows]
        return "[" + ",\n ".join(objects) + "]"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[exact(v) for v in row] for row in rows])
        return out.getvalue().rstrip("\n")
    from open_finops.core.tables import render
    return render(columns, [[float(v) if isinstance(v, Decimal) else
                             v if isinstance(v, float) else exact(v) for v in row]
                            for row in rows])
