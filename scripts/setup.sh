#!/usr/bin/env bash
# Installs what lakelab needs on a fresh machine. `setup.sh lab`: the product; `setup.sh test`: plus
# what the test suite needs (Debian's PostgreSQL and Chromium, the Trino distribution in a cache
# outside the repo). Idempotent: every step checks first, so later runs are quick.
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-lab}"
PY="${PYTHON:-python3}"

need_apt=()
if [ "$what" = test ]; then
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
  command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
  command -v mvn >/dev/null 2>&1 || need_apt+=(maven)  # fetches the Trino tarball from Maven Central
fi
command -v node >/dev/null 2>&1 || need_apt+=(nodejs npm)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

extras="ray,demo"; [ "$what" = test ] && extras="test"
# the frontend is built by the jupyter-builder hook during this install (npm from the registry)
"$PY" -m pip install -q --disable-pip-version-check -e ".[${extras}]"

if [ "$what" = test ]; then
  # the Trino tarball (~300 MB) is cached in ${LAKELAB_CACHE:-~/.cache/lakelab} and reused
  "$PY" -m lakelab.services fetch
fi
