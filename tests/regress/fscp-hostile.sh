#!/usr/bin/env bash
# fscp -O against hostile servers: a scripted "ssh" given with -S plays
# an scp source that sends absolute names, ../, . and empty names, a file
# that was not requested, names that do not match the requested glob.
# Each is refused with exit status 1, nothing is written outside the
# target, the target directory's mode is unchanged; -T relaxes only the
# match with the request.  Also: the remote command fscp hands the
# transport quotes every name for the remote shell, and -R's.
. "$top_srcdir/tests/regress/lib.sh"
FSCP=$(ferry_bin fscp)
[ -x "$FSCP" ] || skip_all "fscp not built"
FAKE=$top_srcdir/tests/regress/fscp-fake-ssh
export FAKE_LOG=$TMP/argv FAKE_ABS=$TMP/abs-target

T=$TMP/target
mkdir -m 750 "$T"
before=$(stat -c %a "$T")
hostile() { # scenario what remote-path [fscp options]
	local sc=$1 what=$2 rpath=$3
	shift 3
	FAKE_SCENARIO=$sc "$FSCP" -q -O -S "$FAKE" "$@" "h:$rpath" "$T" 2>"$TMP/err-$sc"
	ok "$( [ $? -eq 1 ]; echo $?)" "$what: refused, exit status 1"
}
hostile abs "an absolute name" want.txt
ok "$( [ ! -e "$FAKE_ABS" ]; echo $?)" "absolute name: nothing written there"
hostile dotdot "a ../ name" want.txt
ok "$( [ ! -e "$TMP/evil" ]; echo $?)" "../: nothing written above the target"
hostile dot "a . directory" want -r
ok "$( [ ! -e "$T/x" ]; echo $?)" ".: nothing written"
hostile empty "an empty directory name" want -r
hostile slash "a directory name with /" want -r
hostile extra "a file that was not requested" want.txt
ok "$( [ -f "$T/want.txt" ] && [ ! -e "$T/extra.txt" ]; echo $?)" \
    "the requested file arrives, the extra one does not"
ok "$(grep -q 'filename does not match request' "$TMP/err-extra"; echo $?)" "and fscp says why"
hostile glob "a name not matching the glob" '*.txt'
ok "$( [ ! -e "$T/evil.sh" ]; echo $?)" "the non-matching file is not written"
ok "$( [ "$(stat -c %a "$T")" = "$before" ] && [ -z "$(ls -A "$T" | grep -v want.txt)" ]; echo $?)" \
    "the target directory's mode is unchanged and it holds nothing else"
FAKE_SCENARIO=ok "$FSCP" -q -O -T -S "$FAKE" h:want.txt "$T" 2>/dev/null
ok "$( [ $? -eq 0 ] && [ -f "$T/other" ]; echo $?)" "-T accepts a name not matching the request"
FAKE_SCENARIO=ok FAKE_SCENARIO=extra "$FSCP" -q -O -S "$FAKE" 'h:{want,extra}.txt' "$T" 2>"$TMP/err-b1"
ok "$( [ $? -eq 0 ] && [ -f "$T/extra.txt" ]; echo $?)" \
    "-O: a brace pattern accepts each of its alternatives"
ok "$( [ "$(tail -1 "$FAKE_LOG")" = "scp -f -- {'want','extra'}'.txt'" ]; echo $?)" \
    "-O: braces and commas of a source are left to the remote shell"
rm -f "$T/extra.txt"
hostile extra "a name outside the brace alternatives" '{want,nope}.txt'
ok "$( [ ! -e "$T/extra.txt" ] && grep -q 'filename does not match request' "$TMP/err-extra"; echo $?)" \
    "the file outside the alternatives is not written"
FAKE_SCENARIO=glob "$FSCP" -q -O -S "$FAKE" 'h:{x,{a,*.sh}}' "$T" 2>/dev/null
ok "$( [ $? -eq 0 ] && [ -f "$T/evil.sh" ]; echo $?)" "nested braces with a glob inside"
rm -f "$T/evil.sh"
"$FSCP" -q -O -S "$FAKE" "$TMP/f" 'h:{a,b}' 2>/dev/null
ok "$( [ "$(tail -1 "$FAKE_LOG")" = "scp -t -- '{a,b}'" ]; echo $?)" \
    "-O: braces in the target are quoted"
"$FSCP" -q -O -T -S "$FAKE" h:x "$T" 2>/dev/null
FAKE_SCENARIO=dotdot "$FSCP" -q -O -T -S "$FAKE" h:x "$T" 2>/dev/null
ok "$( [ $? -eq 1 ] && [ ! -e "$TMP/evil" ]; echo $?)" "-T still refuses ../"

# What fscp asks the remote shell to run.
echo data >"$TMP/f"
"$FSCP" -q -O -S "$FAKE" "$TMP/f" 'h:a;touch MARKER' 2>/dev/null
ok "$( [ "$(tail -1 "$FAKE_LOG")" = "scp -t -- 'a;touch MARKER'" ]; echo $?)" \
    "-O: ; is quoted for the remote shell"
"$FSCP" -q -O -S "$FAKE" "$TMP/f" 'h:$(touch M) `x` '"'q'" 2>/dev/null
ok "$( [ "$(tail -1 "$FAKE_LOG")" = "scp -t -- '\$(touch M) \`x\` '\\''q'\\'''" ]; echo $?)" \
    "-O: \$(), backticks and quotes are quoted"
"$FSCP" -q -O -r -p -S "$FAKE" 'h:d/*.t?t' "$T" 2>/dev/null
ok "$( [ "$(tail -1 "$FAKE_LOG")" = "scp -r -p -f -- 'd/'*'.t'?'t'" ]; echo $?)" \
    "-O: * and ? stay globs, the rest is quoted"
ok "$( grep -qx -- -oPermitLocalCommand=no "$FAKE_LOG" && grep -qx -- -x "$FAKE_LOG" &&
    [ "$(tail -2 "$FAKE_LOG" | head -1)" = h ]; echo $?)" "-S gets scp's ssh options and the host"
"$FSCP" -q -O -R -S "$FAKE" -P 2022 'u@h1:a b' 'h2:c;d' 2>/dev/null
ok "$( [ "$(tail -1 "$FAKE_LOG")" = "scp -O -- 'a b' 'h2:c;d'" ] && grep -qx u "$FAKE_LOG" &&
    grep -qx h1 "$FAKE_LOG"; echo $?)" "-R runs scp on the first host, quoted"
"$FSCP" -q -R -r -l 800 -S "$FAKE" 'h1:{a,b}' 'h2:c' 2>/dev/null
ok "$( [ "$(tail -1 "$FAKE_LOG")" = "scp -r -l 800 -- {'a','b'} 'h2:c'" ]; echo $?)" \
    "-R passes -r and -l on, leaves braces to the first host's shell"

done_testing
