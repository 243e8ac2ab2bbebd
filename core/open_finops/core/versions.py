"""The installed open-finops distributions and their versions, for ``finops --version``."""
from __future__ import annotations

import re
from collections.abc import Iterable
from importlib import metadata

PREFIX = "open-finops"


def canonical_name(name: str) -> str:
    """A distribution name normalized as pip does (PEP 503): Open_Finops.AWS -> open-finops-aws."""
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_distributions(
    distributions: Iterable[metadata.Distribution] | None = None,
) -> list[tuple[str, str]]:
    """(name, version) of every installed distribution named open-finops or open-finops-*,
    sorted by name. When one is found twice on sys.path, the first wins, as for imports."""
    if distributions is None:
        distributions = metadata.distributions()
    found: dict[str, str] = {}
    for dist in distributions:
        name = dist.metadata["Name"]
        if not name:
            continue
        name = canonical_name(name)
        if name == PREFIX or name.startswith(PREFIX + "-"):
            found.setdefault(name, dist.version)
    return sorted(found.items())


def mismatch_warning(distributions: list[tuple[str, str]], expected: str) -> str | None:
    """A one-line warning when the distributions do not share one version, else None."""
    if len({version for _, version in distributions}) <= 1:
        return None
    listing = ", ".join(f"{name} {version}" for name, version in distributions)
    return (f"open-finops distributions have different versions ({listing}); install one"
            f" version of all, e.g. pip install 'open-finops[all]=={expected}'")
