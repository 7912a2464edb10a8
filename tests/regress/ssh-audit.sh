#!/usr/bin/env bash
# ssh-audit (Debian's, 2.5) against fsshd's default algorithms with an
# ed25519 and an RSA-3072 host key, on the embedded default and from a
# configuration file that names no algorithms: no "fail" and no "warn"
# for host keys, key exchange, ciphers or MACs ('+' in the file adds a
# weaker one back, and ssh-audit then sees it).  ssh-audit 2.5 predates strict kex, so it
# calls kex-strict-s-v00@openssh.com an unknown algorithm: that line (and
# its summary) is the one expected and filtered; strict kex stays on.
. "$top_srcdir/tests/regress/lib.sh"
require_cmd ssh-audit ssh-keygen
FSSHD=$(ferry_bin fsshd)
[ -x "$FSSHD" ] || skip_all "fsshd not built"
mkdir -p "$TMP/home/.ssh"
ssh-keygen -q -t rsa -b 3072 -N '' -f "$TMP/rsa" </dev/null
audit() { # what fsshd-options...
	local what=$1 port
	shift
	port=$(free_port)
	HOME=$TMP/home "$FSSHD" -p "$port" "$@" 2>"$TMP/fsshd.log" &
	track_pid $!
	wait_port "$port"
	ssh-audit -n -p "$port" 127.0.0.1 >"$TMP/audit.out" 2>&1
	grep -E '^\((kex|key|enc|mac)\)' -A3 "$TMP/audit.out" |
	    grep -E '\[(fail|warn)\]' |
	    grep -v 'kex-strict-s-v00@openssh.com .*unknown algorithm' >"$TMP/findings"
	if [ -s "$TMP/findings" ]; then
		ok 1 "ssh-audit: no fail or warn with $what"
		sed 's/^/#   /' "$TMP/findings"
	else
		ok 0 "ssh-audit: no fail or warn with $what"
	fi
	ok "$(grep -q 'kex-strict-s-v00@openssh.com' "$TMP/audit.out"; echo $?)" \
	    "strict kex is offered ($what)"
	ok "$(grep -qE '^\((key|kex|enc|mac)\)' "$TMP/audit.out"; echo $?)" \
	    "ssh-audit saw the algorithm lists ($what)"
}
audit "an ed25519 host key"
audit "an RSA-3072 host key" -h "$TMP/rsa"
ok "$(grep -q 'rsa-sha2-512' "$TMP/audit.out" && ! grep -qE '^\(key\) ssh-rsa ' "$TMP/audit.out"; echo $?)" \
    "RSA is offered as rsa-sha2-512/256 only"

# Configuration mode: the same server defaults as the embedded one.
conf() {
	printf 'ListenAddress 127.0.0.1\nHostKey %s\nPidFile %s\n' \
	    "$TMP/rsa" "$TMP/conf.pid"
	cat
}
conf </dev/null >"$TMP/plain.conf"
audit "a configuration file without algorithm lines" -f "$TMP/plain.conf"
echo "KexAlgorithms +ecdh-sha2-nistp256" | conf >"$TMP/plus.conf"
HOME=$TMP/home "$FSSHD" -T -f "$TMP/plus.conf" >"$TMP/plus.T"
ok "$(grep -qE '^kexalgorithms curve25519-sha256,.*,ecdh-sha2-nistp256$' "$TMP/plus.T" &&
    ! grep -qE '^macs .*umac-64' "$TMP/plus.T"; echo $?)" \
    "fsshd -T: '+' appends to the server's defaults" ||
	diag "$(grep -E '^(kexalgorithms|macs) ' "$TMP/plus.T")"
done_testing
