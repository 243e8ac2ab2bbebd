"""Google Cloud's rows mapped to FOCUS: the SQL of ``open_finops_gcp.focus``.

Three kinds of table, one output with core's columns (open_finops.core.focus.COLUMNS) and
Google's ``x_``:

* **standard and detailed usage cost** (``gcp_billing_export_v1_*``,
  ``gcp_billing_export_resource_v1_*``), their nested columns as BigQuery wrote them. Each
  row is one charge; its ``credits`` are of two sorts, as the FOCUS text tells them apart:

  - **discounts** (:data:`DISCOUNTS`: sustained use, committed use, negotiated, free tier,
    subscription benefit, reseller margin...) lower the price of that very charge. BilledCost
    is "inclusive of the impacts of all reduced rates and discounts" and EffectiveCost is
    "after applying all reduced rates, discounts": both are ``cost`` plus these credits (a
    negative amount), whatever the sum, never clamped at zero; ContractedCost stays ``cost``
    and ListCost ``cost_at_list``;
  - **credits** proper (promotions, and any type not named a discount) are money granted
    against the bill, not a lower rate: FOCUS's ChargeCategory "Credit". Each becomes a row
    of its own (the charge's service, project, period; ChargeCategory Credit; its amount as
    BilledCost and EffectiveCost; the credit's name, id and type).

  So sum(BilledCost) is sum(cost) plus every credit, the month's invoice before tax
  rounding, as Google's own FOCUS view sums it. cost_type ``tax`` is ChargeCategory Tax;
  ``adjustment`` and ``rounding error`` are Adjustment (a correction where adjustment_info
  says what it corrects). Marketplace rows (transaction_type ``THIRD_PARTY_RESELLER`` or
  ``THIRD_PARTY_AGENCY``) name their seller (``seller_name``) as PublisherName and
  ServiceProviderName; Google Cloud hosts them. BillingPeriodStart is the invoice month in
  Pacific time, when Google's invoice months begin.
* **the FOCUS export** (``gcp_billing_export_focus_*``): its FOCUS columns as they are, Tags
  (an array of key/value structs) as a JSON object, Google Cloud where it names no provider.

The lookup tables (services, regions) are literal VALUES inside the view, so reading
``main.focus`` needs no plugin code. Every mapping is row-local (a credit's row comes from its
charge's row alone): :data:`MAPPINGS` runs over Arrow batches (open_finops.core.mapping).
"""
from __future__ import annotations

import re
from collections.abc import Mapping

from open_finops.core.focus import ADDED_1_3, COLUMNS
from open_finops.core.mapping import Mappings
from open_finops.core.sql import literal, quote

PROVIDER = "Google Cloud"
#: Google's own columns of the view, after core's, with their types.
X_COLUMNS = {
    "x_ExportName": "VARCHAR", "x_BillingPeriod": "VARCHAR", "x_UnusedCommitment": "BOOLEAN",
    "x_Kind": "VARCHAR", "x_CostType": "VARCHAR", "x_TransactionType": "VARCHAR",
    "x_ServiceId": "VARCHAR", "x_ProjectNumber": "VARCHAR", "x_CreditType": "VARCHAR",
    "x_CreditId": "VARCHAR", "x_Discounts": "DOUBLE",
}
#: Credit types that are a lower rate for the charge they come with: in its BilledCost and
#: EffectiveCost. Any other type (PROMOTION, one Google adds later) is a Credit row.
DISCOUNTS = ("SUSTAINED_USAGE_DISCOUNT", "COMMITTED_USAGE_DISCOUNT",
             "COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE", "DISCOUNT", "FREE_TIER",
             "SUBSCRIPTION_BENEFIT", "RESELLER_MARGIN", "FEE_UTILIZATION_OFFSET")
MARKETPLACE = ("THIRD_PARTY_RESELLER", "THIRD_PARTY_AGENCY")
#: service.description -> ServiceCategory, ServiceSubcategory (FOCUS 1.2's allowed pairs).
_SERVICES = [
    ("Compute Engine", "Compute", "Virtual Machines"),
    ("Kubernetes Engine", "Compute", "Containers"),
    ("Cloud Run", "Compute", "Serverless Compute"),
    ("Cloud Functions", "Compute", "Serverless Compute"),
    ("Cloud Storage", "Storage", "Object Storage"),
    ("BigQuery", "Analytics", "Data Processing"),
    ("Cloud SQL", "Databases", "Relational Databases"),
    ("Cloud Spanner", "Databases", "Relational Databases"),
    ("Networking", "Networking", "Network Infrastructure"),
    ("Cloud Logging", "Management and Governance", "Observability"),
    ("Cloud Monitoring", "Management and Governance", "Observability"),
    ("Secret Manager", "Security", "Secret Management"),
    ("Vertex AI", "AI and Machine Learning", "AI Platforms"),
    ("Support", "Other", "Other (Other)"),
]
_REGIONS = [
    ("us-central1", "Iowa"), ("us-east1", "South Carolina"), ("us-east4", "Northern Virginia"),
    ("us-west1", "Oregon"), ("us-west2", "Los Angeles"), ("europe-west1", "Belgium"),
    ("europe-west2", "London"), ("europe-west3", "Frankfurt"), ("europe-west4", "Netherlands"),
    ("europe-north1", "Finland"), ("asia-east1", "Taiwan"), ("asia-northeast1", "Tokyo"),
    ("asia-southeast1", "Singapore"), ("australia-southeast1", "Sydney"),
    ("southamerica-east1", "São Paulo"), ("northamerica-northeast1", "Montréal"),
]


def _values(rows: list[tuple], alias: str, names: str) -> str:
    body = ", ".join("(" + ", ".join(literal(v) for v in row) + ")" for row in rows)
    return f"(VALUES {body}) {alias}({names})"


class _Columns:
    """SQL for the columns of one table (``have``: name -> DuckDB type), NULL of the right
    type for what a file lacks (an older export, a struct without a newer field)."""

    def __init__(self, have: Mapping[str, str]) -> None:
        self.have = dict(have)

    def col(self, name: str, sql_type: str = "VARCHAR") -> str:
        return quote(name) if name in self.have else f"CAST(NULL AS {sql_type})"

    def field(self, column: str, name: str, sql_type: str = "VARCHAR") -> str:
        text = self.have.get(column, "")
        if re.search(rf'[(,]\s*"?{re.escape(name)}"?\s', text):
            return f"CAST({quote(column)}.{quote(name)} AS {sql_type})"
        return f"CAST(NULL AS {sql_type})"

    def has_list(self, column: str, *fields: str) -> bool:
        text = self.have.get(column, "")
        return text.endswith("[]") and all(re.search(rf'[(,]\s*"?{f}"?\s', text)
                                           for f in fields)


def _pairs(c: _Columns, column: str) -> str:
    """A JSON object of a key/value list column (NULL where it lacks one)."""
    if not c.has_list(column, "key", "value"):
        return "NULL"
    expr = quote(column)
    return (f"to_json(map_from_entries([{{'key': CAST(e.key AS VARCHAR), 'value': CAST(e.value "
            f"AS VARCHAR)}} for e in coalesce({expr}, []) if e.key IS NOT NULL]))")


def _tags(c: _Columns) -> str:
    """FOCUS Tags: project labels, then the resource's labels, system labels and tags (a
    later one wins for the same key), as one JSON object."""
    parts = []
    project = c.have.get("project", "")
    if re.search(r'[(,]\s*"?labels"?\s+STRUCT\("?key"?', project):
        parts.append("to_json(map_from_entries([{'key': CAST(e.key AS VARCHAR), 'value': "
                     "CAST(e.value AS VARCHAR)} for e in coalesce(\"project\".labels, []) "
                     "if e.key IS NOT NULL]))")
    for column in ("labels", "system_labels", "tags"):
        if c.has_list(column, "key", "value"):
            parts.append(_pairs(c, column))
    if not parts:
        return "CAST(NULL AS VARCHAR)"
    return parts[0] if len(parts) == 1 else f"json_merge_patch({', '.join(parts)})"


def _credits(c: _Columns, discount: bool) -> str:
    """The credits of a row that are discounts (or are not), as a list SQL expression."""
    if not c.has_list("credits", "amount"):
        return "CAST([] AS STRUCT(name VARCHAR, amount DOUBLE, full_name VARCHAR, id VARCHAR, " \
               "type VARCHAR)[])"
    has = c.have["credits"]

    def part(name: str, sql_type: str = "VARCHAR") -> str:
        if re.search(rf'[(,]\s*"?{name}"?\s', has):
            return f"CAST(e.{quote(name)} AS {sql_type})"
        return f"CAST(NULL AS {sql_type})"

    kinds = ", ".join(literal(k) for k in DISCOUNTS)
    test = f"coalesce(upper({part('type')}) IN ({kinds}), false)"
    return (f"[{{'name': {part('name')}, 'amount': {part('amount', 'DOUBLE')}, 'full_name': "
            f"{part('full_name')}, 'id': {part('id')}, 'type': {part('type')}}} for e in "
            f"coalesce(\"credits\", []) if {'' if discount else 'NOT '}{test}]")


#: Google's usage units -> FOCUS UnitFormat ("<data size>-<plural time unit>", IEC sizes as
#: GiB, counts in the plural); a unit not listed stays as Google writes it.
UNITS = {
    "byte-seconds": "B-Seconds", "bytes": "B", "seconds": "Seconds", "requests": "Requests",
    "request": "Requests", "count": "Count", "hour": "Hours", "hours": "Hours",
    "month": "Months", "gibibyte": "GiB", "tebibyte": "TiB", "mebibyte": "MiB",
    "gibibyte hour": "GiB-Hours", "gibibyte month": "GiB-Months", "gibibyte second": "GiB-Seconds",
    "mebibyte second": "MiB-Seconds", "tebibyte month": "TiB-Months",
}


def _unit(expr: str) -> str:
    cases = " ".join(f"WHEN {literal(k)} THEN {literal(v)}" for k, v in UNITS.items())
    return f"CASE lower(trim({expr})) {cases} ELSE NULLIF({expr}, '') END"


def billing_sql(have: Mapping[str, str], relation: str) -> str:
    """FOCUS-shaped rows of a standard or detailed usage cost table (``relation``, columns
    ``have``): its charges, then a Credit row per credit that is not a discount."""
    c = _Columns(have)
    cost = c.col("cost", "DOUBLE")
    cost_type = f"lower(replace(coalesce({c.col('cost_type')}, 'regular'), '_', ' '))"
    transaction = c.col("transaction_type")
    marketplace = f"coalesce({transaction} IN ({', '.join(literal(m) for m in MARKETPLACE)}), " \
                  "false)"
    seller = f"CASE WHEN {marketplace} THEN NULLIF(trim({c.col('seller_name')}), '') END"
    month = c.field("invoice", "month")
    period_start = (f"timezone('America/Los_Angeles', strptime(coalesce({month}, "
                    f"replace(billing_period, '-', '')), '%Y%m'))")
    adjustment = (f"coalesce({c.field('adjustment_info', 'id')}, "
                  f"{c.field('adjustment_info', 'type')}, "
                  f"{c.field('adjustment_info', 'description')})")
    global_name = c.field("resource", "global_name")
    category = (f"CASE {cost_type} WHEN 'tax' THEN 'Tax' WHEN 'adjustment' THEN 'Adjustment' "
                f"WHEN 'rounding error' THEN 'Adjustment' ELSE 'Usage' END")
    common = {
        "AvailabilityZone": c.field("location", "zone"),
        "BillingAccountId": c.col("billing_account_id"),
        "BillingAccountType": "'Billing Account'",
        "BillingCurrency": c.col("currency"),
        "BillingPeriodStart": period_start,
        "BillingPeriodEnd": f"{period_start} + INTERVAL 1 MONTH",
        "ChargePeriodStart": c.col("usage_start_time", "TIMESTAMP WITH TIME ZONE"),
        "ChargePeriodEnd": c.col("usage_end_time", "TIMESTAMP WITH TIME ZONE"),
        "InvoiceIssuerName": literal(PROVIDER),
        "ProviderName": literal(PROVIDER),
        "PublisherName": f"coalesce({seller}, {literal(PROVIDER)})",
        "ServiceProviderName": f"coalesce({seller}, {literal(PROVIDER)})",
        "HostProviderName": f"CASE WHEN {marketplace} THEN {literal(PROVIDER)} END",
        "RegionId": f"NULLIF({c.field('location', 'region')}, '')",
        "RegionName": "_region_name",
        "ResourceId": f"NULLIF({global_name}, '')",
        "ResourceName": f"NULLIF({c.field('resource', 'name')}, '')",
        "ResourceType": f"CASE WHEN regexp_matches({global_name}, '^//[^/]+/.+/[^/]+/[^/]+$') "
                        f"THEN regexp_replace({global_name}, '^//([^/.]+)[^/]*/.*/([^/]+)/"
                        f"[^/]+$', '\\1/\\2') END",
        "ServiceName": f"coalesce(NULLIF({c.field('service', 'description')}, ''), 'Other')",
        "ServiceCategory": "coalesce(_category, 'Other')",
        "ServiceSubcategory": "coalesce(_subcategory, 'Other (Other)')",
        "SubAccountId": f"NULLIF({c.field('project', 'id')}, '')",
        "SubAccountName": f"NULLIF({c.field('project', 'name')}, '')",
        "SubAccountType": f"CASE WHEN NULLIF({c.field('project', 'id')}, '') IS NOT NULL "
                          f"THEN 'Project' END",
        "Tags": "_tags",
        "x_Kind": "_kind",
        "x_CostType": c.col("cost_type"),
        "x_TransactionType": transaction,
        "x_ServiceId": c.field("service", "id"),
        "x_ProjectNumber": c.field("project", "number"),
        "x_ExportName": "export_name",
        "x_BillingPeriod": "billing_period",
        "x_UnusedCommitment": "false",
    }
    discounts = "coalesce(list_sum([d.amount for d in _discounts]), 0)"
    usage = "_category_of = 'Usage'"
    charge = {
        **common,
        "BilledCost": f"{cost} + {discounts}",
        "EffectiveCost": f"{cost} + {discounts}",
        "ContractedCost": cost,
        "ListCost": f"coalesce({c.col('cost_at_list', 'DOUBLE')}, {cost})",
        "ChargeCategory": "_category_of",
        "ChargeClass": f"CASE WHEN _category_of = 'Adjustment' AND {adjustment} IS NOT NULL "
                       f"THEN 'Correction' END",
        "ChargeDescription": f"NULLIF({c.field('sku', 'description')}, '')",
        "ChargeFrequency": f"CASE WHEN {usage} THEN 'Usage-Based' ELSE 'One-Time' END",
        "ConsumedQuantity": f"CASE WHEN {usage} THEN {c.field('usage', 'amount', 'DOUBLE')} END",
        "ConsumedUnit": f"CASE WHEN {usage} THEN {_unit(c.field('usage', 'unit'))} END",
        "PricingQuantity": f"CASE WHEN {usage} THEN "
                           f"{c.field('usage', 'amount_in_pricing_units', 'DOUBLE')} END",
        "PricingUnit": f"CASE WHEN {usage} THEN {_unit(c.field('usage', 'pricing_unit'))} "
                       f"END",
        "PricingCategory": f"CASE WHEN {usage} THEN CASE WHEN list_contains([upper(d.type) for d "
                           f"in _discounts], 'COMMITTED_USAGE_DISCOUNT') OR list_contains("
                           f"[upper(d.type) for d in _discounts], "
                           f"'COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE') THEN 'Committed' "
                           f"ELSE 'Standard' END END",
        "PricingCurrency": c.col("currency"),
        "PricingCurrencyEffectiveCost": f"{cost} + {discounts}",
        # "SkuId MUST be null when ChargeCategory is "Tax"", and its meter with it.
        "SkuId": f"CASE WHEN _category_of <> 'Tax' THEN NULLIF({c.field('sku', 'id')}, '') END",
        "SkuPriceId": f"CASE WHEN NULLIF({c.field('sku', 'id')}, '') IS NOT NULL AND "
                      f"{c.field('price', 'tier_start_amount', 'DOUBLE')} IS NOT NULL THEN "
                      f"{c.field('sku', 'id')} || '/' || CAST({c.field('price', 'tier_start_amount', 'DOUBLE')} AS VARCHAR) END",  # noqa: E501
        "SkuMeter": f"CASE WHEN _category_of <> 'Tax' THEN "
                    f"NULLIF({c.field('sku', 'description')}, '') END",
        "x_CreditType": "CAST(NULL AS VARCHAR)",
        "x_CreditId": "CAST(NULL AS VARCHAR)",
        "x_Discounts": discounts,
    }
    credit = {
        **common,
        "BilledCost": "_credit.amount",
        "EffectiveCost": "_credit.amount",
        "ContractedCost": "_credit.amount",
        "ListCost": "_credit.amount",
        "ChargeCategory": "'Credit'",
        "ChargeDescription": "coalesce(NULLIF(_credit.full_name, ''), NULLIF(_credit.name, ''), "
                             "'Credit')",
        "ChargeFrequency": "'One-Time'",
        "PricingCurrency": c.col("currency"),
        "PricingCurrencyEffectiveCost": "_credit.amount",
        "x_CreditType": "_credit.type",
        "x_CreditId": "_credit.id",
        "x_Discounts": "CAST(0 AS DOUBLE)",
    }
    services = _values(_SERVICES, "s", "_service, _category, _subcategory")
    regions = _values(_REGIONS, "g", "_region, _region_name")
    kind = "'detailed'" if "resource" in c.have or "price" in c.have else "'standard'"
    rows = (f"SELECT r.*, s._category, s._subcategory, g._region_name FROM (SELECT *, "
            f"{category} AS _category_of, {_tags(c)} AS _tags, {kind} AS _kind, "
            f"{_credits(c, True)} AS _discounts, {_credits(c, False)} AS _credits "
            f"FROM {relation}) r LEFT JOIN {services} ON s._service = "
            f"{c.field('service', 'description')} LEFT JOIN {regions} ON g._region = "
            f"{c.field('location', 'region')}")
    return (f"SELECT {_select(charge)} FROM ({rows}) "
            # Only rows with such a credit (DuckDB pushes the filter below the Tags and lists
            # of the rest: 1.7 s of 500,000 rows' 9 s was that projection, made twice).
            f"UNION ALL BY NAME SELECT {_select(credit)} FROM (SELECT *, unnest(_credits) AS "
            f"_credit FROM ({rows}) WHERE len(_credits) > 0) WHERE _credit.amount IS NOT NULL")


def _select(columns: dict[str, str]) -> str:
    out = {name: "NULL" for name in COLUMNS} | columns
    types = {**COLUMNS, **ADDED_1_3, **X_COLUMNS}
    return ", ".join(f"CAST({expr} AS {types[name]}) AS {quote(name)}"
                     for name, expr in out.items())


def focus_export_sql(have: Mapping[str, str], relation: str) -> str:
    """FOCUS-shaped rows of a FOCUS export table (``relation``, columns ``have``)."""
    c = _Columns(have)
    select = {name: c.col(name, sql_type) for name, sql_type in {**COLUMNS, **ADDED_1_3}.items()}
    for name in ("ConsumedUnit", "PricingUnit"):
        select[name] = _unit(select[name])
    for name in ("ProviderName", "InvoiceIssuerName", "PublisherName"):
        select[name] = f"coalesce({c.col(name)}, {literal(PROVIDER)})"
    select["BillingAccountType"] = (f"CASE WHEN {c.col('BillingAccountId')} IS NOT NULL THEN "
                                    f"coalesce({c.col('BillingAccountType')}, "
                                    "'Billing Account') END")
    select["PricingCurrency"] = f"coalesce({c.col('PricingCurrency')}, {c.col('BillingCurrency')})"
    select["PricingCurrencyEffectiveCost"] = (
        f"coalesce({c.col('PricingCurrencyEffectiveCost', 'DOUBLE')}, "
        f"{c.col('EffectiveCost', 'DOUBLE')})")
    select["ServiceProviderName"] = (f"coalesce({c.col('ServiceProviderName')}, "
                                     f"{c.col('PublisherName')}, {literal(PROVIDER)})")
    if c.has_list("Tags", "key", "value"):
        select["Tags"] = _pairs(c, "Tags")
    elif "Tags" in c.have and c.have["Tags"].startswith("MAP"):
        select["Tags"] = 'to_json("Tags")'
    elif "Tags" in c.have:
        select["Tags"] = 'CAST("Tags" AS VARCHAR)'
    select["ServiceSubcategory"] = (f"coalesce({c.col('ServiceSubcategory')}, 'Other (' || "
                                    f"coalesce({c.col('ServiceCategory')}, 'Other') || ')')")
    select |= {
        "x_Kind": "'focus'",
        "x_CostType": c.col("x_CostType"),
        "x_TransactionType": c.col("x_TransactionType"),
        "x_ServiceId": c.col("x_ServiceId"),
        "x_ProjectNumber": c.col("x_ProjectNumber"),
        "x_CreditType": "CAST(NULL AS VARCHAR)",
        "x_CreditId": "CAST(NULL AS VARCHAR)",
        "x_Discounts": "CAST(NULL AS DOUBLE)",
        "x_ExportName": "export_name",
        "x_BillingPeriod": "billing_period",
        "x_UnusedCommitment": f"coalesce({c.col('CommitmentDiscountStatus')} = 'Unused', false)",
    }
    return f"SELECT {_select(select)} FROM {relation}"


#: The mapping of each kind of export, in the form every engine runs
#: (open_finops.core.mapping); store.refresh_views unions them over the loaded tables.
MAPPINGS = Mappings("gcp", {"standard": billing_sql, "detailed": billing_sql,
                            "focus": focus_export_sql}, X_COLUMNS)
