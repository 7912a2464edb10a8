#!/usr/bin/env bash
# fsshd's embedded default, started as an unprivileged test user with no
# arguments but a port: first start creates the host key, a second start
# reuses it; OpenSSH's ssh runs commands (exit codes, stdin streaming,
# stderr kept apart), OpenSSH's sftp and scp (both protocols, -r -p) move files;
# another user and an unlisted key are refused; -i serves one connection
# on stdin/stdout (as a ProxyCommand).
. "$top_srcdir/tests/regress/lib.sh"
. "$top_srcdir/tests/regress/fsshd-lib.sh"
fsshd_require sftp scp setpriv

user=ferry-e$$
home=$TMP/home
fsshd_user "$user" "$home" id
ssh-keygen -q -t ed25519 -N '' -f "$TMP/other" </dev/null
chmod 700 "$home" "$home/.ssh"

port=$(free_port)
start_server() {
	# No function or subshell in between: $! must be fsshd itself.
	setpriv --reuid="$user" --regid="$user" --init-groups env -i HOME="$home" \
	    PATH=/usr/bin:/bin "$FSSHD" -p "$port" >"$TMP/server$1.log" 2>&1 &
	server_pid=$!
	track_pid "$server_pid"
	# Its start-up lines end after it listens: wait for the last one.
	wait_port "$port" && wait_log "$TMP/server$1.log" 'Connect with:'
}
start_server 1
keyfile=$home/.local/state/ferry/ssh_host_ed25519_key
ok "$( [ -f "$keyfile" ] && [ "$(stat -c %a "$keyfile")" = 600 ] &&
    [ "$(stat -c %U "$keyfile")" = "$user" ]; echo $?)" "first start creates a private host key owned by the user"
ok "$(grep -q 'created host key' "$TMP/server1.log"; echo $?)" "and says so"
fp=$(ssh-keygen -lf "$keyfile.pub" | awk '{ print $2 }')
ok "$(grep -q "Host key ED25519 $fp" "$TMP/server1.log"; echo $?)" "prints the host key fingerprint ssh-keygen computes"
ok "$(grep -q "ssh -p $port $user@127.0.0.1" "$TMP/server1.log"; echo $?)" "prints the command to connect"

fsshd_known "$port" "$keyfile.pub"
opts=(-F /dev/null -o UserKnownHostsFile="$TMP/known" -o StrictHostKeyChecking=yes
    -o BatchMode=yes -o IdentitiesOnly=yes -i "$TMP/id")
rssh() { ssh "${opts[@]}" -p "$port" "$user@127.0.0.1" "$@"; }

out=$(rssh 'echo "$USER:$HOME:$PWD"' 2>"$TMP/err")
ok "$( [ "$out" = "$user:$home:$home" ]; echo $?)" "exec runs in the user's shell, home and environment"
for code in 0 1 3 42 255; do
	rssh "exit $code" 2>/dev/null
	ok "$( [ $? -eq $code ]; echo $?)" "exit status $code reaches ssh"
done
out=$(rssh 'echo out; echo err >&2' 2>"$TMP/err")
ok "$( [ "$out" = out ] && [ "$(cat "$TMP/err")" = err ]; echo $?)" "stdout and stderr are kept apart"
head -c $((8 * 1024 * 1024)) /dev/urandom >"$TMP/rand"
ok "$( [ "$(rssh sha256sum <"$TMP/rand" | cut -d' ' -f1)" = "$(sha256sum <"$TMP/rand" | cut -d' ' -f1)" ]; echo $?)" \
    "8 MiB streamed through stdin arrive byte-exact"
ok "$( [ "$(rssh 'cat' <"$TMP/rand" | sha256sum)" = "$(sha256sum <"$TMP/rand")" ]; echo $?)" \
    "and come back byte-exact"

ssh "${opts[@]}" -v -o RekeyLimit=1M -p "$port" "$user@127.0.0.1" cat <"$TMP/rand" \
    2>"$TMP/rekey.err" | sha256sum >"$TMP/rekey.sum"
ok "$( [ "$(cat "$TMP/rekey.sum")" = "$(sha256sum <"$TMP/rand")" ] &&
    [ "$(grep -c 'SSH2_MSG_NEWKEYS received' "$TMP/rekey.err")" -gt 4 ]; echo $?)" \
    "OpenSSH rekeys every 1 MiB (RekeyLimit) while 8 MiB flow through fsshd, byte-exact"

cat >"$TMP/batch" <<EOB
put $TMP/rand up.bin
mkdir d
put $TMP/id.pub d/key.pub
get up.bin $TMP/back.bin
rename d/key.pub d/renamed.pub
ls -l d
EOB
sftp -b "$TMP/batch" "${opts[@]}" -P "$port" "$user@127.0.0.1" >"$TMP/sftp.out" 2>&1
ok $? "OpenSSH's sftp batch through the in-process SFTP server"
ok "$(cmp -s "$TMP/rand" "$home/up.bin" && cmp -s "$TMP/rand" "$TMP/back.bin"; echo $?)" "sftp put and get are byte-exact"
ok "$(grep -q renamed.pub "$TMP/sftp.out" && [ -f "$home/d/renamed.pub" ]; echo $?)" "sftp mkdir, rename, ls"
ok "$(grep -q 'open "'"$home"'/up.bin" flags WRITE,CREATE,TRUNCATE' "$TMP/server1.log"; echo $?)" \
    "each SFTP file operation is logged at INFO"

scp -q "${opts[@]}" -P "$port" "$TMP/rand" "$user@127.0.0.1:viascp.bin"
ok "$(cmp -s "$TMP/rand" "$home/viascp.bin"; echo $?)" "scp (SFTP protocol) upload"
scp -q -O "${opts[@]}" -P "$port" "$user@127.0.0.1:viascp.bin" "$TMP/scp-back.bin"
ok "$(cmp -s "$TMP/rand" "$TMP/scp-back.bin"; echo $?)" "scp -O (legacy protocol, through the shell) download"

# OpenSSH's scp in both protocols: -r -p trees with odd names, both ways.
mkdir -p "$TMP/tree/sub dir" && chown "$user:" "$TMP/tree" 2>/dev/null
printf 'a\n' >"$TMP/tree/plain"
printf 'b\n' >"$TMP/tree/sub dir/semi;colon \$x"
chmod -R a+rX "$TMP/tree"
chmod 0640 "$TMP/tree/plain"
touch -d '2011-02-03 04:05:06' "$TMP/tree/plain"
for mode in "" -O; do
	tag=${mode:-sftp}
	scp -q -r -p $mode "${opts[@]}" -P "$port" "$TMP/tree" "$user@127.0.0.1:t$tag"
	scp -q -r -p $mode "${opts[@]}" -P "$port" "$user@127.0.0.1:t$tag" "$TMP/back$tag"
	ok "$(diff -r "$TMP/tree" "$home/t$tag" >/dev/null &&
	    diff -r "$TMP/tree" "$TMP/back$tag" >/dev/null &&
	    [ "$(stat -c '%a %Y' "$TMP/back$tag/plain")" = "640 $(stat -c %Y "$TMP/tree/plain")" ]
	    echo $?)" "scp ${mode:-(SFTP protocol)} -r -p both ways: trees, odd names, modes and times"
done

ssh "${opts[@]}" -p "$port" "root@127.0.0.1" true 2>"$TMP/err"
ok "$( [ $? -eq 255 ] && grep -q 'Permission denied' "$TMP/err"; echo $?)" "another user is refused"
ok "$(grep -q 'Invalid user root' "$TMP/server1.log"; echo $?)" "and the refusal is logged"
ssh "${FSSHD_SSH[@]}" -i "$TMP/other" -p "$port" "$user@127.0.0.1" true 2>/dev/null
ok "$( [ $? -eq 255 ]; echo $?)" "a key not in authorized_keys is refused"
# authorized_keys options are enforced (parsed as sshd(8) documents them).
for k in forced from expired restricted; do
	ssh-keygen -q -t ed25519 -N '' -f "$TMP/$k" </dev/null
done
{
	echo "this line is not a key at all"
	echo "command=\"echo forced:\$SSH_ORIGINAL_COMMAND\" $(cat "$TMP/forced.pub")"
	echo "from=\"10.9.9.9\" $(cat "$TMP/from.pub")"
	echo "expiry-time=\"20000101\" $(cat "$TMP/expired.pub")"
	echo "restrict $(cat "$TMP/restricted.pub")"
	cat "$TMP/id.pub"
} >"$home/.ssh/authorized_keys"
kssh() { local k=$1; shift; ssh "${FSSHD_SSH[@]}" -i "$TMP/$k" -p "$port" "$user@127.0.0.1" "$@"; }
out=$(kssh forced 'ls /')
ok "$( [ "$out" = "forced:ls /" ]; echo $?)" "command= replaces the request and sets SSH_ORIGINAL_COMMAND"
out=$(kssh forced -s sftp </dev/null)
ok "$( [ "$out" = "forced:sftp" ]; echo $?)" "command= also replaces a subsystem"
kssh from true 2>/dev/null
ok "$( [ $? -eq 255 ]; echo $?)" "from= with another address refuses the key"
kssh expired true 2>/dev/null
ok "$( [ $? -eq 255 ]; echo $?)" "an expired key (expiry-time) is refused"
ok "$( [ "$(kssh restricted 'echo r')" = r ]; echo $?)" "restrict still allows a command"
ok "$(grep -q 'authorized_keys:1' "$TMP/server1.log"; echo $?)" "a malformed line is logged with its file and line"
ok "$( [ "$(rssh 'echo still')" = still ]; echo $?)" "and skipped: later lines still work"

# A connection's process that crashes never takes the listener down.
# (Earlier connections' processes gone first: the one found is ours.)
no_children() { [ -z "$(pgrep -P "$server_pid")" ]; }
wait_until no_children
exec 7<>/dev/tcp/127.0.0.1/"$port"
find_child() { child=$(pgrep -P "$server_pid" | head -1); [ -n "$child" ]; }
child=
wait_until find_child
ok "$( [ -n "$child" ]; echo $?)" "each connection has a process of its own"
kill -SEGV "$child" 2>/dev/null
exec 7<&-
ok "$( [ "$(rssh 'echo survived')" = survived ]; echo $?)" \
    "after a connection's process is killed by SIGSEGV, the next login works"

kill -0 "$server_pid"
ok $? "the listener keeps serving after all that"

kill "$server_pid"
wait "$server_pid" 2>/dev/null
start_server 2
ok "$(! grep -q 'created host key' "$TMP/server2.log" &&
    grep -q "Host key ED25519 $fp" "$TMP/server2.log"; echo $?)" "a second start reuses the host key" ||
    sed 's/^/#   /' "$TMP/server2.log"
out=$(rssh 'echo again')
ok "$( [ "$out" = again ]; echo $?)" "and serves with it"

# A client that never authenticates is dropped after the grace time.
gport=$(free_port)
setpriv --reuid="$user" --regid="$user" --init-groups env -i HOME="$home" \
    PATH=/usr/bin:/bin "$FSSHD" -g 1 -p "$gport" >"$TMP/grace.log" 2>&1 &
track_pid $!
wait_port "$gport"
/usr/bin/python3 - "$gport" <<'EOP'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(60)
s.sendall(b"SSH-2.0-Idle\r\n")
data = b""
while True:
    d = s.recv(65536)   # the server's version and KEXINIT, then EOF
    if not d:
        break
    data += d
sys.exit(0 if data.startswith(b"SSH-2.0-") else 1)
EOP
ok $? "an idle client is disconnected after the grace time (-g 1)"
wait_log "$TMP/grace.log" 'Timeout before authentication'
ok $? "and that is logged"

# Delayed compression is offered, as sshd's default (ssh -C uses it).
out=$(rssh -C -v 'echo squeezed' 2>"$TMP/comp.err")
ok "$( [ "$out" = squeezed ] &&
    grep -q 'compression: zlib@openssh.com' "$TMP/comp.err"; echo $?)" \
    "ssh -C negotiates zlib@openssh.com"

out=$(ssh "${opts[@]}" -o ProxyCommand="setpriv --reuid=$user --regid=$user --init-groups env -i HOME=$home $FSSHD -i" \
    -o HostKeyAlias="[127.0.0.1]:$port" "$user@127.0.0.1" 'echo inetd')
ok "$( [ "$out" = inetd ]; echo $?)" "-i serves one connection on stdin/stdout (ProxyCommand)"
done_testing
