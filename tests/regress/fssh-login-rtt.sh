#!/usr/bin/env bash
# Round trips at login: fssh runs `true` through a relay that counts the
# client's flights (login-relay.py), against fsshd and OpenSSH's sshd,
# with ed25519, RSA (rsa-sha2-256), ECDSA, agent and encrypted keys.
# Each flight after the first is a round trip the client waited for; the
# bounds are what the pipelined login achieves (before it: 9 against
# fsshd, 10 against sshd).  No timing is measured.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/fsshd-lib.sh"
fsshd_require setpriv /usr/bin/python3
FSSH=$(ferry_bin fssh)
[ -x "$FSSH" ] || skip_all "fssh not built"

# flights PORT COUNTFILE FSSH-ARGS...: run fssh through a fresh relay.
flights() {
	relay_flights "$1" "$2" -p "$FSSH" -o StrictHostKeyChecking=yes \
	    "${@:3}" true
}

user=ferry-rtt$$
home=$TMP/home
fsshd_embedded "$user" "$home" '*'
common=(-o UserKnownHostsFile="$TMP/known" -o IdentitiesOnly=yes -o BatchMode=yes
    -o IdentityAgent=none -l "$user")

flights "$port" "$TMP/c1" "${common[@]}" -i "$TMP/id" 127.0.0.1 2>/dev/null
rc=$?
n=$(nflights "$TMP/c1")
diag "fsshd: $(cat "$TMP/c1" | tr '\n' ' ')"
ok "$( [ $rc -eq 0 ] && [ "${n:-99}" -le 5 ]; echo $?)" \
    "fsshd, ed25519 key: $n flights (at most 5)"

# OpenSSH 9.2 prefers sntrup761x25519 (Ferry has not got it): the
# guessed packet is wrong, sshd ignores it, the client sends the right one.
openssh_sshd_setup
openssh_sshd_start
sed 's/^[^ ]*/[127.0.0.1]:*/' "$TMP/known_hosts" >"$TMP/known2"
me=$(id -un)
sopts=(-o UserKnownHostsFile="$TMP/known2" -l "$me")
# sshd_login NAME MAX FSSH-ARGS...: one login through the relay.
sshd_login() {
	local name=$1 max=$2 rc n
	shift 2
	flights "$SSHD_PORT" "$TMP/c.$name" "${sopts[@]}" -v "$@" 127.0.0.1 \
	    2>"$TMP/err.$name"
	rc=$?
	n=$(nflights "$TMP/c.$name")
	diag "sshd $name: $(tr '\n' ' ' <"$TMP/c.$name")"
	ok "$( [ $rc -eq 0 ] && [ "${n:-99}" -le "$max" ]; echo $?)" \
	    "OpenSSH sshd, $name: $n flights (at most $max)"
}
key=(-o BatchMode=yes -o IdentitiesOnly=yes -o IdentityAgent=none)
sshd_login ed25519 7 "${key[@]}" -i "$TMP/id_ed25519"
ok "$(grep -q 'guessed curve25519-sha256 packet is void' "$TMP/err.ed25519"; echo $?)" \
    "sshd ignores the wrong guess and the exchange goes on"

ssh-keygen -q -t rsa -b 2048 -N '' -f "$TMP/id_rsa" </dev/null
ssh-keygen -q -t ecdsa -N '' -f "$TMP/id_ecdsa" </dev/null
ssh-keygen -q -t ed25519 -N 'secret words' -f "$TMP/id_enc" </dev/null
ssh-keygen -q -t ed25519 -N '' -f "$TMP/id_agent" </dev/null
cat "$TMP/id_rsa.pub" "$TMP/id_ecdsa.pub" "$TMP/id_enc.pub" \
    "$TMP/id_agent.pub" >>"$TMP/sshd/authorized_keys"
# RSA waits for server-sig-algs, which comes with sshd's NEWKEYS.
sshd_login rsa 7 "${key[@]}" -i "$TMP/id_rsa"
ok "$(grep -q 'Accepted publickey.*RSA' "$TMP/sshd/sshd.log"; echo $?)" \
    "the RSA key signed with an rsa-sha2 algorithm"
sshd_login ecdsa 7 "${key[@]}" -i "$TMP/id_ecdsa"
printf '#!/bin/sh\necho "secret words"\n' >"$TMP/askpass"
chmod 755 "$TMP/askpass"
# An encrypted key is queried first: no passphrase asked for a key the
# server would refuse.  One round trip more.
SSH_ASKPASS=$TMP/askpass SSH_ASKPASS_REQUIRE=force DISPLAY=:0 \
    sshd_login encrypted 8 -o IdentitiesOnly=yes -o IdentityAgent=none \
    -i "$TMP/id_enc"
if command -v ssh-agent >/dev/null && command -v ssh-add >/dev/null; then
	agent_start "$TMP/agent.sock"
	SSH_AUTH_SOCK=$TMP/agent.sock ssh-add "$TMP/id_agent" 2>/dev/null
	sshd_login agent 7 -o BatchMode=yes -o IdentityAgent="$TMP/agent.sock"
else
	skip "ssh-agent is not installed"
fi
kill "$(cat "$TMP/sshd/sshd.pid")" 2>/dev/null

# Both sides prefer curve25519-sha256 and ssh-ed25519: the guess stands.
openssh_sshd_setup "KexAlgorithms curve25519-sha256"
openssh_sshd_start
sed 's/^[^ ]*/[127.0.0.1]:*/' "$TMP/known_hosts" >"$TMP/known2"
sshd_login right-guess 6 "${key[@]}" -i "$TMP/id_ed25519"
ok "$(grep -q 'guessed curve25519-sha256 packet stands' "$TMP/err.right-guess"; echo $?)" \
    "sshd takes the right guess"
done_testing
