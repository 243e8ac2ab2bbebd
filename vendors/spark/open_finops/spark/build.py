"""A vendor's FOCUS 1.3 rows built on Spark, with no second copy of its reading or mapping.

* The driver runs the vendor's discovery (``locate``, ``discover``: open_finops.core.importer)
  and cuts each chosen period's delivery into units of work: one file each, or the whole
  delivery where its kind is decided from all its rows (an Azure run no manifest declares).
* Each Spark task stages its unit's files from the vendor's own source (folders, s3://,
  az://), reads them with the vendor's own ``read`` into an in-memory DuckDB (core's
  ledger.replace_period: gzip checks, errors naming the user's file), and maps them with
  open_finops.core.mapping.map_batches (the vendor's mapping and core.focus.conform over
  Arrow batches) inside ``mapInArrow``.
* A kind whose mapping looks across rows of a partition (Azure's actual and amortized cost
  details, paired within a billing account's period) is not mapped in the task: its rows go
  out as Arrow IPC keyed by the partition, Spark groups them (``groupBy(key)
  .applyInArrow``) and the group is mapped whole, as the store's view maps it.
* The rule over the whole dataset (one ServiceCategory and ServiceSubcategory per ServiceName:
  open_finops.core.focus.conform_dataset) is Spark's: the pair of the most rows among the
  build's rows and the lake's other partitions, for the build's rows; readers of the lake hold
  it over everything (open_finops.core.reports.lake_sql).
* The rows are written to the lake (open_finops.spark.lake): Parquet, INT64 microsecond
  timestamps adjusted to UTC, one folder per billing period and provider, switched whole.
"""
from __future__ import annotations

import copy
import os
import pickle
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from open_finops.core.errors import FinopsError, one_line
from open_finops.core.importer import Delivery, PeriodTable
from open_finops.core.imports import log_to_stderr
from open_finops.spark import lake

#: The environment of the clouds' clients (boto3's, Azure's).
_CLOUD_VARIABLES = ("AWS_", "AZURE_", "OPEN_FINOPS_")
#: Marks a vendor's one-line error inside the exception Spark raises on the driver.
_MARK = "@@finops@@"
#: Rows per Arrow batch a task hands Spark (and reads from DuckDB).
ROWS_PER_BATCH = 65_536
#: Bytes of files a task reads (compressed, as listed; ~250,000 CUR line items in gzip CSV):
#: small files share a task, a bigger one has a task of its own.
TASK_BYTES = 16 << 20
#: A task's DuckDB: one thread (Spark runs a task per core), memory it spills beyond.
TASK_MEMORY = "512MB"


@dataclass(frozen=True)
class Vendor:
    """What a build needs of a vendor: its importer part (open_finops.core.importer.Vendor),
    the function that opens its sources, its mappings (open_finops.core.mapping.Mappings)."""

    part: Any
    open_source: Callable[[str], Any]
    mappings: Any


def vendor(name: str, kind: str = "auto") -> Vendor:
    """The vendors whose deliveries a build reads (their distributions installed)."""
    try:
        if name == "aws":
            from open_finops.aws import focus, loader, sources
            from open_finops.aws.manifests import check_cur_version

            return Vendor(loader.Aws(check_cur_version(kind)), sources.open_source,
                          focus.MAPPINGS)
        if name == "azure":
            from open_finops.azure import focus, loader, sources

            return Vendor(loader.Azure(), sources.open_source, focus.MAPPINGS)
        if name == "gcp":
            from open_finops.gcp import focus, loader, sources

            return Vendor(loader.Gcp(), sources.open_source, focus.MAPPINGS)
        if name == "oci":
            from open_finops.oci import focus, loader, sources

            return Vendor(loader.Oci(kind), sources.open_source, focus.MAPPINGS)
    except ImportError:
        raise FinopsError(f"finops spark import {name} needs the {name} plugin: pip install "
                          f"'open-finops[{name},spark]'") from None
    raise FinopsError(f"finops spark import: no vendor {name!r}; it builds aws, azure, gcp or "
                      "oci",
                      exit_code=2)


@dataclass
class Unit:
    number: int
    delivery: Delivery
    files: list
    #: The source its files are under (open_finops.core.sources.Source).
    source: Any
    #: Its rows go to Spark's groupBy before mapping (the kind looks across a partition, or
    #: is known only once all its files are read).
    keyed: bool


@dataclass
class Built:
    rows: int
    periods: list[str]
    run: Path


def plan(part: Any, mappings: Any, source: Any, export_names: list[str], kind: str,
         start: str | None, end: str | None) -> tuple[list[Unit], list[str]]:
    """The units of work of every chosen period of each export, and the periods."""
    units: list[Unit] = []
    periods: set[str] = set()
    start, end = part.ledger.period_range(start, end)
    found: set[str] = set()
    for export_name in export_names:
        located, listing = part.locate(source, export_name)
        newest = part.discover(located, export_name, kind, listing)
        found.update(newest)
        # An export without the chosen periods adds nothing (another one may have them).
        chosen = {period: delivery for period, delivery in sorted(newest.items())
                  if (not start or period >= start) and (not end or period <= end)}
        portable = _portable(located)
        for period, delivery in chosen.items():
            if delivery.problem:
                raise FinopsError(f"{delivery.location}: {delivery.problem}")
            periods.add(period)
            delivery.origin = _portable(delivery.origin)
            keyed = delivery.kind == "auto" or delivery.kind in mappings.partition_by
            groups = [delivery.files] if keyed else _by_size(delivery.files)
            for files in groups:
                units.append(Unit(len(units), delivery, files, portable, keyed))
    if found and not periods:
        raise FinopsError(f"no billing period between {start or 'the first'} and "
                          f"{end or 'the last'}: the exports cover {min(found)}..{max(found)}")
    return units, sorted(periods)


def _by_size(files: list) -> list[list]:
    """Files in runs of about :data:`TASK_BYTES` (a task's start costs more than a small
    file's read)."""
    runs: list[list] = [[]]
    size = 0
    for obj in files:
        if runs[-1] and size + obj.size > TASK_BYTES:
            runs.append([])
            size = 0
        runs[-1].append(obj)
        size += obj.size
    return runs


def _portable(value: Any) -> Any:
    """``value`` without what does not travel to a Spark task (a cloud client made on the
    driver, recreated on first use)."""
    try:
        pickle.dumps(value)
        return value
    except Exception:  # noqa: BLE001 (any client's own pickling error)
        moved = copy.copy(value)
        for name, attribute in vars(moved).items():
            try:
                pickle.dumps(attribute)
            except Exception:  # noqa: BLE001
                setattr(moved, name, None)
        return moved


def _read(part: Any, unit: Unit, workdir: Path) -> tuple[Any, PeriodTable, str]:
    """The unit's rows in an in-memory DuckDB, read by the vendor: (connection, table,
    kind)."""
    import duckdb

    con = duckdb.connect(config={"threads": 1, "memory_limit": TASK_MEMORY,
                                 "temp_directory": str(workdir / "spill"),
                                 "autoinstall_known_extensions": False,
                                 "preserve_insertion_order": False})
    con.execute("SET TimeZone = 'UTC'")
    table = PeriodTable(con, "delivery_rows")
    delivery = copy.copy(unit.delivery)
    kind = part.ledger.replace_period(
        con, unit.source, unit.files, workdir, table.table, delivery.location,
        lambda batch, names: part.read(con, delivery, table, batch, names),
        lambda: part.finish(con, delivery, table)[0])
    return con, table, kind


def _task(function: Callable[[Any], Iterator[Any]]) -> Callable[[Any], Iterator[Any]]:
    """A task body whose vendor error reaches the driver as its one line."""
    def run(batches: Any) -> Iterator[Any]:
        try:
            yield from function(batches)
        except FinopsError as exc:
            raise RuntimeError(f"{_MARK}{exc}{_MARK}") from None
    return run


def _unit_numbers(batches: Any) -> Iterator[int]:
    for batch in batches:
        yield from batch.column(0).to_pylist()


def _units(part: Any, by_number: dict[int, Unit],
           batches: Any) -> Iterator[tuple[int, Any, PeriodTable, str]]:
    """(number, connection, table, kind) of each unit the task's ``batches`` name that has
    rows, read by the vendor (:func:`_read`) in a folder of its own; the connection and the
    folder go once the caller has taken what it wants."""
    for number in _unit_numbers(batches):
        with tempfile.TemporaryDirectory(prefix="finops-spark-") as workdir:
            con, table, kind = _read(part, by_number[number], Path(workdir))
            try:
                if table.columns is not None:
                    yield number, con, table, kind
            finally:
                con.close()


def build(spark_session: Callable[[], Any], name: str, source_value: str,
          export_names: list[str], location: str, *, kind: str = "auto",
          start: str | None = None, end: str | None = None,
          log: Callable[[str], None] = log_to_stderr) -> Built:
    """Build the FOCUS rows of ``export_names`` under ``source_value`` into the lake at
    ``location``, replacing each chosen period of the vendor as a whole, in the session
    ``spark_session()`` gives (asked for once the deliveries are found)."""
    import pyarrow as pa

    chosen = vendor(name, kind)
    root = lake.check(location)
    part, mappings = chosen.part, chosen.mappings
    units, periods = plan(part, mappings, chosen.open_source(source_value), export_names,
                          kind, start, end)
    log(f"building {name} {', '.join(export_names)}: {len(periods)} period(s), "
        f"{len(units)} task(s) into {root}")
    spark = spark_session()  # pyspark is there from here on (or the session said so)
    from pyspark.sql.pandas.types import from_arrow_schema, to_arrow_schema

    started = time.perf_counter()
    if spark.sparkContext.master.startswith("local"):
        # A local session's Python workers see the command's credentials and endpoints, also
        # where the session outlived a change of them (a notebook's, a test's); on a cluster
        # the executors use their own (an instance role, their environment).
        spark.sparkContext.environment.update(
            {k: v for k, v in os.environ.items() if k.startswith(_CLOUD_VARIABLES)})
    schema = from_arrow_schema(mappings.arrow_schema())
    arrow_schema = to_arrow_schema(schema, timezone="UTC")
    by_number = {unit.number: unit for unit in units}

    def fitted(batches: Any) -> Iterator[Any]:
        for batch in batches:
            yield pa.Table.from_batches([batch]).select(arrow_schema.names).cast(
                arrow_schema).combine_chunks().to_batches()[0] if batch.num_rows else None

    def mapped(batches: Any) -> Iterator[Any]:
        from open_finops.core.mapping import map_batches

        for _number, con, table, unit_kind in _units(part, by_number, batches):
            rows = _reader(con.execute(f"SELECT * FROM {table.table}"))
            for batch in fitted(map_batches(mappings, unit_kind, rows, ROWS_PER_BATCH)):
                if batch is not None:
                    yield batch

    def keyed(batches: Any) -> Iterator[Any]:
        for number, con, table, unit_kind in _units(part, by_number, batches):
            by = mappings.partition_by.get(unit_kind)
            key = by(table.columns) if by else f"'unit {number}'"
            result = con.execute(f"SELECT {key} AS _key, * FROM {table.table} ORDER BY _key")
            yield from _ipc(_reader(result), unit_kind)

    def grouped(group: Any) -> Any:
        from open_finops.core.mapping import map_batches

        parts: dict[str, list] = {}
        for unit_kind, blob in zip(group.column("kind").to_pylist(),
                                   group.column("rows").to_pylist()):
            parts.setdefault(unit_kind, []).append(pa.ipc.open_stream(blob).read_all())
        out = []
        shared = [k for k in parts if k in mappings.partition_by]
        jobs = [(shared[0], [t for k in shared for t in parts[k]])] if shared else []
        jobs += [(k, tables) for k, tables in parts.items() if k not in shared]
        for unit_kind, tables in jobs:
            rows = pa.concat_tables(tables, promote_options="permissive").combine_chunks()
            out += [b for b in fitted(map_batches(mappings, unit_kind, rows.to_batches()))
                    if b is not None]
        return pa.Table.from_batches(out, schema=arrow_schema)

    plain = [u.number for u in units if not u.keyed]
    paired = [u.number for u in units if u.keyed]
    frames = []
    if plain:
        frames.append(_numbers(spark, plain).mapInArrow(_task(mapped), schema))
    if paired:
        blobs = _numbers(spark, paired).mapInArrow(
            _task(keyed), "key string, kind string, rows binary")
        frames.append(blobs.groupBy("key").applyInArrow(_task_one(grouped), schema))
    run = lake.new_run(root, name)
    try:
        count = 0
        if frames:
            rows = frames[0]
            for frame in frames[1:]:
                rows = rows.unionByName(frame)
            # Each task writes its own files of each period: no shuffle of the rows.
            _write(rows, run, name)
            count, picks = _one_category_per_service(root, run, periods, name)
            if picks:  # the vendors disagree on a service: the run's rows again, held to it
                conformed = run.with_name(run.name + "-conformed")
                _write(_picked(spark.read.parquet(str(run)).drop(lake.PERIOD, lake.PROVIDER),
                               picks), conformed, name)
                shutil.rmtree(run)
                run = conformed
    except Exception as exc:
        shutil.rmtree(run, ignore_errors=True)
        raise _error(exc) from None
    filled = lake.switch(root, run, periods, name)
    lake.sweep(root)
    log(f"built {count} rows of {len(filled)} period(s) of {name} into {root} in "
        f"{time.perf_counter() - started:.1f}s")
    return Built(count, periods, run)


def _reader(result: Any) -> Any:
    """A DuckDB result as Arrow record batches (DuckDB 1.5 named it fetch_record_batch)."""
    reader = getattr(result, "to_arrow_reader", None)
    return reader(ROWS_PER_BATCH) if reader else result.fetch_record_batch(ROWS_PER_BATCH)


def _numbers(spark: Any, numbers: list[int]) -> Any:
    """A frame of unit numbers, one per partition (a task each)."""
    return spark.createDataFrame([(n,) for n in numbers], "unit int").repartition(
        len(numbers), "unit")


def _task_one(function: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def run(group: Any) -> Any:
        try:
            return function(group)
        except FinopsError as exc:
            raise RuntimeError(f"{_MARK}{exc}{_MARK}") from None
    return run


def _ipc(reader: Any, kind: str) -> Iterator[Any]:
    """Each key's rows of ``reader`` (ordered by ``_key``) as rows (key, kind, Arrow IPC)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def blob(table: Any) -> bytes:
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        return sink.getvalue().to_pybytes()

    for batch in reader:
        table = pa.Table.from_batches([batch])
        keys = table.column("_key")
        rows = table.drop_columns(["_key"])
        for key in pc.unique(keys).to_pylist():
            mask = pc.equal(keys, key) if key is not None else pc.is_null(keys)
            yield pa.RecordBatch.from_pydict({
                "key": [key], "kind": [kind], "rows": [blob(rows.filter(mask))]})


def _write(rows: Any, run: Path, provider: str) -> None:
    from pyspark.sql import functions as F

    (rows.withColumn(lake.PERIOD, F.col("x_BillingPeriod"))
     .withColumn(lake.PROVIDER, F.lit(provider))
     .write.partitionBy(lake.PERIOD, lake.PROVIDER).parquet(str(run)))


def _one_category_per_service(root: Path, run: Path, periods: list[str],
                              provider: str) -> tuple[int, list[tuple]]:
    """(the rows ``run`` wrote, the (ServiceName, ServiceCategory, ServiceSubcategory) that
    its rows must take): the pair of the most rows among them and the lake's partitions this
    build keeps (core.focus.conform_dataset's choice), read by DuckDB from the files."""
    import duckdb

    pairs = "ServiceName, ServiceCategory, ServiceSubcategory"
    ours = [str(p / "*.parquet") for p in sorted(run.glob("*/*")) if p.is_dir()]
    kept = [str(p / "*.parquet") for p in sorted((root / lake.FOCUS).glob("*/*"))
            if p.is_dir() and not _replaced(p, periods, provider) and any(p.glob("*.parquet"))]
    if not ours:
        return 0, []
    con = duckdb.connect()
    try:
        con.execute(f"CREATE TABLE ours AS SELECT {pairs}, count(*) AS n FROM read_parquet("
                    f"{ours!r}, union_by_name = true) GROUP BY ALL")
        every = "SELECT * FROM ours"
        if kept:
            every += (f" UNION ALL SELECT {pairs}, count(*) FROM read_parquet({kept!r}, "
                      "union_by_name = true) GROUP BY ALL")
        picks = con.execute(
            f"SELECT ServiceName, arg_max(ServiceCategory, (n, ServiceCategory, "
            f"ServiceSubcategory)), arg_max(ServiceSubcategory, (n, ServiceCategory, "
            f"ServiceSubcategory)) FROM (SELECT {pairs}, sum(n) AS n FROM ({every}) GROUP BY "
            f"ALL) GROUP BY ServiceName HAVING count(*) > 1").fetchall()
        count = con.execute("SELECT sum(n) FROM ours").fetchone()[0] or 0
        differing = {name for (name,) in con.execute(
            "SELECT DISTINCT o.ServiceName FROM ours o JOIN (SELECT unnest(?) AS p) ON "
            "o.ServiceName = p.name AND (o.ServiceCategory, o.ServiceSubcategory) IS DISTINCT "
            "FROM (p.category, p.subcategory)",
            [[{"name": n, "category": c, "subcategory": s} for n, c, s in picks]]
            ).fetchall()} if picks else set()
    finally:
        con.close()
    return int(count), [pick for pick in picks if pick[0] in differing]


def _picked(rows: Any, picks: list[tuple]) -> Any:
    """``rows`` with the category and subcategory of ``picks`` for their services."""
    from pyspark.sql import functions as F

    category = F.create_map(*[F.lit(x) for name, c, _s in picks for x in (name, c)])
    subcategory = F.create_map(*[F.lit(x) for name, _c, s in picks for x in (name, s)])
    picked = F.col("ServiceName").isin([name for name, *_ in picks])
    return rows.withColumns({
        "ServiceCategory": F.when(picked, category[F.col("ServiceName")]).otherwise(
            F.col("ServiceCategory")),
        "ServiceSubcategory": F.when(picked, subcategory[F.col("ServiceName")]).otherwise(
            F.col("ServiceSubcategory"))})


def _replaced(folder: Path, periods: list[str], provider: str) -> bool:
    return folder.name == f"{lake.PROVIDER}={provider}" and \
        folder.parent.name.split("=", 1)[-1] in periods


def _error(exc: Exception) -> FinopsError:
    """A failed Spark job as one line: the vendor's message a task raised, or Spark's."""
    if isinstance(exc, FinopsError):
        return exc
    text = str(exc)
    found = re.search(f"{_MARK}(.*?){_MARK}", text, re.S)
    if found:
        return FinopsError(found.group(1))
    return FinopsError(f"the Spark build failed: {one_line(text.strip().splitlines()[-1])}"
                       if text.strip() else f"the Spark build failed: {type(exc).__name__}")
