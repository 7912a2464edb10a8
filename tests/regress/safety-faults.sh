#!/usr/bin/env bash
# Faults (issue #12): fsftp against fsshd through a relay that cuts the
# connection at a random byte (tests/safety/cutrelay.c), 50 runs across
# get, put and get -r / put -r, half of them in atomic mode: an atomic
# transfer never leaves a partial file under the real name, and resuming
# (-a, through a good connection) always yields an identical file.  Then
# ENOSPC on a 2 MiB tmpfs during put (a clear error, the server keeps
# serving, nothing else harmed) and fsshd restarted in the middle of a
# transfer (the client reports it, a resume completes identically).
# FERRY_SEED=N repeats a run's cut points.
. "$top_srcdir/tests/regress/lib.sh"
. "$top_srcdir/tests/safety/fsshd-lib.sh"
require_cmd ssh sha256sum pgrep
RELAY=$top_builddir/tests/safety/cutrelay
[ -x "$RELAY" ] || skip_all "cutrelay not built"
[ -x "$FSFTP" ] || skip_all "fsftp not built"
safety_user ferry-f
safety_fsshd_start || skip_all "fsshd does not start"

SEED=${FERRY_SEED:-$((RANDOM * 32768 + RANDOM))}
diag "seed $SEED (FERRY_SEED=$SEED repeats these cuts)"
SIZE=$((2 * 1024 * 1024 + 12345))
H=$SAFETY_HOME
L=$TMP/local
mkdir -p "$L" "$H/tree/sub"
head -c $SIZE /dev/urandom >"$H/src"
cp "$H/src" "$L/lsrc"
for i in 1 2 3; do
	head -c $((300000 * i + 7)) /dev/urandom >"$H/tree/f$i"
	head -c $((200000 * i + 3)) /dev/urandom >"$H/tree/sub/g$i"
done
cp -r "$H/tree" "$L/ltree"
chown -R "$SAFETY_USER:" "$H"

# A relay per direction: downloads are cut on the way down, uploads up.
for dir in up down; do
	"$RELAY" "$TMP/relay-$dir.port" "$SAFETY_PORT" $dir random \
	    "$((SIZE + SIZE / 10)):$SEED$([ $dir = up ] && echo 1 || echo 2)" \
	    2>>"$TMP/relay.log" &
	track_pid $!
done
wait_file "$TMP/relay-up.port"
wait_file "$TMP/relay-down.port"
UP=$(cat "$TMP/relay-up.port")
DOWN=$(cat "$TMP/relay-down.port")
safety_known "$UP"
safety_known "$DOWN"

# fs PORT BATCH [fsftp options]: one batch session, 120 s at most.
fs() {
	local port=$1 text=$2
	shift 2
	printf '%s\n' "$text" >"$TMP/batch"
	(cd "$L" && timeout 120 "$FSFTP" "${SAFETY_SSH_OPTS[@]}" -P "$port" \
	    "$@" -b "$TMP/batch" "$SAFETY_USER@127.0.0.1") \
	    >"$TMP/out" 2>"$TMP/err"
}
same_tree() { diff -r "$1" "$2" >/dev/null; }
# No file under a real name differs from its source (atomic mode).
tree_prefix_free() {
	local src=$1 dst=$2 f
	[ -d "$dst" ] || return 0
	for f in $(cd "$dst" && find . -type f ! -name '*.ferry-part'); do
		cmp -s "$src/$f" "$dst/$f" || return 1
	done
}

cuts=0 midway=0 partial_bad=0 resume_bad=0 runs=0
for run in $(seq 1 50); do
	kind=$((run % 5))	# 0,1: get; 2,3: put; 4: -r (get or put)
	atomic=()
	[ $((run % 2)) -eq 0 ] && atomic=(-X atomic)
	runs=$((run))
	rm -rf "$L/dst" "$L/dst.ferry-part" "$L/tree" "$H/up" \
	    "$H/up.ferry-part" "$H/ltree"
	case $kind in
	0 | 1)
		fs "$DOWN" "get src dst" "${atomic[@]}"
		rc=$?
		real=$L/dst src=$H/src
		;;
	2 | 3)
		fs "$UP" "put lsrc up" "${atomic[@]}"
		rc=$?
		real=$H/up src=$L/lsrc
		;;
	*)
		if [ $((run % 10)) -eq 4 ]; then
			fs "$DOWN" "get -r tree" "${atomic[@]}"
			rc=$?
			real=$L/tree src=$H/tree
		else
			fs "$UP" "put -r ltree" "${atomic[@]}"
			rc=$?
			real=$H/ltree src=$L/ltree
		fi
		;;
	esac
	[ $rc -ne 0 ] && cuts=$((cuts + 1))
	if [ ${#atomic[@]} -eq 0 ] && [ -f "$real" ] && ! cmp -s "$src" "$real"; then
		midway=$((midway + 1))
	fi
	if [ ${#atomic[@]} -gt 0 ]; then
		if [ -d "$src" ]; then
			tree_prefix_free "$src" "$real" || partial_bad=$((partial_bad + 1))
		elif [ -e "$real" ] && ! cmp -s "$src" "$real"; then
			partial_bad=$((partial_bad + 1))
			diag "run $run: partial file under the real name $real"
		fi
	fi
	# Resume through a good connection.
	case $kind in
	0 | 1) fs "$SAFETY_PORT" "get -a src dst" "${atomic[@]}" ;;
	2 | 3) fs "$SAFETY_PORT" "put -a lsrc up" "${atomic[@]}" ;;
	*)
		if [ $((run % 10)) -eq 4 ]; then
			fs "$SAFETY_PORT" "get -r -a tree" "${atomic[@]}"
		else
			fs "$SAFETY_PORT" "put -r -a ltree" "${atomic[@]}"
		fi
		;;
	esac
	rc=$?
	if [ -d "$src" ]; then
		same_tree "$src" "$real"
	else
		[ "$(sha "$src")" = "$(sha "$real")" ]
	fi
	if [ $? -ne 0 ] || [ $rc -ne 0 ]; then
		resume_bad=$((resume_bad + 1))
		diag "run $run (kind $kind ${atomic[*]}): resume gave a different file (rc $rc)"
		sed 's/^/#   /' "$TMP/err" | head -5
	fi
done
diag "$cuts of $runs first attempts were cut before completing;" \
    "$midway plain ones left a partial file to resume"
ok "$( [ "$cuts" -ge 35 ]; echo $?)" "the relay cut at least 35 of $runs transfers ($cuts)"
ok "$partial_bad" "atomic mode never left a partial file under the real name ($runs runs)"
ok "$resume_bad" "every resume yielded an identical file or tree (sha256 / diff)"

# ENOSPC: a 2 MiB tmpfs as the upload target.
mnt=/run/ferry-safety-$$
mkdir -p "$mnt"
if mount -t tmpfs -o size=2m,mode=755 tmpfs "$mnt" 2>/dev/null; then
	at_exit "umount $mnt; rmdir $mnt"
	chown "$SAFETY_USER:" "$mnt"
	head -c 100000 /dev/urandom >"$mnt/keep"
	chown "$SAFETY_USER:" "$mnt/keep"
	keep=$(sha "$mnt/keep")
	head -c $((4 * 1024 * 1024)) /dev/urandom >"$L/big"
	fs "$SAFETY_PORT" "put big $mnt/big"
	rc=$?
	ok "$( [ $rc -ne 0 ]; echo $?)" "put onto a full file system fails"
	grep -iE "space|quota|full|failure" "$TMP/err" | head -2 | sed 's/^/# client: /'
	grep -qiE "no space|space left|full" "$TMP/err"
	ok $? "with a clear error at the client"
	fs "$SAFETY_PORT" "put lsrc again"
	ok "$( [ $? -eq 0 ] && [ "$(sha "$H/again")" = "$(sha "$L/lsrc")" ]; echo $?)" \
	    "the server keeps serving: the next put succeeds"
	ok "$( [ "$(sha "$mnt/keep")" = "$keep" ] && kill -0 "$SAFETY_PID"; echo $?)" \
	    "nothing else is harmed (other file intact, server running)"
	rm -f "$mnt/big"
else
	skip "cannot mount a tmpfs at $mnt"
fi

# The server restarted in the middle of transfers.
head -c $((6 * 1024 * 1024)) /dev/urandom >"$H/slow"
chown "$SAFETY_USER:" "$H/slow"
rm -f "$L/slow"
printf 'get slow slow\n' >"$TMP/batch2"
(cd "$L" && timeout 120 "$FSFTP" "${SAFETY_SSH_OPTS[@]}" -P "$SAFETY_PORT" \
    -l 8000 -b "$TMP/batch2" "$SAFETY_USER@127.0.0.1") >"$TMP/out2" 2>"$TMP/err2" &
client=$!
# At 1 MB/s the 6 MiB transfer cannot end by itself before the stop.
half_a_mb() { [ -s "$L/slow" ] && [ "$(stat -c %s "$L/slow")" -gt 500000 ]; }
wait_until half_a_mb
got=$(stat -c %s "$L/slow" 2>/dev/null || echo 0)
safety_fsshd_stop
wait $client
rc=$?
ok "$( [ $rc -ne 0 ] && [ "$got" -gt 0 ] && [ "$got" -lt $((6 * 1024 * 1024)) ]; echo $?)" \
    "the client fails when the server stops mid-transfer (at $got bytes)"
grep -iE "closed|lost|disconnect|connection|broken" "$TMP/err2" | head -1 | sed 's/^/# client: /'
grep -qiE "closed|lost|disconnect|connection|broken" "$TMP/err2"
ok $? "and reports the lost connection"
safety_fsshd_start
safety_known "$UP"
safety_known "$DOWN"
fs "$SAFETY_PORT" "get -a slow slow"
ok "$( [ $? -eq 0 ] && [ "$(sha "$L/slow")" = "$(sha "$H/slow")" ]; echo $?)" \
    "after the restart, a resume completes identically"
done_testing
