#!/usr/bin/env bash
# Cached tiles over HTTP: tessera (from its tile cache) against nginx serving the very same
# gzipped tiles as files with `gzip_static on`, same machine, same tiles, same client (wrk,
# gzip accepted), in one run. Not part of the test suite: it installs nginx and wrk. Run from the
# repository root, as root (or with sudo).
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${TESSERA_BENCH_PARCELS:-1000000}
DATA=target/bench-data/particelle_$N.fgb
WORK=${TMPDIR:-/tmp}/tessera-vs-nginx
DURATION=${DURATION:-10s}
Z=${ZOOM:-14}

command -v nginx >/dev/null && command -v wrk >/dev/null ||
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light wrk >/dev/null
cargo build --release -j2 --example parcels --bin tessera
[ -f "$DATA" ] || ./target/release/examples/parcels "$DATA" "$N"
rm -rf "$WORK" && mkdir -p "$WORK/root"

RUST_LOG=warn ./target/release/tessera serve --bind 127.0.0.1:8098 "$DATA" >"$WORK/tessera.log" 2>&1 &
TESSERA=$!
trap 'kill $TESSERA 2>/dev/null; [ -f "$WORK/nginx.pid" ] && kill $(cat "$WORK/nginx.pid") 2>/dev/null; true' EXIT
sleep 2
LAYER=particelle_$N
# 8 x 8 tiles of zoom $Z around Firenze: warm the cache, and copy each gzipped tile for nginx.
python3 - "$Z" "$LAYER" "$WORK" <<'PY'
import math, sys, urllib.request, os
z, layer, work = int(sys.argv[1]), sys.argv[2], sys.argv[3]
n = 2 ** z
x0 = int((11.2558 + 180) / 360 * n)
lat = math.radians(43.7696)
y0 = int((1 - math.log(math.tan(lat) + 1 / math.cos(lat)) / math.pi) / 2 * n)
paths, sizes = [], []
for y in range(y0 - 4, y0 + 4):
    for x in range(x0 - 4, x0 + 4):
        p = f"/collections/{layer}/tiles/WebMercatorQuad/{z}/{y}/{x}"
        req = urllib.request.Request("http://127.0.0.1:8098" + p, headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(req) as r:
            body = r.read()
            if r.status != 200 or r.headers.get("Content-Encoding") != "gzip":
                continue
        f = os.path.join(work, "root", p.lstrip("/")) + ".mvt"
        os.makedirs(os.path.dirname(f), exist_ok=True)
        open(f + ".gz", "wb").write(body)
        paths.append(p)
        sizes.append(len(body))
open(os.path.join(work, "tessera.txt"), "w").write("\n".join(paths) + "\n")
open(os.path.join(work, "nginx.txt"), "w").write("\n".join(p + ".mvt" for p in paths) + "\n")
print(f"{len(paths)} tiles at z{z}, gzip {min(sizes)}-{max(sizes)} B, mean {sum(sizes)//len(sizes)} B")
PY
cat >"$WORK/nginx.conf" <<CONF
worker_processes 2;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  types { application/vnd.mapbox-vector-tile mvt; }
  gzip_static on;
  server {
    listen 127.0.0.1:8097;
    root $WORK/root;
  }
}
CONF
nginx -c "$WORK/nginx.conf"
sleep 1
curl -s -o /dev/null -w 'nginx check: %{http_code} %{content_type} %header{content-encoding}\n' \
  -H 'Accept-Encoding: gzip' "http://127.0.0.1:8097$(head -1 "$WORK/nginx.txt")"

rate() { wrk -t2 -c16 -d"$DURATION" -s benches/load/tiles.lua "$1" -- "$2" | awk '/Requests\/sec/ {print $2}'; }
T=$(rate http://127.0.0.1:8098 "$WORK/tessera.txt")
G=$(rate http://127.0.0.1:8097 "$WORK/nginx.txt")
echo "tessera (tile cache, gzip): $T req/s"
echo "nginx (gzip_static files): $G req/s"
python3 -c "print(f'tessera / nginx = {$T / $G:.2f}')"
