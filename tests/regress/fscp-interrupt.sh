#!/usr/bin/env bash
# fscp and signals: SIGINT (or SIGTERM) during a copy ends it in order in
# every mode: the transfer stops, the sessions are closed and transport
# processes reaped, nothing but the partial target is left behind (no
# *.ferry-part, no stray files), one line "fscp: interrupted" is printed
# and the exit status is 1, as OpenSSH's scp exits on a signal.  A
# following -a copy completes the file identically.  Modes: -3 over
# SFTP (sshd to fsshd, slowed with -l), an SFTP download with -a resume
# afterwards, a legacy -O download over the in-process channel, legacy
# -O -3 and SFTP with -S transports that never answer (the transports
# are reaped).  Each copy is interrupted once its first bytes arrived
# (the target's size is polled).
. "$top_srcdir/tests/regress/lib.sh"
. "$top_srcdir/tests/regress/fscp-lib.sh"
require_cmd cmp
fscp_setup fi

fscp_ends big 3000000

# interrupt NAME SIGNAL TARGET-FILE FSCP-ARGS...: run fscp in the
# background, send SIGNAL once TARGET-FILE has bytes, and leave its exit
# status in $st and its stderr in $TMP/NAME.err.
interrupt() {
	local name=$1 sig=$2 target=$3 pid
	shift 3
	"$FSCP" "${SSH_OPTS[@]}" "$@" 2>"$TMP/$name.err" &
	pid=$!
	if ! wait_file "$target"; then
		diag "$name: no bytes arrived"
		kill "$pid" 2>/dev/null
	fi
	kill -"$sig" "$pid"
	wait "$pid"
	st=$?
}

# The stderr of an interrupted run: exactly the one line.
only_line() { [ "$(cat "$1")" = "fscp: interrupted" ]; }
no_part() { [ -z "$(find "$@" -name '*.ferry-part' -o -name '.ferry*')" ]; }

# -3 over SFTP: small batches so that bytes arrive early, 800 kbit/s.
interrupt three INT "$uh/three" -q -3 -l 800 -X buffer=16384 \
    -X nrequests=4 "$S$A/big" "$F/three"
ok "$( [ "$st" -eq 1 ]; echo $?)" "-3: SIGINT gives exit status 1 (got $st)"
ok "$(only_line "$TMP/three.err"; echo $?)" "-3: one line, fscp: interrupted" ||
	diag "$(cat "$TMP/three.err")"
sz=$(stat -c %s "$uh/three")
ok "$( [ "$sz" -gt 0 ] && [ "$sz" -lt 3000000 ] && no_part "$uh" "$A" &&
    [ "$(ls "$uh")" = "$(printf 'big\nthree')" ]; echo $?)" \
    "-3: the partial target ($sz bytes) and nothing else is left"
"$FSCP" -q -3 -a "${SSH_OPTS[@]}" "$S$A/big" "$F/three"
ok "$( [ $? -eq 0 ] && cmp -s "$A/big" "$uh/three"; echo $?)" \
    "-3: a following -a copy completes identically"

# SFTP download from fsshd, SIGTERM, then -a resumes it.
interrupt get TERM "$TMP/get" -q -l 800 -X nrequests=2 -X buffer=16384 \
    "$F/big" "$TMP/get"
ok "$( [ "$st" -eq 1 ] && only_line "$TMP/get.err"; echo $?)" \
    "download: SIGTERM gives one line and exit status 1" ||
	diag "$st $(cat "$TMP/get.err")"
sz=$(stat -c %s "$TMP/get")
ok "$( [ "$sz" -gt 0 ] && [ "$sz" -lt 3000000 ] && no_part "$TMP"; echo $?)" \
    "download: the partial file ($sz bytes) is kept for -a"
"$FSCP" -a "${SSH_OPTS[@]}" "$F/big" "$TMP/get" 2>"$TMP/get2.err"
ok "$( [ $? -eq 0 ] && cmp -s "$A/big" "$TMP/get" &&
    grep -q "Resuming" "$TMP/get2.err"; echo $?)" \
    "download: -a resumes it and the file is identical"

# Legacy protocol over the in-process channel.
interrupt legacy INT "$TMP/legacy" -q -O -l 800 "$F/big" "$TMP/legacy"
ok "$( [ "$st" -eq 1 ] && only_line "$TMP/legacy.err"; echo $?)" \
    "-O download: SIGINT gives one line and exit status 1" ||
	diag "$st $(cat "$TMP/legacy.err")"
"$FSCP" -q -O "${SSH_OPTS[@]}" "$F/big" "$TMP/legacy"
ok "$( [ $? -eq 0 ] && cmp -s "$A/big" "$TMP/legacy"; echo $?)" \
    "-O download: copied again afterwards"

# Transports that never answer: -O -3 (two of them) and SFTP with -S.
cat >"$TMP/hang" <<EOS
#!/bin/sh
echo \$\$ >>"$TMP/hang.pids"
exec sleep 60
EOS
chmod +x "$TMP/hang"
for mode in "-O -3" "-3" ""; do
	: >"$TMP/hang.pids"
	want=2
	[ -z "$mode" ] && want=1
	# shellcheck disable=SC2086
	interrupt hang INT "$TMP/hang.pids" -q $mode -S "$TMP/hang" \
	    h1:x ${mode:+h2:}y
	# fscp has exited: every transport it started has written its pid
	# unless fscp stopped it first; a second -3 transport is not started
	# when the signal came first, so this wait may run out (5 s).
	for i in $(seq 1 100); do
		[ "$(wc -l <"$TMP/hang.pids")" -ge "$want" ] && break
		sleep 0.05
	done
	gone=0
	while read -r p; do
		wait_gone "$p" || gone=1
	done <"$TMP/hang.pids"
	ok "$( [ "$st" -eq 1 ] && only_line "$TMP/hang.err" && [ $gone -eq 0 ]; echo $?)" \
	    "-S ${mode:-(sftp)}: SIGINT while the transport hangs: exit 1, one line, transports gone" ||
		diag "$st $(cat "$TMP/hang.err")"
done

# A transport that ended is off the list of those a signal stops: its
# pid is free and may be another process's by then.  -O -3 reaps its
# first transport (which exits at once here) while it waits for the
# second (which hangs); in a pid namespace of our own a decoy process
# is then given that pid (ns_last_pid), and SIGINT must leave it alone.
cat >"$TMP/quick" <<EOS
#!/bin/sh
case "\$*" in
*reapone*) echo \$\$ >"$TMP/quick.pid1"; exit 0 ;;
*) echo \$\$ >"$TMP/quick.pid2"; exec sleep 60 ;;
esac
EOS
chmod +x "$TMP/quick"
cat >"$TMP/reap.sh" <<'EOS'
# Runs as pid 1 of a new pid namespace; prints alive, killed or unplaced.
. "$top_srcdir/tests/regress/lib.sh"
"$FSCP" -q -O -3 -S "$OUT/quick" reapone:x reaptwo:y 2>"$OUT/reap.err" &
f=$!
reaped() {
	[ -s "$OUT/quick.pid1" ] && [ -s "$OUT/quick.pid2" ] &&
	    [ ! -e "/proc/$(cat "$OUT/quick.pid1")" ]
}
wait_until reaped || { echo unplaced; exit 0; }
p1=$(cat "$OUT/quick.pid1")
echo $((p1 - 1)) >/proc/sys/kernel/ns_last_pid
sleep 60 &
d=$!
[ "$d" = "$p1" ] || { echo unplaced; exit 0; }
kill -INT "$f"
wait "$f"
if pid_alive "$d"; then echo alive; else echo killed; fi
EOS
if unshare --pid --fork --mount-proc true 2>/dev/null; then
	res=$(OUT=$TMP FSCP=$FSCP unshare --pid --fork --mount-proc \
	    bash "$TMP/reap.sh" 2>/dev/null)
	if [ "$res" = unplaced ]; then
		skip "-O -3: the decoy could not be given the freed pid"
	else
		ok "$( [ "$res" = alive ]; echo $?)" \
		    "-O -3: SIGINT spares the freed pid of a transport already reaped ($res)"
	fi
else
	skip "-O -3 reaped transport: no pid namespace (unshare --pid)"
fi
done_testing
