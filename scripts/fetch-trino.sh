#!/bin/sh
# Fetch (with Maven, once) and unpack Trino 476 + its Iceberg plugin into
# ${LAKELAB_CACHE:-~/.cache/lakelab}/trino, as `lakelab services up` does on first use.
set -eu
exec "${PYTHON:-python3}" -m lakelab.services fetch "$@"
