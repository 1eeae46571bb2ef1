#!/usr/bin/env bash
# Runs every Go fuzz target in the module for a bounded time each.
#
#   scripts/fuzz.sh [duration-per-target]     (default 30s; any -fuzztime value, e.g. 2m or 5000x)
#
# Targets are discovered with `go test -list '^Fuzz' ./...`, so a new FuzzXxx
# is picked up without editing this script. Each runs alone:
#   go test -run '^$' -fuzz '^Name$' -fuzztime <d> <package>
# A failing input is written by Go to <package>/testdata/fuzz/<Name>/ (commit
# it once fixed: it becomes a regression seed that plain `go test` runs).
# Set FUZZ_PARALLEL to limit the fuzzing workers per target (default: GOMAXPROCS), and
# FUZZ_MINIMIZE for -fuzzminimizetime (default 5s: Go minimizes every new interesting
# input, 60s each by default, which leaves the slow database-backed targets little
# time to explore in a bounded run).
# The last line is the summary, and the exit status is non-zero on any failure:
#   FUZZ targets=<n> execs=<total execs> failures=<n>
set -uo pipefail

duration="${1:-30s}"
cd "$(dirname "$0")/.." || exit 2
GO="${GO:-go}"
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT

listing="$("$GO" test -list '^Fuzz' ./... 2>&1)"
list_status=$?

targets=()   # "package name" pairs
names=()
while IFS= read -r line; do
	case "$line" in
	Fuzz*) names+=("$line") ;;
	"ok "*)
		pkg="$(awk '{print $2}' <<<"$line")"
		for n in "${names[@]+"${names[@]}"}"; do targets+=("$pkg $n"); done
		names=()
		;;
	*) names=() ;;
	esac
done <<<"$listing"

failures=0
if [ "$list_status" -ne 0 ]; then
	echo "fuzz: listing the targets failed:" >&2
	echo "$listing" | grep -v '^Fuzz' | grep -v '^ok ' | grep -v '^?' >&2
	failures=$((failures + 1))
fi

parallel=()
if [ -n "${FUZZ_PARALLEL:-}" ]; then
	parallel=(-parallel "$FUZZ_PARALLEL")
fi

total=0
i=0
for t in "${targets[@]+"${targets[@]}"}"; do
	pkg="${t% *}"
	name="${t#* }"
	i=$((i + 1))
	log="$logs/$i.log"
	# -timeout 0: -fuzztime bounds the run; Go's default 10m would cut long runs.
	fuzz_one() {
		"$GO" test -run '^$' -fuzz "^${name}\$" -fuzztime "$duration" -fuzzminimizetime "${FUZZ_MINIMIZE:-5s}" \
			-timeout 0 "${parallel[@]+"${parallel[@]}"}" "$pkg" >"$log" 2>&1
	}
	fuzz_one
	status=$?
	# Go's engine sometimes ends a run with "context deadline exceeded" and no failing input when
	# -fuzztime runs out while a worker is busy (minimising, or a slow input). Run such a target once
	# more: a real hang comes back (the engine keeps its corpus), an unlucky deadline does not.
	if [ "$status" -ne 0 ] && grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input written' "$log"; then
		echo "fuzz: $name ended on the engine's deadline without a failing input; running it once more"
		fuzz_one
		status=$?
	fi
	# The last progress line carries the total: "fuzz: elapsed: 30s, execs: 12345 (411/sec), ..."
	execs="$(grep -o 'execs: [0-9]*' "$log" | tail -n 1 | awk '{print $2}')"
	execs="${execs:-0}"
	total=$((total + execs))
	if [ "$status" -eq 0 ]; then
		echo "fuzz: ok   $name ($pkg) execs=$execs"
	else
		failures=$((failures + 1))
		echo "fuzz: FAIL $name ($pkg) execs=$execs"
		grep -v '^fuzz: elapsed' "$log" | tail -n 30 | sed 's/^/    /'
	fi
done

echo "FUZZ targets=${#targets[@]} execs=$total failures=$failures"
if [ "$failures" -ne 0 ] || [ "${#targets[@]}" -eq 0 ]; then
	exit 1
fi
