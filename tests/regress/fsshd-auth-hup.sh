#!/usr/bin/env bash
# SIGHUP in configuration mode, as root with OpenSSH's ssh: the listener
# re-executes itself (same pid), a changed setting takes effect for new
# connections, a session started before goes on to its end, and a
# configuration that does not load is refused with a log line while the
# old one keeps serving.
. "$top_srcdir/tests/regress/lib.sh"
. "$top_srcdir/tests/regress/fsshd-lib.sh"
fsshd_require
case $FSSHD in /*) ;; *) FSSHD=$PWD/$FSSHD ;; esac

u=hup-$$
fsshd_user "$u" "$TMP/home" key
ssh-keygen -q -t ed25519 -N '' -f "$TMP/hostkey" </dev/null
port=$(free_port)
conf() {
	fsshd_config "$TMP/fsshd_config" "$port" <<EOC
PerSourcePenalties no
UsePAM no
SetEnv FERRY_GEN=$1
EOC
}
conf one
fsshd_start "$TMP/fsshd_config" "$TMP/server.log" "$port"
pid=$(cat "$TMP/fsshd.pid")
fsshd_known "$port"
kssh() { fsshd_ssh 60 key "$port" "$u" "$@" </dev/null; }
slog() { wait_log "$TMP/server.log" "$2" "$1"; } # COUNT ERE

ok "$( [ "$(kssh 'echo $FERRY_GEN')" = one ]; echo $?)" "the first configuration is served"
kssh 'sleep 3; echo "old session: $FERRY_GEN"' >"$TMP/old.out" 2>/dev/null &
oldpid=$!
slog 1 "exec for $u .*sleep 3"
conf two
kill -HUP "$pid"
slog 1 "Received SIGHUP; restarting." && slog 2 "Server listening on 127.0.0.1 port $port"
ok $? "SIGHUP: the listener restarts and listens again"
out=$(kssh 'echo $FERRY_GEN')
ok "$( [ "$out" = two ] && kill -0 "$pid" && [ "$(cat "$TMP/fsshd.pid")" = "$pid" ]; echo $?)" \
    "a new connection gets the new setting (same listener pid)"
wait "$oldpid"
ok "$( [ "$(cat "$TMP/old.out")" = "old session: one" ]; echo $?)" \
    "a session from before the reload runs to its end"
echo "NoSuchKeyword yes" >>"$TMP/fsshd_config"
kill -HUP "$pid"
slog 1 "does not load"
ok $? "a configuration that does not load is refused on SIGHUP, logged"
out=$(kssh 'echo $FERRY_GEN')
ok "$( [ "$out" = two ] && [ "$(grep -c 'Received SIGHUP; restarting' "$TMP/server.log")" -eq 1 ]; echo $?)" \
    "and the running configuration keeps serving"

done_testing
