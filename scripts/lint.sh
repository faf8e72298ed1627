#!/usr/bin/env bash
# The checks `make lint`, .ci/run and pre-commit share: ruff (lint + format), mypy, deptry
# (dependencies declared as imported) and the UI's eslint + prettier. Every check runs; the
# script fails at the end if any did, so one run shows everything to fix.
set -uo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
failed=()

check() {  # check NAME COMMAND...
  local name="$1"
  shift
  echo "lint: $name: $*"
  "$@" || failed+=("$name")
}

check "ruff check" "$PY" -m ruff check .
check "ruff format" "$PY" -m ruff format --check .
check "mypy" "$PY" -m mypy
check "deptry" "$PY" -m deptry kernel_lib server
if node -e 'process.exit(require("./ui/package.json").scripts?.["lint:check"] ? 0 : 1)'; then
  check "ui lint" bash -c 'cd ui && jlpm lint:check'
else
  echo "lint: ui lint: SKIPPED - ui/package.json has no lint:check script yet (eslint + prettier are being added)"
fi

if [ ${#failed[@]} -gt 0 ]; then
  echo "lint: FAILED: ${failed[*]}"
  exit 1
fi
echo "lint: all checks passed"
