"""OCI's rows as FOCUS 1.2 (core adds 1.3's columns and holds both to the rules every provider
shares, open_finops.core.focus): one row-local mapping per kind of report
(open_finops.core.mapping). Where the FOCUS text and the converters' mapping
(finopsfoundation/focus_converters, conversion_configs/oci) differ, the text wins.

Cost reports (``reports/cost-csv``):

* BilledCost, EffectiveCost, ContractedCost (and ListCost, for want of a list price) are
  ``cost/myCost``, the cost of the line: billed quantity times unit price. The overage
  columns are the part of it used beyond a commitment (``x_CostOverage``), not a cost of
  their own (the converters take ``cost/myCostOverage`` as BilledCost, which would drop every
  line without overage from the bill);
* BillingAccountId is the subscription (``cost/subscriptionId``, type "Subscription"),
  SubAccountId the tenancy (``lineItem/tenantId``, type "Tenancy"); the compartment is
  ``x_CompartmentId`` and ``x_CompartmentName``;
* a correction (``lineItem/isCorrection`` true) is a row of ChargeClass "Correction", with the
  line it corrects in ``x_BackReferenceNumber``; ChargeCategory is Usage, ChargeFrequency
  Usage-Based, PricingCategory Standard;
* the billing period is the month the row's usage started in (the month it was loaded as);
  quantities are ``usage/billedQuantity`` in ``cost/skuUnitDescription`` (FOCUS UnitFormat:
  "GB Months" -> "GB-Months", "Instance per hour" -> "Instance/Hour"); Tags are the
  ``tags/<namespace>.<key>`` columns as one JSON object.

FOCUS reports (``FOCUS Reports``): FOCUS 1.0 by their names, with those of 1.0's preview
that OCI writes (Provider, Publisher, InvoiceIssuer, Region, UsageQuantity, UsageUnit) read
as their 1.0 columns; what 1.2 adds is derived where 1.2 defines it from other columns
(PricingCurrency from BillingCurrency, ContractedCost from BilledCost, the account types,
ServiceSubcategory from the service), NULL otherwise. ChargeClass is the report's where it has
the column; ``oci_BackReferenceNumber`` is kept as ``x_BackReferenceNumber`` and the other
``oci_`` columns as ``x_`` columns.

Both: ProviderName is "Oracle"; ServiceCategory and ServiceSubcategory come from the service
(:data:`SERVICES`, OCI's service names and codes), else the report's category, else Other.
"""
from __future__ import annotations

import json
from collections.abc import Mapping

from open_finops.core.focus import COLUMNS as FOCUS_COLUMNS
from open_finops.core.mapping import Mappings
from open_finops.core.sql import literal, quote

PROVIDER = "Oracle"
#: The columns of a cost report read as numbers and as instants.
COST_NUMBERS = frozenset({"usage/billedQuantity", "usage/billedQuantityOverage",
                          "cost/unitPrice", "cost/unitPriceOverage", "cost/myCost",
                          "cost/myCostOverage"})
COST_TIMES = frozenset({"lineItem/intervalUsageStart", "lineItem/intervalUsageEnd"})
#: A FOCUS report's numbers beyond FOCUS's own (whose types are core's).
REPORT_NUMBERS = frozenset({"UsageQuantity", "oci_UnitPriceOverage",
                            "oci_BilledQuantityOverage", "oci_CostOverage",
                            "oci_AttributedUsage", "oci_AttributedCost"})
#: FOCUS 1.0 columns under the names of 1.0's preview, as OCI's FOCUS reports write them.
RENAMED = {"ProviderName": ("Provider",), "PublisherName": ("Publisher",),
           "InvoiceIssuerName": ("InvoiceIssuer",), "RegionId": ("Region",),
           "RegionName": ("Region",), "ConsumedQuantity": ("UsageQuantity",),
           "ConsumedUnit": ("UsageUnit",)}
#: OCI's service (a cost report's code, a FOCUS report's name, upper case with "_" for what is
#: not a letter or digit) -> FOCUS 1.2 ServiceCategory and ServiceSubcategory.
SERVICES = {
    "COMPUTE": ("Compute", "Virtual Machines"),
    "FUNCTIONS": ("Compute", "Serverless Compute"),
    "CONTAINER_ENGINE": ("Compute", "Containers"),
    "CONTAINER_INSTANCES": ("Compute", "Containers"),
    "DATABASE": ("Databases", "Relational Databases"),
    "AUTONOMOUS_DATABASE": ("Databases", "Relational Databases"),
    "MYSQL": ("Databases", "Relational Databases"),
    "POSTGRESQL": ("Databases", "Relational Databases"),
    "NOSQL": ("Databases", "NoSQL Databases"),
    "CACHE": ("Databases", "Caching"),
    "BLOCK_STORAGE": ("Storage", "Block Storage"),
    "OBJECTSTORE": ("Storage", "Object Storage"),
    "OBJECT_STORAGE": ("Storage", "Object Storage"),
    "ARCHIVE_STORAGE": ("Storage", "Backup Storage"),
    "FILE_STORAGE": ("Storage", "File Storage"),
    "NETWORK": ("Networking", "Network Infrastructure"),
    "NETWORKING": ("Networking", "Network Infrastructure"),
    "VIRTUAL_CLOUD_NETWORK": ("Networking", "Network Infrastructure"),
    "LOAD_BALANCER": ("Networking", "Network Infrastructure"),
    "FASTCONNECT": ("Networking", "Network Connectivity"),
    "DNS": ("Networking", "Network Routing"),
    "WAF": ("Networking", "Network Security"),
    "WEB_APPLICATION_FIREWALL": ("Networking", "Network Security"),
    "TELEMETRY": ("Management and Governance", "Observability"),
    "MONITORING": ("Management and Governance", "Observability"),
    "LOGGING": ("Management and Governance", "Observability"),
    "APM": ("Management and Governance", "Observability"),
    "SUPPORT": ("Management and Governance", "Support"),
    "ORACLE_STREAMING_SERVICE": ("Analytics", "Streaming Analytics"),
    "STREAMING": ("Analytics", "Streaming Analytics"),
    "ANALYTICS": ("Analytics", "Business Intelligence"),
    "DATA_FLOW": ("Analytics", "Data Processing"),
    "NOTIFICATIONS": ("Integration", "Messaging"),
    "QUEUE": ("Integration", "Messaging"),
    "API_GATEWAY": ("Integration", "API Management"),
    "INTEGRATION": ("Integration", "Workflow Orchestration"),
    "DATA_SCIENCE": ("AI and Machine Learning", "Machine Learning"),
    "GENERATIVE_AI": ("AI and Machine Learning", "Generative AI"),
    "VAULT": ("Security", "Secret Management"),
    "KEY_MANAGEMENT": ("Security", "Secret Management"),
    "CLOUD_GUARD": ("Security", "Security Posture Management"),
    "IDENTITY": ("Identity", "Identity and Access Management"),
}
#: FOCUS 1.2's service categories (a report's category outside them is Other).
CATEGORIES = ("AI and Machine Learning", "Analytics", "Business Applications", "Compute",
              "Databases", "Developer Tools", "Multicloud", "Identity", "Integration",
              "Internet of Things", "Management and Governance", "Media", "Migration",
              "Mobile", "Networking", "Security", "Storage", "Web", "Other")
#: The x_ columns of the OCI rows, after the FOCUS columns (open_finops.core.focus).
X_COLUMNS = {
    "x_ExportName": "VARCHAR", "x_BillingPeriod": "VARCHAR", "x_UnusedCommitment": "BOOLEAN",
    "x_ReportKind": "VARCHAR", "x_CompartmentId": "VARCHAR", "x_CompartmentName": "VARCHAR",
    "x_ReferenceNumber": "VARCHAR", "x_BackReferenceNumber": "VARCHAR",
    "x_OverageFlag": "VARCHAR", "x_BilledQuantityOverage": "DOUBLE",
    "x_UnitPriceOverage": "DOUBLE", "x_CostOverage": "DOUBLE", "x_AttributedUsage": "DOUBLE",
    "x_AttributedCost": "DOUBLE",
}
_TIME_UNITS = "Years|Months|Weeks|Days|Hours|Minutes|Seconds"


def unit_sql(expr: str) -> str:
    """OCI's unit in FOCUS UnitFormat: ``<unit>-<plural time unit>`` for "GB Months",
    ``<unit>/<singular time unit>`` for "Instance per hour"."""
    for single in ("Year", "Month", "Day", "Hour", "Minute", "Second"):
        expr = (f"regexp_replace({expr}, ' [Pp]er [{single[0]}{single[0].lower()}]"
                f"{single[1:]}$', '/{single}')")
    return f"regexp_replace({expr}, ' ({_TIME_UNITS})$', '-\\1')"


def _service(name: str, category: str = "NULL") -> tuple[str, str, str]:
    """SQL of ServiceCategory and ServiceSubcategory for the service ``name`` (SQL), the
    report's ``category`` (SQL) where the service is not known, and the join of the constant
    table they read (:data:`SERVICES`: row-local still)."""
    key = f"upper(regexp_replace(trim({name}), '[^A-Za-z0-9]+', '_', 'g'))"
    values = ", ".join(f"({literal(code)}, {literal(c)}, {literal(s)})"
                       for code, (c, s) in SERVICES.items())
    join = (f"LEFT JOIN (VALUES {values}) AS __svc(code, category, subcategory) "
            f"ON __svc.code = {key}")
    valid = ", ".join(literal(c) for c in CATEGORIES)
    given = f"CASE WHEN {category} IN ({valid}) THEN {category} END"
    service_category = f"coalesce(__svc.category, {given}, 'Other')"
    return (service_category,
            f"coalesce(__svc.subcategory, 'Other (' || {service_category} || ')')", join)


def _json_object(values: Mapping[str, str]) -> str:
    """SQL: a JSON object (text) of the (text) values that are not NULL, NULL when none is.
    Keys are written as JSON strings (a tag key may hold a backslash or a quote)."""
    if not values:
        return "CAST(NULL AS VARCHAR)"
    members = ", ".join(f"{literal(json.dumps(key) + ':')} || to_json({expr})"
                        for key, expr in values.items())
    return f"NULLIF('{{' || concat_ws(',', {members}) || '}}', '{{}}')"


def _resource_type(resource_id: str, fallback: str) -> str:
    """An OCID's resource type (``ocid1.<type>.``), else ``fallback``, where there is a
    resource."""
    return (f"CASE WHEN {resource_id} IS NOT NULL THEN coalesce(CASE WHEN {resource_id} LIKE "
            f"'ocid1.%' THEN NULLIF(split_part({resource_id}, '.', 2), '') END, {fallback}) END")


def _select_list(selects: Mapping[str, str]) -> str:
    return ",\n    ".join(f"{expr} AS {quote(name)}" for name, expr in selects.items())


def _billing_period(relation_alias: str = "s") -> tuple[str, str]:
    start = f"CAST({relation_alias}.billing_period || '-01 00:00:00+00' AS TIMESTAMPTZ)"
    return start, f"{start} + INTERVAL 1 MONTH"


def cost_sql(columns: Mapping[str, str], relation: str) -> str:
    """The SELECT of FOCUS rows over ``relation``, rows of cost reports (``columns``)."""

    def col(name: str, sql_type: str = "VARCHAR") -> str:
        return f"s.{quote(name)}" if name in columns else f"CAST(NULL AS {sql_type})"

    cost = col("cost/myCost", "DOUBLE")
    quantity = col("usage/billedQuantity", "DOUBLE")
    unit = unit_sql(col("cost/skuUnitDescription"))
    currency = col("cost/currencyCode")
    service = col("product/service")
    category, subcategory, join = _service(service)
    subscription = col("cost/subscriptionId")
    tenancy = col("lineItem/tenantId")
    account = f"coalesce({subscription}, {tenancy})"
    start, end = _billing_period()
    tags = {name[len("tags/"):]: f"s.{quote(name)}" for name in sorted(columns)
            if name.startswith("tags/") and columns[name] == "VARCHAR"}
    selects = {name: f"CAST(NULL AS {sql_type})" for name, sql_type in FOCUS_COLUMNS.items()}
    selects.update({
        "AvailabilityZone": col("product/availabilityDomain"),
        "BilledCost": cost,
        "BillingAccountId": account,
        "BillingAccountType": f"CASE WHEN {subscription} IS NOT NULL THEN 'Subscription' WHEN "
                              f"{tenancy} IS NOT NULL THEN 'Tenancy' END",
        "BillingCurrency": currency,
        "BillingPeriodStart": start,
        "BillingPeriodEnd": end,
        "ChargeCategory": "'Usage'",
        "ChargeClass": f"CASE WHEN lower({col('lineItem/isCorrection')}) = 'true' "
                       "THEN 'Correction' END",
        "ChargeDescription": col("product/Description"),
        "ChargeFrequency": "'Usage-Based'",
        "ChargePeriodStart": col("lineItem/intervalUsageStart", "TIMESTAMPTZ"),
        "ChargePeriodEnd": col("lineItem/intervalUsageEnd", "TIMESTAMPTZ"),
        "ConsumedQuantity": quantity,
        "ConsumedUnit": unit,
        "ContractedCost": cost,
        "ContractedUnitPrice": col("cost/unitPrice", "DOUBLE"),
        "EffectiveCost": cost,
        "InvoiceIssuerName": literal(PROVIDER),
        "ListCost": cost,
        "ListUnitPrice": col("cost/unitPrice", "DOUBLE"),
        "PricingCategory": "'Standard'",
        "PricingCurrency": currency,
        "PricingCurrencyEffectiveCost": cost,
        "PricingQuantity": quantity,
        "PricingUnit": unit,
        "ProviderName": literal(PROVIDER),
        "PublisherName": literal(PROVIDER),
        "RegionId": col("product/region"),
        "ResourceId": col("product/resourceId"),
        "ResourceType": _resource_type(col("product/resourceId"), f"lower({service})"),
        "ServiceCategory": category,
        "ServiceName": service,
        "ServiceSubcategory": subcategory,
        "SkuId": col("cost/productSku"),
        "SkuMeter": f"CASE WHEN {col('cost/productSku')} IS NOT NULL THEN "
                    f"{col('product/Description')} END",
        "SubAccountId": tenancy,
        "SubAccountType": f"CASE WHEN {tenancy} IS NOT NULL THEN 'Tenancy' END",
        "Tags": _json_object(tags),
    })
    selects.update({
        "x_ExportName": "s.export_name",
        "x_BillingPeriod": "s.billing_period",
        "x_UnusedCommitment": "false",
        "x_ReportKind": "'cost'",
        "x_CompartmentId": col("product/compartmentId"),
        "x_CompartmentName": col("product/compartmentName"),
        "x_ReferenceNumber": col("lineItem/referenceNo"),
        "x_BackReferenceNumber": col("lineItem/backreferenceNo"),
        "x_OverageFlag": col("cost/overageFlag"),
        "x_BilledQuantityOverage": col("usage/billedQuantityOverage", "DOUBLE"),
        "x_UnitPriceOverage": col("cost/unitPriceOverage", "DOUBLE"),
        "x_CostOverage": col("cost/myCostOverage", "DOUBLE"),
        "x_AttributedUsage": "CAST(NULL AS DOUBLE)",
        "x_AttributedCost": "CAST(NULL AS DOUBLE)",
    })
    return f"SELECT\n    {_select_list(selects)}\nFROM {relation} AS s\n{join}"


def report_sql(columns: Mapping[str, str], relation: str) -> str:
    """The SELECT of FOCUS rows over ``relation``, rows of OCI's FOCUS reports."""

    def col(name: str, sql_type: str | None = None) -> str:
        for candidate in (name, *RENAMED.get(name, ())):
            if candidate in columns:
                return f"s.{quote(candidate)}"
        return f"CAST(NULL AS {sql_type or FOCUS_COLUMNS.get(name, 'VARCHAR')})"

    selects = {name: col(name) for name in FOCUS_COLUMNS}
    currency = col("BillingCurrency")
    pricing_currency = f"coalesce({col('PricingCurrency')}, {currency})"
    category, subcategory, join = _service(col("ServiceName"), col("ServiceCategory"))
    frequency = col("ChargeFrequency")
    start, end = _billing_period()
    selects.update({
        "BillingPeriodStart": f"coalesce({col('BillingPeriodStart')}, {start})",
        "BillingPeriodEnd": f"coalesce({col('BillingPeriodEnd')}, {end})",
        "BillingAccountType": f"coalesce({col('BillingAccountType')}, CASE WHEN "
                              f"{col('BillingAccountId')} IS NOT NULL THEN 'Billing Account' "
                              "END)",
        "SubAccountType": f"coalesce({col('SubAccountType')}, CASE WHEN {col('SubAccountId')} "
                          "IS NOT NULL THEN 'Tenancy' END)",
        "ChargeFrequency": f"CASE {frequency} WHEN 'UsageBased' THEN 'Usage-Based' WHEN "
                           f"'OneTime' THEN 'One-Time' ELSE {frequency} END",
        "ContractedCost": f"coalesce({col('ContractedCost')}, {col('BilledCost')})",
        "PricingCurrency": pricing_currency,
        "PricingCurrencyEffectiveCost": f"coalesce({col('PricingCurrencyEffectiveCost')}, CASE "
                                        f"WHEN {pricing_currency} = {currency} THEN "
                                        f"{col('EffectiveCost')} END)",
        "ProviderName": literal(PROVIDER),
        "PublisherName": f"coalesce({col('PublisherName')}, {literal(PROVIDER)})",
        "InvoiceIssuerName": f"coalesce({col('InvoiceIssuerName')}, {literal(PROVIDER)})",
        "ServiceCategory": category,
        "ServiceSubcategory": subcategory,
        "ResourceType": _resource_type(col("ResourceId"), f"lower({col('ServiceName')})"),
        "PricingUnit": unit_sql(col("PricingUnit")),
        "ConsumedUnit": unit_sql(col("ConsumedUnit")),
    })
    if "ResourceType" in columns:  # the report's own, where it has one
        selects["ResourceType"] = (f"CASE WHEN {col('ResourceId')} IS NOT NULL THEN coalesce("
                                   f"{col('ResourceType')}, {selects['ResourceType']}) END")
    selects.update({
        "x_ExportName": "s.export_name",
        "x_BillingPeriod": "s.billing_period",
        "x_UnusedCommitment": "false",
        "x_ReportKind": "'focus'",
        "x_CompartmentId": col("oci_CompartmentId", "VARCHAR"),
        "x_CompartmentName": col("oci_CompartmentName", "VARCHAR"),
        "x_ReferenceNumber": col("oci_ReferenceNumber", "VARCHAR"),
        "x_BackReferenceNumber": col("oci_BackReferenceNumber", "VARCHAR"),
        "x_OverageFlag": col("oci_OverageFlag", "VARCHAR"),
        "x_BilledQuantityOverage": col("oci_BilledQuantityOverage", "DOUBLE"),
        "x_UnitPriceOverage": col("oci_UnitPriceOverage", "DOUBLE"),
        "x_CostOverage": col("oci_CostOverage", "DOUBLE"),
        "x_AttributedUsage": col("oci_AttributedUsage", "DOUBLE"),
        "x_AttributedCost": col("oci_AttributedCost", "DOUBLE"),
    })
    return f"SELECT\n    {_select_list(selects)}\nFROM {relation} AS s\n{join}"


#: The mapping of each kind of report, in the form every engine runs (open_finops.core.mapping).
MAPPINGS = Mappings("oci", {"focus": report_sql, "cost": cost_sql}, X_COLUMNS)
