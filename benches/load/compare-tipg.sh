#!/usr/bin/env bash
# Items pages per second over HTTP, tessera (FlatGeobuf) against TiPg (PostGIS), same data, same
# machine, same random bboxes. Not part of the test suite: it installs PostgreSQL/PostGIS, TiPg
# and wrk, and takes a few minutes. Run from the repository root, as root (or with sudo).
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${TESSERA_BENCH_PARCELS:-1000000}
DATA=target/bench-data/particelle_$N.fgb
WORK=${TMPDIR:-/tmp}/tessera-vs-tipg
DURATION=${DURATION:-15s}

cargo build --release -j2 --example parcels --bin tessera
[ -f "$DATA" ] || ./target/release/examples/parcels "$DATA" "$N"
source benches/load/postgis.sh

[ -x "$WORK/venv/bin/uvicorn" ] || { python3 -m venv "$WORK/venv"; "$WORK/venv/bin/pip" install -q tipg uvicorn; }
(cd "$WORK" && DATABASE_URL="postgresql://postgres@127.0.0.1:5433/bench" \
  exec "$WORK/venv/bin/uvicorn" tipg.main:app --host 127.0.0.1 --port 8081 --workers "${TIPG_WORKERS:-1}" >"$WORK/tipg.log" 2>&1) &
./target/release/tessera serve --bind 127.0.0.1:8099 "$DATA" >/dev/null 2>&1 &
sleep 8

for args in "100 0.03" "1000 0.12"; do
  for target in "tessera http://127.0.0.1:8099 particelle_$N" "tipg http://127.0.0.1:8081 public.particelle"; do
    set -- $target
    printf '%-8s limit/size %-9s ' "$1" "$args"
    wrk -t2 -c16 -d"$DURATION" --timeout 10s -s benches/load/random_bbox.lua "$2" -- "$3" $args | grep Requests/sec
  done
done
