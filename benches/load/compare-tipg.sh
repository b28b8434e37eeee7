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

DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15-postgis-3 gdal-bin wrk >/dev/null
cargo build --release -j2 --example parcels --bin tessera
[ -f "$DATA" ] || ./target/release/examples/parcels "$DATA" "$N"

mkdir -p "$WORK" && chown postgres "$WORK"
PG=/usr/lib/postgresql/15/bin
if [ ! -d "$WORK/db" ]; then
  su postgres -c "$PG/initdb -D $WORK/db -A trust -U postgres" >/dev/null
fi
su postgres -c "$PG/pg_ctl -D $WORK/db -o '-p 5433 -k /tmp -c shared_buffers=1GB' -l $WORK/pg.log start" >/dev/null
trap 'su postgres -c "$PG/pg_ctl -D $WORK/db stop" >/dev/null; kill $(jobs -p) 2>/dev/null || true' EXIT
sleep 2
if ! psql -h /tmp -p 5433 -U postgres -d bench -c "select 1 from particelle limit 1" >/dev/null 2>&1; then
  psql -h /tmp -p 5433 -U postgres -c "create database bench" >/dev/null
  psql -h /tmp -p 5433 -U postgres -d bench -c "create extension postgis" >/dev/null
  ogr2ogr -f PostgreSQL "PG:host=/tmp port=5433 user=postgres dbname=bench" "$DATA" -nln particelle \
    -lco GEOMETRY_NAME=geom -lco FID=id -gt 65536
  psql -h /tmp -p 5433 -U postgres -d bench -c "vacuum analyze particelle" >/dev/null
fi

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
