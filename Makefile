# The two entry points of the README: `make demo` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
STAMP := $(VENV)/.installed

.PHONY: demo test lint install clean bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	bash examples/demo.sh $(VENV)/bin/runai-reconcile

lint: $(STAMP)
	$(VENV)/bin/ruff check reconcile tests bench tools
	$(VENV)/bin/ruff format --check reconcile tests bench tools
	$(VENV)/bin/mypy --strict reconcile tools

test: lint
	$(PY) -m pytest -n 2 -q

# Every benchmark with its default sizes (minutes; figures go to BENCHMARKS.md by hand).
bench: $(STAMP)
	for script in bench/bench_*.py; do $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
