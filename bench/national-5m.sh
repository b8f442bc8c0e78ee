#!/usr/bin/env bash
# A département's server at national scale, with its snapshot file: the synthetic territory of
# five départements (1M parcels each by default) in one PostGIS database, a server per
# département (`serve --part departement=D`) started twice — without its file (built from the
# database, then the file written), then with it (read) — ready time and resident memory each;
# then one server updated by an upload of one of its communes (one parcel fewer), timed end to
# end, with its peak memory.
#
#   bench/national-5m.sh [PARCELS_PER_DEPARTEMENT] [DEP,DEP…] [WORK_DIR]
#   bench/national-5m.sh 1000000 75,78,91,92,93
#
# Uses target/release/domania (BIN to change it) and a throwaway cluster (tools/postgres/cluster,
# port 54331); the territory is loaded once per WORK_DIR. Times are from the launch to the first
# answer of `/v1/version`.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
deps=${2:-75,78,91,92,93}
work=${3:-/tmp/domania-national}
bin=$(realpath "${BIN:-target/release/domania}")
rules=$(realpath data/rules.toml)
admin=$(tools/postgres/cluster start bench 54331)
db="national_$(echo "$deps" | tr ',' '_')_$n"
pg="${admin%/postgres}/$db"
mkdir -p "$work"
synth="$work/synth-$db"
IFS=, read -r -a list <<<"$deps"
if [ ! -f "$work/$db.loaded" ]; then
    [ -f "$synth/territory.toml" ] || "$bin" synth --parcels "$n" --seed 1 --departements "$deps" --out "$synth" >/dev/null
    psql -q "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
    for d in "${list[@]}"; do
        "$bin" --store "$pg" import parcels "$synth/$d/cadastre-synth-parcelles.json" >/dev/null
        "$bin" --store "$pg" import owners "$synth/$d/ppm-synth.csv" >/dev/null
    done
    "$bin" --store "$pg" import qpv "$synth/qpv-synth.geojson" >/dev/null
    "$bin" --store "$pg" import subsectors "$synth/subsectors-synth.geojson" >/dev/null
    touch "$work/$db.loaded"
fi
# LOAD_ONLY=1: the territory loaded, nothing measured (to measure later on a quiet machine).
[ -z "${LOAD_ONLY:-}" ] || exit 0
snapdir="$work/snapshots"
port=18097

# Starts a server of part $1 (in the background: $pid), waits until it answers; prints $2, the
# seconds and the resident KB.
start() {
    local t0
    t0=$(date +%s.%N)
    DOMANIA_SNAPSHOT_DIR=$snapdir RUST_LOG=info "$bin" --store "$pg" --reports "$work/reports.sqlite" \
        --config "$synth/territory.toml" serve --rules "$rules" --part "departement=$1" \
        --bind 127.0.0.1:$port >"$work/serve.out" 2>"$work/serve.err" &
    pid=$!
    until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v1/version")" = 200 ]; do
        kill -0 $pid 2>/dev/null || { cat "$work/serve.err" >&2; exit 1; }
        sleep 0.05
    done
    printf '%s\t%.2f s\t%s KB\n' "$2" "$(echo "$(date +%s.%N) - $t0" | bc)" "$(awk '/VmRSS/ {print $2}' /proc/$pid/status)"
}

stop() {
    kill $pid
    wait $pid 2>/dev/null || true
}

# UPDATE_ONLY=1: the starts are not measured again.
[ -n "${UPDATE_ONLY:-}" ] || rm -rf "$snapdir"
for d in "${list[@]}"; do
    [ -z "${UPDATE_ONLY:-}" ] || break
    start "$d" "part $d, no file (built):"
    until grep -q "snapshot file written" "$work/serve.err"; do sleep 0.2; done
    stop
    start "$d" "part $d, file current (read):"
    sleep 3
    printf 'part %s, 3 s later:\t%s KB\n' "$d" "$(awk '/VmRSS/ {print $2}' /proc/$pid/status)"
    stop
done
printf 'snapshot files: %s\n' "$(du -sh "$snapdir" | cut -f1)"

# An update through the server of the first part: its first commune, one parcel fewer (another
# one at each run, so that a second run changes the store too).
d=${list[0]}
python3 - "$synth/$d/cadastre-synth-parcelles.json" "$work/commune.json" <<'EOF'
import json, random, sys
fc = json.load(open(sys.argv[1]))
first = fc["features"][0]["properties"]["id"][:5]
mine = [f for f in fc["features"] if f["properties"]["id"].startswith(first)]
gone = mine.pop(random.randrange(len(mine)))
json.dump({"type": "FeatureCollection", "features": mine}, open(sys.argv[2], "w"))
print(f"update: commune {first}, {len(mine)} parcels posted ({gone['id']} left out)")
EOF
secret=$("$bin" --store "$pg" token create --name "bench-$$" --role editor 2>/dev/null)
start "$d" "part $d before the update:"
echo 5 >/proc/$pid/clear_refs
curl -s -o "$work/update.json" -w 'update answered %{http_code} after %{time_total} s: ' \
    -H "Authorization: Bearer $secret" -H 'Content-Type: application/geo+json' \
    --data-binary @"$work/commune.json" "http://127.0.0.1:$port/v1/layers/parcels"
python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))["version"]; print({k: v[k] for k in ("version", "unchanged", "added", "removed", "changed")})' "$work/update.json"
grep -E "VmHWM" /proc/$pid/status
sleep 5
printf '5 s later: %s KB\n' "$(awk '/VmRSS/ {print $2}' /proc/$pid/status)"
stop
"$bin" --store "$pg" token revoke "bench-$$" >/dev/null 2>&1 || true
