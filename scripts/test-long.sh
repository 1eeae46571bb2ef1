#!/usr/bin/env bash
# make test-long: the slow half of the suite, after `make test`.
#   1. the authorization matrix: every operation x actor, exact status, nothing changed on denial
#   2. fuzzing: every decoder and parser for a bounded time (scripts/fuzz.sh, FUZZTIME per target)
#   3. faults: PostgreSQL taken away under load, SIGTERM with requests and streams open (-tags long)
# Each step reports a machine-readable line (MATRIX ..., FUZZ ..., FAULTS ...); this script adds
# them up into one summary and exits non-zero on any failure, including a step that reported nothing
# (a test that did not run is not a test that passed).
set -uo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-10s}
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
failures=0

# count_fail LOG: failed tests in a go test -v log.
count_fail() { grep -c -- '^\s*--- FAIL' "$1" || true; }

echo "== authorization matrix"
$GO test -count=1 -timeout 5m -run TestAuthorizationMatrix -v ./api 2>&1 | tee "$logs/matrix.log"
rc=${PIPESTATUS[0]}
matrix=$(grep -oE 'MATRIX operations=[0-9]+ actors=[0-9]+ checked=[0-9]+' "$logs/matrix.log" | tail -n 1)
ops=$(sed -nE 's/.*operations=([0-9]+).*/\1/p' <<<"$matrix")
actors=$(sed -nE 's/.*actors=([0-9]+).*/\1/p' <<<"$matrix")
checked=$(sed -nE 's/.*checked=([0-9]+).*/\1/p' <<<"$matrix")
n=$(count_fail "$logs/matrix.log")
if [ "$rc" -ne 0 ] || [ -z "$matrix" ]; then
  [ -z "$matrix" ] && echo "test-long: the authorization matrix reported no MATRIX line (did it run?)"
  failures=$((failures + (n > 0 ? n : 1)))
fi

echo "== fuzz ($FUZZTIME per target)"
if [ -f scripts/fuzz.sh ]; then
  bash scripts/fuzz.sh "$FUZZTIME" 2>&1 | tee "$logs/fuzz.log"
  rc=${PIPESTATUS[0]}
else
  echo "test-long: scripts/fuzz.sh is missing" | tee "$logs/fuzz.log"
  rc=1
fi
fuzz=$(grep -oE 'FUZZ targets=[0-9]+ execs=[0-9]+ failures=[0-9]+' "$logs/fuzz.log" | tail -n 1)
targets=$(sed -nE 's/.*targets=([0-9]+).*/\1/p' <<<"$fuzz")
execs=$(sed -nE 's/.*execs=([0-9]+).*/\1/p' <<<"$fuzz")
fuzzfail=$(sed -nE 's/.*failures=([0-9]+).*/\1/p' <<<"$fuzz")
if [ -z "$fuzz" ]; then
  echo "test-long: fuzzing reported no FUZZ line"
  failures=$((failures + 1))
else
  failures=$((failures + fuzzfail))
  [ "$rc" -ne 0 ] && [ "$fuzzfail" -eq 0 ] && failures=$((failures + 1))
fi

echo "== faults"
$GO test -tags long -count=1 -timeout 5m -run Fault -v . 2>&1 | tee "$logs/faults.log"
rc=${PIPESTATUS[0]}
injected=$(grep -oE 'FAULTS injected=[0-9]+' "$logs/faults.log" | awk -F= '{s += $2} END {print s + 0}')
faulttests=$(grep -cE '^\s*--- PASS: Test[A-Za-z]*Fault' "$logs/faults.log" || true)
n=$(count_fail "$logs/faults.log")
if [ "$rc" -ne 0 ] || [ "$injected" -eq 0 ]; then
  [ "$injected" -eq 0 ] && echo "test-long: the fault tests injected nothing (did they run?)"
  failures=$((failures + (n > 0 ? n : 1)))
fi

echo
echo "== test-long summary"
echo "authorization: ${ops:-?} operations x ${actors:-?} actors, ${checked:-?} checked"
echo "fuzz: ${targets:-?} targets, ${execs:-?} execs, ${fuzzfail:-?} failures"
echo "faults: ${injected} injected in ${faulttests} passing tests"
echo "failures: ${failures}"
# The plain closing line CI readers understand: checks that passed (matrix pairs, fuzz targets, fault tests).
passed=$(( ${checked:-0} + ${targets:-0} - ${fuzzfail:-0} + ${faulttests:-0} ))
[ "$passed" -lt 0 ] && passed=0
echo "test-long: ${passed} passed, ${failures} failed"
[ "$failures" -eq 0 ]
