# gridgov — two commands do all set-up on a fresh machine:
#   make demo   creates .venv, installs gridgov, brings up PostGIS, loads the demo, serves the map
#   make test   the same set-up, then the whole test suite
# Both are idempotent: the second run only does what changed.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ASSETS := node_modules/.package-lock.json
PYTEST_ARGS ?=

.PHONY: demo test setup system db lint bench clean

demo: setup db
	$(BIN)/gridgov demo load
	$(BIN)/gridgov serve

test: setup db lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

setup: system $(STAMP) $(ASSETS)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

# Leaflet and the plugins' scripts and styles, pinned by package-lock.json (served
# by gridgov itself: the pages work with no internet)
$(ASSETS): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Debian packages the browser tests and the maps need (Chromium, CJK fonts, poppler for
# the briefing tests' pdftoppm/pdftotext).
# PostgreSQL/PostGIS are installed by `gridgov db up` itself when missing.
system:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v pdftoppm >/dev/null 2>&1 || missing="$$missing poppler-utils"; \
	[ -d /usr/share/fonts/opentype/noto ] || missing="$$missing fonts-noto-cjk"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else \
	    echo "please install:$$missing (Debian/Ubuntu: sudo apt-get install$$missing)"; exit 1; \
	  fi; \
	fi

db: $(STAMP)
	$(BIN)/gridgov db up

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: setup db
	$(BIN)/python bench/load.py

clean:
	-$(BIN)/gridgov db down
	rm -rf $(VENV) node_modules .gridgov tests/artifacts
