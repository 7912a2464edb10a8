#!/usr/bin/env bash
# StrictModes, as root with OpenSSH's ssh: an authorized_keys file, ~/.ssh
# or home directory that another user could change (group or world
# writable, or owned by someone else) grants nothing, with a log line
# naming it; StrictModes no accepts them.
. "$top_srcdir/tests/regress/lib.sh"
. "$top_srcdir/tests/regress/fsshd-lib.sh"
fsshd_require

u=strict-$$
h=$TMP/homes/$u
fsshd_user "$u" "$h" key
chmod 755 "$TMP/homes" "$h"
chmod 700 "$h/.ssh"
chmod 600 "$h/.ssh/authorized_keys"
ssh-keygen -q -t ed25519 -N '' -f "$TMP/hostkey" </dev/null
start() { # name port strictmodes
	fsshd_config "$TMP/$1.conf" "$2" "$TMP/$1.pid" <<EOC
PerSourcePenalties no
UsePAM no
StrictModes $3
Subsystem sftp internal-sftp
EOC
	fsshd_start "$TMP/$1.conf" "$TMP/$1.log" "$2"
	fsshd_known "$2"
}
p1=$(free_port)
start strict "$p1" yes
p2=$(free_port)
start lax "$p2" no
kssh() { fsshd_ssh 60 key "$1" "$u" 'id -un' </dev/null 2>/dev/null; }

ok "$( [ "$(kssh "$p1")" = "$u" ]; echo $?)" "StrictModes yes: safe modes log in"
fp=$(ssh-keygen -lf "$TMP/key.pub" | cut -d' ' -f2)
ok "$(grep -q "Accepted publickey for $u from 127.0.0.1 port [0-9]* ssh2: ED25519 $fp\$" "$TMP/strict.log"; echo $?)" \
    "the decision is logged with user, method, source and key fingerprint"
# refused CHMOD-TARGET MODE WHAT: the login fails and the log names it
refused() {
	[ -z "$(kssh "$p1")" ] && grep -q "Authentication refused for $u: bad ownership or modes for $1" \
	    "$TMP/strict.log"
}
chmod 620 "$h/.ssh/authorized_keys"
ok "$(refused "file $h/.ssh/authorized_keys"; echo $?)" "a group-writable authorized_keys is refused, logged"
ok "$( [ "$(kssh "$p2")" = "$u" ]; echo $?)" "StrictModes no accepts it"
chmod 600 "$h/.ssh/authorized_keys"
chmod 703 "$h/.ssh"
ok "$(refused "directory $h/.ssh"; echo $?)" "a world-writable ~/.ssh is refused"
chmod 700 "$h/.ssh"
chmod 775 "$h"
ok "$(refused "directory $h"; echo $?)" "a group-writable home directory is refused"
chmod 755 "$h"
chown nobody "$h/.ssh/authorized_keys"
ok "$(refused "file $h/.ssh/authorized_keys"; echo $?)" "an authorized_keys owned by another user is refused"
chown "$u" "$h/.ssh/authorized_keys"
ok "$( [ "$(kssh "$p1")" = "$u" ]; echo $?)" "safe again: logs in"

# LogLevel INFO: one line per SFTP file operation, as sftp-server logs.
if command -v sftp >/dev/null; then
	echo payload >"$TMP/up.txt"
	printf 'put %s up.txt\nrename up.txt moved.txt\n' "$TMP/up.txt" >"$TMP/batch"
	timeout 60 sftp -F /dev/null -o UserKnownHostsFile="$TMP/known" -o BatchMode=yes \
	    -o IdentitiesOnly=yes -i "$TMP/key" -P "$p1" -b "$TMP/batch" "$u@127.0.0.1" \
	    >/dev/null 2>&1 </dev/null
	ok "$(grep -q "open \"$h/up.txt\" flags WRITE,CREATE,TRUNCATE" "$TMP/strict.log" &&
	    grep -q "close \"$h/up.txt\" bytes read 0 written 8" "$TMP/strict.log" &&
	    grep -q "rename old \"$h/up.txt\" new \"$h/moved.txt\"" "$TMP/strict.log"; echo $?)" \
	    "SFTP file operations are logged at INFO (open, close with byte counts, rename)"
else
	skip "sftp not installed"
fi

done_testing
