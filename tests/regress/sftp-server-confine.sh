#!/usr/bin/env bash
# Confinement with -r: "..", absolute and relative symbolic links made by
# the client and by the host, hard links to outside files, and a
# directory swapped for a symbolic link to the outside while a client
# uploads.  Nothing outside the root may be named, read, written, listed
# or revealed.
. "${top_srcdir:-.}/tests/regress/lib.sh"
require_cmd sftp
SERVER=$(ferry_bin fsftp-server)
[ -x "$SERVER" ] || skip_all "fsftp-server not built"
ROOT=$TMP/jail/root
OUT=$TMP/jail/outside
mkdir -p "$ROOT/dir" "$ROOT/home" "$OUT"
echo "TOP SECRET" >"$OUT/secret"
echo "PARENT SECRET" >"$TMP/jail/psecret"
echo inside >"$ROOT/dir/in"
# Host-made links pointing out of the root.
ln -s "$OUT/secret" "$ROOT/host-abs"
ln -s ../outside/secret "$ROOT/host-rel"
ln -s ../../../../../../../.. "$ROOT/host-up"
ln -s "$OUT" "$ROOT/host-outdir"
L=$TMP/local
mkdir -p "$L"
echo upload >"$L/up"

run() {
	printf '%s\n' "$1" >"$TMP/batch"
	(cd "$L" && sftp -q -b "$TMP/batch" -D "$SERVER -e -l INFO -r $ROOT" 2>&1)
}

out=$(run "pwd
cd ../../..
pwd
cd /..
pwd")
ok "$(printf '%s' "$out" | grep -c 'Remote working directory: /$' | grep -qx 3; echo $?)" \
    "cd .. never leaves the root (pwd is /)"
for p in ../../psecret /../psecret ../outside/secret host-abs host-rel \
    host-up/secret host-up/etc/passwd host-outdir/secret dir/../../outside/secret; do
	rm -f "$L/got"
	run "get $p got" >/dev/null
	check_fails "get $p fails" test -s "$L/got"
done
out=$(run "ls -la host-up/
ls -la host-outdir/
ls -la /../..
ls -la ../outside")
printf '%s\n' "$out" | grep -q 'secret'
ok "$( [ $? -ne 0 ]; echo $?)" "listings show nothing outside"
# Client-made links.
out=$(run "ln -s /etc/passwd c-abs
ln -s ../../../../../outside/secret c-rel
ln -s .. c-up
-get c-abs $L/g1
-get c-rel $L/g2
-get c-up/outside/secret $L/g3
-ln ../outside/secret hard1
-ln host-rel hard2
-ln c-up/psecret hard3
-put up c-up/../outside/planted
-put up host-outdir/planted
-put up host-up/planted
-put up c-abs
-rename dir/in ../outside/moved
-rename dir/in host-outdir/moved
-mkdir host-outdir/newdir
-rm host-outdir/secret
-rm ../outside/secret
-chmod 777 host-rel
-symlink /x host-outdir/evil")
for g in g1 g2 g3; do
	check_fails "client link: $g not fetched" test -s "$L/$g"
done
check "outside untouched: only the secret" test "$(ls -A "$OUT")" = secret
check "outside secret intact" grep -qx "TOP SECRET" "$OUT/secret"
ok "$( [ "$(stat -c %a "$OUT/secret")" != 777 ]; echo $?)" "outside secret mode intact"
check "parent untouched" test "$(ls -A "$TMP/jail")" = "$(printf 'outside\npsecret\nroot')"
check "hard link to the outside not made" test "$(stat -c %h "$OUT/secret")" = 1
check "host-rel is not followed by ln (hard link of the link itself)" \
    test ! -e "$ROOT/hard1"
check "/etc/passwd not overwritten" grep -q '^root:' /etc/passwd
ok "$(grep -rl "TOP SECRET\|PARENT SECRET" "$ROOT" "$L" >/dev/null; [ $? -ne 0 ]; echo $?)" \
    "no secret bytes copied anywhere"
# REALPATH and answers never reveal the host path of the root.
cat >"$TMP/rp.py" <<'PY'
import importlib.util, sys
spec = importlib.util.spec_from_file_location("raw", sys.argv[1])
raw = importlib.util.module_from_spec(spec)
spec.loader.exec_module(raw)
c = raw.Client(sys.argv[3:])
host = sys.argv[2]
out = []
for p in (".", "/", "..", "/../..", "host-up", "host-up/x", "host-rel",
          "c-up", "c-up/c-up/dir", "dir/../../..", "~", "host-outdir/x"):
    try:
        out.append(c.realpath(p))
    except raw.Status as e:
        out.append("status %d" % e.code)
for p in ("~", "~/dir", "~root/x"):
    try:
        out.append(c.name1("EXTENDED", raw.s(p), "expand-path@openssh.com"))
    except raw.Status as e:
        out.append("status %d" % e.code)
out.append(c.name1("EXTENDED", raw.s(""), "home-directory"))
for name, ln, a in c.listdir("/.."):
    out.append(name + " " + ln)
for p in ("/../outside/secret", "host-outdir/secret", "host-up/psecret"):
    for kind in ("STAT", "LSTAT"):
        try:
            c.stat(p, kind)
            out.append("visible " + p)
        except raw.Status as e:
            out.append("%s %s: %d" % (kind, p, e.code))
print("\n".join(out))
c.finish()
PY
/usr/bin/python3 "$TMP/rp.py" "$top_srcdir/tests/regress/sftp-raw.py" "$ROOT" \
    "$SERVER" -e -l QUIET -r "$ROOT" >"$TMP/rp.out"
ok $? "raw REALPATH/expand-path/listing session"
check_fails "no answer contains the host path" grep -q "$TMP" "$TMP/rp.out"
check_fails "nothing outside is visible" \
    grep -q '^visible\|^secret \|^outside \|^psecret \|^jail ' "$TMP/rp.out"
check "realpath of .. is /" test "$(sed -n 3p "$TMP/rp.out")" = /
check "escaping relative link resolves to /" test "$(sed -n 5p "$TMP/rp.out")" = /
check "~ (home) is / inside the root" test "$(sed -n 13p "$TMP/rp.out")" = /
check "other users' homes are not revealed" test "$(sed -n 15p "$TMP/rp.out")" = "status 2"
check "stat of outside names: no such file" \
    test "$(grep -c ': 2$' "$TMP/rp.out")" = 6

# -d inside the root: relative names start there, "~" is there too.
printf 'pwd\nget in %s/from-start\n' "$L" >"$TMP/batch"
out=$(cd "$L" && sftp -q -b "$TMP/batch" -D "$SERVER -r $ROOT -d /dir" 2>&1)
case $out in *"Remote working directory: /dir"*) r=0 ;; *) r=1 ;; esac
ok $r "-d /dir with -r: pwd is /dir"
check "-d /dir with -r: relative get reads the root's /dir/in" \
    cmp "$ROOT/dir/in" "$L/from-start"

# A directory swapped for a link to the outside while the client uploads.
cat >"$TMP/swap.py" <<'PY'
import os, sys, time
root, out, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
d, t = os.path.join(root, "race"), os.path.join(root, "race.real")
end = time.time() + secs
n = 0
while time.time() < end:
    try:
        os.rename(d, t)
        os.symlink(out, d)
        os.unlink(d)
        os.rename(t, d)
        n += 1
    except OSError:
        pass
print(n)
PY
mkdir -p "$ROOT/race"
: >"$TMP/race.batch"
for i in $(seq 1 150); do
	printf -- '-put up race/f%d\n-mkdir race/d%d\n-rename race/f%d race/d%d/g\n-ln -s /x race/s%d\n' \
	    "$i" "$i" "$i" "$i" "$i" >>"$TMP/race.batch"
done
/usr/bin/python3 "$TMP/swap.py" "$ROOT" "$OUT" 3 >"$TMP/swaps" &
swapper=$!
track_pid $swapper
end=$((SECONDS + 3))
while [ $SECONDS -lt $end ]; do
	(cd "$L" && sftp -q -b "$TMP/race.batch" -D "$SERVER -r $ROOT" >/dev/null 2>&1)
done
wait $swapper
diag "swaps: $(cat "$TMP/swaps"), files in race: $(find "$ROOT/race" -type f | wc -l)"
check "race: nothing created outside" test "$(ls -A "$OUT")" = secret
check "race: uploads happened inside" test -n "$(find "$ROOT" -name 'f*' -o -name g | head -1)"
done_testing
