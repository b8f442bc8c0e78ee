#!/usr/bin/env bash
# An update at a million parcels as a SIG officer makes it: one commune's parcels (one parcel
# fewer) posted to `POST /v1/layers/parcels` of a server of the synthetic territory, timed end to
# end (the answer comes once the new version is served), with the server's own split (import,
# rebuild) and its memory before, at its peak and after. With LAYER=owners, the commune's
# owners instead (its lines of the PPM file, one right fewer) to `POST /v1/layers/owners`.
#
# usage: [LAYER=owners] bench/update-1m.sh DIR [BIN]
#   DIR holds the territory of bench/whole-1m.sh (`s.gpkg`, `t/cadastre-synth-parcelles.json`);
#   the store is copied (DIR/update.gpkg) and the copy updated, never DIR/s.gpkg.
set -euo pipefail
dir=$(cd "$1" && pwd)
bin=$(realpath "${2:-target/release/domania}")
rules=$(realpath data/rules.toml)
port=${PORT:-18093}
cd "$dir"
if [ ! -f commune.json ]; then
    # The first commune's parcels, less its last one.
    python3 - <<'EOF'
import json
fc = json.load(open("t/cadastre-synth-parcelles.json"))
first = fc["features"][0]["properties"]["id"][:5]
mine = [f for f in fc["features"] if f["properties"]["id"].startswith(first)]
json.dump({"type": "FeatureCollection", "features": mine[:-1]}, open("commune.json", "w"))
print(f"commune {first}: {len(mine) - 1} parcels posted")
EOF
fi
layer=${LAYER:-parcels}
if [ "$layer" = owners ] && [ ! -f commune.csv ]; then
    # The first commune's lines of the owner file, less its first right P.
    python3 - <<'EOF'
lines = open("t/ppm-synth.csv", "rb").read().split(b"\n")
head, rows = lines[0], [l for l in lines[1:] if l]
key = lambda l: l.split(b";")[:3]
first = key(rows[0])
mine = [l for l in rows if key(l) == first]
gone = next(i for i, l in enumerate(mine) if b";P - " in l)
del mine[gone]
open("commune.csv", "wb").write(b"\n".join([head] + mine) + b"\n")
print(f"commune {first}: {len(mine)} lines of owners posted")
EOF
fi
case $layer in
    owners) posted=commune.csv type=text/csv query='?scope=commune' ;;
    *) posted=commune.json type=application/geo+json query='' ;;
esac
rm -f update.gpkg update.gpkg.*
cp s.gpkg update.gpkg
secret=$("$bin" --store update.gpkg token create --name bench --role editor)
snapdir=$(mktemp -d)
DOMANIA_SNAPSHOT_DIR=$snapdir RUST_LOG=info "$bin" --store update.gpkg serve --rules "$rules" \
    --bind 127.0.0.1:$port > update-serve.log 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$snapdir"' EXIT
until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v1/who?lon=1.85&lat=49.0")" = 200 ]; do
    sleep 0.1
done
# Once the snapshot file is written, memory as it serves.
until grep -q "snapshot file written" update-serve.log; do sleep 0.2; done
sleep 2
echo "serving: $(grep VmRSS /proc/$pid/status)"
# The peak from here on.
echo 5 > /proc/$pid/clear_refs 2>/dev/null || true
curl -s -o update-answer.json -w 'update answered %{http_code} after %{time_total} s\n' \
    -H "Authorization: Bearer $secret" -H "Content-Type: $type" \
    --data-binary @$posted "http://127.0.0.1:$port/v1/layers/$layer$query"
grep -E "VmRSS|VmHWM" /proc/$pid/status
grep -E "snapshot (file not read|swapped|ready)|owners alone|parcels: spliced" update-serve.log | tail -2 | cut -c1-220
sleep 5
echo "5 s later: $(grep -E "VmRSS|VmHWM" /proc/$pid/status | tr -s " \t\n" " ")"
