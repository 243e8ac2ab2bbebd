"""The ``focus`` view: FOCUS 1.x columns over ``aws_cur``.

The mapping follows the FinOps Foundation's CUR-to-FOCUS converters
(finopsfoundation/focus_converters, conversion_configs/aws): EffectiveCost is the amortized
cost by line item type (the Reserved Instance or Savings Plan effective cost of covered usage,
zero for Savings Plan negations, upfront fees and RI upfront fees, the unused part of
recurring fees, the unblended cost otherwise); ChargeCategory is derived from the line item
type as the converters do (discounts lower the price of usage, so they are Usage; refunds are
Adjustment), except that credits are Credit, the category FOCUS 1.0 added after the converters
were written. BilledCost is the unblended cost, so that it sums to the invoice with discounts
on lines of their own (the converters take the net unblended cost when there is one; that is
ContractedCost here). The view is generated from the columns that exist, because a report
only has the reservation, Savings Plans, product or tag columns its usage produced: a column
that no loaded report has reads as NULL.
"""
from __future__ import annotations

from collections.abc import Mapping

from open_finops.aws.columns import literal, quote

#: Line item types that measure consumption (ConsumedQuantity is their usage amount).
_CONSUMPTION_TYPES = ("Usage", "DiscountedUsage", "SavingsPlanCoveredUsage")
_USAGE_TYPES = _CONSUMPTION_TYPES + (
    "SavingsPlanNegation", "BundledDiscount", "Discount", "EdpDiscount", "PrivateRateDiscount",
    "DistributorDiscount", "SppDiscount", "RiVolumeDiscount")
_PURCHASE_TYPES = ("Fee", "RIFee", "SavingsPlanRecurringFee", "SavingsPlanUpfrontFee")


def focus_sql(columns: Mapping[str, str], source: str = "aws_cur") -> str:
    """The SELECT of the focus view over ``source``, whose columns (name -> DuckDB type) are
    ``columns``."""

    def col(name: str, sql_type: str = "VARCHAR") -> str:
        return quote(name) if name in columns else f"CAST(NULL AS {sql_type})"

    def num(name: str) -> str:
        return col(name, "DOUBLE")

    def text(name: str) -> str:
        return f"NULLIF({col(name)}, '')" if name in columns else "CAST(NULL AS VARCHAR)"

    def from_map(map_name: str, key: str) -> str:
        if columns.get(map_name, "").startswith("MAP("):
            return f"NULLIF({quote(map_name)}[{literal(key)}], '')"
        return "CAST(NULL AS VARCHAR)"

    def first(*options: str) -> str:
        real = [o for o in options if not o.startswith("CAST(NULL")]
        if not real:
            return "CAST(NULL AS VARCHAR)"
        return real[0] if len(real) == 1 else f"coalesce({', '.join(real)})"

    def one_of(types: tuple[str, ...]) -> str:
        return f"{item_type} IN ({', '.join(literal(t) for t in types)})"

    item_type = col("line_item_line_item_type")
    unblended = num("line_item_unblended_cost")
    consumption = one_of(_CONSUMPTION_TYPES)
    effective = f"""CASE {item_type}
            WHEN 'SavingsPlanCoveredUsage' THEN {num('savings_plan_savings_plan_effective_cost')}
            WHEN 'SavingsPlanRecurringFee' THEN
                coalesce({num('savings_plan_total_commitment_to_date')}, 0)
                - coalesce({num('savings_plan_used_commitment')}, 0)
            WHEN 'SavingsPlanNegation' THEN 0
            WHEN 'SavingsPlanUpfrontFee' THEN 0
            WHEN 'DiscountedUsage' THEN {num('reservation_effective_cost')}
            WHEN 'RIFee' THEN
                coalesce({num('reservation_unused_amortized_upfront_fee_for_billing_period')}, 0)
                + coalesce({num('reservation_unused_recurring_fee')}, 0)
            WHEN 'Fee' THEN CASE WHEN {text('reservation_reservation_a_r_n')} IS NOT NULL
                                 THEN 0 ELSE {unblended} END  -- an RI's upfront fee: amortized
            ELSE {unblended}
        END"""
    category = f"""CASE
            WHEN {one_of(_USAGE_TYPES)} THEN 'Usage'
            WHEN {one_of(_PURCHASE_TYPES)} THEN 'Purchase'
            WHEN {item_type} = 'Tax' THEN 'Tax'
            WHEN {item_type} = 'Credit' THEN 'Credit'
            ELSE 'Adjustment'
        END"""
    selects = {
        "BilledCost": unblended,
        "EffectiveCost": effective,
        "ListCost": num("pricing_public_on_demand_cost"),
        "ListUnitPrice": num("pricing_public_on_demand_rate"),
        "ContractedCost": first(num("line_item_net_unblended_cost"), unblended),
        "BillingPeriodStart": col("bill_billing_period_start_date", "TIMESTAMP"),
        "BillingPeriodEnd": col("bill_billing_period_end_date", "TIMESTAMP"),
        "ChargePeriodStart": col("line_item_usage_start_date", "TIMESTAMP"),
        "ChargePeriodEnd": col("line_item_usage_end_date", "TIMESTAMP"),
        "BillingAccountId": text("bill_payer_account_id"),
        "BillingAccountName": text("bill_payer_account_name"),
        "SubAccountId": text("line_item_usage_account_id"),
        "SubAccountName": text("line_item_usage_account_name"),
        "BillingCurrency": text("line_item_currency_code"),
        "ProviderName": "'AWS'",
        "PublisherName": first(text("bill_billing_entity"), "'AWS'"),
        "InvoiceIssuerName": first(text("bill_invoicing_entity"), "'AWS'"),
        "InvoiceId": text("bill_invoice_id"),
        "ServiceName": first(text("product_product_name"),
                             from_map("product", "product_name"),
                             text("product_servicename"),
                             text("line_item_product_code")),
        "ResourceId": text("line_item_resource_id"),
        "RegionId": first(text("product_region_code"), text("product_region"),
                          from_map("product", "region")),
        "AvailabilityZone": text("line_item_availability_zone"),
        "ChargeCategory": category,
        "ChargeDescription": text("line_item_line_item_description"),
        "ConsumedQuantity": f"CASE WHEN {consumption} THEN {num('line_item_usage_amount')} END",
        "ConsumedUnit": f"CASE WHEN {consumption} THEN {text('pricing_unit')} END",
        "PricingQuantity": num("line_item_usage_amount"),
        "PricingUnit": text("pricing_unit"),
        "SkuId": text("product_sku"),
        "x_ExportName": col("export_name"),
        "x_BillingPeriod": col("billing_period"),
        "x_LineItemType": item_type,
        "x_UsageType": text("line_item_usage_type"),
        "x_Operation": text("line_item_operation"),
    }
    body = ",\n    ".join(f"{expr} AS {quote(name)}" for name, expr in selects.items())
    return f"SELECT\n    {body}\nFROM {source}"
