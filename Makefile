# The course's two commands: `make lab` opens the lessons, `make test` checks everything.
# Both create (or update) the virtual environment in .venv first, from nothing but python3.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PORT   ?= 8888

# Same settings for learners and CI: headless rendering, quiet SDL, one thread per op is
# fastest for the course's small networks.
export SDL_VIDEODRIVER := dummy
export SDL_AUDIODRIVER := dummy
export PYDEVD_DISABLE_FILE_VALIDATION := 1

NBVAL_FLAGS := --nbval --nbval-current-env --nbval-cell-timeout=900 \
               --nbval-sanitize-with tests/nbval_sanitize.cfg

# The real-browser test (tests/browser): Debian's Chromium driven by Playwright, which must
# never download a browser of its own. `make test` runs it for CI_BROWSER_LESSONS only (the
# quickest lesson with a widget); `make test-browser` runs every lesson (BROWSER_LESSONS=00,02
# for some). Without Chromium (no apt-get as root) the browser tests skip and say why.
CHROMIUM           ?= /usr/bin/chromium
CI_BROWSER_LESSONS ?= 01
BROWSER_STAMP      := $(VENV)/.browser-installed
export CHROMIUM
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: help setup lab test test-unit test-notebooks test-browser browser-setup chromium \
        bench times lint format clean

help:
	@echo "make lab    - set up .venv and open the course in JupyterLab (port $(PORT))"
	@echo "make test   - set up .venv and run unit tests + every notebook under nbval"
	@echo "              + Lesson $(CI_BROWSER_LESSONS) in JupyterLab in headless Chromium"
	@echo "make test-browser - every lesson in JupyterLab in headless Chromium"
	@echo "make bench  - run the learning/speed benchmarks and rewrite benchmarks/results/"
	@echo "make lint   - ruff over utils, tests, benchmarks and notebooks"

setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

lab: $(STAMP)
	$(PY) -m ipykernel install --user --name dqn-course --display-name "Python (dqn-course)"
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks --port=$(PORT) $(LAB_FLAGS)

test: $(STAMP) browser-setup
	BROWSER_LESSONS=$(CI_BROWSER_LESSONS) \
	$(PY) -m pytest tests notebooks $(NBVAL_FLAGS) $(PYTEST_FLAGS)

test-unit: $(STAMP)
	$(PY) -m pytest tests $(PYTEST_FLAGS)

test-notebooks: $(STAMP)
	$(PY) -m pytest notebooks $(NBVAL_FLAGS) $(PYTEST_FLAGS)

test-browser: $(STAMP) browser-setup
	BROWSER_LESSONS=$(or $(BROWSER_LESSONS),all) $(PY) -m pytest tests/browser $(PYTEST_FLAGS)

browser-setup: $(BROWSER_STAMP) chromium

$(BROWSER_STAMP): $(STAMP) requirements-browser.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-browser.txt
	touch $(BROWSER_STAMP)

# Debian's chromium, installed with apt-get when missing (as root, or with password-less sudo).
chromium:
	@if [ -x "$(CHROMIUM)" ]; then :; \
	elif ! command -v apt-get >/dev/null 2>&1; then \
	  echo "no $(CHROMIUM) and no apt-get: the browser tests will be skipped"; \
	else \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO=sudo; \
	  else echo "no $(CHROMIUM), and apt-get needs root: the browser tests will be skipped"; \
	    exit 0; fi; \
	  echo "installing Debian's chromium with apt-get (about a minute)"; \
	  $$SUDO apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null || \
	    echo "could not install chromium: the browser tests will be skipped"; \
	fi

bench: $(STAMP)
	$(PY) benchmarks/bench_tabular.py
	$(PY) benchmarks/bench_dqn.py

# After `make test`: keep the measured notebook run times and put them in the README.
times:
	cp test-artifacts/notebook_times.json benchmarks/results/notebook_times.json
	$(PY) scripts/sync_notebooks.py

lint: $(STAMP)
	$(VENV)/bin/ruff check utils tests benchmarks scripts notebooks
	$(VENV)/bin/ruff format --check utils tests benchmarks scripts

format: $(STAMP)
	$(VENV)/bin/ruff format utils tests benchmarks scripts
	$(VENV)/bin/ruff check --fix utils tests benchmarks scripts notebooks

clean:
	rm -rf $(VENV) test-artifacts
