#!/usr/bin/env bash
# Key re-exchanges around the login, as root, with OpenSSH's ssh and
# paramiko: fsshd starts no rekey of its own before authentication
# (OpenSSH's ssh refuses a KEXINIT while it authenticates, and a key
# exchange in flight cannot be handed to the post-auth process), so a
# time limit that runs out while the user types a password, or a byte
# limit a long banner crosses, no longer ends the connection; the limits
# apply after login; a client that rekeys at once after login, or right
# behind its last USERAUTH_REQUEST, keeps its connection.
. "$top_srcdir/tests/regress/lib.sh"
. "$top_srcdir/tests/regress/fsshd-lib.sh"
fsshd_require chpasswd setsid

u=gaprk$$
pw="Pw-$u"
fsshd_user "$u" "$TMP/home" key
echo "$u:$pw" | chpasswd
# A user who takes two seconds to type the password.
printf '#!/bin/sh\nsleep 2\necho "%s"\n' "$pw" >"$TMP/askpass"
chmod 755 "$TMP/askpass"
ssh-keygen -q -t ed25519 -N '' -f "$TMP/hostkey" </dev/null
awk 'BEGIN { for (i = 0; i < 60; i++) printf "%070d\n", i }' >"$TMP/banner"

# start NAME EXTRA-CONFIG-LINES: an fsshd logging at DEBUG; sets $port.
start() {
	port=$(free_port)
	fsshd_config "$TMP/$1.conf" "$port" "$TMP/$1.pid" <<EOC
PerSourcePenalties no
UsePAM no
PasswordAuthentication yes
LogLevel DEBUG
$2
EOC
	fsshd_start "$TMP/$1.conf" "$TMP/$1.log" "$port"
	fsshd_known "$port"
}
# ossh [ssh options...] -- command: a login with the key or the password
ossh() {
	SSH_ASKPASS=$TMP/askpass SSH_ASKPASS_REQUIRE=force DISPLAY=:0 \
	    setsid -w timeout 60 ssh -F /dev/null -o UserKnownHostsFile="$TMP/known" \
	    -o IdentitiesOnly=yes -i "$TMP/key" -o NumberOfPasswordPrompts=1 \
	    -p "$port" -l "$u" "$@" </dev/null
}

# 1. RekeyLimit's time runs out while the user types the password.
start time "RekeyLimit default 1"
out=$(ossh -o PreferredAuthentications=password 127.0.0.1 'sleep 2; echo done' 2>"$TMP/err")
ok "$( [ "$out" = done ]; echo $?)" \
    "a password typed after RekeyLimit's interval logs in: $(grep -v Warning "$TMP/err" | tail -1)"
ok "$(grep -q "rekeying after 1 seconds" "$TMP/time.log" &&
    ! grep -q "rekeying after.*\[preauth\]" "$TMP/time.log"; echo $?)" \
    "the time limit rekeys after login, never before"

# 2. A long banner crosses the byte limit during authentication.
start bytes "RekeyLimit 2K
Banner $TMP/banner"
out=$(ossh -o PreferredAuthentications=publickey 127.0.0.1 'seq 1 3000 | wc -l' 2>"$TMP/err")
ok "$( [ "$out" = 3000 ]; echo $?)" \
    "a banner beyond RekeyLimit's bytes: the key login works"
ok "$(grep -q "rekeying after [0-9]* bytes" "$TMP/bytes.log" &&
    ! grep -q "rekeying after.*\[preauth\]" "$TMP/bytes.log"; echo $?)" \
    "the byte limit rekeys after login, never before"

# 3. OpenSSH's ssh rekeys at once after login (its limit is tiny).
start client ""
out=$(ossh -vv -o RekeyLimit=16 -o PreferredAuthentications=publickey 127.0.0.1 \
    'seq 1 3000 | wc -l' 2>"$TMP/err")
n=$(grep -c "SSH2_MSG_KEXINIT sent" "$TMP/err")
ok "$( [ "$out" = 3000 ] && [ "$n" -ge 2 ]; echo $?)" \
    "ssh -o RekeyLimit=16: KEXINIT as soon as it is authenticated ($n exchanges)"

# 4. paramiko: a KEXINIT right behind the last USERAUTH_REQUEST (the
# answer not awaited), and renegotiate_keys() right after login.
if /usr/bin/python3 -c 'import paramiko' 2>/dev/null; then
	cat >"$TMP/pk.py" <<'EOP'
import socket, sys
import paramiko
from paramiko.auth_handler import AuthHandler
port, user, keyfile, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
if mode == "behind":
    accept = AuthHandler._parse_service_accept
    def behind(self, m):
        accept(self, m)         # sends the signed USERAUTH_REQUEST
        self.transport._send_kex_init()
    AuthHandler._parse_service_accept = behind
t = paramiko.Transport(socket.create_connection(("127.0.0.1", port)))
t.start_client(timeout=60)
t.auth_publickey(user, paramiko.Ed25519Key.from_private_key_file(keyfile))
if mode == "after":
    t.renegotiate_keys()
ch = t.open_session(timeout=60)
ch.exec_command("echo hello")
out = ch.makefile().read().decode().strip()
print(out, ch.recv_exit_status())
t.close()
EOP
	for mode in behind after; do
		out=$(timeout 120 /usr/bin/python3 "$TMP/pk.py" "$port" "$u" "$TMP/key" $mode 2>"$TMP/err")
		ok "$( [ "$out" = "hello 0" ]; echo $?)" \
		    "paramiko, KEXINIT $mode the login: $(tail -1 "$TMP/err")"
	done
else
	skip "paramiko not installed (python3-paramiko)"
	skip "paramiko not installed (python3-paramiko)"
fi
done_testing
