#!/usr/bin/env bash
# fsshd's connection limits, as root: MaxStartups (30 half-open
# connections, then a real login still gets through with the configured
# probability; past "full" every new connection is dropped); LoginGraceTime
# closes an idle pre-auth connection; PerSourcePenalties block a source
# after repeated failed logins and after a crash, the block expires,
# PerSourceNetBlockSize widens what counts as one source, and
# PerSourcePenaltyExemptList exempts a source.
. "$top_srcdir/tests/regress/lib.sh"
. "$top_srcdir/tests/regress/fsshd-lib.sh"
fsshd_require setsid

tag=$$
getent passwd fsshd >/dev/null ||
    useradd --system --no-create-home --shell /usr/sbin/nologin fsshd ||
    skip_all "cannot create the fsshd account"
u=lim-$tag
fsshd_user "$u" "$TMP/home" ukey
ssh-keygen -q -t ed25519 -N '' -f "$TMP/hostkey" </dev/null
printf '#!/bin/sh\necho wrong\n' >"$TMP/askpass-bad"
chmod 755 "$TMP/askpass-bad"

port=$(free_port)
fsshd_known "$port"
# start EXTRA-CONFIG-LINES...: (re)start fsshd with these settings.
# The previous fsshd must be gone before the next binds the same port,
# and fsshd writes its pid file once it listens.
start() {
	[ -n "${fpid:-}" ] && stop_pid "$fpid"
	rm -f "$TMP/fsshd.pid"
	{
		echo "PasswordAuthentication yes"
		echo "KbdInteractiveAuthentication no"
		echo "LogLevel VERBOSE"
		printf '%s\n' "$@"
	} | fsshd_config "$TMP/fsshd_config" "$port"
	: >"$TMP/server.log"
	"$FSSHD" -f "$TMP/fsshd_config" -e 2>"$TMP/server.log" &
	fpid=$!
	track_pid $fpid
	wait_file "$TMP/fsshd.pid"
}
login() { # [ssh options]: 0 when a key login runs a command
	[ "$(ssh "$@" "${FSSHD_SSH[@]}" -o ConnectTimeout=60 -i "$TMP/ukey" \
	    -p "$port" "$u@127.0.0.1" 'echo in' 2>/dev/null)" = in ]
}
badpw() { # one connection with one wrong password
	SSH_ASKPASS=$TMP/askpass-bad SSH_ASKPASS_REQUIRE=force DISPLAY=:0 \
	    setsid -w ssh -F /dev/null -o UserKnownHostsFile="$TMP/known" \
	    -o PubkeyAuthentication=no -o NumberOfPasswordPrompts=1 \
	    -o PreferredAuthentications=password -p "$port" "$u@127.0.0.1" \
	    true </dev/null >/dev/null 2>&1
}
# halfopen N: N connections that never authenticate (fds 20 ...),
# once the listener has seen them all (it logs each one).
halfopen() {
	local i
	conns=$(grep -c 'Connection from 127.0.0.1 port' "$TMP/server.log")
	for i in $(seq 1 "$1"); do
		eval "exec $((19 + i))<>/dev/tcp/127.0.0.1/$port"
	done
	wait_log "$TMP/server.log" 'Connection from 127.0.0.1 port' \
	    $((conns + $1))
}
# halfclose N: closes them; until the listener has reaped their processes
# a new connection may still be dropped, so callers retry (relogin).
halfclose() {
	local i
	for i in $(seq 1 "$1"); do
		eval "exec $((19 + i))<&-"
	done
}
relogin() { wait_until login; }

# MaxStartups 30:10:100: with 30 unauthenticated connections a new one is
# dropped with probability 10%: five tries all dropped is 1e-5.
start "MaxStartups 30:10:100" "PerSourcePenaltyExemptList 127.0.0.1"
halfopen 30
got=1
for try in 1 2 3 4 5; do
	login && { got=0; break; }
done
ok $got "MaxStartups 30:10:100: 30 half-open connections, a real login gets through (try $try)"
halfclose 30
# MaxStartups 10 (start = full = 10): with 10 unauthenticated
# connections every new connection is dropped, until they go.
start "MaxStartups 10" "PerSourcePenaltyExemptList 127.0.0.1"
halfopen 10
login
ok "$( [ $? -ne 0 ] && grep -q 'drop connection from 127.0.0.1: MaxStartups' \
    "$TMP/server.log"; echo $?)" "MaxStartups full: a new connection is dropped, with a log line"
halfclose 10
relogin
ok $? "once the half-open connections are gone, logins work again"

# LoginGraceTime: an idle connection is closed after 2 seconds.  Only a
# lower bound is asserted (a loaded machine may close it late); without
# the setting the default of 120 s would outlast the 60 s timeout.
start "LoginGraceTime 2" "PerSourcePenaltyExemptList 127.0.0.1"
exec 8<>"/dev/tcp/127.0.0.1/$port"
t0=$(date +%s)
timeout 60 cat <&8 >/dev/null
rc=$?
t1=$(date +%s)
exec 8<&-
ok "$( [ $rc -ne 124 ] && [ $((t1 - t0)) -ge 1 ]; echo $?)" \
    "LoginGraceTime 2 closes an idle pre-auth connection ($((t1 - t0)) s)"
wait_log "$TMP/server.log" 'Timeout before authentication for 127.0.0.1'
ok $? "and logs it"

# PerSourcePenalties: two failed logins (3 s each) reach min 5 s: the
# source is refused, until the penalty (capped at max 6 s) expires.
start "PerSourcePenalties authfail:3s noauth:1s min:5s max:6s crash:30s"
badpw
badpw
# The listener records the penalty when it reaps the second process.
wait_log "$TMP/server.log" 'penalty: authfail for 127.0.0.1, refused'
login
ok "$( [ $? -ne 0 ] && grep -q 'penalty: authfail for 127.0.0.1, refused' "$TMP/server.log" &&
    grep -q 'drop connection from 127.0.0.1: penalty' "$TMP/server.log"; echo $?)" \
    "after repeated failed logins the source is refused"
login -b 127.0.0.2
ok $? "another source (127.0.0.2, PerSourceNetBlockSize 32) is not refused"
sleep 6.5
login
ok $? "the penalty expires"
# A crash of a pre-auth process (killed by SIGSEGV): 30 s at once,
# capped at max (6 s).  The connection's monitor forks its pre-auth
# process: wait until that grandchild of the listener exists (after the
# processes of the earlier logins are gone, so that it is the only one).
listener=$(cat "$TMP/fsshd.pid")
no_children() { [ -z "$(pgrep -P "$listener")" ]; }
wait_until no_children
exec 8<>"/dev/tcp/127.0.0.1/$port"
preauth() {
	local m
	for m in $(pgrep -P "$listener"); do
		pgrep -P "$m"
	done
}
has_preauth() { [ -n "$(preauth)" ]; }
wait_until has_preauth
for c in $(preauth); do kill -SEGV "$c"; done
exec 8<&-
wait_log "$TMP/server.log" 'penalty: crash for 127.0.0.1, refused'
login
ok "$( [ $? -ne 0 ] && grep -q 'penalty: crash for 127.0.0.1, refused' \
    "$TMP/server.log"; echo $?)" "a crashed pre-auth process penalises its source"
ok "$(kill -0 "$listener"; echo $?)" "the listener survives"
# PerSourceNetBlockSize 8: 127.0.0.1's failures block 127.0.0.2 too.
start "PerSourcePenalties authfail:3s min:5s max:6s" "PerSourceNetBlockSize 8:64"
"$FSSHD" -T -f "$TMP/fsshd_config" | grep -q '^persourcenetblocksize 8:64$'
ok $? "-T shows PerSourceNetBlockSize"
badpw
badpw
wait_log "$TMP/server.log" 'penalty: authfail for 127.0.0.1, refused'
login -b 127.0.0.2
ok "$( [ $? -ne 0 ] && grep -q 'drop connection from 127.0.0.2: penalty' "$TMP/server.log"; echo $?)" \
    "PerSourceNetBlockSize 8: the whole 127/8 block is refused"
# The exempt list: the same failures from an exempt source change nothing.
start "PerSourcePenalties authfail:3s min:5s max:6s" \
    "PerSourcePenaltyExemptList 10.0.0.0/8,127.0.0.0/8"
badpw
badpw
badpw
login
ok "$( [ $? -eq 0 ] && ! grep -q 'penalty:' "$TMP/server.log"; echo $?)" \
    "PerSourcePenaltyExemptList: an exempt source is never penalised"
done_testing
