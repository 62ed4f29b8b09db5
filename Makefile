# khoso: `make run` starts the embedded default, `make test` runs the suite on real services.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export KHOSO_DATA_DIR ?= $(CURDIR)/khoso-data

.PHONY: install run test lint clean

install: $(VENV)/.installed

$(VENV)/.installed: setup.cfg pyproject.toml docker/install-debian-packages.sh
	docker/install-debian-packages.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

# Quiet init: only warnings and, on the first start, the admin account; serve says the rest.
run: install
	@$(BIN)/khoso -q init
	@exec $(BIN)/khoso serve --host 127.0.0.1 --port 8080

# The suite in two processes (pytest-xdist), one a core, each file's tests in one of them (a
# file's tests share a broker or a port plan): 6,250 tests; 6,182 of them took 56 minutes at a
# load average of 4-11 (2026-12-07; 5,991 took 17-21 minutes on a quiet machine).
# `make test PYTEST_ARGS="tests/unit -x"` runs a part in one process.
PYTEST_ARGS ?= -n 2 --dist loadfile

test: install
	tests/harness/run-tests.sh $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports --config setup.cfg
	$(BIN)/mypy preservation storage ingest access_api

clean:
	rm -rf $(VENV) .test-services build *.egg-info
