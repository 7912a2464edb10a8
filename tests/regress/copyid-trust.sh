#!/usr/bin/env bash
# The passwordless-trust scenario, as root, against OpenSSH's sshd and
# against fsshd in configuration mode: a password-only account without
# ~/.ssh, a fresh key from fssh-keygen, fssh-copy-id with the password
# (SSH_ASKPASS), then key logins with no password by fssh and by
# OpenSSH's ssh in batch mode; a second run adds nothing (and asks for
# no password); modes 700/600.  Also -n changes nothing, -i installs a
# chosen key, an existing file keeps its mode and gets a missing final
# newline, a symbolic link stays a link (the new lines are appended),
# a root-owned file in the user's ~/.ssh is refused, not replaced, an
# sftp-only account (ForceCommand internal-sftp) works, and a wrong
# password fails with exit status 1 and a clear message.
. "${top_srcdir:-.}/tests/regress/lib.sh"
require_root
require_cmd ssh sftp ssh-keygen useradd userdel chpasswd setsid
CID=$(ferry_bin fssh-copy-id)
KG=$(ferry_bin fssh-keygen)
FSSH=$(ferry_bin fssh)
FSSHD=$(ferry_bin fsshd)
for p in "$CID" "$KG" "$FSSH" "$FSSHD"; do
	[ -x "$p" ] || skip_all "$(basename "$p") is not built"
done
unset SSH_AUTH_SOCK

tag=$$
pass="cp-$tag-secret"
users="cpw$tag csf$tag"
mkdir -p "$TMP/homes"
for u in $users; do
	useradd -M -d "$TMP/homes/$u" -s /bin/sh "$u" ||
		skip_all "cannot create users"
	at_exit "userdel $u"
	echo "$u:$pass" | chpasswd
done

# The client: its own HOME, keys made by fssh-keygen.
export HOME=$TMP/client
mkdir -p "$HOME/.ssh" && chmod 700 "$HOME/.ssh"
for k in id_ed25519 key2 key3 key4 key5 key6; do
	"$KG" -q -t ed25519 -N '' -C "$k@copyid" -f "$HOME/.ssh/$k" ||
		skip_all "fssh-keygen failed"
done
touch -d '1 hour ago' "$HOME"/.ssh/key*.pub
printf '#!/bin/sh\necho "%s" >>"%s"\necho "%s"\n' x "$TMP/asked" "$pass" \
    >"$TMP/askpass"
printf '#!/bin/sh\necho wrong-password\n' >"$TMP/askpass-bad"
chmod 755 "$TMP/askpass" "$TMP/askpass-bad"
asked() { [ -f "$TMP/asked" ] && wc -l <"$TMP/asked" || echo 0; }

# Each server gets a fresh home for each account.
fresh_homes() {
	local u
	for u in $users; do
		rm -rf "$TMP/homes/$u"
		mkdir -p "$TMP/homes/$u"
		chown "$u:" "$TMP/homes/$u"
		chmod 755 "$TMP/homes/$u"
	done
}

mode() { stat -c '%a %U' "$1"; }

# copyid ASKPASS ARGS...: fssh-copy-id with the password from ASKPASS.
copyid() {
	local ap=$1
	shift
	SSH_ASKPASS=$ap SSH_ASKPASS_REQUIRE=force DISPLAY=:0 setsid -w \
	    timeout 60 "$CID" -F /dev/null -o "UserKnownHostsFile=$TMP/known" \
	    -o StrictHostKeyChecking=yes -o NumberOfPasswordPrompts=1 \
	    -o "IdentityFile=$HOME/.ssh/id_ed25519" -p "$port" "$@" \
	    </dev/null >"$TMP/out" 2>"$TMP/err"
}
# The options above as the suggested command shows them.
shown="-F '/dev/null' -o 'UserKnownHostsFile=$TMP/known' -o 'StrictHostKeyChecking=yes' -o 'NumberOfPasswordPrompts=1' -o 'IdentityFile=$HOME/.ssh/id_ed25519'"


# Key logins, no password possible.
fkey() {
	timeout 60 "$FSSH" -F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes \
	    -o "UserKnownHostsFile=$TMP/known" -i "$HOME/.ssh/$1" -p "$port" \
	    "$2@127.0.0.1" true </dev/null
}
okey() {
	timeout 60 ssh -F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes \
	    -o "UserKnownHostsFile=$TMP/known" -i "$HOME/.ssh/$1" -p "$port" \
	    "$2@127.0.0.1" true </dev/null
}
osftp() {
	echo pwd | timeout 60 sftp -F /dev/null -o BatchMode=yes \
	    -o IdentitiesOnly=yes -o "UserKnownHostsFile=$TMP/known" \
	    -i "$HOME/.ssh/$1" -P "$port" -b - "$2@127.0.0.1" >/dev/null 2>&1
}

# suite NAME: everything against the server listening on $port.
suite() {
	local s=$1 u=cpw$tag f n0 sum
	local h=$TMP/homes/$u ak=$TMP/homes/$u/.ssh/authorized_keys

	rm -f "$TMP/asked"
	fkey id_ed25519 "$u" 2>/dev/null
	ok "$([ $? -ne 0 ]; echo $?)" "$s: no key login before fssh-copy-id"

	copyid "$TMP/askpass" "$u@127.0.0.1"
	st=$?
	[ $st -eq 0 ] || diag "$(cat "$TMP/err")"
	ok "$([ $st -eq 0 ]; echo $?)" "$s: fssh-copy-id with the password succeeds"
	ok "$([ "$(asked)" -ge 1 ]; echo $?)" "$s: the password was asked for"
	grep -q '^Number of key(s) added: 1$' "$TMP/out"
	ok $? "$s: reports one key added"
	grep -qxF "Now try logging into the machine, with:   \"fssh $shown -p '$port' '$u@127.0.0.1'\"" "$TMP/out"
	ok $? "$s: suggests the fssh command line, options as given"
	grep -q "INFO: Source of key(s) to be installed: \"$HOME/.ssh/id_ed25519.pub\"" "$TMP/err"
	ok $? "$s: the default key is the newest ~/.ssh/id*.pub"
	ok "$([ "$(mode "$h/.ssh")" = "700 $u" ]; echo $?)" \
	    "$s: ~/.ssh created with mode 700, owned by the user"
	ok "$([ "$(mode "$ak")" = "600 $u" ]; echo $?)" \
	    "$s: authorized_keys created with mode 600, owned by the user"
	ok "$([ "$(cat "$ak")" = "$(cat "$HOME/.ssh/id_ed25519.pub")" ]; echo $?)" \
	    "$s: the file holds exactly the key line"
	ok "$([ -z "$(find "$h/.ssh" -name '*.ferry-*')" ]; echo $?)" \
	    "$s: no temporary file left"

	fkey id_ed25519 "$u"
	ok $? "$s: fssh -o BatchMode=yes logs in with the key, no password"
	okey id_ed25519 "$u"
	ok $? "$s: OpenSSH's ssh -o BatchMode=yes logs in with the key"

	n0=$(asked)
	copyid "$TMP/askpass" "$u@127.0.0.1"
	st=$?
	ok "$([ $st -eq 0 ]; echo $?)" "$s: a second run succeeds"
	grep -q 'WARNING: All keys were skipped because they already exist on the remote system.' "$TMP/err"
	ok $? "$s: second run: all keys skipped"
	ok "$([ "$(asked)" = "$n0" ]; echo $?)" \
	    "$s: second run: no password needed (the key logs in)"
	ok "$([ "$(grep -c . "$ak")" = 1 ]; echo $?)" \
	    "$s: second run: still exactly one line"

	sum=$(md5sum <"$ak")
	copyid "$TMP/askpass" -n -i "$HOME/.ssh/key2" "$u@127.0.0.1"
	st=$?
	ok "$([ $st -eq 0 ] && grep -q '^Would have added the following key(s):$' "$TMP/out" &&
	    grep -qF "$(cat "$HOME/.ssh/key2.pub")" "$TMP/out"; echo $?)" \
	    "$s: -n prints the key it would add"
	ok "$([ "$(md5sum <"$ak")" = "$sum" ]; echo $?)" "$s: -n changes nothing"

	copyid "$TMP/askpass" -i "$HOME/.ssh/key2" "$u@127.0.0.1"
	st=$?
	ok "$([ $st -eq 0 ] && grep -q '^Number of key(s) added: 1$' "$TMP/out"; echo $?)" \
	    "$s: -i KEY (without .pub) installs that key"
	ok "$([ "$(sed -n 2p "$ak")" = "$(cat "$HOME/.ssh/key2.pub")" ] &&
	    [ "$(grep -c . "$ak")" = 2 ]; echo $?)" "$s: -i: appended after the first key"
	fkey key2 "$u"
	ok $? "$s: -i: that key logs in"

	# An existing file: mode kept, missing final newline added.
	printf '# kept comment\n%s' "$(cat "$HOME/.ssh/id_ed25519.pub")" >"$ak"
	chmod 640 "$ak"
	chown "$u:" "$ak"
	copyid "$TMP/askpass" -i "$HOME/.ssh/key3.pub" "$u@127.0.0.1"
	st=$?
	ok "$([ $st -eq 0 ] && [ "$(mode "$ak")" = "640 $u" ]; echo $?)" \
	    "$s: an existing file keeps its mode (640)"
	ok "$([ "$(cat "$ak")" = "$(printf '# kept comment\n%s\n%s' \
	    "$(cat "$HOME/.ssh/id_ed25519.pub")" "$(cat "$HOME/.ssh/key3.pub")")" ]; echo $?)" \
	    "$s: old text kept, its missing newline added, the key appended"

	# A symbolic link stays one: the lines are appended to its target.
	mv "$ak" "$h/.ssh/real_keys"
	ln -s real_keys "$ak"
	chown -h "$u:" "$ak"
	copyid "$TMP/askpass" -i "$HOME/.ssh/key4.pub" "$u@127.0.0.1"
	st=$?
	ok "$([ $st -eq 0 ] && [ -L "$ak" ] &&
	    [ "$(tail -1 "$h/.ssh/real_keys")" = "$(cat "$HOME/.ssh/key4.pub")" ]; echo $?)" \
	    "$s: a symbolic link stays a link; the key goes to its target"

	# A file the user does not own (but whose directory the user
	# does): never replaced behind its owner's back.
	rm "$ak"
	cp "$h/.ssh/real_keys" "$ak"
	chown root: "$ak"
	chmod 644 "$ak"
	sum=$(md5sum <"$ak")
	copyid "$TMP/askpass" -i "$HOME/.ssh/key6.pub" "$u@127.0.0.1"
	st=$?
	ok "$([ $st -eq 1 ] && grep -q 'ERROR: open .ssh/authorized_keys: ' "$TMP/err"; echo $?)" \
	    "$s: a root-owned file: refused (exit 1), not replaced"
	ok "$([ "$(md5sum <"$ak")" = "$sum" ] && [ "$(mode "$ak")" = "644 root" ] &&
	    [ -z "$(find "$h/.ssh" -name '*.ferry-*')" ]; echo $?)" \
	    "$s: a root-owned file: unchanged, still root's, no temporary file"
	chown "$u:" "$ak"

	# A wrong password: exit 1 and the reason.
	copyid "$TMP/askpass-bad" -o PubkeyAuthentication=no \
	    -i "$HOME/.ssh/key5.pub" "$u@127.0.0.1"
	st=$?
	ok "$([ $st -eq 1 ] && grep -q 'Permission denied' "$TMP/err" &&
	    grep -q "ERROR: could not log in to $u@127.0.0.1" "$TMP/err"; echo $?)" \
	    "$s: a wrong password fails with exit 1 and a clear message"
	[ $st -eq 1 ] || diag "exit $st: $(cat "$TMP/err")"
	ok "$(! grep -qF "$(cut -d' ' -f2 "$HOME/.ssh/key5.pub")" "$h/.ssh/real_keys"; echo $?)" \
	    "$s: a wrong password installs nothing"

	# The sftp-only account.
	u=csf$tag
	copyid "$TMP/askpass" -s "$u@127.0.0.1"
	st=$?
	[ $st -eq 0 ] || diag "$(cat "$TMP/err")"
	ok "$([ $st -eq 0 ] && grep -q '^Number of key(s) added: 1$' "$TMP/out"; echo $?)" \
	    "$s: sftp-only account (ForceCommand internal-sftp): key installed"
	grep -qxF "Now try logging into the machine, with:   \"fsftp $shown -P '$port' '$u@127.0.0.1'\"" "$TMP/out"
	ok $? "$s: -s suggests fsftp (port as -P)"
	ok "$([ "$(mode "$TMP/homes/$u/.ssh")" = "700 $u" ] &&
	    [ "$(mode "$TMP/homes/$u/.ssh/authorized_keys")" = "600 $u" ]; echo $?)" \
	    "$s: sftp-only: modes 700/600"
	osftp id_ed25519 "$u"
	ok $? "$s: sftp-only: OpenSSH's sftp logs in with the key"
}

ssh-keygen -q -t ed25519 -N '' -f "$TMP/hostkey" </dev/null

# 1. OpenSSH's sshd.
fresh_homes
openssh_sshd_setup "PasswordAuthentication yes" \
    "AuthorizedKeysFile .ssh/authorized_keys" "Subsystem sftp internal-sftp"
printf 'Match User csf%s\n\tForceCommand internal-sftp\n' "$tag" >>"$SSHD_CONFIG"
port=$SSHD_PORT
echo "[127.0.0.1]:$port $(cat "$TMP/sshd/host_ed25519.pub")" >"$TMP/known"
if openssh_sshd_start; then
	suite sshd
	kill "$(cat "$TMP/sshd/sshd.pid")" 2>/dev/null
else
	skip "OpenSSH's sshd did not start"
fi

# 2. fsshd with an sshd_config.
fresh_homes
port=$(free_port)
cat >"$TMP/fsshd_config" <<EOC
Port $port
ListenAddress 127.0.0.1
HostKey $TMP/hostkey
PidFile $TMP/fsshd.pid
AuthorizedKeysFile .ssh/authorized_keys
PasswordAuthentication yes
KbdInteractiveAuthentication no
Subsystem sftp internal-sftp
LogLevel VERBOSE
Match User csf$tag
	ForceCommand internal-sftp
EOC
echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$TMP/hostkey.pub")" >"$TMP/known"
"$FSSHD" -f "$TMP/fsshd_config" -e 2>"$TMP/fsshd.log" &
track_pid $!
if wait_port "$port"; then
	suite fsshd
else
	skip "fsshd did not start"
fi
done_testing
