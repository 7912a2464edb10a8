#!/usr/bin/env bash
# Load (issue #12): concurrent SFTP sessions against fsshd's embedded
# default, each an OpenSSH `sftp -b` client that uploads a file and
# downloads it again: every sha256 matches, no session fails, and fsshd's
# memory stays bounded (the summed RSS of the listener and its session
# processes sampled throughout, and each process's own RSS).  By default
# 50 sessions x 4 MiB each way, which fits the make check budget; with
# FERRY_SLOW=1 the full 200 sessions x 16 MiB each way.
. "$top_srcdir/tests/regress/lib.sh"
. "$top_srcdir/tests/safety/fsshd-lib.sh"
require_cmd sftp sha256sum pgrep
if [ "${FERRY_SLOW:-0}" = 1 ]; then
	N=200 MIB=16
else
	N=${FERRY_LOAD_SESSIONS:-50} MIB=${FERRY_LOAD_MIB:-4}
fi
# Bounds: a session process, and the whole server per session.
PROC_MAX_KIB=$((48 * 1024 * SAFETY_MEM_SCALE))
# Each connection is two processes (its monitor and the session), whose
# summed RSS counts the shared libraries twice: 24 MiB a connection.
TOTAL_MAX_KIB=$(((N * 24 * 1024 + 64 * 1024) * SAFETY_MEM_SCALE))
safety_user ferry-l
safety_fsshd_start || skip_all "fsshd does not start"
diag "$N concurrent sessions x $MIB MiB up and down" \
    "$([ "${FERRY_SLOW:-0}" = 1 ] || echo "(FERRY_SLOW=1: 200 x 16 MiB)")"

L=$TMP/local
mkdir -p "$L"
head -c $((MIB * 1024 * 1024 + 4321)) /dev/urandom >"$L/src"
want=$(sha "$L/src")

# One sample: "summed-RSS largest-RSS processes" of fsshd, the listener
# and all its descendants, from one ps snapshot.
snapshot() {
	ps -e -o pid=,ppid=,rss= | awk -v root="$SAFETY_PID" '
	{ parent[$1] = $2; rss[$1] = $3 }
	END {
		for (p in parent) {
			q = p
			for (depth = 0; depth < 10 && q != root && q in parent; depth++)
				q = parent[q]
			if (q != root)
				continue
			sum += rss[p]; n++
			if (rss[p] > max) max = rss[p]
		}
		printf "%d %d %d\n", sum, max, n
	}'
}
sample() {
	local peak=0 procmax=0 maxn=0 sum max n
	while [ ! -e "$TMP/done" ]; do
		read -r sum max n < <(snapshot)
		[ "$sum" -gt "$peak" ] && peak=$sum
		[ "$max" -gt "$procmax" ] && procmax=$max
		[ "$n" -gt "$maxn" ] && maxn=$n
		echo "$peak $procmax $maxn" >"$TMP/mem"
		sleep 0.2
	done
}
sample &
sampler=$!
track_pid "$sampler"

start=$SECONDS
clients=()
for i in $(seq 1 "$N"); do
	printf 'put %s up%d\nget up%d %s\n' "$L/src" "$i" "$i" "$L/down$i" >"$TMP/batch$i"
	(sftp "${SAFETY_SSH_OPTS[@]}" -P "$SAFETY_PORT" -b "$TMP/batch$i" \
	    "$SAFETY_USER@127.0.0.1" >"$TMP/s$i.log" 2>&1
	echo $? >"$TMP/s$i.rc") &
	clients+=($!)
done
wait "${clients[@]}"
elapsed=$((SECONDS - start))
touch "$TMP/done"
wait "$sampler"

failed=0 badsum=0
for i in $(seq 1 "$N"); do
	rc=$(cat "$TMP/s$i.rc" 2>/dev/null || echo 1)
	if [ "$rc" -ne 0 ]; then
		failed=$((failed + 1))
		[ $failed -le 3 ] && sed "s/^/# session $i: /" "$TMP/s$i.log" | tail -3
	fi
	if [ "$(sha "$SAFETY_HOME/up$i" 2>/dev/null)" != "$want" ] ||
	    [ "$(sha "$L/down$i" 2>/dev/null)" != "$want" ]; then
		badsum=$((badsum + 1))
	fi
	rm -f "$SAFETY_HOME/up$i" "$L/down$i"
done
read -r peak procmax maxn <"$TMP/mem"
diag "$elapsed s; fsshd peak: $((peak / 1024)) MiB summed over up to $maxn" \
    "processes, largest process $((procmax / 1024)) MiB"
ok "$failed" "all $N sessions succeeded ($failed failed)"
ok "$badsum" "every upload and download has the source's sha256 ($badsum differ)"
ok "$( [ "$maxn" -gt $((N / 2)) ]; echo $?)" "the sessions ran concurrently (up to $maxn fsshd processes at once)"
ok "$( [ "$procmax" -gt 0 ] && [ "$procmax" -lt $PROC_MAX_KIB ]; echo $?)" \
    "each fsshd process stayed below $((PROC_MAX_KIB / 1024)) MiB ($((procmax / 1024)) MiB)"
ok "$( [ "$peak" -lt $TOTAL_MAX_KIB ]; echo $?)" \
    "fsshd in all stayed below $((TOTAL_MAX_KIB / 1024)) MiB ($((peak / 1024)) MiB)"
ok "$(kill -0 "$SAFETY_PID"; echo $?)" "fsshd still runs"
done_testing
