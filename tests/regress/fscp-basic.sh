#!/usr/bin/env bash
# fscp against OpenSSH's sshd and against fsshd, in the SFTP protocol
# (default) and the legacy one (-O): single files both ways, a target that
# is or is not a directory, -r trees, -p times and modes, remote globs,
# names with spaces and shell metacharacters, injection attempts that must
# create no MARKER file on the server, a copy onto itself, remote to
# remote through this host (-3 -O), the -S transport, -a resuming a cut
# copy, scp's exit status (-R's command line is in fscp-hostile.sh).
. "$top_srcdir/tests/regress/lib.sh"
. "$top_srcdir/tests/regress/fscp-lib.sh"
fscp_setup fc

head -c 300000 /dev/urandom >"$TMP/rand"
mkdir -p "$TMP/tree/sub dir"
echo one >"$TMP/tree/one"
echo two >"$TMP/tree/sub dir/two"
chmod 640 "$TMP/tree/one"
touch -d '2001-02-03 04:05:06' "$TMP/tree/one"
echo spaced >"$TMP/sp ace"
printf 'meta\n' >"$TMP/m;\$(x)\`y\`'q\""

# run_suite NAME PORT USER HOME MODE-FLAG: the server side works in
# $TMP/r-NAME (absolute remote paths), commands would run in HOME.
run_suite() {
	local name=$1 port=$2 user=$3 home=$4 mode=$5 w=$TMP/w-$1
	local fs=("$FSCP" -q $mode "${SSH_OPTS[@]}" -P "$port")
	local R=$user@127.0.0.1 base=$TMP/r-$1
	mkdir -p "$w" "$base"
	chown "$user:" "$base"

	"${fs[@]}" "$TMP/rand" "$R:$base/up.bin"
	ok "$(cmp -s "$TMP/rand" "$base/up.bin"; echo $?)" "$name: upload to a file name"
	"${fs[@]}" "$TMP/rand" "$R:$base"
	ok "$(cmp -s "$TMP/rand" "$base/rand"; echo $?)" "$name: upload into a directory"
	"${fs[@]}" "$R:$base/up.bin" "$w/down.bin"
	ok "$(cmp -s "$TMP/rand" "$w/down.bin"; echo $?)" "$name: download to a file name"
	"${fs[@]}" "$R:$base/up.bin" "$w"
	ok "$(cmp -s "$TMP/rand" "$w/up.bin"; echo $?)" "$name: download into a directory"
	"${fs[@]}" "$TMP/sp ace" "$TMP/m;\$(x)\`y\`'q\"" "$R:$base"
	ok "$( [ "$(cat "$base/sp ace")" = spaced ] &&
	    [ -f "$base/m;\$(x)\`y\`'q\"" ]; echo $?)" "$name: names with spaces and metacharacters up"
	"${fs[@]}" "$R:$base/sp ace" "$R:$base/m;\$(x)\`y\`'q\"" "$w"
	ok "$( [ "$(cat "$w/sp ace")" = spaced ] && [ -f "$w/m;\$(x)\`y\`'q\"" ]; echo $?)" \
	    "$name: and down"
	"${fs[@]}" -r -p "$TMP/tree" "$R:$base"
	ok "$(diff -r "$TMP/tree" "$base/tree" >/dev/null &&
	    [ "$(stat -c '%a %Y' "$base/tree/one")" = "$(stat -c '%a %Y' "$TMP/tree/one")" ]; echo $?)" \
	    "$name: -r -p upload keeps the tree, modes and times"
	"${fs[@]}" -r -p "$R:$base/tree" "$w"
	ok "$(diff -r "$TMP/tree" "$w/tree" >/dev/null &&
	    [ "$(stat -c '%a %Y' "$w/tree/one")" = "$(stat -c '%a %Y' "$TMP/tree/one")" ]; echo $?)" \
	    "$name: -r -p download"
	mkdir -p "$w/g"
	"${fs[@]}" "$R:$base/tree/o*" "$R:$base/up.?in" "$w/g"
	ok "$( [ -f "$w/g/one" ] && [ -f "$w/g/up.bin" ] && [ "$(ls "$w/g" | wc -l)" = 2 ]; echo $?)" \
	    "$name: remote globs"
	"${fs[@]}" "$TMP/rand" "$R:$base/a;touch MARKER-$name-1" 2>/dev/null
	"${fs[@]}" "$TMP/rand" "$R:$base/\$(touch MARKER-$name-2)" 2>/dev/null
	"${fs[@]}" "$TMP/rand" "$R:$base/\`touch MARKER-$name-3\`" 2>/dev/null
	"${fs[@]}" "$R:$base/x;touch MARKER-$name-4" "$w" 2>/dev/null
	local d i marker=0
	for d in "$home" "$base" /; do
		for i in 1 2 3 4; do
			[ -e "$d/MARKER-$name-$i" ] && marker=1
		done
	done
	ok "$marker" "$name: ; \$() and backticks in remote names run nothing"
	ok "$( [ -f "$base/a;touch MARKER-$name-1" ] &&
	    [ -f "$base/\$(touch MARKER-$name-2)" ]; echo $?)" "$name: they are names"
	"${fs[@]}" "$R:$base/missing" "$w" 2>"$w/err"
	ok "$( [ $? -eq 1 ] && grep -q 'missing' "$w/err"; echo $?)" "$name: a missing file: exit status 1"
	"${fs[@]}" "$R:$base/up.bin" "$R:$base/up.bin" 2>/dev/null
	ok "$(cmp -s "$TMP/rand" "$base/up.bin"; echo $?)" "$name: a file onto itself stays whole"
}

run_suite sshd-sftp "$SSHD_PORT" root "$HOME" ""
run_suite sshd-legacy "$SSHD_PORT" root "$HOME" -O
run_suite fsshd-sftp "$fport" "$u" "$uh" ""
run_suite fsshd-legacy "$fport" "$u" "$uh" -O

# -S: an external ssh, both protocols.
for mode in "" -O; do
	rm -f "$TMP/s.bin"
	"$FSCP" -q $mode -S ssh "${SSH_OPTS[@]}" -P "$fport" "$TMP/rand" "$u@127.0.0.1:s.bin"
	ok "$(cmp -s "$TMP/rand" "$uh/s.bin"; echo $?)" "-S ssh ${mode:-(sftp)}: upload"
done

# -a: a cut copy resumed gives an identical file.
head -c 2000000 /dev/urandom >"$TMP/big"
head -c 700000 "$TMP/big" >"$TMP/w-part"
"$FSCP" -q -a "${SSH_OPTS[@]}" -P "$fport" "$u@127.0.0.1:big" "$TMP/none" 2>/dev/null
cp "$TMP/big" "$uh/big" && chown "$u:" "$uh/big"
"$FSCP" -q -a "${SSH_OPTS[@]}" -P "$fport" "$u@127.0.0.1:big" "$TMP/w-part"
ok "$(cmp -s "$TMP/big" "$TMP/w-part"; echo $?)" "-a resumes a cut download: identical file"

# -3 (legacy): fsshd's scp -f feeds sshd's scp -t through this host,
# each reached by fssh; scp:// URIs carry the ports.
"$FSCP" -q -O -3 "${SSH_OPTS[@]}" "scp://$u@127.0.0.1:$fport/big" \
    "scp://root@127.0.0.1:$SSHD_PORT/$TMP/third.bin" 2>"$TMP/third.err"
ok "$(cmp -s "$TMP/big" "$TMP/third.bin"; echo $?)" "-3 -O: remote to remote through this host"

# Usage errors.
"$FSCP" onlyone 2>/dev/null
ok "$( [ $? -eq 1 ]; echo $?)" "one operand: usage, exit status 1"
"$FSCP" -Z a b 2>/dev/null
ok "$( [ $? -eq 1 ]; echo $?)" "unknown option: exit status 1"

done_testing
