#!/usr/bin/env bash
# fscp -r over one tree-archive@ferry stream, and signals: SIGTERM and
# SIGHUP mid-stream end the copy exactly as SIGINT does: exit status 1,
# exactly one line "fscp: interrupted" on stderr, no temporary or stray
# files on either side (only entries of the source tree, each a prefix
# of its source file), the transport process (-S, an ssh that records
# its pid) stopped and reaped, and a following copy completes
# identically.  Uploads and downloads against fsshd, slowed with -l so
# that the signal lands while the stream runs (once the transport has
# moved the first 200 kB of the 560 kB stream).
. "$top_srcdir/tests/regress/lib.sh"
. "$top_srcdir/tests/regress/fscp-lib.sh"
require_cmd cmp diff find
fscp_setup fg

F=$u@127.0.0.1
mkdir -p "$TMP/tree/sub"
for i in $(seq 1 40); do head -c 12000 /dev/urandom >"$TMP/tree/f$i"; done
for i in $(seq 1 8); do head -c 10000 /dev/urandom >"$TMP/tree/sub/r$i"; done

# A transport that records its pid, runs OpenSSH's ssh and then records
# ssh's exit status (it is not there when the transport was killed).
cat >"$TMP/ssh-rec" <<EOS
#!/bin/sh
echo \$\$ >>"$TMP/ssh.pids"
ssh "\$@"
echo \$? >>"$TMP/ssh.status"
EOS
chmod +x "$TMP/ssh-rec"

# Wait until process PID has FIELD (rchar: read, wchar: written) over
# 150 kB: the stream is under way (the scan before it is a few hundred
# bytes), within lib.sh's deadline.
_moved() {
	local n
	n=$(awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/io" 2>/dev/null)
	[ "${n:-0}" -gt 150000 ]
}
wait_moved() { wait_until _moved "$1" "$2"; }

# How many sessions fsshd saw end with a disconnect message, and without.
ends() {
	echo "$(grep -c 'Received disconnect' "$TMP/fsshd.log")" \
	    "$(grep -c 'Connection closed by' "$TMP/fsshd.log")"
}
# Whether more sessions ended than E0 (an ends line) counted.
more_ends() {
	local e
	e=$(ends)
	[ "$(echo $e | awk '{ print $1 + $2 }')" -gt \
	    "$(echo $1 | awk '{ print $1 + $2 }')" ]
}


# Every file under DIR (relative to it) exists in the source tree and is
# a prefix of its source; no other names (temporaries, spools).
only_prefixes() {
	local dir=$1 f n
	while IFS= read -r -d '' f; do
		f=${f#"$dir"/}
		[ -e "$TMP/tree/$f" ] || { diag "stray: $f"; return 1; }
		[ -f "$TMP/tree/$f" ] || continue
		n=$(stat -c %s "$dir/$f")
		cmp -s -n "$n" "$dir/$f" "$TMP/tree/$f" ||
			{ diag "not a prefix: $f"; return 1; }
	done < <(find "$dir" -mindepth 1 -print0)
}

# run NAME SIGNAL KBITS VIA FSCP-ARGS...: run fscp -r -l KBITS in the
# background, over the in-process client (VIA inproc) or through
# ssh-rec (VIA ssh), and send SIGNAL once the stream is under way.  $st
# is the exit status, $TMP/NAME.err its stderr, $gone 0 when the
# transport exited, $clean 0 when fsshd saw the session end with a
# disconnect message (closed in order, not dropped).
run() {
	local name=$1 sig=$2 limit=$3 via=$4 pid p i e0 e1 field=wchar
	shift 4
	: >"$TMP/ssh.pids"
	: >"$TMP/ssh.status"
	e0=$(ends)
	[ "$via" = ssh ] && set -- -S "$TMP/ssh-rec" "$@"
	case $1 in *:*) field=rchar ;; esac
	"$FSCP" -q -r -X archive=yes -l "$limit" "${SSH_OPTS[@]}" \
	    -P "$fport" "$@" 2>"$TMP/$name.err" &
	pid=$!
	wait_moved "$pid" "$field" || diag "$name: the stream did not start"
	kill -"$sig" "$pid"
	wait "$pid"
	st=$?
	gone=0
	[ "$via" = inproc ] || [ -s "$TMP/ssh.pids" ] || gone=1
	while read -r p; do
		wait_gone "$p" || gone=1
	done <"$TMP/ssh.pids"
	wait_until more_ends "$e0"
	e1=$(ends)
	clean=1
	[ "${e1%% *}" -gt "${e0%% *}" ] && [ "${e1##* }" -eq "${e0##* }" ] &&
		clean=0
}

only_line() { [ "$(cat "$1")" = "fscp: interrupted" ]; }

cp -r "$TMP/tree" "$uh/tree" && chown -R "$u:" "$uh/tree"
for sig in TERM HUP INT; do
	for dir in up down; do
		d=$dir-$sig
		if [ $dir = up ]; then
			# fsshd extracts into up-SIG/tree in the user's home.
			mkdir "$uh/$d" && chown "$u:" "$uh/$d"
			set -- 800 "$TMP/tree" "$F:$d"
			t=$uh/$d
		else
			mkdir "$TMP/$d"
			set -- 2400 "$F:tree" "$TMP/$d"
			t=$TMP/$d
		fi
		run "$d" "$sig" "$1" inproc "$2" "$3"
		ok "$( [ "$st" -eq 1 ] && only_line "$TMP/$d.err"; echo $?)" \
		    "$d: SIG$sig mid-stream: exit status 1, one line fscp: interrupted" ||
			diag "status $st: $(cat "$TMP/$d.err")"
		ok "$( [ $clean -eq 0 ]; echo $?)" \
		    "$d: the session closed in order (fsshd saw a disconnect)"
		ok "$( [ "$(ls -A "$t")" = tree ] && only_prefixes "$t/tree"; echo $?)" \
		    "$d: nothing but (prefixes of) the source's files"
		"$FSCP" -q -r -P "$fport" "${SSH_OPTS[@]}" "$2" "$3"
		ok "$( [ $? -eq 0 ] && diff -r "$TMP/tree" "$t/tree" >/dev/null; echo $?)" \
		    "$d: a following copy completes identically"
	done
done

# Through an external transport: it is not killed but ends by itself
# once the session is closed (ssh-rec records ssh's status), and is gone
# when fscp exits.
mkdir "$uh/ssh" && chown "$u:" "$uh/ssh"
run ssh TERM 800 ssh "$TMP/tree" "$F:ssh"
ok "$( [ "$st" -eq 1 ] && only_line "$TMP/ssh.err" && [ $gone -eq 0 ] &&
    [ "$(wc -l <"$TMP/ssh.status")" -eq 1 ]; echo $?)" \
    "-S: SIGTERM mid-stream: one line, exit 1, the transport ended by itself and is gone" ||
	diag "status $st, transport $(cat "$TMP/ssh.status"): $(cat "$TMP/ssh.err")"
ok "$(only_prefixes "$uh/ssh/tree"; echo $?)" \
    "-S: nothing but (prefixes of) the source's files"
done_testing
