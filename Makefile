# Two entry points: `make demo` and `make test`. Both create .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
DEMO := scenarios/southeast_medtech/scenario.yaml

.PHONY: demo test lint clean venv browser compare-demo

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@ $(RUN_STAMP)

venv: $(RUN_STAMP)

demo: $(RUN_STAMP)
	$(BIN)/territory-opt solve $(DEMO) --force
	@echo "Demo results: results/southeast_medtech/ (report.html: open it in a browser; workbook.xlsx; crm/ load files; alignment.csv, territories.csv, levels.csv, metrics.json, manifest.json, quotas.csv, comp.csv, territories.geojson, map.png)"

# The demo's result against two variants; run `make demo` first.
compare-demo: $(RUN_STAMP)
	$(BIN)/territory-opt compare results/southeast_medtech \
		scenarios/southeast_medtech/variants/minimal_change.yaml \
		scenarios/southeast_medtech/variants/full_rebalance.yaml --force \
		--csv results/demo_comparison.csv --html results/demo_comparison.html

# The report test drives headless Chromium: install Debian's packages when missing.
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then \
		:; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			chromium chromium-driver \
		|| echo "chromium could not be installed: the browser test will be skipped"; \
	else \
		echo "chromium is missing and we are not root: the browser test will be skipped"; \
	fi

test: $(TEST_STAMP) browser
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

clean:
	rm -rf $(VENV) results .pytest_cache
