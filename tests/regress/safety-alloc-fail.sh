#!/usr/bin/env bash
# Allocation-failure mode of every fuzz replay program: for each seed of
# each corpus, every allocation the parse performs fails in turn (up to
# FERRY_ALLOC_FAIL_MAX points per seed, default 250); the target must get
# an error return, never crash, and must not leak (see tests/fuzz/replay.c).
# Targets parsed inside libarchive are skipped with the reason.
. "$top_srcdir/tests/regress/lib.sh"

shopt -s nullglob
progs=()
for p in "$top_builddir"/tests/fuzz/replay-*; do
	case $p in *.o | *.c) continue ;; esac
	[ -x "$p" ] && progs+=("$p")
done
[ "${#progs[@]}" -gt 0 ] || skip_all "no replay programs built"

# Targets whose parsing runs inside a library that does not survive its
# own allocation failures: libarchive (archive_read_new and
# archive_read_open1 use what malloc returned without a check).
declare -A exempt=([archive]="libarchive does not check its own allocations")

for p in "${progs[@]}"; do
	name=${p##*/replay-}
	if [ -n "${exempt[$name]:-}" ]; then
		skip "$name: ${exempt[$name]}"
		continue
	fi
	start=$SECONDS
	FERRY_ALLOC_FAIL=1 "$p" >"$TMP/$name.out" 2>&1
	rc=$?
	seeds=$(grep -c '^ok' "$TMP/$name.out")
	points=$(sed -n 's/.* \([0-9]*\) failure points.*/\1/p' "$TMP/$name.out" |
	    awk '{ n += $1 } END { print n + 0 }')
	if [ "$rc" -ne 0 ]; then
		grep -E '^not ok|^#' "$TMP/$name.out" | head -20 | sed 's/^/# /'
		tail -5 "$TMP/$name.out" | sed 's/^/# /'
	fi
	ok "$rc" "$name: $seeds seeds, $points failed allocations, no crash or leak ($((SECONDS - start)) s)"
done
done_testing
