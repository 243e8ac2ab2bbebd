"""OCI's cost reports as a tenancy's bucket holds them, with known totals, for the tests and
the benchmark.

``OciBucket(root, tenancy)`` writes, under ``root`` (the bucket, named after the tenancy
OCID), FOCUS reports (``FOCUS Reports/YYYY/MM/DD/NNNN-0000N.csv.gz``) and the older cost
reports (``reports/cost-csv/NNNN.csv.gz``), a few files a day, each with:

* columns that come and go: a file's tag columns are the tags its rows carry; the overage
  columns, ``product/resource``, the attributed columns and ChargeClass only in some files;
  the columns in an order of the file's own;
* corrections: a later row of ChargeClass "Correction" (FOCUS files that have the column) or
  ``lineItem/isCorrection`` true, naming the row it corrects by its reference number
  (``oci_BackReferenceNumber``, ``lineItem/backreferenceNo``) and reversing part of its cost,
  in the month of the usage it corrects;
* late usage: a cost report written on the first days of a month holds rows of the month
  before (a cost report's month is its rows').

Amounts are Decimal text as OCI writes them (up to 12 decimals, some in E notation); the
totals (:class:`Totals`, by kind and month, and by billing account) are the sums of the
written values, computed here with Decimal, never by the code under test.
"""
from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
import random
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

FOCUS_COLUMNS = [
    "AvailabilityZone", "BilledCost", "BillingAccountId", "BillingAccountName",
    "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart", "ChargeCategory",
    "ChargeDescription", "ChargeFrequency", "ChargePeriodEnd", "ChargePeriodStart",
    "ChargeSubcategory", "CommitmentDiscountCategory", "CommitmentDiscountId",
    "CommitmentDiscountName", "CommitmentDiscountType", "EffectiveCost", "InvoiceIssuer",
    "ListCost", "ListUnitPrice", "PricingCategory", "PricingQuantity", "PricingUnit",
    "Provider", "Publisher", "Region", "ResourceId", "ResourceName", "ResourceType",
    "ServiceCategory", "ServiceName", "SkuId", "SkuPriceId", "SubAccountId", "SubAccountName",
    "Tags", "UsageQuantity", "UsageUnit", "oci_ReferenceNumber", "oci_CompartmentId",
    "oci_CompartmentName", "oci_OverageFlag", "oci_UnitPriceOverage",
    "oci_BilledQuantityOverage", "oci_CostOverage", "oci_BackReferenceNumber",
]
#: Columns of newer FOCUS files only.
FOCUS_NEWER = ["oci_AttributedUsage", "oci_AttributedCost", "ChargeClass"]
COST_COLUMNS = [
    "lineItem/referenceNo", "lineItem/tenantId", "lineItem/intervalUsageStart",
    "lineItem/intervalUsageEnd", "product/service", "product/compartmentId",
    "product/compartmentName", "product/region", "product/availabilityDomain",
    "product/resourceId", "usage/billedQuantity", "cost/subscriptionId", "cost/productSku",
    "product/Description", "cost/unitPrice", "cost/myCost", "cost/currencyCode",
    "cost/billingUnitReadable", "cost/skuUnitDescription", "cost/overageFlag",
    "lineItem/isCorrection", "lineItem/backreferenceNo",
]
COST_OVERAGE = ["usage/billedQuantityOverage", "cost/unitPriceOverage", "cost/myCostOverage"]
COST_RESOURCE = ["product/resource"]
#: (service code, FOCUS ServiceName, category, SKU, description, unit, readable unit,
#: unit price, list price)
SERVICES = [
    ("COMPUTE", "Compute", "Compute", "B93113", "Compute - Standard - E4 - OCPU",
     "OCPU Hours", "1 NONE HOURS OCPUS", "0.025", "0.025"),
    ("BLOCK_STORAGE", "Block Storage", "Storage", "B91961", "Block Volume - Storage",
     "GB Months", "1 GiB MONTHS STORAGE_SIZE", "0.0255", "0.0255"),
    ("OBJECTSTORE", "Object Storage", "Storage", "B91628", "Object Storage - Storage",
     "GB Months", "1 GiB MONTHS STORAGE_SIZE", "0.0099147", "0.0255"),
    ("DATABASE", "Database", "Databases", "B95702", "Autonomous Database - ECPU",
     "Instance per hour", "1 NONE HOURS INSTANCE", "0.336", "0.336"),
    ("NETWORK", "Networking", "Networking", "B88327", "Outbound Data Transfer",
     "GB Of Data Transferred", "1 GiB NONE DATA_TRANSFERRED", "0.0085", "0.0085"),
    ("TELEMETRY", "Monitoring", "Management and Governance", "B90926",
     "Monitoring Service - Retrieval", "Million Datapoints", "1000000 NONE NONE DATAPOINTS",
     "0.00116188", "0.0015"),
]
TAG_KEYS = ["Oracle-Tags.CreatedBy", "Finance.CostCenter", "Operations.Environment",
            "DevRel\\team-x.release"]
_QUANTUM = Decimal("1E-12")
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class Tenancy:
    ocid: str
    name: str
    #: (subscription OCID of the cost reports, billing account ID of the FOCUS reports)
    subscriptions: tuple[tuple[str, str], ...]
    compartments: tuple[tuple[str, str], ...]
    region: str = "us-ashburn-1"


TENANCIES = (
    Tenancy("ocid1.tenancy.oc1..aaaaaaaaprodacme7x2q", "acme-prod",
            (("ocid1.organizationssubscription.oc1.iad.aaaaaaaasub1", "44561001"),
             ("ocid1.organizationssubscription.oc1.iad.aaaaaaaasub2", "44561002")),
            (("ocid1.compartment.oc1..aaaaaaaafinance", "finance"),
             ("ocid1.compartment.oc1..aaaaaaaaweb", "web"))),
    Tenancy("ocid1.tenancy.oc1..aaaaaaaadevacme9k4w", "acme-dev",
            (("ocid1.organizationssubscription.oc1.fra.aaaaaaaasub3", "44562003"),),
            (("ocid1.compartment.oc1..aaaaaaaasandbox", "sandbox"),), "eu-frankfurt-1"),
)


def cents(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_EVEN)


@dataclass
class Totals:
    """What a kind's month holds: rows, the sum of the cost, corrections, by account."""

    rows: int = 0
    cost: Decimal = Decimal(0)
    corrections: int = 0
    #: Corrections the file says are ones (a FOCUS file without ChargeClass does not).
    marked: int = 0
    by_account: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))

    def add(self, account: str, cost: Decimal, correction: bool, marked: bool) -> None:
        self.rows += 1
        self.cost += cost
        self.corrections += correction
        self.marked += marked
        self.by_account[account] += cost


@dataclass
class _Line:
    """A written row a later correction may reverse."""

    reference: str
    start: dt.datetime
    service: tuple
    quantity: Decimal
    price: Decimal
    list_price: Decimal
    compartment: tuple[str, str]
    subscription: tuple[str, str]
    resource: str


def _stamp(when: dt.datetime, seconds: bool) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ" if seconds else "%Y-%m-%dT%H:%MZ")


def _amount(value: Decimal, rnd: random.Random) -> str:
    """As OCI writes it: plain, or in E notation (``2.323760000E-9``) now and then."""
    value = value.quantize(_QUANTUM, rounding=ROUND_HALF_EVEN)
    if value and abs(value) < Decimal("0.0001") and rnd.random() < 0.5:
        mantissa, exponent = f"{value:.9E}".split("E")
        return f"{mantissa}E{int(exponent)}"
    return format(value.normalize(), "f") if value else "0"


class OciBucket:
    """A tenancy's bucket of cost reports under ``root`` (the bucket's folder)."""

    def __init__(self, root: Path, tenancy: Tenancy = TENANCIES[0], seed: int = 1,
                 compresslevel: int = 6, vary_columns: bool = True) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.tenancy = tenancy
        self.rnd = random.Random(seed)
        self.compresslevel = compresslevel
        #: Columns that come and go, in an order of each file's own (False: one header, for
        #: a reader that reads by position, as the benchmark's baseline does).
        self.vary_columns = vary_columns
        self.totals: dict[tuple[str, str], Totals] = defaultdict(Totals)
        self.files: list[Path] = []
        self._number = {"focus": 1000, "cost": 30000000}
        self._lines: dict[str, list[_Line]] = {"focus": [], "cost": []}
        self._reference = 0

    def _new_reference(self) -> str:
        self._reference += 1
        return f"{self._reference:032x}"

    # -- rows ---------------------------------------------------------------------------------

    def _usage(self, start: dt.datetime) -> _Line:
        rnd = self.rnd
        service = rnd.choice(SERVICES)
        quantity = Decimal(rnd.randint(1, 4_000_000)) / Decimal(10_000)
        if service[0] == "TELEMETRY":
            quantity = Decimal(rnd.randint(1, 90)) / Decimal(1_000_000)
        reference = self._new_reference()
        compartment = rnd.choice(self.tenancy.compartments)
        subscription = rnd.choice(self.tenancy.subscriptions)
        kind = service[0].lower()
        resource = (f"ocid1.{kind}.oc1.{self.tenancy.region}.aaaa{rnd.randint(1, 40):04d}"
                    if service[0] != "TELEMETRY" else "oci_compute_infrastructure_health")
        return _Line(reference, start, service, quantity, Decimal(service[7]),
                     Decimal(service[8]), compartment, subscription, resource)

    def _tags(self) -> dict[str, str]:
        keys = self.rnd.sample(TAG_KEYS, self.rnd.randint(0, 2))
        return {key: self.rnd.choice(["alice@example.com", "cc-42", "prod", 'say "hi"'])
                for key in keys}

    def _hours(self, written: dt.datetime, late_days: int) -> dt.datetime:
        """The start of an hour of usage that a file written at ``written`` reports: mostly
        the day before, some up to ``late_days`` earlier."""
        back = self.rnd.randint(1, 24 if self.rnd.random() < 0.85 else 24 * late_days)
        return (written - dt.timedelta(hours=back)).replace(minute=0, second=0, microsecond=0)

    def _rows(self, kind: str, written: dt.datetime, rows: int, late_days: int,
              correction_share: float):
        """(line, correction of, quantity sign) of a file: usage, and corrections of rows
        written before (at most one each)."""
        for _ in range(rows):
            earlier = self._lines[kind]
            if earlier and self.rnd.random() < correction_share:
                index = self.rnd.randrange(len(earlier))
                earlier[index], earlier[-1] = earlier[-1], earlier[index]  # pop in O(1)
                original = earlier.pop()
                yield original, True
                continue
            line = self._usage(self._hours(written, late_days))
            earlier.append(line)
            yield line, False

    # -- files --------------------------------------------------------------------------------

    def _write(self, path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        with gzip.open(path, "wt", encoding="utf-8", newline="",
                       compresslevel=self.compresslevel) as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            for row in rows:
                writer.writerow([row.get(column, "") for column in header])
        self.files.append(path)
        return path

    def _header(self, base: list[str], optional: list[list[str]], extra: list[str]) -> list[str]:
        header = list(base)
        for group in optional:
            if self.rnd.random() < 0.5 or not self.vary_columns:
                header += group
        header += extra
        if self.rnd.random() < 0.5 and self.vary_columns:
            self.rnd.shuffle(header)
        return header

    def focus_file(self, day: dt.date, rows: int = 50, *, hour: int = 6,
                   correction_share: float = 0.05) -> Path:
        """A FOCUS report written on ``day`` at ``hour``, of usage of the day before."""
        written = dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.timezone.utc)
        newer = self.rnd.random() < 0.5 or not self.vary_columns
        month = f"{day:%Y-%m}"
        period_start = dt.datetime(day.year, day.month, 1, tzinfo=dt.timezone.utc)
        period_end = (period_start + dt.timedelta(days=32)).replace(day=1)
        out, tag_keys = [], set()
        for line, correcting in self._rows("focus", written, rows, 1, correction_share):
            start = line.start
            if not (period_start <= start < period_end):  # a FOCUS file holds its month
                start = period_start + dt.timedelta(hours=self.rnd.randint(0, 23))
                line.start = start
            sign = Decimal(-1) if correcting else Decimal(1)
            quantity = sign * line.quantity
            cost = (quantity * line.price).quantize(_QUANTUM, rounding=ROUND_HALF_EVEN)
            list_cost = (quantity * line.list_price).quantize(_QUANTUM, ROUND_HALF_EVEN)
            tags = self._tags()
            tag_keys.update(tags)
            service = line.service
            reference = self._new_reference() if correcting else line.reference
            row = {
                "AvailabilityZone": f"{self.tenancy.region[:2].upper()}-AD-1",
                "BilledCost": _amount(cost, self.rnd),
                "BillingAccountId": line.subscription[1],
                "BillingAccountName": self.tenancy.name,
                "BillingCurrency": "USD",
                "BillingPeriodStart": _stamp(period_start, False),
                "BillingPeriodEnd": _stamp(period_end, False),
                "ChargeCategory": "Usage",
                "ChargeDescription": service[4],
                "ChargeFrequency": "Usage-Based",
                "ChargePeriodStart": _stamp(start, False),
                "ChargePeriodEnd": _stamp(start + dt.timedelta(hours=1), False),
                "EffectiveCost": _amount(cost, self.rnd),
                "InvoiceIssuer": "Oracle",
                "ListCost": _amount(list_cost, self.rnd),
                "ListUnitPrice": str(line.list_price),
                "PricingCategory": "Standard",
                "PricingQuantity": str(quantity),
                "PricingUnit": service[5],
                "Provider": "Oracle",
                "Publisher": "Oracle",
                "Region": self.tenancy.region,
                "ResourceId": line.resource,
                "ResourceName": line.resource.rsplit(".", 1)[-1],
                "ServiceCategory": service[2],
                "ServiceName": service[1],
                "SkuId": service[3],
                "SkuPriceId": service[3],
                "SubAccountId": self.tenancy.ocid,
                "SubAccountName": self.tenancy.name,
                "Tags": json.dumps(tags) if tags else "",
                "UsageQuantity": str(quantity),
                "UsageUnit": service[5],
                "oci_ReferenceNumber": reference,
                "oci_CompartmentId": line.compartment[0],
                "oci_CompartmentName": line.compartment[1],
                "oci_OverageFlag": "N",
                "oci_BackReferenceNumber": line.reference if correcting else "",
                "oci_AttributedUsage": str(quantity),
                "oci_AttributedCost": _amount(cost, self.rnd),
                "ChargeClass": "Correction" if correcting else "",
            }
            out.append(row)
            self.totals[("focus", month)].add(line.subscription[1], Decimal(row["BilledCost"]),
                                              correcting, correcting and newer)
        header = self._header(FOCUS_COLUMNS, [], FOCUS_NEWER if newer else [])
        self._number["focus"] += 1
        name = f"{self._number['focus']:016d}-{1:05d}.csv.gz"
        return self._write(self.root / "FOCUS Reports" / f"{day:%Y/%m/%d}" / name, header, out)

    def cost_file(self, written: dt.datetime, rows: int = 50, *, late_days: int = 3,
                  correction_share: float = 0.05) -> Path:
        """A cost report written at ``written``: usage of the hours before (some of days
        before), and corrections of rows written before, in their rows' months."""
        out, tag_keys = [], set()
        for line, correcting in self._rows("cost", written, rows, late_days, correction_share):
            sign = Decimal(-1) if correcting else Decimal(1)
            quantity = sign * line.quantity
            cost = (quantity * line.price).quantize(_QUANTUM, rounding=ROUND_HALF_EVEN)
            tags = self._tags()
            tag_keys.update(tags)
            service = line.service
            reference = self._new_reference() if correcting else line.reference
            overage = self.rnd.random() < 0.1 and not correcting
            row = {
                "lineItem/referenceNo": reference,
                "lineItem/tenantId": self.tenancy.ocid,
                "lineItem/intervalUsageStart": _stamp(line.start, False),
                "lineItem/intervalUsageEnd": _stamp(line.start + dt.timedelta(hours=1), True),
                "product/service": service[0],
                "product/resource": service[4].split(" - ")[0],
                "product/compartmentId": line.compartment[0],
                "product/compartmentName": line.compartment[1],
                "product/region": self.tenancy.region,
                "product/availabilityDomain": "" if service[0] == "TELEMETRY" else "AD-1",
                "product/resourceId": line.resource,
                "usage/billedQuantity": str(quantity),
                "usage/billedQuantityOverage": str(quantity / 4) if overage else "",
                "cost/subscriptionId": line.subscription[0],
                "cost/productSku": service[3],
                "product/Description": service[4],
                "cost/unitPrice": str(line.price),
                "cost/unitPriceOverage": str(line.price) if overage else "",
                "cost/myCost": _amount(cost, self.rnd),
                "cost/myCostOverage": _amount(cost / 4, self.rnd) if overage else "",
                "cost/currencyCode": "USD",
                "cost/billingUnitReadable": service[6],
                "cost/skuUnitDescription": service[5],
                "cost/overageFlag": "true" if overage else "false",
                "lineItem/isCorrection": "true" if correcting else "false",
                "lineItem/backreferenceNo": line.reference if correcting else "",
                **{f"tags/{key}": value for key, value in tags.items()},
            }
            out.append(row)
            self.totals[("cost", f"{line.start:%Y-%m}")].add(
                line.subscription[0], Decimal(row["cost/myCost"]), correcting, correcting)
        tag_columns = sorted(f"tags/{key}" for key in (tag_keys if self.vary_columns
                                                       else TAG_KEYS))
        header = self._header(COST_COLUMNS, [COST_OVERAGE, COST_RESOURCE], tag_columns)
        if not any(c in header for c in COST_OVERAGE):  # the rows' overage stays written
            header += [c for c in COST_OVERAGE if any(r[c] for r in out)]
        self._number["cost"] += 1
        return self._write(self.root / "reports" / "cost-csv" / f"{self._number['cost']:016d}"
                           ".csv.gz", header, out)

    def month(self, month: str, *, days: int = 2, files_per_day: int = 2, rows: int = 40,
              kinds: tuple[str, ...] = ("focus", "cost")) -> None:
        """``files_per_day`` files of each kind on each of the first ``days`` days of
        ``month`` (and the day after the last for the cost reports' late usage)."""
        year, number = map(int, month.split("-"))
        for day in range(1, days + 1):
            for part in range(files_per_day):
                hour = 3 + part * (20 // max(files_per_day, 1))
                if "focus" in kinds:
                    self.focus_file(dt.date(year, number, day), rows, hour=hour)
                if "cost" in kinds:
                    self.cost_file(dt.datetime(year, number, day, hour,
                                               tzinfo=dt.timezone.utc), rows)
