# The two commands: `make run` (whole product with demo data) and `make test` (whole suite).
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-nodeps.txt | cksum | cut -d' ' -f1)

.PHONY: run test lint bench services clean-data

$(STAMP): requirements.txt requirements-nodeps.txt
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -r requirements-nodeps.txt
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/python scripts/devstack.py run

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/python scripts/devstack.py test $(PYTEST_ARGS)

services: $(STAMP)
	$(VENV)/bin/python scripts/devstack.py services

clean-data:
	rm -rf var/
