#!/usr/bin/env bash
# Compiles the bundle in dist/bin (tools/bundle.sh) into one executable, OUT: main.js is the
# entry, every role's file is included (main.js imports them by computed path), and the
# permission set deno.json names `aws-cni` is baked in (-P). `deno compile` downloads its
# runtime (denort) unless DENORT_BIN names a local one.
set -euo pipefail
cd "$(dirname "$0")/.."
deno=$PWD/.tools/bin/deno
out=${1:?usage: compile.sh OUT}
includes=()
while IFS= read -r file; do includes+=(--include "$file"); done < <(find dist/bin -name '*.js' ! -path dist/bin/main.js | sort)
"$deno" compile --quiet --frozen --no-prompt -P=aws-cni "${includes[@]}" --output "$out" dist/bin/main.js
