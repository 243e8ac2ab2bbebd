"""ocigen's totals are what its files hold: every file read back with csv and Decimal (no
DuckDB, nothing of the plugin), by kind and month (a cost report's rows by their own month)."""
from __future__ import annotations

import csv
import gzip
from collections import defaultdict
from decimal import Decimal

import ocigen


def test_totals_are_the_sums_of_the_written_files(tmp_path):
    bucket = ocigen.OciBucket(tmp_path / "bucket")
    bucket.month("2024-01", rows=20)
    bucket.month("2024-02", rows=20)
    found: dict[tuple[str, str], list] = defaultdict(lambda: [0, Decimal(0), 0])
    headers = set()
    for path in bucket.files:
        with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            headers.add(tuple(reader.fieldnames))
            for row in reader:
                if "BilledCost" in row:
                    key = ("focus", path.relative_to(bucket.root).parts[1] + "-"
                           + path.relative_to(bucket.root).parts[2])
                    cost, correction = row["BilledCost"], row["oci_BackReferenceNumber"]
                else:
                    key = ("cost", row["lineItem/intervalUsageStart"][:7])
                    cost, correction = row["cost/myCost"], row["lineItem/backreferenceNo"]
                found[key][0] += 1
                found[key][1] += Decimal(cost)
                found[key][2] += bool(correction)
    assert {k: tuple(v) for k, v in found.items()} == {
        k: (t.rows, t.cost, t.corrections) for k, t in bucket.totals.items()}
    assert len(headers) > 2  # columns come and go, in orders of their own
    assert ("cost", "2023-12") in found  # late usage in January's first cost reports
    assert sum(t.corrections for t in bucket.totals.values()) > 0
