#!/usr/bin/env bash
# The cost of a tile at each zoom, z4-z12, over the benchmark parcels (cache off, one client):
# for each tile, the fastest of 5 fetches from each server in turn, so that this machine's
# noise (up to 2x between runs) mostly cancels out. Prints ms per tile and KB per tile by zoom,
# and with two servers the ratio of the second to the first.
#
#   benches/load/low-zooms.sh                                  # this checkout's tessera
#   TESSERA_BINS="old=/path/a new=/path/b" benches/load/low-zooms.sh
#
# Not part of the test suite. Run from the repository root.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${TESSERA_BENCH_PARCELS:-1000000}
DATA=target/bench-data/particelle_$N.fgb
cargo build --release -j2 --example parcels --bin tessera
[ -f "$DATA" ] || ./target/release/examples/parcels "$DATA" "$N"
TESSERA_BINS=${TESSERA_BINS:-"tessera=./target/release/tessera"}
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
servers=()
port=8190
for b in $TESSERA_BINS; do
  TESSERA_TILE_CACHE_MB=0 "${b#*=}" serve --bind "127.0.0.1:$port" "$DATA" >/dev/null 2>&1 &
  servers+=("${b%%=*}=$port")
  port=$((port + 1))
done
sleep 4
python3 - "$DATA" "${servers[@]}" <<'PY'
import collections, math, os, random, sys, time, urllib.request
data, servers = sys.argv[1], [s.split("=") for s in sys.argv[2:]]
layer = os.path.basename(data)[:-4]
W, S, E, N = 9.722307, 42.319811, 12.295941, 44.466093   # the parcels' extent
def tile(z, lon, lat):
    n = 2 ** z
    r = math.radians(lat)
    return int((lon + 180) / 360 * n), int((1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * n)
random.seed(7)
tiles = []
for z in [4, 5, 6, 7, 8, 9, 10, 12]:
    (x0, y0), (x1, y1) = tile(z, W, N), tile(z, E, S)
    zs = [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
    tiles += random.sample(zs, min(len(zs), 25 if z < 12 else 100))
ms = {name: collections.defaultdict(float) for name, _ in servers}
kb = {name: collections.defaultdict(float) for name, _ in servers}
count = collections.Counter(z for z, _, _ in tiles)
for z, x, y in tiles:
    for name, port in servers:
        best, size = float("inf"), 0
        for _ in range(5):
            t = time.perf_counter()
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/collections/{layer}/tiles/WebMercatorQuad/{z}/{y}/{x}") as r:
                size = len(r.read())
            best = min(best, time.perf_counter() - t)
        ms[name][z] += best * 1000
        kb[name][z] += size / 1024
for z in sorted(count):
    n = count[z]
    row = [f"z{z:<2} {n:3} tiles"] + [f"{name} {ms[name][z] / n:6.1f} ms {kb[name][z] / n:5.0f} KB" for name, _ in servers]
    if len(servers) == 2:
        a, b = (ms[name][z] for name, _ in servers)
        row.append(f"{servers[1][0]}/{servers[0][0]} {b / a:.2f}")
    print("  ".join(row))
PY
