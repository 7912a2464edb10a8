#!/usr/bin/env bash
# fsftp against a scripted hostile SFTP server (fsftp-hostile-server.py,
# run through -D): READDIR names with '/', "." and ".." as files, DATA
# longer than requested, unknown and duplicate reply ids, terminal escapes
# in names and messages.  The session must end with an error where the
# protocol is broken, nothing may be written outside the destination, and
# no control character may reach the terminal raw.
. "${top_srcdir:-.}/tests/regress/lib.sh"
FSFTP=$(ferry_bin fsftp)
PY=/usr/bin/python3
HS=$top_srcdir/tests/regress/fsftp-hostile-server.py
[ -x "$FSFTP" ] || skip_all "fsftp not built"
[ -x "$PY" ] || skip_all "no /usr/bin/python3"
S=$TMP/srv
mkdir -p "$S/d" "$TMP/dl"
printf 'hello\n' >"$S/d/f"
EVIL=$'evil\033]0;owned\007name'
printf 'evil\n' >"$TMP/evil"
head -c 100000 /dev/urandom >"$S/d/big"

# hostile MODE BATCH-TEXT: run fsftp in $S against the server in MODE.
hostile() {
	printf '%s\n' "$2" >"$TMP/batch"
	(cd "$S" && timeout 60 "$FSFTP" -b "$TMP/batch" \
	    -D "$PY $HS $1") >"$TMP/out" 2>"$TMP/err"
}
# only_dest: $TMP/dl holds nothing but what the test allows.
outside() { find "$TMP" -maxdepth 1 -newer "$TMP/batch" ! -name out \
    ! -name err ! -name dl ! -path "$TMP" | grep -c .; }

hostile honest "get -r d $TMP/dl/d"
ok $? "the scripted server works when honest"
check "honest tree arrives" cmp "$S/d/big" "$TMP/dl/d/big"
rm -rf "$TMP/dl/d"

hostile slash "get -r d $TMP/dl/d"
ok "$( [ $? -ne 0 ]; echo $?)" "READDIR name with '/': the batch fails"
grep -q "contains '/'" "$TMP/err"
ok $? "... saying why"
ok "$( [ ! -e "$TMP/dl/escaped" ] && [ ! -e "$TMP/escaped" ] &&
    [ ! -e "$TMP/dl/d/a" ]; echo $?)" "... and nothing is written outside"
ok "$(outside)" "... nothing new beside the destination"
rm -rf "$TMP/dl/d"

hostile dotdot "get -r d $TMP/dl/d"
ok $? "'.' and '..' sent as files are skipped"
ok "$( [ "$(ls -A "$TMP/dl")" = d ] && cmp -s "$S/d/f" "$TMP/dl/d/f"; echo $?)" \
    "... nothing written but the tree"
rm -rf "$TMP/dl/d"

hostile longdata "get d/f $TMP/dl/f"
ok "$( [ $? -ne 0 ]; echo $?)" "DATA longer than requested ends the session"
grep -q "bytes for a read of" "$TMP/err"
ok $? "... with an error naming it"

hostile unknownid "get d/f $TMP/dl/f2"
ok "$( [ $? -ne 0 ]; echo $?)" "a reply with an unknown id ends the session"
grep -q "unknown or answered request id" "$TMP/err"
ok $? "... with an error naming it"

hostile dupid "get d/f $TMP/dl/f3"
ok "$( [ $? -ne 0 ]; echo $?)" "a duplicate reply ends the session"
grep -q "unknown or answered request id" "$TMP/err"
ok $? "... with an error naming it"

cp "$TMP/evil" "$S/d/$EVIL"
: >"$S/deny-me"
hostile ctrl "-get deny-me $TMP/dl/deny
ls -1 d
ls -l d
-get nothere
get -r d $TMP/dl/c"
ok "$( ! grep -q $'\033' "$TMP/out" "$TMP/err" &&
    ! grep -q $'\007' "$TMP/out" "$TMP/err"; echo $?)" \
    "no raw escape character reaches the terminal"
grep -q 'evil\\033\]0;owned\\007name' "$TMP/out"
ok $? "control characters in names are shown as octal escapes"
ok "$(cmp -s "$TMP/evil" "$TMP/dl/c/$EVIL"; echo $?)" \
    "the file itself keeps its real name"
grep -q 'ctrl \\033\[31mred' "$TMP/err"
ok $? "control characters in server messages are shown as octal escapes"
rm -f "$S/d/$EVIL"

hostile honest "get nothere-at-all $TMP/dl/none"
ok "$( [ $? -ne 0 ] && [ ! -e "$TMP/dl/none" ]; echo $?)" \
    "a failed remote open leaves no local file"
done_testing
