# fmsim: two commands. `make demo` runs the main job; `make test` runs the test suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test docs screenshots lint format clean chromium

# constraints.txt pins every installed package, transitive ones included
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	MPLBACKEND=Agg $(BIN)/fmsim reproduce --out results/passive_transfer
	MPLBACKEND=Agg $(BIN)/fmsim therapies --out results/therapies
	MPLBACKEND=Agg $(BIN)/fmsim trial examples/trials/rozanolixizumab_nct05643794.yaml \
		--replicates 40 --out results/trial_nct05643794
	@echo "Reports: results/passive_transfer/report.html, results/therapies/report.html,"
	@echo "         results/trial_nct05643794/report.html"

# the web app's browser tests drive Debian's Chromium (playwright downloads no browser)
chromium:
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium) \
		|| echo "chromium could not be installed: the browser tests (tests/app) will be skipped"

test: $(STAMP) chromium
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	MPLBACKEND=Agg $(BIN)/pytest -n 2
	$(BIN)/mkdocs build --strict --quiet   # API reference and guides: any warning fails

screenshots: $(STAMP) chromium
	FMSIM_SCREENSHOTS=$(CURDIR)/docs/screenshots MPLBACKEND=Agg $(BIN)/pytest tests/app -n 1

docs: $(STAMP)
	$(BIN)/mkdocs build --strict

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks

clean:
	rm -rf $(VENV) results .pytest_cache site
