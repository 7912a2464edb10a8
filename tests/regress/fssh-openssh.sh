#!/usr/bin/env bash
# fssh against OpenSSH's sshd: remote commands and their exit status
# (signals too), 64 MiB through stdin and back, stderr kept apart, the
# sftp subsystem, public keys from files and from ssh-agent, password and
# keyboard-interactive through SSH_ASKPASS, known_hosts decisions
# (unknown host, accept-new, hashed names, a changed key), ProxyCommand
# with its tokens, and ProxyJump through a second sshd.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"

FSSH=$(ferry_bin fssh)
[ -x "$FSSH" ] || skip_all "fssh not built"
openssh_sshd_setup "LogLevel INFO" "Subsystem sftp /usr/lib/openssh/sftp-server" \
    "AcceptEnv FERRY_*"
openssh_sshd_start
port=$SSHD_PORT
me=$(id -un)

# A config file carries the options, so that ProxyJump's inner fssh
# (which gets -F, as ssh's does) uses them too.
cat >"$TMP/cfg" <<CFG
Host *
    UserKnownHostsFile $TMP/known_hosts
    GlobalKnownHostsFile /dev/null
    StrictHostKeyChecking yes
    BatchMode yes
    IdentitiesOnly yes
    IdentityFile $TMP/id_ed25519
    IdentityAgent none
    User $me
CFG
grep -v IdentityFile "$TMP/cfg" >"$TMP/cfgn"
f() { timeout 60 "$FSSH" -F "$TMP/cfg" -p "$port" "$@"; }
# The same without an identity file.
fn() { timeout 60 "$FSSH" -F "$TMP/cfgn" -p "$port" "$@"; }

# 1. exec and the exit status
out=$(f 127.0.0.1 'echo "hello $((6*7))"' 2>"$TMP/err")
ok "$( [ "$out" = "hello 42" ]; echo $?)" "exec runs the command: $out"
for code in 0 1 2 127 255; do
	f 127.0.0.1 "exit $code" 2>/dev/null
	ok "$( [ $? -eq $code ]; echo $?)" "exit status $code"
done
f -o LogLevel=INFO 127.0.0.1 'kill -9 $$' >/dev/null 2>"$TMP/err"
rc=$?
ok "$( [ $rc -eq 255 ] && grep -q 'killed by signal KILL' "$TMP/err"; echo $?)" \
    "a remote signal gives 255 and says so (rc $rc)"
out=$(f 127.0.0.1 echo a  "b  c" 2>/dev/null)
ok "$( [ "$out" = "a b c" ]; echo $?)" "command words are joined with spaces as ssh does"
out=$(f -o BindAddress=127.0.0.1 127.0.0.1 'echo $SSH_CLIENT' 2>/dev/null)
ok "$(case "$out" in "127.0.0.1 "*) echo 0;; *) echo 1;; esac)" "BindAddress"
out=$(f 127.0.0.1 -l "$me" -p "$port" 'echo after' 2>/dev/null)
ok "$( [ "$out" = after ]; echo $?)" "options after the destination"
out=$(f "ssh://$me@127.0.0.1:$port" 'echo uri' 2>/dev/null)
ok "$( [ "$out" = uri ]; echo $?)" "ssh:// destination"

out=$(FERRY_A=1 FERRY_B=2 FERRY_C=3 FERRY_DD=4 f -o 'SendEnv FERRY_? FERRY_C' \
    -o 'SendEnv -FERRY_C' -o 'SetEnv FERRY_S="set value"' 127.0.0.1 \
    'echo "${FERRY_A:-}:${FERRY_B:-}:${FERRY_C:-}:${FERRY_DD:-}:${FERRY_S:-}"' 2>/dev/null)
ok "$( [ "$out" = "1:2:3::set value" ]; echo $?)" "SendEnv patterns and SetEnv: $out"
out=$(FERRY_A=1 FERRY_C=3 f -o 'SendEnv FERRY_A FERRY_C' -o 'SendEnv -FERRY_C' 127.0.0.1 \
    'echo "${FERRY_A:-}:${FERRY_C:-}"' 2>/dev/null)
ok "$( [ "$out" = "1:" ]; echo $?)" "SendEnv -PATTERN removes a pattern: $out"

# 2. streams
out=$(f 127.0.0.1 'echo out; echo err >&2; echo out2' 2>"$TMP/err")
ok "$( [ "$out" = "out
out2" ] && [ "$(cat "$TMP/err")" = err ]; echo $?)" "stdout and stderr are kept apart"
head -c $((64 * 1024 * 1024)) /dev/urandom >"$TMP/rand"
f 127.0.0.1 cat <"$TMP/rand" >"$TMP/back" 2>"$TMP/err"
ok "$(cmp -s "$TMP/rand" "$TMP/back"; echo $?)" "64 MiB through stdin and back with cat, byte-exact"
sum=$(f 127.0.0.1 sha256sum <"$TMP/rand" 2>/dev/null | cut -d' ' -f1)
ok "$( [ "$sum" = "$(sha256sum <"$TMP/rand" | cut -d' ' -f1)" ]; echo $?)" "stdin EOF reaches the command"
# Back-pressure: a slow reader of stdout.
f 127.0.0.1 'head -c 8388608 /dev/zero' 2>/dev/null | (sleep 1; wc -c) >"$TMP/n"
ok "$( [ "$(cat "$TMP/n")" -eq 8388608 ]; echo $?)" "a slow local reader loses nothing"
head -c $((8 * 1024 * 1024)) "$TMP/rand" >"$TMP/rand8"
f -C 127.0.0.1 cat <"$TMP/rand8" >"$TMP/back" 2>/dev/null
ok "$(cmp -s "$TMP/rand8" "$TMP/back"; echo $?)" "-C: compressed, byte-exact"
f -o RekeyLimit=1M -v 127.0.0.1 cat <"$TMP/rand8" >"$TMP/back" 2>"$TMP/err"
n=$(grep -c 'rekeyed' "$TMP/err")
ok "$(cmp -s "$TMP/rand8" "$TMP/back" && [ "$n" -ge 4 ]; echo $?)" \
    "RekeyLimit 1M: 8 MiB through $n more key exchanges, byte-exact"
out=$(yes | f 127.0.0.1 'head -2' 2>/dev/null)
ok "$( [ "$out" = "y
y" ]; echo $?)" "endless stdin: the command's end ends fssh"
out=$(f 127.0.0.1 'cat; echo done' </dev/null 2>/dev/null)
ok "$( [ "$out" = done ]; echo $?)" "an empty stdin is an immediate EOF"

# 3. the sftp subsystem: SSH_FXP_INIT version 3 gets SSH_FXP_VERSION
# OpenSSH's sftp-server exits at the EOF of its input without sending the
# replies it has queued: stdin (a fifo) stays open until the reply came.
mkfifo "$TMP/sftp.in"
f -s 127.0.0.1 sftp <"$TMP/sftp.in" >"$TMP/ver.raw" 2>"$TMP/err" &
fpid=$!
exec 7>"$TMP/sftp.in"
printf '\0\0\0\005\001\0\0\0\003' >&7
has_reply() { [ "$(stat -c %s "$TMP/ver.raw" 2>/dev/null)" -ge 9 ] 2>/dev/null; }
wait_until has_reply
exec 7>&-
wait $fpid
head -c 9 "$TMP/ver.raw" | od -A n -t x1 | tr -d ' \n' >"$TMP/ver"
ok "$( [ "$(cut -c9-18 "$TMP/ver")" = 0200000003 ]; echo $?)" "subsystem sftp answers VERSION 3 ($(cat "$TMP/ver"))"
f -s 127.0.0.1 nosuch >/dev/null 2>"$TMP/err"
rc=$?
ok "$( [ $rc -eq 255 ] && grep -q 'subsystem request failed' "$TMP/err"; echo $?)" "an unknown subsystem fails with 255"
f 127.0.0.1 >/dev/null 2>"$TMP/err"
rc=$?
ok "$( [ $rc -eq 255 ] && grep -q 'not supported yet' "$TMP/err"; echo $?)" "no command: interactive shells are refused clearly"

# 4. errors in OpenSSH's words
cport=$(free_port)
timeout 60 "$FSSH" -F "$TMP/cfg" -p "$cport" 127.0.0.1 true 2>"$TMP/err"
rc=$?
ok "$( [ $rc -eq 255 ] && grep -q "^fssh: connect to host 127.0.0.1 port $cport: Connection refused" "$TMP/err"; echo $?)" \
    "connection refused (rc $rc): $(head -1 "$TMP/err")"
ssh-keygen -q -t ed25519 -N '' -f "$TMP/stranger" </dev/null
fn -i "$TMP/stranger" 127.0.0.1 true 2>"$TMP/err"
rc=$?
ok "$( [ $rc -eq 255 ] && grep -qx 'Permission denied (publickey).' "$TMP/err"; echo $?)" \
    "an unknown key: $(head -1 "$TMP/err")"

# 5. keys from ssh-agent (none in a file)
if command -v ssh-agent >/dev/null && command -v ssh-add >/dev/null; then
	ssh-keygen -q -t ecdsa -N '' -f "$TMP/agentkey" </dev/null
	ssh-keygen -q -t rsa -b 2048 -N '' -f "$TMP/agentrsa" </dev/null
	cat "$TMP/agentrsa.pub" >>"$TMP/sshd/authorized_keys"
	agent_start "$TMP/agent.sock"
	SSH_AUTH_SOCK=$TMP/agent.sock ssh-add "$TMP/agentkey" "$TMP/agentrsa" \
	    2>"$TMP/add.err" || diag "ssh-add: $(cat "$TMP/add.err")"
	out=$(SSH_AUTH_SOCK=$TMP/agent.sock fn -o IdentitiesOnly=no \
	    -o IdentityAgent=SSH_AUTH_SOCK 127.0.0.1 'echo agent' 2>"$TMP/err")
	ok "$( [ "$out" = agent ]; echo $?)" "an RSA key in the agent signs (rsa-sha2)" ||
	    diag "$(cat "$TMP/err")"
	out=$(fn -o IdentitiesOnly=yes -o IdentityAgent="$TMP/agent.sock" \
	    -o IdentityFile=/nonexistent 127.0.0.1 'echo agent' 2>"$TMP/err")
	ok "$( [ -z "$out" ]; echo $?)" "IdentitiesOnly keeps agent keys without a file out"
	cp "$TMP/agentrsa.pub" "$TMP/only.pub"
	out=$(fn -o IdentitiesOnly=yes -o IdentityAgent="$TMP/agent.sock" \
	    -o IdentityFile="$TMP/only" 127.0.0.1 'echo agent' 2>"$TMP/err")
	ok "$( [ "$out" = agent ]; echo $?)" "IdentitiesOnly with the .pub of an agent key uses the agent" ||
	    diag "$(cat "$TMP/err")"
else
	skip "ssh-agent is not installed"
	skip "ssh-agent is not installed"
	skip "ssh-agent is not installed"
fi

# 6. an encrypted key file, its passphrase through SSH_ASKPASS
ssh-keygen -q -t ed25519 -N 'secret phrase' -f "$TMP/enc" </dev/null
cat "$TMP/enc.pub" >>"$TMP/sshd/authorized_keys"
printf '#!/bin/sh\necho "$1" >>"%s/asked"\necho "secret phrase"\n' "$TMP" >"$TMP/askpass"
chmod 755 "$TMP/askpass"
out=$(SSH_ASKPASS=$TMP/askpass SSH_ASKPASS_REQUIRE=force fn -o BatchMode=no \
    -o IdentityFile="$TMP/enc" 127.0.0.1 'echo enc' 2>"$TMP/err" </dev/null)
ok "$( [ "$out" = enc ] && grep -q "Enter passphrase for key '$TMP/enc'" "$TMP/asked"; echo $?)" \
    "an encrypted key is unlocked with the passphrase from SSH_ASKPASS"
rm -f "$TMP/asked"
out=$(SSH_ASKPASS=$TMP/askpass SSH_ASKPASS_REQUIRE=force fn \
    -o IdentityFile="$TMP/enc" 127.0.0.1 'echo enc' 2>"$TMP/err" </dev/null)
ok "$( [ -z "$out" ] && [ ! -e "$TMP/asked" ]; echo $?)" "BatchMode asks nothing"
printf '#!/bin/sh\necho "$1" >>"%s/asked"\necho wrong\n' "$TMP" >"$TMP/askwrong"
chmod 755 "$TMP/askwrong"
SSH_ASKPASS=$TMP/askwrong SSH_ASKPASS_REQUIRE=force fn -o BatchMode=no -o NumberOfPasswordPrompts=2 \
    -o PreferredAuthentications=publickey -o IdentityFile="$TMP/enc" 127.0.0.1 true 2>"$TMP/err" </dev/null
rc=$?
ok "$( [ $rc -eq 255 ] && [ "$(wc -l <"$TMP/asked")" -eq 2 ] && grep -q 'passphrase is wrong' "$TMP/err"; echo $?)" \
    "a wrong passphrase is asked NumberOfPasswordPrompts times, then fails"

# 7. known_hosts
cat >"$TMP/cfg2" <<CFG
Host *
    UserKnownHostsFile $TMP/kh
    GlobalKnownHostsFile /dev/null
    BatchMode yes
    IdentityFile $TMP/id_ed25519
    IdentityAgent none
CFG
g() { timeout 60 "$FSSH" -F "$TMP/cfg2" -p "$port" "$@"; }
newfp=$(ssh-keygen -lf "$TMP/sshd/host_ed25519.pub" | awk '{print $2}')
rm -f "$TMP/kh"
g 127.0.0.1 true 2>"$TMP/err"
rc=$?
ok "$( [ $rc -eq 255 ] && grep -qx 'Host key verification failed.' "$TMP/err" && [ ! -e "$TMP/kh" ]; echo $?)" \
    "an unknown host is refused in BatchMode"
g -o StrictHostKeyChecking=yes 127.0.0.1 true 2>"$TMP/err"
ok "$( [ $? -eq 255 ] && grep -q 'No ED25519 host key is known for \[127.0.0.1\]:'"$port" "$TMP/err"; echo $?)" \
    "StrictHostKeyChecking yes names the missing key"
out=$(g -o StrictHostKeyChecking=accept-new 127.0.0.1 'echo new' 2>"$TMP/err")
ok "$( [ "$out" = new ] && grep -q "Permanently added '\[127.0.0.1\]:$port' (ED25519)" "$TMP/err" &&
    [ "$(cut -d' ' -f1,2 "$TMP/kh")" = "[127.0.0.1]:$port ssh-ed25519" ]; echo $?)" "accept-new adds the key and connects"
out=$(g -o StrictHostKeyChecking=yes 127.0.0.1 'echo known' 2>/dev/null)
ok "$( [ "$out" = known ]; echo $?)" "the added entry is then used"
ok "$(ssh-keygen -F "[127.0.0.1]:$port" -f "$TMP/kh" >/dev/null; echo $?)" "ssh-keygen finds the entry"
rm -f "$TMP/kh"
out=$(g -o StrictHostKeyChecking=accept-new -o HashKnownHosts=yes 127.0.0.1 'echo h' 2>/dev/null)
ok "$( [ "$out" = h ] && grep -q '^|1|' "$TMP/kh" && ssh-keygen -F "[127.0.0.1]:$port" -f "$TMP/kh" >/dev/null; echo $?)" \
    "HashKnownHosts writes a hashed name ssh-keygen finds"
ssh-keygen -q -t ed25519 -N '' -f "$TMP/otherhost" </dev/null
{ echo "# first line"; echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$TMP/otherhost.pub")"; } >"$TMP/kh"
g -o StrictHostKeyChecking=no 127.0.0.1 true 2>"$TMP/err"
rc=$?
oldfp=$(ssh-keygen -lf "$TMP/otherhost.pub" | awk '{print $2}')
ok "$( [ $rc -eq 255 ] && grep -q 'WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!' "$TMP/err" &&
    grep -q "^$newfp\.$" "$TMP/err" && grep -q "^$oldfp\.$" "$TMP/err" &&
    grep -q "Offending ED25519 key in $TMP/kh:2" "$TMP/err" &&
    tail -1 "$TMP/err" | grep -qx 'Host key verification failed.'; echo $?)" \
    "a changed host key is refused with the warning, both fingerprints and the line"
echo "@revoked * $(cut -d' ' -f1,2 "$TMP/sshd/host_ed25519.pub")" >"$TMP/kh"
echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$TMP/sshd/host_ed25519.pub")" >>"$TMP/kh"
g -o StrictHostKeyChecking=no 127.0.0.1 true 2>"$TMP/err"
ok "$( [ $? -eq 255 ] && grep -q 'WARNING: REVOKED HOST KEY DETECTED!' "$TMP/err" &&
    grep -q "Revoked by $TMP/kh:1" "$TMP/err"; echo $?)" "a @revoked host key is refused"
: >"$TMP/kh"
out=$(g -o StrictHostKeyChecking=yes -o HostKeyAlias=myalias 127.0.0.1 'echo alias' 2>/dev/null)
ok "$( [ -z "$out" ]; echo $?)" "HostKeyAlias: no entry for the alias"
echo "myalias $(cut -d' ' -f1,2 "$TMP/sshd/host_ed25519.pub")" >>"$TMP/kh"
out=$(g -o StrictHostKeyChecking=yes -o HostKeyAlias=myalias 127.0.0.1 'echo alias' 2>/dev/null)
ok "$( [ "$out" = alias ]; echo $?)" "HostKeyAlias: the alias's entry is used"

# StrictHostKeyChecking ask: the question on the terminal (given by
# tests/regress/tty-drive.py, which answers once it is asked: an answer
# typed earlier may be flushed), answered yes, with the fingerprint, or no.
ask() {
	: >"$TMP/out.raw"
	TTY_DRIVE_OUT=$TMP/out.raw timeout 90 /usr/bin/python3 \
	    "$top_srcdir/tests/regress/tty-drive.py" "(yes/no" "line:$1" -- \
	    "$FSSH" -F "$TMP/cfg2" -o BatchMode=no -p "$port" 127.0.0.1 \
	    'echo asked' >/dev/null 2>&1
	tr -d '\r' <"$TMP/out.raw" >"$TMP/out"
}
rm -f "$TMP/kh"
ask no
ok "$(grep -q "The authenticity of host '\[127.0.0.1\]:$port (\[127.0.0.1\]:$port)' can't be established." "$TMP/out" &&
    grep -q "^ED25519 key fingerprint is $newfp\.$" "$TMP/out" &&
    grep -qx 'Host key verification failed.' "$TMP/out" && ! grep -q asked "$TMP/out" &&
    [ ! -s "$TMP/kh" ]; echo $?)" "ask: OpenSSH's question on the terminal, 'no' refuses"
ask "$newfp"
ok "$(grep -qx asked "$TMP/out" && [ "$(wc -l <"$TMP/kh")" -eq 1 ]; echo $?)" "ask: the fingerprint as the answer accepts and adds"
rm -f "$TMP/kh"
ask yes
ok "$(grep -qx asked "$TMP/out" && grep -q "Permanently added" "$TMP/out" &&
    [ "$(wc -l <"$TMP/kh")" -eq 1 ]; echo $?)" "ask: 'yes' accepts and adds"

# 8. ServerAliveInterval: a server that stops answering is given up.
# Once the command runs (the session is set up), freeze the connection's
# sshd processes, descendants of our listener: first its children, so
# that none forks another, then theirs.  No bound on the time taken (a
# loaded machine may be late); without keepalives fssh would wait for
# the frozen server until f's timeout of 60 s (status 124).
f -o ServerAliveInterval=1 -o ServerAliveCountMax=2 127.0.0.1 \
    "echo up >$TMP/up; sleep 30" >/dev/null 2>"$TMP/err" &
cpid=$!
wait_file "$TMP/up"
lpid=$(cat "$TMP/sshd/sshd.pid")
kids=$(pgrep -P "$lpid")
for p in $kids; do kill -STOP "$p"; done
grand=$(for k in $kids; do pgrep -P "$k"; done)
for p in $grand; do kill -STOP "$p"; done
start=$SECONDS
wait $cpid
rc=$?
for p in $kids $grand; do kill -CONT "$p"; kill -TERM "$p" 2>/dev/null; done
ok "$( [ $rc -eq 255 ] &&
    grep -qx 'Timeout, server 127.0.0.1 not responding.' "$TMP/err"; echo $?)" \
    "unanswered keepalives end the connection (rc $rc after $((SECONDS - start)) s)"

# 9. ProxyCommand (tokens expanded) and ProxyJump through a second sshd
# As with ssh, the command runs as "exec COMMAND" under /bin/sh.
out=$(f -o ProxyCommand="sh -c 'echo %h %p %r >$TMP/tokens; exec /usr/sbin/sshd -i -f $SSHD_CONFIG'" \
    127.0.0.1 'echo proxied' 2>"$TMP/err")
ok "$( [ "$out" = proxied ] && [ "$(cat "$TMP/tokens")" = "127.0.0.1 $port $me" ]; echo $?)" \
    "ProxyCommand with %h %p %r"
port2=$(free_port)
/usr/sbin/sshd -D -e -f "$SSHD_CONFIG" -o Port="$port2" -o PidFile="$TMP/sshd2.pid" \
    >"$TMP/sshd2.log" 2>&1 &
track_pid $!
wait_port "$port2"
echo "[127.0.0.1]:$port2 $(cat "$TMP/sshd/host_ed25519.pub")" >>"$TMP/known_hosts"
out=$(f -J "127.0.0.1:$port2" 127.0.0.1 'echo jumped' 2>"$TMP/err")
ok "$( [ "$out" = jumped ] && grep -q 'direct-tcpip\|port forwarding\|Accepted' "$TMP/sshd2.log"; echo $?)" \
    "ProxyJump through a second sshd"
out=$(f -J "127.0.0.1:$port2,127.0.0.1:$port2" 127.0.0.1 'echo twice' 2>"$TMP/err")
ok "$( [ "$out" = twice ]; echo $?)" "ProxyJump with two hops"
dport=$(free_port)
timeout 60 "$FSSH" -F "$TMP/cfg" -J "127.0.0.1:$port2" -p "$dport" 127.0.0.1 true 2>"$TMP/err"
ok "$( [ $? -eq 255 ] && grep -q 'open failed: connect failed: Connection refused' "$TMP/err"; echo $?)" \
    "a jump to a closed port fails: $(grep -m1 'open failed' "$TMP/err")"
out=$(printf 'SSH-2.0-probe\r\n' | f -W "127.0.0.1:$port" 127.0.0.1 2>/dev/null | head -1)
ok "$(case "$out" in SSH-2.0-OpenSSH*) echo 0;; *) echo 1;; esac)" "-W forwards stdio to host:port"
/usr/bin/python3 -c 'import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
data = b""
while True:
    b = c.recv(65536)
    if not b:
        break
    data += b
c.sendall(data[::-1])
c.close()' >"$TMP/echo.port" &
track_pid $!
wait_file "$TMP/echo.port"
printf 'abcdef' | f -W "127.0.0.1:$(cat "$TMP/echo.port")" 127.0.0.1 >"$TMP/fwd" 2>/dev/null
rc=$?
ok "$( [ $rc -eq 0 ] && [ "$(cat "$TMP/fwd")" = fedcba ]; echo $?)" "-W: stdin EOF reaches the peer, its answer comes back, status 0"

# 10. password and keyboard-interactive with a test account
if [ "$(id -u)" -ne 0 ] || ! command -v useradd >/dev/null || ! command -v chpasswd >/dev/null; then
	for i in 1 2 3 4; do skip "password tests need root, useradd and chpasswd"; done
else
	user=ferry-p$$
	useradd -M -d "$TMP" -s /bin/sh "$user" && at_exit "userdel $user"
	echo "$user:Pa55-word" | chpasswd
	printf '#!/bin/sh\necho "$1" >>"%s/asked"\necho Pa55-word\n' "$TMP" >"$TMP/askpw"
	chmod 755 "$TMP/askpw"
	port3=$(free_port)
	/usr/sbin/sshd -D -e -f "$SSHD_CONFIG" -o Port="$port3" -o PidFile="$TMP/sshd3.pid" \
	    -o PasswordAuthentication=yes -o KbdInteractiveAuthentication=yes -o UsePAM=yes \
	    >"$TMP/sshd3.log" 2>&1 &
	track_pid $!
	wait_port "$port3"
	echo "[127.0.0.1]:$port3 $(cat "$TMP/sshd/host_ed25519.pub")" >>"$TMP/known_hosts"
	pw() { SSH_ASKPASS=$1 SSH_ASKPASS_REQUIRE=force timeout 60 "$FSSH" -F "$TMP/cfgn" \
	    -o BatchMode="${BM:-no}" -o User="$user" -p "$port3" "${@:2}" </dev/null; }
	rm -f "$TMP/asked"
	out=$(pw "$TMP/askpw" -o PreferredAuthentications=password 127.0.0.1 'id -un' 2>"$TMP/err")
	ok "$( [ "$out" = "$user" ] && grep -q "$user@127.0.0.1's password:" "$TMP/asked"; echo $?)" \
	    "password authentication: $(head -1 "$TMP/err")"
	printf '#!/bin/sh\necho wrong\n' >"$TMP/askbad"
	chmod 755 "$TMP/askbad"
	pw "$TMP/askbad" -o PreferredAuthentications=password -o NumberOfPasswordPrompts=2 \
	    127.0.0.1 true 2>"$TMP/err"
	rc=$?
	ok "$( [ $rc -eq 255 ] && grep -q '^Permission denied (' "$TMP/err" &&
	    [ "$(grep -c 'please try again' "$TMP/err")" -eq 1 ]; echo $?)" \
	    "a wrong password is refused after NumberOfPasswordPrompts: $(tail -1 "$TMP/err")"
	rm -f "$TMP/asked"
	out=$(pw "$TMP/askpw" -o PreferredAuthentications=keyboard-interactive 127.0.0.1 'id -un' 2>"$TMP/err")
	ok "$( [ "$out" = "$user" ] && grep -qi "($user@127.0.0.1) password" "$TMP/asked"; echo $?)" \
	    "keyboard-interactive authentication: $(head -1 "$TMP/asked")"
	rm -f "$TMP/asked"
	BM=yes pw "$TMP/askpw" -o PreferredAuthentications=keyboard-interactive,password \
	    127.0.0.1 true 2>"$TMP/err"
	ok "$( [ $? -eq 255 ] && [ ! -e "$TMP/asked" ]; echo $?)" \
	    "BatchMode disables keyboard-interactive and password"
fi
done_testing
