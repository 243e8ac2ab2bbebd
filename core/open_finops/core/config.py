"""Configuration of the ``finops`` command: config.toml, ``OPEN_FINOPS_*`` variables, defaults.

Public API (plugins rely on it; keep it stable)::

    class Config:
        def get(self, section: str, key: str, cli: Any = None) -> Any
        @property
        def database(self) -> Path          # absolute path of the shared DuckDB database
        path: Path | None                   # the config file that was read, if any
        def section(self, name: str) -> dict[str, Any]
        def source(self, section: str, key: str) -> str   # "cli", "env", "file", "default"
        @classmethod
        def load(cls, path=None, *, plugins=(), environ=None, cli=None,
                 ignore_sections=None) -> Config

    class ConfigError(FinopsError)          # str(error) is a one-line message for people

``Config.get(section, key, cli)`` returns, in order of precedence:

1. ``cli`` when it is not None (pass the value of your own option, e.g. ``args.bucket``);
   a value given to ``Config.load(cli=...)`` (core's ``--database``) comes next;
2. the environment: ``OPEN_FINOPS_<KEY>`` for core keys, ``OPEN_FINOPS_<SECTION>_<KEY>`` for
   a plugin's keys (upper-case), converted with the type of the declared default;
3. the config file: core keys in the ``[core]`` table, a plugin's keys in ``[<plugin name>]``;
4. the declared default (``CORE_DEFAULTS``, or the plugin's ``VendorPlugin.config_defaults``).

Asking for a section or key that was never declared raises ``KeyError`` (a programming error,
not a user error).

The file layout::

    [core]
    database = "data/finops.duckdb"   # relative paths are relative to the working directory
    tag_keys = ["team"]               # what `finops report untagged` checks ([]: every key)

    [aws]                              # keys declared by the aws plugin
    bucket = "my-cur-bucket"

Rules enforced by :meth:`Config.load` (each violation is a :class:`ConfigError` naming the
key and where it came from, and the fix: the closest valid key when there is one, else the
valid keys of the table, or for a variable to unset it):

* top-level keys outside a table, unknown tables and unknown keys in a table are errors;
* a table of a known vendor that is not installed (``aws``, ``docker``; see
  ``plugins.KNOWN_VENDORS``), or of an installed plugin that failed to load, is ignored, and
  so are its ``OPEN_FINOPS_<VENDOR>_*`` variables: one config file can serve machines with
  different plugins installed;
* any other ``OPEN_FINOPS_*`` variable that maps to no key is an error;
* a file value must have the type of the default (an int is accepted for a float; a default
  of None means str); environment values are converted: bool accepts true/false/1/0/yes/no/
  on/off, int and float as Python parses them, a list default takes comma-separated strings.
"""
from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from open_finops.core.errors import FinopsError
from open_finops.core.plugins import KNOWN_VENDORS, VendorPlugin

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

CORE_SECTION = "core"
ENV_PREFIX = "OPEN_FINOPS_"
DEFAULT_CONFIG_FILE = "config.toml"
DEFAULT_DATABASE = "data/finops.duckdb"

#: Keys of the ``[core]`` table and their defaults.
CORE_DEFAULTS: Mapping[str, Any] = {
    "database": DEFAULT_DATABASE,
    # The tag keys that `finops report untagged` and the HTML report check ([]: every key).
    "tag_keys": [],
}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_SOURCES = ("cli", "env", "file")


class ConfigError(FinopsError):
    """A configuration problem the user must fix; the message is one line.

    ``exit_code`` is 2 for a usage error (an explicit --config path that does not exist) and
    1 otherwise."""


def env_name(section: str, key: str) -> str:
    """The environment variable of a key: OPEN_FINOPS_DATABASE, OPEN_FINOPS_AWS_BUCKET."""
    parts = [key] if section == CORE_SECTION else [section, key]
    return ENV_PREFIX + "_".join(p.upper().replace("-", "_") for p in parts)


def _suggest(word: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _key_fix(key: str, declared: Iterable[str]) -> str:
    """The fix for an unknown key: the closest declared key, else all of them."""
    declared = sorted(declared)
    if not declared:
        return "; this table takes no keys, remove it"
    return _suggest(key, declared) or f"; known keys: {', '.join(declared)}"


def _variable_fix(variable: str, names: Iterable[str]) -> str:
    """The fix for an unknown OPEN_FINOPS_* variable: the closest known one (compared without
    the shared prefix, which would make every name look close), else to unset it."""
    suffixes = {name[len(ENV_PREFIX):]: name for name in names}
    close = difflib.get_close_matches(variable[len(ENV_PREFIX):], list(suffixes), n=1,
                                      cutoff=0.6)
    if close:
        return f"; did you mean {suffixes[close[0]]!r}?"
    return "; unset it, or install the plugin that declares it"


def _type_name(default: Any) -> str:
    if default is None:
        return "str"
    return type(default).__name__


def convert_env(value: str, default: Any, where: str) -> Any:
    """Convert an environment string with the type of ``default``; ``where`` names the
    variable in the error message."""
    if isinstance(default, bool):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ConfigError(f"{where}: expected a boolean (true/false/1/0/yes/no), got {value!r}")
    if isinstance(default, (int, float)):
        kind = type(default)
        try:
            return kind(value.strip())
        except ValueError:
            raise ConfigError(f"{where}: expected {kind.__name__}, got {value!r}") from None
    if isinstance(default, (list, tuple)):
        return [item.strip() for item in value.split(",") if item.strip()]
    if isinstance(default, Path):
        return Path(value)
    return value


def check_file_value(value: Any, default: Any, where: str) -> Any:
    """Check a value read from TOML against the type of ``default``."""
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif isinstance(default, (list, tuple)):
        ok = isinstance(value, list)
    elif isinstance(default, Path):
        ok = isinstance(value, str)
        value = Path(value) if ok else value
    elif default is None or isinstance(default, str):
        ok = isinstance(value, str)
    else:
        ok = isinstance(value, type(default))
    if not ok:
        raise ConfigError(
            f"{where}: expected {_type_name(default)}, got {type(value).__name__} {value!r}"
        )
    return value


class Config:
    """The resolved configuration handed to every command handler as ``handler(args, config)``.

    Build it with :meth:`load`; the constructor takes values that are already checked, keyed
    by section then key (handy in tests: ``Config({"core": {"database": "x.duckdb"}})``)."""

    def __init__(
        self,
        defaults: Mapping[str, Mapping[str, Any]] | None = None,
        *,
        file: Mapping[str, Mapping[str, Any]] | None = None,
        env: Mapping[str, Mapping[str, Any]] | None = None,
        cli: Mapping[str, Mapping[str, Any]] | None = None,
        path: Path | None = None,
    ) -> None:
        self._defaults: dict[str, dict[str, Any]] = {CORE_SECTION: dict(CORE_DEFAULTS)}
        for section, values in (defaults or {}).items():
            self._defaults.setdefault(section, {}).update(values)
        self._layers = {
            "cli": {s: dict(v) for s, v in (cli or {}).items()},
            "env": {s: dict(v) for s, v in (env or {}).items()},
            "file": {s: dict(v) for s, v in (file or {}).items()},
        }
        self.path = path

    def __repr__(self) -> str:
        return f"Config(path={self.path!r}, sections={sorted(self._defaults)!r})"

    def _check_declared(self, section: str, key: str) -> None:
        if section not in self._defaults:
            raise KeyError(f"unknown config section {section!r} (declared: "
                           f"{', '.join(sorted(self._defaults))})")
        if key not in self._defaults[section]:
            raise KeyError(f"key {key!r} is not declared in config section {section!r}")

    def source(self, section: str, key: str) -> str:
        """Where the value of ``get(section, key)`` (without a cli argument) comes from."""
        self._check_declared(section, key)
        for name in _SOURCES:
            if key in self._layers[name].get(section, {}):
                return name
        return "default"

    def get(self, section: str, key: str, cli: Any = None) -> Any:
        """The value of ``key`` in ``section``: ``cli`` if not None, else the command line
        value given to load(), else the environment, else the file, else the default."""
        self._check_declared(section, key)
        if cli is not None:
            return cli
        for name in _SOURCES:
            values = self._layers[name].get(section, {})
            if key in values:
                return values[key]
        return self._defaults[section][key]

    def section(self, name: str) -> dict[str, Any]:
        """Every key of a section with its resolved value."""
        if name not in self._defaults:
            raise KeyError(f"unknown config section {name!r}")
        return {key: self.get(name, key) for key in self._defaults[name]}

    @property
    def database(self) -> Path:
        """The shared DuckDB database, as an absolute path (``~`` expanded; a relative path is
        relative to the current working directory, whichever source it came from)."""
        path = Path(self.get(CORE_SECTION, "database")).expanduser()
        return path if path.is_absolute() else Path.cwd() / path

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        plugins: Iterable[VendorPlugin] = (),
        environ: Mapping[str, str] | None = None,
        cli: Mapping[str, Mapping[str, Any]] | None = None,
        ignore_sections: Iterable[str] | None = None,
    ) -> Config:
        """Read and check the configuration.

        ``path``: an explicit config file (must exist), or None for ./config.toml when present.
        ``plugins``: the loaded plugins, whose ``config_defaults`` declare their sections.
        ``environ``: defaults to ``os.environ``.
        ``cli``: command-line values by section and key, e.g. ``{"core": {"database": p}}``;
        None values are dropped.
        ``ignore_sections``: tables (and their variables) to ignore; by default the known
        vendors that are not among ``plugins``. The CLI adds plugins that failed to load.
        """
        defaults: dict[str, dict[str, Any]] = {CORE_SECTION: dict(CORE_DEFAULTS)}
        for plugin in plugins:
            defaults[plugin.name] = dict(plugin.config_defaults)
        if ignore_sections is None:
            ignore_sections = [name for name in KNOWN_VENDORS if name not in defaults]
        ignored = {name for name in ignore_sections if name not in defaults}

        file_path, raw = _read_file(path)
        file_values = _check_file(raw, file_path, defaults, ignored) if file_path else {}
        env_values = _read_env(os.environ if environ is None else environ, defaults, ignored)
        cli_values = {
            section: {k: v for k, v in values.items() if v is not None}
            for section, values in (cli or {}).items()
        }
        return cls(defaults, file=file_values, env=env_values, cli=cli_values, path=file_path)


def _read_file(path: str | os.PathLike[str] | None) -> tuple[Path | None, dict[str, Any]]:
    if path is None:
        candidate = Path(DEFAULT_CONFIG_FILE)
        if not candidate.exists():
            return None, {}
        file_path = candidate
    else:
        file_path = Path(path)
        if not file_path.exists():
            raise ConfigError(f"config file not found: {file_path} (given with --config)",
                              exit_code=2)
    try:
        with file_path.open("rb") as handle:
            return file_path, tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file_path}: invalid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise ConfigError(f"{file_path}: cannot read config file: {reason}") from None


def _check_file(
    raw: Mapping[str, Any],
    file_path: Path,
    defaults: Mapping[str, Mapping[str, Any]],
    ignored: set[str],
) -> dict[str, dict[str, Any]]:
    checked: dict[str, dict[str, Any]] = {}
    for section, table in raw.items():
        if section in ignored:
            continue
        if not isinstance(table, dict):
            if section in defaults[CORE_SECTION]:
                raise ConfigError(f"{file_path}: top-level key {section!r}: core keys go in"
                                  f" the [{CORE_SECTION}] table")
            raise ConfigError(f"{file_path}: unknown top-level key {section!r}: settings"
                              f" belong in tables such as [{CORE_SECTION}]")
        if section not in defaults:
            known = sorted(set(defaults) | ignored)
            raise ConfigError(
                f"{file_path}: unknown table [{section}] (known: {', '.join(known)})"
                + _suggest(section, known)
            )
        declared = defaults[section]
        for key, value in table.items():
            where = f"{file_path}: [{section}] {key}"
            if key not in declared:
                raise ConfigError(f"{file_path}: unknown key {key!r} in [{section}]"
                                  + _key_fix(key, declared))
            checked.setdefault(section, {})[key] = check_file_value(value, declared[key], where)
    return checked


def _read_env(
    environ: Mapping[str, str],
    defaults: Mapping[str, Mapping[str, Any]],
    ignored: set[str],
) -> dict[str, dict[str, Any]]:
    names = {}
    # Core first: on a clash (core key "aws_x" vs aws key "x") the core key wins.
    for section in sorted(defaults, key=lambda s: s != CORE_SECTION):
        for key in defaults[section]:
            names.setdefault(env_name(section, key), (section, key))
    ignored_prefixes = tuple(env_name(CORE_SECTION, name) + "_" for name in ignored)

    values: dict[str, dict[str, Any]] = {}
    for variable in sorted(environ):
        if not variable.startswith(ENV_PREFIX):
            continue
        if variable in names:
            section, key = names[variable]
            value = convert_env(environ[variable], defaults[section][key],
                                f"environment variable {variable}")
            values.setdefault(section, {})[key] = value
        elif not variable.startswith(ignored_prefixes):
            raise ConfigError(f"unknown environment variable {variable}: it matches no"
                              " configuration key" + _variable_fix(variable, names))
    return values
