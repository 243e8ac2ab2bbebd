"""The ``focus`` view: a FOCUS 1.2 Cost and Usage dataset over ``aws_cur``.

The view is generated from the columns that exist, because a report only has the
reservation, Savings Plans, product or tag columns its usage produced: a column that no loaded
report has reads as NULL. Where the FOCUS 1.2 text and the mapping of the FinOps Foundation's
converters (finopsfoundation/focus_converters) differ, the text wins.

Costs:

* BilledCost is the unblended cost, so that it sums to the invoice with discounts on lines of
  their own; ContractedCost the net unblended cost, falling back to the unblended cost.
* EffectiveCost is the amortized cost: the Reserved Instance or Savings Plan effective cost of
  covered usage (falling back to the unblended cost when the report has no such column), zero
  for Savings Plan negations and for every purchase of a commitment (RI fees, RI upfront fees,
  Savings Plan recurring and upfront fees: FOCUS 1.2 "EffectiveCost MUST be 0 when
  ChargeCategory is "Purchase" and the purchase is intended to cover future eligible
  charges"), the unblended cost otherwise, fees that are not commitments included (they
  cover no future charges; CUR does not amortize them).
* The unused part of a commitment (``reservation_unused_amortized_upfront_fee_for_billing_
  period`` + ``reservation_unused_recurring_fee`` on an RIFee line,
  ``savings_plan_total_commitment_to_date`` - ``savings_plan_used_commitment`` on a
  SavingsPlanRecurringFee line) is a row of its own, as FOCUS 1.2 prescribes ("These rows
  MUST be represented with CommitmentDiscountStatus set to "Unused" and ChargeCategory set to
  "Usage""): ChargeCategory Usage, CommitmentDiscountStatus Unused, BilledCost 0,
  EffectiveCost the unused amount, ``x_UnusedCommitment`` true. That row is not a CUR line
  item; every other row is exactly one. Totals by line item type are those of the CUR.
* ListCost is the public on-demand cost, falling back to the public on-demand rate times the
  usage amount, then to the unblended cost (taxes, credits, fees without a list price).

Accounts: legacy CUR has no account names (CUR 2.0 has), and FOCUS wants a name wherever
there is an account ID, so BillingAccountName and SubAccountName fall back to the ID.
BillingAccountType is "Payer Account", SubAccountType "Linked Account".

Commitments: CommitmentDiscountId is the reservation ARN (DiscountedUsage, RIFee, an RI's
upfront Fee) or the Savings Plan ARN (covered usage, negation, recurring and upfront fees);
category Usage (RI) or Spend (Savings Plan); type "Reserved Instance" or the Savings Plan's
offering type; status Used on usage rows, Unused on the unused rows, NULL on purchases;
quantity the RI's hours (unit its pricing unit) or the Savings Plan's amount (unit the
billing currency). PricingCategory is Committed for those rows, Dynamic for Spot, Other for
discounts, Standard otherwise (NULL for taxes, credits and adjustments). PricingUnit falls
back to "Units" where CUR has a quantity but no unit. CUR's public rates are in the pricing
currency (``pricing/currency``) and its other amounts in the billing currency, so
PricingCurrencyListUnitPrice is the public rate and PricingCurrencyContractedUnitPrice and
PricingCurrencyEffectiveCost are only filled where the two currencies are the same.
CapacityReservationId and CapacityReservationStatus come from CUR 2.0's
``capacity_reservation_*`` columns or legacy CUR's ``reservation/CapacityReservationArn`` and
``reservation/CapacityReservationStatus`` (Used or Unused; CUR's Reserved and Cancelled, of
future-dated reservations, have no FOCUS value).

Values: date-times are TIMESTAMP WITH TIME ZONE in UTC whatever the session's time zone;
units are FOCUS UnitFormat (``Hrs`` -> ``Hours``, ``GB-Mo`` -> ``GB-Months``: FOCUS writes the
time unit of ``<unit>-<time>`` in the plural); ProviderName and InvoiceIssuerName are "AWS"
when an AWS entity (a name starting with "Amazon" or "AWS") invoices, that entity being kept
in ``x_InvoicingEntity``; PublisherName is the seller (``lineItem/LegalEntity``, "AWS" for AWS
entities), so Marketplace rows name their vendor. ChargeClass is "Correction" for refunds
(line item type or bill type Refund). Taxes have no PricingQuantity, PricingUnit, SKU or
prices. Tags is one JSON object per row: user tags by their key without a prefix, AWS tags
with ``aws:``, from the legacy ``resource_tags_*`` columns and CUR 2.0's ``resource_tags``
map, keys as AWS's Parquet and CUR 2.0 spell them (``user:Cost Center`` -> ``cost_center``).
ServiceCategory and ServiceSubcategory come from ``data/service_categories.csv`` (AWS product
code -> FOCUS values; "Other" for a code it does not list, such as Marketplace products).

Consumption: FOCUS 1.2 (ConsumedQuantity) "MUST NOT be null when ChargeClass is not
"Correction"" on every Usage row whose CommitmentDiscountStatus is not "Unused", and "MUST be
null" on every other row. So every Usage line item carries CUR's usage amount as
ConsumedQuantity (and its unit as ConsumedUnit): on-demand, RI and Savings Plan covered usage,
and also Savings Plan negations (the covered usage's amount, which CUR repeats on them) and
discount lines (EdpDiscount, PrivateRateDiscount, BundledDiscount, ...: the amount of the usage
they discount, as CUR writes it), with 0 where CUR has no amount. Discounts stay Usage, as in
the converters' mapping: FOCUS 1.2 "identifies a discount as being a reduced price applied
directly to a row" and keeps "Credit" for reductions "awarded after the fact". A sum of
ConsumedQuantity therefore counts covered usage again on its negation and discounted usage
again on its discount; consumption alone is ``x_LineItemType IN ('Usage', 'DiscountedUsage',
'SavingsPlanCoveredUsage')``.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources

from open_finops.core.focus import COLUMNS as FOCUS_COLUMNS
from open_finops.core.mapping import Mappings
from open_finops.core.sql import literal, quote

_CONSUMPTION_TYPES = ("Usage", "DiscountedUsage", "SavingsPlanCoveredUsage")
_DISCOUNT_TYPES = ("BundledDiscount", "Discount", "EdpDiscount", "PrivateRateDiscount",
                   "DistributorDiscount", "SppDiscount", "RiVolumeDiscount")
_USAGE_TYPES = _CONSUMPTION_TYPES + ("SavingsPlanNegation",) + _DISCOUNT_TYPES
_PURCHASE_TYPES = ("Fee", "RIFee", "SavingsPlanRecurringFee", "SavingsPlanUpfrontFee")
_SAVINGS_PLAN_TYPES = ("SavingsPlanCoveredUsage", "SavingsPlanNegation",
                       "SavingsPlanRecurringFee", "SavingsPlanUpfrontFee")
#: Line items whose commitment can be partly unused (a row of its own in FOCUS).
_RECURRING_COMMITMENT_TYPES = ("RIFee", "SavingsPlanRecurringFee")
_TIME_UNITS = "Years|Months|Weeks|Days|Hours|Minutes|Seconds"
#: AWS pricing units that the general rules below do not turn into FOCUS UnitFormat.
_UNITS = {"Hrs": "Hours", "Hr": "Hours", "hours": "Hours", "Lambda-GB-Second": "GB-Seconds",
          "Lambda-GB-Second-ARM": "GB-Seconds", "Mo": "Months", "ByteHrs": "Byte-Hours",
          "GB-Mo": "GB-Months", "GB-month": "GB-Months", "IOPS-Mo": "IOPS-Months"}
#: The x_ columns of the AWS rows, after the FOCUS columns (open_finops.core.focus).
X_COLUMNS = {
    "x_ExportName": "VARCHAR", "x_BillingPeriod": "VARCHAR", "x_LineItemType": "VARCHAR",
    "x_UsageType": "VARCHAR", "x_Operation": "VARCHAR", "x_ServiceCode": "VARCHAR",
    "x_InvoicingEntity": "VARCHAR", "x_UnusedCommitment": "BOOLEAN",
}
_TAG_COLUMN = re.compile(r"^resource_tags_(user|aws)_(.+)$")


@lru_cache(maxsize=1)
def service_categories() -> dict[str, tuple[str, str]]:
    """AWS product code -> (ServiceCategory, ServiceSubcategory), from the package's data."""
    text = resources.files("open_finops.aws").joinpath("data/service_categories.csv") \
        .read_text(encoding="utf-8")
    return {row["product_code"]: (row["service_category"], row["service_subcategory"])
            for row in csv.DictReader(io.StringIO(text))}


def unit_sql(expr: str) -> str:
    """SQL turning an AWS pricing unit into FOCUS UnitFormat: the table above, then
    ``<unit>-Mo``/``-Hrs``/``-Second`` -> ``-Months``/``-Hours``/``-Seconds``, and a hyphen
    that does not introduce the time unit becomes a space (``Requests-Tier1``)."""
    special = " ".join(f"WHEN {literal(k)} THEN {literal(v)}" for k, v in _UNITS.items())
    timed = expr
    for pattern, plural in (("Mo|Mos|Month|month", "Months"), ("Hrs|Hr|Hour|hour", "Hours"),
                            ("Second|Sec|Secs", "Seconds"), ("Day", "Days"),
                            ("Minute|Min|Mins", "Minutes")):
        timed = f"regexp_replace({timed}, '-({pattern})$', '-{plural}')"
    general = (f"list_transform([{timed}], lambda __u: replace(regexp_replace(__u, "
               f"'-({_TIME_UNITS})$', ''), '-', ' ') || regexp_extract(__u, "
               f"'-({_TIME_UNITS})$'))[1]")
    return f"CASE {expr} {special} ELSE {general} END"


def focus_sql(columns: Mapping[str, str], source: str = "aws_cur") -> str:
    """The SELECT of the focus view over ``source``, whose columns (name -> DuckDB type) are
    ``columns``."""

    def col(name: str, sql_type: str = "VARCHAR") -> str:
        return f"s.{quote(name)}" if name in columns else f"CAST(NULL AS {sql_type})"

    def num(name: str) -> str:
        return col(name, "DOUBLE")

    def text(name: str) -> str:
        return f"NULLIF(s.{quote(name)}, '')" if name in columns else "CAST(NULL AS VARCHAR)"

    def from_map(map_name: str, key: str) -> str:
        if columns.get(map_name, "").startswith("MAP("):
            return f"NULLIF(element_at(s.{quote(map_name)}, {literal(key)})[1], '')"
        return "CAST(NULL AS VARCHAR)"

    def first(*options: str, sql_type: str = "VARCHAR") -> str:
        real = [o for o in options if not o.startswith("CAST(NULL")]
        if not real:
            return f"CAST(NULL AS {sql_type})"
        return real[0] if len(real) == 1 else f"coalesce({', '.join(real)})"

    def one_of(expr: str, values: tuple[str, ...]) -> str:
        return f"{expr} IN ({', '.join(literal(v) for v in values)})"

    def utc(name: str) -> str:
        return _utc(f"s.{quote(name)}") if name in columns \
            else "CAST(NULL AS TIMESTAMP WITH TIME ZONE)"

    item_type = col("line_item_line_item_type")
    unused_row = "__split.unused"
    unblended = num("line_item_unblended_cost")
    usage_amount = num("line_item_usage_amount")
    ri_arn = text("reservation_reservation_a_r_n")
    sp_arn = text("savings_plan_savings_plan_a_r_n")
    reservation = (f"({one_of(item_type, ('DiscountedUsage', 'RIFee'))} OR "
                   f"({item_type} = 'Fee' AND {ri_arn} IS NOT NULL))")
    savings_plan = one_of(item_type, _SAVINGS_PLAN_TYPES)
    commitment_id = f"CASE WHEN {reservation} THEN {ri_arn} WHEN {savings_plan} THEN {sp_arn} END"
    sp_effective = first(num("savings_plan_savings_plan_effective_cost"), unblended,
                         sql_type="DOUBLE")
    ri_effective = first(num("reservation_effective_cost"), unblended, sql_type="DOUBLE")
    contracted = first(num("line_item_net_unblended_cost"), unblended, sql_type="DOUBLE")
    unused = f"""CASE {item_type}
            WHEN 'RIFee' THEN
                coalesce({num('reservation_unused_amortized_upfront_fee_for_billing_period')}, 0)
                + coalesce({num('reservation_unused_recurring_fee')}, 0)
            WHEN 'SavingsPlanRecurringFee' THEN
                coalesce({num('savings_plan_total_commitment_to_date')}, 0)
                - coalesce({num('savings_plan_used_commitment')}, 0)
        END"""
    effective = f"""CASE
            WHEN {unused_row} THEN {unused}
            WHEN {item_type} = 'SavingsPlanCoveredUsage'
                THEN {sp_effective}
            WHEN {item_type} = 'DiscountedUsage'
                THEN {ri_effective}
            WHEN {one_of(item_type, _RECURRING_COMMITMENT_TYPES)} THEN 0
            WHEN {item_type} IN ('SavingsPlanNegation', 'SavingsPlanUpfrontFee') THEN 0
            WHEN {item_type} = 'Fee' AND {ri_arn} IS NOT NULL THEN 0  -- an RI's upfront fee
            ELSE {unblended}
        END"""
    category = f"""CASE
            WHEN {unused_row} THEN 'Usage'
            WHEN {one_of(item_type, _USAGE_TYPES)} THEN 'Usage'
            WHEN {one_of(item_type, _PURCHASE_TYPES)} THEN 'Purchase'
            WHEN {item_type} = 'Tax' THEN 'Tax'
            WHEN {item_type} = 'Credit' THEN 'Credit'
            ELSE 'Adjustment'
        END"""
    is_tax = f"{item_type} = 'Tax'"
    correction = (f"CASE WHEN {item_type} = 'Refund' OR {text('bill_bill_type')} = 'Refund' "
                  f"THEN 'Correction' END")
    quantity = f"CASE WHEN {is_tax} THEN NULL ELSE {usage_amount} END"
    unit = f"CASE WHEN ({quantity}) IS NULL THEN NULL " \
           f"ELSE coalesce({unit_sql(text('pricing_unit'))}, 'Units') END"
    public_cost = num("pricing_public_on_demand_cost")
    public_rate = num("pricing_public_on_demand_rate")
    list_cost = f"""CASE WHEN {unused_row} THEN 0 ELSE coalesce({public_cost},
            {public_rate} * {usage_amount}, {unblended}) END"""
    price = f"CASE WHEN {is_tax} THEN NULL ELSE {{}} END"
    product_code = first(text("line_item_product_code"), text("product_servicecode"))
    service_name = first(text("product_product_name"), from_map("product", "product_name"),
                         text("product_servicename"), product_code)
    region_id = first(text("product_region_code"), text("product_region"),
                      from_map("product", "region"))
    region_name = first(text("product_location"), from_map("product", "location"), region_id)
    resource_id = text("line_item_resource_id")
    resource_name = first(text("resource_tags_user_name"), from_map("resource_tags", "user_name"))
    resource_type = first(text("product_product_family"), from_map("product", "product_family"),
                          service_name)
    sku = f"CASE WHEN {is_tax} THEN NULL ELSE {text('product_sku')} END"
    sku_price_id = f"CASE WHEN {is_tax} THEN NULL ELSE {text('pricing_rate_code')} END"
    price_details = _json_object({
        "x_PricingTerm": text("pricing_term"),
        "x_LeaseContractLength": text("pricing_lease_contract_length"),
        "x_OfferingClass": text("pricing_offering_class"),
        "x_PurchaseOption": text("pricing_purchase_option"),
    })
    commitment_status = (f"CASE WHEN ({commitment_id}) IS NULL THEN NULL WHEN {unused_row} "
                         f"THEN 'Unused' WHEN ({category}) = 'Usage' THEN 'Used' END")
    # CUR 2.0's capacity_reservation_* columns or legacy CUR's reservation/CapacityReservation*.
    capacity_id = first(*(text(f"{prefix}capacity_reservation_{arn}")
                          for prefix in ("capacity_reservation_", "reservation_")
                          for arn in ("arn", "a_r_n")))
    capacity_status = first(text("capacity_reservation_capacity_reservation_status"),
                            text("reservation_capacity_reservation_status"))
    invoicing_entity = text("bill_invoicing_entity")
    contracted_rate = first(num("line_item_net_unblended_rate"), num("line_item_unblended_rate"),
                            sql_type="DOUBLE")
    pricing_currency = first(text("pricing_currency"), text("line_item_currency_code"))
    same_currency = f"({pricing_currency}) = {text('line_item_currency_code')}"
    pricing_term = text("pricing_term")
    selects = {
        "AvailabilityZone": text("line_item_availability_zone"),
        "BilledCost": f"CASE WHEN {unused_row} THEN 0 ELSE {unblended} END",
        "BillingAccountId": text("bill_payer_account_id"),
        "BillingAccountName": first(text("bill_payer_account_name"),
                                    text("bill_payer_account_id")),
        "BillingAccountType": f"CASE WHEN {text('bill_payer_account_id')} IS NOT NULL "
                              f"THEN 'Payer Account' END",
        "BillingCurrency": text("line_item_currency_code"),
        "BillingPeriodEnd": utc("bill_billing_period_end_date"),
        "BillingPeriodStart": utc("bill_billing_period_start_date"),
        "CapacityReservationId": capacity_id,
        # CUR's Reserved and Cancelled (future-dated reservations) have no FOCUS value.
        "CapacityReservationStatus": (
            f"CASE WHEN ({capacity_id}) IS NOT NULL THEN CASE lower({capacity_status}) "
            f"WHEN 'used' THEN 'Used' WHEN 'unused' THEN 'Unused' END END"),
        "ChargeCategory": category,
        "ChargeClass": correction,
        "ChargeDescription": text("line_item_line_item_description"),
        "ChargeFrequency": f"""CASE
            WHEN {one_of(item_type, _RECURRING_COMMITMENT_TYPES)} THEN 'Recurring'
            WHEN {item_type} IN ('Fee', 'SavingsPlanUpfrontFee') THEN 'One-Time'
            ELSE 'Usage-Based' END""",
        "ChargePeriodEnd": utc("line_item_usage_end_date"),
        "ChargePeriodStart": utc("line_item_usage_start_date"),
        "CommitmentDiscountCategory": (f"CASE WHEN ({commitment_id}) IS NULL THEN NULL "
                                       f"WHEN {reservation} THEN 'Usage' ELSE 'Spend' END"),
        "CommitmentDiscountId": commitment_id,
        "CommitmentDiscountName": "CAST(NULL AS VARCHAR)",
        "CommitmentDiscountQuantity": f"""CASE
            WHEN ({commitment_id}) IS NULL OR ({category}) NOT IN ('Usage', 'Purchase')
                THEN NULL
            WHEN {unused_row} AND {reservation}
                THEN coalesce({num('reservation_unused_quantity')}, {usage_amount}, 0)
            WHEN {reservation} THEN coalesce({usage_amount}, 0)
            WHEN {unused_row} THEN {unused}
            WHEN {item_type} = 'SavingsPlanCoveredUsage'
                THEN coalesce({num('savings_plan_savings_plan_effective_cost')}, 0)
            WHEN {item_type} = 'SavingsPlanRecurringFee'
                THEN coalesce({num('savings_plan_total_commitment_to_date')}, {unblended})
            WHEN {item_type} = 'SavingsPlanUpfrontFee' THEN {unblended}
            ELSE 0 END""",
        "CommitmentDiscountStatus": commitment_status,
        "CommitmentDiscountType": (
            f"CASE WHEN ({commitment_id}) IS NULL THEN NULL WHEN {reservation} "
            f"THEN 'Reserved Instance' "
            f"ELSE {first(text('savings_plan_offering_type'), literal('Savings Plan'))} END"),
        "CommitmentDiscountUnit": (
            f"CASE WHEN ({commitment_id}) IS NULL OR ({category}) NOT IN ('Usage', 'Purchase') "
            f"THEN NULL WHEN {reservation} THEN coalesce({unit_sql(text('pricing_unit'))}, "
            f"'Hours') ELSE {first(text('line_item_currency_code'), literal('USD'))} END"),
        # Every Usage row but the unused commitments (see the module docstring).
        "ConsumedQuantity": f"CASE WHEN ({category}) = 'Usage' AND NOT {unused_row} "
                            f"THEN coalesce({usage_amount}, 0) END",
        "ConsumedUnit": f"CASE WHEN ({category}) = 'Usage' AND NOT {unused_row} "
                        f"THEN coalesce({unit_sql(text('pricing_unit'))}, 'Units') END",
        "ContractedCost": f"CASE WHEN {unused_row} THEN 0 ELSE "
                          f"{contracted} END",
        "ContractedUnitPrice": price.format(contracted_rate),
        "EffectiveCost": effective,
        "InvoiceId": text("bill_invoice_id"),
        "InvoiceIssuerName": _aws_or(invoicing_entity),
        "ListCost": list_cost,
        "ListUnitPrice": price.format(public_rate),
        "PricingCategory": f"""CASE
            WHEN ({category}) NOT IN ('Usage', 'Purchase') THEN NULL
            WHEN ({commitment_id}) IS NOT NULL THEN 'Committed'
            WHEN {pricing_term} = 'Spot' OR {text('line_item_usage_type')} LIKE '%SpotUsage%'
                THEN 'Dynamic'
            WHEN {one_of(item_type, _DISCOUNT_TYPES)} THEN 'Other'
            ELSE 'Standard' END""",
        "PricingCurrency": pricing_currency,
        # CUR's public rates are in the pricing currency; its other amounts in the billing
        # currency, so they are pricing-currency amounts only where the two are the same.
        "PricingCurrencyContractedUnitPrice": f"CASE WHEN {same_currency} THEN "
                                              f"{price.format(contracted_rate)} END",
        "PricingCurrencyEffectiveCost": f"CASE WHEN {same_currency} THEN {effective} END",
        "PricingCurrencyListUnitPrice": price.format(public_rate),
        "PricingQuantity": quantity,
        "PricingUnit": unit,
        "ProviderName": "'AWS'",
        "PublisherName": _aws_or(first(text("line_item_legal_entity"),
                                       text("bill_billing_entity"))),
        "RegionId": region_id,
        "RegionName": f"CASE WHEN ({region_id}) IS NOT NULL THEN {region_name} END",
        "ResourceId": resource_id,
        "ResourceName": f"CASE WHEN {resource_id} IS NOT NULL THEN {resource_name} END",
        "ResourceType": f"CASE WHEN {resource_id} IS NOT NULL THEN {resource_type} END",
        "ServiceCategory": "coalesce(__svc.category, 'Other')",
        "ServiceName": service_name,
        "ServiceSubcategory": "coalesce(__svc.subcategory, 'Other (Other)')",
        "SkuId": sku,
        "SkuMeter": f"CASE WHEN ({sku}) IS NOT NULL THEN "
                    f"{first(text('product_usagetype'), text('line_item_usage_type'))} END",
        "SkuPriceDetails": f"CASE WHEN ({sku_price_id}) IS NOT NULL THEN {price_details} END",
        "SkuPriceId": sku_price_id,
        "SubAccountId": text("line_item_usage_account_id"),
        "SubAccountName": first(text("line_item_usage_account_name"),
                                text("line_item_usage_account_id")),
        "SubAccountType": f"CASE WHEN {text('line_item_usage_account_id')} IS NOT NULL "
                          f"THEN 'Linked Account' END",
        "Tags": _tags(columns),
        "x_ExportName": col("export_name"),
        "x_BillingPeriod": col("billing_period"),
        "x_LineItemType": item_type,
        "x_UsageType": text("line_item_usage_type"),
        "x_Operation": text("line_item_operation"),
        "x_ServiceCode": product_code,
        "x_InvoicingEntity": invoicing_entity,
        "x_UnusedCommitment": unused_row,
    }
    return (f"SELECT\n    {_select_list(selects)}\nFROM {source} AS s\n"
            f"CROSS JOIN (VALUES (false), (true)) AS __split(unused)\n"
            f"{_service_join(product_code)}\n"
            f"WHERE NOT __split.unused OR ({one_of(item_type, _RECURRING_COMMITMENT_TYPES)} "
            f"AND coalesce({unused}, 0) <> 0)")


#: FOCUS columns whose name changed, 1.2 name -> earlier names (FOCUS 1.0-preview's; no
#: column was renamed between 1.0 and 1.2: 1.1 and 1.2 only added columns).
RENAMED = {"EffectiveCost": ("AmortizedCost",), "ConsumedQuantity": ("UsageQuantity",),
           "ConsumedUnit": ("UsageUnit",), "ChargeCategory": ("ChargeType",),
           "RegionName": ("Region",)}


def focus_export_sql(columns: Mapping[str, str], source: str) -> str:
    """The SELECT of the focus view over the rows of AWS's own FOCUS exports (FOCUS 1.0 with
    AWS columns and later), with the columns and values of :func:`focus_sql`: FOCUS 1.2
    columns that an older export lacks are derived where FOCUS 1.2 defines them from other
    columns (PricingCurrency from BillingCurrency, ServiceSubcategory from the product code,
    the account types from the account IDs, SkuMeter from x_UsageType), NULL otherwise. A
    commitment purchase that carries the amortized cost of its unused part (FOCUS 1.0
    exports put it on the RI fee or Savings Plan recurring fee) becomes, as FOCUS 1.2
    prescribes, a Purchase row with EffectiveCost 0 and a Usage row with
    CommitmentDiscountStatus Unused (BilledCost 0, ``x_UnusedCommitment`` true)."""

    def col(name: str) -> str:
        for candidate in (name, *RENAMED.get(name, ())):
            if candidate in columns:
                return f"NULLIF(CAST(s.{quote(candidate)} AS VARCHAR), '')" \
                    if columns[candidate] == "VARCHAR" else f"s.{quote(candidate)}"
        return f"CAST(NULL AS {FOCUS_COLUMNS.get(name, 'VARCHAR')})"

    def given(name: str) -> bool:
        return not col(name).startswith("CAST(NULL")

    selects = {name: col(name) for name in FOCUS_COLUMNS}
    for name in ("BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart",
                 "ChargePeriodEnd"):
        selects[name] = _utc(col(name)) if given(name) \
            else "CAST(NULL AS TIMESTAMP WITH TIME ZONE)"
    for name in ("ProviderName", "InvoiceIssuerName", "PublisherName"):
        selects[name] = _aws_or(col(name))
    for name in ("PricingUnit", "ConsumedUnit", "CommitmentDiscountUnit"):
        selects[name] = unit_sql(col(name))
    product_code = col("x_ServiceCode")
    service_category = f"coalesce(__svc.category, {col('ServiceCategory')}, 'Other')"
    selects["ServiceCategory"] = service_category
    selects["ServiceSubcategory"] = (f"coalesce(__svc.subcategory, {col('ServiceSubcategory')},"
                                     f" 'Other (' || {service_category} || ')')")
    selects["PricingCurrency"] = f"coalesce({col('PricingCurrency')}, {col('BillingCurrency')})"
    same_currency = f"({selects['PricingCurrency']}) = {col('BillingCurrency')}"
    for name, billing in (("PricingCurrencyContractedUnitPrice", "ContractedUnitPrice"),
                          ("PricingCurrencyListUnitPrice", "ListUnitPrice")):
        selects[name] = (f"coalesce({col(name)}, CASE WHEN {same_currency} THEN {col(billing)} "
                         f"END)")
    selects["SkuMeter"] = (f"CASE WHEN {col('SkuId')} IS NOT NULL THEN "
                           f"coalesce({col('SkuMeter')}, {col('x_UsageType')}) END")
    unused = "__split.unused"
    split = (f"({col('ChargeCategory')} = 'Purchase' AND {col('CommitmentDiscountId')} IS NOT "
             f"NULL AND coalesce({col('EffectiveCost')}, 0) <> 0)")
    for name in ("BilledCost", "ContractedCost", "ListCost"):
        selects[name] = f"CASE WHEN {unused} THEN 0 ELSE {col(name)} END"
    selects["EffectiveCost"] = (f"CASE WHEN {unused} THEN {col('EffectiveCost')} WHEN {split} "
                                f"THEN 0 ELSE {col('EffectiveCost')} END")
    selects["PricingCurrencyEffectiveCost"] = (
        f"CASE WHEN {same_currency} THEN {selects['EffectiveCost']} END")
    category = f"CASE WHEN {unused} THEN 'Usage' ELSE {col('ChargeCategory')} END"
    selects["ChargeCategory"] = category
    selects["CommitmentDiscountStatus"] = (
        f"CASE WHEN {unused} THEN 'Unused' WHEN ({category}) <> 'Usage' THEN NULL "
        f"ELSE {col('CommitmentDiscountStatus')} END")
    for name in ("ConsumedQuantity", "ConsumedUnit"):
        selects[name] = f"CASE WHEN {unused} THEN NULL ELSE {selects[name]} END"
    for name, of, value in (("BillingAccountType", "BillingAccountId", "Payer Account"),
                            ("SubAccountType", "SubAccountId", "Linked Account")):
        selects[name] = (f"coalesce({col(name)}, CASE WHEN {col(of)} IS NOT NULL "
                         f"THEN {literal(value)} END)")
    selects.update({
        "x_ExportName": "s.export_name",
        "x_BillingPeriod": "s.billing_period",
        "x_LineItemType": "CAST(NULL AS VARCHAR)",
        "x_UsageType": col("x_UsageType"),
        "x_Operation": col("x_Operation"),
        "x_ServiceCode": product_code,
        "x_InvoicingEntity": col("InvoiceIssuerName"),
        "x_UnusedCommitment": unused,
    })
    return (f"SELECT\n    {_select_list(selects)}\nFROM {source} AS s\n"
            f"CROSS JOIN (VALUES (false), (true)) AS __split(unused)\n"
            f"{_service_join(product_code)}\n"
            f"WHERE NOT {unused} OR {split}")


def _select_list(selects: Mapping[str, str]) -> str:
    types = {**FOCUS_COLUMNS, **X_COLUMNS}
    return ",\n    ".join(f"CAST({selects[name]} AS {sql_type}) AS {quote(name)}"
                          for name, sql_type in types.items())


def _service_join(product_code: str) -> str:
    """The join that gives each row the ServiceCategory and ServiceSubcategory of its
    product code (``__svc.category``, ``__svc.subcategory``)."""
    mapping = ", ".join(f"({literal(code)}, {literal(cat)}, {literal(sub)})"
                        for code, (cat, sub) in service_categories().items())
    return (f"LEFT JOIN (VALUES {mapping}) AS __svc(code, category, subcategory)\n"
            f"    ON __svc.code = {product_code}")


def _utc(expr: str) -> str:
    """A date-time as TIMESTAMP WITH TIME ZONE: timezone('UTC', TIMESTAMP) reads the value as
    UTC whatever the session's TimeZone."""
    return f"timezone('UTC', CAST({expr} AS TIMESTAMP))"


def _aws_or(expr: str) -> str:
    """"AWS" for an AWS entity (a name starting with "Amazon" or "AWS") or none, else the
    name."""
    return (f"CASE WHEN {expr} IS NULL OR regexp_matches({expr}, '^(Amazon|AWS)([^A-Za-z]|$)')"
            f" THEN 'AWS' ELSE {expr} END")


def _json_object(values: Mapping[str, str]) -> str:
    """SQL: a JSON object (text) of the (text) values that are not NULL, NULL when all are.
    Built by concatenation, which is several times faster than a map turned into JSON; the
    keys are literals without characters to escape."""
    real = {key: expr for key, expr in values.items() if not expr.startswith("CAST(NULL")}
    if not real:
        return "CAST(NULL AS VARCHAR)"
    members = ", ".join(f"'\"{key}\":' || to_json({expr})" for key, expr in real.items())
    return f"NULLIF('{{' || concat_ws(',', {members}) || '}}', '{{}}')"


def _tags(columns: Mapping[str, str]) -> str:
    """Tags as one JSON object: legacy ``resource_tags_user_*`` / ``resource_tags_aws_*``
    columns or CUR 2.0's ``resource_tags`` map (a row has one or the other), user keys
    without their prefix, AWS keys with ``aws:``."""
    legacy = {}
    for name in sorted(columns):
        match = _TAG_COLUMN.match(name)
        if match and columns[name] == "VARCHAR":
            kind, key = match.groups()
            legacy[key if kind == "user" else f"aws:{key}"] = f"NULLIF(s.{quote(name)}, '')"
    parts = [_json_object(legacy)] if legacy else []
    if columns.get("resource_tags", "").startswith("MAP("):
        parts.append(
            "CASE WHEN cardinality(s.resource_tags) > 0 THEN CAST(to_json(map_from_entries("
            "list_transform(map_entries(s.resource_tags), lambda e: (CASE "
            "WHEN starts_with(e.key, 'user_') THEN substr(e.key, 6) "
            "WHEN starts_with(e.key, 'aws_') THEN 'aws:' || substr(e.key, 5) "
            "ELSE e.key END, e.value)))) AS VARCHAR) END")
    if not parts:
        return "CAST(NULL AS VARCHAR)"
    return parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})"


#: The mapping of each kind of report, in the form every engine runs (open_finops.core.mapping).
MAPPINGS = Mappings("aws", {"v1": focus_sql, "v2": focus_sql, "focus": focus_export_sql},
                    X_COLUMNS)
