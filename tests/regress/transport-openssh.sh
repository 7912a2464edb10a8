#!/usr/bin/env bash
# Interop of the transport with OpenSSH, both ways, for every algorithm
# both implement: OpenSSH's ssh against Ferry's engine (ssh-probe server),
# and Ferry's engine (ssh-probe client) against OpenSSH's sshd.  Each run
# must complete key exchange with exactly the algorithm asked for and then
# carry encrypted messages (service request and a "none" auth attempt).
. "$top_srcdir/tests/regress/lib.sh"
require_cmd ssh ssh-keygen /usr/sbin/sshd
probe=$top_builddir/tests/regress/ssh-probe
[ -x "$probe" ] || skip_all "ssh-probe not built"

keydir=$TMP/keys
mkdir -p "$keydir"
for t in ed25519 ecdsa-256 ecdsa-384 ecdsa-521 rsa-2048; do
	ssh-keygen -q -t "${t%-*}" $( [ "${t#*-}" != "$t" ] && echo -b "${t#*-}") \
	    -N '' -f "$keydir/host_$t" </dev/null >/dev/null
done
hostkeys=("$keydir"/host_ed25519 "$keydir"/host_ecdsa-256 "$keydir"/host_ecdsa-384 \
	"$keydir"/host_ecdsa-521 "$keydir"/host_rsa-2048)

kexes="curve25519-sha256 curve25519-sha256@libssh.org ecdh-sha2-nistp256 ecdh-sha2-nistp384
ecdh-sha2-nistp521 diffie-hellman-group-exchange-sha256 diffie-hellman-group16-sha512
diffie-hellman-group18-sha512 diffie-hellman-group14-sha256 diffie-hellman-group14-sha1
diffie-hellman-group1-sha1"
hkalgs="ssh-ed25519 ecdsa-sha2-nistp256 ecdsa-sha2-nistp384 ecdsa-sha2-nistp521 rsa-sha2-512
rsa-sha2-256 ssh-rsa"
ciphers="chacha20-poly1305@openssh.com aes128-gcm@openssh.com aes256-gcm@openssh.com
aes128-ctr aes192-ctr aes256-ctr"
macs="hmac-sha2-256-etm@openssh.com hmac-sha2-512-etm@openssh.com hmac-sha2-256 hmac-sha2-512
umac-64-etm@openssh.com umac-128-etm@openssh.com umac-64@openssh.com umac-128@openssh.com
hmac-sha1 hmac-sha1-etm@openssh.com"
all() { echo $* | tr ' ' ','; }
nkex=$(echo $kexes | wc -w); nhk=$(echo $hkalgs | wc -w)
nc=$(echo $ciphers | wc -w); nm=$(echo $macs | wc -w)
total=$((nkex + nhk + nc + nm + 1))

# ---- OpenSSH's ssh against Ferry's engine ----
: >"$TMP/known"
"$probe" server "$TMP/port" -n "$total" -k "$(all $kexes)" -h "$(all $hkalgs)" \
    -c "$(all $ciphers)" -m "$(all $macs)" -z none,zlib \
    "${hostkeys[@]}" >"$TMP/server.out" 2>"$TMP/server.err" &
track_pid $!
wait_file "$TMP/port"
port=$(cat "$TMP/port")
for k in "${hostkeys[@]}"; do
	echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$k.pub")" >>"$TMP/known"
done
ssh_to_ferry() { # what-varies value extra-ssh-options...
	local what=$1 val=$2
	shift 2
	ssh -F /dev/null -v -p "$port" -o BatchMode=yes -o StrictHostKeyChecking=yes \
	    -o UserKnownHostsFile="$TMP/known" -o ConnectTimeout=60 "$@" \
	    probe@127.0.0.1 true >"$TMP/ssh.out" 2>&1
	if grep -q "Permission denied (publickey,password)" "$TMP/ssh.out" &&
	    grep -q "SSH2_MSG_SERVICE_ACCEPT received" "$TMP/ssh.out" &&
	    grep -qE "(kex: algorithm|kex: host key algorithm|kex: server->client cipher): .*$val" "$TMP/ssh.out"; then
		ok 0 "ssh -> Ferry: $what $val"
	else
		ok 1 "ssh -> Ferry: $what $val"
		grep -E "kex:|Permission|rror|Connection|failed|invalid" "$TMP/ssh.out" | head -5 | sed 's/^/#   /'
	fi
}
for k in $kexes; do
	ssh_to_ferry kex "$k" -o KexAlgorithms="$k"
done
for h in $hkalgs; do
	ssh_to_ferry "host key" "$h" -o HostKeyAlgorithms="$h"
done
for c in $ciphers; do
	ssh_to_ferry cipher "$c" -o Ciphers="$c"
done
for m in $macs; do
	ssh_to_ferry MAC "$m" -o Ciphers=aes128-ctr -o MACs="$m"
done
ssh_to_ferry "compression (zlib, active before auth)" "" -o Compression=yes \
    -o KexAlgorithms=curve25519-sha256
ok "$(grep -c ' zlib strict' "$TMP/server.out" | grep -qx 1; echo $?)" \
    "Ferry's server negotiated zlib with ssh -C"
ok "$(grep -q strict=1 "$TMP/server.out"; echo $?)" "strict kex in effect with OpenSSH"

# ---- Ferry's engine against OpenSSH's sshd ----
openssh_sshd_setup "KexAlgorithms $(all $kexes)" "HostKeyAlgorithms $(all $hkalgs)" \
    "Ciphers $(all $ciphers)" "MACs $(all $macs)" \
    "HostKey $keydir/host_ecdsa-256" "HostKey $keydir/host_ecdsa-384" \
    "HostKey $keydir/host_ecdsa-521" "HostKey $keydir/host_rsa-2048"
openssh_sshd_start || skip_all "sshd did not start"
ferry_to_sshd() { # what value pubkey probe-options...
	local what=$1 val=$2 pub=$3
	shift 3
	if "$probe" client "$SSHD_PORT" "$pub" "$@" >"$TMP/probe.out" 2>&1 &&
	    grep -q "^service accepted" "$TMP/probe.out" &&
	    grep -q "^auth methods publickey" "$TMP/probe.out" &&
	    grep -q "^kex .*$val" "$TMP/probe.out"; then
		ok 0 "Ferry -> sshd: $what $val"
	else
		ok 1 "Ferry -> sshd: $what $val"
		sed 's/^/#   /' "$TMP/probe.out" | head -5
	fi
}
pub_for() {
	case $1 in
	ssh-ed25519) echo "$TMP/sshd/host_ed25519.pub" ;;
	ecdsa-sha2-nistp256) echo "$keydir/host_ecdsa-256.pub" ;;
	ecdsa-sha2-nistp384) echo "$keydir/host_ecdsa-384.pub" ;;
	ecdsa-sha2-nistp521) echo "$keydir/host_ecdsa-521.pub" ;;
	*) echo "$keydir/host_rsa-2048.pub" ;;
	esac
}
edpub=$TMP/sshd/host_ed25519.pub
for k in $kexes; do
	ferry_to_sshd kex "$k" "$edpub" -k "$k" -h ssh-ed25519
done
for h in $hkalgs; do
	ferry_to_sshd "host key" "$h" "$(pub_for "$h")" -h "$h"
done
for c in $ciphers; do
	ferry_to_sshd cipher "$c" "$edpub" -h ssh-ed25519 -c "$c"
done
for m in $macs; do
	ferry_to_sshd MAC "$m" "$edpub" -h ssh-ed25519 -c aes128-ctr -m "$m"
done
# Rekeying with OpenSSH needs an authenticated session: OpenSSH refuses
# KEXINIT during user authentication.  The in-memory tests cover rekeys.
# A wrong host key must be refused.
"$probe" client "$SSHD_PORT" "$keydir/host_ed25519.pub" -h ssh-ed25519 >"$TMP/probe.out" 2>&1
ok "$([ $? -ne 0 ] && grep -q 'host key verification failed' "$TMP/probe.out"; echo $?)" \
    "Ferry refuses a host key that does not match"
done_testing
