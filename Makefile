# Moatline: `make run` serves the app, `make test` runs every test.
# Installs are skipped while pyproject.toml is unchanged (stamp files in .venv/).

VENV   := .venv
PYTHON := $(VENV)/bin/python
PIP    := $(PYTHON) -m pip install --quiet --disable-pip-version-check

.PHONY: run test lint clean

run: $(VENV)/.installed
	$(VENV)/bin/moatline serve

test: $(VENV)/.installed-dev
	$(VENV)/bin/pytest -q

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check app tests bench migrations
	$(VENV)/bin/mypy app

$(PYTHON):
	python3 -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(PYTHON)
	$(PIP) -e .
	touch $@

# The dev install includes everything `run` needs, so it refreshes both stamps.
$(VENV)/.installed-dev: pyproject.toml | $(PYTHON)
	$(PIP) -e '.[dev]'
	touch $@ $(VENV)/.installed

clean:
	rm -rf $(VENV) .pytest_cache screenshots
