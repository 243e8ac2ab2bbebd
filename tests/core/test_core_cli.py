"""The `finops` command: plugin discovery, --version, `plugins`, global options anywhere,
missing vendors and errors. In-process through `cli.run` with a chosen set of plugins where
natural; the console script of .venv as a black box for what depends on installed metadata."""
from __future__ import annotations

import argparse
import textwrap
from importlib import metadata
from pathlib import Path

import pytest
from conftest import REPO, VENV, VERSION, base_env, run
from finopskit import FINOPS

from open_finops.core import cli
from open_finops.core.config import Config
from open_finops.core.errors import FinopsError
from open_finops.core.plugins import (
    KNOWN_VENDORS,
    Discovery,
    LoadedPlugin,
    VendorPlugin,
    discover,
)

# Every test works in an empty directory, without the developer's OPEN_FINOPS_* variables.
pytestmark = pytest.mark.usefixtures("in_tmp")


def make_dist(site: Path, name: str, version: str, entry_points: str = "",
              modules: dict[str, str] | None = None) -> Path:
    """A minimal installed distribution (a .dist-info directory) in `site`, plus modules."""
    dist_info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8")
    if entry_points:
        (dist_info / "entry_points.txt").write_text(textwrap.dedent(entry_points), "utf-8")
    for module, source in (modules or {}).items():
        (site / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    return site


class Recorder:
    """A test plugin, `finops echo show|fail`, that records what its handler received."""

    def __init__(self) -> None:
        self.calls: list[tuple[argparse.Namespace, Config]] = []

    def register(self, parser: argparse.ArgumentParser) -> None:
        sub = parser.add_subparsers(title="commands", metavar="COMMAND")
        show = sub.add_parser("show", help="record the call")
        show.add_argument("--bucket")
        show.set_defaults(handler=self.show)
        sub.add_parser("fail").set_defaults(handler=self.fail)

    def show(self, args: argparse.Namespace, config: Config) -> int:
        self.calls.append((args, config))
        print(f"bucket={config.get('echo', 'bucket', args.bucket)}")
        return 0

    def fail(self, args: argparse.Namespace, config: Config) -> int:
        raise FinopsError("the fail command failed")

    def discovery(self) -> Discovery:
        plugin = VendorPlugin("echo", "a test plugin", self.register,
                              config_defaults={"bucket": "default-bucket"})
        return Discovery(plugins={"echo": LoadedPlugin(plugin, "open-finops-echo", "9.9")})


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


# --- discovery -----------------------------------------------------------------------------

def test_discovery_finds_the_installed_plugins_quietly(capsys):
    found = discover(reserved=cli.CORE_COMMANDS)
    assert capsys.readouterr() == ("", "")
    # Both vendor distributions of the repository register their entry point.
    assert {"aws", "docker"} <= set(found.plugins) | set(found.broken)
    docker = found.plugins["docker"]
    assert (docker.distribution, docker.version) == ("open-finops-docker", VERSION)
    assert docker.plugin.name == "docker" and docker.plugin.help


def test_discovery_of_bad_objects_and_reserved_names(tmp_path, monkeypatch):
    make_dist(tmp_path, "open-finops-odd", "1.0", modules={"finops_odd": """
        from open_finops.core.plugins import VendorPlugin
        NOT_A_PLUGIN = object()
        MISNAMED = VendorPlugin("other", "x", lambda parser: None)
        """})
    monkeypatch.syspath_prepend(str(tmp_path))
    group = "open_finops.vendors"
    entry_points = [
        metadata.EntryPoint("odd", "finops_odd:NOT_A_PLUGIN", group),
        metadata.EntryPoint("misnamed", "finops_odd:MISNAMED", group),
        metadata.EntryPoint("plugins", "finops_odd:MISNAMED", group),
        metadata.EntryPoint("gone", "finops_no_such_module:PLUGIN", group),
    ]
    found = discover(entry_points, reserved=["plugins"])
    assert not found.plugins
    assert "not a VendorPlugin" in found.broken["odd"].reason
    assert "'other'" in found.broken["misnamed"].reason
    assert "core command" in found.broken["plugins"].reason
    assert found.broken["gone"].reason.startswith("ModuleNotFoundError: ")


def test_broken_plugin_warns_once_and_other_commands_work(tmp_path):
    site = make_dist(
        tmp_path / "site", "open-finops-broken", "1.2",
        entry_points="[open_finops.vendors]\nbroken = finops_broken_plugin:PLUGIN\n",
        modules={"finops_broken_plugin": "raise RuntimeError('boom at import')\n"},
    )
    env = base_env(PYTHONPATH=str(site))
    expected = ("finops: warning: plugin 'broken' from open-finops-broken 1.2 failed to load:"
                " RuntimeError: boom at import")

    listing = run([FINOPS, "plugins"], cwd=tmp_path, env=env, timeout=60, check=True)
    about_broken = [line for line in lines(listing.stderr) if "'broken'" in line]
    assert about_broken == [expected], listing.explain
    assert "Traceback" not in listing.stderr, listing.explain
    assert any(line.startswith("broken ") and "open-finops-broken 1.2" in line
               and "BROKEN" in line for line in lines(listing.stdout)), listing.explain
    assert any(line.startswith("docker ") and f"open-finops-docker {VERSION}" in line
               for line in lines(listing.stdout)), listing.explain

    other = run([FINOPS, "docker", "init", "out"], cwd=tmp_path, env=env, timeout=60,
                check=True)
    assert (tmp_path / "out" / "compose.yaml").is_file(), other.explain
    assert [line for line in lines(other.stderr) if "'broken'" in line] == [expected]

    used = run([FINOPS, "broken"], cwd=tmp_path, env=env, timeout=60, check=False)
    assert used.returncode == 1, used.explain
    assert "failed to load" in lines(used.stderr)[-1], used.explain


def test_plugin_whose_register_raises_loses_its_command(capsys):
    def register(parser: argparse.ArgumentParser) -> None:
        raise ValueError("bad option table")

    plugin = VendorPlugin("shaky", "breaks", register)
    discovery = Discovery(plugins={"shaky": LoadedPlugin(plugin, "open-finops-shaky", "1")})
    assert cli.run(["plugins"], discovery) == 0
    out, err = capsys.readouterr()
    assert lines(err) == ["finops: warning: plugin 'shaky' from open-finops-shaky 1 failed to"
                          " load: register() raised ValueError: bad option table"]
    assert "BROKEN" in out
    assert cli.run(["shaky"], discovery) == 1


# --- --version and plugins -----------------------------------------------------------------

def test_version_lists_distributions_and_agrees(tmp_path):
    proc = run([FINOPS, "--version"], cwd=tmp_path, timeout=60, check=True)
    out = lines(proc.stdout)
    assert f"open-finops-core {VERSION}" in out, proc.explain
    assert f"open-finops-docker {VERSION}" in out, proc.explain
    assert all(line.startswith("open-finops") for line in out), proc.explain
    assert "different versions" not in proc.stderr, proc.explain


def test_version_warns_when_distributions_differ(tmp_path):
    site = make_dist(tmp_path / "site", "open-finops-fake", "0.2.0")
    proc = run([FINOPS, "--version"], cwd=tmp_path, env=base_env(PYTHONPATH=str(site)),
               timeout=60, check=True)
    assert "open-finops-fake 0.2.0" in lines(proc.stdout), proc.explain
    warning = [line for line in lines(proc.stderr) if "different versions" in line]
    assert len(warning) == 1, proc.explain
    assert warning[0].startswith("finops: warning: ")
    assert "open-finops-fake 0.2.0" in warning[0] and "install one version of all" in warning[0]


def test_plugins_lists_distribution_versions_and_missing_vendors(recorder, capsys):
    assert cli.run(["plugins"], recorder.discovery()) == 0
    out = lines(capsys.readouterr().out)
    assert out[0].split()[:3] == ["aws", "-", "not"]
    assert "pip install 'open-finops[aws]'" in out[0]
    missing = sorted(set(KNOWN_VENDORS) - {"aws"})
    assert [line.split()[:3] for line in out[1:]] == sorted(
        [*([vendor, "-", "not"] for vendor in missing), ["echo", "open-finops-echo", "9.9"]])


def test_help_lists_installed_plugins_and_core_commands(recorder, capsys):
    assert cli.run(["--help"], recorder.discovery()) == 0
    out = capsys.readouterr().out
    assert "plugins" in out and "echo" in out and "a test plugin" in out
    assert "not installed: aws (pip install 'open-finops[aws]')" in " ".join(out.split())


# --- global options ------------------------------------------------------------------------

@pytest.mark.parametrize("argv", [
    ["--database", "db/x.duckdb", "--config", "my.toml", "echo", "show"],
    ["echo", "show", "--database", "db/x.duckdb", "--config", "my.toml"],
    ["echo", "--database=db/x.duckdb", "show", "--config=my.toml"],
    ["--config", "my.toml", "echo", "show", "--database", "db/x.duckdb"],
])
def test_global_options_anywhere(argv, recorder, tmp_path, capsys):
    (tmp_path / "my.toml").write_text('[echo]\nbucket = "from-file"\n')
    assert cli.run(argv, recorder.discovery()) == 0, capsys.readouterr()
    (args, config), = recorder.calls
    assert config.database == tmp_path / "db" / "x.duckdb"
    assert config.path == Path("my.toml")
    assert capsys.readouterr().out == "bucket=from-file\n"


def test_later_global_option_wins(recorder, tmp_path):
    argv = ["--database", "first.duckdb", "echo", "show", "--database", "second.duckdb"]
    assert cli.run(argv, recorder.discovery()) == 0
    assert recorder.calls[0][1].database == tmp_path / "second.duckdb"


def test_precedence_through_the_cli(recorder, tmp_path, monkeypatch, capsys):
    (tmp_path / "config.toml").write_text('[echo]\nbucket = "from-file"\n')
    discovery = recorder.discovery()
    assert cli.run(["echo", "show"], discovery) == 0
    monkeypatch.setenv("OPEN_FINOPS_ECHO_BUCKET", "from-env")
    assert cli.run(["echo", "show"], discovery) == 0
    assert cli.run(["echo", "show", "--bucket", "from-cli"], discovery) == 0
    assert lines(capsys.readouterr().out) == [
        "bucket=from-file", "bucket=from-env", "bucket=from-cli"]


# --- errors --------------------------------------------------------------------------------

@pytest.mark.parametrize("argv", [["aws"], ["aws", "import", "--x"], ["--config", "c", "aws"],
                                  ["-v", "docker", "--help"]])
def test_known_vendor_not_installed_names_the_extra(argv, recorder, capsys):
    assert cli.run(argv, recorder.discovery()) == 1
    out, err = capsys.readouterr()
    vendor = "docker" if "docker" in argv else "aws"
    assert out == ""
    assert lines(err) == [f"finops: error: '{vendor}' is not installed; install it with:"
                          f" pip install 'open-finops[{vendor}]'"]


def test_known_vendors_are_the_vendor_distributions_of_packages():
    """core cannot read the Makefile at run time, so it names the vendors itself: this keeps
    that list equal to PACKAGES' vendors, each named by the meta-package extra of its name
    (which `make check` requires of the built meta-package)."""
    words = run(["make", "-s", "print-packages"], check=True).stdout.split()
    vendors = {name.removeprefix("open-finops-") for name, _, directory in
               (word.partition("=") for word in words)
               if directory != "." and name != "open-finops-core"}
    assert dict(KNOWN_VENDORS) == {vendor: vendor for vendor in vendors}


def test_unknown_command_is_a_usage_error(recorder, capsys):
    assert cli.run(["acme"], recorder.discovery()) == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'acme'" in err and err.startswith("usage: finops")


def test_vendor_without_subcommand_prints_its_help(recorder, capsys):
    assert cli.run(["echo"], recorder.discovery()) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: finops echo") and "show" in out and "--config" in out


def test_expected_handler_error_is_one_line(recorder, capsys):
    assert cli.run(["echo", "fail"], recorder.discovery()) == 1
    assert capsys.readouterr().err == "finops: error: the fail command failed\n"


@pytest.mark.parametrize("config_text, env, expected", [
    ('[echo]\nbuckit = "x"\n', {}, "unknown key 'buckit' in [echo]; did you mean 'bucket'?"),
    ("[echo\n", {}, "config.toml: invalid TOML"),
    ("", {"OPEN_FINOPS_DATABAS": "x"}, "unknown environment variable OPEN_FINOPS_DATABAS"),
])
def test_config_errors_are_one_line(config_text, env, expected, recorder, tmp_path,
                                    monkeypatch, capsys):
    (tmp_path / "config.toml").write_text(config_text)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert cli.run(["echo", "show"], recorder.discovery()) == 1
    err = lines(capsys.readouterr().err)
    assert len(err) == 1 and err[0].startswith("finops: error: ") and expected in err[0], err
    assert not recorder.calls


def test_missing_explicit_config_is_a_usage_error(recorder, capsys):
    assert cli.run(["echo", "show", "--config", "absent.toml"], recorder.discovery()) == 2
    assert "absent.toml" in capsys.readouterr().err


def test_console_script_errors_without_traceback(tmp_path):
    (tmp_path / "config.toml").write_text('[core]\ndatabase = 3\n')
    proc = run([FINOPS, "plugins"], cwd=tmp_path, timeout=60, check=False)
    assert proc.returncode == 1, proc.explain
    assert "config.toml: [core] database: expected str" in proc.stderr, proc.explain
    assert "Traceback" not in proc.stderr, proc.explain


# --- packaging -----------------------------------------------------------------------------

def test_namespace_package_and_no_output_on_import(tmp_path):
    code = ("import open_finops, open_finops.core.cli, open_finops.docker.plugin;"
            "assert getattr(open_finops, '__file__', None) is None, open_finops.__file__;"
            "assert len(list(open_finops.__path__)) >= 2, open_finops.__path__")
    proc = run([str(VENV / "bin" / "python"), "-c", code], cwd=tmp_path, timeout=60,
               check=True)
    assert (proc.stdout, proc.stderr) == ("", ""), proc.explain
    for package_root in (REPO / "core", REPO / "docker"):
        assert not (package_root / "open_finops" / "__init__.py").exists()
