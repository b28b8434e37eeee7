# Sourced by the comparison scripts: a scratch PostgreSQL/PostGIS on port 5433 (socket in /tmp)
# holding the parcel layer $DATA as table `particelle` (geometry column `geom`, id `id`), in
# $WORK/db. Stops the server on exit. Needs root (or sudo) for apt-get and `su postgres`.
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15-postgis-3 gdal-bin wrk >/dev/null
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
