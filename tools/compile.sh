#!/usr/bin/env bash
# Compiles the bundle in dist/bin (tools/bundle.sh) into one executable, OUT: main.js is the
# entry, every role's file is included (main.js imports them by computed path), the
# permission set deno.json names `aws-cni` is baked in (-P), and so are the V8 flags of
# shared/runtime_tuning.ts (--v8-flags). `deno compile` downloads its runtime (denort)
# unless DENORT_BIN names a local one.
set -euo pipefail
cd "$(dirname "$0")/.."
deno=$PWD/.tools/bin/deno
out=${1:?usage: compile.sh OUT}
includes=()
while IFS= read -r file; do includes+=(--include "$file"); done < <(find dist/bin -name '*.js' ! -path dist/bin/main.js | sort)
v8_flags=$("$deno" eval --quiet 'import { V8_FLAGS } from "./shared/runtime_tuning.ts"; console.log(V8_FLAGS.join(","));')
"$deno" compile --quiet --frozen --no-prompt -P=aws-cni ${v8_flags:+"--v8-flags=$v8_flags"} "${includes[@]}" \
  --output "$out" dist/bin/main.js
