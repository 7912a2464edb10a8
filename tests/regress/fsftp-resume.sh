#!/usr/bin/env bash
# Resume that cannot corrupt, atomic transfers and verification, through
# -D against fsftp-server (prefix compared by check-file sha256) and
# OpenSSH's sftp-server (prefix compared by samples): destination sizes
# 0, 1, 1 KiB, 1 MiB, size-1 and equal; a source changed between attempts
# (detected: the batch fails and the destination is left alone, while an
# interactive session starts over); 24 transfers cut at random points by
# a server that dies, each resumed to an identical sha256; atomic mode
# leaves nothing under the real name after a cut; 8 more transfers cut
# by killing fsftp-server mid-transfer, then resumed.
. "${top_srcdir:-.}/tests/regress/lib.sh"
require_cmd sha256sum
FSFTP=$(ferry_bin fsftp)
FSS=$(ferry_bin fsftp-server)
OSS=/usr/lib/openssh/sftp-server
PY=/usr/bin/python3
HS=$top_srcdir/tests/regress/fsftp-hostile-server.py
[ -x "$FSFTP" ] || skip_all "fsftp not built"
S=$TMP/srv
L=$TMP/loc
mkdir -p "$S" "$L"
SIZE=3000001
head -c $SIZE /dev/urandom >"$S/src"
cp "$S/src" "$L/lsrc"

# fs SERVER BATCH-TEXT [fsftp options]: batch in $S.
fs() {
	local srv=$1 text=$2
	shift 2
	printf '%s\n' "$text" >"$TMP/batch"
	(cd "$S" && timeout 60 "$FSFTP" "$@" -b "$TMP/batch" -D "$srv") \
	    >"$TMP/out" 2>"$TMP/err"
}
sum() { sha256sum <"$1" | cut -d' ' -f1; }

servers=("$FSS")
[ -x "$OSS" ] && servers+=("$OSS")
for srv in "${servers[@]}"; do
	n=$(basename "$srv")
	for cut in 0 1 1024 1048576 $((SIZE - 1)) $SIZE; do
		head -c $cut "$S/src" >"$L/dst"
		fs "$srv" "reget src $L/dst"
		ok "$( [ $? -eq 0 ] && [ "$(sum "$L/dst")" = "$(sum "$S/src")" ]; echo $?)" \
		    "$n: reget at $cut gives the source"
		head -c $cut "$L/lsrc" >"$S/up"
		fs "$srv" "reput $L/lsrc up"
		ok "$( [ $? -eq 0 ] && [ "$(sum "$S/up")" = "$(sum "$L/lsrc")" ]; echo $?)" \
		    "$n: reput at $cut gives the source"
	done
	# The source changed between attempts.
	head -c 1048576 /dev/urandom >"$L/dst"
	before=$(sum "$L/dst")
	fs "$srv" "get -a src $L/dst"
	ok "$( [ $? -ne 0 ] && [ "$(sum "$L/dst")" = "$before" ]; echo $?)" \
	    "$n: get -a over a changed prefix fails in batch mode, file untouched"
	grep -q "differs from the source" "$TMP/err"
	ok $? "$n: ... and says so"
	(cd "$S" && printf 'get -a src %s\n' "$L/dst" |
	    timeout 60 "$FSFTP" -D "$srv") >"$TMP/out" 2>&1
	ok "$( [ "$(sum "$L/dst")" = "$(sum "$S/src")" ] &&
	    grep -q "starting over" "$TMP/out"; echo $?)" \
	    "$n: an interactive session starts over"
	head -c 1048576 /dev/urandom >"$S/up"
	before=$(sum "$S/up")
	fs "$srv" "put -a $L/lsrc up"
	ok "$( [ $? -ne 0 ] && [ "$(sum "$S/up")" = "$before" ]; echo $?)" \
	    "$n: put -a over a changed prefix fails, remote untouched"
	head -c $((SIZE + 10)) /dev/urandom >"$L/dst"
	fs "$srv" "reget src $L/dst"
	ok "$( [ $? -ne 0 ] && grep -q "larger than remote" "$TMP/err"; echo $?)" \
	    "$n: reget onto a longer destination is refused"
done

# Verification: sha256 of both ends compared after the transfer.
fs "$FSS" "get src $L/v
put $L/lsrc v" -N -X verify
ok "$( [ $? -eq 0 ] && [ "$(grep -c 'sha256 matches' "$TMP/out")" = 2 ]; echo $?)" \
    "-X verify compares both ends after get and put"
if [ -x "$OSS" ]; then
	fs "$OSS" "get src $L/v2" -X verify
	ok "$( [ $? -ne 0 ] && grep -q "Cannot verify" "$TMP/err"; echo $?)" \
	    "-X verify fails when the server cannot hash"
fi

# Cuts: the server dies after a random number of data bytes; resume.
[ -x "$PY" ] || { done_testing; exit; }
RANDOM=4242
for i in $(seq 1 12); do
	k=$(( (RANDOM * 32768 + RANDOM) % SIZE ))
	rm -f "$L/cut"
	fs "$PY $HS cut=$k" "get src $L/cut"
	fs "$FSS" "reget src $L/cut"
	ok "$( [ $? -eq 0 ] && [ "$(sum "$L/cut")" = "$(sum "$S/src")" ]; echo $?)" \
	    "get cut after $k bytes, resumed: identical"
	rm -f "$S/cut"
	k=$(( (RANDOM * 32768 + RANDOM) % SIZE ))
	fs "$PY $HS cut=$k" "put $L/lsrc cut"
	fs "$PY $HS honest" "reput $L/lsrc cut"
	ok "$( [ $? -eq 0 ] && [ "$(sum "$S/cut")" = "$(sum "$L/lsrc")" ]; echo $?)" \
	    "put cut after $k bytes, resumed (sampled prefix): identical"
done

# Cuts by killing fsftp-server itself at random moments (-l slows the
# transfer to about 5 MB/s so the kill lands inside it).
for i in $(seq 1 4); do
	t=0.$(( RANDOM % 5 + 1 ))$(( RANDOM % 10 ))
	rm -f "$L/kcut"
	fs "timeout -s KILL $t $FSS" "get src $L/kcut" -l 40000
	fs "$FSS" "reget src $L/kcut"
	ok "$( [ $? -eq 0 ] && [ "$(sum "$L/kcut")" = "$(sum "$S/src")" ]; echo $?)" \
	    "get with the server killed after ${t}s, resumed: identical"
	rm -f "$S/kcut"
	fs "timeout -s KILL $t $FSS" "put $L/lsrc kcut" -l 40000
	fs "$FSS" "reput $L/lsrc kcut"
	ok "$( [ $? -eq 0 ] && [ "$(sum "$S/kcut")" = "$(sum "$L/lsrc")" ]; echo $?)" \
	    "put with the server killed after ${t}s, resumed: identical"
done

# Atomic: after a cut nothing carries the real name; resume completes.
rm -f "$L/at" "$L/at.ferry-part"
fs "$PY $HS cut=1500000" "get src $L/at" -X atomic
ok "$( [ ! -e "$L/at" ] && [ -s "$L/at.ferry-part" ]; echo $?)" \
    "atomic get cut: only the temporary file exists"
fs "$FSS" "reget src $L/at" -X atomic
ok "$( [ $? -eq 0 ] && [ ! -e "$L/at.ferry-part" ] &&
    [ "$(sum "$L/at")" = "$(sum "$S/src")" ]; echo $?)" \
    "atomic reget continues from it and renames into place"
rm -f "$S/at" "$S/at.ferry-part"
fs "$PY $HS cut=1500000" "put $L/lsrc at" -X atomic
ok "$( [ ! -e "$S/at" ] && [ -s "$S/at.ferry-part" ]; echo $?)" \
    "atomic put cut: only the temporary file exists"
fs "$FSS" "reput $L/lsrc at" -X atomic
ok "$( [ $? -eq 0 ] && [ ! -e "$S/at.ferry-part" ] &&
    [ "$(sum "$S/at")" = "$(sum "$L/lsrc")" ]; echo $?)" \
    "atomic reput continues from it and renames into place"
done_testing
