#!/usr/bin/env bash
# OpenSSH's legacy scp (scp -O) against fsshd's in-process scp server:
# single files both ways, names with spaces, -r trees and -p times and
# modes both ways, remote globs, errors; the command never reaches the
# user's shell (the test account's shell logs every command it runs); a
# chrooted sftp-only account with no binaries in its chroot copies with
# scp -O; the embedded default, started by an ordinary user, too.
. "$top_srcdir/tests/regress/lib.sh"
require_root
require_cmd ssh scp ssh-keygen useradd userdel setpriv
FSSHD=$(ferry_bin fsshd)
[ -x "$FSSHD" ] || skip_all "fsshd not built"

tag=scp$$
# The shell of the command-capable account logs what it is asked to run.
tools=/run/ferry-scp-tools.$tag
mkdir -p "$tools" && chmod 755 "$tools"
at_exit "rm -rf $tools"
cat >"$tools/logsh" <<EOS
#!/bin/sh
echo "\$*" >>$tools/shell.log
exec /bin/sh "\$@"
EOS
chmod 755 "$tools/logsh"
touch "$tools/shell.log" && chmod 666 "$tools/shell.log"

mk_user() { # name shell
	local u=$1-$tag
	useradd -M -d "$TMP/homes/$u" -s "$2" -p '*' "$u" || skip_all "cannot create users"
	at_exit "userdel $u"
	mkdir -p "$TMP/homes/$u/.ssh"
	ssh-keygen -q -t ed25519 -N '' -f "$TMP/key-$1" </dev/null
	cp "$TMP/key-$1.pub" "$TMP/homes/$u/.ssh/authorized_keys"
	chown -R "$u:" "$TMP/homes/$u"
}
mkdir -p "$TMP/homes"
mk_user al "$tools/logsh"
mk_user cy /bin/sh
mk_user no /usr/sbin/nologin
mk_user ro /bin/sh
croot=/run/ferry-scp-chroot.$tag
mkdir -p "$croot/cy-$tag/in" && chmod 755 "$croot" "$croot/cy-$tag"
chown "cy-$tag:" "$croot/cy-$tag/in"
echo "from the chroot" >"$croot/cy-$tag/in/hello.txt"
at_exit "rm -rf $croot"

ssh-keygen -q -t ed25519 -N '' -f "$TMP/hostkey" </dev/null
port=$(free_port)
cat >"$TMP/fsshd_config" <<EOC
Port $port
ListenAddress 127.0.0.1
HostKey $TMP/hostkey
PidFile $TMP/fsshd.pid
AuthorizedKeysFile .ssh/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
Subsystem sftp internal-sftp
LogLevel VERBOSE
Match User ro-$tag
	ForceCommand internal-sftp -R
Match User cy-$tag
	ChrootDirectory $croot/%u
	ForceCommand internal-sftp
EOC
"$FSSHD" -f "$TMP/fsshd_config" -e 2>"$TMP/server.log" &
track_pid $!
wait_port "$port"
echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$TMP/hostkey.pub")" >"$TMP/known"
base=(-F /dev/null -o UserKnownHostsFile="$TMP/known" -o BatchMode=yes
    -o IdentitiesOnly=yes -P "$port")
kscp() { local u=$1; shift; scp -q -O "${base[@]}" -i "$TMP/key-$u" "$@"; }
al=al-$tag@127.0.0.1
alh=$TMP/homes/al-$tag

head -c 1000000 /dev/urandom >"$TMP/rand"
kscp al "$TMP/rand" "$al:up.bin"
ok $? "scp -O upload exits 0"
ok "$(cmp -s "$TMP/rand" "$alh/up.bin"; echo $?)" "upload is byte-exact"
ok "$( [ "$(stat -c %U "$alh/up.bin")" = "al-$tag" ]; echo $?)" "written as the user"
kscp al "$al:up.bin" "$TMP/down.bin"
ok "$(cmp -s "$TMP/rand" "$TMP/down.bin"; echo $?)" "scp -O download is byte-exact"
ok "$( ! grep -q 'scp ' "$tools/shell.log"; echo $?)" "no scp command reached the user's shell"

echo spaced >"$TMP/a b"
kscp al "$TMP/a b" "$al:'x y'"
ok "$( [ "$(cat "$alh/x y" 2>/dev/null)" = spaced ]; echo $?)" "upload to a quoted name with a space"
# scp checks names against the quoted text: -T, as scp users do.
kscp al -T "$al:\"x y\"" "$TMP/back sp"
ok "$( [ "$(cat "$TMP/back sp" 2>/dev/null)" = spaced ]; echo $?)" "download of a double-quoted name with a space"

# Trees with -r -p, both ways.
mkdir -p "$TMP/tree/sub dir/deep"
echo one >"$TMP/tree/one"
echo two >"$TMP/tree/sub dir/two"
echo three >"$TMP/tree/sub dir/deep/three"
chmod 640 "$TMP/tree/one"
chmod 750 "$TMP/tree/sub dir"
touch -d '2001-02-03 04:05:06' "$TMP/tree/one" "$TMP/tree/sub dir"
kscp al -r -p "$TMP/tree" "$al:"
ok "$(diff -r "$TMP/tree" "$alh/tree" >/dev/null; echo $?)" "-r upload: the tree arrives"
ok "$( [ "$(stat -c '%a %Y' "$alh/tree/one")" = "$(stat -c '%a %Y' "$TMP/tree/one")" ] &&
    [ "$(stat -c '%a %Y' "$alh/tree/sub dir")" = "$(stat -c '%a %Y' "$TMP/tree/sub dir")" ]; echo $?)" \
    "-p upload: modes and times kept"
mkdir "$TMP/back"
kscp al -r -p "$al:tree" "$TMP/back/"
ok "$(diff -r "$TMP/tree" "$TMP/back/tree" >/dev/null; echo $?)" "-r download: the tree arrives"
ok "$( [ "$(stat -c '%a %Y' "$TMP/back/tree/one")" = "$(stat -c '%a %Y' "$TMP/tree/one")" ]; echo $?)" \
    "-p download: mode and time kept"

# Globs are expanded by the server for -f, quoted ones are names.
for f in g1.txt g2.txt other.dat; do echo "$f" >"$alh/$f"; done
chown "al-$tag:" "$alh"/*.txt "$alh/other.dat"
mkdir "$TMP/globbed"
kscp al "$al:g*.txt" "$TMP/globbed/"
ok "$( [ -f "$TMP/globbed/g1.txt" ] && [ -f "$TMP/globbed/g2.txt" ] &&
    [ ! -e "$TMP/globbed/other.dat" ]; echo $?)" "remote glob expanded by the server"
kscp al "$al:'g*.txt'" "$TMP/globbed/" 2>"$TMP/glob.err"
ok "$( [ $? -ne 0 ] && grep -q 'No such file' "$TMP/glob.err"; echo $?)" \
    "a quoted glob is a name"
kscp al "$al:nope" "$TMP/globbed/" 2>"$TMP/nope.err"
ok "$( [ $? -eq 1 ] && grep -q 'nope: No such file' "$TMP/nope.err"; echo $?)" \
    "a missing file: scp's message and exit status 1"
kscp al "$TMP/rand" "$al:/proc/nope/x" 2>"$TMP/nodir.err"
ok "$( [ $? -eq 1 ]; echo $?)" "an unwritable target: exit status 1"

# Shell syntax is never served in-process: it goes to the shell.
: >"$tools/shell.log"
kscp al "$TMP/rand" "$al:'semi;colon'"
ok "$( [ -f "$alh/semi;colon" ] && ! grep -q 'scp ' "$tools/shell.log"; echo $?)" \
    "a quoted ; is part of the name, served in-process"

# An account whose shell is nologin gets no scp.
kscp no "$TMP/rand" "no-$tag@127.0.0.1:x" 2>/dev/null
ok "$( [ $? -ne 0 ] && [ ! -e "$TMP/homes/no-$tag/x" ]; echo $?)" "nologin account: no scp"

# An sftp-only account in read-only mode gets no scp.
kscp ro "$TMP/rand" "ro-$tag@127.0.0.1:x" 2>/dev/null
ok "$( [ $? -ne 0 ] && [ ! -e "$TMP/homes/ro-$tag/x" ]; echo $?)" \
    "internal-sftp -R account: no scp"

# The chrooted sftp-only account: no binaries inside, scp -O works.
cy=cy-$tag@127.0.0.1
ok "$( [ ! -e "$croot/cy-$tag/bin" ] && [ ! -e "$croot/cy-$tag/usr" ]; echo $?)" "the chroot holds no binaries"
kscp cy "$TMP/rand" "$cy:/in/up.bin"
ok "$(cmp -s "$TMP/rand" "$croot/cy-$tag/in/up.bin"; echo $?)" "chrooted sftp-only account: scp -O upload"
kscp cy "$cy:/in/hello.txt" "$TMP/hello.txt"
ok "$( [ "$(cat "$TMP/hello.txt" 2>/dev/null)" = "from the chroot" ]; echo $?)" \
    "chrooted sftp-only account: scp -O download"
kscp cy -r "$TMP/tree" "$cy:/in/"
ok "$(diff -r "$TMP/tree" "$croot/cy-$tag/in/tree" >/dev/null; echo $?)" "chrooted: -r upload"
kscp cy "$cy:/etc/passwd" "$TMP/pw" 2>/dev/null
ok "$( [ ! -e "$TMP/pw" ]; echo $?)" "chrooted: nothing outside the chroot is reachable"
kscp cy "$TMP/rand" "$cy:../../../tmp/escape-$tag" 2>/dev/null
ok "$( [ ! -e "/tmp/escape-$tag" ]; echo $?)" "chrooted: .. does not leave the chroot"

# The embedded default, as an ordinary user.
eu=ferry-se$$
eh=$TMP/ehome
useradd -M -d "$eh" -s /bin/sh -p '*' "$eu" || skip_all "cannot create a test user"
at_exit "userdel $eu"
mkdir -p "$eh/.ssh"
cp "$TMP/key-al.pub" "$eh/.ssh/authorized_keys"
chown -R "$eu:" "$eh"
chmod 700 "$eh" "$eh/.ssh"
eport=$(free_port)
setpriv --reuid="$eu" --regid="$eu" --init-groups env -i HOME="$eh" \
    PATH=/usr/bin:/bin "$FSSHD" -p "$eport" >"$TMP/embedded.log" 2>&1 &
track_pid $!
wait_port "$eport"
ekey=$eh/.local/state/ferry/ssh_host_ed25519_key.pub
echo "[127.0.0.1]:$eport $(cut -d' ' -f1,2 "$ekey")" >"$TMP/eknown"
escp() { scp -q -O -F /dev/null -o UserKnownHostsFile="$TMP/eknown" -o BatchMode=yes \
    -o IdentitiesOnly=yes -i "$TMP/key-al" -P "$eport" "$@"; }
escp -r "$TMP/tree" "$eu@127.0.0.1:"
ok "$(diff -r "$TMP/tree" "$eh/tree" >/dev/null; echo $?)" "embedded default: scp -O -r upload"
escp "$eu@127.0.0.1:tree/one" "$TMP/eone"
ok "$(cmp -s "$TMP/tree/one" "$TMP/eone"; echo $?)" "embedded default: scp -O download"

done_testing
