#!/usr/bin/env bash
# Vector tiles, tessera (FlatGeobuf, its own engine) against Martin (PostGIS ST_AsMVT), same
# parcels, same machine, same tiles, in one run: CPU per tile on a cold cache (every tile once,
# one at a time, server CPU read from /proc: for Martin, Martin's and PostgreSQL's), tile sizes,
# and warm-cache rates with gzip (wrk). Not part of the test suite: it installs PostgreSQL/PostGIS
# and wrk, and needs a `martin` binary (MARTIN=path; e.g. `cargo install martin@1.14.0`).
# Run from the repository root, as root (or with sudo).
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${TESSERA_BENCH_PARCELS:-1000000}
DATA=target/bench-data/particelle_$N.fgb
WORK=${TMPDIR:-/tmp}/tessera-vs-martin
DURATION=${DURATION:-10s}
MARTIN=${MARTIN:-martin}
command -v "$MARTIN" >/dev/null || { echo "no martin binary: set MARTIN=/path/to/martin"; exit 1; }

cargo build --release -j2 --example parcels --bin tessera
[ -f "$DATA" ] || ./target/release/examples/parcels "$DATA" "$N"
source benches/load/postgis.sh

RUST_LOG=warn ./target/release/tessera serve --bind 127.0.0.1:8095 "$DATA" >"$WORK/tessera.log" 2>&1 &
TESSERA=$!
RUST_LOG=warn "$MARTIN" --listen-addresses 127.0.0.1:8096 \
  "postgresql://postgres@127.0.0.1:5433/bench" >"$WORK/martin.log" 2>&1 &
MARTIN_PID=$!
sleep 6

python3 - "$N" "$WORK" "$TESSERA" "$MARTIN_PID" <<'PY'
import math, os, sys, time, urllib.request, subprocess
n, work, tessera, martin = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
towns = [(11.2558, 43.7696), (10.4017, 43.7228), (11.1139, 42.7635), (10.1417, 44.0354),
         (11.8798, 43.4633), (11.3308, 43.3188), (10.3150, 43.5485), (10.9170, 43.8780),
         (10.5030, 43.8430), (11.0990, 43.8810), (10.6080, 43.3010), (11.6130, 43.5650)]
def tile(z, lon, lat):
    k = 2 ** z
    r = math.radians(lat)
    return int((lon + 180) / 360 * k), int((1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * k)
tiles = sorted({(z, x + dx, y + dy) for z in (12, 13, 14) for lon, lat in towns
                for x, y in [tile(z, lon, lat)] for dx in (-1, 0, 1) for dy in (-1, 0, 1)})
def cpu(pids):
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in pids:
        try:
            f = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
            total += int(f[11]) + int(f[12])
        except FileNotFoundError:
            pass
    return total / tick
def postgres_pids():
    out = subprocess.run(["pgrep", "-u", "postgres", "postgres"], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]
servers = {
    "tessera": ("http://127.0.0.1:8095/collections/particelle_%s/tiles/WebMercatorQuad/{z}/{y}/{x}" % n, lambda: [tessera]),
    "martin": ("http://127.0.0.1:8096/particelle/{z}/{x}/{y}", lambda: [martin] + postgres_pids()),
}
result = {}
for name, (url, pids) in servers.items():
    sizes, slowest = {}, 0.0
    c0, t0 = cpu(pids()), time.time()
    for z, x, y in tiles:
        s = time.time()
        with urllib.request.urlopen(url.format(z=z, x=x, y=y)) as r:
            body = r.read()
        slowest = max(slowest, time.time() - s)
        sizes.setdefault(z, []).append(len(body))
    wall, used = time.time() - t0, cpu(pids()) - c0
    result[name] = used / len(tiles) * 1000
    print(f"{name:8} cold: {len(tiles)} tiles in {wall:.1f} s, CPU {used / len(tiles) * 1000:.2f} ms/tile, "
          f"slowest {slowest * 1000:.0f} ms; mean bytes " +
          ", ".join(f"z{z} {sum(v) // len(v)}" for z, v in sorted(sizes.items())))
    with open(os.path.join(work, f"{name}.txt"), "w") as f:
        for z, x, y in tiles:
            f.write("/" + url.format(z=z, x=x, y=y).split("/", 3)[3] + "\n")
print(f"CPU per tile, martin / tessera = {result['martin'] / result['tessera']:.1f}")
PY

rate() { wrk -t2 -c16 -d"$DURATION" -s benches/load/tiles.lua "$1" -- "$2" | awk '/Requests\/sec/ {print $2}'; }
T=$(rate http://127.0.0.1:8095 "$WORK/tessera.txt")
M=$(rate http://127.0.0.1:8096 "$WORK/martin.txt")
echo "warm, gzip: tessera $T req/s, martin $M req/s"
python3 -c "print(f'warm rate, tessera / martin = {$T / $M:.1f}')"
