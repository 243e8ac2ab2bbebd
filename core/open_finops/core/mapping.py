"""A vendor's FOCUS mapping in the one form every engine can run, written once.

A mapping is a function ``(columns, relation) -> SELECT``: given the columns (name -> DuckDB
type) of one kind of delivery's rows, as the vendor's read left them in a period table, and
the name of a relation holding such rows, the SELECT of the FOCUS rows they map to (the
FOCUS 1.2 columns of open_finops.core.focus.COLUMNS, those of 1.3 it has, then the vendor's
``x_`` columns). It must be **row-local**: each output row comes from one input row (a
commitment's unused part may add a second), with no aggregate, window or join but with
constant tables; or local to a **partition** the vendor names (:attr:`Mappings.partition_by`:
Azure pairs each amortized cost-details row with the actual row of the same charge, within
a billing account's period). Then the same SQL runs

* over the store's tables, as the vendor's ``focus`` view (DuckDB, one machine), and
* over Arrow record batches wherever the rows are, by DuckDB in-process
  (:func:`map_batches`): an engine that hands out batches (Spark's ``mapInArrow``, Ray,
  Dask) runs the vendor's mapping and core's rules (open_finops.core.focus.conform) without a
  second copy of either, and does only the steps that cross rows itself: grouping a
  partitioned kind's rows by its key (Spark's ``groupBy(key).applyInArrow``), one
  ServiceCategory per ServiceName, the Contract Commitment dataset.

tests/vendors/azure/test_azure_focus.py holds every vendor's mapping to this: each loaded
period of each kind, mapped in four batches (or one batch per partition), equals its
rows of ``main.focus``.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
import dataclasses
from dataclasses import dataclass
from typing import Any

from open_finops.core import focus
from open_finops.core.errors import FinopsError
from open_finops.core.sql import quote

#: (columns of the delivery's rows, relation) -> the SELECT of its FOCUS rows.
MappingSql = Callable[[Mapping[str, str], str], str]
#: The relation :func:`map_batches` names each batch.
BATCH = "delivery"


@dataclass(frozen=True)
class Mappings:
    """A vendor's mappings, by the kind of delivery its ledger records (aws: ``v1``, ``v2``,
    ``focus``; azure: ``actual``, ``amortized``, ``focus``), and the ``x_`` columns they
    give after the FOCUS columns."""

    vendor: str
    by_kind: Mapping[str, MappingSql]
    x_columns: Mapping[str, str]
    #: Kind -> (columns -> the SQL of the key within which its mapping looks across rows);
    #: a kind not named is row-local. A batch of such a kind holds whole partitions, of
    #: every kind that shares the key (Azure: the actual and amortized rows of an account's
    #: period).
    partition_by: Mapping[str, Callable[[Mapping[str, str]], str]] = \
        dataclasses.field(default_factory=dict)

    def sql(self, kind: str, columns: Mapping[str, str], relation: str) -> str:
        """The vendor's SELECT of FOCUS rows over ``relation`` (rows of ``kind``)."""
        try:
            mapping = self.by_kind[kind]
        except KeyError:
            raise FinopsError(
                f"{self.vendor} has no FOCUS mapping for {kind!r} rows; its kinds are "
                f"{', '.join(self.by_kind)}") from None
        return mapping(columns, relation)

    def focus_sql(self, kind: str, columns: Mapping[str, str], relation: str,
                  con: Any = None) -> str:
        """:meth:`sql` held to core's rules, with the FOCUS 1.3 columns (the rows of
        ``main.focus`` that ``relation`` gives): a FOCUS 1.3 column the mapping gives is
        kept (``con`` tells which it gives; without one, those of FOCUS 1.2)."""
        rows = self.sql(kind, columns, relation)
        has = {**focus.COLUMNS, **self.x_columns}
        if con is not None:
            has = {name: t for name, t, *_ in con.execute(f"DESCRIBE {rows}").fetchall()}
        return focus.conform(focus.padded(rows, has), list(self.all_x_columns))

    @property
    def all_x_columns(self) -> dict[str, str]:
        """Its ``x_`` columns, then the common ones (open_finops.core.focus.X_COLUMNS) it
        lacks."""
        return {**self.x_columns,
                **{n: t for n, t in focus.X_COLUMNS.items() if n not in self.x_columns}}

    def arrow_schema(self) -> Any:
        """The Arrow schema of :func:`map_batches`' batches."""
        con = _connect()
        try:
            empty = ", ".join(f"CAST(NULL AS {t}) AS {quote(n)}"
                              for n, t in {**focus.COLUMNS_1_3, **self.all_x_columns}.items())
            return _arrow(con.execute(f"SELECT {empty} WHERE false"), 1).schema
        finally:
            con.close()


def map_batches(mappings: Mappings, kind: str, batches: Iterable[Any],
                rows_per_batch: int = 100_000) -> Iterator[Any]:
    """The FOCUS 1.3 rows (Arrow record batches, UTC instants) of ``batches`` of ``kind``
    rows (each batch whole partitions where the kind has :attr:`Mappings.partition_by`),
    mapped by DuckDB in this process: the vendor's mapping and core's rules, one batch at a
    time, in a DuckDB of its own."""
    con = _connect()
    sql_by_schema: dict[Any, str] = {}
    try:
        for batch in batches:
            con.register(BATCH, batch)
            if batch.schema not in sql_by_schema:
                columns = {name: sql_type for name, sql_type, *_ in
                           con.execute(f"DESCRIBE SELECT * FROM {BATCH}").fetchall()}
                sql_by_schema[batch.schema] = mappings.focus_sql(kind, columns, BATCH, con)
            yield from _arrow(con.execute(sql_by_schema[batch.schema]), rows_per_batch)
            con.unregister(BATCH)
    finally:
        con.close()


def _arrow(result: Any, rows_per_batch: int) -> Any:
    """A result as an Arrow record batch reader (DuckDB 1.5 named it fetch_record_batch)."""
    reader = getattr(result, "to_arrow_reader", None)
    return reader(rows_per_batch) if reader else result.fetch_record_batch(rows_per_batch)


def _connect() -> Any:
    """An in-memory DuckDB in UTC with one thread (the engine that calls runs many)."""
    import duckdb

    con = duckdb.connect(config={"threads": 1, "autoinstall_known_extensions": False})
    con.execute("SET TimeZone = 'UTC'")
    return con
