#!/usr/bin/env bash
# The benchmarks, each printing its figures beside a reference measured in the same
# run: the replay scoreboard (simulated time, no root), then, as root, CNI ADD/DEL
# against Go's ptp + host-local and ipamd's RPC throughput and memory.
# `make bench` runs all three; `make bench BENCH=cni` (or scoreboard, rpc) runs one.
set -euo pipefail
cd "$(dirname "$0")/.."
deno=$PWD/.tools/bin/deno
export DENO_NO_UPDATE_CHECK=1
declare -A file=([scoreboard]=replay_scoreboard [cni]=cni_bench [rpc]=ipamd_rpc_bench)
names=${BENCH:-scoreboard cni rpc}
for name in $names; do
  if [[ -z ${file[$name]:-} ]]; then
    echo "make bench: no benchmark named \"$name\" (scoreboard, cni, rpc)" >&2
    exit 2
  fi
  if [[ $name != scoreboard && $(id -u) -ne 0 ]]; then
    echo "make bench: the $name benchmark builds a test node and needs root; skipped" >&2
    continue
  fi
  echo "== $name: tests/bench/${file[$name]}.ts"
  "$deno" run -A --frozen "tests/bench/${file[$name]}.ts"
done
