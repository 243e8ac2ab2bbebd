"""Tell actual from amortized cost details by their rows, where the rows tell.

Azure's older exports (one CSV per run, no manifest) do not say which kind they are; their
rows do wherever the export holds commitments (reservations, savings plans):

* unused commitment (ChargeType UnusedReservation, UnusedSavingsPlan) comes only in amortized
  exports;
* commitment purchases and refunds (ChargeType Purchase or Refund with PricingModel
  Reservation or SavingsPlan) only in actual ones.

A file with neither and without commitment-covered usage (ChargeType Usage with PricingModel
Reservation or SavingsPlan) has the same rows in both kinds: nothing in it is amortized. It is
recorded as :data:`EITHER`, which is true of both readings, and the FOCUS conversion gives it
the same BilledCost and EffectiveCost (its cost) whichever it plays: actual alone, and beside
an export of the other kind for the same billing account and period, the kind that one is not,
so that the two pair rather than count twice (open_finops.azure.focus). A file with covered
usage but neither tell is ambiguous (that usage costs 0 in actual and its share of the
commitment in amortized): ``--kind`` decides. An explicit ``--kind`` the rows contradict is an
error. DuckDB counts the rows (one pass over two columns); Python never loops over them.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from open_finops.azure.errors import AzureError
from open_finops.azure.focus import commitment_sql
from open_finops.core.sql import quote

EITHER = "either"
AMBIGUOUS = "ambiguous"
_UNUSED = "UnusedReservation/UnusedSavingsPlan rows, which only amortized exports have"
_BOUGHT = "commitment purchase or refund rows, which only actual exports have"


@dataclass(frozen=True)
class Counts:
    """The rows that tell (or would tell) the kinds apart."""

    unused: int = 0
    bought: int = 0
    covered: int = 0


def count(con: Any, relation: str, names: Iterable[str]) -> Counts:
    """The commitment rows of ``relation`` (a table, or a reader over a file), whose columns
    are ``names`` (ChargeType and PricingModel found in any case)."""
    by_lower = {name.lower(): name for name in names}
    charge_type, pricing_model = by_lower.get("chargetype"), by_lower.get("pricingmodel")
    if charge_type is None:
        return Counts()  # every row is usage (as the FOCUS conversion reads it): none tells
    model = f"CAST({quote(pricing_model)} AS VARCHAR)" if pricing_model else "NULL"
    _charge, _model, _committed, unused, covered, bought = commitment_sql(
        f"CAST({quote(charge_type)} AS VARCHAR)", model)
    row = con.execute(f"SELECT count(*) FILTER (WHERE {unused}), count(*) FILTER (WHERE "
                      f"{bought}), count(*) FILTER (WHERE {covered}) FROM {relation}").fetchone()
    return Counts(*row)


def found(counts: Counts, where: str) -> str | None:
    """The kind the rows tell: actual, amortized, :data:`EITHER` (no commitment rows), or
    None (covered usage only: ambiguous)."""
    if counts.unused and counts.bought:
        raise AzureError(f"{where}: {counts.unused} {_UNUSED}, and {counts.bought} "
                         f"{_BOUGHT}: not the rows of one export")
    if counts.unused:
        return "amortized"
    if counts.bought:
        return "actual"
    return None if counts.covered else EITHER


def decide(counts: Counts, given: str, where: str) -> str:
    """The kind to record for a file with ``counts`` when ``--kind`` is ``given`` (auto,
    actual or amortized), or AzureError: one line naming the file and the fix."""
    kind = found(counts, where)
    if given in ("actual", "amortized"):
        if kind in ("actual", "amortized") and kind != given:
            why = (f"{counts.unused} {_UNUSED}" if kind == "amortized"
                   else f"{counts.bought} {_BOUGHT}")
            raise AzureError(f"{where}: {kind} cost details ({why}), not --kind {given}; give "
                             f"--kind {kind} or --kind auto")
        return given
    if kind is None:
        raise AzureError(f"{where}: cannot tell actual from amortized cost details "
                         f"({counts.covered} commitment-covered usage rows, whose cost differs "
                         "between the two, and no unused commitment or commitment purchase to "
                         "tell): give --kind actual or --kind amortized")
    return kind
