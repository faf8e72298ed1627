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
  command -v mvn >/dev/null 2>&1 || need_apt+=(maven)  # Trino, s3proxy, Nessie, Iceberg's REST server jars
  command -v go >/dev/null 2>&1 || need_apt+=(golang-go)  # builds versitygw and fake-gcs-server
  command -v etcd >/dev/null 2>&1 || need_apt+=(etcd-server)  # the kube tier's control plane (tests/kube_harness.py)
  # Iceberg's REST server needs a JDK 17-22 (Hadoop 3.4 fails on Java 23+); javac compiles its launcher
  ls /usr/lib/jvm/java-17-openjdk-*/bin/javac >/dev/null 2>&1 || ls /usr/lib/jvm/java-21-openjdk-*/bin/javac >/dev/null 2>&1 \
    || need_apt+=(openjdk-17-jdk-headless)
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
  # the services' programs, cached in ${LAKELAB_CACHE:-~/.cache/lakelab} and reused (each step checks
  # first): Trino (~300 MB, Maven), versitygw and fake-gcs-server (`GOBIN=$CACHE/bin go install`, from
  # the Go module proxy), s3proxy, Nessie and Iceberg's REST server classpath (Maven Central)
  "$PY" -m lakelab.services fetch all
  # the kube tier: kube-apiserver/scheduler/controller-manager v1.36.3, kwok v0.8.0 and the KubeRay
  # operator v1.5.0 built once into ${LAKELAB_CACHE:-~/.cache/lakelab}/kube (~15 min cold, needs Go >= 1.26)
  PATH="/usr/local/go/bin:$PATH" bash scripts/kube-build.sh
fi
