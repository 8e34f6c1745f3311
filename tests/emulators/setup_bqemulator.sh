#!/usr/bin/env bash
# Set up the BigQuery emulator (PyPI `bqemulator`, DuckDB-backed, BigQuery REST API) in its own
# virtualenv, outside the project's venv: it needs duckdb 1.5.5 while wiredesk pins duckdb 2.0.
#
#   bash tests/emulators/setup_bqemulator.sh          # idempotent; prints the emulator's python
#
# Where: $WIREDESK_BQEMULATOR_VENV (default ~/.cache/wiredesk/bqemulator-venv). The tests find
# it there (tests/emulators/bqemulator.py) and skip with a clear message when it is missing,
# unless WIREDESK_REQUIRE_EMULATORS=1 (CI), where a missing emulator fails the tests.
set -euo pipefail

PYTHON="${PYTHON:-python3}"
VENV="${WIREDESK_BQEMULATOR_VENV:-$HOME/.cache/wiredesk/bqemulator-venv}"
# Pinned together: bqemulator's DuckDB and the spatial extension it loads must be the same version.
PACKAGES=("bqemulator==1.4.0" "duckdb==1.5.5" "duckdb-extension-spatial==1.5.5" "numpy==2.4.6")
EXT_DIR="$HOME/.duckdb/extensions/v1.5.5/linux_amd64"

if [ ! -x "$VENV/bin/python" ]; then
  mkdir -p "$(dirname "$VENV")"
  "$PYTHON" -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c 'import bqemulator, duckdb, duckdb_extension_spatial, numpy; assert duckdb.__version__ == "1.5.5"' 2>/dev/null; then
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PACKAGES[@]}"
fi

# DuckDB would try to download the spatial extension at start-up (no internet here): put the
# copy shipped inside the PyPI package where DuckDB looks first.
SRC="$("$VENV/bin/python" - <<'PY'
import pathlib, duckdb_extension_spatial as m
hits = sorted(pathlib.Path(m.__file__).parent.rglob("spatial.duckdb_extension"))
print(hits[0] if hits else "")
PY
)"
if [ -z "$SRC" ]; then
  echo "setup_bqemulator: spatial.duckdb_extension not found in duckdb-extension-spatial" >&2
  exit 1
fi
mkdir -p "$EXT_DIR"
if ! cmp -s "$SRC" "$EXT_DIR/spatial.duckdb_extension"; then
  cp "$SRC" "$EXT_DIR/spatial.duckdb_extension"
fi

"$VENV/bin/python" -c 'import bqemulator' >/dev/null
echo "$VENV/bin/python"
