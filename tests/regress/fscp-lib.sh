# Shared setup of the fscp regress tests (sourced after lib.sh):
# OpenSSH's sshd (internal-sftp) and fsshd in configuration mode for a
# test account $u (home $uh) that takes the test key; fsshd's port in
# $fport, both host keys in $TMP/known_hosts.  PREFIX names the account.
fscp_setup() {
	local prefix=$1
	require_root
	require_cmd ssh ssh-keygen useradd userdel
	FSCP=$(ferry_bin fscp)
	FSSHD=$(ferry_bin fsshd)
	[ -x "$FSCP" ] && [ -x "$FSSHD" ] || skip_all "fscp or fsshd not built"
	openssh_sshd_setup "Subsystem sftp internal-sftp"
	openssh_sshd_start
	tag=$prefix$$
	u=$prefix-$tag
	uh=$TMP/home-$u
	useradd -M -d "$uh" -s /bin/sh -p '*' "$u" ||
		skip_all "cannot create a test user"
	at_exit "userdel $u"
	mkdir -p "$uh/.ssh"
	cp "$TMP/id_ed25519.pub" "$uh/.ssh/authorized_keys"
	chown -R "$u:" "$uh"
	ssh-keygen -q -t ed25519 -N '' -f "$TMP/fhost" </dev/null
	fport=$(free_port)
	cat >"$TMP/fsshd_config" <<EOC
Port $fport
ListenAddress 127.0.0.1
HostKey $TMP/fhost
PidFile $TMP/fsshd.pid
AuthorizedKeysFile .ssh/authorized_keys
PasswordAuthentication no
Subsystem sftp internal-sftp
EOC
	"$FSSHD" -f "$TMP/fsshd_config" -e 2>"$TMP/fsshd.log" &
	track_pid $!
	wait_port "$fport"
	echo "[127.0.0.1]:$fport $(cut -d' ' -f1,2 "$TMP/fhost.pub")" \
	    >>"$TMP/known_hosts"
}

# fscp_ends NAME SIZE: after fscp_setup, the two ends of the -3 tests: F
# (fsshd, the test user's home) and S (sshd as root: "$S$A" is the
# absolute $A), and A=$TMP/a holding NAME, SIZE random bytes, with a
# copy of it in $uh owned by $u.
fscp_ends() {
	F=scp://$u@127.0.0.1:$fport
	S=scp://root@127.0.0.1:$SSHD_PORT/
	A=$TMP/a
	mkdir -p "$A"
	head -c "$2" /dev/urandom >"$A/$1"
	cp "$A/$1" "$uh/$1" && chown "$u:" "$uh/$1"
}
