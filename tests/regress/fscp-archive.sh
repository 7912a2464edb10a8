#!/usr/bin/env bash
# fscp -r and tree-archive@ferry: against fsshd (which offers it) a tree
# of many small files goes as one archive stream both ways (-v says so),
# -X archive=no forces file by file, -X archive=yes a small tree through
# the stream, -p keeps modes and times; against OpenSSH's sftp server
# (which lacks it) the copy falls back to file by file; an invalid
# -X archive= value is refused.  Every copy is compared with diff -r.
. "$top_srcdir/tests/regress/lib.sh"
. "$top_srcdir/tests/regress/fscp-lib.sh"
fscp_setup fa

fs=("$FSCP" -v "${SSH_OPTS[@]}")
F=$u@127.0.0.1
mkdir -p "$TMP/tree/sub"
for i in $(seq 1 40); do echo "file $i" >"$TMP/tree/f$i"; done
for i in $(seq 1 5); do head -c 3000 /dev/urandom >"$TMP/tree/sub/r$i"; done
chmod 640 "$TMP/tree/f1"
touch -d '2001-02-03 04:05:06' "$TMP/tree/f1"
mkdir -p "$TMP/small"
echo a >"$TMP/small/a"
streamed() { grep -q 'one archive stream' "$1"; }

"${fs[@]}" -P "$fport" -r -p "$TMP/tree" "$F:" 2>"$TMP/v1"
ok "$( [ $? -eq 0 ] && streamed "$TMP/v1" && diff -r "$TMP/tree" "$uh/tree" >/dev/null; echo $?)" \
    "fsshd: -r upload of 45 small files as one archive stream"
ok "$( [ "$(stat -c '%a %Y' "$uh/tree/f1")" = "$(stat -c '%a %Y' "$TMP/tree/f1")" ] &&
    [ "$(stat -c %U "$uh/tree/sub/r1")" = "$u" ]; echo $?)" \
    "-p: modes and times, files owned by the user"
mkdir -p "$TMP/down"
"${fs[@]}" -P "$fport" -r "$F:tree" "$TMP/down" 2>"$TMP/v2"
ok "$( [ $? -eq 0 ] && streamed "$TMP/v2" && diff -r "$TMP/tree" "$TMP/down/tree" >/dev/null; echo $?)" \
    "fsshd: -r download as one archive stream"
"${fs[@]}" -P "$fport" -r -X archive=no "$TMP/tree" "$F:tree-no" 2>"$TMP/v3"
ok "$( [ $? -eq 0 ] && ! streamed "$TMP/v3" && diff -r "$TMP/tree" "$uh/tree-no" >/dev/null; echo $?)" \
    "-X archive=no: file by file"
"${fs[@]}" -P "$fport" -r "$TMP/small" "$F:small-auto" 2>"$TMP/v4"
ok "$( [ $? -eq 0 ] && ! streamed "$TMP/v4" && grep -q 'file by file' "$TMP/v4" &&
    diff -r "$TMP/small" "$uh/small-auto" >/dev/null; echo $?)" \
    "auto: a one-file tree goes file by file"
"${fs[@]}" -P "$fport" -r -X archive=yes "$TMP/small" "$F:small-yes" 2>"$TMP/v5"
ok "$( [ $? -eq 0 ] && streamed "$TMP/v5" && diff -r "$TMP/small" "$uh/small-yes" >/dev/null; echo $?)" \
    "-X archive=yes: even a one-file tree as a stream"

"${fs[@]}" -P "$SSHD_PORT" -r "$TMP/tree" "root@127.0.0.1:$TMP/o-up" 2>"$TMP/v6"
ok "$( [ $? -eq 0 ] && ! streamed "$TMP/v6" && grep -q 'lacks tree-archive@ferry' "$TMP/v6" &&
    diff -r "$TMP/tree" "$TMP/o-up" >/dev/null; echo $?)" \
    "OpenSSH's sftp server: falls back to file by file (upload)"
"${fs[@]}" -P "$SSHD_PORT" -r -X archive=yes "root@127.0.0.1:$TMP/tree" "$TMP/o-down" 2>"$TMP/v7"
ok "$( [ $? -eq 0 ] && ! streamed "$TMP/v7" && diff -r "$TMP/tree" "$TMP/o-down" >/dev/null; echo $?)" \
    "and (download, even with archive=yes)"

"$FSCP" -X archive=maybe "$TMP/small/a" "$TMP/zz" 2>/dev/null
ok "$( [ $? -ne 0 ] && [ ! -e "$TMP/zz" ]; echo $?)" "-X archive=maybe is refused"

done_testing
