# The course's two commands: `make lab` opens the lessons, `make test` checks everything.
# Both create (or update) the virtual environment in .venv first, from nothing but python3.
# Settings (README, "Run it"): make lab PORT=9999 LAB_FLAGS="--no-browser", TORCH_INDEX=URL, ...

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PORT   ?= 8888
# Extra flags for `jupyter lab` (e.g. --no-browser, --ip=0.0.0.0).
LAB_FLAGS ?=
# Jupyter refuses to start as root (containers, cloud machines) unless told it may.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root)
# The learner's own copy of the lessons (git-ignored), which `make lab` opens.
MY_NOTEBOOKS := my-notebooks

# PyTorch's CPU builds on Linux (PyPI's Linux torch is a CUDA build of several GB).
# scripts/pip_install.py adds this index only when it answers within 3 s, and stops before
# downloading a CUDA build; TORCH_INDEX= (empty) never asks it, CUDA=1 takes PyPI's build.
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
CUDA ?=

# `make notebooks LESSONS=03,04`: the lessons whose names start with these prefixes.
comma := ,
LESSON_FILES = $(if $(strip $(LESSONS)),$(foreach l,$(subst $(comma), ,$(LESSONS)),\
  $(or $(wildcard notebooks/$(l)*.ipynb),$(error LESSONS: no notebooks/$(l)*.ipynb))),\
  $(wildcard notebooks/[0-9][0-9]_*.ipynb))

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

.PHONY: help setup lab reset-lesson notebooks test test-unit test-notebooks test-browser \
        browser-setup chromium bench times lint format clean

help:
	@echo "make lab    - set up .venv and open your copy of the lessons ($(MY_NOTEBOOKS)/)"
	@echo "              in JupyterLab (port $(PORT); make lab PORT=9999 for another)"
	@echo "make reset-lesson L=03 - a fresh copy of Lesson 3 (yours goes to $(MY_NOTEBOOKS)/backup/)"
	@echo "make test   - set up .venv and run unit tests + every notebook under nbval"
	@echo "              + Lesson $(CI_BROWSER_LESSONS) in JupyterLab in headless Chromium"
	@echo "make test-browser - every lesson in JupyterLab in headless Chromium"
	@echo "make notebooks - re-execute every lesson in place (LESSONS=03,04 for some)"
	@echo "make bench  - run the learning/speed benchmarks and rewrite benchmarks/results/"
	@echo "make lint   - ruff over utils, tests, benchmarks and notebooks"

setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml scripts/pip_install.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) scripts/pip_install.py --torch-index "$(TORCH_INDEX)" $(if $(CUDA),--cuda) \
	  -- --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

# The venv's own "Python 3" kernel (python3, as the notebooks ask) is the only one needed;
# older versions registered a second one in the user's home: it is removed again.
lab: $(STAMP)
	@old="$$($(VENV)/bin/jupyter --data-dir)/kernels/dqn-course"; \
	if grep -qsF '"$(abspath $(PY))"' "$$old/kernel.json"; then rm -rf "$$old"; \
	  echo "removed the kernel 'Python (dqn-course)' that an older make lab registered"; fi
	$(PY) scripts/my_notebooks.py sync --to $(MY_NOTEBOOKS)
	$(VENV)/bin/jupyter lab --notebook-dir=$(MY_NOTEBOOKS) --port=$(PORT) $(ALLOW_ROOT) $(LAB_FLAGS)

# A fresh copy of lessons L (prefixes, e.g. L=03 or L=03,04); the old copy is kept in backup/.
reset-lesson: $(STAMP)
	@test -n "$(L)" || { echo "which lesson? e.g. make reset-lesson L=03"; exit 2; }
	$(PY) scripts/my_notebooks.py reset --to $(MY_NOTEBOOKS) $(subst $(comma), ,$(L))

# Re-execute lessons in place in a fresh kernel, as nbval does in `make test` (same
# environment, same kernel, same 900 s per cell); run it after any numerical change.
notebooks: $(STAMP)
	$(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace \
	  --ExecutePreprocessor.kernel_name=python3 --ExecutePreprocessor.timeout=900 \
	  $(LESSON_FILES)

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
