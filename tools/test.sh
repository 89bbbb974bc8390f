#!/usr/bin/env bash
# The whole test command: static checks, then every test. The last line it prints
# is "N passed, M failed" (each static check counts as one test).
set -uo pipefail
cd "$(dirname "$0")/.."
deno=$PWD/.tools/bin/deno
export DENO_NO_UPDATE_CHECK=1 NO_COLOR=1
passed=0 failed=0
step() {
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "check $name ... ok"
  else failed=$((failed + 1)); echo "check $name ... FAILED"; fi
}
step "deno fmt --check" "$deno" fmt --check --quiet
step "deno lint" "$deno" lint --quiet
step "deno check" "$deno" check --quiet '**/*.ts'
log=$(mktemp)
"$deno" test -A --no-prompt --frozen "$@" 2>&1 | tee "$log"
summary=$(grep -E '^(ok|FAILED) \| [0-9]+ passed' "$log" | tail -n 1)
rm -f "$log"
if [[ $summary =~ \|\ ([0-9]+)\ passed.*\|\ ([0-9]+)\ failed ]]; then
  passed=$((passed + BASH_REMATCH[1])); failed=$((failed + BASH_REMATCH[2]))
else
  failed=$((failed + 1)); echo "deno test printed no summary"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
