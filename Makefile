# The two commands the README opens with. Everything else is a helper for them.
PY ?= python3

.PHONY: lab test test-fast lint setup-lab setup-test bench bench-quick soak clean

lab: setup-lab            ## install and start JupyterLab on the embedded lakehouse (demo + tutorial)
	$(PY) -m lakelab lab

test: setup-test          ## run the whole test suite (UI unit tests, then Python: core, Trino, Ray, browser)
	cd ui && npm test --silent
	$(PY) -m pytest tests -q -p no:cacheprovider --durations=30

test-fast: setup-test     ## the fast tier, for every change: UI unit tests, then Python without Trino, PostgreSQL, Ray, browser or slow tests (tests/tiers.py)
	cd ui && npm test --silent
	$(PY) -m pytest tests -m fast -q -p no:cacheprovider

lint: setup-test          ## ruff (lint + format), mypy, deptry and the UI's eslint + prettier (scripts/lint.sh; pre-commit runs the same)
	PYTHON=$(PY) bash scripts/lint.sh

setup-lab:
	PYTHON=$(PY) bash scripts/setup.sh lab

setup-test:
	PYTHON=$(PY) bash scripts/setup.sh test

bench:                    ## full-size benchmarks (minutes each); each prints a table and writes bench/results/*.json
	$(PY) bench/bench_ingest.py
	$(PY) bench/bench_tpch.py --sf 1
	$(PY) bench/bench_trino.py --sf 1
	$(PY) bench/bench_server.py
	$(PY) bench/bench_workspaces.py --size full
	$(PY) bench/bench_ray_lakehouse.py --rows 10000000
	$(PY) bench/bench_artifacts.py
	$(PY) bench/bench_trino_lineage.py
	$(PY) bench/bench_load.py
	$(PY) bench/bench_reliability.py

bench-quick:              ## the same benchmarks at small sizes
	$(PY) bench/bench_ingest.py --quick
	$(PY) bench/bench_tpch.py --sf 0.1 --runs 1
	$(PY) bench/bench_trino.py --quick
	$(PY) bench/bench_server.py --datasets 1000 --rows 1000000
	$(PY) bench/bench_workspaces.py --size quick
	$(PY) bench/bench_ray_lakehouse.py --rows 2000000
	$(PY) bench/bench_artifacts.py --mb 16 --runs 1
	$(PY) bench/bench_trino_lineage.py --writes 5
	$(PY) bench/bench_load.py --seconds 10 --datasets 1000
	$(PY) bench/bench_reliability.py --runs 3

soak: setup-test          ## the long reliability soak (about 30 min): 100 kills per write kind, 10 min of REST load, 20 Ctrl-C cancels
	LAKELAB_SOAK_KILLS=100 $(PY) -m pytest tests/reliability -q -p no:cacheprovider -s
	$(PY) bench/bench_load.py --seconds 600
	$(PY) bench/bench_reliability.py --runs 20

clean:
	rm -rf build dist extension/labextension/static ui/lib tests/artifacts bench/results
