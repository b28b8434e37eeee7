#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine with only cargo: installs what the tests
# need when it is missing (GDAL and PROJ command-line tools, QGIS's Python bindings, Chromium, a
# Python venv with openapi-spec-validator, OWSLib, pyogrio, schemathesis and pmtiles (the
# PMTiles project's reader), MapLibre's style
# validator, the MVT fixtures and playwright-core from npm), then runs formatting, lint and
# every test.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v ogrinfo >/dev/null || need_apt+=(gdal-bin)
command -v cs2cs >/dev/null || need_apt+=(proj-bin)
python3 -m venv --help >/dev/null 2>&1 || need_apt+=(python3-venv)
# QGIS 3.22 with its Python bindings, for tests/qgis.rs (Debian's own Python, /usr/bin/python3).
/usr/bin/python3 -c "import qgis.core" >/dev/null 2>&1 || need_apt+=(python3-qgis)
# Chromium for tests/browser.rs (the HTML maps in a real browser, headless).
command -v chromium >/dev/null || need_apt+=(chromium)
# PostgreSQL + PostGIS for the PostGIS source tests (tests/common/postgis.rs starts a throwaway cluster).
ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1 || need_apt+=(postgresql-15-postgis-3 postgresql-client-15)
# apt-get's output, shortened to a line per step: what is fetched, then every 25th package set up.
apt_progress() {
  awk '/^Need to get/ {print "   " $0; fflush()}
       /^Setting up/ {n++; if (n % 25 == 1) {print "   setting up package " n ": " $3; fflush()}}
       END {if (n) print "   " n " packages set up"}'
}
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "== installing ${need_apt[*]} with apt-get (a few minutes on a fresh machine: QGIS brings some 300 packages)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends \
    -o Dpkg::Use-Pty=0 "${need_apt[@]}" | apt_progress
fi

venv="${TESSERA_TEST_VENV:-$PWD/.venv}"
if ! "$venv/bin/python" -c "import openapi_spec_validator, owslib, pyogrio, schemathesis, pmtiles" 2>/dev/null; then
  echo "== creating the test venv in $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --progress-bar off "openapi-spec-validator>=0.7" "OWSLib>=0.30" "pyogrio>=0.10" \
    "schemathesis==4.32.5" "pmtiles>=3.4" | awk '/^Collecting/ {print "   " $0; fflush()} /^Successfully installed/ {print "   installed " NF - 2 " packages"}'

fi
export TESSERA_TEST_VENV="$venv"

# MapLibre's style validator and the MVT fixtures, from npm.
node_dir="${TESSERA_TEST_NODE:-$PWD/.node}"
if [ ! -x "$node_dir/node_modules/.bin/gl-style-validate" ] || [ ! -d "$node_dir/node_modules/@mapbox/mvt-fixtures/fixtures" ] ||
  [ ! -d "$node_dir/node_modules/playwright-core" ]; then
  command -v npm >/dev/null || need_npm=1
  if [ -n "${need_npm:-}" ]; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    echo "== installing npm with apt-get"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -o Dpkg::Use-Pty=0 npm | apt_progress
  fi
  echo "== installing the MapLibre style validator, the MVT fixtures and playwright-core in $node_dir"
  mkdir -p "$node_dir"
  npm install --prefix "$node_dir" --no-audit --no-fund --silent \
    @maplibre/maplibre-gl-style-spec@20.4.0 @mapbox/mvt-fixtures@4.0.0 playwright-core@1.64.1
fi
export TESSERA_TEST_NODE="$node_dir"

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy -j2 --all-targets -- -D warnings
echo "== cargo test (the first build compiles every dependency: about 10 minutes on 2 cores)"
cargo test -j2 --all-targets
