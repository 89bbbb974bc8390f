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
# The AWS SDK as ipamd uses it (ipamd/cloud/ec2_sdk_api.ts).
if ! bash tools/bundle_sdk.sh; then
  echo "build: cannot bundle the AWS SDK (tools/bundle_sdk.sh)" >&2
  exit 1
fi
# main.ts loads its roles by computed path (cli/roles.ts), so compile must be told to embed them.
includes=$(sed -n 's/^ *[a-z]*: \["\.\/\([^"]*\)".*/--include \1/p' cli/roles.ts)
# shellcheck disable=SC2086
if "$deno" compile --quiet --frozen --no-prompt -P=aws-cni $includes --output dist/aws-cni.tmp main.ts \
  >dist/compile.log 2>&1; then
  mv dist/aws-cni.tmp dist/aws-cni
  echo "build: dist/aws-cni compiled ($(du -h dist/aws-cni | cut -f1))"
  exit 0
fi
if [ -n "${DENORT_BIN:-}" ]; then
  echo "build: deno compile failed with DENORT_BIN=$DENORT_BIN:" >&2
  cat dist/compile.log >&2
  exit 1
fi
# The plugin runs once per pod: the launcher gives it one bundled file (cni/main.ts) to load.
if ! "$deno" bundle --quiet --frozen --platform deno --output dist/aws-cni-plugin.js cni/main.ts; then
  echo "build: cannot bundle the plugin (cni/main.ts)" >&2
  exit 1
fi
# A command-line --allow-read replaces the set's list, so the launcher repeats it and adds the project.
read=$("$deno" eval --no-config 'console.log(JSON.parse(Deno.readTextFileSync("deno.json")).permissions["aws-cni"].read.join(","))')
cat >dist/aws-cni <<LAUNCHER
#!/bin/sh
# aws-cni LAUNCHER: not a compiled binary. \`deno compile\` could not download its
# runtime (set DENORT_BIN to a local denort to compile), so this script runs the
# sources with the pinned Deno and the same permission set the binary gets (plus
# reading its own sources); as the CNI plugin (CNI_COMMAND set) it runs the
# plugin bundled into one file.
export DENO_NO_UPDATE_CHECK=1
entry="$root/main.ts"
if [ -n "\${CNI_COMMAND+set}" ]; then entry="$root/dist/aws-cni-plugin.js"; fi
# --allow-read of the project: the sources and node_modules that a compiled binary would embed.
exec "$deno" run --quiet --frozen --no-prompt --config "$root/deno.json" -P=aws-cni --allow-read="$read,$root" "\$entry" "\$@"
LAUNCHER
chmod 0755 dist/aws-cni
echo "build: WARNING: deno compile could not get its runtime (see dist/compile.log);" >&2
echo "build: WARNING: dist/aws-cni is a LAUNCHER script running main.ts with the pinned Deno" >&2
echo "build: WARNING: (and, as the CNI plugin, dist/aws-cni-plugin.js bundled from cni/main.ts)" >&2
