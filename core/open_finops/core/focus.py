"""The ``focus`` view: one FOCUS 1.2 Cost and Usage dataset over every vendor in the database.

The contract between the vendor distributions and every reader of the database (queries,
Metabase), defined here only:

* :data:`COLUMNS` are the FOCUS columns of ``main.focus``, in its order, with their DuckDB
  types; a vendor's own columns follow them and are named ``x_<Name>``;
* each vendor keeps its rows, already mapped to FOCUS 1.2, in a view named
  :data:`VENDOR_VIEW` in its own schema ``open_finops_<vendor>`` (:func:`vendor_schema`),
  with every one of :data:`COLUMNS` (these names, these types) and then its ``x_`` columns;
  a vendor tells its rows apart by ProviderName;
* ``main.focus`` is every such view of the database, ``UNION ALL BY NAME``: the FOCUS
  columns first, then the union of the ``x_`` columns (NULL in the rows of a vendor that
  lacks one; an ``x_`` name means one thing, with one type, whichever vendor uses it).
  :func:`refresh` rebuilds it from what the database holds, using no vendor's code, so a
  database with rows of two vendors keeps a working ``focus`` when only one plugin is
  installed. A vendor calls it inside the transaction of every import, after replacing its
  own view, and never touches another vendor's schema.

A third vendor adds its rows by creating ``open_finops_<name>.focus`` with these columns and
calling :func:`refresh` in the same transaction (core/README.md says so too).
"""
from __future__ import annotations

from typing import Any

from open_finops.core.sql import quote
from open_finops.core.errors import FinopsError

#: The FOCUS 1.2 columns of ``main.focus`` in its order, with their DuckDB types.
COLUMNS = {
    "AvailabilityZone": "VARCHAR", "BilledCost": "DOUBLE", "BillingAccountId": "VARCHAR",
    "BillingAccountName": "VARCHAR", "BillingAccountType": "VARCHAR",
    "BillingCurrency": "VARCHAR", "BillingPeriodEnd": "TIMESTAMP WITH TIME ZONE",
    "BillingPeriodStart": "TIMESTAMP WITH TIME ZONE", "CapacityReservationId": "VARCHAR",
    "CapacityReservationStatus": "VARCHAR", "ChargeCategory": "VARCHAR",
    "ChargeClass": "VARCHAR", "ChargeDescription": "VARCHAR", "ChargeFrequency": "VARCHAR",
    "ChargePeriodEnd": "TIMESTAMP WITH TIME ZONE",
    "ChargePeriodStart": "TIMESTAMP WITH TIME ZONE",
    "CommitmentDiscountCategory": "VARCHAR", "CommitmentDiscountId": "VARCHAR",
    "CommitmentDiscountName": "VARCHAR", "CommitmentDiscountQuantity": "DOUBLE",
    "CommitmentDiscountStatus": "VARCHAR", "CommitmentDiscountType": "VARCHAR",
    "CommitmentDiscountUnit": "VARCHAR", "ConsumedQuantity": "DOUBLE",
    "ConsumedUnit": "VARCHAR", "ContractedCost": "DOUBLE", "ContractedUnitPrice": "DOUBLE",
    "EffectiveCost": "DOUBLE", "InvoiceId": "VARCHAR", "InvoiceIssuerName": "VARCHAR",
    "ListCost": "DOUBLE", "ListUnitPrice": "DOUBLE", "PricingCategory": "VARCHAR",
    "PricingCurrency": "VARCHAR", "PricingCurrencyContractedUnitPrice": "DOUBLE",
    "PricingCurrencyEffectiveCost": "DOUBLE", "PricingCurrencyListUnitPrice": "DOUBLE",
    "PricingQuantity": "DOUBLE", "PricingUnit": "VARCHAR",
    "ProviderName": "VARCHAR", "PublisherName": "VARCHAR", "RegionId": "VARCHAR",
    "RegionName": "VARCHAR", "ResourceId": "VARCHAR", "ResourceName": "VARCHAR",
    "ResourceType": "VARCHAR", "ServiceCategory": "VARCHAR", "ServiceName": "VARCHAR",
    "ServiceSubcategory": "VARCHAR", "SkuId": "VARCHAR", "SkuMeter": "VARCHAR",
    "SkuPriceDetails": "VARCHAR", "SkuPriceId": "VARCHAR", "SubAccountId": "VARCHAR",
    "SubAccountName": "VARCHAR", "SubAccountType": "VARCHAR", "Tags": "VARCHAR",
}
#: The name of each vendor's view of its own rows, in its schema.
VENDOR_VIEW = "focus"
#: Vendor schemas are this prefix and the vendor's name.
SCHEMA_PREFIX = "open_finops_"


def vendor_schema(vendor: str) -> str:
    """The schema of a vendor's tables and of its :data:`VENDOR_VIEW`: ``open_finops_aws``."""
    return SCHEMA_PREFIX + vendor


def vendors(con: Any) -> list[str]:
    """The vendors whose rows the database holds: each schema with a :data:`VENDOR_VIEW`."""
    return [schema[len(SCHEMA_PREFIX):] for (schema,) in con.execute(
        "SELECT schema_name FROM duckdb_views() WHERE database_name = current_database() "
        "AND view_name = ? AND starts_with(schema_name, ?) ORDER BY schema_name",
        [VENDOR_VIEW, SCHEMA_PREFIX]).fetchall()]


def stale(con: Any) -> list[str]:
    """Vendors with loaded rows but no :data:`VENDOR_VIEW`: a database an earlier release
    wrote (0.3.0's ``main.focus`` was AWS's own view), until that vendor imports once."""
    found = []
    for (schema,) in con.execute(
            "SELECT schema_name FROM duckdb_tables() WHERE database_name = current_database() "
            "AND table_name = 'loaded' AND starts_with(schema_name, ?) ORDER BY 1",
            [SCHEMA_PREFIX]).fetchall():
        vendor = schema[len(SCHEMA_PREFIX):]
        if vendor not in vendors(con) and con.execute(
                f"SELECT count(*) FROM {quote(schema)}.loaded "
                "WHERE table_name IS NOT NULL").fetchone()[0]:
            found.append(vendor)
    return found


def refresh(con: Any) -> list[str]:
    """(Re)create ``main.focus`` over every vendor's view in the database; returns the
    vendors it covers. Runs in the caller's transaction. Refuses (and so rolls the caller's
    import back) while a vendor's rows have no view yet, which ``main.focus`` would drop."""
    for vendor in stale(con):
        raise FinopsError(
            f"the {vendor} rows of this database were imported by an earlier release, and "
            f"focus would lose them: run an import of `finops {vendor}` first (a period "
            "already loaded is skipped, and its views are brought to this release)")
    names = vendors(con)
    if not names:
        empty = ", ".join(f"CAST(NULL AS {sql_type}) AS {quote(name)}"
                          for name, sql_type in COLUMNS.items())
        con.execute(f"CREATE OR REPLACE VIEW main.focus AS SELECT {empty} WHERE false")
        return names
    parts = []
    for vendor in names:
        view = f"{quote(vendor_schema(vendor))}.{quote(VENDOR_VIEW)}"
        has = [name for name, *_ in con.execute(f"DESCRIBE {view}").fetchall()]
        # A column missing from a vendor's view (one written by an older release, before
        # COLUMNS gained it) reads as NULL rather than breaking every vendor's rows.
        select = [f"CAST({quote(name) if name in has else 'NULL'} AS {sql_type}) "
                  f"AS {quote(name)}" for name, sql_type in COLUMNS.items()]
        select += [quote(name) for name in has if name not in COLUMNS]
        parts.append(f"SELECT {', '.join(select)} FROM {view}")
    con.execute("CREATE OR REPLACE VIEW main.focus AS\n" + "\nUNION ALL BY NAME\n".join(parts))
    return names
