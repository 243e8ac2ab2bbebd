"""The handlers of ``finops docker``: init writes the deployment files, up/down/status run
``docker compose`` (the v2 plugin) in the directory init wrote."""
from __future__ import annotations

import argparse
import logging
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

from open_finops.core.config import Config
from open_finops.core.errors import FinopsError
from open_finops.core.store import published_path

DEFAULT_DIR = "open-finops-docker"
COMPOSE_FILE = "compose.yaml"
ENV_FILE = ".env"
#: Files copied verbatim from the package's templates/ directory.
TEMPLATES = (COMPOSE_FILE, "Dockerfile")
#: Where the database directory is mounted in the container.
CONTAINER_DATA_DIR = "/data"
COMPOSE_ARGS = {"up": ["up", "--detach"], "down": ["down"], "status": ["ps", "--all"]}

log = logging.getLogger(__name__)


def _directory(args: argparse.Namespace, config: Config) -> Path:
    return Path(config.get("docker", "dir", getattr(args, "dir", None))).expanduser()


def _quote(name: str, value: str) -> str:
    # Single quotes: docker compose takes the value literally (no ${} interpolation).
    if "'" in value or "\n" in value:
        raise FinopsError(f"{name} cannot contain a quote or a newline: {value!r}; choose a"
                          " database path and [docker] settings without one")
    return f"{name}='{value}'"


def served_file(config: Config) -> str:
    """The file Metabase opens, as the container sees it: the copy of the configured
    database that every import publishes beside it (open_finops.core.store)."""
    return f"{CONTAINER_DATA_DIR}/{published_path(config.database).name}"


def render_env(config: Config) -> str:
    """The .env file: the configured database and the port Metabase listens on."""
    database = config.database
    lines = [
        "# Written by `finops docker init` from the Open FinOps configuration;",
        "# `finops docker init --force` writes it again.",
        "# The directory of the database, mounted read-only at /data in the container.",
        _quote("FINOPS_DATA_DIR", str(database.parent)),
        "# In Metabase, add a DuckDB database with this file, read-only connection on: the",
        f"# copy of {database.name} that every import publishes (imports never lock it).",
        _quote("FINOPS_DATABASE", served_file(config)),
        _quote("METABASE_BIND", str(config.get("docker", "bind"))),
        _quote("METABASE_PORT", str(config.get("docker", "port"))),
        "# sha256 of metabase.jar and duckdb.metabase-driver.jar at the versions of",
        "# compose.yaml; when set, the image build checks the downloads (see the README).",
        "METABASE_SHA256=''",
        "DUCKDB_DRIVER_SHA256=''",
    ]
    return "\n".join(lines) + "\n"


def read_env(path: Path) -> dict[str, str]:
    """The KEY='value' lines of a .env file written by init."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, sep, value = line.partition("=")
        if sep and not key.lstrip().startswith("#"):
            values[key.strip()] = value.strip().strip("'\"")
    return values


def init(args: argparse.Namespace, config: Config) -> int:
    """`finops docker init [DIR] [--force]`."""
    directory = _directory(args, config)
    contents = {
        name: resources.files(__package__).joinpath("templates", name).read_text("utf-8")
        for name in TEMPLATES
    }
    contents[ENV_FILE] = render_env(config)
    targets = {directory / name: text for name, text in contents.items()}
    if directory.exists() and not directory.is_dir():
        raise FinopsError(f"{directory} exists and is not a directory; choose another DIR")
    for path in targets:
        if path.is_dir():
            raise FinopsError(f"{path} is a directory; remove it or choose another DIR")
        if path.exists() and not args.force:
            raise FinopsError(f"{path} already exists; use --force to overwrite it")
    database = config.database
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for path, text in targets.items():
            path.write_text(text, encoding="utf-8")
            print(path)
        # A bind mount needs its source: the directory, not the database, may be created here.
        database.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        where = exc.filename or directory
        raise FinopsError(f"cannot write {where}: {exc.strerror or exc}; choose another"
                          " directory or fix its permissions") from None
    print(f"finops: next: finops docker up, then add the DuckDB database"
          f" {served_file(config)} (read-only) in Metabase at"
          f" http://{config.get('docker', 'bind')}:{config.get('docker', 'port')}",
          file=sys.stderr)
    return 0


def _compose(args: argparse.Namespace, config: Config, command: str) -> int:
    directory = _directory(args, config)
    if not (directory / COMPOSE_FILE).is_file():
        raise FinopsError(f"no {COMPOSE_FILE} in {directory}: run 'finops docker init"
                          f" {directory}' first")
    docker = shutil.which("docker")
    if docker is None:
        raise FinopsError("docker not found on PATH: install Docker Engine with the compose"
                          " plugin (https://docs.docker.com/engine/install/)")
    probe = subprocess.run([docker, "compose", "version"], cwd=directory,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if probe.returncode != 0:
        raise FinopsError("'docker compose' is not available: install the docker compose v2"
                          " plugin (https://docs.docker.com/compose/install/)")
    if command == "up":
        _check_database(directory, config)
    compose_args = list(COMPOSE_ARGS[command])
    if getattr(args, "build", False):
        compose_args.append("--build")
    log.info("running docker compose %s in %s", " ".join(compose_args), directory)
    sys.stdout.flush()
    returncode = subprocess.run([docker, "compose", *compose_args], cwd=directory,
                                stdin=subprocess.DEVNULL).returncode
    if returncode != 0:
        raise FinopsError(f"docker compose {compose_args[0]} failed (exit {returncode})")
    return 0


def _check_database(directory: Path, config: Config) -> None:
    """Warn when the files of init serve another database than the configured one."""
    env_path = directory / ENV_FILE
    if not env_path.is_file():
        raise FinopsError(f"no {ENV_FILE} in {directory}: run 'finops docker init"
                          f" {directory} --force'")
    served = read_env(env_path).get("FINOPS_DATA_DIR")
    database = config.database
    if served and Path(served) != database.parent:
        print(f"finops: warning: {env_path} serves {served}, not the configured database"
              f" {database}; run 'finops docker init {directory} --force' to switch",
              file=sys.stderr)
    elif not published_path(database).exists():
        print(f"finops: warning: {published_path(database)}, the copy of the database"
              f" Metabase reads, does not exist yet: import data first (e.g. finops aws"
              " import), every import publishes it", file=sys.stderr)


def up(args: argparse.Namespace, config: Config) -> int:
    """`finops docker up [--dir DIR] [--build]`."""
    return _compose(args, config, "up")


def down(args: argparse.Namespace, config: Config) -> int:
    """`finops docker down [--dir DIR]`."""
    return _compose(args, config, "down")


def status(args: argparse.Namespace, config: Config) -> int:
    """`finops docker status [--dir DIR]`."""
    return _compose(args, config, "status")
