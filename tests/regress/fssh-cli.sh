#!/usr/bin/env bash
# fssh's command line: -G prints what `ssh -G` prints for the keywords
# both know (with options, user@host, ssh:// URIs, -J, config files),
# -Q lists algorithms OpenSSH knows too, and bad command lines fail with
# status 255.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"
require_cmd ssh
FSSH=$(ferry_bin fssh)
[ -x "$FSSH" ] || skip_all "fssh not built"

# Algorithm lists and default identity files legitimately differ (Ferry
# implements fewer algorithms and key types).
EXCL='^(kexalgorithms|ciphers|macs|hostkeyalgorithms|pubkeyacceptedalgorithms|identityfile)$'

# compare NAME ARGS...: fssh -G ARGS against ssh -G ARGS.
compare() {
	local name=$1
	shift
	if ! ssh -G "$@" >"$TMP/o.txt" 2>"$TMP/o.err"; then
		ok 1 "$name: ssh -G failed: $(head -1 "$TMP/o.err")"
		return
	fi
	if ! "$FSSH" -G "$@" >"$TMP/f.txt" 2>"$TMP/f.err"; then
		ok 1 "$name: fssh -G failed: $(head -1 "$TMP/f.err")"
		return
	fi
	awk '{print $1}' "$TMP/o.txt" | sort -u >"$TMP/ko"
	awk '{print $1}' "$TMP/f.txt" | sort -u >"$TMP/kf"
	comm -12 "$TMP/ko" "$TMP/kf" | grep -Ev "$EXCL" >"$TMP/keys"
	awk 'NR==FNR {k[$1]=1; next} ($1 in k)' "$TMP/keys" "$TMP/o.txt" >"$TMP/o2"
	awk 'NR==FNR {k[$1]=1; next} ($1 in k)' "$TMP/keys" "$TMP/f.txt" >"$TMP/f2"
	if [ "$(wc -l <"$TMP/f2")" -gt 20 ] && diff "$TMP/o2" "$TMP/f2" >"$TMP/diff"; then
		ok 0 "$name ($(wc -l <"$TMP/f2") lines equal)"
	else
		ok 1 "$name"
		sed 's/^/# /' "$TMP/diff"
	fi
}

cat >"$TMP/cfg" <<'CFG'
Host web
    HostName %h.example.org
    User www
    Port 2200
Host *.example.org
    ServerAliveInterval 9
Host *
    ConnectTimeout 5
    IdentityFile ~/.ssh/id_test
CFG
compare "-G with a config file" -F "$TMP/cfg" web
compare "-G with options" -F "$TMP/cfg" -p 2022 -l bob -C -4 -o ConnectTimeout=7 \
    -o ServerAliveInterval=5 -o BatchMode=yes -o StrictHostKeyChecking=accept-new h1
compare "-G user@host" -F /dev/null alice@host.example.net
compare "-G -l wins over user@host" -F /dev/null -l carol alice@host
compare "-G ssh:// URI" -F /dev/null ssh://dave@host.example.com:2222
compare "-G -J" -F /dev/null -J "j1,u@j2:23" target
compare "-G -6 -i -o after the destination" -F /dev/null target -6 -i /tmp/k -o Port=99
compare "-G ProxyCommand" -F /dev/null -o "ProxyCommand=nc %h %p" target

# -Q: every algorithm listed is one OpenSSH knows.
for kind in kex cipher mac key key-sig; do
	"$FSSH" -Q "$kind" >"$TMP/q" 2>/dev/null
	ssh -Q "$kind" >"$TMP/sq" 2>/dev/null
	n=$(wc -l <"$TMP/q")
	missing=$(grep -vxFf "$TMP/sq" "$TMP/q" | head -3 | tr '\n' ' ')
	ok "$( [ "$n" -gt 2 ] && [ -z "$missing" ]; echo $?)" "-Q $kind: $n names, all known to ssh $missing"
done
"$FSSH" -Q cipher | grep -qx chacha20-poly1305@openssh.com
ok $? "-Q cipher lists chacha20-poly1305@openssh.com"
"$FSSH" -Q key | grep -q '^rsa-sha2'
ok "$( [ $? -ne 0 ]; echo $?)" "-Q key lists key types, not RSA signature algorithms"
"$FSSH" -Q key-sig | grep -qx rsa-sha2-512
ok $? "-Q key-sig lists rsa-sha2-512"
"$FSSH" -Q nonsense >/dev/null 2>&1
ok "$( [ $? -eq 255 ]; echo $?)" "-Q with an unknown kind fails"

# Bad command lines.
"$FSSH" >/dev/null 2>"$TMP/err"
ok "$( [ $? -eq 255 ] && grep -q '^usage: fssh' "$TMP/err"; echo $?)" "no destination: usage"
"$FSSH" -Z host true >/dev/null 2>&1
ok "$( [ $? -eq 255 ]; echo $?)" "an unknown option fails"
"$FSSH" -F /dev/null -W nohostport h >/dev/null 2>"$TMP/err"
ok "$( [ $? -eq 255 ] && grep -q 'Bad stdio forwarding' "$TMP/err"; echo $?)" "-W without a port fails"
"$FSSH" -F /dev/null -W h:1 h true >/dev/null 2>"$TMP/err"
ok "$( [ $? -eq 255 ]; echo $?)" "-W with a command fails"
"$FSSH" -F /dev/null -o 'NoSuchKeyword yes' h true >/dev/null 2>"$TMP/err"
ok "$( [ $? -eq 255 ]; echo $?)" "an unknown -o keyword fails: $(head -1 "$TMP/err")"
"$FSSH" -F /dev/null 'ssh://h/path' true >/dev/null 2>"$TMP/err"
ok "$( [ $? -eq 255 ] && grep -q 'invalid destination' "$TMP/err"; echo $?)" "a URI with a path is refused"
"$FSSH" -F /dev/null -- -oProxyCommand=x true >/dev/null 2>"$TMP/err"
ok "$( [ $? -eq 255 ]; echo $?)" "a destination that looks like an option is refused"
"$FSSH" -F /dev/null -E "$TMP/log" -o BatchMode=yes -p "$(free_port)" 127.0.0.1 true >/dev/null 2>"$TMP/err"
ok "$( [ $? -eq 255 ] && grep -q 'Connection refused' "$TMP/log" && [ ! -s "$TMP/err" ]; echo $?)" \
    "-E sends the messages to the log file"
"$FSSH" -q -F /dev/null -o BatchMode=yes -p "$(free_port)" 127.0.0.1 true >/dev/null 2>"$TMP/err"
ok "$( [ $? -eq 255 ]; echo $?)" "-q: still 255 on failure"
cport=$(free_port)
start=$SECONDS
"$FSSH" -F /dev/null -o ConnectionAttempts=2 -o ConnectTimeout=3 -p "$cport" 127.0.0.1 true 2>"$TMP/err"
rc=$?
ok "$( [ $rc -eq 255 ] && [ $((SECONDS - start)) -ge 1 ] &&
    grep -qx "fssh: connect to host 127.0.0.1 port $cport: Connection refused" "$TMP/err"; echo $?)" \
    "ConnectionAttempts 2: tried again a second later"
"$FSSH" -F /dev/null -6 -p "$cport" 127.0.0.1 true 2>"$TMP/err"
ok "$( [ $? -eq 255 ] && grep -q '^fssh: Could not resolve hostname 127.0.0.1' "$TMP/err"; echo $?)" \
    "-6 with an IPv4 address: $(head -1 "$TMP/err")"
done_testing
