#!/usr/bin/env bash
# Writes dist/aws-cni: bundles the binary's whole graph into dist/bin (tools/bundle.sh),
# then compiles that bundle with `deno compile` (tools/compile.sh; DENORT_BIN names an
# offline runtime). When no compile runtime can be had, it writes a launcher script that
# runs that very bundle with the pinned Deno and the same permission set, passed as flags.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
deno=$root/.tools/bin/deno
mkdir -p dist
rm -f dist/aws-cni.tmp
if ! bash tools/bundle.sh; then
  echo "build: cannot bundle the binary (tools/bundle.sh)" >&2
  exit 1
fi
if bash tools/compile.sh dist/aws-cni.tmp >dist/compile.log 2>&1; then
  mv dist/aws-cni.tmp dist/aws-cni
  echo "build: dist/aws-cni compiled ($(du -h dist/aws-cni | cut -f1))"
  exit 0
fi
if [ -n "${DENORT_BIN:-}" ]; then
  echo "build: deno compile failed with DENORT_BIN=$DENORT_BIN:" >&2
  cat dist/compile.log >&2
  exit 1
fi
# The permission set as flags, so Deno reads no config or lockfile when the launcher
# starts, plus reading the bundle: main.js imports a role's file by computed path.
if ! listed=$("$deno" run --quiet --no-config --allow-read=deno.json tools/permission_flags.ts deno.json aws-cni \
  --also-read "$root/dist/bin"); then
  echo "build: cannot turn deno.json's permission set aws-cni into flags" >&2
  exit 1
fi
mapfile -t flags <<<"$listed"
# The V8 flags a compiled binary carries, and the malloc settings the systemd unit sets
# (shared/runtime_tuning.ts): exported by the launcher, so every role run through it gets them.
if ! tuning=$("$deno" eval --quiet 'import { MALLOC_ENV, V8_FLAGS } from "./shared/runtime_tuning.ts";
  console.log(V8_FLAGS.join(","));
  for (const [name, value] of Object.entries(MALLOC_ENV)) console.log(`${name}=${value}`);'); then
  echo "build: cannot read shared/runtime_tuning.ts" >&2
  exit 1
fi
mapfile -t tuning <<<"$tuning"
v8_flags=()
[ -n "${tuning[0]}" ] && v8_flags=("--v8-flags=${tuning[0]}")
malloc_env=""
for setting in "${tuning[@]:1}"; do malloc_env+=" $setting"; done
# One shell word per argument, single-quoted for the launcher's /bin/sh.
quote() { local word=${1//\'/\'\\\'\'}; printf " '%s'" "$word"; }
args=""
for arg in "$deno" run --quiet --no-config --no-prompt "${v8_flags[@]}" "${flags[@]}" "$root/dist/bin/main.js"; do
  args+=$(quote "$arg")
done
cat >dist/aws-cni <<LAUNCHER
#!/bin/sh
# aws-cni LAUNCHER: not a compiled binary. \`deno compile\` could not download its
# runtime (set DENORT_BIN to a local denort to compile), so this script runs the bundle
# a compiled binary embeds (dist/bin, main.js and one file per role) with the pinned Deno
# and the permission set deno.json names aws-cni, passed as flags (plus reading dist/bin),
# with the V8 flags and malloc settings of shared/runtime_tuning.ts.
# \`aws-cni install\` copies the file it runs from: this script, wherever it is.
export DENO_NO_UPDATE_CHECK=1 AWS_CNI_LAUNCHER="\$0"$malloc_env
exec$args "\$@"
LAUNCHER
chmod 0755 dist/aws-cni
echo "build: WARNING: deno compile could not get its runtime (see dist/compile.log);" >&2
echo "build: WARNING: dist/aws-cni is a LAUNCHER script running the bundle dist/bin/main.js" >&2
echo "build: WARNING: with the pinned Deno; it is not a compiled binary" >&2
