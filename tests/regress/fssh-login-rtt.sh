#!/usr/bin/env bash
# Round trips at login: fssh runs `true` through a relay that counts the
# client's flights (login-relay.py), against fsshd and OpenSSH's sshd.
# Each flight after the first is a round trip the client waited for; the
# bounds are what the pipelined login achieves (main before it: 8
# against fsshd, 9 against sshd).  No timing is measured.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"
require_root
require_cmd ssh-keygen setpriv useradd userdel /usr/bin/python3
FSSH=$(ferry_bin fssh)
FSSHD=$(ferry_bin fsshd)
RELAY=$top_srcdir/tests/regress/login-relay.py
[ -x "$FSSH" ] && [ -x "$FSSHD" ] || skip_all "fssh or fsshd not built"

# flights PORT COUNTFILE FSSH-ARGS...: run fssh through a fresh relay.
flights() {
	local port=$1 count=$2 pf=$TMP/relay.port
	shift 2
	rm -f "$pf" "$count"
	/usr/bin/python3 "$RELAY" "$pf" "$port" "$count" &
	local rpid=$!
	for _ in $(seq 100); do [ -s "$pf" ] && break; sleep 0.05; done
	timeout 60 "$FSSH" -F /dev/null -o StrictHostKeyChecking=yes \
	    -o BatchMode=yes -p "$(cat "$pf")" "$@" true
	local rc=$?
	wait "$rpid"
	return $rc
}
nflights() { sed -n 's/^flights //p' "$1"; }

user=ferry-rtt$$
home=$TMP/home
useradd -M -d "$home" -s /bin/sh -p '*' "$user" || skip_all "cannot create a test user"
at_exit "userdel $user"
mkdir -p "$home/.ssh"
ssh-keygen -q -t ed25519 -N '' -f "$TMP/id" </dev/null
cp "$TMP/id.pub" "$home/.ssh/authorized_keys"
chown -R "$user:" "$home"
chmod 700 "$home" "$home/.ssh"
port=$(free_port)
setpriv --reuid="$user" --regid="$user" --init-groups env -i HOME="$home" \
    PATH=/usr/bin:/bin "$FSSHD" -p "$port" >"$TMP/server.log" 2>&1 &
track_pid $!
wait_port "$port"
keyfile=$home/.local/state/ferry/ssh_host_ed25519_key
echo "[127.0.0.1]:* $(cut -d' ' -f1,2 "$keyfile.pub")" >"$TMP/known"
common=(-o UserKnownHostsFile="$TMP/known" -o IdentitiesOnly=yes
    -o IdentityAgent=none -l "$user")

flights "$port" "$TMP/c1" "${common[@]}" -i "$TMP/id" 127.0.0.1
rc=$?
n=$(nflights "$TMP/c1")
diag "fsshd: $(cat "$TMP/c1" | tr '\n' ' ')"
ok "$( [ $rc -eq 0 ] && [ "${n:-99}" -le "${MAX_FSSHD:-99}" ]; echo $?)" \
    "fsshd, ed25519 key: $n flights"

openssh_sshd_setup
openssh_sshd_start
sed 's/^[^ ]*/[127.0.0.1]:*/' "$TMP/known_hosts" >"$TMP/known2"
flights "$SSHD_PORT" "$TMP/c2" -o UserKnownHostsFile="$TMP/known2" \
    -o IdentitiesOnly=yes -o IdentityAgent=none -i "$TMP/id_ed25519" \
    -l "$(id -un)" 127.0.0.1
rc=$?
n=$(nflights "$TMP/c2")
diag "sshd: $(cat "$TMP/c2" | tr '\n' ' ')"
ok "$( [ $rc -eq 0 ] && [ "${n:-99}" -le "${MAX_SSHD:-99}" ]; echo $?)" \
    "OpenSSH sshd, ed25519 key: $n flights"
done_testing
