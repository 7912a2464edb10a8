#!/usr/bin/env bash
# fssh against Ferry's own server (fsshd's embedded default, run as an
# unprivileged test user): exec, exit codes, stdout and stderr apart,
# stdin streamed both ways, the sftp subsystem, keepalives answered.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/fsshd-lib.sh"
fsshd_require setpriv
FSSH=$(ferry_bin fssh)
[ -x "$FSSH" ] || skip_all "fssh not built"

user=ferry-c$$
home=$TMP/home
fsshd_embedded "$user" "$home"

f() {
	timeout 60 "$FSSH" -F /dev/null -o UserKnownHostsFile="$TMP/known" \
	    -o StrictHostKeyChecking=yes -o BatchMode=yes -o IdentitiesOnly=yes \
	    -o IdentityAgent=none -i "$TMP/id" -p "$port" "$user@127.0.0.1" "$@"
}

out=$(f 'echo "$USER:$HOME"' 2>"$TMP/err")
ok "$( [ "$out" = "$user:$home" ]; echo $?)" "exec runs in the user's shell and home"
for code in 0 1 3 42 127 255; do
	f "exit $code" 2>/dev/null
	ok "$( [ $? -eq $code ]; echo $?)" "exit status $code"
done
f -o LogLevel=INFO 'kill -TERM $$' 2>"$TMP/err"
rc=$?
ok "$( [ $rc -eq 255 ] && grep -q 'killed by signal TERM' "$TMP/err"; echo $?)" "exit-signal from fsshd gives 255 (rc $rc)"
out=$(f 'echo out; echo err >&2' 2>"$TMP/err")
ok "$( [ "$out" = out ] && [ "$(cat "$TMP/err")" = err ]; echo $?)" "stdout and stderr are kept apart"
head -c $((16 * 1024 * 1024)) /dev/urandom >"$TMP/rand"
f cat <"$TMP/rand" >"$TMP/back" 2>/dev/null
ok "$(cmp -s "$TMP/rand" "$TMP/back"; echo $?)" "16 MiB through stdin and back, byte-exact"
sum=$(f sha256sum <"$TMP/rand" 2>/dev/null | cut -d' ' -f1)
ok "$( [ "$sum" = "$(sha256sum <"$TMP/rand" | cut -d' ' -f1)" ]; echo $?)" "stdin EOF reaches the command"
(printf '\0\0\0\005\001\0\0\0\003'; sleep 1) | f -s sftp 2>/dev/null |
    head -c 9 | od -A n -t x1 | tr -d ' \n' >"$TMP/ver"
ok "$( [ "$(cut -c9-18 "$TMP/ver")" = 0200000003 ]; echo $?)" "subsystem sftp answers VERSION 3"
out=$(f -o ServerAliveInterval=1 -o ServerAliveCountMax=2 'sleep 4; echo alive' 2>"$TMP/err")
ok "$( [ "$out" = alive ]; echo $?)" "keepalives are answered: a quiet command outlives ServerAliveCountMax intervals"
out=$(f -C 'echo compressed' 2>/dev/null)
ok "$( [ "$out" = compressed ]; echo $?)" "-C (Compression yes)"
for c in aes128-ctr aes256-gcm@openssh.com chacha20-poly1305@openssh.com; do
	out=$(f -c "$c" -v 'echo ok' 2>"$TMP/err")
	ok "$( [ "$out" = ok ] && grep -q "cipher $c" "$TMP/err"; echo $?)" "-c $c"
done
out=$(f -c aes128-ctr -m hmac-sha2-256-etm@openssh.com -v 'echo ok' 2>"$TMP/err")
ok "$( [ "$out" = ok ] && grep -q 'mac hmac-sha2-256-etm@openssh.com' "$TMP/err"; echo $?)" "-m hmac-sha2-256-etm@openssh.com"
f -c no-such-cipher true 2>"$TMP/err"
ok "$( [ $? -eq 255 ]; echo $?)" "an unknown cipher is refused: $(head -1 "$TMP/err")"
done_testing
