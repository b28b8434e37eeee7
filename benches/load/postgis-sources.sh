#!/usr/bin/env bash
# PostGIS layers served by tessera against Martin (tiles) and TiPg (items): the same database
# (1,000,000 parcels and 500,000 buildings from `examples/territorio`), the same machine, one
# run. Tiles: a fixed list of about 2,000 tiles such as a map user panning asks for (z6-z14, 80 %
# at z12-14), both layers in each tile, wrk at concurrency 16 and 64, cache off (every tile made)
# and on (after a warm-up pass), gzip accepted; requests/s, p50 and p99; the largest tile of each
# server at each zoom; tessera twice, with its engine (the default) and with `tiles = "st_asmvt"`
# (PostGIS makes the tiles), cache off. Items: pages of 100 and 1,000 on random boxes, TiPg with 1 and 2 workers.
# Not part of the test suite: it installs PostgreSQL/PostGIS, wrk and TiPg, and needs a `martin`
# binary (MARTIN=path; `cargo install martin --locked --no-default-features --features postgres`).
# Run from the repository root, as root. DURATION (default 20s) is each measurement's length.
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=${TMPDIR:-/tmp}/tessera-postgis-sources
LAYERS=target/bench-data/territorio
DURATION=${DURATION:-20s}
MARTIN=${MARTIN:-martin}
command -v "$MARTIN" >/dev/null || { echo "no martin binary: set MARTIN=/path/to/martin"; exit 1; }

cargo build --release -j2 --example territorio --bin tessera
[ -f "$LAYERS/edifici.fgb" ] || ./target/release/examples/territorio "$LAYERS" 1000000 500000 0
DATA=$LAYERS/particelle.fgb
source benches/load/postgis.sh
DB="postgresql://postgres@127.0.0.1:5433/bench"
if ! psql -h /tmp -p 5433 -U postgres -d bench -c "select 1 from edifici limit 1" >/dev/null 2>&1; then
  ogr2ogr -f PostgreSQL "PG:host=/tmp port=5433 user=postgres dbname=bench" "$LAYERS/edifici.fgb" \
    -nln edifici -lco GEOMETRY_NAME=geom -lco FID=id -gt 65536
  psql -h /tmp -p 5433 -U postgres -d bench -c "vacuum analyze edifici" >/dev/null
fi
./target/release/tessera db init "$DB" >/dev/null   # change triggers: tiles follow edits
[ -x "$WORK/venv/bin/uvicorn" ] || { python3 -m venv "$WORK/venv"; "$WORK/venv/bin/pip" install -q tipg uvicorn; }

# The tiles: every tile over Tuscany at z6-z9, 300 at z10-11 and the blocks around twelve towns
# at z12-14, as panning asks for them (fixed seed: the same list every run).
python3 - "$WORK/tiles.txt" <<'PY'
import math, random, sys
random.seed(65)
def tile(z, lon, lat):
    k = 2 ** z
    r = math.radians(lat)
    return int((lon + 180) / 360 * k), int((1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * k)
towns = [(11.2558, 43.7696), (10.4017, 43.7228), (11.1139, 42.7635), (10.1417, 44.0354),
         (11.8798, 43.4633), (11.3308, 43.3188), (10.3150, 43.5485), (10.9170, 43.8780),
         (10.5030, 43.8430), (11.0990, 43.8810), (10.6080, 43.3010), (11.6130, 43.5650)]
low = []
for z in range(6, 12):
    (x0, y0), (x1, y1) = tile(z, 9.7, 44.5), tile(z, 12.4, 42.2)
    low += [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
low = [t for t in low if t[0] < 10] + random.sample([t for t in low if t[0] >= 10], 300)
high = set()
for z in (12, 13, 14):
    for lon, lat in towns:
        x, y = tile(z, lon, lat)
        r = {12: 3, 13: 3, 14: 4}[z]
        high |= {(z, x + dx, y + dy) for dx in range(-r, r + 1) for dy in range(-r // 2 - 1, r // 2 + 2)}
high = sorted(high)
tiles = low + random.sample(high, min(len(high), 4 * len(low)))
random.shuffle(tiles)
with open(sys.argv[1], "w") as f:
    for z, x, y in tiles:
        f.write(f"{z} {x} {y}\n")
print(f"{len(tiles)} tiles, {sum(1 for t in tiles if t[0] >= 12) / len(tiles):.0%} at z12-14")
PY
awk '{print "/tiles/WebMercatorQuad/" $1 "/" $3 "/" $2 "?collections=particelle,edifici"}' "$WORK/tiles.txt" >"$WORK/tessera.paths"
awk '{print "/particelle,edifici/" $1 "/" $2 "/" $3}' "$WORK/tiles.txt" >"$WORK/martin.paths"

start_tessera() { # cache MB; waits until both tables' boxes are in memory (a few seconds)
  TESSERA_TILE_CACHE_MB=$1 RUST_LOG=warn,tessera::source::postgis=info ./target/release/tessera \
    serve --bind 127.0.0.1:8095 "$DB" >"$WORK/tessera.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 60); do
    [ "$(grep -c 'boxes in memory' "$WORK/tessera.log")" -ge 2 ] && break
    sleep 1
  done
}
# The same tables with their tiles made by PostGIS (`tiles = "st_asmvt"`).
printf '[[databases]]\nid = "bench"\nurl = "%s"\npreviews = true\ntiles = "st_asmvt"\n' "$DB" >"$WORK/st_asmvt.toml"
start_st_asmvt() { # cache MB
  TESSERA_TILE_CACHE_MB=$1 RUST_LOG=warn ./target/release/tessera \
    serve --bind 127.0.0.1:8095 --config "$WORK/st_asmvt.toml" >"$WORK/tessera.log" 2>&1 &
  SERVER=$!
  sleep 4
}
start_martin() { # cache MB
  RUST_LOG=warn "$MARTIN" --listen-addresses 127.0.0.1:8096 --cache-size "$1" "$DB" >"$WORK/martin.log" 2>&1 &
  SERVER=$!
  sleep 4
}
measure() { # name port paths concurrency
  local out
  out=$(wrk -t2 -c"$4" -d"$DURATION" --timeout 60s --latency -s benches/load/tiles.lua \
    "http://127.0.0.1:$2" -- "$WORK/$3")
  printf '%-8s c=%-3s %9s req/s  p50 %8s  p99 %8s  errors %s\n' "$1" "$4" \
    "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
    "$(awk '$1 == "50%" {print $2}' <<<"$out")" "$(awk '$1 == "99%" {print $2}' <<<"$out")" \
    "$(awk '/Non-2xx|Socket errors/ {printf "%s ", $0}' <<<"$out")"
}
warm() { # port paths: every tile once, four at a time
  python3 - "http://127.0.0.1:$1" "$WORK/$2" <<'PY'
import sys, urllib.request, urllib.error, concurrent.futures
def get(path):
    try:
        urllib.request.urlopen(sys.argv[1] + path, timeout=120).read()
    except urllib.error.HTTPError:
        pass
paths = [l.strip() for l in open(sys.argv[2])]
with concurrent.futures.ThreadPoolExecutor(4) as pool:
    list(pool.map(get, paths))
PY
}
biggest() { # name url-template: the largest tile of the list at each zoom, uncompressed
  python3 - "$WORK/tiles.txt" "$1" "$2" <<'PY'
import sys, urllib.request, urllib.error, collections
big = collections.defaultdict(int)
for line in open(sys.argv[1]):
    z, x, y = map(int, line.split())
    try:
        big[z] = max(big[z], len(urllib.request.urlopen(sys.argv[3].format(z=z, x=x, y=y)).read()))
    except urllib.error.HTTPError:
        pass
print(f"{sys.argv[2]:<8}", " ".join(f"z{z}:{big[z] // 1000}KB" for z in sorted(big)))
PY
}

echo "== tiles, cache off (every tile made)"
for c in 16 64; do
  start_tessera 0; measure tessera 8095 tessera.paths "$c"; kill $SERVER; wait $SERVER 2>/dev/null || true
  start_st_asmvt 0; measure st_asmvt 8095 tessera.paths "$c"; kill $SERVER; wait $SERVER 2>/dev/null || true
  start_martin 0; measure martin 8096 martin.paths "$c"; kill $SERVER; wait $SERVER 2>/dev/null || true
done
echo "== tiles, cache on (after a warm-up pass)"
start_tessera 4096; warm 8095 tessera.paths
for c in 16 64; do measure tessera 8095 tessera.paths "$c"; done
echo "== largest tile by zoom (uncompressed)"
biggest tessera "http://127.0.0.1:8095/tiles/WebMercatorQuad/{z}/{y}/{x}?collections=particelle,edifici"
kill $SERVER; wait $SERVER 2>/dev/null || true
start_st_asmvt 0
biggest st_asmvt "http://127.0.0.1:8095/tiles/WebMercatorQuad/{z}/{y}/{x}?collections=particelle,edifici"
kill $SERVER; wait $SERVER 2>/dev/null || true
start_martin 4096; warm 8096 martin.paths
for c in 16 64; do measure martin 8096 martin.paths "$c"; done
biggest martin "http://127.0.0.1:8096/particelle,edifici/{z}/{x}/{y}"
kill $SERVER; wait $SERVER 2>/dev/null || true

echo "== items, random boxes around the towns (pages/s)"
start_tessera 0
for args in "100 0.03" "1000 0.12"; do
  printf 'tessera   limit/box %-9s ' "$args"
  wrk -t2 -c16 -d"$DURATION" --timeout 30s -s benches/load/random_bbox.lua http://127.0.0.1:8095 -- particelle $args | grep Requests/sec
done
for p in 1 100 1000; do
  curl -s -o /dev/null -w "tessera   page $p by next links: %{time_total} s\n" \
    "http://127.0.0.1:8095/collections/particelle/items?limit=100&offset=$(((p - 1) * 100))&cursor=$(((p - 1) * 100))"
done
kill $SERVER; wait $SERVER 2>/dev/null || true
for workers in 1 2; do
  (cd "$WORK" && DATABASE_URL="$DB" exec "$WORK/venv/bin/uvicorn" tipg.main:app --host 127.0.0.1 \
    --port 8081 --workers "$workers" >"$WORK/tipg.log" 2>&1) &
  SERVER=$!
  sleep 10
  for args in "100 0.03" "1000 0.12"; do
    printf 'tipg(%s)   limit/box %-9s ' "$workers" "$args"
    wrk -t2 -c16 -d"$DURATION" --timeout 30s -s benches/load/random_bbox.lua http://127.0.0.1:8081 -- public.particelle $args | grep Requests/sec
  done
  pkill -f "tipg.main:app" || true; sleep 2
done
