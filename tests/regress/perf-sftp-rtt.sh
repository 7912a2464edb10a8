#!/usr/bin/env bash
# Round trips of an SFTP command: fsftp runs a one-command batch (get,
# put) or host:/path through a relay that counts the client's flights
# (login-relay.py), against fsshd's embedded default and OpenSSH's sshd
# with OpenSSH's sftp-server.  The start-up is overlapped: REALPATH ".",
# limits@openssh.com and the first STAT go with INIT, so the first OPEN
# follows VERSION.  Before that, fsftp waited for VERSION, the limits
# reply, the REALPATH reply and the STAT reply, one round trip each:
# 3 flights more than the bounds here.  Over pipes (-D) against
# OpenSSH's sftp-server and fsftp-server, -vv shows the REALPATH and STAT
# replies taken from the requests sent with INIT.  No timing is measured.
# PERF_FSFTP names another fsftp to count (e.g. an older build).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/fsshd-lib.sh"
fsshd_require setpriv /usr/bin/python3 cmp
FSFTP=${PERF_FSFTP:-$(ferry_bin fsftp)}
[ -x "$FSFTP" ] || skip_all "fsftp not built"

# flights PORT COUNTFILE FSFTP-ARGS...: run fsftp through a fresh relay
# to 127.0.0.1:PORT; the destination is the relay.
flights() {
	relay_flights "$1" "$2" -P "$FSFTP" -q "${@:3}" >"$TMP/out.log" 2>&1
}

# check_flights NAME MAX COUNTFILE RC: the run succeeded within MAX.
check_flights() {
	local n
	n=$(nflights "$3")
	diag "$1: $(tr '\n' ' ' <"$3" 2>/dev/null)"
	[ "$4" -eq 0 ] || diag "$(cat "$TMP/out.log")"
	ok "$( [ "$4" -eq 0 ] && [ "${n:-99}" -le "$2" ]; echo $?)" \
	    "$1: $n flights (at most $2)"
}

user=ferry-perf$$
home=$TMP/home
fsshd_embedded "$user" "$home" '*'
head -c 100000 /dev/urandom >"$home/small"
chown "$user:" "$home/small"
fopts=(-o UserKnownHostsFile="$TMP/known" -o IdentitiesOnly=yes
    -o IdentityAgent=none -i "$TMP/id" -o User="$user")

# fsshd: login 4 flights + channel open, subsystem+INIT+early requests,
# OPEN, READ, CLOSE.
echo "get $home/small $TMP/got1" >"$TMP/b1"
flights "$port" "$TMP/c1" "${fopts[@]}" -b "$TMP/b1" 127.0.0.1
rc=$?
check_flights "fsshd, get" 9 "$TMP/c1" $rc
ok "$(cmp -s "$home/small" "$TMP/got1"; echo $?)" "fsshd, get: same file"

echo "put $home/small $home/put1" >"$TMP/b2"
flights "$port" "$TMP/c2" "${fopts[@]}" -b "$TMP/b2" 127.0.0.1
rc=$?
check_flights "fsshd, put" 9 "$TMP/c2" $rc
ok "$(cmp -s "$home/small" "$home/put1"; echo $?)" "fsshd, put: same file"

# host:/path: the is-it-a-directory STAT and the get's STAT both go
# with INIT.
flights "$port" "$TMP/c3" "${fopts[@]}" "127.0.0.1:$home/small" "$TMP/got3"
rc=$?
check_flights "fsshd, host:/path" 9 "$TMP/c3" $rc
ok "$(cmp -s "$home/small" "$TMP/got3"; echo $?)" "fsshd, host:/path: same file"

# fscp: the first STAT (the source, or the upload's target) goes with
# INIT, as fsftp's does: login, channel, subsystem+INIT+STAT, then the
# copy.
FSCP=$(ferry_bin fscp)
fscp_flights() {
	relay_flights "$1" "$2" -P "$FSCP" -q "${@:3}" >"$TMP/out.log" 2>&1
}
fscp_flights "$port" "$TMP/c8" "${fopts[@]}" "127.0.0.1:$home/small" "$TMP/got8"
rc=$?
check_flights "fsshd, fscp download" 9 "$TMP/c8" $rc
ok "$(cmp -s "$home/small" "$TMP/got8"; echo $?)" "fsshd, fscp download: same file"
fscp_flights "$port" "$TMP/c9" "${fopts[@]}" "$home/small" "127.0.0.1:$home/put9"
rc=$?
check_flights "fsshd, fscp upload" 9 "$TMP/c9" $rc
ok "$(cmp -s "$home/small" "$home/put9"; echo $?)" "fsshd, fscp upload: same file"

# A missing source: the prefetched STAT says so and nothing is left over.
echo "get $home/missing $TMP/got4" >"$TMP/b4"
flights "$port" "$TMP/c4" "${fopts[@]}" -b "$TMP/b4" 127.0.0.1
rc=$?
ok "$( [ $rc -ne 0 ] && grep -q 'not found' "$TMP/out.log"; echo $?)" \
    "fsshd, get of a missing file fails as before"

# A batch whose first command is not a transfer: only REALPATH goes
# early, and later commands run as usual.
printf 'pwd\nget %s %s\n' "$home/small" "$TMP/got5" >"$TMP/b5"
flights "$port" "$TMP/c5" "${fopts[@]}" -b "$TMP/b5" 127.0.0.1
rc=$?
ok "$( [ $rc -eq 0 ] && grep -q "Remote working directory: $home" \
    "$TMP/out.log" && cmp -s "$home/small" "$TMP/got5"; echo $?)" \
    "fsshd, pwd then get"

# Over pipes (-D, no relay): OpenSSH's sftp-server and fsftp-server run
# directly take the early requests too; -vv says the prefetched replies
# were used.
FSS=$(ferry_bin fsftp-server)
for srv in /usr/lib/openssh/sftp-server "$FSS"; do
	[ -x "$srv" ] || { skip "$srv is not installed"; continue; }
	rm -f "$TMP/got6"
	printf 'get %s %s\n' "$home/small" "$TMP/got6" >"$TMP/b6"
	"$FSFTP" -vv -b "$TMP/b6" -D "$srv" >"$TMP/o6" 2>&1
	ok "$(cmp -s "$home/small" "$TMP/got6" &&
	    grep -q "request 16 \. was sent with INIT" "$TMP/o6" &&
	    grep -q "request 17 $home/small was sent with INIT" "$TMP/o6"
	    echo $?)" "-D $(basename "$srv"): REALPATH and STAT sent with INIT"
done

# OpenSSH's sshd with OpenSSH's sftp-server (limits@openssh.com).
SS=/usr/lib/openssh/sftp-server
[ -x "$SS" ] || SS=/usr/libexec/openssh/sftp-server
if [ -x "$SS" ]; then
	openssh_sshd_setup "Subsystem sftp $SS"
	openssh_sshd_start
	sed 's/^[^ ]*/[127.0.0.1]:*/' "$TMP/known_hosts" >"$TMP/known2"
	sopts=(-o UserKnownHostsFile="$TMP/known2" -o IdentitiesOnly=yes
	    -o IdentityAgent=none -i "$TMP/id_ed25519" -o User="$(id -un)")
	# sshd: login 6 flights + channel open, subsystem (INIT waits for
	# sshd's window), INIT+early requests, OPEN, READ, CLOSE.
	flights "$SSHD_PORT" "$TMP/c6" "${sopts[@]}" -b "$TMP/b1" 127.0.0.1
	rc=$?
	check_flights "sshd+sftp-server, get" 12 "$TMP/c6" $rc
	rm -f "$home/put1"
	flights "$SSHD_PORT" "$TMP/c7" "${sopts[@]}" -b "$TMP/b2" 127.0.0.1
	rc=$?
	check_flights "sshd+sftp-server, put" 12 "$TMP/c7" $rc
	ok "$(cmp -s "$home/small" "$home/put1"; echo $?)" \
	    "sshd+sftp-server, put: same file"
else
	for _ in 1 2 3; do skip "OpenSSH's sftp-server is not installed"; done
fi
done_testing
