"""Our release policy, checked over the BUILT files listed in the release ledger (never over
the source): what pip will see is what we check.

Every violation is one line ("FILE: problem; fix"), all of them reported. The rules:
  - the ledger lists one wheel and one sdist per distribution of PACKAGES, in order, and every
    file is on disk with its recorded sha256 (no stray wheel or sdist either);
  - every file's Name and Version match its distribution and .bumpversion.cfg;
  - every file declares what PyPI shows and pip enforces: Requires-Python, a License-File,
    the Project-URLs Source, Issues and Changelog, and a classifier for each Python 3 minor
    version from Requires-Python's lowest on (as the others do);
  - every Requires-Dist on a sibling (a distribution of PACKAGES) is pinned ==VERSION;
  - a code wheel (open-finops-X) ships only open_finops/X/ (at least one module) and its
    .dist-info: no open_finops/__init__.py, no other top-level name; its RECORD lists
    exactly its files; the meta-package wheel ships no code at all;
  - entry points: console script `finops` in open-finops-core, `open_finops.vendors` entry
    X in each other code wheel, each target a module in that wheel;
  - the meta-package's extras: X -> open-finops-X for every code distribution, `all` -> every
    vendor (code distributions other than core), each declared in Provides-Extra;
  - sdist and wheel agree (name, version, requirements) and the sdist holds the wheel's
    modules; the meta-package's sdist holds only its own files.
"""
from __future__ import annotations

import fnmatch
from pathlib import Path, PurePosixPath

from packaging.requirements import InvalidRequirement, Requirement

from releasekit import dists, ledger, repo
from releasekit.dists import Built
from releasekit.errors import Failure

CORE = repo.CORE
NAMESPACE = repo.NAMESPACE
# Files an sdist may hold at its top level besides its package (sdist metadata included).
SDIST_TOP_LEVEL = ("setup.py", "setup.cfg", "pyproject.toml", "MANIFEST.in", "PKG-INFO",
                   "README*", "LICENSE*")


def requirements(built: Built) -> list[Requirement]:
    return [Requirement(r) for r in built.requires]


class Policy:
    def __init__(self, root: Path, version: str, pkgs: list[repo.Package]):
        self.root = root
        self.version = version
        self.names = [p.name for p in pkgs]
        self.modules = {p.name: p.module for p in pkgs}
        self.siblings = {repo.canonical(n) for n in self.names}
        self.errors: list[str] = []

    def error(self, where: str, problem: str) -> None:
        self.errors.append(f"{where}: {problem}")

    # -- one file ---------------------------------------------------------------------------
    def check_identity(self, b: Built) -> None:
        name, version = b.metadata.get("Name", ""), b.metadata.get("Version", "")
        if repo.canonical(name) != repo.canonical(b.distribution):
            self.error(b.path, f"Name is '{name}', expected '{b.distribution}'; fix name= in "
                       "its setup.py or PACKAGES in the Makefile")
        if version != self.version:
            self.error(b.path, f"Version is '{version}', .bumpversion.cfg says {self.version}; "
                       "run make check-versions, then make build")

    def check_declarations(self, b: Built) -> None:
        meta = b.metadata
        fix = "; declare it in its setup.py as the other distributions do"
        python = meta.get("Requires-Python", "")
        if not python.startswith(">=3."):
            self.error(b.path, f"Requires-Python is {python or 'missing'!r}, expected '>=3.N'"
                       + fix)
        if not meta.get_all("License-File"):
            self.error(b.path, "no License-File" + fix)
        urls = {u.split(",", 1)[0].strip() for u in meta.get_all("Project-URL") or []}
        missing = sorted({"Source", "Issues", "Changelog"} - urls)
        if missing:
            self.error(b.path, f"no Project-URL {', '.join(missing)} (project_urls=)" + fix)
        classifiers = set(meta.get_all("Classifier") or [])
        if python.startswith(">=3."):
            lowest = int(python[len(">=3."):].split(",")[0].split(".")[0] or 0)
            if f"Programming Language :: Python :: 3.{lowest}" not in classifiers:
                self.error(b.path, f"no classifier 'Programming Language :: Python :: "
                           f"3.{lowest}' though Requires-Python is {python!r}" + fix)

    def check_requirements(self, b: Built) -> None:
        try:
            reqs = requirements(b)
        except InvalidRequirement as exc:
            self.error(b.path, f"invalid Requires-Dist ({exc}); fix install_requires")
            return
        for req in reqs:
            if repo.canonical(req.name) not in self.siblings:
                continue
            pins = [str(s) for s in req.specifier]
            if pins != [f"=={self.version}"]:
                self.error(b.path, f"sibling requirement '{req}' is not pinned "
                           f"=={self.version}; write \"{req.name}=={self.version}\" in its "
                           "setup.py (siblings release together)")

    def check_wheel_files(self, b: Built) -> None:
        module = self.modules.get(b.distribution)
        info = f"{repo.canonical(b.distribution).replace('-', '_')}-{self.version}.dist-info/"
        own = f"{NAMESPACE}/{module}/" if module else None
        stray = [n for n in b.names if not n.startswith(info)
                 and not (own and n.startswith(own))]
        for name in stray:
            if module is None:
                self.error(b.path, f"ships '{name}' but the meta-package wheel must hold no "
                           "code; keep packages=[] in setup.py")
            else:
                self.error(b.path, f"ships '{name}', outside {own} and its .dist-info; fix "
                           "packages=/package_data in its setup.py (or remove the file)")
        if own and not any(n.startswith(own) and n.endswith(".py") for n in b.names):
            self.error(b.path, f"has no modules under {own} (an empty code wheel); fix "
                       "packages= in its setup.py")
        if own and f"{own}__init__.py" not in b.names:
            self.error(b.path, f"has no {own}__init__.py; the package must be importable")
        if b.record is None:
            self.error(b.path, "has no RECORD; rebuild with make build")
        elif sorted(b.record) != sorted(b.names):
            missing = sorted(set(b.names) - set(b.record))
            extra = sorted(set(b.record) - set(b.names))
            self.error(b.path, f"RECORD disagrees with the files (unlisted {missing}, absent "
                       f"{extra}); rebuild with make build, never edit a wheel")

    def check_entry_points(self, b: Built) -> None:
        module = self.modules.get(b.distribution)
        if module is None:
            return
        expected = ({"console_scripts": "finops"} if b.distribution == CORE
                    else {"open_finops.vendors": module})
        for group, name in expected.items():
            target = b.entry_points.get(group, {}).get(name)
            if target is None:
                self.error(b.path, f"no entry point '{name}' in group [{group}]; add "
                           f"entry_points={{\"{group}\": [\"{name} = ...\"]}} to its setup.py")
                continue
            mod = target.partition(":")[0].strip()
            candidates = {mod.replace(".", "/") + ".py", mod.replace(".", "/") + "/__init__.py"}
            if not mod.startswith(f"{NAMESPACE}.{module}") or not candidates & set(b.names):
                self.error(b.path, f"entry point {group}:{name} = {target} names a module "
                           "this wheel does not ship; fix the entry point or the packages")

    def check_extras(self, b: Built) -> None:
        """The meta-package: extra X pulls open-finops-X; `all` pulls every vendor."""
        provided = {e.strip() for e in b.metadata.get_all("Provides-Extra") or []}
        code = [n for n in self.names if self.modules.get(n)]
        vendors = [n for n in code if n != CORE]
        expected = {self.modules.get(n): {repo.canonical(n)} for n in code}
        expected["all"] = {repo.canonical(n) for n in vendors}
        by_extra: dict[str, set[str]] = {}
        base: set[str] = set()
        for req in requirements(b):
            if req.marker is None or "extra" not in str(req.marker):
                base.add(repo.canonical(req.name))
                continue
            for extra in provided | set(expected):
                if req.marker.evaluate({"extra": extra}):
                    by_extra.setdefault(extra, set()).add(repo.canonical(req.name))
        if repo.canonical(CORE) not in base:
            self.error(b.path, f"does not require {CORE} unconditionally; add "
                       f"\"{CORE}=={self.version}\" to install_requires in setup.py")
        for extra, wanted in expected.items():
            got = by_extra.get(extra, set())
            fix = ", ".join(f'"{n}=={self.version}"' for n in sorted(wanted))
            if extra not in provided:
                self.error(b.path, f"extra '{extra}' is missing; add \"{extra}\": [{fix}] to "
                           "extras_require in setup.py")
            elif got - {repo.canonical(CORE)} != wanted - {repo.canonical(CORE)} or (
                    extra == "core" and got != wanted):
                self.error(b.path, f"extra '{extra}' requires {sorted(got)}, expected "
                           f"{sorted(wanted)}; set \"{extra}\": [{fix}] in extras_require")
        for extra in sorted(provided - set(expected)):
            self.error(b.path, f"extra '{extra}' names no distribution of PACKAGES; remove it "
                       "from extras_require or add the distribution to PACKAGES")

    def check_sdist_files(self, b: Built) -> None:
        stem = f"{repo.canonical(b.distribution).replace('-', '_')}-{self.version}"
        module = self.modules.get(b.distribution)
        for name in b.names:
            path = PurePosixPath(name)
            if path.is_absolute() or ".." in path.parts or path.parts[0] != stem:
                self.error(b.path, f"member '{name}' is outside {stem}/; rebuild with "
                           "make build")
                continue
            inner = PurePosixPath(*path.parts[1:])
            top = inner.parts[0]
            if len(inner.parts) == 1 and any(fnmatch.fnmatch(top, p) for p in SDIST_TOP_LEVEL):
                continue
            if top.endswith(".egg-info"):
                continue
            if module and inner.parts[:2] == (NAMESPACE, module) and len(inner.parts) > 2:
                continue
            what = "the meta-package's sdist holds only its own files" if module is None \
                else f"a code sdist holds only {NAMESPACE}/{module}/ and its setup files"
            self.error(b.path, f"holds '{inner}': {what}; prune it in MANIFEST.in")

    # -- pairs and the whole ---------------------------------------------------------------
    def check_pair(self, wheel: Built, sdist: Built) -> None:
        for key in ("Name", "Version"):
            if wheel.metadata.get(key) != sdist.metadata.get(key):
                self.error(sdist.path, f"{key} '{sdist.metadata.get(key)}' differs from the "
                           f"wheel's '{wheel.metadata.get(key)}'; rebuild with make build")
        try:
            w = sorted(str(r) for r in requirements(wheel))
            s = sorted(str(r) for r in requirements(sdist))
        except InvalidRequirement:
            return  # reported by check_requirements
        if w != s:
            self.error(sdist.path, f"Requires-Dist {s} differs from the wheel's {w}; rebuild "
                       "with make build")
        stem = PurePosixPath(sdist.names[0]).parts[0] if sdist.names else ""
        in_sdist = {str(PurePosixPath(*PurePosixPath(n).parts[1:])) for n in sdist.names
                    if PurePosixPath(n).parts[0] == stem}
        for name in wheel.names:
            if name.startswith(NAMESPACE + "/") and name not in in_sdist:
                self.error(sdist.path, f"lacks '{name}', which the wheel ships; include it "
                           "(MANIFEST.in/package_data) and rebuild")

    def check(self, data: dict) -> list[str]:
        if data["version"] != self.version:
            self.error("dist/release-*.json", f"ledger is for {data['version']}, "
                       f".bumpversion.cfg says {self.version}; run make build")
        for problem in ledger.verify(data, root=self.root):
            self.errors.append(problem)
        for name in self.names:
            entries = [f for f in data["files"] if f["distribution"] == name]
            kinds = ["wheel" if f["filename"].endswith(".whl") else "sdist" for f in entries]
            if kinds != ["wheel", "sdist"]:
                self.error(f"ledger {data['version']}", f"{name} has {kinds}, expected a "
                           "wheel then an sdist; run make build")
        for name in self.names:
            read = {}
            for f in data["files"]:
                if f["distribution"] != name or not (self.root / f["path"]).is_file():
                    continue
                try:
                    built = dists.read(name, self.root / f["path"], f["path"])
                except Failure as exc:
                    self.errors.append(str(exc))
                    continue
                read[built.kind] = built
            for b in read.values():
                self.check_identity(b)
                self.check_declarations(b)
                self.check_requirements(b)
            if "wheel" in read:
                self.check_wheel_files(read["wheel"])
                self.check_entry_points(read["wheel"])
                if self.modules.get(name) is None:
                    self.check_extras(read["wheel"])
            if "sdist" in read:
                self.check_sdist_files(read["sdist"])
            if len(read) == 2:
                self.check_pair(read["wheel"], read["sdist"])
        return self.errors


def upload_order(data: dict, root: Path) -> list[str]:
    """The Makefile derives the upload chain from PACKAGES (core; the vendors; the
    meta-package): the built wheels' dependencies must agree with that order."""
    from releasekit import closure
    pkgs = repo.packages(root)
    expected = [[pkgs[0].name], [p.name for p in pkgs[1:-1]], [pkgs[-1].name]]
    try:
        got = [[d["distribution"] for d in layer] for layer in closure.layers(data, root)]
    except Failure as exc:
        return [str(exc)]
    if got != [layer for layer in expected if layer]:
        return [f"Makefile: the upload chain (core, then {', '.join(expected[1])}, then "
                f"{expected[2][0]}) disagrees with the built wheels' dependencies {got}; fix "
                "the requirements in setup.py or the order of PACKAGES"]
    return []


def check(root: Path = repo.ROOT) -> None:
    """Raise Failure listing every violation of the current ledger's files."""
    version = repo.current_version(root)
    data = ledger.load(ledger.path_for(version, root))
    errors = Policy(root, version, repo.packages(root)).check(data)
    if not errors:
        errors = upload_order(data, root)
    if errors:
        raise Failure("\n".join(errors))
