#!/usr/bin/env bash
# tree-archive@ferry through fsshd (its embedded default, run as an
# unprivileged test user, SFTP in-process) with fsftp's in-process
# client: put -r and get -r of 2,000 small files, deep nesting, odd
# names and symbolic links as one stream (-v says so), identical after
# the round trip with modes and times (-p); getarchive/putarchive; a
# hostile archive refused with nothing written outside the target; and
# the same trees through OpenSSH's sshd with OpenSSH's sftp-server,
# where fsftp falls back to per-file transfers and says so.
. "${top_srcdir:-.}/tests/regress/lib.sh"
require_cmd diff find sort ssh-keygen
FSFTP=$(ferry_bin fsftp)
FSSHD=$(ferry_bin fsshd)
PY=/usr/bin/python3
[ -x "$FSFTP" ] && [ -x "$FSSHD" ] || skip_all "fsftp or fsshd not built"
if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null ||
    ! command -v useradd >/dev/null; then
	skip_all "needs root, setpriv and useradd (fsshd runs as a test user)"
fi
L=$TMP/local
mkdir -p "$L"
ssh-keygen -q -t ed25519 -N '' -f "$TMP/id_ed25519" </dev/null >/dev/null

fuser=ferry-ar$$
fhome=$TMP/fhome
useradd -M -d "$fhome" -s /bin/sh -p '*' "$fuser" && at_exit "userdel $fuser"
mkdir -p "$fhome/.ssh"
cp "$TMP/id_ed25519.pub" "$fhome/.ssh/authorized_keys"
chown -R "$fuser:" "$fhome"
chmod 700 "$fhome" "$fhome/.ssh"
fport=$(free_port)
setpriv --reuid="$fuser" --regid="$fuser" --init-groups env -i \
    HOME="$fhome" PATH=/usr/bin:/bin "$FSSHD" -p "$fport" \
    >"$TMP/fsshd.log" 2>&1 &
track_pid $!
wait_port "$fport" || skip_all "fsshd did not start"
keyfile=$fhome/.local/state/ferry/ssh_host_ed25519_key
wait_file "$keyfile.pub"
echo "[127.0.0.1]:$fport $(cut -d' ' -f1,2 "$keyfile.pub")" >"$TMP/known_hosts"
cat >"$TMP/cfg" <<CFG
Host *
    UserKnownHostsFile $TMP/known_hosts
    GlobalKnownHostsFile /dev/null
    StrictHostKeyChecking yes
    IdentitiesOnly yes
    IdentityFile $TMP/id_ed25519
    IdentityAgent none
    LogLevel ERROR
CFG

# ff BATCH-TEXT [options]: fsftp in-process to fsshd, in $L.
ff() {
	local text=$1
	shift
	printf '%s\n' "$text" >"$TMP/batch"
	(cd "$L" && timeout 120 "$FSFTP" -F "$TMP/cfg" "$@" -b "$TMP/batch" \
	    -P "$fport" "$fuser@127.0.0.1") >"$TMP/out" 2>"$TMP/err"
}

listing() {
	(cd "$1" && find . -mindepth 1 -printf '%P|%y|%m|%s|%l|%T@\n' |
	    sed 's/\.[0-9]*$//' | LC_ALL=C sort)
}

t=$L/tree
mkdir -p "$t/with space" "$t/empty-dir"
for d in $(seq 1 20); do
	mkdir "$t/d$d"
	for f in $(seq 1 100); do
		echo "$d $f" >"$t/d$d/f$f"
	done
done
deep=$t
for i in $(seq 1 40); do deep=$deep/n$i; done
mkdir -p "$deep"
echo bottom >"$deep/file"
printf 'x\n' >"$t/with space/name
with newline"
ln -s d1/f1 "$t/link"
: >"$t/empty"
truncate -s 3M "$t/sparse"
chmod 0700 "$t/d3"
chmod 0604 "$t/d2/f2"
touch -d '2005-06-07 08:09:10' "$t/d4/f4" "$t/d5"

ff "put -r -p tree up
get -r -p up back" -v
ok $? "fsshd: put -r -p and get -r -p of 2,000 small files"
ok "$( [ "$(grep -c 'one archive stream' "$TMP/err")" -eq 2 ]; echo $?)" \
    "fsshd: both directions used the archive stream (-v)"
ok "$(diff -r --no-dereference "$t" "$fhome/up" >/dev/null &&
    diff -r --no-dereference "$t" "$L/back" >/dev/null; echo $?)" \
    "fsshd: diff -r identical both ways"
ok "$( [ "$(listing "$t")" = "$(listing "$fhome/up")" ] &&
    [ "$(listing "$t")" = "$(listing "$L/back")" ]; echo $?)" \
    "fsshd: modes, links and mtimes identical with -p"
ok "$( [ "$(stat -c %U "$fhome/up/d1/f1")" = "$fuser" ]; echo $?)" \
    "fsshd: files belong to the session's user"

ff "getarchive up t.tar.gz
putarchive t.tar.gz again"
ok "$(diff -r --no-dereference "$t" "$fhome/again" >/dev/null; echo $?)" \
    "fsshd: getarchive .tar.gz and putarchive back give the tree"

mkdir -p "$TMP/outside"
chmod 777 "$TMP/outside"
"$PY" - "$L/evil.tar" "$TMP/outside" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as t:
    i = tarfile.TarInfo("esc"); i.type = tarfile.SYMTYPE
    i.linkname = sys.argv[2]; t.addfile(i)
    i = tarfile.TarInfo("esc/evil"); i.size = 5
    t.addfile(i, io.BytesIO(b"evil\n"))
PY
ff "putarchive evil.tar target"
rc=$?
ok "$( [ $rc -ne 0 ] && grep -q 'refusing archive entry' "$TMP/err" &&
    [ -z "$(ls -A "$TMP/outside")" ]; echo $?)" \
    "fsshd: symlink-then-file archive refused, nothing outside (rc $rc)"

# OpenSSH's sshd with its own sftp-server: no extension, fallback.
OSS=/usr/lib/openssh/sftp-server
if [ -x "$OSS" ] && openssh_sshd_setup "Subsystem sftp $OSS" &&
    openssh_sshd_start; then
	mkdir -p "$TMP/osr"
	rm -f "$t/link"	# per-file get -r skips links, as OpenSSH's sftp
	printf '%s\n' "put -r tree $TMP/osr/up" "get -r $TMP/osr/up oback" \
	    >"$TMP/batch"
	(cd "$L" && timeout 120 "$FSFTP" -v -o "UserKnownHostsFile=$TMP/known_hosts" \
	    -o "IdentityFile=$TMP/id_ed25519" -o IdentitiesOnly=yes \
	    -o IdentityAgent=none -b "$TMP/batch" -P "$SSHD_PORT" \
	    "$(id -un)@127.0.0.1") >"$TMP/out" 2>"$TMP/err"
	ok $? "OpenSSH sshd: put -r and get -r succeed"
	ok "$(grep -q 'lacks tree-archive@ferry' "$TMP/err"; echo $?)" \
	    "OpenSSH sshd: -v says fsftp falls back to per-file transfers"
	ok "$(diff -r "$t" "$TMP/osr/up" >/dev/null &&
	    diff -r "$t" "$L/oback" >/dev/null; echo $?)" \
	    "OpenSSH sshd: the fallback copies the tree"
else
	for i in 1 2 3; do skip "OpenSSH's sshd or sftp-server missing"; done
fi
done_testing
