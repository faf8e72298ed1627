# The two commands the README opens with. Everything else is a helper for them.
PY ?= python3

.PHONY: lab test setup-lab setup-test bench bench-quick clean

lab: setup-lab            ## install and start JupyterLab on the embedded lakehouse (demo + tutorial)
	$(PY) -m lakelab lab

test: setup-test          ## run the whole test suite (UI unit tests, then Python: core, Trino, Ray, browser)
	cd ui && npm test --silent
	$(PY) -m pytest tests -q -p no:cacheprovider

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
	$(PY) bench/bench_artifacts.py
	$(PY) bench/bench_trino_lineage.py

bench-quick:              ## the same benchmarks at small sizes
	$(PY) bench/bench_ingest.py --quick
	$(PY) bench/bench_tpch.py --sf 0.1 --runs 1
	$(PY) bench/bench_trino.py --quick
	$(PY) bench/bench_server.py --datasets 1000 --rows 1000000
	$(PY) bench/bench_workspaces.py --size quick
	$(PY) bench/bench_artifacts.py --mb 16 --runs 1
	$(PY) bench/bench_trino_lineage.py --writes 5

clean:
	rm -rf build dist extension/labextension/static ui/lib tests/artifacts bench/results
