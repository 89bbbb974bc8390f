#!/usr/bin/env bash
# Writes dist/sdk/client-ec2.js: the AWS SDK's EC2 client bundled with just what ipamd
# uses, the names ipamd/cloud/ec2_sdk_api.ts re-exports from it. The package in deno.json
# and deno.lock (installed in node_modules by `make deps`) loads its 2 MB CommonJS build
# with every command; its ES modules (dist-es) cannot be imported by Deno (extensionless
# specifiers), but the bundler resolves them and keeps only the commands named.
set -euo pipefail
cd "$(dirname "$0")/.."
deno=$PWD/.tools/bin/deno
api=ipamd/cloud/ec2_sdk_api.ts
names=$(perl -0ne 'print "$1\n" if /export \{([^}]*)\} from "\.\.\/\.\.\/dist\/sdk\/client-ec2\.js"/' "$api" |
  tr -s ' ,\n' '\n' | grep -v '^$' | sort -u | paste -sd, -)
if [ -z "$names" ]; then
  echo "bundle_sdk: no names re-exported from dist/sdk/client-ec2.js in $api" >&2
  exit 1
fi
mkdir -p dist/sdk
echo "export { ${names//,/, } } from \"@aws-sdk/client-ec2/dist-es/index.js\";" >dist/sdk/entry.js
"$deno" bundle --quiet --frozen --platform deno --output dist/sdk/client-ec2.tmp.js dist/sdk/entry.js
# `deno bundle` declares __deno_internal_createRequire in every bundle it writes, also when
# the input is itself one of its bundles: the daemon's bundle would declare it twice (a
# SyntaxError). This bundle's own declaration is given another name.
sed 's/\b__deno_internal_createRequire\b/__sdk_createRequire/g' dist/sdk/client-ec2.tmp.js >dist/sdk/client-ec2.js
rm -f dist/sdk/client-ec2.tmp.js
