#!/usr/bin/env bash
# Domania `shares` vs the equivalent PostGIS SQL on Paris 18e with 24 sub-sectors.
# Needs: postgresql-15-postgis-3, gdal-bin, hyperfine (Debian). Usage: bench/postgis-shares.sh
# Starts a throw-away PostgreSQL on a Unix socket in a temp dir, loads the same data (ogr2ogr),
# indexes it, then times the queries alone (psql \timing, median of 5) and Domania's whole
# command (hyperfine).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
data=${DOMANIA_DATA:-$here/../../shared/data}
bin=${DOMANIA_BIN:-$here/../target/release/domania}
work=$(mktemp -d); chmod 755 "$work"; mkdir "$work/pg"; chown postgres "$work/pg" "$work"
trap 'su postgres -c "/usr/lib/postgresql/15/bin/pg_ctl -D $work/pg stop -m fast" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
python3 "$here/paris-grid.py" "$work/grid.geojson"

su postgres -c "/usr/lib/postgresql/15/bin/initdb -D $work/pg -A trust" >/dev/null
su postgres -c "/usr/lib/postgresql/15/bin/pg_ctl -D $work/pg -o '-k $work -p 54329 -c listen_addresses=' -l $work/pg.log start -w" >/dev/null
PG="host=$work port=54329 user=postgres dbname=postgres"
psql "$PG" -qc "CREATE EXTENSION postgis" >/dev/null
ogr2ogr -f PostgreSQL "PG:$PG" "$data/cadastre-75118-parcelles.json" -nln parcels -t_srs EPSG:2154 -lco GEOMETRY_NAME=geom -nlt MULTIPOLYGON
ogr2ogr -f PostgreSQL "PG:$PG" "$work/grid.geojson" -nln subsectors -lco GEOMETRY_NAME=geom -nlt MULTIPOLYGON
ogr2ogr -f PostgreSQL "PG:$PG" "$data/dgfip_pm/PM_25_NB_750_part_003.csv" -nln ppm -lco LAUNDER=NO -oo AUTODETECT_TYPE=NO
psql "$PG" -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE owners AS
  SELECT DISTINCT '75' || lpad("Code Commune", 3, '0') || coalesce(nullif("Préfixe", ''), '000')
         || lpad("Section", 2, '0') || lpad("N° plan", 4, '0') AS idu,
         "N° SIREN - par" AS siren, "Dénomination - par" AS name
  FROM ppm WHERE "Code droit - par" LIKE 'P%';
CREATE INDEX ON owners (idu);
VACUUM ANALYZE;
SQL

q_owners='WITH pieces AS (SELECT s.id AS sid, p.id AS idu, ST_Area(ST_Intersection(p.geom, s.geom)) AS a
  FROM parcels p JOIN subsectors s ON ST_Intersects(p.geom, s.geom))
SELECT sid, o.siren, o.name, count(*), sum(a) FROM pieces LEFT JOIN owners o USING (idu) GROUP BY 1, 2, 3'
q_rest='SELECT s.id, ST_Area(s.geom) - ST_Area(ST_Union(ST_Intersection(p.geom, s.geom)))
  FROM subsectors s JOIN parcels p ON ST_Intersects(p.geom, s.geom) GROUP BY s.id, s.geom'
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_q() { for _ in 1 2 3 4 5; do psql "$PG" -qAt -c '\timing on' -c "$1" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p'; done | median; }
t1=$(time_q "$q_owners"); t2=$(time_q "$q_rest")
echo "PostGIS per-owner areas: ${t1} ms (median of 5); non-cadastré remainder: ${t2} ms"

store="$work/paris.gpkg"
"$bin" --store "$store" import parcels "$data/cadastre-75118-parcelles.json" >/dev/null
"$bin" --store "$store" import owners "$data/dgfip_pm/PM_25_NB_750_part_003.csv" >/dev/null
"$bin" --store "$store" import subsectors "$work/grid.geojson" >/dev/null
hyperfine -N -w 3 -r 30 --export-json "$work/h.json" "$bin --store $store shares --format csv" >/dev/null 2>&1
d=$(python3 -c "import json;print(round(json.load(open('$work/h.json'))['results'][0]['median']*1000,1))")
echo "Domania shares (whole command: load the store, classify, overlay, CSV): ${d} ms (median of 30)"
python3 -c "print(f'ratio: {($t1 + $t2) / $d:.1f}x (PostGIS queries alone / Domania whole command)')"
