#!/usr/bin/env bash
# One département's version, as the servers of the others see it: the synthetic territory of
# bench/national-5m.sh (five départements in one PostGIS database, loaded by it), a server per
# département (`serve --part departement=D`, each reading or building its snapshot file), then an
# upload of one commune of the first département through its server (one parcel fewer). For each
# server: how long the upload took to answer (the first), whether it rebuilt, its snapshot's tag
# and parcels' version before and 20 s after, and its peak memory from the upload on. With
# LAYER=owners, the commune's owners instead (its lines of the PPM file, one right P left out at
# random) to `POST /v1/layers/owners`.
#
#   [LAYER=owners] BIN=target/release/domania bench/national-follow.sh [PARCELS_PER_DEPARTEMENT] [DEP,DEP…] [WORK_DIR]
#
# Run bench/national-5m.sh first (with LOAD_ONLY=1: it loads the territory once per WORK_DIR).
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
synth="$work/synth-$db"
[ -f "$work/$db.loaded" ] || { echo "load the territory first: LOAD_ONLY=1 bench/national-5m.sh $n $deps $work" >&2; exit 1; }
IFS=, read -r -a list <<<"$deps"
snapdir="$work/snapshots"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT

version() { curl -s "http://127.0.0.1:$1/v1/version" | python3 -c 'import json,sys; v=json.load(sys.stdin); print(v["snapshot"].split(";")[0], "parcels:", v["layers"].get("parcels"))'; }

for i in "${!list[@]}"; do
    d=${list[$i]}
    port=$((18100 + i))
    t0=$(date +%s.%N)
    DOMANIA_SNAPSHOT_DIR=$snapdir RUST_LOG=info "$bin" --store "$pg" --reports "$work/reports.sqlite" \
        --config "$synth/territory.toml" serve --rules "$rules" --part "departement=$d" \
        --bind 127.0.0.1:$port >"$work/follow-$d.out" 2>"$work/follow-$d.err" &
    pids+=($!)
    until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v1/version")" = 200 ]; do
        kill -0 "${pids[$i]}" 2>/dev/null || { cat "$work/follow-$d.err" >&2; exit 1; }
        sleep 0.1
    done
    # A server that built its snapshot writes its file in the background: wait for it.
    if grep -q "snapshot file not read" "$work/follow-$d.err"; then
        until grep -q "snapshot file written" "$work/follow-$d.err"; do sleep 0.2; done
    fi
    printf 'part %s ready in %.1f s (%s)\n' "$d" "$(echo "$(date +%s.%N) - $t0" | bc)" \
        "$(grep -q 'snapshot file read' "$work/follow-$d.err" && echo 'file read' || echo built)"
done
sleep 3
for i in "${!list[@]}"; do
    echo 5 >"/proc/${pids[$i]}/clear_refs"
    printf 'before: part %s\t%s\t%s KB\n' "${list[$i]}" "$(version $((18100 + i)))" \
        "$(awk '/VmRSS/ {print $2}' "/proc/${pids[$i]}/status")"
done

d=${list[0]}
layer=${LAYER:-parcels}
if [ "$layer" = owners ]; then
    python3 - "$synth/$d/ppm-synth.csv" "$work/commune.csv" <<'EOF'
import random, sys
lines = open(sys.argv[1], "rb").read().split(b"\n")
head, rows = lines[0], [l for l in lines[1:] if l]
key = lambda l: l.split(b";")[:3]
first = key(rows[0])
mine = [l for l in rows if key(l) == first]
gone = random.choice([i for i, l in enumerate(mine) if b";P - " in l])
del mine[gone]
open(sys.argv[2], "wb").write(b"\n".join([head] + mine) + b"\n")
print(f"update: the owners of commune {first}, {len(mine)} lines posted (one right P left out)")
EOF
    posted=$work/commune.csv type=text/csv query='?scope=commune'
else
python3 - "$synth/$d/cadastre-synth-parcelles.json" "$work/commune.json" <<'EOF'
import json, random, sys
fc = json.load(open(sys.argv[1]))
first = fc["features"][0]["properties"]["id"][:5]
mine = [f for f in fc["features"] if f["properties"]["id"].startswith(first)]
gone = mine.pop(random.randrange(len(mine)))
json.dump({"type": "FeatureCollection", "features": mine}, open(sys.argv[2], "w"))
print(f"update: commune {first}, {len(mine)} parcels posted ({gone['id']} left out)")
EOF
    posted=$work/commune.json type=application/geo+json query=''
fi
secret=$("$bin" --store "$pg" token create --name "follow-$$" --role editor 2>/dev/null)
curl -s -o "$work/update.json" -w 'update answered %{http_code} after %{time_total} s\n' \
    -H "Authorization: Bearer $secret" -H "Content-Type: $type" \
    --data-binary @"$posted" "http://127.0.0.1:18100/v1/layers/$layer$query"
"$bin" --store "$pg" token revoke "follow-$$" >/dev/null 2>&1 || true
sleep 20
for i in "${!list[@]}"; do
    d=${list[$i]}
    rebuilt=$(grep -c "a new version written elsewhere is served" "$work/follow-$d.err" || true)
    took=$(grep "a new version written elsewhere is served" "$work/follow-$d.err" | grep -o 'ms=[0-9.]*' | tail -1 || true)
    judged=$(grep "change nothing of the part served" "$work/follow-$d.err" | grep -o 'ms=[0-9.]*' | tail -1 || true)
    swapped=$(grep -E "snapshot swapped|owners alone" "$work/follow-$d.err" | tail -1 | grep -oE 'owners alone|build_ms=[0-9.]*' | tr '\n' ' ' || true)
    printf 'after:  part %s\t%s\trebuilt by the follower: %s %s\tjudged not reached: %s\tlast swap: %s\tpeak %s KB\n' "$d" \
        "$(version $((18100 + i)))" "$rebuilt" "$took" "${judged:-no}" "${swapped:-none}" "$(awk '/VmHWM/ {print $2}' "/proc/${pids[$i]}/status")"
done
