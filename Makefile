# The two commands the README opens with. Everything else is a helper for them.
PY ?= python3

.PHONY: lab test setup-lab setup-test test-python test-ui bench clean

lab: setup-lab            ## install and start JupyterLab on the embedded lakehouse (demo + tutorial)
	lakelab lab

test: setup-test          ## run the whole test suite (UI unit tests, then Python: core, Trino, Ray, browser)
	cd ui && npm test --silent
	$(PY) -m pytest tests -q -p no:cacheprovider

setup-lab:
	PYTHON=$(PY) bash scripts/setup.sh lab

setup-test:
	PYTHON=$(PY) bash scripts/setup.sh test

bench:                    ## benchmarks: each prints a table and writes bench/results/*.json
	for b in bench/bench_*.py; do $(PY) $$b --quick || exit 1; done

clean:
	rm -rf build dist extension/labextension/static ui/lib tests/artifacts bench/results
