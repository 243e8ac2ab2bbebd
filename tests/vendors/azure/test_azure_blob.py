"""Azure Blob Storage for real: the generator's exports (tests/kits/azuregen.py) uploaded to Azurite
(tests/kits/azuritekit.py) and read back through open_finops.azure.sources over HTTP, against the
same tree read as a local folder; the errors a user meets, each one line without a secret; and
`finops azure import --source az://...` as a black box, the connection string only in
its environment."""
from __future__ import annotations

import datetime as dt
import re
import uuid
from pathlib import Path

import duckdb
import pytest

import azuregen
from azuritekit import ACCOUNT, KEY, upload_tree
from conftest import base_env, free_port, run
from finopskit import FINOPS
from open_finops.azure import sources
from open_finops.azure.errors import AzureError, UsageError

DIRECTORY = "billing/exports root"  # a source below the container root, with a space


@pytest.fixture(scope="module")
def uploaded(azurite, tmp_path_factory):
    """The standard tree, written once and uploaded under DIRECTORY of a fresh container."""
    root = tmp_path_factory.mktemp("azure-blob") / "container"
    tree = azuregen.write_standard(root)
    container = f"costs-{uuid.uuid4().hex[:8]}"
    upload_tree(azurite.connection_string, container, root, under=DIRECTORY)
    return tree, container, root


@pytest.fixture
def env(azurite, monkeypatch):
    monkeypatch.setenv(sources.CONNECTION_STRING, azurite.connection_string)
    return azurite


def blob_source(container: str, path: str = DIRECTORY) -> sources.BlobSource:
    source = sources.open_source(f"az://{container}/{path}")
    assert isinstance(source, sources.BlobSource)
    return source


def test_listing_reading_and_staging_match_the_local_tree(uploaded, env, tmp_path, monkeypatch):
    tree, container, root = uploaded
    local = sources.open_source(str(root))
    remote = blob_source(container)
    assert remote.describe() == f"az://{container}/{DIRECTORY}"
    everything = remote.list("")
    assert {k: o.size for k, o in everything.items()} == \
        {k: o.size for k, o in local.list("").items()}
    odd = tree.exports["ea actual ü #1+%"]
    listed = remote.list(odd.folder)
    assert listed and all(key.startswith(odd.folder + "/") for key in listed)
    # The runs of an older export keep their order in Last-Modified (the newest is complete).
    for period in odd.periods.values():
        runs = [listed[key].mtime for run_ in period.runs for key in run_.files]
        assert runs == sorted(runs) and len(set(runs)) == len(runs)
    manifest = tree.exports["mca-actual"].periods["2026-01"].newest.manifest
    assert remote.read_bytes(manifest) == (root / manifest).read_bytes()
    # One blob per batch: each batch downloads while the previous one is used, then goes.
    monkeypatch.setattr(sources, "BLOB_BATCH_BYTES", 1)
    objects = sorted(listed.values(), key=lambda o: o.key)
    seen = []
    for batch in remote.stage(objects, tmp_path):
        assert len(batch) == 1
        obj, path = batch[0]
        assert path.read_bytes() == (root / obj.key).read_bytes()
        assert [p.name for p in tmp_path.iterdir()] != []
        seen.append(obj.key)
    assert seen == [o.key for o in objects] and list(tmp_path.iterdir()) == []
    # The container root as the source: keys are whole blob names.
    whole = blob_source(container, "").list(DIRECTORY)
    assert set(whole) == {f"{DIRECTORY}/{key}" for key in everything}


def test_a_sas_connection_string_reads_too(uploaded, azurite, monkeypatch):
    from azure.storage.blob import AccountSasPermissions, ResourceTypes, generate_account_sas

    _tree, container, _root = uploaded
    sas = generate_account_sas(ACCOUNT, KEY, ResourceTypes(container=True, object=True),
                               AccountSasPermissions(read=True, list=True),
                               expiry=dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1))
    monkeypatch.setenv(sources.CONNECTION_STRING,
                       f"BlobEndpoint={azurite.endpoint};SharedAccessSignature={sas}")
    source = sources.open_source(f"az://{container}/{DIRECTORY}", azurite.endpoint)
    assert source.list("") and sas not in source.account


def error_of(action) -> AzureError:
    with pytest.raises(AzureError) as caught:
        action()
    message = str(caught.value)
    assert "\n" not in message and KEY not in message and "sig=" not in message, message
    return caught.value


def test_errors_name_the_problem_in_one_line_without_a_secret(uploaded, env, monkeypatch):
    _tree, container, _root = uploaded
    monkeypatch.setitem(sources.RETRY, "retry_total", 1)
    missing = error_of(lambda: blob_source(f"nope-{container}").list(""))
    assert str(missing) == (f"cannot list az://nope-{container}/{DIRECTORY}: container "
                            f"'nope-{container}' does not exist in {env.endpoint}; check the "
                            "container in --source")
    absent = error_of(lambda: blob_source(container).read_bytes("no/manifest.json"))
    assert str(absent).endswith("no/manifest.json: no such blob")

    wrong_key = KEY[:-6] + "AAAA=="
    monkeypatch.setenv(sources.CONNECTION_STRING,
                       env.connection_string.replace(KEY, wrong_key))
    refused = error_of(lambda: blob_source(container).list(""))
    assert re.fullmatch(rf"cannot list az://{container}/{DIRECTORY}: access refused by "
                        rf"{re.escape(env.endpoint)} "
                        r"\((AuthorizationFailure|AuthenticationFailed)\); check the key .*",
                        str(refused)), refused
    assert wrong_key not in str(refused)

    closed = f"http://127.0.0.1:{free_port()}/{ACCOUNT}"
    monkeypatch.setenv(sources.CONNECTION_STRING,
                       env.connection_string.replace(env.endpoint, closed))
    unreachable = error_of(lambda: blob_source(container).list(""))
    assert f"cannot reach {closed} after 1 retries" in str(unreachable)


def test_option_errors_are_usage_errors(env, monkeypatch):
    def usage(*args) -> str:
        error = error_of(lambda: sources.open_source(*args))
        assert isinstance(error, UsageError) and error.exit_code == 2
        return str(error)

    assert "expected az://CONTAINER/PATH" in usage("az://No_Such/x")
    assert "--account-url http://elsewhere.example/x is not the account of " \
        "AZURE_STORAGE_CONNECTION_STRING" in usage("az://c1c/x", "http://elsewhere.example/x")
    assert "carries a SAS token" in usage("az://c1c/x", "https://a.example/?sv=1&sig=SECRET")
    monkeypatch.setenv(sources.CONNECTION_STRING, "not a connection string")
    assert "is not a storage connection string" in usage("az://c1c/x")
    monkeypatch.delenv(sources.CONNECTION_STRING)
    assert usage("az://c1c/x").startswith("az:// sources need --account-url https://")
    assert "only local folders and az://" in usage("s3://bucket/x")


def totals(db: Path) -> dict[tuple[str, str], tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {(e, p): (b, f, n) for e, p, b, f, n in con.execute(
            "SELECT x_ExportName, x_BillingPeriod, round(sum(BilledCost), 2), "
            "round(sum(EffectiveCost), 2), count(*) FROM focus GROUP BY ALL").fetchall()}
    finally:
        con.close()


def test_import_costs_from_blob_storage(uploaded, azurite, tmp_path, home):
    """The black box: the connection string only in the environment; -vv asks for every log
    line; the totals to the cent, and the key nowhere the user or the database could see."""
    tree, container, _root = uploaded
    db = tmp_path / "finops.duckdb"
    env = base_env(home, AZURE_STORAGE_CONNECTION_STRING=azurite.connection_string)
    outputs = []
    names = ["focus-1.2-preview", "ea actual ü #1+%", "mca-actual"]
    for name in names:
        exp = tree.exports[name]
        argv = [FINOPS, "-vv", "azure", "import", "--database", str(db),
                "--source", f"az://{container}/{DIRECTORY}", "--export-name", name,
                *(["--kind", exp.kind] if exp.layout == "older" else [])]
        proc = run(argv, env=env, check=True, timeout=300)
        assert f"az://{container}/{DIRECTORY}" in proc.stderr, proc.explain
        outputs += [proc.stdout, proc.stderr, " ".join(argv)]
    got = totals(db)
    for name in names:
        for month, period in tree.exports[name].periods.items():
            billed, effective, rows = got[(name, month)]
            assert rows == period.rows, (name, month)
            if period.billed is not None:
                assert billed == float(azuregen.cents(period.billed)), (name, month)
            if period.effective is not None and tree.exports[name].kind == "focus":
                assert effective == float(azuregen.cents(period.effective)), (name, month)
    again = run(argv, env=env, check=True, timeout=300)
    assert "0 loaded, 2 up to date" in again.stderr, again.explain
    outputs += [again.stdout, again.stderr]
    files = [db, *home.rglob("*")]
    for text in outputs:
        assert KEY not in text and "SharedKey" not in text and "Authorization" not in text
    for path in files:
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path


def test_list_exports_tells_an_older_blob_exports_kind(uploaded, azurite, tmp_path, home):
    """The older export's rows, downloaded for list, say it is actual (no --kind)."""
    tree, container, _root = uploaded
    env = base_env(home, AZURE_STORAGE_CONNECTION_STRING=azurite.connection_string)
    name = "ea actual ü #1+%"
    proc = run([FINOPS, "azure", "list", "--database", str(tmp_path / "none.duckdb"),
                "--source", f"az://{container}/{DIRECTORY}", "--export-name", name],
               env=env, check=True, timeout=300)
    header, *lines = proc.stdout.splitlines()

    def cell(line: str, column: str) -> str:
        return line[header.index(column):].split()[0]

    latest = {cell(line, "BILLING_PERIOD"): cell(line, "KIND") for line in lines
              if cell(line, "LATEST") == "yes"}
    assert latest == {month: "actual" for month in tree.exports[name].periods}, proc.explain
