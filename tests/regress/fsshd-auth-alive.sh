#!/usr/bin/env bash
# ClientAliveInterval and ClientAliveCountMax, as root with OpenSSH's ssh:
# a live client answers keepalive@openssh.com and keeps a quiet session;
# a client stopped with SIGSTOP is disconnected after the count, with a
# log line.
. "$top_srcdir/tests/regress/lib.sh"
. "$top_srcdir/tests/regress/fsshd-lib.sh"
fsshd_require

u=alive-$$
fsshd_user "$u" "$TMP/home" key
ssh-keygen -q -t ed25519 -N '' -f "$TMP/hostkey" </dev/null
port=$(free_port)
fsshd_config "$TMP/fsshd_config" "$port" <<EOC
PerSourcePenalties no
UsePAM no
ClientAliveInterval 1
ClientAliveCountMax 2
LogLevel DEBUG1
EOC
fsshd_start "$TMP/fsshd_config" "$TMP/server.log" "$port"
fsshd_known "$port"
kssh() { fsshd_ssh 60 key "$port" "$u" "$@"; }

out=$(kssh -v 'sleep 4; echo still-here' 2>"$TMP/live.err" </dev/null)
ok "$( [ "$out" = still-here ] && grep -q 'keepalive@openssh.com' "$TMP/live.err"; echo $?)" \
    "a live client answers keepalive@openssh.com and a 4 s quiet session survives"

# ssh itself in the background (not a function's subshell): SIGSTOP hits it.
ssh "${FSSHD_SSH[@]}" -i "$TMP/key" -p "$port" "$u@127.0.0.1" 'exec sleep 20' </dev/null >/dev/null 2>&1 &
cpid=$!
track_pid "$cpid"
wait_log "$TMP/server.log" "exec for $u from .*: exec sleep 20"
kill -STOP "$cpid"
start=$(date +%s)
wait_log "$TMP/server.log" "Timeout, client not responding"
took=$(( $(date +%s) - start ))
kill -CONT "$cpid"
wait "$cpid" 2>/dev/null
rc=$?
# No bound on the time taken: on a loaded machine the disconnect may come
# late.  Without the keepalives the session would end after its 20 s
# without that log line.
ok "$(grep -q "Timeout, client not responding from 127.0.0.1" "$TMP/server.log"; echo $?)" \
    "a stopped client is disconnected after ClientAliveCountMax unanswered requests (${took}s), logged"
ok "$( [ "$rc" -ne 0 ]; echo $?)" "the stopped client's session was ended (ssh exit $rc)"
no_user_procs() { ! pgrep -u "$u" >/dev/null; }
wait_until no_user_procs
ok $? "and its command was hung up"

done_testing
