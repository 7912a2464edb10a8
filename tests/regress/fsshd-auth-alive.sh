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
kssh() { fsshd_ssh 30 key "$port" "$u" "$@"; }

out=$(kssh -v 'sleep 4; echo still-here' 2>"$TMP/live.err" </dev/null)
ok "$( [ "$out" = still-here ] && grep -q 'keepalive@openssh.com' "$TMP/live.err"; echo $?)" \
    "a live client answers keepalive@openssh.com and a 4 s quiet session survives"

# ssh itself in the background (not a function's subshell): SIGSTOP hits it.
ssh "${FSSHD_SSH[@]}" -i "$TMP/key" -p "$port" "$u@127.0.0.1" 'exec sleep 20' </dev/null >/dev/null 2>&1 &
cpid=$!
track_pid "$cpid"
for i in $(seq 1 50); do
	grep -q "exec for $u from .*: exec sleep 20" "$TMP/server.log" && break
	sleep 0.1
done
sleep 0.5
kill -STOP "$cpid"
start=$(date +%s)
for i in $(seq 1 100); do
	grep -q "Timeout, client not responding" "$TMP/server.log" && break
	sleep 0.1
done
took=$(( $(date +%s) - start ))
kill -CONT "$cpid"
wait "$cpid" 2>/dev/null
rc=$?
ok "$(grep -q "Timeout, client not responding from 127.0.0.1" "$TMP/server.log" &&
    [ "$took" -ge 2 ] && [ "$took" -le 10 ]; echo $?)" \
    "a stopped client is disconnected after ClientAliveCountMax unanswered requests (${took}s), logged"
ok "$( [ "$rc" -ne 0 ]; echo $?)" "the stopped client's session was ended (ssh exit $rc)"
for i in $(seq 1 30); do pgrep -u "$u" >/dev/null || break; sleep 0.1; done
ok "$(! pgrep -u "$u" >/dev/null; echo $?)" "and its command was hung up"

done_testing
