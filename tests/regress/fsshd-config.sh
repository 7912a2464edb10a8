#!/usr/bin/env bash
# fsshd with an sshd_config (-f), as root: -t and -T; public key and
# password logins that run as the user (never root); AllowUsers and
# DenyUsers; Match with ChrootDirectory and ForceCommand internal-sftp for
# an sftp-only account that sees only its tree; a chroot with a writable
# component refused with a clear log line.
. "$top_srcdir/tests/regress/lib.sh"
. "$top_srcdir/tests/regress/fsshd-lib.sh"
fsshd_require sftp chpasswd

tag=$$
mk_user() { # name [password]
	local u=$1-$tag
	fsshd_user "$u" "$TMP/homes/$u" "key-$1"
	[ -n "${2:-}" ] && echo "$u:$2" | chpasswd
	return 0
}
mkdir -p "$TMP/homes"
for u in alice bob carol mallory dave; do mk_user $u; done
echo "alice-$tag:s3cret-$tag" | chpasswd
# A chroot must be root-owned all the way up: /tmp is not, /run is.
croot=/run/ferry-chroot.$tag
mkdir -p "$croot/carol-$tag/upload" && chmod 755 "$croot" "$croot/carol-$tag"
chown "carol-$tag:" "$croot/carol-$tag/upload"
echo "inside" >"$croot/carol-$tag/welcome.txt"
at_exit "rm -rf $croot"
mkdir -p "$TMP/badroot"
chmod 777 "$TMP/badroot"

ssh-keygen -q -t ed25519 -N '' -f "$TMP/hostkey" </dev/null
port=$(free_port)
fsshd_config "$TMP/fsshd_config" "$port" <<EOC
AuthorizedKeysFile .ssh/authorized_keys
PasswordAuthentication yes
KbdInteractiveAuthentication no
AllowUsers alice-$tag bob-$tag carol-$tag mallory-$tag dave-$tag
DenyUsers mallory-$tag
Subsystem sftp internal-sftp
LogLevel VERBOSE
RekeyLimit 1M
Compression yes
Match User carol-$tag
	ChrootDirectory $croot/%u
	ForceCommand internal-sftp
Match User dave-$tag
	ChrootDirectory $TMP/badroot
EOC

"$FSSHD" -t -f "$TMP/fsshd_config"
ok $? "-t accepts a good configuration"
printf 'Port 22\nNoSuchKeyword yes\nMaxAuthTries many\n' >"$TMP/bad_config"
echo "HostKey $TMP/hostkey" >>"$TMP/bad_config"
"$FSSHD" -t -f "$TMP/bad_config" 2>"$TMP/t.err"
ok "$( [ $? -ne 0 ] && grep -q 'bad_config.*line 2' "$TMP/t.err" &&
    grep -q 'bad_config.*line 3' "$TMP/t.err"; echo $?)" "-t reports every error with file and line"
"$FSSHD" -T -f "$TMP/fsshd_config" -C "user=carol-$tag,addr=127.0.0.1,host=x,laddr=127.0.0.1,lport=$port" >"$TMP/T.out"
ok "$(grep -q "^chrootdirectory $croot/%u" "$TMP/T.out" && grep -q '^forcecommand internal-sftp' "$TMP/T.out"; echo $?)" \
    "-T with -C shows the settings Match gives a user"

fsshd_start "$TMP/fsshd_config" "$TMP/server.log" "$port"
ok "$( [ -s "$TMP/fsshd.pid" ]; echo $?)" "PidFile written"
fsshd_known "$port"
base=(-F /dev/null -o UserKnownHostsFile="$TMP/known" -o BatchMode=yes -p "$port")
kssh() { local u=$1; shift; ssh "${base[@]}" -o IdentitiesOnly=yes -i "$TMP/key-$u" "$u-$tag@127.0.0.1" "$@"; }

out=$(kssh bob 'id -un; id -u; id -ru')
ok "$( [ "$(echo "$out" | head -1)" = "bob-$tag" ] && [ "$(echo "$out" | sed -n 2p)" = "$(id -u "bob-$tag")" ] &&
    [ "$(echo "$out" | sed -n 3p)" != 0 ]; echo $?)" "a key login runs as the user, not root"
head -c $((8 * 1024 * 1024)) /dev/urandom >"$TMP/rand"
kssh bob -v cat <"$TMP/rand" 2>"$TMP/rekey.err" | sha256sum >"$TMP/rekey.sum"
ok "$( [ "$(cat "$TMP/rekey.sum")" = "$(sha256sum <"$TMP/rand")" ] &&
    [ "$(grep -c 'SSH2_MSG_KEXINIT received' "$TMP/rekey.err")" -gt 4 ]; echo $?)" \
    "fsshd rekeys every 1 MiB (RekeyLimit) with OpenSSH's ssh while 8 MiB flow, byte-exact"
kssh bob -v -C 'cat' <"$TMP/rand" 2>"$TMP/comp.err" | sha256sum >"$TMP/comp.sum"
ok "$( [ "$(cat "$TMP/comp.sum")" = "$(sha256sum <"$TMP/rand")" ] &&
    grep -q 'compression: zlib@openssh.com' "$TMP/comp.err"; echo $?)" \
    "zlib@openssh.com with OpenSSH's ssh -C: compression after login, 8 MiB byte-exact"
# Keys are read with the user's identity: a file only root can read is
# no file at all for the user's login.
chmod 600 "$TMP/homes/bob-$tag/.ssh/authorized_keys"
chown root: "$TMP/homes/bob-$tag/.ssh/authorized_keys"
kssh bob true 2>/dev/null
ok "$( [ $? -eq 255 ]; echo $?)" "authorized_keys is read as the user: a root-only file grants nothing"
chown "bob-$tag:" "$TMP/homes/bob-$tag/.ssh/authorized_keys"
out=$(kssh bob 'echo $HOME; pwd')
ok "$( [ "$out" = "$(printf '%s\n%s' "$TMP/homes/bob-$tag" "$TMP/homes/bob-$tag")" ]; echo $?)" "in the user's home"

printf '#!/bin/sh\necho "s3cret-%s"\n' "$tag" >"$TMP/askpass"
printf '#!/bin/sh\necho wrong\n' >"$TMP/askpass-bad"
chmod 755 "$TMP/askpass" "$TMP/askpass-bad"
pssh() { SSH_ASKPASS=$1 SSH_ASKPASS_REQUIRE=force DISPLAY=:0 setsid -w ssh -F /dev/null \
    -o UserKnownHostsFile="$TMP/known" -o PubkeyAuthentication=no -o NumberOfPasswordPrompts=1 \
    -o PreferredAuthentications=password -p "$port" "alice-$tag@127.0.0.1" "${@:2}" </dev/null; }
out=$(pssh "$TMP/askpass" 'id -un' 2>/dev/null)
ok "$( [ "$out" = "alice-$tag" ]; echo $?)" "a password login (crypt against the shadow file)"
pssh "$TMP/askpass-bad" true 2>/dev/null
ok "$( [ $? -eq 255 ]; echo $?)" "a wrong password is refused"
ok "$(grep -q "Failed password for alice-$tag" "$TMP/server.log"; echo $?)" "and logged"

kssh mallory true 2>/dev/null
ok "$( [ $? -eq 255 ] && grep -q "mallory-$tag.*DenyUsers" "$TMP/server.log"; echo $?)" "DenyUsers refuses, with a log line"
sed -i "s/^AllowUsers .*/AllowUsers alice-$tag carol-$tag dave-$tag/" "$TMP/fsshd_config"
# The old fsshd must be gone, else wait_port may see it still listening.
stop_pid "$(cat "$TMP/fsshd.pid")"
"$FSSHD" -f "$TMP/fsshd_config" -e 2>>"$TMP/server.log" &
track_pid $!
wait_port "$port"
kssh bob true 2>/dev/null
ok "$( [ $? -eq 255 ] && grep -q "bob-$tag.*AllowUsers" "$TMP/server.log"; echo $?)" "a user not in AllowUsers is refused"

# The chrooted sftp-only account.
csftp() { sftp "${base[@]/-p/-P}" -o IdentitiesOnly=yes -i "$TMP/key-carol" -b - "carol-$tag@127.0.0.1"; }
out=$(printf 'pwd\nls /\n' | csftp 2>&1)
ok "$(echo "$out" | grep -q 'Remote working directory: /$' && echo "$out" | grep -q welcome.txt &&
    ! echo "$out" | grep -qE 'etc|bin|usr'; echo $?)" "sftp-only: / is the chroot, nothing else is visible"
printf 'get /etc/passwd %s\n' "$TMP/stolen" | csftp >/dev/null 2>&1
ok "$( [ ! -e "$TMP/stolen" ]; echo $?)" "sftp-only: /etc/passwd cannot be fetched"
printf 'get ../../../../etc/passwd %s\n' "$TMP/stolen" | csftp >/dev/null 2>&1
ok "$( [ ! -e "$TMP/stolen" ]; echo $?)" "sftp-only: ../ sequences stay inside"
printf 'put %s /upload/up.txt\n' "$TMP/known" | csftp >/dev/null 2>&1
ok "$(cmp -s "$TMP/known" "$croot/carol-$tag/upload/up.txt" &&
    [ "$(stat -c %U "$croot/carol-$tag/upload/up.txt")" = "carol-$tag" ]; echo $?)" \
    "sftp-only: uploads land in the tree, owned by the user"
printf 'put %s /owned-by-root.txt\n' "$TMP/known" | csftp >/dev/null 2>&1
ok "$( [ ! -e "$croot/carol-$tag/owned-by-root.txt" ]; echo $?)" "sftp-only: the root-owned top is not writable"
out=$(kssh carol 'id' </dev/null 2>/dev/null)
ok "$(! echo "$out" | grep -q 'uid='; echo $?)" "sftp-only: 'ssh user id' runs no command"

kssh dave true 2>/dev/null
ok "$( [ $? -ne 0 ] && grep -q 'bad ownership or modes for chroot directory component' "$TMP/server.log"; echo $?)" \
    "a chroot with a writable component is refused with a clear log line"
done_testing
