# Open FinOps Stack release toolkit. `make` (or `make help`) lists the public targets.
# Each target is a thin call to one script in scripts/; prerequisites express the order.

SHELL := bash
.SHELLFLAGS := -Eeuo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

# The distributions, in dependency order, as name=directory: core first, the meta-package
# last. This is the only list: every script reads it from here (exported), the upload chain
# below is derived from it, check-versions fails naming any place that disagrees with it, and
# `make new-vendor NAME=x` adds to it.
PACKAGES := open-finops-core=core open-finops-aws=vendors/aws open-finops-docker=docker open-finops-azure=vendors/azure open-finops-gcp=vendors/gcp open-finops-oci=vendors/oci open-finops-spark=vendors/spark open-finops=.
export PACKAGES

# Settings (`make publish CONFIRM=yes`, or the environment). Each is declared once, here, with
# its default after ?= and its one line of help on the `##` line above it: `make help` lists
# them from these lines. An empty default means what the help line says.
## the Python (3.10 or newer) that creates the toolkit's virtualenv
PYTHON ?= python3
## the toolkit's virtualenv (a path relative to this folder, or absolute)
VENV ?= .venv
## make bump: the new version X.Y.Z; verify: the version to verify (default: the current one)
VERSION ?=
## make bump: the part to bump instead of VERSION: major, minor or patch
PART ?=
## make publish: yes to skip the question (needed without a terminal)
CONFIRM ?=
## strict (default) or warn: unaudited dependencies fail or only warn (make stage: warn)
AUDIT ?=
## make stage: 1 keeps the staged files, and says how to serve them again for make verify
KEEP_INDEX ?=
## where uploads go (default: PyPI's, TestPyPI's for make testpypi)
REPOSITORY_URL ?=
## the simple index to check and install from (default: PyPI's, TestPyPI's for testpypi)
INDEX_URL ?=
## a second index for third-party dependencies only (testpypi default: PyPI's simple index)
EXTRA_INDEX_URL ?=
## make verify: some of the install specs, e.g. "open-finops[aws]" (default: every one)
VERIFY_SPECS ?=
## seconds an upload waits for the index to list its files
UPLOAD_DEADLINE ?= 600
## seconds make verify waits for the index to serve the version
VERIFY_DEADLINE ?= 600
## seconds a refused or unresolvable index is retried before the step fails
INDEX_GRACE ?= 60
## days a release takes new files after its first (default: 14 on PyPI and TestPyPI; 0: no limit)
UPLOAD_WINDOW ?=
## 1 traces every script's commands (and shows twine's own output on a failed upload)
DEBUG ?=
## make new-vendor: the vendor's name, e.g. gcp (open-finops-gcp, finops gcp)
NAME ?=
export PYTHON VENV VERSION PART CONFIRM AUDIT KEEP_INDEX REPOSITORY_URL INDEX_URL EXTRA_INDEX_URL
export VERIFY_SPECS UPLOAD_DEADLINE VERIFY_DEADLINE INDEX_GRACE UPLOAD_WINDOW DEBUG NAME

STAMP := $(VENV)/.stamp
PACKAGE_DIRS := $(foreach p,$(PACKAGES),$(lastword $(subst =, ,$(p))))
PACKAGE_NAMES := $(foreach p,$(PACKAGES),$(firstword $(subst =, ,$(p))))

.PHONY: help  ## Show this help
help:
	@scripts/help Makefile

# The toolkit's virtualenv, rebuilt when the pinned requirements or a setup.py change. A
# virtualenv of another checkout (VENV=/elsewhere/.venv, as the tests share one) is used as it
# is and never rebuilt from here: that would point its editable installs at this tree.
ifeq ($(filter $(CURDIR)/%,$(abspath $(VENV))),)
$(STAMP):
	@test -f "$@" || { echo "error: no virtualenv at $(VENV); run 'make dev' in its checkout" >&2; exit 1; }
else
$(STAMP): requirements-dev.txt $(addsuffix /setup.py,$(PACKAGE_DIRS))
	@scripts/dev "$(VENV)"
endif

.PHONY: dev  ## Create .venv from the pinned requirements-dev.txt (done on first need)
dev: $(STAMP)

.PHONY: spark  ## Install pyspark into .venv for the Spark tests (requirements-spark.txt)
spark: $(STAMP)
	@scripts/spark

.PHONY: lock  ## Recompile the pinned, hashed requirements-dev.txt from requirements-dev.in
lock: $(STAMP)
	@scripts/lock

.PHONY: check-versions  ## Print every version site; fail naming each one that disagrees
check-versions: $(STAMP)
	@scripts/check-versions

.PHONY: bump  ## Bump every version site: VERSION=X.Y.Z or PART=major|minor|patch; commit, tag
bump: $(STAMP)
	@scripts/bump

.PHONY: lint  ## flake8 over the Python, shellcheck over scripts/, actionlint over workflows
lint: $(STAMP)
	@scripts/lint

.PHONY: build  ## Build sdist and wheel of every distribution, reproducibly, with a ledger
build: $(STAMP)
	@scripts/build

# Steps that read the built files wait for a build named on the same command line, so that
# `make -j build check` never checks half-written files.
AFTER_BUILD := $(filter build,$(MAKECMDGOALS))

.PHONY: check  ## twine check --strict, check-wheel-contents and our built-metadata policy
check: $(STAMP) | $(AFTER_BUILD)
	@scripts/check

.PHONY: audit  ## pip-audit the third-party dependency closure of the built wheels
audit: $(STAMP) | $(AFTER_BUILD)
	@scripts/audit

.PHONY: stage  ## Rehearse the whole release on a local pypiserver: build..upload..verify
stage: $(STAMP)
	@scripts/stage

.PHONY: testpypi  ## Release the built files to TestPyPI (REPOSITORY_URL/INDEX_URL override)
testpypi: $(STAMP)
	@scripts/release testpypi

.PHONY: publish  ## Release the built files to PyPI; asks first unless CONFIRM=yes
publish: $(STAMP)
	@scripts/release pypi

.PHONY: verify  ## Install every spec from INDEX_URL in fresh venvs and run finops (VERSION=)
verify: $(STAMP)
	@scripts/verify

.PHONY: bench  ## Time `make stage` step by step against the guide's manual release
bench: $(STAMP)
	@scripts/bench

# upload: every distribution, in dependency order, derived from PACKAGES: core, then every
# vendor (in parallel with -j), then the meta-package. Each upload-NAME waits until the index
# serves its files (the propagation barrier) before the next layer starts; `make check`
# fails when the built wheels' dependencies need another order.
CORE_PACKAGE := $(firstword $(PACKAGE_NAMES))
META_PACKAGE := $(lastword $(PACKAGE_NAMES))
VENDOR_PACKAGES := $(filter-out $(CORE_PACKAGE) $(META_PACKAGE),$(PACKAGE_NAMES))
.PHONY: upload
upload: upload-$(META_PACKAGE)
$(addprefix upload-,$(VENDOR_PACKAGES)): upload-$(CORE_PACKAGE)
upload-$(META_PACKAGE): $(addprefix upload-,$(VENDOR_PACKAGES))
upload-%: $(STAMP)
	@scripts/upload "$*"

.PHONY: new-vendor  ## Scaffold vendors/NAME as a new distribution and register it (NAME=x)
new-vendor: $(STAMP)
	@scripts/new-vendor

.PHONY: test  ## Run the test suite
test: $(STAMP)
	@scripts/test

.PHONY: clean  ## Remove build output and caches of the build
clean:
	@scripts/clean

# print-packages: the package list, for scripts run outside make.
.PHONY: print-packages
print-packages:
	@printf '%s\n' $(PACKAGES)
