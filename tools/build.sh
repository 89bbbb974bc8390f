#!/usr/bin/env bash
# Writes dist/aws-cni. It compiles with `deno compile` (honouring DENORT_BIN for an
# offline runtime). When no compile runtime can be had, it writes a launcher script
# that runs main.ts with the pinned Deno and the very same permission set.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
deno=$root/.tools/bin/deno
mkdir -p dist
rm -f dist/aws-cni.tmp
if "$deno" compile --quiet --frozen --no-prompt -P=aws-cni --output dist/aws-cni.tmp main.ts >dist/compile.log 2>&1; then
  mv dist/aws-cni.tmp dist/aws-cni
  echo "build: dist/aws-cni compiled ($(du -h dist/aws-cni | cut -f1))"
  exit 0
fi
if [ -n "${DENORT_BIN:-}" ]; then
  echo "build: deno compile failed with DENORT_BIN=$DENORT_BIN:" >&2
  cat dist/compile.log >&2
  exit 1
fi
cat >dist/aws-cni <<LAUNCHER
#!/bin/sh
# aws-cni LAUNCHER: not a compiled binary. \`deno compile\` could not download its
# runtime (set DENORT_BIN to a local denort to compile), so this script runs the
# sources with the pinned Deno and the same permission set the binary gets.
export DENO_NO_UPDATE_CHECK=1
exec "$deno" run --quiet --frozen --no-prompt --config "$root/deno.json" -P=aws-cni "$root/main.ts" "\$@"
LAUNCHER
chmod 0755 dist/aws-cni
echo "build: WARNING: deno compile could not get its runtime (see dist/compile.log);" >&2
echo "build: WARNING: dist/aws-cni is a LAUNCHER script running main.ts with the pinned Deno" >&2
