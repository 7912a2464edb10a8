#!/usr/bin/env bash
# ListenAddress with host names, as root with OpenSSH's ssh: "localhost",
# "localhost:port" and "[localhost]:port" listen on every address of the
# name (127.0.0.1, and ::1 when the machine has IPv6 loopback);
# AddressFamily inet keeps IPv4 only; a name that does not resolve is a
# clear error at fsshd -t and at start.
. "$top_srcdir/tests/regress/lib.sh"
. "$top_srcdir/tests/regress/fsshd-lib.sh"
fsshd_require getent
getent ahostsv4 localhost | grep -q '^127\.0\.0\.1 ' ||
    skip_all "localhost does not resolve to 127.0.0.1 here"
have6=
if getent ahostsv6 localhost | grep -q '^::1 ' &&
    /usr/bin/python3 -c 'import socket
s = socket.socket(socket.AF_INET6)
s.bind(("::1", 0))' 2>/dev/null; then
	have6=1
fi

u=gapls$$
fsshd_user "$u" "$TMP/home" key
ssh-keygen -q -t ed25519 -N '' -f "$TMP/hostkey" </dev/null
hk=$(cut -d' ' -f1,2 "$TMP/hostkey.pub")

# conf NAME LINES...: a configuration file with the given lines.
conf() {
	local name=$1
	shift
	{
		printf '%s\n' "PerSourcePenalties no" "HostKey $TMP/hostkey" \
		    "PidFile $TMP/$name.pid" "UsePAM no" "$@"
	} >"$TMP/$name.conf"
}
# start NAME PORT: fsshd on conf NAME, waiting for 127.0.0.1:PORT.
start() {
	"$FSSHD" -f "$TMP/$1.conf" -e 2>"$TMP/$1.log" &
	track_pid $!
	# The pid file comes after every listener is open and logged.
	wait_port "$2" && wait_file "$TMP/$1.pid"
}
kssh() { # HOST PORT command
	echo "[$1]:$2 $hk" >>"$TMP/known"
	timeout 60 ssh -F /dev/null -o UserKnownHostsFile="$TMP/known" -o BatchMode=yes \
	    -o IdentitiesOnly=yes -i "$TMP/key" -p "$2" "$u@$1" "${@:3}" </dev/null
}

# 1. ListenAddress localhost on Port.
p1=$(free_port)
conf plain "Port $p1" "ListenAddress localhost"
"$FSSHD" -t -f "$TMP/plain.conf" 2>"$TMP/t.err"
ok "$( [ $? -eq 0 ] && [ ! -s "$TMP/t.err" ]; echo $?)" "fsshd -t accepts ListenAddress localhost"
start plain "$p1"
ok "$(grep -q "Server listening on 127.0.0.1 port $p1\." "$TMP/plain.log"; echo $?)" \
    "ListenAddress localhost listens on 127.0.0.1"
out=$(kssh 127.0.0.1 "$p1" 'echo "$SSH_CONNECTION"' 2>"$TMP/err")
ok "$(echo "$out" | grep -Eq "^127\.0\.0\.1 [0-9]+ 127\.0\.0\.1 $p1\$"; echo $?)" \
    "a login through it: $out$(tail -1 "$TMP/err")"
if [ -n "$have6" ]; then
	ok "$(grep -q "Server listening on ::1 port $p1\." "$TMP/plain.log"; echo $?)" \
	    "and on ::1, localhost's IPv6 address"
	out=$(kssh ::1 "$p1" 'echo "$SSH_CONNECTION"' 2>"$TMP/err")
	ok "$(echo "$out" | grep -Eq "^::1 [0-9]+ ::1 $p1\$"; echo $?)" \
	    "a login over ::1: $out$(tail -1 "$TMP/err")"
else
	skip "no IPv6 loopback: localhost is 127.0.0.1 alone"
	skip "no IPv6 loopback"
fi

# 2. localhost:port and [localhost]:port, AddressFamily inet.
p2=$(free_port)
p3=$(free_port)
p0=$(free_port)
conf ports "Port $p0" "AddressFamily inet" "ListenAddress localhost:$p2" \
    "ListenAddress [localhost]:$p3"
start ports "$p3"
ok "$(grep -q "Server listening on 127.0.0.1 port $p2\." "$TMP/ports.log" &&
    grep -q "Server listening on 127.0.0.1 port $p3\." "$TMP/ports.log" &&
    ! grep -q "Server listening on ::1" "$TMP/ports.log" &&
    ! grep -q "port $p0\." "$TMP/ports.log"; echo $?)" \
    "localhost:port and [localhost]:port, IPv4 only with AddressFamily inet"
out=$(kssh 127.0.0.1 "$p2" 'echo ok' 2>/dev/null)
ok "$( [ "$out" = ok ]; echo $?)" "a login on localhost:port"

# 3. A name that does not resolve.
p4=$(free_port)
conf bad "Port $p4" "ListenAddress 127.0.0.1" "ListenAddress no-such-host.invalid"
"$FSSHD" -t -f "$TMP/bad.conf" 2>"$TMP/t.err"
ok "$( [ $? -ne 0 ] &&
    grep -q "ListenAddress no-such-host.invalid: cannot resolve no-such-host.invalid" "$TMP/t.err"; echo $?)" \
    "fsshd -t: $(head -1 "$TMP/t.err")"
timeout 60 "$FSSHD" -f "$TMP/bad.conf" -e 2>"$TMP/bad.log"
rc=$?
ok "$( [ $rc -ne 0 ] && [ $rc -ne 124 ] &&
    grep -q "cannot resolve no-such-host.invalid" "$TMP/bad.log"; echo $?)" \
    "fsshd refuses to start: $(grep -v "Server listening" "$TMP/bad.log" | head -1)"
done_testing
