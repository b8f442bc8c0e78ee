#!/usr/bin/env bash
# Whole-command `domania shares` against the PostGIS queries alone, in one run on one machine:
# Paris 18e with the project's 6 x 4 grid, Paris 18e with 24 partial sub-sectors (paris-grid.py
# --partial), and a synthetic territory (default 200,000 parcels, seed 11 as in TARGETS.md). Each
# binary given is timed on the same stores (e.g. the commit before a change and after it), first
# as a store stands after its imports, then with the snapshot file a server wrote beside it
# (`domania serve` started until the file is there: a shares command reads the sub-sectors'
# shares from its beginning; a binary that writes no such file is timed once).
# Needs: postgresql-15-postgis-3, gdal-bin, hyperfine.
# Usage: bench/shares-vs-postgis.sh [PARCELS] -- BIN [BIN…]   (default BIN: target/release/domania)
set -euo pipefail
# ogr2ogr warnings go to standard error; a failing step stops the script with its message.
here=$(cd "$(dirname "$0")" && pwd)
data=${DOMANIA_DATA:-$here/../../shared/data}
n=200000
if [ "${1:-}" != "" ] && [ "$1" != "--" ]; then n=$1; shift; fi
[ "${1:-}" = "--" ] && shift
bins=("$@"); [ ${#bins[@]} -eq 0 ] && bins=("$here/../target/release/domania")
work=$(mktemp -d); chmod 755 "$work"; mkdir "$work/pg"; chown postgres "$work/pg" "$work"
trap 'su postgres -c "/usr/lib/postgresql/15/bin/pg_ctl -D $work/pg stop -m fast" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
su postgres -c "/usr/lib/postgresql/15/bin/initdb -D $work/pg -A trust" >/dev/null
su postgres -c "/usr/lib/postgresql/15/bin/pg_ctl -D $work/pg -o '-k $work -p 54329 -c listen_addresses=' -l $work/pg.log start -w" >/dev/null
PG="host=$work port=54329 user=postgres"
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# setup NAME PARCELS_FILE PPM_FILE SUBSECTORS_FILE: a database and a store holding the same data.
setup() {
  local name=$1 parcels=$2 ppm=$3 subsectors=$4
  psql "$PG dbname=postgres" -qc "CREATE DATABASE $name" >/dev/null
  psql "$PG dbname=$name" -qc "CREATE EXTENSION postgis" >/dev/null
  ogr2ogr -f PostgreSQL "PG:$PG dbname=$name" "$parcels" -nln parcels -t_srs EPSG:2154 -lco GEOMETRY_NAME=geom -nlt MULTIPOLYGON
  ogr2ogr -f PostgreSQL "PG:$PG dbname=$name" "$subsectors" -nln subsectors -t_srs EPSG:2154 -lco GEOMETRY_NAME=geom -nlt MULTIPOLYGON
  ogr2ogr -f PostgreSQL "PG:$PG dbname=$name" "$ppm" -nln ppm -lco LAUNDER=NO -oo AUTODETECT_TYPE=NO
  psql "$PG dbname=$name" -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE owners AS
  SELECT DISTINCT "Département" || lpad("Code Commune", 3, '0') || coalesce(nullif("Préfixe", ''), '000')
         || lpad("Section", 2, '0') || lpad("N° plan", 4, '0') AS idu,
         "N° SIREN - par" AS siren, "Dénomination - par" AS name
  FROM ppm WHERE "Code droit - par" LIKE 'P%';
CREATE INDEX ON owners (idu);
VACUUM ANALYZE;
SQL
  local store="$work/$name.gpkg"
  "${bins[0]}" --store "$store" import parcels "$parcels" >/dev/null
  "${bins[0]}" --store "$store" import owners "$ppm" >/dev/null
  "${bins[0]}" --store "$store" import subsectors "$subsectors" >/dev/null
}

q_owners='WITH pieces AS (SELECT s.id AS sid, p.id AS idu, ST_Area(ST_Intersection(p.geom, s.geom)) AS a
  FROM parcels p JOIN subsectors s ON ST_Intersects(p.geom, s.geom))
SELECT sid, o.siren, o.name, count(*), sum(a) FROM pieces LEFT JOIN owners o USING (idu) GROUP BY 1, 2, 3'
q_rest='SELECT s.id, ST_Area(s.geom) - ST_Area(ST_Union(ST_Intersection(p.geom, s.geom)))
  FROM subsectors s JOIN parcels p ON ST_Intersects(p.geom, s.geom) GROUP BY s.id, s.geom'
time_q() { for _ in 1 2 3 4 5; do psql "$PG dbname=$1" -qAt -c '\timing on' -c "$2" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p'; done | median; }

run() {
  local name=$1 label=$2
  local t1 t2; t1=$(time_q "$name" "$q_owners"); t2=$(time_q "$name" "$q_rest")
  local pg; pg=$(python3 -c "print(round($t1 + $t2, 1))")
  echo "| $label | PostGIS queries alone | $pg ms ($t1 + $t2) | |"
  for b in "${bins[@]}"; do
    rm -f "$work/$name.gpkg.snapshot"
    time_shares "$b" "$label" "$pg" "$name" ""
    # A server writes the snapshot file once it serves; then the command reads it.
    "$b" --store "$work/$name.gpkg" serve --bind 127.0.0.1:18099 >/dev/null 2>&1 & local pid=$!
    for _ in $(seq 600); do [ -f "$work/$name.gpkg.snapshot" ] && break; sleep 0.1; done
    kill "$pid"; wait "$pid" 2>/dev/null || true
    if [ -f "$work/$name.gpkg.snapshot" ]; then time_shares "$b" "$label" "$pg" "$name" ", snapshot file"; rm "$work/$name.gpkg.snapshot"; fi
  done
}

# time_shares BIN LABEL POSTGIS_MS STORE_NAME WHAT: one row, the median of RUNS whole commands.
time_shares() {
  hyperfine -N -w 2 -r "${RUNS:-15}" --export-json "$work/h.json" "$1 --store $work/$4.gpkg shares --format csv" >/dev/null 2>&1
  local d; d=$(python3 -c "import json;print(round(json.load(open('$work/h.json'))['results'][0]['median']*1000,1))")
  echo "| $2 | $1$5 | $d ms | $(python3 -c "print(f'{$3 / $d:.1f}x')") |"
}

python3 "$here/paris-grid.py" "$work/grid.geojson"
python3 "$here/paris-grid.py" "$work/partial.geojson" --partial
"${bins[0]}" synth --parcels "$n" --seed "${SEED:-11}" --out "$work/synth" >/dev/null
paris="$data/cadastre-75118-parcelles.json"; ppm="$data/dgfip_pm/PM_25_NB_750_part_003.csv"
setup grid "$paris" "$ppm" "$work/grid.geojson" 2>/dev/null
setup partial "$paris" "$ppm" "$work/partial.geojson" 2>/dev/null
setup synth "$work/synth/cadastre-synth-parcelles.json" "$work/synth/ppm-synth.csv" "$work/synth/subsectors-synth.geojson" 2>/dev/null
echo "| territory | what | median | PostGIS / it |"
echo "|---|---|---|---|"
run grid "Paris 18e, 6 × 4 grid"
run partial "Paris 18e, 24 partial sub-sectors"
run synth "synthetic, $n parcels"
