#!/usr/bin/env bash
# Installs the Deno pinned in tools/deno/package-lock.json into .tools/bin/deno, from the npm registry.
set -euo pipefail
cd "$(dirname "$0")/.."
case "$(uname -m)" in
  x86_64) pkg=linux-x64-glibc ;;
  aarch64) pkg=linux-arm64-glibc ;;
  *) echo "install_deno: no Deno package for $(uname -m)" >&2; exit 1 ;;
esac
mkdir -p .tools/npm .tools/bin
cp tools/deno/package.json tools/deno/package-lock.json .tools/npm/
(cd .tools/npm && npm install --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
ln -sf "../npm/node_modules/@deno/$pkg/deno" .tools/bin/deno
.tools/bin/deno --version | head -n 1
