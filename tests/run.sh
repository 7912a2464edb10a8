#!/usr/bin/env bash
# Ferry's test runner, called by `make check`.
#
#   tests/run.sh TEST...
#
# Each TEST is a unit program, a fuzz-corpus replay program, or a regress
# script (*.sh run with bash, *.py with Debian's /usr/bin/python3).  Every
# test prints TAP ("ok N - what", "not ok N - what", "ok N # SKIP why",
# "1..N").  A test that exits 77 having printed no result is skipped whole.
# A test that exits non-zero without a "not ok" line, or prints fewer
# results than its plan, counts one failure more.
#
# Environment: T=PATTERN runs only tests whose name contains PATTERN;
# FERRY_TEST_JOBS=N runs N at once (default: number of CPUs);
# FERRY_TEST_TIMEOUT=S kills a test after S seconds (default 900).
# Logs go to tests/logs/NAME.log under the build directory.  The last line
# is "N passed, N failed, N skipped", and the exit status is non-zero on any
# failure.
set -u

srcdir=${top_srcdir:-.}
builddir=${top_builddir:-.}
export top_srcdir=$(cd "$srcdir" && pwd)
export top_builddir=$(cd "$builddir" && pwd)
logdir=$top_builddir/tests/logs
mkdir -p "$logdir"
jobs=${FERRY_TEST_JOBS:-$(nproc 2>/dev/null || echo 2)}
limit=${FERRY_TEST_TIMEOUT:-900}
pattern=${T:-}

# Resolve a test name to the command that runs it.
run_one() {
	local t=$1 log=$2 path
	if [ -e "$top_builddir/$t" ]; then
		path=$top_builddir/$t
	elif [ -e "$top_srcdir/$t" ]; then
		path=$top_srcdir/$t
	else
		printf 'not ok 1 - %s does not exist\nexit=1\n' "$t" >"$log"
		return
	fi
	case $t in
	*.sh) timeout -k 10 "$limit" bash "$path" ;;
	*.py) timeout -k 10 "$limit" /usr/bin/python3 "$path" ;;
	*) timeout -k 10 "$limit" "$path" ;;
	esac >"$log" 2>&1 </dev/null
	echo "exit=$?" >>"$log"
}

# Count one log: prints "pass fail skip".
tally() {
	awk '
	/^ok [0-9]+.*# *[Ss][Kk][Ii][Pp]/ { skip++; next }
	/^ok [0-9]+/ { pass++; next }
	/^not ok [0-9]+/ { fail++; next }
	/^1\.\.[0-9]+/ { sub(/^1\.\./, ""); plan = $1 + 0; planned = 1; next }
	/^exit=/ { sub(/^exit=/, ""); code = $0 + 0 }
	END {
		ran = pass + fail + skip
		if (code == 77 && ran == 0) skip = 1
		else {
			if (planned && ran < plan) fail += plan - ran
			if (code != 0 && fail == 0) fail = 1
			if (ran == 0 && code == 0 && !planned) fail = 1
		}
		printf "%d %d %d\n", pass, fail, skip
	}' "$1"
}

tests=()
for t in "$@"; do
	[ -n "$pattern" ] && case $t in *"$pattern"*) ;; *) continue ;; esac
	tests+=("$t")
done

running=0
for t in "${tests[@]}"; do
	log=$logdir/$(echo "$t" | tr '/' '_').log
	run_one "$t" "$log" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait

total_pass=0 total_fail=0 total_skip=0
failed=()
for t in "${tests[@]}"; do
	log=$logdir/$(echo "$t" | tr '/' '_').log
	read -r p f s < <(tally "$log")
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	total_skip=$((total_skip + s))
	if [ "$f" -gt 0 ]; then
		status=FAIL
		failed+=("$t")
	elif [ "$p" -eq 0 ] && [ "$s" -gt 0 ]; then
		status=SKIP
	else
		status=PASS
	fi
	printf '%-4s: %s (%d passed, %d failed, %d skipped)\n' "$status" "$t" "$p" "$f" "$s"
	if [ "$status" = SKIP ]; then
		grep -m1 -i 'skip' "$log" | sed 's/^/      /'
	fi
done

for t in "${failed[@]}"; do
	log=$logdir/$(echo "$t" | tr '/' '_').log
	echo "==== $t (log: $log) ===="
	grep -E '^not ok|^#' "$log" | head -40
	echo "---- last lines ----"
	tail -n 25 "$log"
done

echo "$total_pass passed, $total_fail failed, $total_skip skipped"
[ "$total_fail" -eq 0 ] && [ "${#tests[@]}" -gt 0 ]
