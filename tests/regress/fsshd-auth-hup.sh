#!/usr/bin/env bash
# SIGHUP in configuration mode, as root with OpenSSH's ssh: the listener
# re-executes itself (same pid), a changed setting takes effect for new
# connections, a session started before goes on to its end, and a
# configuration that does not load is refused with a log line while the
# old one keeps serving.
. "$top_srcdir/tests/regress/lib.sh"
require_root
require_cmd ssh ssh-keygen useradd userdel
FSSHD=$(ferry_bin fsshd)
[ -x "$FSSHD" ] || skip_all "fsshd not built"
case $FSSHD in /*) ;; *) FSSHD=$PWD/$FSSHD ;; esac

u=hup-$$
useradd -M -d "$TMP/home" -s /bin/sh -p '*' "$u" || skip_all "cannot create a test user"
at_exit "userdel $u"
mkdir -p "$TMP/home/.ssh"
ssh-keygen -q -t ed25519 -N '' -f "$TMP/key" </dev/null
cp "$TMP/key.pub" "$TMP/home/.ssh/authorized_keys"
chown -R "$u:" "$TMP/home"
ssh-keygen -q -t ed25519 -N '' -f "$TMP/hostkey" </dev/null
port=$(free_port)
conf() {
	cat >"$TMP/fsshd_config" <<EOC
PerSourcePenalties no
Port $port
ListenAddress 127.0.0.1
HostKey $TMP/hostkey
PidFile $TMP/fsshd.pid
UsePAM no
SetEnv FERRY_GEN=$1
EOC
}
conf one
"$FSSHD" -f "$TMP/fsshd_config" -e 2>"$TMP/server.log" &
track_pid $!
wait_port "$port"
pid=$(cat "$TMP/fsshd.pid")
echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$TMP/hostkey.pub")" >"$TMP/known"
kssh() { timeout 30 ssh -F /dev/null -o UserKnownHostsFile="$TMP/known" -o BatchMode=yes \
    -o IdentitiesOnly=yes -i "$TMP/key" -p "$port" "$u@127.0.0.1" "$@" </dev/null; }
wait_log() { # count pattern
	local i
	for i in $(seq 1 50); do
		[ "$(grep -c "$2" "$TMP/server.log")" -ge "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

ok "$( [ "$(kssh 'echo $FERRY_GEN')" = one ]; echo $?)" "the first configuration is served"
kssh 'sleep 3; echo "old session: $FERRY_GEN"' >"$TMP/old.out" 2>/dev/null &
oldpid=$!
wait_log 1 "exec for $u .*sleep 3"
conf two
kill -HUP "$pid"
wait_log 1 "Received SIGHUP; restarting." && wait_log 2 "Server listening on 127.0.0.1 port $port"
ok $? "SIGHUP: the listener restarts and listens again"
out=$(kssh 'echo $FERRY_GEN')
ok "$( [ "$out" = two ] && kill -0 "$pid" && [ "$(cat "$TMP/fsshd.pid")" = "$pid" ]; echo $?)" \
    "a new connection gets the new setting (same listener pid)"
wait "$oldpid"
ok "$( [ "$(cat "$TMP/old.out")" = "old session: one" ]; echo $?)" \
    "a session from before the reload runs to its end"
echo "NoSuchKeyword yes" >>"$TMP/fsshd_config"
kill -HUP "$pid"
wait_log 1 "does not load"
ok $? "a configuration that does not load is refused on SIGHUP, logged"
out=$(kssh 'echo $FERRY_GEN')
ok "$( [ "$out" = two ] && [ "$(grep -c 'Received SIGHUP; restarting' "$TMP/server.log")" -eq 1 ]; echo $?)" \
    "and the running configuration keeps serving"

done_testing
