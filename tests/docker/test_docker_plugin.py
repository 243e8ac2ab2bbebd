"""`finops docker`: init writes the deployment files, up/down/status drive docker compose,
and the shipped compose file pins its images and mounts the database read-only."""
from __future__ import annotations

import re
import shlex
import stat
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pytest
import yaml
from conftest import VENV, base_env, run
from finopskit import FINOPS, finops_main

from open_finops.core import store
from open_finops.core.plugins import LoadedPlugin
from open_finops.docker import pins
from open_finops.docker.commands import read_env
from open_finops.docker.plugin import PLUGIN

# Every test works in an empty directory, without the developer's OPEN_FINOPS_* variables.
pytestmark = pytest.mark.usefixtures("in_tmp")

FILES = ("compose.yaml", "Dockerfile", ".env")


@dataclass
class FakeDocker:
    bin: Path
    log: Path

    def calls(self) -> list[tuple[str, list[str]]]:
        """(working directory, arguments) of every call, `compose version` probes included."""
        if not self.log.exists():
            return []
        calls = []
        for line in self.log.read_text().splitlines():
            cwd, _, args = line.partition("\t")
            calls.append((cwd, shlex.split(args)))
        return calls

    def compose_calls(self) -> list[tuple[str, list[str]]]:
        return [(cwd, args) for cwd, args in self.calls() if args != ["compose", "version"]]


@pytest.fixture
def fake_docker(tmp_path, monkeypatch) -> FakeDocker:
    """A FAKE `docker` executable, first and alone on PATH: a real engine cannot run here.

    It records its working directory and arguments in a log and exits with
    $FAKE_DOCKER_STATUS (default 0); `docker compose version` exits with
    $FAKE_COMPOSE_VERSION_STATUS (default 0), to play a docker without the compose plugin."""
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir()
    log = tmp_path / "fake-docker.log"
    script = bin_dir / "docker"
    script.write_text(
        "#!/bin/sh\n"
        "# FAKE docker for tests: records its calls, runs nothing.\n"
        f"printf '%s\\t' \"$PWD\" >> '{log}'\n"
        f"for arg in \"$@\"; do printf \"'%s' \" \"$arg\" >> '{log}'; done\n"
        f"echo >> '{log}'\n"
        "if [ \"$1 $2\" = 'compose version' ]; then\n"
        "  echo 'Docker Compose version v2.99.0-fake'; exit \"${FAKE_COMPOSE_VERSION_STATUS:-0}\"\n"
        "fi\n"
        "exit \"${FAKE_DOCKER_STATUS:-0}\"\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", str(bin_dir))
    return FakeDocker(bin_dir, log)


@pytest.fixture
def no_docker(tmp_path, monkeypatch) -> None:
    """A PATH on which no docker can be found."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def finops(*argv: str) -> int:
    """`finops` in-process (finopskit), with the docker plugin only (whatever else is
    installed)."""
    return finops_main(argv, plugins={"docker": LoadedPlugin(PLUGIN, "open-finops-docker", "0")})


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


# --- init ----------------------------------------------------------------------------------

def test_init_writes_files_for_the_configured_database(tmp_path, capsys):
    assert finops("docker", "init", "--database", "store/costs.duckdb") == 0
    out, err = capsys.readouterr()
    directory = Path("open-finops-docker")
    assert lines(out) == [str(directory / name) for name in FILES]
    assert "finops docker up" in err
    for name in FILES:
        assert (tmp_path / directory / name).is_file()
    env = read_env(tmp_path / directory / ".env")
    assert env["FINOPS_DATA_DIR"] == str(tmp_path / "store")
    # Metabase reads the copy that imports publish beside the database, never the database.
    assert env["FINOPS_DATABASE"] == "/data/costs.published.duckdb"
    assert (env["METABASE_BIND"], env["METABASE_PORT"]) == ("127.0.0.1", "3000")
    assert (tmp_path / "store").is_dir()  # the bind mount's source exists


def test_init_takes_dir_argument_and_docker_config(tmp_path, monkeypatch, capsys):
    (tmp_path / "config.toml").write_text(
        '[docker]\nport = 8080\n[core]\ndatabase = "a/b.duckdb"\n')
    monkeypatch.setenv("OPEN_FINOPS_DOCKER_BIND", "0.0.0.0")
    assert finops("docker", "init", "deploy") == 0
    assert lines(capsys.readouterr().out)[0] == str(Path("deploy") / "compose.yaml")
    env = read_env(tmp_path / "deploy" / ".env")
    assert (env["METABASE_BIND"], env["METABASE_PORT"]) == ("0.0.0.0", "8080")
    assert env["FINOPS_DATA_DIR"] == str(tmp_path / "a")


def test_init_refuses_to_overwrite_without_force(tmp_path, capsys):
    assert finops("docker", "init", "deploy") == 0
    (tmp_path / "deploy" / "Dockerfile").write_text("mine\n")
    capsys.readouterr()
    assert finops("docker", "init", "deploy") == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert lines(err) == [f"finops: error: {Path('deploy') / 'compose.yaml'} already exists;"
                          " use --force to overwrite it"]
    assert (tmp_path / "deploy" / "Dockerfile").read_text() == "mine\n"

    assert finops("docker", "init", "deploy", "--force") == 0
    assert (tmp_path / "deploy" / "Dockerfile").read_text().startswith("# Metabase")
    assert len(lines(capsys.readouterr().out)) == len(FILES)


def test_init_refuses_a_directory_in_the_way_even_with_force(tmp_path, capsys):
    (tmp_path / "deploy" / "Dockerfile").mkdir(parents=True)
    assert finops("docker", "init", "deploy", "--force") == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert lines(err) == [f"finops: error: {Path('deploy') / 'Dockerfile'} is a directory;"
                          " remove it or choose another DIR"]
    assert sorted(p.name for p in (tmp_path / "deploy").iterdir()) == ["Dockerfile"]


def test_init_where_no_directory_can_be_made_is_one_line(tmp_path, capsys):
    (tmp_path / "taken").write_text("a file\n")
    assert finops("docker", "init", "taken/deploy") == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert lines(err) == [f"finops: error: cannot write {Path('taken') / 'deploy'}: Not a"
                          " directory; choose another directory or fix its permissions"]
    assert (tmp_path / "taken").read_text() == "a file\n"


def test_init_refuses_a_quote_in_the_database_path(capsys):
    assert finops("docker", "init", "--database", "it's/x.duckdb") == 1
    err = lines(capsys.readouterr().err)
    assert len(err) == 1 and "quote" in err[0] and "choose a database path" in err[0], err
    assert not Path("open-finops-docker").exists()


# --- up, down, status ----------------------------------------------------------------------

@pytest.mark.parametrize("command, compose_args", [
    (["up"], ["compose", "up", "--detach"]),
    (["up", "--build"], ["compose", "up", "--detach", "--build"]),
    (["down"], ["compose", "down"]),
    (["status"], ["compose", "ps", "--all"]),
])
def test_compose_commands_run_in_the_directory(command, compose_args, fake_docker, tmp_path,
                                               capsys):
    assert finops("docker", "init", "deploy") == 0
    assert finops("docker", *command, "--dir", "deploy") == 0, capsys.readouterr()
    assert fake_docker.calls()[0] == (str(tmp_path / "deploy"), ["compose", "version"])
    assert fake_docker.compose_calls() == [(str(tmp_path / "deploy"), compose_args)]


def test_compose_commands_default_to_the_init_directory(fake_docker, tmp_path):
    assert finops("docker", "init") == 0
    assert finops("docker", "status") == 0
    assert fake_docker.compose_calls() == [
        (str(tmp_path / "open-finops-docker"), ["compose", "ps", "--all"])]


def test_up_without_init_names_init(fake_docker, capsys):
    assert finops("docker", "up") == 1
    err = lines(capsys.readouterr().err)
    assert len(err) == 1 and "finops docker init" in err[0] and "compose.yaml" in err[0], err
    assert fake_docker.calls() == []


def test_missing_docker_is_one_line(no_docker, capsys):
    assert finops("docker", "init") == 0
    capsys.readouterr()
    assert finops("docker", "up") == 1
    assert lines(capsys.readouterr().err) == [
        "finops: error: docker not found on PATH: install Docker Engine with the compose"
        " plugin (https://docs.docker.com/engine/install/)"]


def test_missing_compose_plugin(fake_docker, monkeypatch, capsys):
    monkeypatch.setenv("FAKE_COMPOSE_VERSION_STATUS", "1")
    assert finops("docker", "init") == 0
    assert finops("docker", "down") == 1
    assert "'docker compose' is not available" in capsys.readouterr().err
    assert fake_docker.compose_calls() == []


def test_failing_compose_fails(fake_docker, monkeypatch, capsys):
    monkeypatch.setenv("FAKE_DOCKER_STATUS", "17")
    assert finops("docker", "init") == 0
    assert finops("docker", "down") == 1
    assert lines(capsys.readouterr().err)[-1] == (
        "finops: error: docker compose down failed (exit 17)")


def test_up_warns_when_init_served_another_database(fake_docker, capsys):
    assert finops("docker", "init", "--database", "old/x.duckdb") == 0
    capsys.readouterr()
    assert finops("docker", "up", "--database", "new/x.duckdb") == 0
    err = lines(capsys.readouterr().err)
    assert len(err) == 1 and "init" in err[0] and "--force" in err[0], err
    assert err[0].startswith("finops: warning: ")


def test_up_warns_when_the_database_does_not_exist_yet(fake_docker, tmp_path, capsys):
    assert finops("docker", "init") == 0
    capsys.readouterr()
    assert finops("docker", "up") == 0
    assert "does not exist yet" in capsys.readouterr().err
    (tmp_path / "data" / "finops.duckdb").write_bytes(b"")
    assert finops("docker", "up") == 0
    assert "finops.published.duckdb" in capsys.readouterr().err  # not published yet
    (tmp_path / "data" / "finops.published.duckdb").write_bytes(b"")
    assert finops("docker", "up") == 0
    assert capsys.readouterr().err == ""


def test_console_script_with_fake_docker(tmp_path):
    """The installed entry point end to end: init, then up with the options after it."""
    fake = tmp_path / "bin"
    fake.mkdir()
    log = tmp_path / "calls"
    (fake / "docker").write_text(f"#!/bin/sh\necho \"$*\" >> '{log}'\n")
    (fake / "docker").chmod(0o755)
    env = base_env(PATH=f"{fake}:{VENV / 'bin'}:/usr/bin:/bin")
    init = run([FINOPS, "docker", "init", "d"], cwd=tmp_path, env=env, timeout=60, check=True)
    assert [Path(p).name for p in lines(init.stdout)] == list(FILES), init.explain
    up = run([FINOPS, "docker", "up", "--dir", "d", "--database", "data/finops.duckdb"],
             cwd=tmp_path, env=env, timeout=60, check=True)
    assert log.read_text().splitlines() == ["compose version", "compose up --detach"], up.explain


def test_console_script_without_docker(tmp_path):
    env = base_env(PATH=f"{VENV / 'bin'}:/usr/bin:/bin")
    assert not any(Path(d, "docker").exists() for d in env["PATH"].split(":"))
    run([FINOPS, "docker", "init"], cwd=tmp_path, env=env, timeout=60, check=True)
    proc = run([FINOPS, "docker", "status"], cwd=tmp_path, env=env, timeout=60, check=False)
    assert proc.returncode == 1, proc.explain
    assert lines(proc.stderr)[-1].startswith("finops: error: docker not found"), proc.explain


# --- the shipped files ---------------------------------------------------------------------

TEMPLATES = resources.files("open_finops.docker").joinpath("templates")
PINNED_TAG = re.compile(r"^[\w.-]+(/[\w.-]+)*:(?!latest$)[\w][\w.-]*$")


def compose() -> dict:
    # PyYAML is pinned in requirements-dev.txt: a missing one fails here, never skips.
    return yaml.safe_load(TEMPLATES.joinpath("compose.yaml").read_text("utf-8"))


def test_every_image_is_pinned_never_latest():
    services = compose()["services"]
    assert services
    for name, service in services.items():
        image = service.get("image")
        assert image, f"service {name} has no image tag"
        assert PINNED_TAG.match(image), f"service {name}: image {image!r} is not pinned"
        assert re.search(r"\d+\.\d+", image.rsplit(":", 1)[1]), image
    dockerfile = TEMPLATES.joinpath("Dockerfile").read_text("utf-8")
    bases = re.findall(r"^FROM\s+(\S+)", dockerfile, flags=re.MULTILINE)
    assert bases
    for base in bases:
        assert PINNED_TAG.match(base) and re.search(r":\d+\.\d+\.\d+", base), base


def test_build_versions_are_exact_and_match_the_image_tag():
    metabase = compose()["services"]["metabase"]
    args = metabase["build"]["args"]
    for key in ("METABASE_VERSION", "DUCKDB_DRIVER_VERSION"):
        assert re.fullmatch(r"\d+(\.\d+)+", args[key]), (key, args[key])
    assert metabase["image"].endswith(
        f":{args['METABASE_VERSION']}-duckdb{args['DUCKDB_DRIVER_VERSION']}")
    # No checksum is invented: the sha256 arguments come from .env, empty by default.
    assert args["METABASE_SHA256"] == "${METABASE_SHA256:-}"
    assert args["DUCKDB_DRIVER_SHA256"] == "${DUCKDB_DRIVER_SHA256:-}"


def test_database_is_mounted_read_only():
    volumes = compose()["services"]["metabase"]["volumes"]
    data = [v for v in volumes if isinstance(v, dict) and v.get("target") == "/data"]
    assert len(data) == 1, volumes
    assert data[0]["type"] == "bind" and data[0]["read_only"] is True
    assert "FINOPS_DATA_DIR" in data[0]["source"]
    # Every bind mount is read-only; Metabase writes only to its named volume.
    for volume in volumes:
        text = volume if isinstance(volume, str) else ""
        assert not (isinstance(volume, dict) and volume.get("type") == "bind"
                    and not volume.get("read_only")), volume
        assert not text or text.endswith(":ro") or not text.startswith(("/", ".", "$")), text


def test_env_written_by_init_feeds_every_compose_variable(tmp_path):
    assert finops("docker", "init", "deploy") == 0
    env = read_env(tmp_path / "deploy" / ".env")
    text = TEMPLATES.joinpath("compose.yaml").read_text("utf-8")
    used = set(re.findall(r"\$\{(\w+)", text))
    assert used and used <= set(env), used - set(env)


def test_compose_dockerfile_pins_and_the_duckdb_contract_agree():
    """One pair, pinned in pins.py: compose.yaml builds it and tags it, the Dockerfile's
    defaults are the same, and the driver embeds the DuckDB the contract reads with."""
    metabase = compose()["services"]["metabase"]
    args = metabase["build"]["args"]
    assert (args["METABASE_VERSION"], args["DUCKDB_DRIVER_VERSION"]) == (
        pins.METABASE_VERSION, pins.DUCKDB_DRIVER_VERSION)
    assert metabase["image"] == pins.IMAGE
    dockerfile = TEMPLATES.joinpath("Dockerfile").read_text("utf-8")
    defaults = dict(re.findall(r'^ARG (\w+_VERSION)="([^"]*)"', dockerfile, flags=re.MULTILINE))
    assert defaults == {"METABASE_VERSION": pins.METABASE_VERSION,
                        "DUCKDB_DRIVER_VERSION": pins.DUCKDB_DRIVER_VERSION}, defaults
    assert pins.embedded_duckdb() == store.READER_DUCKDB


def test_the_pair_is_one_the_driver_makers_released_together():
    """Driver 1.5.4.0 is "Metabase 62 + DuckDB 1.5.4" and 1.5.5.0 "Metabase 63 + DuckDB 1.5.5"
    (the driver's release notes): the Metabase major is the driver's. 0.58.9 with 1.5.5.0,
    which shipped before, fails here."""
    majors = {"1.5.3.0": 59, "1.5.4.0": 62, "1.5.5.0": 63}
    assert pins.DUCKDB_DRIVER_VERSION in majors
    assert int(pins.METABASE_VERSION.split(".")[1]) == majors[pins.DUCKDB_DRIVER_VERSION]
