#!/usr/bin/env bash
# HostCertificate: fsshd serves host keys signed by ssh-keygen -s ca -h.
# OpenSSH's ssh and fssh with a known_hosts holding only
# "@cert-authority * ca.pub" and StrictHostKeyChecking=yes accept it
# without a prompt and say the certificate algorithm; an expired
# certificate, one for other principals, or a server whose
# HostKeyAlgorithms leaves certificates out is refused by both; fsshd -t
# refuses a certificate for no host key and a user certificate, with file
# and line; fssh against OpenSSH's sshd with HostCertificate.
. "$top_srcdir/tests/regress/lib.sh"
require_root
require_cmd ssh ssh-keygen
FSSHD=$(ferry_bin fsshd)
FSSH=$(ferry_bin fssh)
[ -x "$FSSHD" ] && [ -x "$FSSH" ] || skip_all "fsshd or fssh not built"

me=$(id -un)
kg() { ssh-keygen -q "$@" </dev/null >/dev/null 2>&1; }
kg -t ed25519 -N '' -C ca -f "$TMP/ca"
kg -t ed25519 -N '' -f "$TMP/id"
kg -t ed25519 -N '' -f "$TMP/hk_ed"
kg -t rsa -b 2048 -N '' -f "$TMP/hk_rsa"
kg -t ecdsa -N '' -f "$TMP/hk_old"
kg -t ecdsa -N '' -f "$TMP/hk_other"
kg -t ed25519 -N '' -f "$TMP/stray"
kg -s "$TMP/ca" -h -I host -n 127.0.0.1,localhost -V -5m:+1h "$TMP/hk_ed.pub"
kg -s "$TMP/ca" -h -I host-rsa -n 127.0.0.1,localhost "$TMP/hk_rsa.pub"
kg -s "$TMP/ca" -h -I old -n 127.0.0.1 -V 20200101:20200102 "$TMP/hk_old.pub"
kg -s "$TMP/ca" -h -I other -n other.example "$TMP/hk_other.pub"
kg -s "$TMP/ca" -h -I stray -n 127.0.0.1 "$TMP/stray.pub"
kg -s "$TMP/ca" -I user -n "$me" "$TMP/id.pub"
cp "$TMP/id.pub" "$TMP/authorized_keys"
echo "@cert-authority * $(cat "$TMP/ca.pub")" >"$TMP/known_ca"

# conf NAME [lines...]: an fsshd_config in $TMP/NAME.conf on a free port
conf() {
	local n=$1 line
	shift
	port=$(free_port)
	{
		echo "Port $port"
		echo "ListenAddress 127.0.0.1"
		echo "PidFile $TMP/$n.pid"
		echo "UsePAM no"
		echo "StrictModes no"
		echo "PermitRootLogin yes"
		echo "PasswordAuthentication no"
		echo "KbdInteractiveAuthentication no"
		echo "AuthorizedKeysFile $TMP/authorized_keys"
		for line in "$@"; do echo "$line"; done
	} >"$TMP/$n.conf"
}
# start NAME: run fsshd with $TMP/NAME.conf, port in $port
start() {
	rm -f "$TMP/$1.pid"
	"$FSSHD" -f "$TMP/$1.conf" -D -e 2>"$TMP/$1.log" &
	track_pid $!
	# The pid file comes after every listener is open and logged.
	wait_port "$port" && wait_file "$TMP/$1.pid"
}
OPTS=(-F /dev/null -o GlobalKnownHostsFile=/dev/null
    -o StrictHostKeyChecking=yes -o BatchMode=yes -o IdentitiesOnly=yes
    -o IdentityFile="$TMP/id" -o CertificateFile=/dev/null)
# cli PROG NAME [options]: PROG -v to 127.0.0.1:$port running "echo ok",
# known hosts $KH (default: the CA line only); stdout in $TMP/NAME.out,
# stderr in $TMP/NAME.err
cli() {
	local prog=$1 n=$2
	shift 2
	timeout 60 "$prog" -v "${OPTS[@]}" -o UserKnownHostsFile="${KH:-$TMP/known_ca}" \
	    "$@" -p "$port" "$me@127.0.0.1" echo ok \
	    </dev/null >"$TMP/$n.out" 2>"$TMP/$n.err"
}
both() {
	cli ssh "$1-ssh" "${@:2}"
	cli "$FSSH" "$1-fssh" "${@:2}"
}
accepted() {
	[ "$(cat "$TMP/$1.out")" = ok ] && grep -q "$2" "$TMP/$1.err"
}
refused() {
	[ ! -s "$TMP/$1.out" ] && grep -q "Host key verification failed" "$TMP/$1.err"
}

# -t: a certificate for a key fsshd does not hold, a user certificate.
conf bad "HostKey $TMP/hk_ed" "HostCertificate $TMP/stray-cert.pub" \
    "HostCertificate $TMP/id-cert.pub"
"$FSSHD" -t -f "$TMP/bad.conf" 2>"$TMP/bad.err"
rc=$?
ok "$( [ $rc -ne 0 ] &&
    grep -q "$TMP/stray-cert.pub line 1: HostCertificate: the certified key ED25519 .* is not one of the host keys" "$TMP/bad.err" &&
    grep -q "$TMP/id-cert.pub line 1: HostCertificate: a user certificate" "$TMP/bad.err"; echo $?)" \
    "-t: a certificate for no host key and a user certificate are errors with file and line"
"$FSSHD" -f "$TMP/bad.conf" -D -e 2>"$TMP/bad-start.err"
ok "$( [ $? -ne 0 ] && grep -q "is not one of the host keys" "$TMP/bad-start.err"; echo $?)" \
    "and fsshd does not start"
echo "garbage" >"$TMP/garbage-cert.pub"
conf bad2 "HostKey $TMP/hk_ed" "HostCertificate $TMP/garbage-cert.pub" \
    "HostCertificate $TMP/missing-cert.pub"
"$FSSHD" -t -f "$TMP/bad2.conf" 2>"$TMP/bad2.err"
ok "$( [ $? -ne 0 ] && grep -q "garbage-cert.pub line 1: HostCertificate: not a valid certificate" "$TMP/bad2.err" &&
    grep -q "missing-cert.pub: HostCertificate: " "$TMP/bad2.err"; echo $?)" \
    "-t: a malformed and a missing certificate file are errors"

# The good server: two host keys, each with its certificate.
conf good "HostKey $TMP/hk_ed" "HostKey $TMP/hk_rsa" \
    "HostCertificate $TMP/hk_rsa-cert.pub" "HostCertificate $TMP/hk_ed-cert.pub"
"$FSSHD" -t -f "$TMP/good.conf" 2>"$TMP/good-t.err"
ok "$( [ $? -eq 0 ] && [ ! -s "$TMP/good-t.err" ]; echo $?)" "-t accepts certificates paired with their keys"
start good
both good
ok "$(accepted good-ssh "Server host certificate: ssh-ed25519-cert-v01@openssh.com" &&
    grep -q "matches the ED25519-CERT host certificate" "$TMP/good-ssh.err"; echo $?)" \
    "OpenSSH's ssh: only @cert-authority in known_hosts, StrictHostKeyChecking=yes: connects with the certificate"
ok "$(accepted good-fssh "host key ssh-ed25519-cert-v01@openssh.com" &&
    grep -q "Host certificate ED25519 ID \"host\" serial 0 signed by CA" "$TMP/good-fssh.err"; echo $?)" \
    "fssh: the same, negotiating ssh-ed25519-cert-v01@openssh.com"
both rsa -o HostKeyAlgorithms=rsa-sha2-512-cert-v01@openssh.com
ok "$(accepted rsa-ssh "Server host certificate: ssh-rsa-cert-v01@openssh.com" &&
    accepted rsa-fssh "host key rsa-sha2-512-cert-v01@openssh.com"; echo $?)" \
    "an RSA host certificate with rsa-sha2-512-cert-v01@openssh.com, both clients"
ok "$(! grep -qi "prompt\|yes/no\|Permanently added" "$TMP/good-ssh.err" "$TMP/good-fssh.err" &&
    [ "$(cat "$TMP/known_ca")" = "@cert-authority * $(cat "$TMP/ca.pub")" ]; echo $?)" \
    "no prompt and nothing added to known_hosts"
# Without the CA line, fssh asks for plain keys only.
echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$TMP/hk_ed.pub")" >"$TMP/known_plain"
KH=$TMP/known_plain cli "$FSSH" plain-fssh
ok "$(accepted plain-fssh "host key ssh-ed25519," && ! grep -q "@cert-authority entry names" "$TMP/plain-fssh.err"; echo $?)" \
    "fssh without a @cert-authority entry negotiates the plain key"

# Expired, other principals, certificates left out by HostKeyAlgorithms.
conf old "HostKey $TMP/hk_old" "HostCertificate $TMP/hk_old-cert.pub"
start old
both old
ok "$(refused old-ssh && grep -q "Certificate invalid: expired" "$TMP/old-ssh.err"; echo $?)" \
    "OpenSSH's ssh refuses an expired host certificate"
ok "$(refused old-fssh && grep -qi "Certificate invalid: .*expired" "$TMP/old-fssh.err"; echo $?)" \
    "fssh refuses an expired host certificate"
conf other "HostKey $TMP/hk_other" "HostCertificate $TMP/hk_other-cert.pub"
start other
both other
ok "$(refused other-ssh && grep -q "Certificate invalid: name is not a listed principal" "$TMP/other-ssh.err"; echo $?)" \
    "OpenSSH's ssh refuses a host certificate for other principals"
ok "$(refused other-fssh && grep -qi "Certificate invalid: .*principal" "$TMP/other-fssh.err"; echo $?)" \
    "fssh refuses a host certificate for other principals"
conf nocert "HostKey $TMP/hk_ed" "HostCertificate $TMP/hk_ed-cert.pub" \
    "HostKeyAlgorithms ssh-ed25519"
start nocert
both nocert
ok "$(refused nocert-ssh && refused nocert-fssh &&
    ! grep -q "cert-v01" "$TMP/nocert-ssh.err"; echo $?)" \
    "HostKeyAlgorithms without certificates: the plain key, unknown to both clients"

# fssh against OpenSSH's sshd with HostCertificate.
openssh_sshd_setup "HostCertificate $TMP/sshd/host_ed25519-cert.pub"
kg -s "$TMP/ca" -h -I sshd -n 127.0.0.1 "$TMP/sshd/host_ed25519.pub"
cp "$TMP/id.pub" "$TMP/sshd/authorized_keys"
openssh_sshd_start
port=$SSHD_PORT
cli "$FSSH" sshd-fssh
ok "$(accepted sshd-fssh "host key ssh-ed25519-cert-v01@openssh.com"; echo $?)" \
    "fssh accepts OpenSSH sshd's host certificate through @cert-authority"
done_testing
