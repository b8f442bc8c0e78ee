#!/usr/bin/env bash
# Fetches every path of a file once, in order, by one curl over one keep-alive connection (one
# client, as a map opened on a fresh area), failing on any HTTP error; prints the seconds.
# Usage: fetch-all.sh http://HOST:PORT PATHS_FILE
set -euo pipefail
cfg=$(mktemp); trap 'rm -f "$cfg"' EXIT
sed "s|^|url = \"$1|; s|\$|\"\noutput = \"/dev/null\"|" "$2" >"$cfg"
start=$(date +%s.%N)
curl -sSf --config "$cfg"
end=$(date +%s.%N)
python3 -c "print(f'{$end - $start:.3f}')"
