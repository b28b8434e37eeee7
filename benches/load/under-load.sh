#!/usr/bin/env bash
# Cold tiles under heavy load: resident memory and latency of tessera, and Martin's latency on
# the same tiles in the same run. For each server and each concurrency (64 and 192 clients) a
# fresh process serves z12-14 parcel tiles that no client asked for before (a shuffled list of
# every tile over the layer's extent, walked once in order, gzip accepted), for $DURATION (8 s:
# shorter than the list lasts) or until the list runs out; its
# RSS is read every 0.2 s during the load and for 30 s after it. Prints req/s, p50/p99 latency,
# 503s, peak RSS and RSS 30 s after the load ended.
#
#   benches/load/under-load.sh                    # this checkout's tessera
#   TESSERA_BINS="old=/path/a new=/path/b" ...    # several tessera builds, side by side
#   MARTIN=/path/to/martin ...                    # Martin too (PostGIS set up by postgis.sh)
#
# Not part of the test suite. Run from the repository root, as root (or with sudo).
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${TESSERA_BENCH_PARCELS:-1000000}
DATA=target/bench-data/particelle_$N.fgb
WORK=${TMPDIR:-/tmp}/tessera-under-load
DURATION=${DURATION:-8s}
CLIENTS=${CLIENTS:-64 192}
CACHE_MB=${CACHE_MB:-256}
mkdir -p "$WORK"

cargo build --release -j2 --example parcels --bin tessera
[ -f "$DATA" ] || ./target/release/examples/parcels "$DATA" "$N"
TESSERA_BINS=${TESSERA_BINS:-"tessera=./target/release/tessera"}
if [ -n "${MARTIN:-}" ]; then
  source benches/load/postgis.sh
else
  command -v wrk >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
  trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
fi

# Every z12-14 tile over the layer's extent, in one shuffled order (fixed seed: every server gets
# the same sequence).
read -r W S E NN < <(ogrinfo -so -al "$DATA" 2>/dev/null | awk -F'[(), ]+' '/^Extent/ {print $2, $3, $5, $6}' ||
  echo "9.68 42.23 12.38 44.48")
python3 - "$W" "$S" "$E" "$NN" "$WORK/tiles.txt" <<'PY'
import math, random, sys
w, s, e, n = map(float, sys.argv[1:5])
def tile(z, lon, lat):
    k = 2 ** z
    r = math.radians(lat)
    return int((lon + 180) / 360 * k), int((1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * k)
tiles = []
for z in (12, 13, 14):
    x0, y0 = tile(z, w, n)
    x1, y1 = tile(z, e, s)
    tiles += [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
random.Random(20261202).shuffle(tiles)
with open(sys.argv[5], "w") as f:
    f.writelines(f"{z} {x} {y}\n" for z, x, y in tiles)
print(f"{len(tiles)} distinct tiles at z12-14")
PY
awk -v n="$N" '{print "/collections/particelle_" n "/tiles/WebMercatorQuad/" $1 "/" $3 "/" $2}' \
  "$WORK/tiles.txt" >"$WORK/tessera.txt"
awk '{print "/particelle/" $1 "/" $2 "/" $3}' "$WORK/tiles.txt" >"$WORK/martin.txt"

# wrk script: the list in order, once, from one thread (wrk -t1): no tile is asked twice, and
# the load stops when the list runs out (before $DURATION for a fast server).
cat >"$WORK/once.lua" <<'LUA'
local paths, i, answered = {}, 0, 0
function init(args) for line in io.lines(args[1]) do paths[#paths + 1] = line end end
function request()
  i = i % #paths + 1
  return wrk.format("GET", paths[i], { ["Accept-Encoding"] = "gzip" })
end
function response(status, headers, body)
  answered = answered + 1
  if answered >= #paths then wrk.thread:stop() end
end
function done(summary, latency, requests)
  io.write(string.format("RESULT %.0f %.1f %.1f %d %d\n", summary.requests / summary.duration * 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status, summary.requests))
end
LUA

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# run NAME PID URL LIST CLIENTS: the load, then 30 s of quiet; one line of figures.
run() {
  local name=$1 pid=$2 url=$3 list=$4 c=$5 peak=0 r
  (while kill -0 "$pid" 2>/dev/null; do rss_kb "$pid"; sleep 0.2; done) >"$WORK/rss-$name-$c.txt" &
  local sampler=$!
  local before; before=$(rss_kb "$pid")
  r=$(wrk -t1 -c"$c" -d"$DURATION" --timeout 10s -s "$WORK/once.lua" "$url" -- "$list" | awk '/^RESULT/ {print $2, $3, $4, $5, $6}')
  sleep 30
  local after; after=$(rss_kb "$pid")
  kill "$sampler" 2>/dev/null || true
  peak=$(sort -n "$WORK/rss-$name-$c.txt" | tail -1)
  read -r rate p50 p99 non2xx total <<<"$r"
  # wrk divides by the whole duration even when the list ran out before it.
  [ "$total" -lt "$(wc -l <"$list")" ] || rate="≥$rate"
  printf '%-10s c%-4s %6s req/s  p50 %7s ms  p99 %7s ms  non-2xx %6s/%-7s RSS %5d MB before, %5d MB peak, %5d MB 30 s after\n' \
    "$name" "$c" "$rate" "$p50" "$p99" "$non2xx" "$total" $((before / 1024)) $((peak / 1024)) $((after / 1024))
}

for c in $CLIENTS; do
  for entry in $TESSERA_BINS; do
    name=${entry%%=*}
    bin=${entry#*=}
    TESSERA_TILE_CACHE_MB=$CACHE_MB RUST_LOG=warn "$bin" serve --bind 127.0.0.1:8097 "$(realpath "$DATA")" >"$WORK/$name.log" 2>&1 &
    pid=$!
    sleep 4
    run "$name" "$pid" http://127.0.0.1:8097 "$WORK/tessera.txt" "$c"
    kill "$pid"; wait "$pid" 2>/dev/null || true
  done
  if [ -n "${MARTIN:-}" ]; then
    RUST_LOG=warn "$MARTIN" --listen-addresses 127.0.0.1:8098 \
      "postgresql://postgres@127.0.0.1:5433/bench" >"$WORK/martin.log" 2>&1 &
    pid=$!
    sleep 6
    run martin "$pid" http://127.0.0.1:8098 "$WORK/martin.txt" "$c"
    kill "$pid"; wait "$pid" 2>/dev/null || true
  fi
done
