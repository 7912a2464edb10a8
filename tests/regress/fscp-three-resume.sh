#!/usr/bin/env bash
# fscp -3 -a over SFTP: a partial target on the second host is resumed
# after its prefix is verified against the source, as uploads and
# downloads are, both ways between OpenSSH's sshd and fsshd (samples:
# sshd lacks check-file) and between two fsshd sessions (sha256 by
# check-file-handle on both).  A target with the right prefix is
# completed ("Resuming copy to ... at N bytes"); one whose prefix
# differs (wholly, or one byte in the middle under check-file) and one
# larger than the source are refused with exit status 1 and left as
# they were; an empty target is copied from the start; a -3 copy cut by
# SIGINT is completed identically by -3 -a; -r -a resumes the partial
# file of a tree.  -O -3 -a copies whole, as -a does with -O elsewhere.
. "$top_srcdir/tests/regress/lib.sh"
. "$top_srcdir/tests/regress/fscp-lib.sh"
require_cmd cmp
fscp_setup fr

fscp_ends src 3000017
f3=("$FSCP" -3 "${SSH_OPTS[@]}")

# A file on the target side: mk SIDE NAME <CONTENT (not in a pipeline).
# Sets $tgt (the operand) and $tp (the path here).
mk() {
	if [ "$1" = fsshd ]; then
		tgt=$F/$2
		tp=$uh/$2
	else
		tgt=$S$TMP/$2
		tp=$TMP/$2
	fi
	cat >"$tp"
	chown "$u:" "$tp"
}


for way in sshd-fsshd fsshd-sshd fsshd-fsshd; do
	case $way in
	sshd-fsshd)	src=$S$A/src side=fsshd ;;
	fsshd-sshd)	src=$F/src side=sshd ;;
	*)		src=$F/src side=fsshd ;;
	esac

	mk $side "$way-part" < <(head -c 1000000 "$A/src")
	"${f3[@]}" -a "$src" "$tgt" 2>"$TMP/err"
	ok "$( [ $? -eq 0 ] && cmp -s "$A/src" "$tp" &&
	    grep -q "^Resuming copy to \".*$way-part\" at 1000000 bytes$" "$TMP/err"; echo $?)" \
	    "$way: a partial target with the right prefix is completed, Resuming" ||
		diag "$(cat "$TMP/err")"

	mk $side "$way-diff" < <(head -c 1000000 /dev/urandom)
	cp "$tp" "$TMP/before"
	"${f3[@]}" -a "$src" "$tgt" 2>"$TMP/err"
	ok "$( [ $? -eq 1 ] && cmp -s "$TMP/before" "$tp" &&
	    grep -q "^Cannot resume \".*$way-diff\": the part already transferred differs from the source$" \
	    "$TMP/err"; echo $?)" \
	    "$way: a prefix that differs is refused, the target left as it was" ||
		diag "$(cat "$TMP/err")"

	mk $side "$way-long" < <(cat "$A/src"; head -c 1000 /dev/urandom)
	cp "$tp" "$TMP/before"
	"${f3[@]}" -a "$src" "$tgt" 2>"$TMP/err"
	ok "$( [ $? -eq 1 ] && cmp -s "$TMP/before" "$tp" &&
	    grep -q "destination is larger than source" "$TMP/err"; echo $?)" \
	    "$way: a target larger than the source is refused, left as it was" ||
		diag "$(cat "$TMP/err")"

	mk $side "$way-empty" </dev/null
	"${f3[@]}" -a "$src" "$tgt" 2>"$TMP/err"
	ok "$( [ $? -eq 0 ] && cmp -s "$A/src" "$tp" && [ ! -s "$TMP/err" ]; echo $?)" \
	    "$way: an empty target is copied from the start, silently" ||
		diag "$(cat "$TMP/err")"
done

# Under check-file (fsshd on both sides) the whole prefix is compared:
# one byte changed in its middle is found.  By samples (sshd on one side)
# a byte changed in the first one is.
for way in fsshd-fsshd sshd-fsshd; do
	head -c 1000000 "$A/src" >"$TMP/p"
	pos=500000
	[ $way = sshd-fsshd ] && pos=10
	printf '\001' | cmp -s - <(tail -c +$((pos + 1)) "$TMP/p" | head -c 1) &&
		pos=$((pos + 1))
	printf '\001' | dd of="$TMP/p" bs=1 seek=$pos conv=notrunc 2>/dev/null
	mk fsshd "$way-byte" <"$TMP/p"
	src=$F/src
	[ $way = sshd-fsshd ] && src=$S$A/src
	"${f3[@]}" -a "$src" "$tgt" 2>"$TMP/err"
	ok "$( [ $? -eq 1 ] && cmp -s "$TMP/p" "$tp" && grep -q "differs from the source" "$TMP/err"; echo $?)" \
	    "$way: one changed byte (at $pos) in the prefix is found" ||
		diag "$(cat "$TMP/err")"
done

# A -3 copy cut by SIGINT (small batches, 800 kbit/s: bytes arrive
# early), then -3 -a completes it.
for way in sshd-fsshd fsshd-sshd; do
	if [ $way = sshd-fsshd ]; then
		src=$S$A/src tgt=$F/$way-cut tp=$uh/$way-cut
	else
		src=$F/src tgt=$S$TMP/$way-cut tp=$TMP/$way-cut
	fi
	"$FSCP" -q -3 -l 800 -X buffer=16384 -X nrequests=4 "${SSH_OPTS[@]}" \
	    "$src" "$tgt" 2>"$TMP/cut.err" &
	pid=$!
	wait_file "$tp" || diag "$way: no bytes arrived"
	kill -INT "$pid"
	wait "$pid"
	st=$?
	sz=$(stat -c %s "$tp")
	"${f3[@]}" -a "$src" "$tgt" 2>"$TMP/err"
	ok "$( [ $? -eq 0 ] && [ "$st" -eq 1 ] && [ "$sz" -gt 0 ] && [ "$sz" -lt 3000017 ] &&
	    cmp -s "$A/src" "$tp" && grep -q "^Resuming copy to .* at $sz bytes$" "$TMP/err"; echo $?)" \
	    "$way: a -3 copy cut by SIGINT ($sz bytes) is completed by -3 -a" ||
		diag "status $st: $(cat "$TMP/cut.err" "$TMP/err")"
done

# -r -a: the partial file of a tree is resumed, the others copied.
mkdir -p "$A/tree/sub"
head -c 200000 /dev/urandom >"$A/tree/sub/big"
echo small >"$A/tree/small"
mkdir -p "$uh/tree/sub"
head -c 50000 "$A/tree/sub/big" >"$uh/tree/sub/big"
chown -R "$u:" "$uh/tree"
"${f3[@]}" -r -a "$S$A/tree" "$F/" 2>"$TMP/err"
ok "$( [ $? -eq 0 ] && diff -r "$A/tree" "$uh/tree" >/dev/null &&
    [ "$(grep -c '^Resuming copy to .*sub/big" at 50000 bytes$' "$TMP/err")" -eq 1 ]; echo $?)" \
    "-r -a: the tree's partial file is resumed, the rest copied" ||
	diag "$(cat "$TMP/err")"

# -q: the note is not shown, a refusal is.
mk fsshd q-part < <(head -c 1000 "$A/src")
"${f3[@]}" -q -a "$S$A/src" "$tgt" 2>"$TMP/err"
rc=$?
mk fsshd q-diff < <(head -c 1000 /dev/urandom)
"${f3[@]}" -q -a "$S$A/src" "$tgt" 2>"$TMP/err2"
rc2=$?
ok "$( [ $rc -eq 0 ] && cmp -s "$A/src" "$uh/q-part" && [ ! -s "$TMP/err" ] &&
    [ $rc2 -eq 1 ] && grep -q "^Cannot resume" "$TMP/err2"; echo $?)" \
    "-q -a: resumed without a note, a refusal still said"

# The legacy protocol cannot resume: -O -3 -a copies whole, as -a does
# with -O in every direction (the prefix here differs: no refusal).
mk fsshd legacy < <(head -c 1000 /dev/urandom)
"$FSCP" -q -O -3 -a "${SSH_OPTS[@]}" "$S$A/src" "$tgt" 2>"$TMP/err"
ok "$( [ $? -eq 0 ] && cmp -s "$A/src" "$tp"; echo $?)" \
    "-O -3 -a: copied whole" || diag "$(cat "$TMP/err")"

done_testing
