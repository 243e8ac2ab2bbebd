"""Write Azure Cost Management exports the way a customer's storage container holds them, with
known totals, for the azure plugin's tests and benchmark (research: /work/briefs/azure-schema.md).

The folder ``root`` given to every writer stands for the container itself (``az://CONTAINER/``):
upload it as is, or pass ``root`` (or ``root / directory``) to ``--source``. Layouts:

* current exports (a manifest per run, partitioned)::

    <directory>/<export>/<YYYYMMDD-YYYYMMDD>/[<YYYYMMDDHHMM>/]<runId>/manifest.json
    <directory>/<export>/<YYYYMMDD-YYYYMMDD>/[<YYYYMMDDHHMM>/]<runId>/part_0_0001.csv
                             (or part_0_0001.csv.gz, part_0_0001.snappy.parquet; part_1_0001...)

  ``manifest.json`` in Microsoft's documented shape (manifestVersion 2024-04-01); its
  ``blobs[].blobName`` are paths from the container root (``root``), as Azure writes them.
  A restated period has a second run in the same period folder: the newer one is the one with
  the later ``runInfo.submittedTime``; its runId is chosen to sort *before* the older one, so an
  importer that picks runs by name fails.
* older exports (no manifest, one CSV per run)::

    <directory>/<export>/<YYYYMMDD-YYYYMMDD>/<export>_<guid>.csv

  the newest run is the file with the latest modification time (set by the generator: a run
  of a month is dated the next month, 06:00 UTC and later, runs an hour apart); again its
  name sorts first.

Column sets: EA and MCA cost details 2023-12-01 (names and case as Microsoft documents them;
EA dates MM/DD/YYYY; MCA dates ISO YYYY-MM-DD in the current layout and MM/DD/YYYY in the
older one) for the kinds ``actual`` and ``amortized``; FOCUS ``1.0``, ``1.0r2`` and
``1.2-preview`` for the kind ``focus``. Rows per month: on-demand, spot and block-priced usage,
a reservation and a savings plan (monthly purchase in actual, covered usage at 0 in actual and
amortized in amortized, the unused rest as UnusedReservation/UnusedSavingsPlan in amortized), a
reservation refund, a Marketplace purchase, an MCA rounding adjustment, tags with odd
characters. No Tax rows: Azure cost details carry none (costs are before taxes and credits).

API::

    tree = write_standard(root)                 # every case; tens of rows per file
    exp = tree.exports["mca-actual"]            # Export: name, kind, agreement, layout, fmt,
                                                #   directory, folder (key of <directory>/<name>)
    per = exp.periods["2026-01"]                # Period of the newest run of that month:
    per.rows, per.billed, per.effective         #   rows written; Decimal sums (None where the
    per.cost, per.commitment_rows, per.runs     #   kind has no such column, see Period)
    write_export(root, name, kind=..., agreement=..., layout=..., fmt=..., months=...,
                 restate=(...), directory=..., partitions=..., focus_version=..., seed=...,
                 commitments="all")     # "covered": covered usage only; "none": no RI/SP rows
    million_rows(root, rows=1_000_000)          # MCA actual, gzip CSV, current layout, 1 month

``Period.billed`` is what ``sum(BilledCost)`` over the period must be when this export is the
period's source of BilledCost (actual: its cost column; focus: its BilledCost), ``effective``
likewise for EffectiveCost (amortized: its cost column; focus: its EffectiveCost); both are
sums of the values written, exact (round with :func:`cents` to compare). Every export of
:func:`write_standard` has its own billing account, except that each actual export shares its
account (and subscriptions) with the amortized export of the same agreement, as in real life.

Run as a script to write the standard tree for manual tries: ``python tests/kits/azuregen.py OUT``.
"""
from __future__ import annotations

import argparse
import calendar
import csv
import datetime as dt
import gzip
import hashlib
import io
import json
import os
import random
import uuid
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import duckdb

MONTHS = ("2026-01", "2026-02")
KINDS = ("actual", "amortized", "focus")
TYPES = {"actual": "ActualCost", "amortized": "AmortizedCost", "focus": "FocusCost"}
FOCUS_VERSIONS = ("1.0", "1.0r2", "1.2-preview")
COMMITMENTS = ("all", "covered", "none")

EA_COLUMNS = (
    "InvoiceSectionName AccountName AccountOwnerId SubscriptionId SubscriptionName ResourceGroup "
    "ResourceLocation Date ProductName MeterCategory MeterSubCategory MeterId MeterName "
    "MeterRegion UnitOfMeasure Quantity EffectivePrice CostInBillingCurrency CostCenter "
    "ConsumedService ResourceId Tags OfferId AdditionalInfo ServiceInfo1 ServiceInfo2 "
    "ResourceName ReservationId ReservationName UnitPrice ProductOrderId ProductOrderName Term "
    "PublisherType PublisherName ChargeType Frequency PricingModel AvailabilityZone "
    "BillingAccountId BillingAccountName BillingCurrencyCode BillingPeriodStartDate "
    "BillingPeriodEndDate BillingProfileId BillingProfileName InvoiceSectionId "
    "IsAzureCreditEligible PartNumber PayGPrice PlanName ServiceFamily CostAllocationRuleName "
    "benefitId benefitName").split()
MCA_COLUMNS = (
    "invoiceId previousInvoiceId billingAccountId billingAccountName billingProfileId "
    "billingProfileName invoiceSectionId invoiceSectionName resellerName resellerMpnId "
    "costCenter billingPeriodEndDate billingPeriodStartDate servicePeriodEndDate "
    "servicePeriodStartDate date serviceFamily productOrderId productOrderName consumedService "
    "meterId meterName meterCategory meterSubCategory meterRegion ProductId ProductName "
    "SubscriptionId subscriptionName publisherType publisherId publisherName resourceGroupName "
    "ResourceId resourceLocation location effectivePrice quantity unitOfMeasure chargeType "
    "billingCurrency pricingCurrency costInBillingCurrency costInPricingCurrency costInUsd "
    "paygCostInBillingCurrency paygCostInUsd exchangeRatePricingToBilling exchangeRateDate "
    "isAzureCreditEligible serviceInfo1 serviceInfo2 additionalInfo tags PayGPrice frequency "
    "term reservationId reservationName pricingModel unitPrice costAllocationRuleName benefitId "
    "benefitName provider").split()
_FOCUS_10 = (
    "BilledCost BillingAccountId BillingAccountName BillingAccountType BillingCurrency "
    "BillingPeriodEnd BillingPeriodStart ChargeCategory ChargeClass ChargeDescription "
    "ChargeFrequency ChargePeriodEnd ChargePeriodStart CommitmentDiscountCategory "
    "CommitmentDiscountId CommitmentDiscountName CommitmentDiscountStatus CommitmentDiscountType "
    "ConsumedQuantity ConsumedUnit ContractedCost ContractedUnitPrice EffectiveCost "
    "InvoiceIssuerName ListCost ListUnitPrice PricingCategory PricingQuantity PricingUnit "
    "ProviderName PublisherName RegionId RegionName ResourceId ResourceName ResourceType "
    "ServiceCategory ServiceName SkuId SkuPriceId SubAccountId SubAccountName SubAccountType Tags "
    "x_AccountId x_AccountName x_AccountOwnerId x_BilledCostInUsd x_BilledUnitPrice "
    "x_BillingAccountId x_BillingAccountName x_BillingExchangeRate x_BillingExchangeRateDate "
    "x_BillingProfileId x_BillingProfileName x_ContractedCostInUsd x_CostAllocationRuleName "
    "x_CostCenter x_CustomerId x_CustomerName x_EffectiveCostInUsd x_EffectiveUnitPrice "
    "x_InvoiceId x_InvoiceIssuerId x_InvoiceSectionId x_InvoiceSectionName x_ListCostInUsd "
    "x_PartnerCreditApplied x_PartnerCreditRate x_PricingBlockSize x_PricingCurrency "
    "x_PricingSubcategory x_PricingUnitDescription x_PublisherCategory x_PublisherId "
    "x_ResellerId x_ResellerName x_ResourceGroupName x_ResourceType x_ServicePeriodEnd "
    "x_ServicePeriodStart x_SkuDescription x_SkuDetails x_SkuIsCreditEligible "
    "x_SkuMeterCategory x_SkuMeterId x_SkuMeterName x_SkuMeterSubcategory x_SkuOfferId "
    "x_SkuOrderId x_SkuOrderName x_SkuPartNumber x_SkuRegion x_SkuServiceFamily x_SkuTerm "
    "x_SkuTier").split()
_FOCUS_12_ADDED = (
    "CapacityReservationId CapacityReservationStatus CommitmentDiscountQuantity "
    "CommitmentDiscountUnit InvoiceId PricingCurrency ServiceSubcategory SkuMeter "
    "SkuPriceDetails x_AmortizationClass x_ServiceModel x_SkuPlanName").split()
FOCUS_COLUMNS = {
    "1.0": _FOCUS_10,
    "1.0r2": _FOCUS_10,
    "1.2-preview": sorted(set(_FOCUS_10) - {"x_InvoiceId", "x_PricingCurrency"}
                          | set(_FOCUS_12_ADDED), key=lambda c: (c.startswith("x_"), c)),
}
_FOCUS_NUMBERS = {
    "BilledCost", "CommitmentDiscountQuantity", "ConsumedQuantity", "ContractedCost",
    "ContractedUnitPrice", "EffectiveCost", "ListCost", "ListUnitPrice", "PricingQuantity",
    "x_BilledCostInUsd", "x_BilledUnitPrice", "x_BillingExchangeRate", "x_ContractedCostInUsd",
    "x_EffectiveCostInUsd", "x_EffectiveUnitPrice", "x_ListCostInUsd", "x_PricingBlockSize"}
_FOCUS_DATES = {"BillingPeriodEnd", "BillingPeriodStart", "ChargePeriodEnd", "ChargePeriodStart"}
_COST_NUMBERS = {
    "Quantity", "EffectivePrice", "CostInBillingCurrency", "UnitPrice", "PayGPrice",
    "costInPricingCurrency", "costInUsd", "paygCostInBillingCurrency", "paygCostInUsd",
    "exchangeRatePricingToBilling"}

# meter: (category, subcategory, name, unit, block, unit price, service family, consumed
#         service, resource type, FOCUS service name, FOCUS service category, product name,
#         FOCUS service subcategory); the FOCUS service columns as finops-toolkit's Services.csv
#         has them for (consumed service, resource type)
METERS = {
    "vm": ("Virtual Machines", "Dv5 Series", "D2 v5", "1 Hour", 1, "0.096", "Compute",
           "Microsoft.Compute", "microsoft.compute/virtualmachines", "Virtual Machines",
           "Compute", "Virtual Machines Dv5 Series - D2 v5 - US East", "Virtual Machines"),
    "disk": ("Storage", "Premium SSD Managed Disks", "P10 LRS Disk", "1/Month", 1, "19.71",
             "Storage", "Microsoft.Compute", "microsoft.compute/disks", "Virtual Machines",
             "Compute", "Premium SSD Managed Disks - P10 LRS", "Virtual Machines"),
    "blob": ("Storage", "General Block Blob v2", "Hot LRS Data Stored", "1 GB/Month", 1,
             "0.0184", "Storage", "Microsoft.Storage", "microsoft.storage/storageaccounts",
             "Storage Accounts", "Storage", "General Block Blob v2 - Hot LRS", "Storage Platforms"),
    "logs": ("Log Analytics", "", "Analytics Logs Data Ingestion", "10 Hours", 10, "2.30",
             "Management and Governance", "Microsoft.OperationalInsights",
             "microsoft.operationalinsights/workspaces", "Azure Monitor",
             "Management and Governance", "Log Analytics - Analytics Logs", "Observability"),
}
REGIONS = (("US East", "eastus", "East US"), ("EU West", "westeurope", "West Europe"))
#: UnitOfMeasure -> the distinct unit (finops-toolkit's PricingUnits.csv), for the FOCUS rows.
UNITS = {"1 Hour": "Hours", "10 Hours": "Hours", "1/Month": "Units/Month",
         "1 GB/Month": "GB/Month", "1": "Units"}
TAGS = ({"env": "prod", "team": "Platform"}, {"env": "dev", "cost center": "R&D \"west\", ü"}, {})


def cents(value: Decimal) -> Decimal:
    """A total as the tests compare it: rounded half-even to the cent."""
    return Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


@dataclass
class Run:
    """One export run of one period, as written."""

    run_id: str
    submitted: str  # ISO UTC, 7 fractional digits as Azure writes them
    mtime: int  # modification time given to its files
    files: list[str]  # keys relative to root, '/'-separated
    manifest: str | None  # key of manifest.json (current layout)
    rows: int
    billed: Decimal | None
    effective: Decimal | None
    cost: Decimal
    commitment_rows: int


@dataclass
class Period:
    """A month of one export: the totals of its newest run (the complete snapshot).

    rows: data rows; cost: sum of the cost column (actual/amortized CostInBillingCurrency,
    focus EffectiveCost); billed: actual cost or focus BilledCost (None for amortized);
    effective: amortized cost or focus EffectiveCost (None for actual); commitment_rows: rows
    with ChargeType Purchase or Refund and PricingModel Reservation or SavingsPlan (the rows
    Microsoft's conversion takes from actual); runs: every run, oldest first.
    """

    export: str
    kind: str
    month: str
    folder: str
    runs: list[Run] = field(default_factory=list)

    @property
    def newest(self) -> Run:
        return self.runs[-1]

    def __getattr__(self, name):
        if name in ("rows", "billed", "effective", "cost", "commitment_rows"):
            return getattr(self.runs[-1], name)
        raise AttributeError(name)


@dataclass
class Export:
    name: str
    kind: str
    agreement: str  # "EA" or "MCA"
    layout: str  # "current" or "older"
    fmt: str  # "csv", "csv.gz" or "parquet"
    directory: str
    focus_version: str | None
    billing_account: str
    periods: dict[str, Period] = field(default_factory=dict)

    @property
    def folder(self) -> str:
        return f"{self.directory}/{self.name}" if self.directory else self.name


@dataclass
class Tree:
    root: Path
    exports: dict[str, Export] = field(default_factory=dict)


# -- the charges of a month ------------------------------------------------------------------

def _seed(*parts) -> int:
    return int.from_bytes(hashlib.sha256("\0".join(map(str, parts)).encode()).digest()[:8], "big")


def _money(rng: random.Random, low: float, high: float) -> Decimal:
    return Decimal(f"{rng.uniform(low, high):.10f}")


def _guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


#: The products of the commitments and of the Marketplace plan.
RESERVATION_SKU, SAVINGS_PLAN_SKU, MARKETPLACE_SKU = ("DZH318Z0BQ5M", "DZH318Z0SPC1",
                                                      "contoso-log-insights-pro")


def _charges(account: str, month: str, seed: int, restated: bool,
             commitments: str = "all") -> list[dict]:
    """The month's charges, agreement- and kind-neutral. ``actual``/``amortized`` are the cost
    of the charge in each dataset, None where the dataset has no such row. ``commitments``:
    "all" (purchases, covered usage, unused rest, refund), "covered" (the covered usage only)
    or "none" (no reservation or savings plan rows at all)."""
    rng = random.Random(seed)
    year, mon = map(int, month.split("-"))
    last = calendar.monthrange(year, mon)[1]
    subs = [(_guid(random.Random(_seed(account, i))), f"Sub {account[-4:]} #{i}") for i in (1, 2)]
    ri_order, ri, sp_order, sp = (_guid(random.Random(_seed(account, k))) for k in "abcd")
    ri_id = f"/providers/Microsoft.Capacity/reservationOrders/{ri_order}/reservations/{ri}"
    sp_id = (f"/providers/Microsoft.BillingBenefits/savingsPlanOrders/{sp_order}"
             f"/savingsPlans/{sp}")
    out: list[dict] = []

    def add(day, meter, charge_type="Usage", model="OnDemand", frequency="UsageBased",
            sub=0, region=0, quantity=None, actual=None, amortized=None, benefit=None,
            resource=True, publisher=None, tags=0, product=None, sku=None):
        m = METERS.get(meter)
        subscription = subs[sub] if sub is not None else ("", "")
        rg = f"rg-{meter}-{sub}" if resource and m else ""
        name = f"{meter}-{sub}-{day % 3}" if resource and m else ""
        rid = (f"/subscriptions/{subscription[0]}/resourceGroups/{rg}/providers/"
               f"{m[8].split('/')[0]}/{m[8].split('/', 1)[1]}/{name}") if rg else ""
        out.append(dict(
            date=dt.date(year, mon, day), meter=meter, m=m, charge_type=charge_type,
            model=model, frequency=frequency, sub=subscription, rg=rg, resource_id=rid,
            resource_name=name, region=REGIONS[region] if region is not None else None,
            quantity=quantity, actual=actual, amortized=amortized, benefit=benefit,
            publisher=publisher, tags=TAGS[tags] if resource else {}, product=product,
            sku=sku))

    def usage(day, meter, model="OnDemand", **kw):
        m = METERS[meter]
        qty = Decimal(f"{rng.uniform(0.5, 24):.6f}")
        cost = (qty / m[4] * Decimal(m[5])).quantize(Decimal("1E-10"))
        if model == "Spot":
            cost = (cost * Decimal("0.3")).quantize(Decimal("1E-10"))
        add(day, meter, model=model, quantity=qty, actual=cost, amortized=cost, **kw)

    for i in range(8 if restated else 7):
        usage(1 + (i * 4) % last, ("vm", "blob", "disk")[i % 3], sub=i % 2, region=i % 2,
              tags=i % 3)
    usage(3, "vm", model="Spot", sub=1)
    usage(5, "logs", sub=0, region=1)
    # A reservation and a savings plan bought monthly: the purchase in actual, the usage they
    # cover at 0 in actual and amortized in amortized, what stayed unused in amortized only.
    for benefit, model, unused, price, covered in (
            ((ri_id, "VM RI 1y"), "Reservation", "UnusedReservation", Decimal("120.00"), 3),
            ((sp_id, "Compute SP 1y"), "SavingsPlan", "UnusedSavingsPlan", Decimal("80.00"), 2)):
        if commitments == "none":
            break
        product = ("Reserved VM Instance, D2 v5, 1 Year" if model == "Reservation"
                   else "Savings Plan for Compute, 1 Year")
        # The product a commitment's purchase and unused rest are of (what Azure's product
        # ID, part number or FOCUS SkuId names on them).
        sku = RESERVATION_SKU if model == "Reservation" else SAVINGS_PLAN_SKU
        if commitments == "all":
            add(1, None, "Purchase", model, "Recurring", sub=0, region=None,
                quantity=Decimal(1), actual=price, benefit=benefit, resource=False,
                product=product, sku=sku)
        shares = [_money(rng, 5, float(price / covered / 2)) for _ in range(covered)]
        for n, share in enumerate(shares):
            add(2 + n * 3, "vm", model=model, sub=n % 2, quantity=Decimal("24"),
                actual=Decimal(0), amortized=share, benefit=benefit)
        if commitments == "all":
            add(last, None, unused, model, "UsageBased", sub=None, region=None,
                quantity=Decimal("1"), amortized=price - sum(shares), benefit=benefit,
                resource=False, product=product, sku=sku)
    if month.endswith("-01") and commitments == "all":
        add(9, None, "Refund", "Reservation", "OneTime", sub=0, region=None,
            quantity=Decimal(1), actual=Decimal("-25.50"), benefit=(ri_id, "VM RI 1y"),
            resource=False, product="Reserved VM Instance, D2 v5, 1 Year",
            sku=RESERVATION_SKU)
    add(1, None, "Purchase", "OnDemand", "Recurring", sub=1, region=None, quantity=Decimal(1),
        actual=Decimal("30.00"), amortized=Decimal("30.00"), resource=False,
        publisher="Contoso Software, Inc.", product="Contoso Log Insights - Pro plan",
        sku=MARKETPLACE_SKU)
    return out


# -- rendering -------------------------------------------------------------------------------

def _us(day: dt.date) -> str:
    return day.strftime("%m/%d/%Y")


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value else "0"
    return str(value)


def _ea_mca_row(c: dict, cost: Decimal, agreement: str, account: tuple, iso: bool, kind: str):
    m, (sub_id, sub_name) = c["m"], c["sub"]
    year, mon = c["date"].year, c["date"].month
    first, last = dt.date(year, mon, 1), dt.date(year, mon, calendar.monthrange(year, mon)[1])
    fmt = (lambda d: d.isoformat()) if iso else _us
    covered = c["model"] in ("Reservation", "SavingsPlan") and c["charge_type"] == "Usage"
    qty = c["quantity"] or Decimal(0)
    unit = Decimal(m[5]) if m else (cost / qty if qty else cost)
    effective = (cost / qty * (m[4] if m else 1)) if qty else cost
    if covered and kind == "actual":
        effective = Decimal(0)
    benefit_id, benefit_name = c["benefit"] or ("", "")
    market = c["publisher"] is not None
    tags = json.dumps(c["tags"], ensure_ascii=False) if c["tags"] else ""
    location = c["region"][0 if agreement == "EA" else 1] if c["region"] else (
        "Unassigned" if c["charge_type"].startswith("Unused") else "")
    common = dict(
        quantity=qty, cost=cost, effective=effective.quantize(Decimal("1E-10")), unit=unit,
        payg=unit * Decimal("1.1") if m else unit, meter_id=_guid(random.Random(c["meter"]))
        if m else "", product=c["product"] or (m[11] if m else ""))
    if agreement == "EA":
        return {
            "InvoiceSectionName": "Engineering", "AccountName": "Cloud Team",
            "AccountOwnerId": "owner@contoso.example", "SubscriptionId": sub_id,
            "SubscriptionName": sub_name, "ResourceGroup": c["rg"], "ResourceLocation": location,
            "Date": fmt(c["date"]), "ProductName": common["product"],
            "MeterCategory": m[0] if m else "", "MeterSubCategory": m[1] if m else "",
            "MeterId": common["meter_id"], "MeterName": m[2] if m else "",
            "MeterRegion": c["region"][0] if c["region"] and m else "",
            "UnitOfMeasure": m[3] if m else "1", "Quantity": _text(qty),
            "EffectivePrice": _text(common["effective"]), "CostInBillingCurrency": _text(cost),
            "CostCenter": "CC-42", "ConsumedService": m[7] if m else (
                "Microsoft.Capacity" if benefit_id else ""),
            "ResourceId": c["resource_id"], "Tags": tags, "OfferId": "MS-AZR-0017P",
            "AdditionalInfo": '{"ServiceType":"Standard_D2_v5","VCPUs":2}'
            if c["meter"] == "vm" else "",
            "ResourceName": c["resource_name"], "ReservationId": benefit_id
            if c["model"] == "Reservation" else "",
            "ReservationName": benefit_name if c["model"] == "Reservation" else "",
            "UnitPrice": _text(common["unit"]), "Term": "12" if benefit_id else "",
            "PublisherType": "Marketplace" if market else "Azure",
            "PublisherName": c["publisher"] or "Microsoft", "ChargeType": c["charge_type"],
            "Frequency": c["frequency"], "PricingModel": c["model"],
            "BillingAccountId": account[0], "BillingAccountName": account[1],
            "BillingCurrencyCode": "USD", "BillingPeriodStartDate": fmt(first),
            "BillingPeriodEndDate": fmt(last), "BillingProfileId": account[0],
            "BillingProfileName": account[1], "InvoiceSectionId": "4711",
            "IsAzureCreditEligible": "False" if market else "True",
            "PartNumber": "AAA-12345" if m else c["sku"] or "",
            "PayGPrice": _text(common["payg"]),
            "PlanName": "pro" if market else "", "ServiceFamily": m[6] if m else "Compute",
            "benefitId": benefit_id, "benefitName": benefit_name}
    return {
        "invoiceId": f"G{year}{mon:02d}0001" if kind == "actual" else "",
        "billingAccountId": f"{account[0]}:{account[0][:8]}_2019-05-31",
        "billingAccountName": "Contoso Ltd", "billingProfileId": account[0],
        "billingProfileName": account[1], "invoiceSectionId": "ABCD-EFGH",
        "invoiceSectionName": "Engineering", "costCenter": "CC-42",
        "billingPeriodEndDate": fmt(last), "billingPeriodStartDate": fmt(first),
        "servicePeriodEndDate": fmt(last), "servicePeriodStartDate": fmt(first),
        "date": fmt(c["date"]), "serviceFamily": m[6] if m else "Compute",
        "productOrderId": benefit_id.split("/")[4] if benefit_id else "",
        "consumedService": m[7] if m else ("Microsoft.Capacity" if benefit_id else ""),
        "meterId": common["meter_id"], "meterName": m[2] if m else "",
        "meterCategory": m[0] if m else "", "meterSubCategory": m[1] if m else "",
        "meterRegion": c["region"][0] if c["region"] and m else "",
        "ProductId": "DZH318Z0BQ4L" if m else c["sku"] or "",
        "ProductName": common["product"],
        "SubscriptionId": sub_id, "subscriptionName": sub_name,
        "publisherType": "Marketplace" if market else "Microsoft",
        "publisherName": c["publisher"] or "Microsoft", "resourceGroupName": c["rg"],
        "ResourceId": c["resource_id"], "resourceLocation": location, "location": location,
        "effectivePrice": _text(common["effective"]), "quantity": _text(qty),
        "unitOfMeasure": m[3] if m else "1", "chargeType": c["charge_type"],
        "billingCurrency": "EUR", "pricingCurrency": "USD", "costInBillingCurrency": _text(cost),
        "costInPricingCurrency": _text((cost * Decimal("1.08")).quantize(Decimal("1E-10"))),
        "costInUsd": _text((cost * Decimal("1.08")).quantize(Decimal("1E-10"))),
        "paygCostInBillingCurrency": _text((common["payg"] * qty / (m[4] if m else 1))
                                           .quantize(Decimal("1E-10"))),
        "exchangeRatePricingToBilling": "0.925925925926",
        "exchangeRateDate": fmt(first), "isAzureCreditEligible": "False" if market else "True",
        "additionalInfo": '{"ServiceType":"Standard_D2_v5","VCPUs":2}'
        if c["meter"] == "vm" else "",
        "tags": tags, "PayGPrice": _text(common["payg"]), "frequency": c["frequency"],
        "term": "12" if benefit_id else "",
        "reservationId": benefit_id if c["model"] == "Reservation" else "",
        "reservationName": benefit_name if c["model"] == "Reservation" else "",
        "pricingModel": c["model"], "unitPrice": _text(common["unit"]),
        "benefitId": benefit_id, "benefitName": benefit_name, "provider": "Azure"}


def _focus_row(c: dict, agreement: str, account: tuple, version: str) -> dict:
    m, (sub_id, sub_name) = c["m"], c["sub"]
    billed = c["actual"] if c["actual"] is not None else Decimal(0)
    effective = c["amortized"] if c["amortized"] is not None else Decimal(0)
    seconds = ":00" if version != "1.0" else ""

    def ts(day: dt.date) -> str:
        return f"{day.isoformat()}T00:00{seconds}Z"

    year, mon = c["date"].year, c["date"].month
    first = dt.date(year, mon, 1)
    nxt = dt.date(year + mon // 12, mon % 12 + 1, 1)
    usage = c["charge_type"] == "Usage" or c["charge_type"].startswith("Unused")
    category = {"Refund": "Purchase", "RoundingAdjustment": "Adjustment"}.get(
        c["charge_type"], "Usage" if usage else c["charge_type"])
    benefit_id, benefit_name = c["benefit"] or ("", "")
    reservation = "capacity" in benefit_id.lower()
    qty = c["quantity"] or Decimal(0)
    block = m[4] if m else 1
    price = Decimal(m[5]) if m else (billed or effective)
    list_price = price * Decimal("1.1") if m else price
    pricing_qty = qty / block if m else qty
    committed = c["model"] in ("Reservation", "SavingsPlan")
    invoice = f"G{year}{mon:02d}{account[0][-4:]}"
    row = {
        "BilledCost": billed, "EffectiveCost": effective,
        "ListCost": (list_price * pricing_qty).quantize(Decimal("1E-10")),
        "ContractedCost": (price * pricing_qty).quantize(Decimal("1E-10")),
        "ListUnitPrice": abs(list_price), "ContractedUnitPrice": abs(price),  # FOCUS: >= 0
        "BillingAccountId": account[0], "BillingAccountName": account[1],
        "BillingAccountType": "Billing Account" if agreement == "EA" else "Billing Profile",
        "BillingCurrency": "USD", "BillingPeriodStart": ts(first), "BillingPeriodEnd": ts(nxt),
        "ChargePeriodStart": ts(c["date"]),
        "ChargePeriodEnd": ts(c["date"] + dt.timedelta(days=1)),
        "ChargeCategory": category,
        "ChargeClass": "Correction" if c["charge_type"] == "Refund" else "",
        "ChargeDescription": c["product"] or (m[11] if m else ""),
        "ChargeFrequency": {"OneTime": "One-Time", "Recurring": "Recurring"}.get(
            c["frequency"], "Usage-Based"),
        "CommitmentDiscountId": benefit_id, "CommitmentDiscountName": benefit_name,
        "CommitmentDiscountCategory": ("Usage" if reservation else "Spend") if benefit_id else "",
        "CommitmentDiscountType": ("Reservation" if reservation else "Savings Plan")
        if benefit_id else "",
        "CommitmentDiscountStatus": ("Unused" if c["charge_type"].startswith("Unused")
                                     else "Used") if benefit_id and usage else "",
        "ConsumedQuantity": qty if m and usage else None,
        "ConsumedUnit": UNITS[m[3]] if m and usage else "",
        "InvoiceIssuerName": "Microsoft",
        "PricingCategory": {"OnDemand": "Standard", "Spot": "Dynamic"}.get(
            c["model"], "Committed") if category != "Adjustment" else "",
        "PricingQuantity": pricing_qty, "PricingUnit": UNITS[m[3]] if m else "Units",
        "ProviderName": "Microsoft", "PublisherName": c["publisher"] or "Microsoft",
        "RegionId": c["region"][1] if c["region"] else "",
        "RegionName": c["region"][2] if c["region"] else "",
        "ResourceId": c["resource_id"] or "", "ResourceName": c["resource_name"],
        "ResourceType": m[9] if m and c["resource_id"] else "",
        "ServiceCategory": m[10] if m else ("Other" if c["publisher"] else "Compute"),
        "ServiceName": m[9] if m else (
            "Azure Marketplace" if c["publisher"] else
            "Azure Reservations" if reservation else "Azure Savings Plan for Compute"),
        "ServiceSubcategory": m[12] if m else (
            "Other (Other)" if c["publisher"] else
            "Cost Management" if reservation else "Other (Compute)"),
        "InvoiceId": invoice, "x_InvoiceId": invoice,
        "SkuId": "DZH318Z0BQ4L" if m else c["sku"] or "",
        "SkuPriceId": "DZH318Z0BQ4L/0001" if m else f"{c['sku']}/0001" if c["sku"] else "",
        "SubAccountId": f"/subscriptions/{sub_id}" if sub_id else "",
        "SubAccountName": sub_name, "SubAccountType": "Subscription" if sub_id else "",
        "Tags": json.dumps(c["tags"], ensure_ascii=False) if c["tags"] else "",
        "x_BilledCostInUsd": billed, "x_EffectiveCostInUsd": effective,
        "x_BillingExchangeRate": Decimal(1), "x_PricingBlockSize": Decimal(block),
        "x_PricingCurrency": "USD", "PricingCurrency": "USD",
        "x_PricingUnitDescription": m[3] if m else "1",
        "x_ResourceGroupName": c["rg"], "x_SkuMeterCategory": m[0] if m else "",
        "x_SkuMeterName": m[2] if m else "", "SkuMeter": m[2] if m else "",
        "x_PricingSubcategory": ("Committed " + ("Usage" if reservation else "Spend"))
        if committed else ("Spot" if c["model"] == "Spot" else "Standard"),
        "x_PublisherCategory": "Vendor" if c["publisher"] else "Cloud Provider",
        "x_AmortizationClass": "Principal" if committed and not usage else (
            "Amortized Charge" if committed else ""),
        "x_ServiceModel": "IaaS" if m else "",
    }
    return row


def _render(charges, kind, agreement, account, fmt_iso, version):
    rows, billed, effective, cost, commitment = [], Decimal(0), Decimal(0), Decimal(0), 0
    for c in charges:
        if kind == "focus":
            row = _focus_row(c, agreement, account, version)
            billed += row["BilledCost"]
            effective += row["EffectiveCost"]
            cost += row["EffectiveCost"]
        else:
            value = c[kind]
            if value is None:
                continue
            row = _ea_mca_row(c, value, agreement, account, fmt_iso, kind)
            cost += value
            commitment += (c["charge_type"] in ("Purchase", "Refund")
                           and c["model"] in ("Reservation", "SavingsPlan"))
        rows.append(row)
    return rows, cost, billed, effective, commitment


# -- writing ---------------------------------------------------------------------------------

def _csv_bytes(columns, rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_text(row.get(c)) for c in columns])
    return out.getvalue().encode("utf-8")


def _write_parquet(path: Path, columns, rows, numbers, dates) -> None:
    tmp = path.with_name(path.name + ".tmp.csv")
    tmp.write_bytes(_csv_bytes(columns, rows))
    select = []
    for c in columns:
        q = '"' + c + '"'
        if c in numbers:
            select.append(f"CAST(NULLIF({q}, '') AS DOUBLE) AS {q}")
        elif c in dates:
            select.append(f"CAST(NULLIF({q}, '') AS TIMESTAMPTZ) AS {q}")
        else:
            select.append(f"NULLIF({q}, '') AS {q}")
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        src = str(tmp).replace("'", "''")
        dst = str(path).replace("'", "''")
        con.execute(f"COPY (SELECT {', '.join(select)} FROM read_csv('{src}', all_varchar=true,"
                    f" header=true)) TO '{dst}' (FORMAT parquet, COMPRESSION snappy)")
    finally:
        con.close()
        tmp.unlink()


def _write_file(path: Path, fmt: str, columns, rows, kind: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        focus = kind == "focus"
        _write_parquet(path, columns, rows, _FOCUS_NUMBERS if focus else _COST_NUMBERS,
                       _FOCUS_DATES if focus else set())
    elif fmt == "csv.gz":
        path.write_bytes(gzip.compress(_csv_bytes(columns, rows), mtime=0))
    else:
        path.write_bytes(_csv_bytes(columns, rows))


def write_export(root: Path, name: str, *, kind: str, agreement: str = "MCA",
                 layout: str = "current", fmt: str = "csv", months=MONTHS, restate=(),
                 directory: str = "exports", partitions: int = 1,
                 focus_version: str | None = None, runtime_folder: bool = False,
                 account: tuple | None = None, seed: int = 0,
                 commitments: str = "all") -> Export:
    """Write one export's runs for ``months`` (one run each; two runs for a month in
    ``restate``, the newer one with one charge more) and return what was written.
    ``commitments`` (see :func:`_charges`): "all", "covered" or "none"; with "none" the actual
    and amortized rows are the same, and a Period's ``billed`` and ``effective`` are both its
    cost, whichever the kind."""
    assert kind in KINDS and agreement in ("EA", "MCA") and layout in ("current", "older")
    assert commitments in COMMITMENTS
    assert fmt in ("csv", "csv.gz", "parquet") and (layout == "current" or fmt == "csv")
    version = focus_version or ("1.0r2" if kind == "focus" else None)
    account = account or (str(10_000_000 + _seed(name, seed) % 89_999_999),
                          f"Contoso {agreement} {name}")
    root = Path(root)
    exp = Export(name, kind, agreement, layout, fmt, directory.strip("/"), version, account[0])
    columns = FOCUS_COLUMNS[version] if kind == "focus" else (
        EA_COLUMNS if agreement == "EA" else MCA_COLUMNS)
    iso = agreement == "MCA" and layout == "current"
    for month in months:
        year, mon = map(int, month.split("-"))
        last = calendar.monthrange(year, mon)[1]
        span = f"{year}{mon:02d}01-{year}{mon:02d}{last:02d}"
        period = Period(name, kind, month, f"{exp.folder}/{span}")
        rng = random.Random(_seed(name, month, seed, "runs"))
        ids = sorted(_guid(rng) for _ in range(2))[::-1]  # the newer run's id sorts first
        for n, restated in enumerate((False, True) if month in restate else (False,)):
            charges = _charges(account[0], month, _seed(account[0], month, seed), restated,
                               commitments)
            rows, cost, billed, effective, commitment = _render(
                charges, kind, agreement, account, iso, version)
            # Runs are submitted after their month (a daily run restating a closed month),
            # an hour apart, at a minute of the export's own.
            mtime = int(dt.datetime(year + mon // 12, mon % 12 + 1, 1, 6,
                                    tzinfo=dt.timezone.utc).timestamp())
            mtime += n * 3600 + 60 * (_seed(name) % 50)
            run_id = ids[n]
            stamp = dt.datetime.fromtimestamp(mtime, dt.timezone.utc)
            submitted = stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{n}234567Z"
            if layout == "older":
                files = [f"{period.folder}/{name}_{run_id}.csv"]
                chunks = [rows]
                manifest = None
            else:
                run_folder = period.folder + (f"/{stamp:%Y%m%d%H%M}" if runtime_folder else "")
                run_folder += f"/{run_id}"
                ext = {"csv": "csv", "csv.gz": "csv.gz", "parquet": "snappy.parquet"}[fmt]
                parts = max(1, min(partitions, len(rows)))
                chunks = [rows[i::parts] for i in range(parts)]
                files = [f"{run_folder}/part_{i}_0001.{ext}" for i in range(parts)]
                manifest = f"{run_folder}/manifest.json"
            for key, chunk in zip(files, chunks):
                _write_file(root / key, fmt, columns, chunk, kind)
                os.utime(root / key, (mtime, mtime))
            if manifest:
                _write_manifest(root, manifest, exp, files, chunks, month, run_id, submitted)
                os.utime(root / manifest, (mtime, mtime))
            same = commitments == "none"  # nothing amortized: both costs are the cost
            period.runs.append(Run(
                run_id, submitted, mtime, files, manifest, len(rows),
                billed if kind == "focus" else (cost if kind == "actual" or same else None),
                effective if kind == "focus" else (cost if kind == "amortized" or same
                                                   else None),
                cost, commitment))
        exp.periods[month] = period
    return exp


def _write_manifest(root, key, exp, files, chunks, month, run_id, submitted) -> None:
    year, mon = map(int, month.split("-"))
    scope = (f"/providers/Microsoft.Billing/billingAccounts/{exp.billing_account}"
             + ("" if exp.agreement == "EA" else f"/billingProfiles/{exp.billing_account}"))
    blobs = [{"blobName": f, "byteCount": (root / f).stat().st_size, "dataRowCount": len(c)}
             for f, c in zip(files, chunks)]
    manifest = {
        "manifestVersion": "2024-04-01",
        "byteCount": sum(b["byteCount"] for b in blobs), "blobCount": len(blobs),
        "dataRowCount": sum(b["dataRowCount"] for b in blobs),
        "exportConfig": {
            "exportName": exp.name,
            "resourceId": f"{scope}/providers/Microsoft.CostManagement/exports/{exp.name}",
            "dataVersion": exp.focus_version or "2023-12-01-preview",
            "apiVersion": "2023-07-01-preview", "type": TYPES[exp.kind],
            "timeFrame": "MonthToDate", "granularity": "Daily"},
        "deliveryConfig": {
            "partitionData": True, "dataOverwriteBehavior": "CreateNewReport",
            "fileFormat": "Parquet" if exp.fmt == "parquet" else "Csv",
            "compressionMode": {"csv": "None", "csv.gz": "Gzip", "parquet": "Snappy"}[exp.fmt],
            "containerUri": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups"
                            "/finops/providers/Microsoft.Storage/storageAccounts/contosoexports",
            "rootFolderPath": exp.directory},
        "runInfo": {
            "executionType": "Scheduled", "submittedTime": submitted, "runId": run_id,
            "startDate": f"{year}-{mon:02d}-01T00:00:00",
            "endDate": f"{year}-{mon:02d}-{calendar.monthrange(year, mon)[1]:02d}T00:00:00Z"},
        "blobs": blobs}
    (root / key).write_text(json.dumps(manifest, indent=2), encoding="utf-8")


#: The exports of :func:`write_standard`: name -> write_export keywords.
STANDARD = {
    "mca-actual": dict(kind="actual", agreement="MCA", fmt="csv.gz", partitions=2,
                       restate=("2026-01",), account=("MCA-BP-1111", "Contoso MCA profile")),
    "mca-amortized": dict(kind="amortized", agreement="MCA", fmt="parquet",
                          account=("MCA-BP-1111", "Contoso MCA profile")),
    "ea actual ü #1+%": dict(kind="actual", agreement="EA", layout="older",
                             directory="cost exports/Ünï côdé & co", restate=("2026-01",),
                             account=("87654321", "Contoso EA enrollment")),
    "ea-amortized": dict(kind="amortized", agreement="EA", layout="older",
                         directory="cost exports/Ünï côdé & co",
                         account=("87654321", "Contoso EA enrollment")),
    "ea-actual-current": dict(kind="actual", agreement="EA", fmt="csv",
                              account=("22223333", "Fabrikam EA enrollment")),
    "focus-1.0r2": dict(kind="focus", agreement="EA", fmt="csv", focus_version="1.0r2",
                        restate=("2026-02",), account=("44445555", "Northwind EA")),
    "focus-1.0": dict(kind="focus", agreement="MCA", fmt="csv.gz", focus_version="1.0",
                      months=("2026-01",), account=("MCA-BP-6666", "Tailspin profile")),
    "focus-1.2-preview": dict(kind="focus", agreement="MCA", fmt="parquet", partitions=2,
                              focus_version="1.2-preview", runtime_folder=True,
                              restate=("2026-01",), account=("MCA-BP-7777", "Litware profile")),
}


def write_standard(root: Path) -> Tree:
    """Every case of :data:`STANDARD` under ``root``; see the module docstring."""
    tree = Tree(Path(root))
    for name, kw in STANDARD.items():
        tree.exports[name] = write_export(root, name, **kw)
    return tree


# -- the benchmark's million rows ------------------------------------------------------------

def million_rows(root: Path, rows: int = 1_000_000, partitions: int = 4,
                 name: str = "mca-actual-bench", month: str = "2026-03",
                 directory: str = "bench") -> Export:
    """An MCA actual export of ``rows`` usage rows in one month, gzip CSV, current layout,
    generated and written by DuckDB (seconds, bounded memory); totals from the same rows."""
    root = Path(root)
    year, mon = map(int, month.split("-"))
    last = calendar.monthrange(year, mon)[1]
    exp = Export(name, "actual", "MCA", "current", "csv.gz", directory, None, "MCA-BP-BENCH")
    span = f"{year}{mon:02d}01-{year}{mon:02d}{last:02d}"
    run_id = str(uuid.UUID(int=_seed(name, month), version=4))
    run_folder = f"{exp.folder}/{span}/{run_id}"
    (root / run_folder).mkdir(parents=True, exist_ok=True)
    first = f"{year}-{mon:02d}-01"
    exprs = {c: "''" for c in MCA_COLUMNS}
    exprs.update({
        "billingAccountId": "'BENCH:0000_2019-05-31'", "billingProfileId": "'MCA-BP-BENCH'",
        "billingProfileName": "'Bench profile'", "billingCurrency": "'EUR'",
        "billingPeriodStartDate": f"'{first}'",
        "billingPeriodEndDate": f"'{year}-{mon:02d}-{last:02d}'",
        "date": f"strftime(DATE '{first}' + CAST(i % {last} AS INTEGER), '%Y-%m-%d')",
        "SubscriptionId": "'00000000-0000-0000-0000-' || lpad(CAST(i % 50 AS VARCHAR), 12, '0')",
        "subscriptionName": "'Sub ' || CAST(i % 50 AS VARCHAR)",
        "resourceGroupName": "'rg-' || CAST(i % 200 AS VARCHAR)",
        "ResourceId": "'/subscriptions/00000000-0000-0000-0000-' || lpad(CAST(i % 50 AS VARCHAR),"
                      " 12, '0') || '/resourceGroups/rg-' || CAST(i % 200 AS VARCHAR) || "
                      "'/providers/Microsoft.Compute/virtualMachines/vm-' || CAST(i % 5000 AS "
                      "VARCHAR)",
        "consumedService": "'Microsoft.Compute'", "meterCategory": "'Virtual Machines'",
        "meterName": "'D2 v5'", "resourceLocation": "(['eastus','westeurope','westus2'])"
                                                    "[i % 3 + 1]",
        "unitOfMeasure": "'1 Hour'", "chargeType": "'Usage'", "pricingModel": "'OnDemand'",
        "frequency": "'UsageBased'", "publisherType": "'Microsoft'",
        "publisherName": "'Microsoft'", "pricingCurrency": "'USD'",
        "quantity": "CAST(q AS VARCHAR)", "unitPrice": "'0.096'", "effectivePrice": "'0.096'",
        "PayGPrice": "'0.1056'", "costInBillingCurrency": "CAST(cost AS VARCHAR)",
        "tags": "CASE WHEN i % 4 = 0 THEN '{\"env\":\"prod\",\"team\":\"t' || "
                "CAST(i % 7 AS VARCHAR) || '\"}' ELSE '' END",
    })
    select = ", ".join(f'{e} AS "{c}"' for c, e in exprs.items())

    def rows_sql(start: int, step: int) -> str:
        return (f"SELECT *, CAST(q * 0.096 AS DECIMAL(18,10)) AS cost FROM (SELECT i, "
                f"CAST((hash(i) % 2400000) / 100000.0 AS DECIMAL(18,6)) AS q "
                f"FROM range({start}, {rows}, {step}) t(i))")

    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        total = con.execute(f"SELECT sum(cost) FROM ({rows_sql(0, 1)})").fetchone()[0]
        files, counts = [], []
        for p in range(partitions):
            key = f"{run_folder}/part_{p}_0001.csv.gz"
            dst = str(root / key).replace("'", "''")
            con.execute(f"COPY (SELECT {select} FROM ({rows_sql(p, partitions)})) "
                        f"TO '{dst}' (FORMAT csv, HEADER, COMPRESSION gzip)")
            files.append(key)
            counts.append(len(range(p, rows, partitions)))
    finally:
        con.close()
    submitted = f"{year}-{mon:02d}-{last:02d}T06:00:00.1234567Z"
    _write_manifest(root, f"{run_folder}/manifest.json", exp, files,
                    [range(n) for n in counts], month, run_id, submitted)
    period = Period(name, "actual", month, f"{exp.folder}/{span}")
    period.runs.append(Run(run_id, submitted, 0, files, f"{run_folder}/manifest.json",
                           rows, Decimal(total), None, Decimal(total), 0))
    exp.periods[month] = period
    return exp


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--million", action="store_true", help="also the 1M-row benchmark export")
    args = parser.parse_args(argv)
    tree = write_standard(args.out)
    for exp in tree.exports.values():
        for per in exp.periods.values():
            print(f"{exp.name}\t{per.month}\t{exp.kind}\trows={per.rows}\tbilled={per.billed}"
                  f"\teffective={per.effective}")
    if args.million:
        exp = million_rows(args.out)
        print(f"{exp.name}\t{exp.periods['2026-03'].cost}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
