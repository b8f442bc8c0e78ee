#!/usr/bin/env bash
# Whole-command timings on a synthetic territory (default 1,000,000 parcels, seed 1):
# synth, import of every layer, shares, assign. Usage: bench/whole-1m.sh [PARCELS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${DOMANIA_BIN:-$here/../target/release/domania}
n=${1:-1000000}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
t() { /usr/bin/time -f "%e s, peak %M KB: $1" "${@:2}"; }
t "synth $n" "$bin" synth --parcels "$n" --seed 1 --out "$work/t" >/dev/null
s="$work/s.gpkg"
t "import parcels" "$bin" --store "$s" import parcels "$work/t/cadastre-synth-parcelles.json" >/dev/null
t "import owners" "$bin" --store "$s" import owners "$work/t/ppm-synth.csv" >/dev/null
t "import subsectors" "$bin" --store "$s" import subsectors "$work/t/subsectors-synth.geojson" >/dev/null
t "import qpv" "$bin" --store "$s" import qpv "$work/t/qpv-synth.geojson" >/dev/null
t "shares" "$bin" --store "$s" shares >/dev/null
t "assign (CSV, no layer)" "$bin" --store "$s" assign --rules "$here/../data/rules.toml" --date 2025-06-01 --dry-run >/dev/null
t "assign (CSV + spaces layer with geometry)" "$bin" --store "$s" assign --rules "$here/../data/rules.toml" --date 2025-06-01 >/dev/null
