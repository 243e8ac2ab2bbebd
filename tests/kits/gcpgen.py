"""Google Cloud billing exports as ``EXPORT DATA`` writes them to Cloud Storage, with known
totals: ``<root>/<TABLE>/<YYYY-MM>/00000000000N.parquet`` (or ``.json``, newline-delimited,
``.json.gz``), for the three kinds of billing table (standard usage cost, detailed usage cost,
FOCUS), with BigQuery's nested types exactly (service, sku, project with labels and ancestors,
labels, system_labels, tags, credits, adjustment_info, invoice, location, usage, resource,
price...).

The rows hold what the mapping must get right: credits of several types (discounts that lower
a charge's rate, promotions that are credits of their own, one bigger than its charge), taxes,
adjustments (a correction of an earlier month), rounding errors, Marketplace rows of two sellers
(reseller and agency), several projects, regions and services. Amounts have six decimals, as
Google's do; every total is the generator's own sum of the Decimal amounts it wrote (cost plus
every credit: the invoice), kept apart from any mapping.
"""
from __future__ import annotations

import gzip
import json
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

ACCOUNTS = ("01A2B3-C4D5E6-F7A8B9", "0F1E2D-3C4B5A-69788A")
MONTHS = ("2026-01", "2026-02")
PROVIDER = "Google Cloud"
SELLERS = (("THIRD_PARTY_RESELLER", "Acme Data Inc."), ("THIRD_PARTY_AGENCY", "Globex SaaS LLC"))
#: (service id, description, sku id, sku description, usage unit, pricing unit, per unit)
SERVICES = [
    ("6F81-5844-456A", "Compute Engine", "2E27-4F75-95CD", "N2 Instance Core running",
     "seconds", "hour", 3600, Decimal("0.031611")),
    ("95FF-2EF5-5EA1", "Cloud Storage", "E5F0-6A5D-7BAD", "Standard Storage US Multi-region",
     "byte-seconds", "gibibyte month", 2_783_138_807_808_000, Decimal("0.026")),
    ("24E6-581D-38E5", "BigQuery", "3362-E469-6BEF", "Analysis", "bytes", "tebibyte",
     1 << 40, Decimal("6.25")),
    ("CCD8-9BF1-090E", "Kubernetes Engine", "B561-BFBD-1264", "Autopilot Pod mCPU Requests",
     "seconds", "hour", 3600, Decimal("0.0445")),
    ("9662-B51E-5089", "Cloud SQL", "D2E5-6F4C-2A1B", "Cloud SQL for PostgreSQL: vCPU",
     "seconds", "hour", 3600, Decimal("0.0413")),
    ("E505-1604-58F8", "Networking", "984A-1F6B-3C31", "Network Internet Egress to Americas",
     "bytes", "gibibyte", 1 << 30, Decimal("0.12")),
]
MARKET_SERVICES = {"Acme Data Inc.": ("A1B2-MKT0-0001", "Acme Analytics (Marketplace)"),
                   "Globex SaaS LLC": ("A1B2-MKT0-0002", "Globex Observability (Marketplace)")}
DISCOUNT_TYPES = ("SUSTAINED_USAGE_DISCOUNT", "COMMITTED_USAGE_DISCOUNT", "DISCOUNT",
                  "FREE_TIER", "COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE")
REGIONS = (("us-central1", "us-central1-a", "US"), ("europe-west1", "europe-west1-b", "BE"),
           ("asia-northeast1", "asia-northeast1-c", "JP"))
SIX = Decimal("0.000001")


def kind_of(table: str) -> str:
    if table.startswith("gcp_billing_export_resource_v1_"):
        return "detailed"
    if table.startswith("gcp_billing_export_focus_"):
        return "focus"
    return "standard"


def table_name(kind: str, account: str) -> str:
    prefix = {"standard": "gcp_billing_export_v1_", "detailed": "gcp_billing_export_resource_v1_",
              "focus": "gcp_billing_export_focus_"}[kind]
    return prefix + account.replace("-", "_")


@dataclass
class Totals:
    """What the generator wrote, summed by itself: billed (cost plus credits) by (account,
    month), and by (seller or Google Cloud, month); rows by month; credits that are credits."""

    billed: dict = field(default_factory=lambda: defaultdict(Decimal))
    by_publisher: dict = field(default_factory=lambda: defaultdict(Decimal))
    rows: dict = field(default_factory=lambda: defaultdict(int))
    credit_rows: dict = field(default_factory=lambda: defaultdict(int))
    promotions: dict = field(default_factory=lambda: defaultdict(Decimal))
    taxes: dict = field(default_factory=lambda: defaultdict(Decimal))
    cost: dict = field(default_factory=lambda: defaultdict(Decimal))

    def merge(self, other: Totals, times: int = 1) -> None:
        for name in ("billed", "by_publisher", "rows", "credit_rows", "promotions", "taxes",
                     "cost"):
            mine = getattr(self, name)
            for key, value in getattr(other, name).items():
                mine[key] += value * times


def _money(rng: random.Random, low: float, high: float) -> Decimal:
    return Decimal(round(rng.uniform(low, high), 6)).quantize(SIX)


def _ts(moment: datetime, as_json: bool):
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if as_json else moment


def _month_rows(kind: str, account: str, month: str, count: int, seed: int,
                totals: Totals, as_json: bool) -> list[dict]:
    rng = random.Random(f"{seed}/{account}/{month}/{kind}")
    year, mon = (int(p) for p in month.split("-"))
    invoice_month = f"{year}{mon:02d}"
    rows = []
    for i in range(count):
        day = 2 + i % 26
        start = datetime(year, mon, day, 8 + i % 15, tzinfo=timezone.utc)
        end = start + timedelta(hours=1)
        sid, sdesc, skuid, skudesc, unit, punit, per, price = SERVICES[i % len(SERVICES)]
        region, zone, country = REGIONS[i % len(REGIONS)]
        project = f"proj-{account[:4].lower()}-{i % 3}"
        cost_type, transaction, seller = "regular", "GOOGLE", None
        credits: list[tuple[str, Decimal, str]] = []
        adjustment = None
        pricing_units = Decimal(rng.randint(1, 400)) / 4
        cost = (pricing_units * price).quantize(SIX)
        if i % 50 == 7:
            cost_type, cost = "tax", _money(rng, 0.5, 20)
            sid, sdesc, skuid, skudesc = "TAX-0000-0001", "Invoice", "TAX-SKU-0001", "Tax"
        elif i % 50 == 13:
            cost_type, cost = "adjustment", -_money(rng, 0.1, 30)
            adjustment = {"id": f"adj-{month}-{i}", "description": "Billing correction",
                          "mode": "MANUAL_ADJUSTMENT", "type": "GENERAL_ADJUSTMENT"}
        elif i % 97 == 5:
            cost_type, cost = "rounding error", _money(rng, -0.009, 0.009)
        elif i % 20 == 3:
            transaction, seller = SELLERS[(i // 20) % 2]
            sid, sdesc = MARKET_SERVICES[seller]
            skuid, skudesc, unit, punit, per = f"{sid}-SKU", "Monthly subscription", \
                "count", "count", 1
        else:
            draw = rng.random()
            if draw < 0.3:
                kind_of_credit = DISCOUNT_TYPES[i % len(DISCOUNT_TYPES)]
                share = Decimal(1) if kind_of_credit == "FREE_TIER" else Decimal("0.2")
                credits.append((kind_of_credit, -(cost * share).quantize(SIX),
                                kind_of_credit.replace("_", " ").title()))
            if draw > 0.85:
                # A promotion bigger than its charge: a credit, never clamped to the charge.
                amount = -(cost * Decimal("1.5") + Decimal("0.5")).quantize(SIX)
                credits.append(("PROMOTION", amount, "Free trial credit"))
        list_cost = cost if cost_type != "regular" else (cost * Decimal("1.25")).quantize(SIX)
        usage_amount = float(pricing_units * per) if cost_type == "regular" else 0.0
        row = {
            "billing_account_id": account,
            "service": {"id": sid, "description": sdesc},
            "sku": {"id": skuid, "description": skudesc},
            "usage_start_time": _ts(start, as_json), "usage_end_time": _ts(end, as_json),
            "project": {"id": project, "number": str(100000 + i % 3), "name": f"Project {i % 3}",
                        "labels": [{"key": "team", "value": f"team-{i % 4}"}],
                        "ancestry_numbers": "/123456789/",
                        "ancestors": [{"resource_name": f"projects/{100000 + i % 3}",
                                       "display_name": project},
                                      {"resource_name": "organizations/123456789",
                                       "display_name": "example.com"}]},
            "labels": [{"key": "env", "value": ("prod", "dev")[i % 2]},
                       {"key": "team", "value": f"app-{i % 5}"}] if i % 4 else [],
            "system_labels": ([{"key": "compute.googleapis.com/machine_spec",
                                "value": "n2-standard-4"}] if sdesc == "Compute Engine" else []),
            "location": {"location": region, "country": country, "region": region,
                         "zone": zone},
            "tags": ([{"key": "cost-center", "value": "cc-42", "inherited": True,
                       "namespace": "123456789"}] if i % 6 == 0 else []),
            "transaction_type": transaction, "seller_name": seller,
            "export_time": _ts(end + timedelta(hours=6), as_json),
            "cost": float(cost), "currency": "USD", "currency_conversion_rate": 1.0,
            "usage": {"amount": usage_amount, "unit": unit,
                      "amount_in_pricing_units": float(pricing_units)
                      if cost_type == "regular" else 0.0, "pricing_unit": punit},
            "credits": [{"name": name, "amount": float(amount), "full_name": name,
                         "id": f"{ctype.lower()}-{i % 7}", "type": ctype}
                        for ctype, amount, name in credits],
            "invoice": {"month": invoice_month,
                        "publisher_type": "Partner" if seller else "Google"},
            "cost_type": cost_type, "adjustment_info": adjustment,
            "cost_at_list": float(list_cost),
            "subscription": {"instance_id": None},
            "consumption_model": {"id": "default", "description": "Default"},
        }
        if kind == "detailed":
            row["resource"] = {"name": f"res-{i % 9}",
                               "global_name": f"//compute.googleapis.com/projects/{project}/"
                                              f"zones/{zone}/instances/{1000 + i % 9}"}
            effective = (cost / pricing_units).quantize(Decimal("0.000000001")) \
                if cost_type == "regular" and pricing_units else Decimal(0)
            tier = Decimal(0)
            row["price"] = {"effective_price": str(effective) if as_json else effective,
                            "tier_start_amount": str(tier) if as_json else tier,
                            "unit": punit, "pricing_unit_quantity": "1" if as_json
                            else Decimal(1)}
        rows.append(row)
        key = (account, month)
        credit_sum = sum((a for _t, a, _n in credits), Decimal(0))
        totals.billed[key] += cost + credit_sum
        totals.cost[key] += cost
        totals.by_publisher[(seller or PROVIDER, month)] += cost + credit_sum
        totals.rows[key] += 1
        promotions = [a for t, a, _n in credits if t == "PROMOTION"]
        totals.credit_rows[key] += len(promotions)
        totals.promotions[key] += sum(promotions, Decimal(0))
        if cost_type == "tax":
            totals.taxes[key] += cost
    return rows


def _focus_rows(account: str, month: str, count: int, seed: int, totals: Totals,
                as_json: bool) -> list[dict]:
    """Rows of Google's FOCUS export: FOCUS's columns, its own x_ columns."""
    rng = random.Random(f"{seed}/{account}/{month}/focus")
    year, mon = (int(p) for p in month.split("-"))
    period_start = datetime(year, mon, 1, 8, tzinfo=timezone.utc)
    period_end = datetime(year + mon // 12, mon % 12 + 1, 1, 8, tzinfo=timezone.utc)
    rows = []
    for i in range(count):
        sid, sdesc, skuid, skudesc, unit, punit, per, price = SERVICES[i % len(SERVICES)]
        region = REGIONS[i % len(REGIONS)]
        start = datetime(year, mon, 2 + i % 26, 8 + i % 15, tzinfo=timezone.utc)
        quantity = Decimal(rng.randint(1, 400)) / 4
        cost = (quantity * price).quantize(SIX)
        category = "Usage"
        if i % 25 == 4:
            category, cost = "Tax", _money(rng, 0.5, 10)
        elif i % 25 == 9:
            category, cost = "Credit", -_money(rng, 0.5, 10)
        usage = category == "Usage"

        def money(value: Decimal):
            return str(value) if as_json else value

        row = {
            "BilledCost": money(cost), "EffectiveCost": money(cost),
            "ListCost": money(cost if not usage else (cost * Decimal("1.25")).quantize(SIX)),
            "ContractedCost": money(cost), "BillingAccountId": account,
            "BillingAccountName": f"Billing {account[:6]}", "BillingCurrency": "USD",
            "BillingPeriodStart": _ts(period_start, as_json),
            "BillingPeriodEnd": _ts(period_end, as_json),
            "ChargeCategory": category, "ChargeClass": None,
            "ChargeDescription": skudesc if usage else category,
            "ChargeFrequency": "Usage-Based" if usage else "One-Time",
            "ChargePeriodStart": _ts(start, as_json),
            "ChargePeriodEnd": _ts(start + timedelta(hours=1), as_json),
            "ConsumedQuantity": money(quantity * per) if usage else None,
            "ConsumedUnit": unit if usage else None,
            "PricingQuantity": money(quantity) if usage else None,
            "PricingUnit": punit if usage else None,
            "PricingCategory": "Standard" if usage else None,
            "ProviderName": PROVIDER, "PublisherName": PROVIDER, "InvoiceIssuerName": PROVIDER,
            "RegionId": region[0], "RegionName": None, "AvailabilityZone": region[1],
            "ServiceName": sdesc, "ServiceCategory": None, "SkuId": skuid if usage else None,
            "SkuPriceId": f"{skuid}/0" if usage else None,
            "SubAccountId": f"proj-{account[:4].lower()}-{i % 3}",
            "SubAccountName": f"Project {i % 3}",
            "Tags": [{"key": "env", "value": "prod"}] if i % 2 else [],
            "x_CostType": {"Usage": "regular", "Tax": "tax", "Credit": "regular"}[category],
            "x_ServiceId": sid, "x_ProjectNumber": str(100000 + i % 3),
            "x_Credits": [],
            "x_ExportTime": _ts(start + timedelta(hours=6), as_json),
        }
        rows.append(row)
        key = (account, month)
        totals.billed[key] += cost
        totals.cost[key] += cost
        totals.by_publisher[(PROVIDER, month)] += cost
        totals.rows[key] += 1
        if category == "Tax":
            totals.taxes[key] += cost
    return rows


def _arrow_schema(kind: str):
    import pyarrow as pa

    ts = pa.timestamp("us", tz="UTC")
    num = pa.decimal128(38, 9)
    pairs = pa.list_(pa.struct([("key", pa.string()), ("value", pa.string())]))
    if kind == "focus":
        from open_finops.core.focus import COLUMNS

        fields = []
        sample = _focus_rows("X", "2026-01", 1, 0, Totals(), False)[0]
        for name in sample:
            if name == "Tags":
                fields.append((name, pairs))
            elif name == "x_Credits":
                fields.append((name, pa.list_(pa.struct(
                    [("name", pa.string()), ("amount", num), ("full_name", pa.string()),
                     ("id", pa.string()), ("type", pa.string())]))))
            elif name == "x_ExportTime" or COLUMNS.get(name, "").startswith("TIMESTAMP"):
                fields.append((name, ts))
            elif COLUMNS.get(name) == "DOUBLE":
                fields.append((name, num))
            else:
                fields.append((name, pa.string()))
        return pa.schema(fields)
    idname = pa.struct([("id", pa.string()), ("description", pa.string())])
    fields = [
        ("billing_account_id", pa.string()), ("service", idname), ("sku", idname),
        ("usage_start_time", ts), ("usage_end_time", ts),
        ("project", pa.struct([
            ("id", pa.string()), ("number", pa.string()), ("name", pa.string()),
            ("labels", pairs), ("ancestry_numbers", pa.string()),
            ("ancestors", pa.list_(pa.struct([("resource_name", pa.string()),
                                              ("display_name", pa.string())])))])),
        ("labels", pairs), ("system_labels", pairs),
        ("location", pa.struct([("location", pa.string()), ("country", pa.string()),
                                ("region", pa.string()), ("zone", pa.string())])),
        ("tags", pa.list_(pa.struct([("key", pa.string()), ("value", pa.string()),
                                     ("inherited", pa.bool_()), ("namespace", pa.string())]))),
        ("transaction_type", pa.string()), ("seller_name", pa.string()),
        ("export_time", ts), ("cost", pa.float64()), ("currency", pa.string()),
        ("currency_conversion_rate", pa.float64()),
        ("usage", pa.struct([("amount", pa.float64()), ("unit", pa.string()),
                             ("amount_in_pricing_units", pa.float64()),
                             ("pricing_unit", pa.string())])),
        ("credits", pa.list_(pa.struct([("name", pa.string()), ("amount", pa.float64()),
                                        ("full_name", pa.string()), ("id", pa.string()),
                                        ("type", pa.string())]))),
        ("invoice", pa.struct([("month", pa.string()), ("publisher_type", pa.string())])),
        ("cost_type", pa.string()),
        ("adjustment_info", pa.struct([("id", pa.string()), ("description", pa.string()),
                                       ("mode", pa.string()), ("type", pa.string())])),
        ("cost_at_list", pa.float64()),
        ("subscription", pa.struct([("instance_id", pa.string())])),
        ("consumption_model", idname),
    ]
    if kind == "detailed":
        fields += [("resource", pa.struct([("name", pa.string()), ("global_name", pa.string())])),
                   ("price", pa.struct([("effective_price", num), ("tier_start_amount", num),
                                        ("unit", pa.string()), ("pricing_unit_quantity", num)]))]
    return pa.schema(fields)


def write_month(root: Path, table: str, month: str, rows: int, *, fmt: str = "parquet",
                files: int = 2, seed: int = 0, repeat: int = 1) -> Totals:
    """One billing month of ``table`` as EXPORT DATA writes it: ``files`` files of ``rows``
    rows in all under ``root/table/month/``; ``repeat`` writes the rows that many times
    (the benchmark's million rows from a block). Returns the totals."""
    kind = kind_of(table)
    account = table.split("_v1_")[-1].split("_focus_")[-1].replace("_", "-")
    totals = Totals()
    as_json = fmt != "parquet"
    block = (_focus_rows(account, month, rows, seed, totals, as_json) if kind == "focus"
             else _month_rows(kind, account, month, rows, seed, totals, as_json))
    if repeat > 1:
        scaled = Totals()
        scaled.merge(totals, repeat)
        totals = scaled
    folder = Path(root) / table / month
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()  # overwrite=true
    parts = [block[i::files] for i in range(files)]
    for number, part in enumerate(parts):
        stem = folder / f"{number:012d}"
        if fmt == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            data = pa.Table.from_pylist(part, schema=_arrow_schema(kind))
            with pq.ParquetWriter(f"{stem}.parquet", data.schema, compression="snappy") as out:
                for _ in range(repeat):
                    out.write_table(data)
        else:
            text = "".join(json.dumps(row, default=str) + "\n" for row in part) * repeat
            if fmt == "json.gz":
                with gzip.open(f"{stem}.json.gz", "wt", encoding="utf-8") as out:
                    out.write(text)
            else:
                Path(f"{stem}.json").write_text(text, encoding="utf-8")
    return totals


def write_table(root: Path, table: str, months=MONTHS, rows: int = 120, *,
                fmt: str = "parquet", seed: int = 0) -> Totals:
    """Every month of ``table``; the totals of all."""
    totals = Totals()
    for month in months:
        totals.merge(write_month(root, table, month, rows, fmt=fmt, seed=seed))
    return totals
