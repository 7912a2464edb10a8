#!/usr/bin/env bash
# A connection handed from engine to engine (transport_export and
# transport_import, as fsshd's privilege separation does) while OpenSSH's
# ssh talks to it: ssh-probe -H moves the server's connection to a fresh
# engine whenever it is idle, and -S gives it public host keys only with
# the signature made by the hostkey_sign callback.  Every host key
# algorithm, cipher and MAC must still get through key exchange, the
# service request and authentication attempts; then Ferry's own client,
# handed over too, rekeys across the hand-overs.
. "$top_srcdir/tests/regress/lib.sh"
require_cmd ssh ssh-keygen
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
hkalgs="ssh-ed25519 ecdsa-sha2-nistp256 ecdsa-sha2-nistp384 ecdsa-sha2-nistp521 rsa-sha2-512
rsa-sha2-256 ssh-rsa"
ciphers="chacha20-poly1305@openssh.com aes128-gcm@openssh.com aes256-gcm@openssh.com
aes128-ctr aes192-ctr aes256-ctr"
macs="hmac-sha2-256-etm@openssh.com hmac-sha2-512-etm@openssh.com hmac-sha2-256 hmac-sha2-512
umac-64-etm@openssh.com umac-128-etm@openssh.com umac-64@openssh.com umac-128@openssh.com
hmac-sha1 hmac-sha1-etm@openssh.com"
all() { echo $* | tr ' ' ','; }
nhk=$(echo $hkalgs | wc -w); nc=$(echo $ciphers | wc -w); nm=$(echo $macs | wc -w)
total=$((nhk + nc + nm + 1))

"$probe" server "$TMP/port" -H -S -n "$total" -h "$(all $hkalgs)" \
    -c "$(all $ciphers)" -m "$(all $macs)" -z none,zlib@openssh.com \
    "${hostkeys[@]}" >"$TMP/server.out" 2>"$TMP/server.err" &
track_pid $!
wait_file "$TMP/port"
port=$(cat "$TMP/port")
[ -n "$port" ] || skip_all "ssh-probe server did not start"
: >"$TMP/known"
for k in "${hostkeys[@]}"; do
	echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$k.pub")" >>"$TMP/known"
done

ssh_to_ferry() { # what value extra-ssh-options...
	local what=$1 val=$2
	shift 2
	ssh -F /dev/null -v -p "$port" -o BatchMode=yes -o StrictHostKeyChecking=yes \
	    -o UserKnownHostsFile="$TMP/known" -o ConnectTimeout=60 "$@" \
	    probe@127.0.0.1 true >"$TMP/ssh.out" 2>&1
	if grep -q "Permission denied (publickey,password)" "$TMP/ssh.out" &&
	    grep -q "SSH2_MSG_SERVICE_ACCEPT received" "$TMP/ssh.out" &&
	    grep -qE "(kex: host key algorithm|kex: server->client cipher): .*$val" "$TMP/ssh.out"; then
		ok 0 "ssh -> handed-over Ferry: $what $val"
	else
		ok 1 "ssh -> handed-over Ferry: $what $val"
		grep -E "kex:|Permission|rror|Connection|failed|invalid" "$TMP/ssh.out" |
		    head -5 | sed 's/^/#   /'
	fi
}
for h in $hkalgs; do
	ssh_to_ferry "host key signed by callback" "$h" -o HostKeyAlgorithms="$h"
done
for c in $ciphers; do
	ssh_to_ferry cipher "$c" -o Ciphers="$c"
done
for m in $macs; do
	ssh_to_ferry MAC "$m" -o Ciphers=aes128-ctr -o MACs="$m"
done

# Ferry's client, handed over as well, rekeys before its service request.
"$probe" client "$port" "$keydir/host_ed25519.pub" -H -R -h ssh-ed25519 \
    >"$TMP/probe.out" 2>&1
res=$([ $? -eq 0 ] && [ "$(grep -c '^kex ' "$TMP/probe.out")" -eq 2 ] &&
    grep -q '^auth methods publickey' "$TMP/probe.out" &&
    grep -qE '^handovers [1-9]' "$TMP/probe.out"; echo $?)
ok "$res" "Ferry client -> Ferry server, both handed over, rekeyed in between"
[ "$res" -eq 0 ] || sed 's/^/#   /' "$TMP/probe.out" | head -8

wait_log "$TMP/server.out" '^handovers' "$total"
ok "$([ "$(grep -cE '^handovers ([2-9]|[1-9][0-9]+)$' "$TMP/server.out")" -eq "$total" ]; echo $?)" \
    "every connection was handed over at least twice ($total connections)"
grep -E '^handovers' "$TMP/server.out" | sort | uniq -c | sed 's/^/#   /'
ok "$([ "$(grep -c '^kex ' "$TMP/server.out")" -eq $((total + 1)) ]; echo $?)" \
    "the server completed every key exchange, the rekey too"
done_testing
