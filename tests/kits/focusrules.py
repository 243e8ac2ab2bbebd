"""The rules of a FOCUS 1.2 Cost and Usage dataset that the vendors' conformance tests check
(test_aws_focus for AWS, test_azure_focus for Azure and both together): columns and
types, allowed values, service category pairs, the unit format, and the nullability between
columns, written out from the FOCUS 1.2 text, not taken from the code under test."""
from __future__ import annotations

import re

DECIMAL, STRING, DATETIME = "DOUBLE", "VARCHAR", "TIMESTAMP WITH TIME ZONE"
# FOCUS 1.2 Cost and Usage columns (mandatory, conditional and recommended that CUR can fill).
COLUMNS = {
    "AvailabilityZone": STRING, "BilledCost": DECIMAL, "BillingAccountId": STRING,
    "BillingAccountName": STRING, "BillingAccountType": STRING, "BillingCurrency": STRING,
    "BillingPeriodEnd": DATETIME, "BillingPeriodStart": DATETIME,
    "CapacityReservationId": STRING, "CapacityReservationStatus": STRING,
    "ChargeCategory": STRING, "ChargeClass": STRING, "ChargeDescription": STRING,
    "ChargeFrequency": STRING, "ChargePeriodEnd": DATETIME, "ChargePeriodStart": DATETIME,
    "CommitmentDiscountCategory": STRING, "CommitmentDiscountId": STRING,
    "CommitmentDiscountName": STRING, "CommitmentDiscountQuantity": DECIMAL,
    "CommitmentDiscountStatus": STRING, "CommitmentDiscountType": STRING,
    "CommitmentDiscountUnit": STRING, "ConsumedQuantity": DECIMAL, "ConsumedUnit": STRING,
    "ContractedCost": DECIMAL, "ContractedUnitPrice": DECIMAL, "EffectiveCost": DECIMAL,
    "InvoiceId": STRING, "InvoiceIssuerName": STRING, "ListCost": DECIMAL,
    "ListUnitPrice": DECIMAL, "PricingCategory": STRING, "PricingCurrency": STRING,
    "PricingCurrencyContractedUnitPrice": DECIMAL, "PricingCurrencyEffectiveCost": DECIMAL,
    "PricingCurrencyListUnitPrice": DECIMAL,
    "PricingQuantity": DECIMAL, "PricingUnit": STRING, "ProviderName": STRING,
    "PublisherName": STRING, "RegionId": STRING, "RegionName": STRING, "ResourceId": STRING,
    "ResourceName": STRING, "ResourceType": STRING, "ServiceCategory": STRING,
    "ServiceName": STRING, "ServiceSubcategory": STRING, "SkuId": STRING, "SkuMeter": STRING,
    "SkuPriceDetails": STRING, "SkuPriceId": STRING, "SubAccountId": STRING,
    "SubAccountName": STRING, "SubAccountType": STRING, "Tags": STRING,
}
# FOCUS 1.3 adds these to the Cost and Usage dataset (ProviderName and PublisherName stay).
ADDED_1_3 = {"AllocatedMethodDetails": STRING, "AllocatedMethodId": STRING,
             "AllocatedResourceId": STRING, "AllocatedResourceName": STRING,
             "AllocatedTags": STRING, "ContractApplied": STRING, "HostProviderName": STRING,
             "ServiceProviderName": STRING}
NOT_NULL = ["BilledCost", "BillingAccountId", "BillingCurrency", "BillingPeriodEnd",
            "BillingPeriodStart", "ChargeCategory", "ChargeFrequency", "ChargePeriodEnd",
            "ChargePeriodStart", "ContractedCost", "EffectiveCost", "InvoiceIssuerName",
            "ListCost", "PricingCurrency", "PricingCurrencyEffectiveCost", "ProviderName",
            "PublisherName", "ServiceCategory", "ServiceName", "ServiceSubcategory",
            "ChargeDescription"]
ALLOWED = {
    "ChargeCategory": {"Usage", "Purchase", "Tax", "Credit", "Adjustment"},
    "ChargeClass": {"Correction"},
    "ChargeFrequency": {"One-Time", "Recurring", "Usage-Based"},
    "PricingCategory": {"Standard", "Committed", "Dynamic", "Other"},
    "CommitmentDiscountCategory": {"Spend", "Usage"},
    "CommitmentDiscountStatus": {"Used", "Unused"},
    "CapacityReservationStatus": {"Used", "Unused"},
}
# FOCUS 1.2 ServiceCategory -> its ServiceSubcategory values.
SUBCATEGORIES = {
    "AI and Machine Learning": ["AI Platforms", "Bots", "Generative AI", "Machine Learning",
                                "Natural Language Processing"],
    "Analytics": ["Analytics Platforms", "Business Intelligence", "Data Processing", "Search",
                  "Streaming Analytics"],
    "Business Applications": ["Productivity and Collaboration"],
    "Compute": ["Containers", "End User Computing", "Quantum Compute", "Serverless Compute",
                "Virtual Machines"],
    "Databases": ["Caching", "Data Warehouses", "Ledger Databases", "NoSQL Databases",
                  "Relational Databases", "Time Series Databases"],
    "Developer Tools": ["Developer Platforms", "Continuous Integration and Deployment",
                        "Development Environments", "Source Code Management",
                        "Quality Assurance"],
    "Identity": ["Identity and Access Management"],
    "Integration": ["API Management", "Messaging", "Workflow Orchestration"],
    "Internet of Things": ["IoT Analytics", "IoT Platforms"],
    "Management and Governance": ["Architecture", "Compliance", "Cost Management",
                                  "Data Governance", "Disaster Recovery",
                                  "Endpoint Management", "Observability", "Support"],
    "Media": ["Content Creation", "Gaming", "Media Streaming", "Mixed Reality"],
    "Migration": ["Data Migration", "Resource Migration"],
    "Mobile": [],
    "Multicloud": ["Multicloud Integration"],
    "Networking": ["Application Networking", "Content Delivery", "Network Connectivity",
                   "Network Infrastructure", "Network Routing", "Network Security"],
    "Security": ["Secret Management", "Security Posture Management",
                 "Threat Detection and Response"],
    "Storage": ["Backup Storage", "Block Storage", "File Storage", "Object Storage",
                "Storage Platforms"],
    "Web": ["Application Platforms"],
    "Other": [],
}
PAIRS = {(category, sub) for category, subs in SUBCATEGORIES.items()
         for sub in subs + [f"Other ({category})"]}
# FOCUS 1.2 UnitFormat: a unit, <unit>-<plural time unit>, <unit>/<singular time unit>,
# <quantity> <unit>, <unit>/<interval> <plural time unit>.
_WORDS = r"[A-Za-z][A-Za-z0-9]*(?: [A-Za-z][A-Za-z0-9]*)*"
_PLURAL = "(?:Years|Months|Days|Hours|Minutes|Seconds)"
_SINGULAR = "(?:Year|Month|Day|Hour|Minute|Second)"
UNIT = re.compile(rf"^(?:{_WORDS}|{_WORDS}-{_PLURAL}|{_WORDS}/{_SINGULAR}|[0-9]+ {_WORDS}|"
                  rf"{_WORDS}/[0-9]+ {_PLURAL})$")

# Null on Tax rows.
TAX_NULL = ["PricingQuantity", "PricingUnit", "SkuId", "SkuPriceId", "ListUnitPrice",
            "ContractedUnitPrice", "PricingCategory"]

# (describing column, the column it describes): null exactly when the other is.
DESCRIBING = [
    ("PricingUnit", "PricingQuantity"), ("ConsumedUnit", "ConsumedQuantity"),
    ("SubAccountName", "SubAccountId"), ("SubAccountType", "SubAccountId"),
    ("BillingAccountType", "BillingAccountId"), ("RegionName", "RegionId"),
    ("ResourceType", "ResourceId"), ("CommitmentDiscountCategory", "CommitmentDiscountId"),
    ("CommitmentDiscountType", "CommitmentDiscountId"),
    ("CommitmentDiscountUnit", "CommitmentDiscountQuantity"),
    ("SkuMeter", "SkuId"),
]

# The rows that FOCUS 1.2 requires a ConsumedQuantity on.
CONSUMING = ("ChargeCategory = 'Usage' AND CommitmentDiscountStatus IS DISTINCT FROM 'Unused' "
             "AND ChargeClass IS DISTINCT FROM 'Correction'")


_TOLERANCE = "1e-9 * greatest(abs({cost}), 1)"  # the validator's, relative


def _product(cost: str, price: str) -> str:
    return (f"{price} IS NOT NULL AND PricingQuantity IS NOT NULL AND "
            f"abs({price} * PricingQuantity - {cost}) > {_TOLERANCE.format(cost=cost)}")


#: FOCUS 1.3's rules that the 1.2 ones above do not already say, each quoted from the text,
#: with the rows that break it (a WHERE clause over ``focus``).
RULES_1_3 = {
    "ServiceProviderName MUST NOT be null.": "ServiceProviderName IS NULL",
    "HostProviderName MUST equal ServiceProviderName in all other cases.":
        "HostProviderName IS NOT NULL AND HostProviderName <> ServiceProviderName",
    "HostProviderName MUST NOT be null in all other cases [than Tax, Adjustment and products "
    "whose host cannot be determined].":
        "HostProviderName IS NULL AND ChargeCategory NOT IN ('Tax', 'Adjustment') "
        "AND ServiceProviderName = InvoiceIssuerName",
    "AllocatedMethodId MUST be null when a charge is not related to a data generator-"
    "calculated split cost allocation.":
        "coalesce(AllocatedMethodId, AllocatedMethodDetails, AllocatedResourceId, "
        "AllocatedResourceName, AllocatedTags) IS NOT NULL",
    "SkuPriceId MUST NOT be null when ChargeCategory is \"Usage\" or \"Purchase\" and "
    "ChargeClass is not \"Correction\".":
        "SkuPriceId IS NULL AND ChargeCategory IN ('Usage', 'Purchase') AND ChargeClass IS NULL",
    "SkuPriceId MUST be null when ChargeCategory is \"Tax\".":
        "SkuPriceId IS NOT NULL AND ChargeCategory = 'Tax'",
    "ListUnitPrice MUST be null when SkuPriceId is null (likewise ContractedUnitPrice, the "
    "pricing-currency unit prices, PricingQuantity, PricingCategory and ConsumedQuantity).":
        "SkuPriceId IS NULL AND coalesce(ListUnitPrice, ContractedUnitPrice, "
        "PricingCurrencyListUnitPrice, PricingCurrencyContractedUnitPrice, PricingQuantity, "
        "ConsumedQuantity) IS NOT NULL OR SkuPriceId IS NULL AND PricingCategory IS NOT NULL",
    "ListUnitPrice MUST NOT be null when SkuPriceId is not null (likewise "
    "ContractedUnitPrice and the pricing-currency unit prices).":
        "SkuPriceId IS NOT NULL AND (ListUnitPrice IS NULL OR ContractedUnitPrice IS NULL OR "
        "PricingCurrencyListUnitPrice IS NULL OR PricingCurrencyContractedUnitPrice IS NULL)",
    "ListUnitPrice MUST be a non-negative decimal value (likewise every unit price).":
        "ListUnitPrice < 0 OR ContractedUnitPrice < 0 OR PricingCurrencyListUnitPrice < 0 "
        "OR PricingCurrencyContractedUnitPrice < 0",
    "ListCost MUST equal the product of ListUnitPrice and PricingQuantity when ListUnitPrice "
    "is not null and PricingQuantity is not null.": _product("ListCost", "ListUnitPrice"),
    "ContractedCost MUST equal the product of ContractedUnitPrice and PricingQuantity when "
    "ContractedUnitPrice is not null and PricingQuantity is not null.":
        _product("ContractedCost", "ContractedUnitPrice"),
    "CapacityReservationStatus MUST be null when CapacityReservationId is null.":
        "CapacityReservationId IS NULL AND CapacityReservationStatus IS NOT NULL",
    "CapacityReservationStatus MUST NOT be null when CapacityReservationId is not null and "
    "ChargeCategory is \"Usage\".":
        "CapacityReservationId IS NOT NULL AND ChargeCategory = 'Usage' AND "
        "CapacityReservationStatus IS NULL",
}
