#!/usr/bin/env bash
# Build the JupyterLab frontend (ui/) into extension/labextension.
#   scripts/build-ui.sh            install node deps (from ui/yarn.lock) and build for production
#   scripts/build-ui.sh --install  also copy the build over the installed copy, so a running
#                                  editable install picks it up without `pip install -e .`
set -euo pipefail
cd "$(dirname "$0")/../ui"
jlpm install
jlpm build:prod
if [[ "${1:-}" == "--install" ]]; then
  dest="$(python -c 'import sys; print(sys.prefix)')/share/jupyter/labextensions/lakelab"
  mkdir -p "$dest"
  rm -rf "$dest/static" "$dest/schemas" "$dest/package.json"
  cp -r ../extension/labextension/. "$dest/"
  cp ../extension/install.json "$dest/install.json"
  rm -f "$dest/.gitkeep"
  echo "installed into $dest"
fi
