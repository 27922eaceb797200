#!/usr/bin/env bash
# The README's test command: Python tests (training), generated-code check, typecheck, README figures check, then
# every mocha suite. Ends with one summary line "tests: N passed, N failed, N skipped".
#
# Skipped tests are counted, listed with their reasons, and under CI=true each one fails the run unless its reason
# matches EDGESPLIT_CI_ALLOWED_SKIPS (an extended regex; default '^needs a GPU'). Mocha tests give a reason with
# skipBecause(this, 'needs ...') from test/skip.ts; pytest tests with pytest.skip("needs ...").
set -uo pipefail
cd "$(dirname "$0")/.."
py=training/.venv/bin/python
[ -x "$py" ] || bash training/setup-venv.sh >/dev/null
ci=false
case "${CI:-}" in true | 1 | yes) ci=true ;; esac
allowed=${EDGESPLIT_CI_ALLOWED_SKIPS:-'^needs a GPU'}
pass=0; fail=0; skip=0
skipped=$(mktemp)   # one line per skipped test: "<reason>\t<test>"
log=$(mktemp)
summary=$(mktemp)
trap 'rm -f "$log" "$summary" "$skipped"' EXIT

echo "== node $(node --version) ($(command -v node)); the image ships Node 24 (scripts/node-runtime.sh)"

echo "== pytest (training)"
"$py" -m pytest -q -rs training/tests 2>&1 | tee "$log"
p=$(grep -Eo '[0-9]+ passed' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
f=$(grep -Eo '[0-9]+ (failed|error)' "$log" | awk '{s+=$1} END {print s+0}')
s=$(grep -Eo '[0-9]+ skipped' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
grep -q ' passed' "$log" || fail=$((fail + 1))
# "SKIPPED [2] training/tests/test_x.py:12: needs a GPU" -> one line per skipped test
sed -nE 's/^SKIPPED \[([0-9]+)\] ([^ ]+): (.*)$/\1\t\3\t\2/p' "$log" |
  while IFS=$'\t' read -r n reason where; do for _ in $(seq "$n"); do printf '%s\tpytest %s\n' "$reason" "$where"; done; done >>"$skipped"

echo "== generated types up to date"
if node scripts/gen-proto-types.mjs --check; then pass=$((pass + 1)); else fail=$((fail + 1)); fi

echo "== typecheck"
if npx tsc --noEmit -p .; then pass=$((pass + 1)); else fail=$((fail + 1)); fi

# The processes the tests start (bin/edgesplit.mjs) run the compiled dist/, as the image does.
echo "== build (dist/)"
if node scripts/build.mjs; then pass=$((pass + 1)); else fail=$((fail + 1)); fi

echo "== README figures match bench/results"
if node --import tsx scripts/check-readme-figures.ts; then pass=$((pass + 1)); else fail=$((fail + 1)); fi

echo "== mocha (unit, integration, k8s, e2e)"
rm -f "$summary"
EDGESPLIT_TEST_SUMMARY="$summary" npx mocha --reporter ./scripts/mocha-summary-reporter.cjs "$@" 2>&1 | tee "$log"
if [ -s "$summary" ]; then
  read -r p f s < <(node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    console.log(j.passes, j.failures, j.pending.length);
    for (const t of j.pending) console.error(`${t.reason ?? "(no reason given)"}\t${t.title}`);' "$summary" 2>>"$skipped")
  pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
else
  echo "mocha wrote no summary (it crashed or was killed)"; fail=$((fail + 1))
fi

rejected=0
if [ -s "$skipped" ]; then
  echo
  echo "skipped:"
  while IFS=$'\t' read -r reason title; do
    mark=''
    if [ "$ci" = true ] && ! grep -Eq -- "$allowed" <<<"$reason"; then mark=' [not accepted under CI]'; rejected=$((rejected + 1)); fi
    echo "  - $title: $reason$mark"
  done <"$skipped"
fi
echo
echo "tests: $pass passed, $fail failed, $skip skipped"
if [ "$rejected" -gt 0 ]; then
  echo "CI=true: $rejected skipped test(s) without a reason matching /$allowed/ (EDGESPLIT_CI_ALLOWED_SKIPS); the run fails"
fi
[ "$fail" -eq 0 ] && [ "$rejected" -eq 0 ]
