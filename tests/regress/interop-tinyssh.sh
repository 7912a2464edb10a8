#!/usr/bin/env bash
# Interop with TinySSH's server, an independent SSH implementation with
# few algorithms (curve25519 and sntrup761x25519 kex, ssh-ed25519,
# chacha20-poly1305) and public keys (ed25519) only.  tinysshd serves one
# connection on stdin/stdout: a small accept loop on 127.0.0.1 runs one
# per connection, so Ferry's clients use a real TCP socket.
#
# fssh: exec and exit status, stdout and stderr apart, a signal, 8 MiB
# through stdin and back, user keys (an RSA key is refused, the ed25519
# key after it works), known hosts, every algorithm both have, the kex
# guess (TinySSH answers a guessed packet whenever the client's first kex
# is one it has, whatever its own first is), rekeying every 1 MiB; fsftp,
# fscp and fscp -O through the sftp-server and scp TinySSH runs.
. "$top_srcdir/tests/regress/lib.sh"
. "$top_srcdir/tests/regress/interop-lib.sh"
require_root
require_cmd tinysshd tinysshd-makekey tinysshd-printkey useradd userdel ssh-keygen
FSSH=$(ferry_bin fssh)
FSFTP=$(ferry_bin fsftp)
FSCP=$(ferry_bin fscp)
[ -x "$FSSH" ] && [ -x "$FSFTP" ] && [ -x "$FSCP" ] || skip_all "clients not built"

# tinysshd refuses an authorized_keys file below a directory others may
# write (as /tmp): the test user's home is made under /home.
[ -d /home ] && [ -z "$(find /home -maxdepth 0 -perm /022)" ] ||
    skip_all "no /home writable by root alone for the test user's home"
home=$(mktemp -d /home/ferry-tinyssh.XXXXXX) || skip_all "cannot create a home"
at_exit "rm -rf '$home'"
user=ferry-ts$$
useradd -M -d "$home" -s /bin/sh -p '*' "$user" || skip_all "cannot create a test user"
at_exit "userdel $user"
mkdir -p "$home/.ssh"
ssh-keygen -q -t ed25519 -N '' -f "$TMP/id" </dev/null
ssh-keygen -q -t rsa -b 2048 -N '' -f "$TMP/id_rsa" </dev/null
cat "$TMP/id.pub" "$TMP/id_rsa.pub" >"$home/.ssh/authorized_keys"
chown -R "$user:" "$home"
chmod 700 "$home" "$home/.ssh"

tinysshd-makekey "$TMP/keydir" >/dev/null 2>&1 || skip_all "tinysshd-makekey failed"
sftp_server=
for s in /usr/lib/openssh/sftp-server /usr/libexec/openssh/sftp-server /usr/lib/sftp-server; do
	[ -x "$s" ] && { sftp_server=$s; break; }
done
targs=(-v)
[ -n "$sftp_server" ] && targs+=(-x "sftp=$sftp_server")
/usr/bin/python3 - "$TMP/port" "$(command -v tinysshd)" "${targs[@]}" "$TMP/keydir" \
    2>"$TMP/tinysshd.log" <<'EOF' &
import os, signal, socket, sys
# One tinysshd per accepted connection, the socket as its stdin/stdout;
# finished ones are reaped by the kernel (SIGCHLD ignored here only).
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    c, _ = s.accept()
    if os.fork() == 0:
        s.close()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # tinysshd waits
        os.dup2(c.fileno(), 0)
        os.dup2(c.fileno(), 1)
        c.close()
        os.execv(sys.argv[2], sys.argv[2:])
    c.close()
EOF
track_pid $!
wait_file "$TMP/port"
port=$(cat "$TMP/port" 2>/dev/null)
[ -n "$port" ] && wait_port "$port" || skip_all "the tinysshd accept loop did not start"
echo "[127.0.0.1]:$port $(tinysshd-printkey "$TMP/keydir" | head -1 | cut -d' ' -f1,2)" \
    >"$TMP/known"

# tssh [fssh options...] COMMAND: fssh to the test user on tinysshd.
tssh() {
	timeout 60 "$FSSH" -F /dev/null -o UserKnownHostsFile="${KH:-$TMP/known}" \
	    -o StrictHostKeyChecking=yes -o BatchMode=yes -o IdentitiesOnly=yes \
	    -o IdentityAgent=none -p "$port" "$@"
}
ts() { tssh -i "$TMP/id" "$@"; }

out=$(ts "$user@127.0.0.1" 'echo "$USER:$HOME"' 2>"$TMP/err")
ok "$( [ "$out" = "$user:$home" ]; echo $?)" "TinySSH: fssh runs a command as the user"
for code in 0 3 42 255; do
	ts "$user@127.0.0.1" "exit $code" 2>/dev/null
	ok "$( [ $? -eq $code ]; echo $?)" "TinySSH: exit status $code"
done
out=$(ts "$user@127.0.0.1" 'echo out; echo err >&2' 2>"$TMP/err")
ok "$( [ "$out" = out ] && [ "$(cat "$TMP/err")" = err ]; echo $?)" "TinySSH: stdout and stderr apart"
ts -o LogLevel=INFO "$user@127.0.0.1" 'kill -TERM $$' 2>"$TMP/err"
rc=$?
ok "$( [ $rc -eq 255 ] && grep -q 'killed by signal TERM' "$TMP/err"; echo $?)" \
    "TinySSH: exit-signal gives 255 (rc $rc)"
head -c $((8 * 1024 * 1024)) /dev/urandom >"$TMP/rand"
ts "$user@127.0.0.1" cat <"$TMP/rand" >"$TMP/back" 2>/dev/null
ok "$(cmp -s "$TMP/rand" "$TMP/back"; echo $?)" "TinySSH: 8 MiB through stdin and back, byte-exact"
sum=$(ts "$user@127.0.0.1" sha256sum <"$TMP/rand" 2>/dev/null | cut -d' ' -f1)
ok "$( [ "$sum" = "$(sha256sum <"$TMP/rand" | cut -d' ' -f1)" ]; echo $?)" "TinySSH: stdin EOF reaches the command"

# TinySSH takes ed25519 user keys only.
out=$(tssh -i "$TMP/id_rsa" "$user@127.0.0.1" 'echo ok' 2>"$TMP/err")
rc=$?
ok "$( [ $rc -eq 255 ] && [ -z "$out" ] && grep -q 'Permission denied' "$TMP/err"; echo $?)" \
    "TinySSH: an RSA user key is refused (rc $rc)"
out=$(tssh -i "$TMP/id_rsa" -i "$TMP/id" "$user@127.0.0.1" 'echo ok' 2>"$TMP/err")
ok "$( [ "$out" = ok ]; echo $?)" "TinySSH: after a refused RSA key the ed25519 key is accepted"

# Known hosts.
ssh-keygen -q -t ed25519 -N '' -f "$TMP/wrong" </dev/null
echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$TMP/wrong.pub")" >"$TMP/known-wrong"
: >"$TMP/known-empty"
for kh in wrong empty; do
	out=$(KH=$TMP/known-$kh ts "$user@127.0.0.1" 'echo ok' 2>"$TMP/err")
	rc=$?
	ok "$( [ $rc -eq 255 ] && [ -z "$out" ] && grep -q 'Host key verification failed' "$TMP/err"; echo $?)" \
	    "TinySSH: $kh host key refused (rc $rc)"
done

# Every algorithm both sides have.
peer_kexinit "$port" >"$TMP/kexinit"
ok $? "TinySSH's KEXINIT read"
n=0
for kind in kex key cipher; do
	for a in $(shared_algs "$kind" "$TMP/kexinit"); do
		case $kind in
		kex) opt=(-o KexAlgorithms="$a") pat="^debug: kex: $a," ;;
		key) opt=(-o HostKeyAlgorithms="$a") pat="host key $a," ;;
		cipher) opt=(-c "$a") pat="cipher $a/" ;;
		esac
		out=$(ts -v "${opt[@]}" "$user@127.0.0.1" 'echo ok' 2>"$TMP/err")
		ok "$( [ "$out" = ok ] && grep -q "$pat" "$TMP/err"; echo $?)" "TinySSH: $kind $a"
		n=$((n + 1))
	done
done
# tinysshd 20230101: curve25519-sha256 (both names), ssh-ed25519, chacha20.
ok "$( [ "$n" -ge 4 ]; echo $?)" "TinySSH: $n algorithms shared and tried"

# The kex guess.  TinySSH takes a guess as right whenever the client's
# first kex is one it has (RFC 4253 7.1 also wants both sides' first kex
# and host key names alike): Ferry judges its guess the same way with
# TinySSH, by its version string.  (kex, guessed packet, case)
while read -r kx verdict what; do
	out=$(ts -vvv -o KexAlgorithms="$kx" "$user@127.0.0.1" 'echo ok' \
	    </dev/null 2>"$TMP/err")
	case $verdict in
	none) ! grep -q 'guessed .* packet' "$TMP/err" ;;
	void) grep -q "guessed ${kx%%,*} packet is void" "$TMP/err" ;;
	*) grep -q "guessed ${kx%%,*} packet stands" "$TMP/err" ;;
	esac
	ok "$( [ $? -eq 0 ] && [ "$out" = ok ]; echo $?)" "TinySSH: kex guess ${what//-/ } ($kx)"
done <<'EOL'
curve25519-sha256 stands right-by-both-rules
curve25519-sha256@libssh.org,curve25519-sha256 stands first-kex-differs-yet-TinySSH-takes-it
ecdh-sha2-nistp256,curve25519-sha256 void TinySSH-lacks-the-guessed-kex
diffie-hellman-group14-sha256,curve25519-sha256 none no-guess-for-DH
EOL

# Rekeying from our side every 1 MiB, with the guess standing both ways.
for kx in curve25519-sha256 curve25519-sha256@libssh.org ecdh-sha2-nistp256,curve25519-sha256; do
	ts -v -o RekeyLimit=1M -o KexAlgorithms="$kx" "$user@127.0.0.1" cat \
	    <"$TMP/rand" >"$TMP/back" 2>"$TMP/err"
	ok "$(cmp -s "$TMP/rand" "$TMP/back" &&
	    [ "$(grep -c 'done (rekeyed)' "$TMP/err")" -ge 6 ]; echo $?)" \
	    "TinySSH: rekey every 1 MiB ($kx) byte-exact, at least 6 rekeys (saw $(grep -c "done (rekeyed)" "$TMP/err"))" ||
		diag "$(stat -c %s "$TMP/back"; grep -v 'rekeyed' "$TMP/err" | tail -5)"
done

# A tinysshd run as the ProxyCommand (no socket) works the same.
out=$(ts -o ProxyCommand="tinysshd -q $TMP/keydir" -o HostKeyAlias="[127.0.0.1]:$port" \
    "$user@127.0.0.1" 'echo proxied' 2>"$TMP/err")
ok "$( [ "$out" = proxied ]; echo $?)" "TinySSH: tinysshd as the ProxyCommand"

# fsftp and fscp: tinysshd runs sftp-server for the subsystem (-x).
copts=(-F /dev/null -o UserKnownHostsFile="$TMP/known" -o StrictHostKeyChecking=yes
    -o BatchMode=yes -o IdentitiesOnly=yes -o IdentityAgent=none -i "$TMP/id")
if [ -n "$sftp_server" ]; then
	interop_sftp TinySSH "$port" "$home" "${copts[@]}"
	diag "sftp-server: $sftp_server"
else
	skip "OpenSSH's sftp-server (for tinysshd -x sftp=...) is not installed"
	skip "fsftp against TinySSH"
	skip "fscp against TinySSH"
fi
if command -v scp >/dev/null; then
	timeout 60 "$FSCP" -O "${copts[@]}" -P "$port" "$TMP/rand" "$user@127.0.0.1:o.bin" &&
	    timeout 60 "$FSCP" -O "${copts[@]}" -P "$port" "$user@127.0.0.1:o.bin" "$TMP/o-back.bin"
	ok "$(cmp -s "$TMP/rand" "$home/o.bin" && cmp -s "$TMP/rand" "$TMP/o-back.bin"; echo $?)" \
	    "TinySSH: fscp -O (remote scp -t/-f) upload and download"
else
	skip "scp (run by tinysshd for fscp -O) is not installed"
fi
done_testing
