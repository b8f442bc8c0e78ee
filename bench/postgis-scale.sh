#!/usr/bin/env bash
# The PostGIS store against the GeoPackage store at scale, on the project's synthetic
# territories: import (parcels, owners, QPV, sub-sectors), shares over every sub-sector and
# QPV, and the snapshot build and resident memory of a server per département.
#
#   bench/postgis-scale.sh PARCELS_PER_DEPARTEMENT DEP[,DEP…] [WORK_DIR]
#   bench/postgis-scale.sh 1000000 78            # 1M parcels, one département
#   bench/postgis-scale.sh 1000000 75,78,91,92,93  # 5M parcels
#
# Uses target/release/domania and a throwaway cluster (tools/postgres/cluster, port 54331).
# Prints one line per measure: `measure<TAB>seconds<TAB>peak KB` (GNU time).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:?PARCELS_PER_DEPARTEMENT}
deps=${2:?DEP,DEP}
work=${3:-/tmp/domania-scale}
bin=target/release/domania
[ -x "$bin" ] || cargo build --release
admin=$(tools/postgres/cluster start bench 54331)
db="scale_$(echo "$deps" | tr ',' '_' | tr '[:upper:]' '[:lower:]')_$n"
pg="${admin%/postgres}/$db"
gpkg="$work/$db.gpkg"
mkdir -p "$work"
psql -q "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
rm -f "$gpkg" "$gpkg.lock" "$gpkg-journal"

measure() { # NAME COMMAND…
  local name=$1
  shift
  /usr/bin/time -o "$work/time" -f "%e %M" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
  read -r s kb <"$work/time"
  printf '%s\t%s\t%s\n' "$name" "$s" "$kb"
}

synth="$work/synth-$db"
if [ ! -f "$synth/territory.toml" ]; then
  measure "synth" "$bin" synth --parcels "$n" --seed 1 --departements "$deps" --out "$synth"
fi
IFS=, read -r -a list <<<"$deps"
for store in "$gpkg" "$pg"; do
  engine=$([ "$store" = "$gpkg" ] && echo gpkg || echo postgis)
  for d in "${list[@]}"; do
    measure "$engine import parcels $d" "$bin" --store "$store" import parcels "$synth/$d/cadastre-synth-parcelles.json"
    measure "$engine import owners $d" "$bin" --store "$store" import owners "$synth/$d/ppm-synth.csv"
  done
  measure "$engine import qpv" "$bin" --store "$store" import qpv "$synth/qpv-synth.geojson"
  measure "$engine import subsectors" "$bin" --store "$store" import subsectors "$synth/subsectors-synth.geojson"
  measure "$engine shares subsectors" "$bin" --store "$store" --config "$synth/territory.toml" shares
  measure "$engine shares qpv" "$bin" --store "$store" --config "$synth/territory.toml" shares --zones qpv
done
printf 'postgis database bytes\t%s\n' "$(psql -qAt "$admin" -c "SELECT pg_database_size('$db')")"
printf 'gpkg file bytes\t%s\n' "$(stat -c %s "$gpkg")"

# A server per département: its snapshot build and resident memory once ready.
for store in "$gpkg" "$pg"; do
engine=$([ "$store" = "$gpkg" ] && echo gpkg || echo postgis)
for d in "${list[@]}"; do
  "$bin" --store "$store" --reports "$work/reports.sqlite" --config "$synth/territory.toml" serve --bind 127.0.0.1:0 \
    --part "departement=$d" >"$work/serve.out" 2>"$work/serve.err" &
  pid=$!
  for _ in $(seq 1 600); do grep -q "http://" "$work/serve.out" 2>/dev/null && break; sleep 0.2; done
  url=$(head -1 "$work/serve.out" | grep -o 'http://[0-9.:]*')
  v=$(curl -s "$url/v1/version")
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  printf '%s serve part %s\tbuild_ms %s\tparcels %s\tRSS KB %s\n' "$engine" "$d" \
    "$(echo "$v" | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["build_ms"]))')" \
    "$(echo "$v" | python3 -c 'import json,sys; print(json.load(sys.stdin)["parcels"])')" "$rss"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
done
done
