"""Column names and types shared by every format.

Legacy CSV headers (``lineItem/UnblendedCost``), legacy Parquet and CUR 2.0 names
(``line_item_unblended_cost``) all become the snake_case names AWS itself uses in Parquet, so
the three line up by name. Types are chosen by name rather than read from each file, so the
same column has the same type in every period and every export (a tag that looks numeric in
one month stays text); the numbers are DOUBLE, as in AWS's own Parquet files.

AWS's FOCUS exports keep their FOCUS names (``BilledCost``); their types come from the FOCUS
names too: costs, prices and quantities DOUBLE, the four periods TIMESTAMP (UTC), the rest
text, key-value columns (Tags, x_CostCategories, x_Discounts) as JSON text.
"""
from __future__ import annotations

#: CUR 2.0 map columns (in CSV deliveries they are JSON objects).
MAP_COLUMNS = {
    "resource_tags": "MAP(VARCHAR, VARCHAR)",
    "cost_category": "MAP(VARCHAR, VARCHAR)",
    "product": "MAP(VARCHAR, VARCHAR)",
    "discount": "MAP(VARCHAR, DOUBLE)",
}
TIMESTAMP_COLUMNS = {
    "bill_billing_period_start_date",
    "bill_billing_period_end_date",
    "line_item_usage_start_date",
    "line_item_usage_end_date",
}
_NUMERIC_PREFIXES = ("line_item_", "pricing_", "reservation_", "savings_plan_", "discount_",
                     "split_line_item_")
_NUMERIC_SUFFIXES = ("_cost", "_rate", "_amount", "_factor", "_quantity", "_discount",
                     "_commitment", "_fee", "_units", "_usage", "_ratio", "_value", "_to_date",
                     "_for_billing_period")
#: Columns every physical table starts with; a source column of the same name is renamed.
KEY_COLUMNS = ("export_name", "billing_period")


def normalize(name: str) -> str:
    """AWS's Parquet naming: ``lineItem/UnblendedCost`` -> ``line_item_unblended_cost``,
    ``resourceTags/user:Cost Center`` -> ``resource_tags_user_cost_center``,
    ``savingsPlan/SavingsPlanARN`` -> ``savings_plan_savings_plan_a_r_n``; names that are
    already snake_case are unchanged."""
    out: list[str] = []
    for char in name.strip().lstrip("\ufeff"):
        if char.isupper():
            if out and out[-1] != "_":
                out.append("_")
            out.append(char.lower())
        elif char.isalnum():
            out.append(char)
        elif out and out[-1] != "_":
            out.append("_")
    return "".join(out).strip("_") or "column"


def unique_names(raw_names: list[str], keep: bool = False) -> list[str]:
    """Normalized names for a file's columns (with ``keep``, a FOCUS export's: as they are),
    made unique (tags that differ only by case, ``user:Env`` and ``user:env``, both exist in
    real reports; DuckDB's names ignore case)."""
    seen: dict[str, int] = {}
    result = []
    for raw in raw_names:
        name = (raw.strip().lstrip("\ufeff") or "column") if keep else normalize(raw)
        if name.lower() in KEY_COLUMNS:
            name = f"{name}_source"
        count = seen.get(name.lower(), 0)
        seen[name.lower()] = count + 1
        result.append(name if count == 0 else f"{name}_{count + 1}")
    return result


#: The date-time columns of FOCUS (1.0 to 1.2).
FOCUS_TIMESTAMPS = {"BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart",
                    "ChargePeriodEnd"}


def focus_type(name: str) -> str:
    """The DuckDB type of a column of an AWS FOCUS export, by its FOCUS name."""
    if name in FOCUS_TIMESTAMPS:
        return "TIMESTAMP"
    if not name.startswith("x_") and name.endswith(("Cost", "UnitPrice", "Quantity")):
        return "DOUBLE"
    return "VARCHAR"


def canonical_type(name: str) -> str:
    """The DuckDB type of a normalized column name."""
    if name in MAP_COLUMNS:
        return MAP_COLUMNS[name]
    if name in TIMESTAMP_COLUMNS:
        return "TIMESTAMP"
    if name.startswith(_NUMERIC_PREFIXES) and name.endswith(_NUMERIC_SUFFIXES):
        return "DOUBLE"
    return "VARCHAR"
