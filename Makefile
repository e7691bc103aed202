# The two commands of the README:  make run  (start the app)  and  make test  (run every test).
# Both create .venv and install what they need first; a second call skips what is done.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test lint data

$(VENV)/.app-installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.test-installed: $(VENV)/.app-installed requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# Fashion-MNIST into $(PLAYGROUND_HOME)/data: from there, from the Debian package, or downloaded.
# Offline without the package it explains how to get it, and the app still starts.
data: $(VENV)/.app-installed
	-$(PY) -m playground prepare

run: data
	$(PY) -m streamlit run streamlit_app.py

test: $(VENV)/.test-installed
	$(PY) -m pytest

# Ruff's lint rules and its formatting (pyproject.toml); .ci/run runs this before the tests.
lint: $(VENV)/.test-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
