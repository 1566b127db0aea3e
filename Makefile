# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export DO_NOT_TRACK ?= 1
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 90
export PREFECT_HOME ?= $(CURDIR)/var/prefect
# A demonstration key for the bundled sample only; production sets its own secret.
export MOTCUA_PSEUDONYM_KEY ?= sample-demo-key-not-for-production

.PHONY: run test lint venv clean sample prefect-setup

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found: install Python 3.11 or run make PYTHON=python3"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

sample: $(STAMP)
	$(BIN)/motcua sample --out var/sample

run: $(STAMP)
	@mkdir -p $(PREFECT_HOME)
	$(BIN)/motcua sample --out var/sample
	$(BIN)/motcua run --source var/sample --warehouse duckdb:///var/warehouse.duckdb --year 2019

test: $(STAMP)
	@mkdir -p $(PREFECT_HOME)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

prefect-setup: $(STAMP)
	$(BIN)/motcua setup-prefect

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf var $(VENV)
