"""releasekit.policy rule by rule, on small synthetic wheels and sdists: a good set
passes, and each mistake is named with its file (the black-box tests rebuild real ones)."""
from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from releasekit import ledger, policy, repo
V = "1.0.0"
PACKAGES = "open-finops-core=core open-finops-aws=vendors/aws open-finops=."
META_REQUIRES = [
    f"open-finops-core=={V}",
    f'open-finops-core=={V}; extra == "core"',
    f'open-finops-aws=={V}; extra == "aws"',
    f'open-finops-aws=={V}; extra == "all"',
]


DECLARATIONS = [
    "Requires-Python: >=3.10", "License-File: LICENSE",
    "Project-URL: Source, https://github.com/open-finops/open-finops-stack",
    "Project-URL: Issues, https://github.com/open-finops/open-finops-stack/issues",
    "Project-URL: Changelog, https://github.com/open-finops/open-finops-stack/blob/main/"
    "CHANGELOG.md",
    "Classifier: Programming Language :: Python :: 3.10",
    "Classifier: Programming Language :: Python :: 3.11",
]


def metadata(name: str, requires: list[str], extras: list[str],
             declarations: list[str] = DECLARATIONS) -> str:
    lines = ["Metadata-Version: 2.4", f"Name: {name}", f"Version: {V}", *declarations]
    lines += [f"Provides-Extra: {e}" for e in extras]
    lines += [f"Requires-Dist: {r}" for r in requires]
    return "\n".join(lines) + "\n\nA description.\n"


def spec(name: str) -> dict:
    """The contents of a good wheel and sdist of one distribution."""
    module = repo.Package(name, '.' if name == 'open-finops' else 'x').module
    files = {}
    if module:
        files = {f"open_finops/{module}/__init__.py": "", f"open_finops/{module}/plugin.py": ""}
    if name == "open-finops-core":
        entry_points = "[console_scripts]\nfinops = open_finops.core.plugin:main\n"
    elif module:
        entry_points = f"[open_finops.vendors]\n{module} = open_finops.{module}.plugin:PLUGIN\n"
    else:
        entry_points = None
    requires = META_REQUIRES if not module else (
        [] if name == "open-finops-core" else [f"open-finops-core=={V}", "boto3>=1"])
    extras = ["core", "aws", "all"] if not module else []
    return {"files": files, "entry_points": entry_points, "requires": requires,
            "extras": extras, "sdist_extra": {}, "record_skip": [], "name": name,
            "declarations": list(DECLARATIONS)}


def write_wheel(path: Path, s: dict) -> None:
    stem = s["name"].replace("-", "_")
    info = f"{stem}-{V}.dist-info"
    files = dict(s["files"])
    files[f"{info}/METADATA"] = metadata(s["name"], s["requires"], s["extras"],
                                         s["declarations"])
    files[f"{info}/WHEEL"] = "Wheel-Version: 1.0\n"
    if s["entry_points"]:
        files[f"{info}/entry_points.txt"] = s["entry_points"]
    record = "".join(f"{n},,\n" for n in files if n not in s["record_skip"])
    files[f"{info}/RECORD"] = record + f"{info}/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as whl:
        for name, text in files.items():
            whl.writestr(name, text)


def write_sdist(path: Path, s: dict) -> None:
    stem = f"{s['name'].replace('-', '_')}-{V}"
    files = {f"{stem}/{n}": t for n, t in s["files"].items()}
    files[f"{stem}/PKG-INFO"] = metadata(s["name"], s.get("sdist_requires", s["requires"]),
                                         s["extras"], s["declarations"])
    files[f"{stem}/setup.py"] = ""
    files.update(s["sdist_extra"])
    with tarfile.open(path, "w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


@pytest.fixture
def tree(tmp_path, monkeypatch):
    monkeypatch.setenv("PACKAGES", PACKAGES)
    (tmp_path / ".bumpversion.cfg").write_text(f"[bumpversion]\ncurrent_version = {V}\n")
    return tmp_path


def check(tree: Path, **changes) -> str:
    """Build the three distributions (with `changes[name]` applied to its spec), record
    them in a ledger and return the policy's errors as one text."""
    built = []
    for word in PACKAGES.split():
        name, directory = word.split("=")
        s = spec(name)
        changes.get(name.replace("-", "_"), lambda s: None)(s)
        dist = tree / directory / "dist"
        dist.mkdir(parents=True, exist_ok=True)
        stem = f"{name.replace('-', '_')}-{V}"
        write_wheel(dist / f"{stem}-py3-none-any.whl", s)
        write_sdist(dist / f"{stem}.tar.gz", s)
        built += [(name, dist / f"{stem}-py3-none-any.whl"), (name, dist / f"{stem}.tar.gz")]
    path = ledger.path_for(V, tree)
    data = ledger.write(path, V, built, None, None, tree)
    errors = policy.Policy(tree, V, repo.packages(tree)).check(data)
    return "\n".join(errors)


META_WHEEL = f"dist/open_finops-{V}-py3-none-any.whl"
AWS_WHEEL = f"vendors/aws/dist/open_finops_aws-{V}-py3-none-any.whl"
CORE_WHEEL = f"core/dist/open_finops_core-{V}-py3-none-any.whl"


def test_a_good_set_passes(tree):
    assert check(tree) == ""


def without(*prefixes: str):
    def change(s):
        s["declarations"] = [d for d in s["declarations"] if not d.startswith(prefixes)]
    return change


def replace_requires(old: str, new: str | None):
    def change(s):
        s["requires"] = [r for r in s["requires"] if r != old] + ([new] if new else [])
    return change


@pytest.mark.parametrize("changes, expected", [
    ({"open_finops": replace_requires(f'open-finops-aws=={V}; extra == "aws"',
                                      f'open-finops-core=={V}; extra == "aws"')},
     f"{META_WHEEL}: extra 'aws' requires ['open-finops-core'], expected ['open-finops-aws']"),
    ({"open_finops": replace_requires(f'open-finops-aws=={V}; extra == "all"', None)},
     f"{META_WHEEL}: extra 'all' requires [], expected ['open-finops-aws']"),
    ({"open_finops": replace_requires(f"open-finops-core=={V}", None)},
     f"{META_WHEEL}: does not require open-finops-core unconditionally"),
    ({"open_finops": lambda s: s["extras"].append("acme")},
     f"{META_WHEEL}: extra 'acme' names no distribution of PACKAGES"),
    ({"open_finops": lambda s: s["files"].update({"open_finops/__init__.py": ""})},
     f"{META_WHEEL}: ships 'open_finops/__init__.py' but the meta-package wheel must hold no "
     "code"),
    ({"open_finops_aws": replace_requires(f"open-finops-core=={V}", "open-finops-core")},
     f"{AWS_WHEEL}: sibling requirement 'open-finops-core' is not pinned =={V}"),
    ({"open_finops_aws": lambda s: s.update(
        entry_points="[open_finops.vendors]\naws = open_finops.aws.missing:PLUGIN\n")},
     f"{AWS_WHEEL}: entry point open_finops.vendors:aws = open_finops.aws.missing:PLUGIN names "
     "a module this wheel does not ship"),
    ({"open_finops_core": lambda s: s.update(entry_points=None)},
     f"{CORE_WHEEL}: no entry point 'finops' in group [console_scripts]"),
    ({"open_finops_aws": lambda s: s["record_skip"].append("open_finops/aws/plugin.py")},
     f"{AWS_WHEEL}: RECORD disagrees with the files"),
    ({"open_finops_aws": lambda s: s["files"].pop("open_finops/aws/__init__.py")},
     f"{AWS_WHEEL}: has no open_finops/aws/__init__.py"),
    ({"open_finops_aws": lambda s: s.update(sdist_requires=[f"open-finops-core=={V}"])},
     f"vendors/aws/dist/open_finops_aws-{V}.tar.gz: Requires-Dist ['open-finops-core=={V}'] "
     "differs from the wheel's"),
    ({"open_finops": lambda s: s["sdist_extra"].update({f"open_finops-{V}/tests/t.py": ""})},
     f"dist/open_finops-{V}.tar.gz: holds 'tests/t.py': the meta-package's sdist holds only its "
     "own files"),
    ({"open_finops_core": lambda s: s["sdist_extra"].update({"../evil": ""})},
     f"core/dist/open_finops_core-{V}.tar.gz: member '../evil' is outside"),
    ({"open_finops_aws": without("Project-URL: Issues", "Project-URL: Changelog")},
     f"{AWS_WHEEL}: no Project-URL Changelog, Issues (project_urls=); declare it in its "
     "setup.py as the other distributions do"),
    ({"open_finops_aws": without("Classifier: Programming Language :: Python :: 3.10")},
     f"{AWS_WHEEL}: no classifier 'Programming Language :: Python :: 3.10' though "
     "Requires-Python is '>=3.10'"),
    ({"open_finops_aws": without("License-File")}, f"{AWS_WHEEL}: no License-File"),
    ({"open_finops_core": without("Requires-Python")},
     f"{CORE_WHEEL}: Requires-Python is 'missing', expected '>=3.N'"),
    ({"open_finops_core": lambda s: s.update(name="open-finops-kore")},
     f"{CORE_WHEEL}: Name is 'open-finops-kore', expected 'open-finops-core'"),
])
def test_each_rule_names_the_file(tree, changes, expected):
    errors = check(tree, **changes)
    assert expected in errors, errors
