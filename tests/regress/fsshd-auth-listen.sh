#!/usr/bin/env bash
# fsshd's listeners, as root with OpenSSH's ssh: ListenAddress on IPv6
# ([::1]:port) beside IPv4, the client's IPv6 address in SSH_CONNECTION
# and in Match Address, and AddressFamily inet leaving IPv6 addresses
# out.  Skipped when the machine has no ::1.
. "$top_srcdir/tests/regress/lib.sh"
. "$top_srcdir/tests/regress/fsshd-lib.sh"
fsshd_require
/usr/bin/python3 -c 'import socket
s = socket.socket(socket.AF_INET6)
s.bind(("::1", 0))' 2>/dev/null || skip_all "no IPv6 loopback (::1) on this machine"

u=lst-$$
fsshd_user "$u" "$TMP/home" key
ssh-keygen -q -t ed25519 -N '' -f "$TMP/hostkey" </dev/null
p4=$(free_port)
p6=$(free_port)
fsshd_config "$TMP/fsshd_config" "$p4" <<EOC
PerSourcePenalties no
ListenAddress [::1]:$p6
UsePAM no
Match Address ::1
	SetEnv FERRY_VIA=ipv6
EOC
fsshd_start "$TMP/fsshd_config" "$TMP/server.log" "$p4"
hk=$(cut -d' ' -f1,2 "$TMP/hostkey.pub")
printf '[127.0.0.1]:%s %s\n[::1]:%s %s\n' "$p4" "$hk" "$p6" "$hk" >"$TMP/known"
kssh() { timeout 60 ssh "${FSSHD_SSH[@]}" -i "$TMP/key" "$@" </dev/null; }

ok "$(grep -q "Server listening on ::1 port $p6" "$TMP/server.log" &&
    grep -q "Server listening on 127.0.0.1 port $p4" "$TMP/server.log"; echo $?)" \
    "ListenAddress [::1]:port listens beside 127.0.0.1"
out=$(kssh -p "$p6" "$u@::1" 'echo "$SSH_CONNECTION|${FERRY_VIA:-}"' 2>"$TMP/err")
ok "$(echo "$out" | grep -Eq "^::1 [0-9]+ ::1 $p6\|ipv6\$"; echo $?)" \
    "an IPv6 client: SSH_CONNECTION and Match Address ::1 ($out)"
ok "$(grep -q "Accepted publickey for $u from ::1 port" "$TMP/server.log"; echo $?)" "logged with its IPv6 address"
out=$(kssh -p "$p4" "$u@127.0.0.1" 'echo "${FERRY_VIA:-none}"' 2>/dev/null)
ok "$( [ "$out" = none ]; echo $?)" "IPv4 clients do not match Address ::1"

stop_pid "$(cat "$TMP/fsshd.pid")"
p4b=$(free_port)
sed -e "s/^Port .*/Port $p4b/" -e "s|^PidFile .*|PidFile $TMP/fsshd2.pid|" "$TMP/fsshd_config" >"$TMP/inet_config"
sed -i "1i AddressFamily inet" "$TMP/inet_config"
fsshd_start "$TMP/inet_config" "$TMP/server2.log" "$p4b"
ok "$(! grep -q "Server listening on ::1" "$TMP/server2.log" &&
    ! /usr/bin/python3 -c 'import socket, sys
socket.create_connection(("::1", int(sys.argv[1])), 1)' "$p6" 2>/dev/null; echo $?)" \
    "AddressFamily inet leaves the IPv6 ListenAddress out"

done_testing
