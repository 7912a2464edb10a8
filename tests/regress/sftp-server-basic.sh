#!/usr/bin/env bash
# fsftp-server driven by OpenSSH's sftp over a pipe (sftp -D, no sshd),
# or, with SFTP_VIA_SSHD=1 (sftp-server-basic-sshd.sh), through OpenSSH's
# sshd running the server for each session (sftp -s):
# transfers (get/put -r -p -a, reget, reput), renames, links, cp
# (copy-data), df, chmod/chown/chgrp, mkdir/rmdir/rm, lumask, names with
# spaces and glob characters; ls -l and raw READDIR long names compared
# with OpenSSH's own sftp-server; logging, -d, -u, -Q and usage.
. "${top_srcdir:-.}/tests/regress/lib.sh"
require_cmd sftp cmp sha256sum
SERVER=$(ferry_bin fsftp-server)
OSS=/usr/lib/openssh/sftp-server
[ -x "$SERVER" ] || skip_all "fsftp-server not built"
L=$TMP/local
R=$TMP/remote
mkdir -p "$L" "$R"

VIA_SSHD=${SFTP_VIA_SSHD:-0}
if [ "$VIA_SSHD" = 1 ]; then
	SERVER=$(cd "$(dirname "$SERVER")" && pwd)/fsftp-server
	openssh_sshd_setup "Subsystem sftp $SERVER"
	openssh_sshd_start || skip_all "OpenSSH's sshd did not start"
fi

# sftp_batch SERVER-COMMAND BATCH-TEXT: run sftp in $R with the batch.
sftp_batch() {
	local prog=${1%% *} args=
	printf '%s\n' "$2" >"$TMP/batch"
	if [ "$VIA_SSHD" = 1 ]; then
		# The server starts in $R unless the command's own -d says else.
		[ "$prog" != "$1" ] && args=${1#* }
		(cd "$R" && sftp "${SSH_OPTS[@]}" -q -P "$SSHD_PORT" \
		    -b "$TMP/batch" -s "$prog -d $R $args" "$(id -un)@127.0.0.1")
	else
		(cd "$R" && sftp -q -b "$TMP/batch" -D "$1")
	fi
}

head -c 3000017 /dev/urandom >"$L/big"
head -c 1000 /dev/urandom >"$L/small"
printf 'spaces\n' >"$L/name with spaces.txt"
printf 'glob\n' >"$L/glob[1]*?.txt"
mkdir -p "$L/tree/sub/deeper" "$L/tree/empty"
head -c 70000 /dev/urandom >"$L/tree/a"
head -c 5 /dev/urandom >"$L/tree/sub/b"
head -c 300000 /dev/urandom >"$L/tree/sub/deeper/c"
chmod 640 "$L/tree/a"
touch -d '2001-02-03 04:05:06' "$L/tree/a"

sftp_batch "$SERVER -e -l INFO" "lcd $L
put -p big
put -r tree
put \"name with spaces.txt\" \"remote name.txt\"
put glob\\[1\\]\\*\\?.txt \"remote [glob]*\"
mkdir newdir
rename big newdir/big2
ln newdir/big2 newdir/hard
ln -s big2 newdir/soft
symlink big2 newdir/soft2
cp newdir/big2 newdir/copy
chmod 600 newdir/copy
chown 1234 newdir/copy
chgrp 4321 newdir/copy
df
df -h
mkdir gone
rmdir gone
rm newdir/hard
get -p newdir/big2 $L/back-big
get -r tree $L/tree-back
get -a \"remote [glob]*\" $L/glob-back
get \"remote name.txt\" $L/spaces-back" >"$TMP/out1" 2>"$TMP/log1"
ok $? "sftp batch of transfers and file operations succeeds"
check "put/get big file intact" cmp "$L/big" "$R/newdir/big2"
check "get -p brings it back intact" cmp "$L/big" "$L/back-big"
ok "$( [ "$(stat -c %Y "$L/big")" = "$(stat -c %Y "$R/newdir/big2")" ]; echo $?)" \
    "put -p keeps the modification time"
check "put -r / get -r round trip" diff -r "$L/tree" "$L/tree-back"
ok "$( [ "$(stat -c %a "$R/tree/a")" = 640 ]; echo $?)" "put -r keeps modes"
check "empty directory copied" test -d "$R/tree/empty"
check "name with spaces" cmp "$L/name with spaces.txt" "$R/remote name.txt"
check "name with glob characters" cmp "$L/glob[1]*?.txt" "$R/remote [glob]*"
check "glob name fetched back" cmp "$L/glob[1]*?.txt" "$L/glob-back"
check "spaces name fetched back" cmp "$L/name with spaces.txt" "$L/spaces-back"
check "cp (copy-data) copied the bytes" cmp "$L/big" "$R/newdir/copy"
ok "$( [ "$(stat -c '%a %u %g' "$R/newdir/copy")" = "600 1234 4321" ]; echo $?)" \
    "chmod, chown, chgrp applied"
ok "$( [ "$(readlink "$R/newdir/soft")" = big2 ]; echo $?)" "ln -s made a symlink"
ok "$( [ "$(readlink "$R/newdir/soft2")" = big2 ]; echo $?)" "symlink made a symlink"
check_fails "rm removed the hard link" test -e "$R/newdir/hard"
check_fails "rmdir removed the directory" test -e "$R/gone"
check "df printed a header" grep -q 'Avail' "$TMP/out1"
# The server's stderr reaches us only over the pipe.
if [ "$VIA_SSHD" = 0 ]; then
	grep -q 'open "[^"]*/remote/newdir/big2" flags READ' "$TMP/log1"
	ok $? "INFO log: open with flags"
	grep -Eq 'close "[^"]*/remote/newdir/big2" bytes read 3000017 written 0' \
	    "$TMP/log1"
	ok $? "INFO log: close with bytes read"
	grep -Eq 'close "[^"]*/remote/big" bytes read 0 written 3000017' \
	    "$TMP/log1"
	ok $? "INFO log: close with bytes written"
	for w in 'rename old' 'mkdir name' 'rmdir name' 'remove name' \
	    'hardlink old' 'symlink old' 'copy-data from' 'set "'; do
		grep -q "$w" "$TMP/log1"
		ok $? "INFO log: $w"
	done
fi

# reput / reget: resume partial transfers.
head -c 1234567 "$L/big" >"$R/partial-up"
head -c 777777 "$L/big" >"$L/partial-down"
cp "$L/big" "$R/full"
sftp_batch "$SERVER" "lcd $L
reput big partial-up
reget full partial-down" >/dev/null 2>"$TMP/log2"
ok $? "reput and reget succeed"
check "reput completed the remote file" cmp "$L/big" "$R/partial-up"
check "reget completed the local file" cmp "$L/big" "$L/partial-down"
ok "$( [ "$(sha256sum <"$R/partial-up")" = "$(sha256sum <"$L/big")" ]; echo $?)" \
    "sha256sum of the resumed file matches"

# lumask and -u: new files get the mask.
sftp_batch "$SERVER -u 077" "lcd $L
put small masked
lumask 077
get masked $L/lmasked" >/dev/null 2>&1
ok $? "put with -u 077"
ok "$( [ "$(stat -c %a "$R/masked")" = 600 ]; echo $?)" "-u 077 applied to new files"
ok "$( [ "$(stat -c %a "$L/lmasked")" = 600 ]; echo $?)" "lumask applied locally"

# ls -l output identical to OpenSSH's sftp-server on the same tree.
mkfifo "$R/tree/fifo"
ln -s sub "$R/tree/link"
chmod 4755 "$R/tree/sub/b"
chmod 1777 "$R/tree/empty"
touch -d '2037-01-01' "$R/tree/sub/deeper"
lsb="ls -l tree
ls -la tree
ls -ln tree/sub
ls -l /usr"
sftp_batch "$OSS" "$lsb" >"$TMP/ls-openssh" 2>&1
sftp_batch "$SERVER" "$lsb" >"$TMP/ls-ferry" 2>&1
check "ls -l output equals OpenSSH sftp-server's" diff "$TMP/ls-openssh" "$TMP/ls-ferry"
cat >"$TMP/longnames.py" <<'PY'
import importlib.util, os, sys
spec = importlib.util.spec_from_file_location("raw", sys.argv[1])
raw = importlib.util.module_from_spec(spec)
spec.loader.exec_module(raw)
c = raw.Client(sys.argv[2:])
for d in ("tree", "tree/sub", "tree/sub/deeper", "/usr"):
    for name, longname, a in sorted(c.listdir(d)):
        print(longname)
c.finish()
PY
(cd "$R" && /usr/bin/python3 "$TMP/longnames.py" "$top_srcdir/tests/regress/sftp-raw.py" "$OSS") >"$TMP/ln-openssh"
(cd "$R" && /usr/bin/python3 "$TMP/longnames.py" "$top_srcdir/tests/regress/sftp-raw.py" "$SERVER") >"$TMP/ln-ferry"
ok "$( [ -s "$TMP/ln-ferry" ] && diff "$TMP/ln-openssh" "$TMP/ln-ferry" >&2; echo $?)" \
    "READDIR long names equal OpenSSH sftp-server's byte for byte"

# -d start directory, with %d/%u/%% expansion.
mkdir -p "$TMP/start%x"
out=$(sftp_batch "$SERVER -d $TMP/start%%x" "pwd" 2>&1)
case $out in *"Remote working directory: $TMP/start%x"*) r=0 ;; *) r=1 ;; esac
ok $r "-d sets the start directory (%% expanded)"
out=$(sftp_batch "$SERVER -d %d" "pwd" 2>&1)
case $out in *"Remote working directory: $(getent passwd "$(id -u)" | cut -d: -f6)"*) r=0 ;; *) r=1 ;; esac
ok $r "-d %d starts in the home directory"

# -Q requests lists OpenSSH's names (and check-file), -h prints usage.
"$SERVER" -Q requests >"$TMP/q-ferry"
ok $? "-Q requests succeeds"
if [ -x "$OSS" ]; then
	"$OSS" -Q requests >"$TMP/q-openssh" 2>/dev/null
	head -n "$(wc -l <"$TMP/q-openssh")" "$TMP/q-ferry" | diff "$TMP/q-openssh" - >/dev/null
	ok $? "-Q requests lists OpenSSH's names in OpenSSH's order"
fi
check "-Q lists check-file-name" grep -qx check-file-name "$TMP/q-ferry"
"$SERVER" -h 2>"$TMP/usage"
ok "$( [ $? -eq 1 ] && grep -q usage "$TMP/usage"; echo $?)" "-h prints usage, exit 1"
check_fails "unknown -P name rejected" "$SERVER" -e -P nosuch </dev/null
check_fails "bad umask rejected" "$SERVER" -e -u 999 </dev/null
check_fails "bad log level rejected" "$SERVER" -e -l LOUD </dev/null
check_fails "missing root rejected" "$SERVER" -e -r "$TMP/nonexistent" </dev/null
# A client that quits closes both pipes: that is a normal end, not an error.
mkdir -p "$TMP/quiet"
printf 'pwd\n' >"$TMP/quiet.batch"
sftp -b "$TMP/quiet.batch" -D "$SERVER -e -r $TMP/quiet" >/dev/null 2>"$TMP/quiet.err"
ok "$(! grep -q 'write:' "$TMP/quiet.err"; echo $?)" "no write error logged when the client quits"
done_testing
