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

.PHONY: help setup lab test test-unit test-notebooks bench times lint format clean

help:
	@echo "make lab    - set up .venv and open the course in JupyterLab (port $(PORT))"
	@echo "make test   - set up .venv and run unit tests + every notebook under nbval"
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

test: $(STAMP)
	$(PY) -m pytest tests notebooks $(NBVAL_FLAGS) $(PYTEST_FLAGS)

test-unit: $(STAMP)
	$(PY) -m pytest tests $(PYTEST_FLAGS)

test-notebooks: $(STAMP)
	$(PY) -m pytest notebooks $(NBVAL_FLAGS) $(PYTEST_FLAGS)

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
