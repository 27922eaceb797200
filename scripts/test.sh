#!/usr/bin/env bash
# The README's test command: Python tests (training), generated-code check, typecheck, then every mocha suite.
# Ends with one summary line "tests: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
py=training/.venv/bin/python
[ -x "$py" ] || bash training/setup-venv.sh >/dev/null
pass=0; fail=0
log=$(mktemp)

echo "== pytest (training)"
"$py" -m pytest -q training/tests 2>&1 | tee "$log"
p=$(grep -Eo '[0-9]+ passed' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
f=$(grep -Eo '[0-9]+ (failed|error)' "$log" | awk '{s+=$1} END {print s+0}')
pass=$((pass + p)); fail=$((fail + f))
grep -q ' passed' "$log" || fail=$((fail + 1))

echo "== generated types up to date"
if node scripts/gen-proto-types.mjs --check; then pass=$((pass + 1)); else fail=$((fail + 1)); fi

echo "== typecheck"
if npx tsc --noEmit -p .; then pass=$((pass + 1)); else fail=$((fail + 1)); fi

# The processes the tests start (bin/edgesplit.mjs) run the compiled dist/, as the image does.
echo "== build (dist/)"
if node scripts/build.mjs; then pass=$((pass + 1)); else fail=$((fail + 1)); fi

echo "== mocha (unit, integration, k8s, e2e)"
npx mocha "$@" 2>&1 | tee "$log"
p=$(grep -Eo '[0-9]+ passing' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
f=$(grep -Eo '[0-9]+ failing' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
pass=$((pass + p)); fail=$((fail + f))
grep -q ' passing' "$log" || fail=$((fail + 1))
rm -f "$log"
echo
echo "tests: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
