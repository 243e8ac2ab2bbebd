"""open_finops.core.config: precedence CLI > environment > file > defaults, and the errors a
user gets for keys, tables, variables and files that are wrong."""
from __future__ import annotations

from pathlib import Path

import pytest

from open_finops.core.config import (
    DEFAULT_DATABASE,
    Config,
    ConfigError,
    convert_env,
    env_name,
)
from open_finops.core.plugins import VendorPlugin

VENDOR = VendorPlugin(
    name="aws",
    help="test vendor",
    register=lambda parser: None,
    config_defaults={"bucket": "default-bucket", "workers": 4, "dry_run": False,
                     "ratio": 0.5, "regions": ["us-east-1"], "profile": None},
)


# Each test runs in an empty directory, so no ./config.toml of the checkout is read.
pytestmark = pytest.mark.usefixtures("in_tmp")


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_file_or_environment(tmp_path):
    config = Config.load(plugins=[VENDOR], environ={})
    assert config.path is None
    assert config.get("core", "database") == DEFAULT_DATABASE
    assert config.database == tmp_path / "data" / "finops.duckdb"
    assert config.get("aws", "workers") == 4
    assert config.source("aws", "workers") == "default"


@pytest.mark.parametrize("layers, expected, source", [
    ({"file"}, "from-file", "file"),
    ({"file", "env"}, "from-env", "env"),
    ({"file", "env", "load-cli"}, "from-load-cli", "cli"),
    ({"env", "load-cli"}, "from-load-cli", "cli"),
    (set(), "default-bucket", "default"),
])
def test_precedence_cli_env_file_default(layers, expected, source):
    if "file" in layers:
        write(Path("config.toml"), '[aws]\nbucket = "from-file"\n')
    environ = {"OPEN_FINOPS_AWS_BUCKET": "from-env"} if "env" in layers else {}
    cli = {"aws": {"bucket": "from-load-cli"}} if "load-cli" in layers else None
    config = Config.load(plugins=[VENDOR], environ=environ, cli=cli)
    assert config.get("aws", "bucket") == expected
    assert config.source("aws", "bucket") == source
    # The cli argument of get() beats every layer; None means "not given on the command line".
    assert config.get("aws", "bucket", cli="from-option") == "from-option"
    assert config.get("aws", "bucket", cli=None) == expected


def test_database_precedence_and_path(tmp_path):
    write(tmp_path / "config.toml", '[core]\ndatabase = "file.duckdb"\n')
    assert Config.load(environ={}).database == tmp_path / "file.duckdb"
    env = {"OPEN_FINOPS_DATABASE": "/srv/env.duckdb"}
    assert Config.load(environ=env).database == Path("/srv/env.duckdb")
    cli = {"core": {"database": "cli.duckdb"}}
    assert Config.load(environ=env, cli=cli).database == tmp_path / "cli.duckdb"
    home = Config.load(environ={"OPEN_FINOPS_DATABASE": "~/x.duckdb"}).database
    assert home == Path.home() / "x.duckdb"


def test_explicit_config_path_is_read(tmp_path):
    path = write(tmp_path / "elsewhere.toml", '[core]\ndatabase = "e.duckdb"\n')
    write(tmp_path / "config.toml", '[core]\ndatabase = "default-file.duckdb"\n')
    config = Config.load(path, environ={})
    assert config.path == path
    assert config.get("core", "database") == "e.duckdb"


def test_explicit_config_path_missing_is_a_usage_error(tmp_path):
    with pytest.raises(ConfigError) as caught:
        Config.load(tmp_path / "nope.toml", environ={})
    assert "nope.toml" in str(caught.value) and "not found" in str(caught.value)
    assert caught.value.exit_code == 2


def test_bad_toml_names_the_file(tmp_path):
    write(tmp_path / "config.toml", "[core\ndatabase = 1\n")
    with pytest.raises(ConfigError) as caught:
        Config.load(environ={})
    message = str(caught.value)
    assert message.startswith("config.toml: invalid TOML"), message
    assert "\n" not in message


def test_unknown_key_in_file_names_key_file_and_suggestion():
    write(Path("config.toml"), '[aws]\nbuckte = "x"\n')
    with pytest.raises(ConfigError) as caught:
        Config.load(plugins=[VENDOR], environ={})
    message = str(caught.value)
    assert "'buckte'" in message and "[aws]" in message and "config.toml" in message
    assert "did you mean 'bucket'" in message


def test_unknown_key_without_a_close_match_lists_the_known_keys():
    write(Path("config.toml"), '[aws]\nzzz = "x"\n')
    with pytest.raises(ConfigError) as caught:
        Config.load(plugins=[VENDOR], environ={})
    assert str(caught.value) == (
        "config.toml: unknown key 'zzz' in [aws]; known keys: bucket, dry_run, profile, ratio,"
        " regions, workers")


def test_unknown_core_key_and_unknown_table():
    write(Path("config.toml"), '[core]\ndatabse = "x"\n')
    with pytest.raises(ConfigError, match=r"unknown key 'databse' in \[core\].*'database'"):
        Config.load(environ={})
    write(Path("config.toml"), '[acme]\nx = 1\n')
    with pytest.raises(ConfigError, match=r"unknown table \[acme\]"):
        Config.load(environ={})


def test_top_level_key_must_be_in_core_table():
    write(Path("config.toml"), 'database = "x.duckdb"\n')
    with pytest.raises(ConfigError, match=r"top-level key 'database'.*\[core\]"):
        Config.load(environ={})


def test_unknown_environment_variable_is_an_error_with_suggestion():
    with pytest.raises(ConfigError) as caught:
        Config.load(plugins=[VENDOR], environ={"OPEN_FINOPS_AWS_BUCKTE": "x"})
    message = str(caught.value)
    assert "OPEN_FINOPS_AWS_BUCKTE" in message and "environment" in message
    assert "OPEN_FINOPS_AWS_BUCKET" in message
    # Variables outside the prefix are none of our business.
    Config.load(plugins=[VENDOR], environ={"OPEN_FINOPSX": "1", "FINOPS_DATABASE": "y"})


def test_unknown_environment_variable_without_a_close_match_says_to_unset_it():
    """The shared OPEN_FINOPS_ prefix makes no suggestion: ACME_X is close to nothing."""
    with pytest.raises(ConfigError) as caught:
        Config.load(plugins=[VENDOR], environ={"OPEN_FINOPS_ACME_X": "1"})
    assert str(caught.value) == (
        "unknown environment variable OPEN_FINOPS_ACME_X: it matches no configuration key;"
        " unset it, or install the plugin that declares it")


def test_sections_and_variables_of_uninstalled_vendors_are_ignored():
    write(Path("config.toml"), '[aws]\nanything = 1\n[docker]\nport = 1\n')
    environ = {"OPEN_FINOPS_AWS_ANYTHING": "1", "OPEN_FINOPS_DOCKER_PORT": "1"}
    config = Config.load(environ=environ)
    with pytest.raises(KeyError):
        config.get("aws", "anything")
    # Installed, the same table is checked.
    with pytest.raises(ConfigError, match="'anything'"):
        Config.load(plugins=[VENDOR], environ={})


def test_section_of_a_broken_plugin_is_ignored_when_asked():
    write(Path("config.toml"), '[mine]\nanything = 1\n')
    with pytest.raises(ConfigError, match=r"\[mine\]"):
        Config.load(environ={})
    Config.load(environ={"OPEN_FINOPS_MINE_X": "1"}, ignore_sections=["mine"])


def test_environment_values_take_the_type_of_the_default():
    environ = {
        "OPEN_FINOPS_AWS_WORKERS": "8",
        "OPEN_FINOPS_AWS_DRY_RUN": "yes",
        "OPEN_FINOPS_AWS_RATIO": "2",
        "OPEN_FINOPS_AWS_REGIONS": "eu-west-1, us-east-2",
        "OPEN_FINOPS_AWS_PROFILE": "prod",
    }
    config = Config.load(plugins=[VENDOR], environ=environ)
    assert config.section("aws") == {
        "bucket": "default-bucket", "workers": 8, "dry_run": True, "ratio": 2.0,
        "regions": ["eu-west-1", "us-east-2"], "profile": "prod",
    }


@pytest.mark.parametrize("text, expected", [
    ("true", True), ("1", True), ("YES", True), ("on", True),
    ("false", False), ("0", False), ("no", False), ("Off", False),
])
def test_boolean_spellings(text, expected):
    assert convert_env(text, False, "X") is expected


@pytest.mark.parametrize("default, text", [(False, "maybe"), (3, "three"), (0.5, "half")])
def test_bad_environment_value_names_the_variable(default, text):
    with pytest.raises(ConfigError, match="OPEN_FINOPS_AWS_X"):
        convert_env(text, default, "environment variable OPEN_FINOPS_AWS_X")


def test_file_value_of_the_wrong_type_is_an_error():
    write(Path("config.toml"), '[aws]\nworkers = "many"\n')
    with pytest.raises(ConfigError, match=r"\[aws\] workers: expected int"):
        Config.load(plugins=[VENDOR], environ={})
    write(Path("config.toml"), '[aws]\ndry_run = 1\nratio = 1\n')
    with pytest.raises(ConfigError, match=r"dry_run: expected bool"):
        Config.load(plugins=[VENDOR], environ={})
    write(Path("config.toml"), '[aws]\nratio = 1\nworkers = 2\ndry_run = true\n')
    config = Config.load(plugins=[VENDOR], environ={})
    assert config.get("aws", "ratio") == 1.0 and config.get("aws", "dry_run") is True


def test_undeclared_key_is_a_programming_error():
    config = Config.load(plugins=[VENDOR], environ={})
    with pytest.raises(KeyError):
        config.get("aws", "nope")
    with pytest.raises(KeyError):
        config.get("acme", "bucket")


def test_env_names():
    assert env_name("core", "database") == "OPEN_FINOPS_DATABASE"
    assert env_name("aws", "dry_run") == "OPEN_FINOPS_AWS_DRY_RUN"
    assert env_name("my-vendor", "key-name") == "OPEN_FINOPS_MY_VENDOR_KEY_NAME"
