# The whole set-up on a fresh machine: `make run` (the local stack) and `make test` (every check).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
REQUIREMENTS := requirements-dev.txt layers/shared/requirements.txt
STAMP := $(VENV)/.installed-$(shell cat $(REQUIREMENTS) | sha1sum | cut -c1-12)
BUILD_DIR ?= .aws-sam/build
# The browser tests drive Debian's chromium through Playwright (never `playwright install`: no download is possible).
CHROMIUM := /usr/bin/chromium
export SAM_CLI_TELEMETRY := 0
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help install lock browser run token revoke-token claims test lint typecheck validate build openapi openapi-check unit integration e2e bench soak clean

help:
	@echo "make run     start the whole service locally (no Docker, no AWS account)"
	@echo "make test    install what is missing, then lint, type-check, validate, build and run every test"
	@echo "make token TENANT=<name> [STACK=<deployed stack> REGION=<region>]   print a bearer token"
	@echo "make revoke-token TOKEN=<token> [STACK=<deployed stack> REGION=<region>]   revoke a bearer token"
	@echo "make claims [ACTION=list|assign|reject ADVERTISER=<id> TENANT=<name>] [STACK=...]   advertising claims waiting for an operator"
	@echo "make bench   print benchmark figures (JSON)"
	@echo "make lock    resolve requirements*.in into the hashed locks (UPGRADE=1: newest versions allowed)"
	@echo "make soak    the reliability suite at full size (fuzzing, hostile tenants, faults, load, races): JSON summary"

# The locks (hashed; `make lock` writes them): requirements-dev.txt holds every package of the development tools and
# of the layer, at the layer's versions; a change of either lock installs again. The lock is complete, so pip installs
# it as it is (--no-deps: the venv's first pip refuses a dependency with extras in hash mode) and `pip check` proves
# that nothing is missing.
$(STAMP): $(REQUIREMENTS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements-dev.txt
	$(BIN)/python -m pip check
	@rm -f $(VENV)/.installed-*
	@touch $@

install: $(STAMP)

# Resolve the inputs (*.in) into the hashed locks, keeping the versions already pinned (UPGRADE=1: the newest the
# inputs allow). The layer's for Lambda's Python 3.11 on arm64 Linux, with the hashes of every platform's wheels
# (`sam build` downloads for this machine first, then the arm64 wheels); the tools' for every platform, constrained
# to the layer's pins.
LOCK = $(BIN)/uv pip compile --quiet --generate-hashes --no-strip-extras --python-version 3.11 --custom-compile-command "make lock" \
	$(if $(UPGRADE),--upgrade)

lock: install
	$(LOCK) --python-platform aarch64-manylinux2014 layers/shared/requirements.in -o layers/shared/requirements.txt
	$(LOCK) --universal requirements-dev.in -c layers/shared/requirements.txt -o requirements-dev.txt

$(CHROMIUM):
	@test "$$(id -u)" = 0 || { echo "$(CHROMIUM) is missing: run 'apt-get install -y chromium' as root" >&2; exit 1; }
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium

browser: $(CHROMIUM)

run: install
	$(BIN)/python -m local

token: install
	@test -n "$(TENANT)" || { echo "usage: make token TENANT=<name> [STACK=<stack name>] [REGION=<region>]" >&2; exit 2; }
	@$(BIN)/python scripts/issue_token.py "$(TENANT)" $(if $(STACK),--stack "$(STACK)") $(if $(REGION),--region "$(REGION)")

revoke-token: install
	@test -n "$(TOKEN)" || { echo "usage: make revoke-token TOKEN=<token> [STACK=<stack name>] [REGION=<region>]" >&2; exit 2; }
	@$(BIN)/python scripts/issue_token.py --revoke "$(TOKEN)" $(if $(STACK),--stack "$(STACK)") $(if $(REGION),--region "$(REGION)")

claims: install
	@$(BIN)/python scripts/advertising_claims.py $(or $(ACTION),list) $(ADVERTISER) $(TENANT) $(if $(STACK),--stack "$(STACK)") $(if $(REGION),--region "$(REGION)")

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy layers/shared local scripts tests bench

validate: install
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/sam validate --lint --template template.yaml

build: install
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/sam build --template template.yaml --build-dir $(BUILD_DIR) --parallel --cached --cache-dir .aws-sam/cache

openapi: install
	$(BIN)/python scripts/openapi.py

openapi-check: install
	$(BIN)/python scripts/openapi.py --check

unit: install
	$(BIN)/pytest tests/unit -q

integration: install
	$(BIN)/pytest tests/integration -q

e2e: install browser
	$(BIN)/pytest tests/e2e -q

# `make test`: every test on two pytest-xdist workers. The e2e and reliability files run on local stacks their module or
# the session starts, so each stays on one worker; unit and integration tests (each worker has its own moto stack) are
# spread one by one (--dist loadgroup, groups set in tests/conftest.py). The longest files go first, in this order
# (--no-loadscope-reorder), so that both workers end together. The shared layer's coverage must stay at COVERAGE_FLOOR
# or above (unit and integration tests measure it; the local stack's processes run the same code unmeasured).
# Afterwards: the worker-seconds of the slowest files (tests/timings.py, from the JUnit report).
TEST_FIRST := $(wildcard $(addprefix tests/,reliability/test_faults.py reliability/test_load_syncs.py \
	reliability/test_hostile_tenants.py integration/test_marketplace_sync.py reliability/test_fuzz.py \
	e2e/test_advertising.py reliability/test_load_creates.py e2e/test_marketplace_sync.py reliability/test_races.py))
TEST_FILES := $(TEST_FIRST) $(filter-out $(TEST_FIRST),$(sort $(wildcard tests/*/test_*.py)))
TEST_REPORT := .pytest_cache/junit.xml
COVERAGE_FLOOR := 93

# The checks before the tests run two at a time (mypy takes one core, sam build another), each one's output together.
CHECKS := lint typecheck validate build openapi-check

test: install browser
	@$(MAKE) --no-print-directory --output-sync=target -j2 $(CHECKS)
	@mkdir -p $(dir $(TEST_REPORT)); status=0; \
	$(BIN)/pytest -q -n 2 --dist loadgroup --no-loadscope-reorder --cov --cov-report= \
		--cov-fail-under=$(COVERAGE_FLOOR) --junitxml=$(TEST_REPORT) $(TEST_FILES) || status=$$?; \
	$(BIN)/python -m tests.timings $(TEST_REPORT) 12 || true; \
	exit $$status

bench: install
	$(BIN)/python -m bench

# The reliability suite at soak size (tests/reliability, SOAK=1); pytest's report goes to stderr, the summary to stdout.
SOAK_FIGURES := .soak/figures.jsonl
# The soak's files, longest first, so that the two workers end together (pytest-xdist takes them in this order
# with --no-loadscope-reorder; by default it would start with the files holding the most tests).
SOAK_LONGEST := $(addprefix tests/reliability/,test_load_syncs.py test_faults.py test_load_creates.py)
SOAK_TESTS := $(SOAK_LONGEST) $(filter-out $(SOAK_LONGEST),$(sort $(wildcard tests/reliability/test_*.py)))

soak: install
	@mkdir -p $(dir $(SOAK_FIGURES)) && rm -f $(SOAK_FIGURES)
	@started=$$(date +%s); status=0; \
	SOAK=1 SOAK_FIGURES_FILE=$(abspath $(SOAK_FIGURES)) $(BIN)/pytest $(SOAK_TESTS) -q -n 2 --dist loadfile --no-loadscope-reorder --durations=12 >&2 || status=$$?; \
	$(BIN)/python -m tests.reliability.summary $(SOAK_FIGURES) $$status $$(( $$(date +%s) - started )); \
	exit $$status

clean:
	rm -rf .aws-sam .local .soak .pytest_cache .mypy_cache .ruff_cache
