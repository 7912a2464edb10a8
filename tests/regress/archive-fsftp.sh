#!/usr/bin/env bash
# tree-archive@ferry end to end: fsftp against fsftp-server (-D, confined
# with -r): get -r and put -r of trees of 0, 1 and 10,000 small files,
# deep nesting, long names, names with spaces and newlines, symbolic
# links, sparse and empty files, identical after the round trip (diff -r,
# and modes and mtimes with -p); -X archive=yes|no|auto and what -v says;
# getarchive to .tar, .tar.gz and .zip and putarchive back; hostile tar
# files unpacked by the server (.., absolute names, a symlink then a file
# through it, a hard link to /etc/shadow, a device node, a sparse 10 GiB
# bomb against a 1 MiB tmpfs when root) refused with a clear message and
# nothing written outside the target; read-only server and -P denial;
# against OpenSSH's sftp-server the per-file fallback works and -v says so.
. "${top_srcdir:-.}/tests/regress/lib.sh"
require_cmd diff tar find sort
FSFTP=$(ferry_bin fsftp)
FSS=$(cd "$(dirname "$(ferry_bin fsftp-server)")" && pwd)/fsftp-server
OSS=/usr/lib/openssh/sftp-server
PY=/usr/bin/python3
[ -x "$FSFTP" ] || skip_all "fsftp not built"
L=$TMP/local
R=$TMP/remote
mkdir -p "$L" "$R"

# fb BATCH-TEXT [fsftp options] [-- server options]: batch in $L against
# fsftp-server confined to $R.
fb() {
	local text=$1
	shift
	local sopts=""
	local -a copts=()
	while [ $# -gt 0 ]; do
		if [ "$1" = -- ]; then
			shift
			sopts="$*"
			break
		fi
		copts+=("$1")
		shift
	done
	printf '%s\n' "$text" >"$TMP/batch"
	(cd "$L" && timeout 120 "$FSFTP" "${copts[@]}" -b "$TMP/batch" \
	    -D "$FSS -r $R $sopts") >"$TMP/out" 2>"$TMP/err"
}

# Names, modes, sizes, link targets and mtimes (not of the top) of a tree.
listing() {
	(cd "$1" && find . -mindepth 1 -printf '%P|%y|%m|%s|%l|%T@\n' |
	    sed 's/\.[0-9]*$//' | LC_ALL=C sort)
}
# The same without times (runs without -p).
listing_nt() {
	(cd "$1" && find . -mindepth 1 ! -type l -printf '%P|%y|%s\n' |
	    LC_ALL=C sort)
}

# ---- The trees ----
mkdir -p "$L/t0" "$L/t1" "$L/tmix" "$L/t10k"
echo one >"$L/t1/only"
m=$L/tmix
mkdir -p "$m/sub dir/x"
printf 'hello\n' >"$m/hello"
: >"$m/empty"
printf 'spaces\n' >"$m/sub dir/a file with spaces"
printf 'nl\n' >"$m/new
line"
long=$(printf 'n%.0s' $(seq 1 250))
printf 'long\n' >"$m/$long"
deep=$m
for i in $(seq 1 60); do deep=$deep/d$i; done
mkdir -p "$deep"
echo deep >"$deep/bottom"
ln -s hello "$m/link-to-hello"
ln -s "sub dir" "$m/link-to-dir"
ln -s /nonexistent/target "$m/dangling"
truncate -s 5M "$m/sparse"
printf 'end' >>"$m/sparse"
chmod 0751 "$m/sub dir"
chmod 0600 "$m/hello"
chmod 0755 "$m/empty"
touch -d '2001-02-03 04:05:06' "$m/hello" "$m/sub dir" "$deep/bottom"
# Without symbolic links, which per-file get -r skips as OpenSSH's does.
mkdir -p "$L/tplain/a b/c"
for f in $(seq 1 40); do
	echo "$f" >"$L/tplain/a b/f$f"
	echo "$f" >"$L/tplain/a b/c/g$f"
done
for d in $(seq 1 100); do
	mkdir "$L/t10k/d$d"
	for f in $(seq 1 100); do
		echo "$d/$f" >"$L/t10k/d$d/f$f"
	done
done

# ---- Round trips ----
for t in t0 t1 tmix; do
	fb "put -r -p $t /up-$t
get -r -p /up-$t back-$t" -v -X archive=yes
	ok $? "$t: put -r -p and get -r -p through the archive stream"
	ok "$(grep -q 'one archive stream' "$TMP/err"; echo $?)" \
	    "$t: -v says the archive stream is used"
	ok "$(diff -r --no-dereference "$L/$t" "$R/up-$t" >/dev/null &&
	    diff -r --no-dereference "$L/$t" "$L/back-$t" >/dev/null; echo $?)" \
	    "$t: diff -r identical both ways"
	ok "$( [ "$(listing "$L/$t")" = "$(listing "$R/up-$t")" ] &&
	    [ "$(listing "$L/$t")" = "$(listing "$L/back-$t")" ]; echo $?)" \
	    "$t: modes, sizes, links and mtimes identical with -p"
done
blocks=$(stat -c %b "$L/back-tmix/sparse")
ok "$( [ "$blocks" -lt 1024 ]; echo $?)" \
    "sparse file stays sparse after the round trip ($blocks blocks)"

start=$(date +%s%N)
fb "put -r t10k /up-t10k
get -r /up-t10k back-t10k" -v
rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
ok $rc "10,000 files: put -r and get -r (auto mode, $ms ms)"
ok "$(grep -q 'one archive stream' "$TMP/err"; echo $?)" \
    "10,000 files: auto mode chooses the archive stream"
ok "$(diff -r "$L/t10k" "$R/up-t10k" >/dev/null &&
    diff -r "$L/t10k" "$L/back-t10k" >/dev/null; echo $?)" \
    "10,000 files: identical both ways"
ok "$( [ "$(listing_nt "$L/t10k")" = "$(listing_nt "$L/back-t10k")" ]; echo $?)" \
    "10,000 files: same names, types and sizes"

fb "get -r /up-t1 back-auto1" -v
ok "$(grep -q 'file by file' "$TMP/err" &&
    diff -r "$L/t1" "$L/back-auto1" >/dev/null; echo $?)" \
    "auto mode: a one-file tree goes file by file and says so"
fb "put -r tplain /up-plain
get -r /up-plain back-no" -v -X archive=no
ok "$( ! grep -q 'archive stream' "$TMP/err" &&
    diff -r "$L/tplain" "$L/back-no" >/dev/null; echo $?)" \
    "-X archive=no: per-file transfer, same tree"
fb "get -r /up-tmix back-gz" -v -X archive=yes -X archive-compress
ok "$(diff -r --no-dereference "$L/tmix" "$L/back-gz" >/dev/null; echo $?)" \
    "-X archive-compress: gzip stream, same tree"
fb "get -r /up-tmix x" -X archive=maybe
ok "$( [ $? -ne 0 ] && grep -q 'Invalid archive mode' "$TMP/err"; echo $?)" \
    "-X archive=maybe refused"

# ---- getarchive / putarchive ----
fb "getarchive /up-tmix m.tar
getarchive /up-tmix m.tar.gz
getarchive -p /up-tmix m.zip
putarchive m.zip /fromzip
putarchive m.tar.gz /fromtgz"
ok $? "getarchive .tar/.tar.gz/.zip and putarchive back"
mkdir -p "$TMP/xt" "$TMP/xz"
tar -xf "$L/m.tar" -C "$TMP/xt" && tar -tzf "$L/m.tar.gz" >/dev/null
ok "$(diff -r --no-dereference "$L/tmix" "$TMP/xt" >/dev/null; echo $?)" \
    ".tar extracted by tar(1) is the tree"
if command -v unzip >/dev/null; then
	(cd "$TMP/xz" && unzip -q "$L/m.zip")
	ok "$(diff -r "$L/tmix/sub dir" "$TMP/xz/sub dir" >/dev/null; echo $?)" \
	    ".zip extracted by unzip(1) holds the files"
else
	skip "unzip not installed"
fi
ok "$(diff -r --no-dereference "$L/tmix" "$R/fromzip" >/dev/null &&
    diff -r --no-dereference "$L/tmix" "$R/fromtgz" >/dev/null; echo $?)" \
    "putarchive of .zip and .tar.gz unpacks the same tree"
fb "getarchive /up-tmix m.rar"
ok "$(grep -q 'unknown archive format' "$TMP/err"; echo $?)" \
    "getarchive refuses an unknown format"

# ---- Hostile archives ----
mkdir -p "$R/target" "$TMP/outside"
"$PY" - "$TMP" <<'PY'
import io, sys, tarfile
tmp = sys.argv[1]
def mk(name, members):
    with tarfile.open("%s/local/%s" % (tmp, name), "w",
                      format=tarfile.PAX_FORMAT) as t:
        for m, data in members:
            t.addfile(m, io.BytesIO(data) if data is not None else None)
def f(name, data=b"evil\n"):
    i = tarfile.TarInfo(name); i.size = len(data); return (i, data)
def l(name, target, kind=tarfile.SYMTYPE):
    i = tarfile.TarInfo(name); i.type = kind; i.linkname = target
    return (i, None)
def dev(name):
    i = tarfile.TarInfo(name); i.type = tarfile.CHRTYPE
    i.devmajor, i.devminor = 1, 3; return (i, None)
mk("dotdot.tar", [f("ok"), f("../../outside/evil")])
mk("abs.tar", [f(tmp + "/outside/evil")])
mk("symthrough.tar", [l("esc", tmp + "/outside"), f("esc/evil")])
mk("symrel.tar", [l("up", "../.."), f("up/evil")])
mk("hardlink.tar", [l("shadow", "/etc/shadow", tarfile.LNKTYPE)])
mk("device.tar", [dev("null")])
PY
for h in dotdot abs symthrough symrel hardlink device; do
	fb "putarchive $h.tar /target" -v
	rc=$?
	ok "$( [ $rc -ne 0 ] && grep -q 'refusing archive entry' "$TMP/err"; echo $?)" \
	    "hostile $h.tar refused with a clear message (rc $rc)"
done
ok "$( [ -z "$(ls -A "$TMP/outside")" ] && [ ! -e "$R/evil" ] &&
    [ ! -e "$TMP/evil" ]; echo $?)" "nothing written outside the target"
ok "$( [ ! -e "$R/target/shadow" ] && [ ! -e "$R/target/null" ]; echo $?)" \
    "no hard link, no device node"

if [ "$(id -u)" -eq 0 ]; then
	mkdir -p "$R/small" "$TMP/bomb"
	if mount -t tmpfs -o size=1m tmpfs "$R/small" 2>/dev/null; then
		at_exit "umount $R/small"
		truncate -s 10G "$TMP/bomb/big"
		tar --sparse -cf "$L/bomb.tar" -C "$TMP/bomb" big
		fb "putarchive bomb.tar /small" -v
		rc=$?
		ok "$( [ $rc -ne 0 ] && grep -q 'free space' "$TMP/err"; echo $?)" \
		    "10 GiB sparse bomb refused on a 1 MiB tmpfs (rc $rc)"
		ok "$( [ -z "$(ls -A "$R/small")" ]; echo $?)" \
		    "nothing left on the tmpfs"
	else
		skip "cannot mount tmpfs"
		skip "cannot mount tmpfs"
	fi
else
	skip "tmpfs bomb needs root"
	skip "tmpfs bomb needs root"
fi

# ---- Server policy ----
fb "put -r tmix /ro" -X archive=yes -- -R
ok "$( [ $? -ne 0 ] && [ ! -e "$R/ro" ]; echo $?)" \
    "read-only server: archive upload refused, nothing written"
fb "put -r tmix /nosym" -X archive=yes -- -P symlink
ok "$( [ $? -ne 0 ] && grep -q 'symbolic links are not allowed' "$TMP/err"; echo $?)" \
    "-P symlink: a symbolic link entry is refused"
fb "get -r /up-plain back-denied" -v -X archive=yes -- -P tree-archive
ok "$(grep -q 'lacks tree-archive@ferry' "$TMP/err" &&
    diff -r "$L/tplain" "$L/back-denied" >/dev/null; echo $?)" \
    "-P tree-archive: not advertised, per-file fallback"

# The remote working directory is the server's text (-d here): a name
# with an escape must not reach the terminal raw in "Archiving ...".
esc=$(printf '\033')
mkdir -p "$R/e${esc}Zx/sub"
echo a >"$R/e${esc}Zx/sub/f"
fb "getarchive sub esc.tar" -N -- -d "/e${esc}Zx"
ok $? "getarchive below a start directory whose name has an escape"
ok "$(grep -q "$esc" "$TMP/out" "$TMP/err"; [ $? -eq 1 ]; echo $?)" \
    "getarchive: the server's control characters are not printed raw"
rm -rf "$R/e${esc}Zx" "$L/esc.tar"

# The batch file is not left open in the commands fsftp runs (!).
fb '!for f in /proc/$$/fd/*; do readlink "$f"; done'
ok "$(grep -q "$TMP/batch" "$TMP/out"; [ $? -eq 1 ]; echo $?)" \
    "the batch file's descriptor is close-on-exec"

# ---- OpenSSH's sftp-server: no extension ----
if [ -x "$OSS" ]; then
	printf '%s\n' "put -r tplain $R/oss-up" "get -r $R/oss-up oss-back" \
	    >"$TMP/batch"
	(cd "$L" && timeout 120 "$FSFTP" -v -X archive=yes -b "$TMP/batch" \
	    -D "$OSS") >"$TMP/out" 2>"$TMP/err"
	ok $? "OpenSSH sftp-server: put -r and get -r succeed"
	ok "$(grep -q 'lacks tree-archive@ferry' "$TMP/err"; echo $?)" \
	    "OpenSSH sftp-server: -v says it falls back"
	ok "$(diff -r "$L/tplain" "$L/oss-back" >/dev/null &&
	    diff -r "$L/tplain" "$R/oss-up" >/dev/null; echo $?)" \
	    "OpenSSH sftp-server: the fallback copies the tree"
	printf '%s\n' "getarchive $R/oss-up x.tar" >"$TMP/batch"
	(cd "$L" && timeout 60 "$FSFTP" -b "$TMP/batch" -D "$OSS") \
	    >"$TMP/out" 2>"$TMP/err"
	ok "$( [ $? -ne 0 ] && grep -q 'does not support' "$TMP/err"; echo $?)" \
	    "OpenSSH sftp-server: getarchive says the server lacks it"
else
	for i in 1 2 3 4; do skip "OpenSSH sftp-server not installed"; done
fi
done_testing
