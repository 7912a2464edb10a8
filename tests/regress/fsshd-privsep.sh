#!/usr/bin/env bash
# fsshd's privilege separation, as root: the pre-auth process of a live
# connection (an ssh waiting at its password prompt) is not root, runs
# under seccomp (Seccomp: 2) with no_new_privs, has the empty directory
# as its root, and holds no host private key (not mapped, not open, not
# in its memory, while its monitor's memory has it); a pre-auth process
# killed with SIGSEGV is logged as a crash and the listener keeps
# serving; OpenSSH's ssh and sftp log in with keys and passwords, run
# commands and transfer files, and rekey after the hand-over (RekeyLimit
# 1M); the post-auth process runs as the user.  An sftp-only account
# confined by "ForceCommand internal-sftp -r DIR" (no chroot, a tree the
# user owns) sees only DIR: absolute paths, ../ and symlinks to outside
# stay inside.  The embedded default run by an ordinary user sandboxes
# its pre-auth process too (no chroot).
. "$top_srcdir/tests/regress/lib.sh"
. "$top_srcdir/tests/regress/fsshd-lib.sh"
fsshd_require sftp chpasswd setsid setpriv

tag=$$
# The account pre-auth processes run as (fsshd(8) documents this line).
if ! getent passwd fsshd >/dev/null; then
	useradd --system --no-create-home --shell /usr/sbin/nologin fsshd ||
	    skip_all "cannot create the fsshd account"
fi
u=psu-$tag
fsshd_user "$u" "$TMP/home" ukey
echo "$u:pw-$tag" | chpasswd
ssh-keygen -q -t ed25519 -N '' -f "$TMP/hostkey" </dev/null
ssh-keygen -q -t rsa -b 2048 -N '' -f "$TMP/rsakey" </dev/null
# The confined account: its tree belongs to it, not to root.
j=psj-$tag
useradd -M -d "$TMP/jail/$j" -s /bin/sh -p '*' "$j" || skip_all "cannot create users"
at_exit "userdel $j"
mkdir -p "$TMP/jail/$j/.ssh" "$TMP/jail/$j/files"
cp "$TMP/ukey.pub" "$TMP/jail/$j/.ssh/authorized_keys"
echo inside >"$TMP/jail/$j/files/in.txt"
ln -s /etc "$TMP/jail/$j/files/abs"
ln -s ../../../../../../../etc "$TMP/jail/$j/files/rel"
chown -R "$j:" "$TMP/jail/$j"

port=$(free_port)
fsshd_config "$TMP/fsshd_config" "$port" <<EOC
HostKey $TMP/rsakey
HostKeyAlgorithms +ssh-rsa
PasswordAuthentication yes
KbdInteractiveAuthentication no
Subsystem sftp internal-sftp
RekeyLimit 1M
LogLevel VERBOSE
PerSourcePenaltyExemptList 127.0.0.1/32
Match User $j
	ForceCommand internal-sftp -r $TMP/jail/%u
EOC
fsshd_start "$TMP/fsshd_config" "$TMP/server.log" "$port"
listener=$(cat "$TMP/fsshd.pid")
fsshd_known "$port"
base=(-F /dev/null -o UserKnownHostsFile="$TMP/known" -o BatchMode=yes)

# An ssh that stops at its password prompt (the askpass program sleeps):
# its connection has finished the key exchange and waits in pre-auth.
# The slow askpass answers only when told to (or after 10 minutes): the
# memory scans below can take long under sanitizers on a loaded machine.
printf '#!/bin/sh\necho asking >"%s"\nfor i in $(seq 3000); do [ -e "%s" ] || [ ! -d "%s" ] && exit 1; sleep 0.2; done\n' \
    "$TMP/asking" "$TMP/release" "$TMP" >"$TMP/askpass-slow"
printf '#!/bin/sh\necho pw-%s\n' "$tag" >"$TMP/askpass"
chmod 755 "$TMP/askpass-slow" "$TMP/askpass"
pw_ssh() { # askpass command...
	SSH_ASKPASS=$1 SSH_ASKPASS_REQUIRE=force DISPLAY=:0 setsid -w ssh \
	    -F /dev/null -o UserKnownHostsFile="$TMP/known" \
	    -o PubkeyAuthentication=no -o NumberOfPasswordPrompts=1 \
	    -o PreferredAuthentications=password -p "$port" "$u@127.0.0.1" \
	    "${@:2}" </dev/null
}
# Wait until wait_port's probe connection is gone: the only pre-auth
# process left will be the ssh's.
no_children() { [ -z "$(pgrep -P "$1")" ]; }
wait_until no_children "$listener"
pw_ssh "$TMP/askpass-slow" true >/dev/null 2>&1 &
slow=$!
track_pid $slow
# The per-connection monitor is the listener's child, the pre-auth
# process the monitor's.  Once ssh runs the askpass program, the key
# exchange is over: the pre-auth process has entered its sandbox.
find_pre() { # listener: sets pre and mon
	local m
	pre=
	for m in $(pgrep -P "$1"); do
		pre=$(pgrep -P "$m" | head -1)
		[ -n "$pre" ] && mon=$m && return 0
	done
	return 1
}
pre=
mon=
wait_file "$TMP/asking" &&
    wait_until find_pre "$listener"
ok $? "a connection waiting for its password has a pre-auth process" ||
	diag "$(tail -5 "$TMP/server.log")"

ok "$( [ "$(awk '/^Uid:/ {print $2}' /proc/$pre/status)" != 0 ] &&
    [ "$(awk '/^Uid:/ {print $2}' /proc/$pre/status)" = "$(id -u fsshd)" ]; echo $?)" \
    "the pre-auth process runs as the fsshd account, not root"
ok "$(grep -q "^Seccomp:	2" /proc/$pre/status &&
    grep -q "^NoNewPrivs:	1" /proc/$pre/status; echo $?)" \
    "the pre-auth process is under a seccomp filter with no_new_privs"
ok "$( [ "$(readlink /proc/$pre/root)" = /run/fsshd/empty ] &&
    [ -z "$(ls -A /run/fsshd/empty)" ] &&
    [ "$(stat -c %U /run/fsshd/empty)" = root ]; echo $?)" \
    "its root is the empty root-owned directory /run/fsshd/empty"
ok "$(grep -q '^Max processes *0 *0' /proc/$pre/limits &&
    grep -q '^Max file size *0 *0' /proc/$pre/limits &&
    [ "$(awk '/^Max open files/ {print $4}' /proc/$pre/limits)" -le \
    "$(ls /proc/$pre/fd | wc -l)" ]; echo $?)" \
    "rlimits: no processes, no file growth, no descriptor beyond those it has"
ok "$(! grep -q hostkey /proc/$pre/maps &&
    ! ls -l /proc/$pre/fd | grep -q hostkey; echo $?)" \
    "no host key file mapped or open in the pre-auth process"
# The ed25519 private scalar (seed) of the host key, as hex.
seed=$(/usr/bin/python3 - "$TMP/hostkey" <<'EOP'
import base64, struct, sys
t = open(sys.argv[1]).read().split('\n')
b = base64.b64decode(''.join(l for l in t if l and not l.startswith('-----')))
def s(b, o):
    n = struct.unpack('>I', b[o:o+4])[0]
    return b[o+4:o+4+n], o + 4 + n
o = len(b'openssh-key-v1\0')
for _ in range(3):
    _, o = s(b, o)
o += 4
_, o = s(b, o)			# public key
priv, o = s(b, o)
p = 8
_, p = s(priv, p)		# key type
_, p = s(priv, p)		# public part
sk, p = s(priv, p)		# seed || public
print(sk[:32].hex())
EOP
)
memhas() { # pid hex: 0 found, 1 not found, 2 the memory could not be read
	/usr/bin/python3 - "$1" "$2" <<'EOP'
import sys
pid, needle = sys.argv[1], bytes.fromhex(sys.argv[2])
CHUNK = 1 << 20
read = 0
with open('/proc/%s/maps' % pid) as maps, open('/proc/%s/mem' % pid, 'rb', 0) as mem:
    for line in maps:
        f = line.split()
        # Readable mappings; sanitizer shadow reservations (huge,
        # never written) are skipped.
        if not f[1].startswith('r'):
            continue
        a, b = (int(x, 16) for x in f[0].split('-'))
        if b - a > (1 << 30):
            continue
        tail = b''
        for off in range(a, b, CHUNK):
            try:
                mem.seek(off)
                data = mem.read(min(CHUNK, b - off))
            except (OSError, ValueError, OverflowError):
                tail = b''
                continue
            read += len(data)
            if needle in tail + data:
                sys.exit(0)
            tail = data[-len(needle):]
sys.exit(1 if read > 0 else 2)
EOP
}
[ ${#seed} -eq 64 ] || skip_all "cannot read the host key's seed"
memhas "$mon" "$seed"
ok $? "control: the monitor's memory holds the host key's private scalar"
memhas "$pre" "$seed"
ok "$( [ $? -eq 1 ]; echo $?)" "the pre-auth process's memory does not"

kill -SEGV "$pre"
wait_log "$TMP/server.log" 'pre-auth process for .* crashed'
# (Sanitizer builds catch SIGSEGV; their handler ends in SIGSYS.)
ok "$(grep -q 'pre-auth process for .* crashed: signal [0-9]' "$TMP/server.log" &&
    kill -0 "$listener"; echo $?)" \
    "a pre-auth process sent SIGSEGV is logged as a crash; the listener lives"
touch "$TMP/release"
wait $slow 2>/dev/null

out=$(ssh "${base[@]}" -o IdentitiesOnly=yes -i "$TMP/ukey" -p "$port" \
    "$u@127.0.0.1" 'id -un; id -ru' 2>/dev/null)
ok "$( [ "$out" = "$(printf '%s\n%s' "$u" "$(id -u "$u")")" ]; echo $?)" \
    "after the crash a key login works; the session runs as the user"
# A live session: the post-auth process (the monitor's child, running as
# the user) holds no host private key either.  The session lasts until
# the memory is scanned (slow under sanitizers); the client is then
# stopped.  Earlier connections' processes are gone first.
wait_until no_children "$listener"
ssh "${base[@]}" -o IdentitiesOnly=yes -i "$TMP/ukey" -p "$port" \
    "$u@127.0.0.1" 'echo up; exec sleep 120' >"$TMP/sess.out" 2>/dev/null &
sess=$!
track_pid $sess
find_post() {
	local m c
	for m in $(pgrep -P "$listener"); do
		c=$(pgrep -u "$u" -P "$m" | head -1)
		[ -n "$c" ] && post=$c && return 0
	done
	return 1
}
post=
rc=2
wait_file "$TMP/sess.out" && find_post && { memhas "$post" "$seed"; rc=$?; }
ok "$( [ $rc -eq 1 ]; echo $?)" \
    "the post-auth process's memory holds no host private key"
stop_pid $sess
# Host key signatures by the monitor for RSA, and SHA-1 ssh-rsa since
# HostKeyAlgorithms enables it.
for alg in rsa-sha2-512 ssh-rsa; do
	out=$(ssh -F /dev/null -o UserKnownHostsFile=/dev/null \
	    -o StrictHostKeyChecking=no -o HostKeyAlgorithms=$alg \
	    -o BatchMode=yes -o IdentitiesOnly=yes -i "$TMP/ukey" -p "$port" \
	    "$u@127.0.0.1" 'id -un' 2>/dev/null)
	ok "$( [ "$out" = "$u" ]; echo $?)" "host key $alg signed by the monitor"
done
# Group exchange needs ModuliFile, which the sandbox cannot open: the
# pre-auth process takes a built-in group instead of dying.
out=$(ssh "${base[@]}" -o IdentitiesOnly=yes -i "$TMP/ukey" -p "$port" \
    -o KexAlgorithms=diffie-hellman-group-exchange-sha256 "$u@127.0.0.1" \
    'id -un' 2>/dev/null)
ok "$( [ "$out" = "$u" ] && ! grep -q 'signal 31' "$TMP/server.log"; echo $?)" \
    "diffie-hellman-group-exchange in the sandbox (a built-in group)"
out=$(pw_ssh "$TMP/askpass" 'id -un' 2>/dev/null)
ok "$( [ "$out" = "$u" ]; echo $?)" "a password login works through the monitor"
head -c $((4 * 1024 * 1024)) /dev/urandom >"$TMP/rand"
ssh "${base[@]}" -o IdentitiesOnly=yes -i "$TMP/ukey" -p "$port" \
    -o RekeyLimit=1M -v "$u@127.0.0.1" cat <"$TMP/rand" 2>"$TMP/rekey.err" |
    sha256sum >"$TMP/rekey.sum"
ok "$( [ "$(cat "$TMP/rekey.sum")" = "$(sha256sum <"$TMP/rand")" ] &&
    [ "$(grep -c 'SSH2_MSG_KEXINIT received' "$TMP/rekey.err")" -gt 3 ]; echo $?)" \
    "rekeys after the hand-over (host key signatures by the monitor), 4 MiB byte-exact"
chmod 755 "$TMP"
printf 'put %s %s/up\nget %s/up %s\n' "$TMP/rand" "$TMP/home" \
    "$TMP/home" "$TMP/rand2" |
    sftp "${base[@]}" -o IdentitiesOnly=yes -i "$TMP/ukey" -P "$port" -C \
    -b - "$u@127.0.0.1" >/dev/null 2>&1
ok "$(cmp -s "$TMP/rand" "$TMP/rand2" &&
    [ "$(stat -c %U "$TMP/home/up")" = "$u" ]; echo $?)" \
    "sftp with compression: put and get through the post-auth process"
ok "$(grep -q 'Accepted publickey' "$TMP/server.log" &&
    ! grep -q 'not permitted in state' "$TMP/server.log"; echo $?)" \
    "no request outside its state reached the monitor"

# The openat2 confinement of internal-sftp -r.
jsftp() {
	sftp "${base[@]}" -o IdentitiesOnly=yes -i "$TMP/ukey" -P "$port" \
	    -b - "$j@127.0.0.1" 2>&1
}
out=$(printf 'pwd\nls /\nget /files/in.txt %s\n' "$TMP/in.txt" | jsftp)
ok "$(echo "$out" | grep -q 'Remote working directory: /$' &&
    echo "$out" | grep -q files && cmp -s "$TMP/in.txt" "$TMP/jail/$j/files/in.txt" &&
    grep -q "sftp for $j confined to $TMP/jail/$j" "$TMP/server.log"; echo $?)" \
    "internal-sftp -r: / is the account's own directory"
for p in /etc/passwd ../../../../etc/passwd /files/abs/passwd /files/rel/passwd; do
	rm -f "$TMP/stolen"
	printf 'get %s %s\n' "$p" "$TMP/stolen" | jsftp >/dev/null
	ok "$( [ ! -e "$TMP/stolen" ] || ! cmp -s "$TMP/stolen" /etc/passwd; echo $?)" \
	    "internal-sftp -r: $p does not reach the real /etc/passwd"
done
out=$(printf 'ls /files/abs\n' | jsftp)
ok "$(! echo "$out" | grep -q passwd; echo $?)" \
    "internal-sftp -r: an absolute symlink resolves inside the root"
out=$(ssh "${base[@]}" -o IdentitiesOnly=yes -i "$TMP/ukey" -p "$port" \
    "$j@127.0.0.1" id 2>/dev/null)
ok "$(! echo "$out" | grep -q 'uid='; echo $?)" \
    "internal-sftp -r: the forced command runs no shell command"

# The embedded default, started by an ordinary user: no chroot, no uid
# change, but the same seccomp filter, rlimits and no_new_privs.
eport=$(free_port)
ehome=$TMP/ehome
mkdir -p "$ehome/.ssh"
cp "$TMP/ukey.pub" "$ehome/.ssh/authorized_keys"
chown -R "$u:" "$ehome"
setpriv --reuid="$u" --regid="$u" --init-groups env -i HOME="$ehome" \
    PATH=/usr/bin:/bin "$FSSHD" -p "$eport" -e 2>"$TMP/embedded.log" &
epid=$!
track_pid $epid
wait_port "$eport"
wait_until no_children "$epid"
exec 7<>"/dev/tcp/127.0.0.1/$eport"
epre=
find_epre() {
	local m
	for m in $(pgrep -P "$epid"); do
		epre=$(pgrep -P "$m" | head -1)
		[ -n "$epre" ] && break
	done
	[ -n "$epre" ] && grep -q '^Seccomp:	2' /proc/$epre/status
}
wait_until find_epre
ok "$( [ -n "$epre" ] &&
    grep -q '^Seccomp:	2' /proc/$epre/status &&
    [ "$(awk '/^Uid:/ {print $2}' /proc/$epre/status)" = "$(id -u "$u")" ]; echo $?)" \
    "embedded default: the pre-auth process runs under seccomp as the user"
exec 7<&-
out=$(ssh "${base[@]}" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o IdentitiesOnly=yes -i "$TMP/ukey" -p "$eport" "$u@127.0.0.1" 'id -un' 2>/dev/null)
ok "$( [ "$out" = "$u" ]; echo $?)" "embedded default: a key login works"
done_testing
