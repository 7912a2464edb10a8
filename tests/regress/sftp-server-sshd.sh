#!/usr/bin/env bash
# fsftp-server as OpenSSH sshd's "Subsystem sftp": OpenSSH's sftp and
# paramiko's SFTP client over a real SSH connection.
. "${top_srcdir:-.}/tests/regress/lib.sh"
require_cmd sftp ssh-keygen /usr/sbin/sshd cmp
SERVER=$(ferry_bin fsftp-server)
[ -x "$SERVER" ] || skip_all "fsftp-server not built"
SERVER=$(cd "$(dirname "$SERVER")" && pwd)/fsftp-server
R=$TMP/remote
L=$TMP/local
mkdir -p "$R" "$L"
openssh_sshd_setup "Subsystem sftp $SERVER -e -l INFO -d $R"
openssh_sshd_start || { ok 1 "sshd started"; done_testing; }

head -c 2000000 /dev/urandom >"$L/big"
mkdir -p "$L/tree/sub"
head -c 1000 /dev/urandom >"$L/tree/sub/x"
cat >"$TMP/batch" <<EOB
lcd $L
pwd
put big
put -r tree
mkdir d
rename big d/big
ln -s big d/soft
cp d/big d/copy
chmod 640 d/copy
df
ls -l d
get d/soft $L/via-link
get -r tree $L/tree-back
rm d/copy
EOB
sftp "${SSH_OPTS[@]}" -P "$SSHD_PORT" -b "$TMP/batch" "$(id -un)@127.0.0.1" \
    >"$TMP/out" 2>&1
ok $? "OpenSSH sftp through sshd with Subsystem fsftp-server"
check "start directory from -d" grep -q "Remote working directory: $R\$" "$TMP/out"
check "upload intact" cmp "$L/big" "$R/d/big"
check "download through a symlink intact" cmp "$L/big" "$L/via-link"
check "recursive transfers intact" diff -r "$L/tree" "$L/tree-back"
check_fails "rm removed the copy" test -e "$R/d/copy"
check "ls -l listed the symlink" grep -q '^l.* d/soft$' "$TMP/out"

if /usr/bin/python3 -c 'import paramiko' 2>/dev/null; then
	cat >"$TMP/pm.py" <<'PY'
import hashlib, os, stat, sys
import paramiko
port, key, hostkey, user, rdir, ldir = sys.argv[1:7]
n = 0
bad = 0
def ok(c, what):
    global n, bad
    n += 1
    print("%sok %d - paramiko: %s" % ("" if c else "not ", n, what))
    bad += 0 if c else 1
t = paramiko.Transport(("127.0.0.1", int(port)))
hk = paramiko.Ed25519Key.from_private_key_file(hostkey)
t.connect(hostkey=hk, username=user,
          pkey=paramiko.Ed25519Key.from_private_key_file(key))
s = paramiko.SFTPClient.from_transport(t)
ok(s.normalize(".") == rdir, "normalize . is the start directory")
data = os.urandom(300000)
with s.open("pm-file", "wb") as f:
    f.write(data)
ok(open(os.path.join(rdir, "pm-file"), "rb").read() == data, "write file")
with s.open("pm-file", "rb") as f:
    ok(f.read() == data, "read file")
    chunks = list(f.readv([(0, 10), (100000, 5000), (299990, 10)]))
    ok(chunks == [data[0:10], data[100000:105000], data[299990:]], "readv")
st = s.stat("pm-file")
ok(st.st_size == len(data) and stat.S_ISREG(st.st_mode), "stat")
s.chmod("pm-file", 0o600)
ok(s.stat("pm-file").st_mode & 0o777 == 0o600, "chmod")
s.utime("pm-file", (1000000000, 1000000000))
ok(s.stat("pm-file").st_mtime == 1000000000, "utime")
s.mkdir("pm-dir")
s.rename("pm-file", "pm-dir/moved")
ok(sorted(s.listdir("pm-dir")) == ["moved"], "mkdir, rename, listdir")
attrs = s.listdir_attr("pm-dir")
ok(attrs[0].longname.startswith("-rw-------") and
   attrs[0].longname.endswith(" moved"), "listdir_attr longname")
s.symlink("moved", "pm-dir/link")
ok(s.readlink("pm-dir/link") == "moved", "symlink and readlink")
ok(s.lstat("pm-dir/link").st_mode & 0o170000 == 0o120000, "lstat of a link")
s.put(os.path.join(ldir, "big"), "pm-put")
s.get("pm-put", os.path.join(ldir, "pm-got"))
ok(hashlib.sha256(open(os.path.join(ldir, "pm-got"), "rb").read()).digest() ==
   hashlib.sha256(open(os.path.join(ldir, "big"), "rb").read()).digest(),
   "put and get a 2 MB file")
try:
    s.stat("no-such-file")
    ok(False, "missing file raises")
except IOError as e:
    ok(e.errno == 2, "missing file: ENOENT")
try:
    s.rmdir("pm-dir")
    ok(False, "rmdir of a non-empty directory raises")
except IOError:
    ok(True, "rmdir of a non-empty directory fails")
s.remove("pm-dir/link")
s.remove("pm-dir/moved")
s.rmdir("pm-dir")
ok(not os.path.exists(os.path.join(rdir, "pm-dir")), "remove and rmdir")
s.posix_rename("pm-put", "pm-put2")
ok(os.path.exists(os.path.join(rdir, "pm-put2")), "posix_rename")
s.close()
t.close()
print("1..%d" % n)
sys.exit(1 if bad else 0)
PY
	/usr/bin/python3 "$TMP/pm.py" "$SSHD_PORT" "$TMP/id_ed25519" \
	    "$TMP/sshd/host_ed25519" "$(id -un)" "$R" "$L" >"$TMP/pm.out" 2>&1
	pmrc=$?
	while read -r line; do
		case $line in
		"ok "*) ok 0 "${line#ok [0-9]* - }" ;;
		"not ok "*) ok 1 "${line#not ok [0-9]* - }" ;;
		esac
	done < <(grep -E '^(not )?ok' "$TMP/pm.out" | sed -E 's/^(not )?ok [0-9]+ - /\1ok 0 - /')
	ok $pmrc "paramiko session completed"
	[ $pmrc -eq 0 ] || sed 's/^/# /' "$TMP/pm.out"
else
	skip "paramiko (python3-paramiko) is not installed"
fi
done_testing
