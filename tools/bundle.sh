#!/usr/bin/env bash
# Bundles the binary's whole graph into dist/bin: main.js (main.ts: it reads the process
# and picks a role) and one file per role of cli/roles.ts at its source path with .js for
# .ts (cni/mod.js, ipamd/mod.js, cli/plan.js, ...), npm packages included. main.js loads a
# role's file by computed path, so the plugin loads only its own small bundle. The daemon's
# AWS SDK is dist/sdk/client-ec2.js (tools/bundle_sdk.sh), bundled first. The bundles are
# minified: V8 keeps a module's whole source in its heap (the daemon's is 1.7 MB instead of
# 3.9 MB) and parses less at every start; error names are set as strings, not taken from
# class names, so they survive.
set -euo pipefail
cd "$(dirname "$0")/.."
deno=$PWD/.tools/bin/deno
bash tools/bundle_sdk.sh
mapfile -t roles < <("$deno" eval --quiet \
  'import { ROLES } from "./cli/roles.ts"; for (const [path] of Object.values(ROLES)) console.log(path);')
if [ "${#roles[@]}" -eq 0 ]; then
  echo "bundle: cli/roles.ts names no role" >&2
  exit 1
fi
rm -rf dist/bin
"$deno" bundle --quiet --frozen --platform deno --minify --outdir dist/bin main.ts "${roles[@]}"
for role in main.ts "${roles[@]}"; do
  file=dist/bin/${role#./}
  if [ ! -s "${file%.ts}.js" ]; then
    echo "bundle: ${file%.ts}.js was not written for $role" >&2
    exit 1
  fi
done
