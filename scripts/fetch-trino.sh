#!/bin/sh
# Fetch (with Maven, once) and unpack Trino 476 + its Iceberg plugin into
# ${LAKELAB_CACHE:-~/.cache/lakelab}/trino, as `lakelab services up` would on first use.
# CI runs this before the tests so the download is cached separately from the test run.
set -eu
exec python -c 'from lakelab.services.trino_server import install; print(install())'
