#!/usr/bin/env bash
# fsshd -E log_file, as root with OpenSSH's ssh: log lines of the
# listener, of each connection's monitor and of its pre-auth process are
# appended to the file (what was there stays), nothing goes to stderr,
# and a user's command does not inherit the file; an unwritable path is
# refused at start.
. "$top_srcdir/tests/regress/lib.sh"
. "$top_srcdir/tests/regress/fsshd-lib.sh"
fsshd_require
case $FSSHD in /*) ;; *) FSSHD=$PWD/$FSSHD ;; esac

u=elog-$$
fsshd_user "$u" "$TMP/home" key
ssh-keygen -q -t ed25519 -N '' -f "$TMP/hostkey" </dev/null
port=$(free_port)
fsshd_config "$TMP/fsshd_config" "$port" <<EOC
UsePAM no
LogLevel VERBOSE
EOC
echo "a line from before" >"$TMP/fsshd.log"
"$FSSHD" -f "$TMP/fsshd_config" -E "$TMP/fsshd.log" 2>"$TMP/stderr" &
track_pid $!
wait_port "$port"
fsshd_known "$port"
kssh() { fsshd_ssh 60 key "$port" "$u" "$@" </dev/null; }

fds=$(kssh 'ls -l /proc/self/fd/ 2>/dev/null')
ok "$( [ -n "$fds" ]; echo $?)" "a command runs"
ok "$(echo "$fds" | grep -q "fsshd.log"; [ $? -ne 0 ]; echo $?)" \
    "the command does not inherit the log file"
wait_log "$TMP/fsshd.log" "Received disconnect from 127.0.0.1"
ok "$(head -1 "$TMP/fsshd.log" | grep -qx "a line from before"; echo $?)" \
    "the file is appended to"
ok "$(grep -q "Server listening on 127.0.0.1 port $port" "$TMP/fsshd.log" &&
    grep -q "Accepted publickey for $u from 127.0.0.1" "$TMP/fsshd.log" &&
    grep -q "Received disconnect from 127.0.0.1" "$TMP/fsshd.log"; echo $?)" \
    "the listener's, the monitor's and the session's lines are in it"
ok "$( [ ! -s "$TMP/stderr" ]; echo $?)" "nothing on stderr: $(head -1 "$TMP/stderr")"
"$FSSHD" -f "$TMP/fsshd_config" -E "$TMP/no/such/dir/log" -t 2>"$TMP/err"
ok "$( [ $? -ne 0 ] && grep -q "Couldn't open logfile $TMP/no/such/dir/log" "$TMP/err"; echo $?)" \
    "an unwritable log file is refused at start"

done_testing
