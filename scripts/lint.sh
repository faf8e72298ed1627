#!/usr/bin/env bash
# The checks `make lint`, .ci/run and pre-commit share: ruff (lint + format), mypy, deptry
# (dependencies declared as imported) and the UI's eslint + prettier. Every check runs; the
# script fails at the end if any did, so one run shows everything to fix.
# `scripts/lint.sh ui mypy` runs only the checks named (ruff, format, mypy, deptry, ui).
set -uo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
only=" $* "
failed=()

wanted() { [ "$only" = "  " ] || [[ "$only" == *" $1 "* ]]; }

check() {  # check NAME COMMAND...
  local name="$1"
  shift
  wanted "$name" || return 0
  echo "lint: $name: $*"
  "$@" || failed+=("$name")
}

check ruff "$PY" -m ruff check .
check format "$PY" -m ruff format --check .
check mypy "$PY" -m mypy
check deptry "$PY" -m deptry kernel_lib server
if ! wanted ui; then
  :
elif node -e 'process.exit(require("./ui/package.json").scripts?.["lint:check"] ? 0 : 1)'; then
  check ui bash -c 'cd ui && jlpm lint:check'
else
  echo "lint: ui: SKIPPED - ui/package.json has no lint:check script yet (eslint + prettier are being added)"
fi

if [ ${#failed[@]} -gt 0 ]; then
  echo "lint: FAILED: ${failed[*]}"
  exit 1
fi
echo "lint: all checks passed"
