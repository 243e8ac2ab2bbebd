"""FOCUS in the database, owned here for every vendor: the columns of each supported version,
the rules that hold for every provider, and the views over every vendor's rows.

The contract between the vendor distributions and every reader of the database (queries,
Metabase), defined here only:

* a vendor keeps its rows, mapped to the FOCUS 1.2 columns :data:`COLUMNS` (these names,
  these types; the 1.3 columns of :data:`ADDED_1_3` too where its data has them), in a view
  named :data:`VENDOR_VIEW` in its own schema ``open_finops_<vendor>`` (:func:`vendor_schema`),
  then its own columns, named ``x_<Name>`` (those of :data:`X_COLUMNS` mean the same for
  every vendor); a vendor tells its rows apart by ProviderName. A vendor supplies only the
  mapping of its own columns: :func:`conform` applies the rules that hold for every provider;
* ``main.focus`` is the FOCUS 1.3 Cost and Usage dataset: every vendor's view, ``UNION ALL
  BY NAME`` (a vendor that lacks a column reads NULL), held to :func:`conform`; then the
  union of the ``x_`` columns. ``main.focus_1_2`` is the same rows in FOCUS 1.2's columns for
  readers pinned to 1.2 (:data:`VIEWS`), and ``main.focus_contract_commitment`` the FOCUS 1.3
  Contract Commitment dataset (:data:`CONTRACT_COMMITMENT`) of the commitments the rows
  purchase. :func:`refresh` rebuilds them from what the database holds,
  using no vendor's code, so a database with rows of two vendors keeps working views when
  only one plugin is installed. A vendor calls it inside the transaction of every import,
  after replacing its own views, and never touches another vendor's schema;
* the rules over the whole dataset (one ServiceCategory and ServiceSubcategory per
  ServiceName) hold in the copy readers open (:func:`conform_dataset`, run by
  open_finops.core.store when it publishes).

A third vendor adds its rows by creating ``open_finops_<name>.focus`` with these columns and
calling :func:`refresh` in the same transaction (core/README.md says so too).
"""
from __future__ import annotations

import re
from typing import Any

from open_finops.core.sql import quote
from open_finops.core.errors import FinopsError

#: The FOCUS 1.2 Cost and Usage columns, in ``main.focus_1_2``'s order, with their DuckDB types:
#: what every vendor maps.
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
COLUMNS_1_2 = COLUMNS
#: What FOCUS 1.3 adds to the Cost and Usage dataset (ProviderName and PublisherName stay, as
#: deprecated columns). The allocation columns are NULL until the stack allocates: no
#: provider's split cost allocation is imported yet. ContractApplied (a JSON object) is filled
#: where a vendor's data names the contract commitment a charge draws down; ServiceProviderName
#: and HostProviderName are derived by :func:`conform` where a vendor does not map them.
ADDED_1_3 = {
    "AllocatedMethodDetails": "VARCHAR", "AllocatedMethodId": "VARCHAR",
    "AllocatedResourceId": "VARCHAR", "AllocatedResourceName": "VARCHAR",
    "AllocatedTags": "VARCHAR", "ContractApplied": "VARCHAR", "HostProviderName": "VARCHAR",
    "ServiceProviderName": "VARCHAR",
}
#: The FOCUS 1.3 Cost and Usage columns, in ``main.focus``'s order.
COLUMNS_1_3 = dict(sorted({**COLUMNS_1_2, **ADDED_1_3}.items()))
#: The view of each supported FOCUS version's Cost and Usage dataset, and its columns.
VIEWS = {"1.3": ("focus", COLUMNS_1_3), "1.2": ("focus_1_2", COLUMNS_1_2)}
#: The FOCUS 1.3 Contract Commitment dataset: ``main.focus_contract_commitment``.
CONTRACT_COMMITMENT = {
    "BillingCurrency": "VARCHAR", "ContractCommitmentCategory": "VARCHAR",
    "ContractCommitmentCost": "DOUBLE", "ContractCommitmentDescription": "VARCHAR",
    "ContractCommitmentId": "VARCHAR", "ContractCommitmentPeriodEnd": "TIMESTAMP WITH TIME ZONE",
    "ContractCommitmentPeriodStart": "TIMESTAMP WITH TIME ZONE",
    "ContractCommitmentQuantity": "DOUBLE", "ContractCommitmentType": "VARCHAR",
    "ContractCommitmentUnit": "VARCHAR", "ContractId": "VARCHAR",
    "ContractPeriodEnd": "TIMESTAMP WITH TIME ZONE",
    "ContractPeriodStart": "TIMESTAMP WITH TIME ZONE",
}
#: The x_ columns every vendor's rows carry, meaning the same for each: the export and billing
#: period a row was imported from, and whether it is the unused part of a commitment (a row
#: FOCUS adds; no line item of the bill).
X_COLUMNS = {"x_ExportName": "VARCHAR", "x_BillingPeriod": "VARCHAR",
             "x_UnusedCommitment": "BOOLEAN"}
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


#: The rules every provider's rows are held to, FOCUS 1.3 and 1.2 alike: column -> its
#: expression over the vendors' columns (the same name reads the vendor's value). Each quotes
#: the text it follows.
RULES = {
    # "SkuPriceId MUST be null when ChargeCategory is "Tax"" and "MUST NOT be null when
    # ChargeCategory is "Usage" or "Purchase" and ChargeClass is not "Correction"" (1.3);
    # "SkuPriceId MAY equal SkuId". Credits and adjustments have no price of their own here.
    "SkuPriceId": "CASE WHEN ChargeCategory IN ('Usage', 'Purchase') "
                  "THEN coalesce(SkuPriceId, SkuId) END",
    "SkuId": "CASE WHEN ChargeCategory IS DISTINCT FROM 'Tax' THEN SkuId END",
    # Prices and quantities belong to a SKU price: "ListUnitPrice MUST be null when SkuPriceId
    # is null" (likewise ContractedUnitPrice, the pricing-currency prices, PricingQuantity,
    # PricingCategory and ConsumedQuantity, 1.3).
    # "ListCost MUST equal the product of ListUnitPrice and PricingQuantity" (1.3): a cost is
    # the bill's, so a rate the provider rounded (CUR's Lambda rate 0.0000166667 against
    # its cost rounded to 6 decimals) gives way to the cost over the quantity.
    "ListUnitPrice": "CASE WHEN _sku_price IS NOT NULL THEN _price(ListUnitPrice, ListCost, "
                     "_quantity) END",
    "ContractedUnitPrice": "CASE WHEN _sku_price IS NOT NULL THEN _price(ContractedUnitPrice, "
                           "ContractedCost, _quantity) END",
    "PricingCurrencyListUnitPrice": "CASE WHEN _sku_price IS NOT NULL THEN coalesce("
                                    "PricingCurrencyListUnitPrice, CASE WHEN PricingCurrency "
                                    "= BillingCurrency THEN _price(ListUnitPrice, ListCost, "
                                    "_quantity) END) END",
    "PricingCurrencyContractedUnitPrice": "CASE WHEN _sku_price IS NOT NULL THEN coalesce("
                                          "PricingCurrencyContractedUnitPrice, CASE WHEN "
                                          "PricingCurrency = BillingCurrency THEN _price("
                                          "ContractedUnitPrice, ContractedCost, _quantity) "
                                          "END) END",
    # Usage and purchases keep them where a provider gives no SKU: "PricingQuantity MUST NOT
    # be null when ChargeCategory is "Usage" or "Purchase" and ChargeClass is not
    # "Correction"" (1.2 and 1.3), whose SkuPriceId "MUST NOT be null" either.
    "PricingQuantity": "CASE WHEN (_sku_price IS NOT NULL OR _priced) AND PricingUnit IS NOT "
                       "NULL THEN _quantity END",
    "PricingUnit": "CASE WHEN (_sku_price IS NOT NULL OR _priced) AND PricingQuantity IS NOT "
                   "NULL THEN PricingUnit END",
    # "PricingCategory MUST NOT be null when ChargeCategory is "Usage" or "Purchase" and
    # ChargeClass is not "Correction"", one of the allowed values.
    "PricingCategory": "CASE WHEN _sku_price IS NULL AND NOT _priced THEN NULL WHEN "
                       "PricingCategory IN ('Standard', 'Committed', 'Dynamic', 'Other') THEN "
                       "PricingCategory WHEN ChargeCategory IN ('Usage', 'Purchase') THEN "
                       "'Standard' END",
    # "ConsumedQuantity MUST be null when ChargeCategory is not "Usage", or when ChargeCategory
    # is "Usage" and CommitmentDiscountStatus is "Unused"" and with its unit.
    "ConsumedQuantity": "CASE WHEN _consumed AND ConsumedUnit IS NOT NULL "
                        "THEN ConsumedQuantity END",
    "ConsumedUnit": "CASE WHEN _consumed AND ConsumedQuantity IS NOT NULL THEN ConsumedUnit END",
    # "CommitmentDiscountStatus MUST be null when CommitmentDiscountId is null" and "MUST NOT
    # be null when CommitmentDiscountId is not null and Charge Category is "Usage"".
    "CommitmentDiscountStatus": "CASE WHEN CommitmentDiscountId IS NOT NULL AND ChargeCategory "
                                "= 'Usage' THEN coalesce(CommitmentDiscountStatus, 'Used') END",
    "CommitmentDiscountQuantity": "CASE WHEN CommitmentDiscountId IS NOT NULL AND "
                                  "CommitmentDiscountUnit IS NOT NULL AND ChargeCategory IN "
                                  "('Usage', 'Purchase') THEN CommitmentDiscountQuantity END",
    "CommitmentDiscountUnit": "CASE WHEN CommitmentDiscountId IS NOT NULL AND "
                              "CommitmentDiscountQuantity IS NOT NULL AND ChargeCategory IN "
                              "('Usage', 'Purchase') THEN CommitmentDiscountUnit END",
    # "CapacityReservationStatus MUST be null when CapacityReservationId is null".
    "CapacityReservationStatus": "CASE WHEN CapacityReservationId IS NOT NULL "
                                 "THEN CapacityReservationStatus END",
    # A description wherever any source column describes the charge (ChargeDescription
    # "SHOULD NOT be null"): the vendor's, else its SKU meter, else the service and category.
    "ChargeDescription": "coalesce(NULLIF(ChargeDescription, ''), SkuMeter, ServiceName || ' ' "
                         "|| lower(ChargeCategory))",
    "ChargeClass": "CASE WHEN ChargeClass = 'Correction' THEN ChargeClass END",
    "BillingAccountName": "CASE WHEN BillingAccountId IS NOT NULL "
                          "THEN coalesce(BillingAccountName, BillingAccountId) END",
    "SubAccountName": "CASE WHEN SubAccountId IS NOT NULL "
                      "THEN coalesce(SubAccountName, SubAccountId) END",
    "SubAccountType": "CASE WHEN SubAccountId IS NOT NULL THEN SubAccountType END",
    "RegionName": "CASE WHEN RegionId IS NOT NULL THEN coalesce(RegionName, RegionId) END",
    # SkuId as its rule above leaves it (a tax has none, whatever the vendor gave).
    "SkuMeter": "CASE WHEN SkuId IS NOT NULL AND ChargeCategory IS DISTINCT FROM 'Tax' "
                "THEN coalesce(SkuMeter, SkuId) END",
    "SkuPriceDetails": "CASE WHEN _sku_price IS NOT NULL AND json_valid(SkuPriceDetails) AND "
                       "json_type(SkuPriceDetails) = 'OBJECT' AND SkuPriceDetails <> '{}' "
                       "THEN SkuPriceDetails END",
    "Tags": "CASE WHEN json_valid(Tags) AND json_type(Tags) = 'OBJECT' AND Tags <> '{}' "
            "THEN Tags END",
    # FOCUS 1.3: "ServiceProviderName MUST NOT be null": the entity that made the service
    # available, the publisher of a Marketplace product; HostProviderName "MUST equal
    # ServiceProviderName" unless the host is another's, and "MAY be NULL when the information
    # about the entity providing the underlying infrastructure cannot be uniquely determined
    # (e.g., when the ChargeCategory is "Tax" or "Adjustment")": a Marketplace product's
    # host is not in the bill.
    "ServiceProviderName": "coalesce(ServiceProviderName, PublisherName, ProviderName)",
    "HostProviderName": "coalesce(HostProviderName, CASE WHEN ChargeCategory NOT IN ('Tax', "
                        "'Adjustment') AND coalesce(PublisherName, ProviderName) = ProviderName "
                        "THEN ProviderName END)",
}
#: Helper columns of the rules: the row's SKU price, and whether it consumes.
_HELPERS = {
    "_sku_price": RULES["SkuPriceId"],
    "_consumed": "(ChargeCategory = 'Usage' AND CommitmentDiscountStatus IS DISTINCT FROM "
                 "'Unused')",
    "_priced": "(ChargeCategory IN ('Usage', 'Purchase') AND ChargeClass IS NULL)",
    # A row that takes cost away (a Savings Plan negation, a discount line, a refund) prices
    # a negative quantity: "ContractedCost MUST equal the product of ContractedUnitPrice and
    # PricingQuantity" and a unit price "MUST be a non-negative decimal value" (1.3).
    "_quantity": "CASE WHEN ChargeCategory IN ('Usage', 'Purchase') AND "
                 "coalesce(ContractedCost, BilledCost) < 0 AND PricingQuantity > 0 "
                 "THEN -PricingQuantity ELSE PricingQuantity END",
}


def _unit_price(cost: str, quantity: str) -> str:
    """A unit price from a cost and its quantity (0 for a zero cost without quantity; never
    negative: a refund's sign is in its cost)."""
    return (f"CASE WHEN {quantity} <> 0 THEN abs({cost} / {quantity}) WHEN {cost} = 0 THEN 0 "
            "END")


def _consistent_price(price: str, cost: str, quantity: str) -> str:
    """The provider's unit price where it times the quantity is the cost (to FOCUS 1.3's
    validator's 1e-9, relative), else the cost over the quantity where that is a price (not
    negative), else the provider's."""
    off = (f"abs({price} * {quantity} - {cost}) > 1e-9 * greatest(abs({cost}), 1)")
    return (f"CASE WHEN {price} IS NULL THEN {_unit_price(cost, quantity)} WHEN {off} AND "
            f"{quantity} <> 0 AND {cost} / {quantity} >= 0 THEN {cost} / {quantity} "
            f"ELSE {price} END")


def conform(rows: str, extra: list[str], columns: dict[str, str] | None = None) -> str:
    """The SELECT of ``rows`` (SQL of a relation with the FOCUS 1.3 columns, and the ``extra``
    x_ columns) held to :data:`RULES`, each column cast to its type; ``extra`` follow as they
    are."""
    columns = columns or COLUMNS_1_3
    helpers = ", ".join(f"{expr} AS {name}" for name, expr in _HELPERS.items())
    select = []
    for name, sql_type in columns.items():
        expr = RULES.get(name, quote(name))
        expr = re.sub(r"_price\(([A-Za-z_]+), ([A-Za-z_]+), ([A-Za-z_]+)\)",
                      lambda m: _consistent_price(*m.groups()), expr)
        select.append(f"CAST({expr} AS {sql_type}) AS {quote(name)}")
    select += [quote(name) for name in extra]
    return f"SELECT {', '.join(select)} FROM (SELECT *, {helpers} FROM ({rows}))"


def padded(rows: str, has: dict[str, str]) -> str:
    """The SELECT of ``rows`` (a vendor's, whose columns are ``has``) with every FOCUS 1.3
    column, a missing one (a view written by an older release, before the contract gained
    it) read as NULL rather than breaking every vendor's rows, then its own ``x_`` columns
    and the common ones it lacks."""
    select = [f"CAST({quote(name) if name in has else 'NULL'} AS {sql_type}) "
              f"AS {quote(name)}" for name, sql_type in COLUMNS_1_3.items()]
    select += [quote(name) for name in has if name not in COLUMNS_1_3]
    select += [f"CAST(NULL AS {t}) AS {quote(n)}" for n, t in X_COLUMNS.items()
               if n not in has]
    return f"SELECT {', '.join(select)} FROM ({rows})"


def conform_dataset(con: Any, table: str = "main.focus") -> int:
    """The rules over the whole dataset, in a table of its rows: "ServiceCategory and
    ServiceSubcategory MUST" be one pair per ServiceName (FOCUS 1.2, ServiceName): where the
    vendors' rows disagree, the pair of the most rows (then the first by name) for all.
    Returns the rows changed."""
    names = (f"SELECT ServiceName, arg_max({{'c': ServiceCategory, 's': ServiceSubcategory}}, "
             f"(n, ServiceCategory, ServiceSubcategory)) AS pick FROM (SELECT ServiceName, "
             f"ServiceCategory, ServiceSubcategory, count(*) AS n FROM {table} GROUP BY ALL) "
             f"GROUP BY ServiceName HAVING count(*) > 1")
    changed = con.execute(
        f"UPDATE {table} AS f SET ServiceCategory = n.pick.c, ServiceSubcategory = n.pick.s "
        f"FROM ({names}) AS n WHERE f.ServiceName = n.ServiceName AND (f.ServiceCategory, "
        f"f.ServiceSubcategory) IS DISTINCT FROM (n.pick.c, n.pick.s)").fetchone()
    return changed[0] if changed else 0


def refresh(con: Any) -> list[str]:
    """(Re)create ``main.focus`` (FOCUS 1.3), ``main.focus_1_2`` and
    ``main.focus_contract_commitment`` over every vendor's views in the database; returns the
    vendors they cover. Runs in the caller's transaction. Refuses (and so rolls the caller's
    import back) while a vendor's rows have no view yet, which ``main.focus`` would drop."""
    for vendor in stale(con):
        raise FinopsError(
            f"the {vendor} rows of this database were imported by an earlier release, and "
            f"focus would lose them: run an import of `finops {vendor}` first (a period "
            "already loaded is skipped, and its views are brought to this release)")
    names = vendors(con)
    x_columns = dict(X_COLUMNS)
    if not names:
        union = "SELECT " + ", ".join(f"CAST(NULL AS {t}) AS {quote(n)}"
                                      for n, t in {**COLUMNS_1_3, **x_columns}.items()) \
            + " WHERE false"
    else:
        parts = []
        for vendor in names:
            view = f"{quote(vendor_schema(vendor))}.{quote(VENDOR_VIEW)}"
            has = {name: t for name, t, *_ in con.execute(f"DESCRIBE {view}").fetchall()}
            x_columns.update({n: t for n, t in has.items() if n not in COLUMNS_1_3})
            parts.append(padded(f"SELECT * FROM {view}", has))
        union = "\nUNION ALL BY NAME\n".join(parts)
    con.execute(f"CREATE OR REPLACE VIEW main.focus AS\n{conform(union, list(x_columns))}")
    projection = ", ".join(quote(n) for n in [*COLUMNS_1_2, *x_columns])
    con.execute(f"CREATE OR REPLACE VIEW main.focus_1_2 AS SELECT {projection} FROM main.focus")
    _refresh_contracts(con, names)
    return names


def _refresh_contracts(con: Any, names: list[str]) -> None:
    """``main.focus_contract_commitment``: the commitments that the rows of ``main.focus``
    purchase (reservations, savings plans), one row each: the commitment is its own contract
    (a provider's agreement has no ID in the bills), Usage or Spend as its discount's category,
    its cost and (Usage) quantity summed over the purchases in the data, its period from the
    first purchase's charge period to the last one's (the bills do not carry its term)."""
    del names  # every vendor's rows are in main.focus
    con.execute("""CREATE OR REPLACE VIEW main.focus_contract_commitment AS
SELECT BillingCurrency,
       CAST(CommitmentDiscountCategory AS VARCHAR) AS ContractCommitmentCategory,
       CAST(sum(BilledCost) AS DOUBLE) AS ContractCommitmentCost,
       CAST(coalesce(any_value(CommitmentDiscountName), any_value(ChargeDescription))
            AS VARCHAR) AS ContractCommitmentDescription,
       CAST(CommitmentDiscountId AS VARCHAR) AS ContractCommitmentId,
       max(ChargePeriodEnd) AS ContractCommitmentPeriodEnd,
       min(ChargePeriodStart) AS ContractCommitmentPeriodStart,
       CAST(CASE WHEN CommitmentDiscountCategory = 'Usage'
                 THEN coalesce(sum(CommitmentDiscountQuantity), sum(PricingQuantity)) END
            AS DOUBLE) AS ContractCommitmentQuantity,
       CAST(CommitmentDiscountType AS VARCHAR) AS ContractCommitmentType,
       CAST(CASE WHEN CommitmentDiscountCategory = 'Usage'
                 THEN coalesce(any_value(CommitmentDiscountUnit), any_value(PricingUnit))
                 ELSE BillingCurrency END AS VARCHAR) AS ContractCommitmentUnit,
       CAST(CommitmentDiscountId AS VARCHAR) AS ContractId,
       max(ChargePeriodEnd) AS ContractPeriodEnd,
       min(ChargePeriodStart) AS ContractPeriodStart
FROM main.focus
WHERE ChargeCategory = 'Purchase' AND ChargeClass IS NULL AND CommitmentDiscountId IS NOT NULL
GROUP BY BillingCurrency, CommitmentDiscountCategory, CommitmentDiscountId,
         CommitmentDiscountType""")
