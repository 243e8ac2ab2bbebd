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
