#!/usr/bin/env bash
# Certificates between fssh-keygen and OpenSSH: ssh-keygen -L and
# fssh-keygen -L print the same for certificates either one signed (every
# key type, Ed25519, ECDSA and RSA CAs, user and host, options,
# validity forms), the same messages and exit statuses when signing and
# on errors; then OpenSSH's sshd accepts a user certificate signed by
# fssh-keygen (and refuses expired, not yet valid and wrong-principal
# ones), and ssh accepts a host certificate signed by fssh-keygen.
. "${top_srcdir:-.}/tests/regress/lib.sh"
. "${top_srcdir:-.}/tests/regress/keygen-lib.sh"
keygen_setup

for t in ed25519 ecdsa rsa; do
	ssh-keygen -q -t $t -N '' -C "ca-$t" -f ca-$t || exit 1
done
for t in ed25519 "ecdsa -b 256" "ecdsa -b 384" "ecdsa -b 521" "rsa -b 2048"; do
	n=$(echo "$t" | tr -d ' -')
	ssh-keygen -q -t $t -N '' -C "key $n" -f key-$n || exit 1
done
KEYS="ed25519 ecdsab256 ecdsab384 ecdsab521 rsab2048"

# sign TOOL OUT CA KEY ARGS...: sign KEY.pub into OUT-cert.pub.
sign() {
	local tool=$1 out=$2 ca=$3 key=$4
	shift 4
	cp "$key.pub" "$out.pub"
	"$tool" -s "$ca" "$@" "$out.pub" 2>"$out.err"
}

# Both tools sign with the same arguments; each -L output must match
# the other tool's, and the messages must be the same.
for ca in ed25519 ecdsa rsa; do
	for k in $KEYS; do
		args=(-I "id $k" -n "alice,bob" -z 9 -V 20200101Z:20991231Z)
		sign "$K" f-$ca-$k ca-$ca key-$k "${args[@]}"
		ok $? "fssh-keygen signs a $k key with a $ca CA"
		sign ssh-keygen o-$ca-$k ca-$ca key-$k "${args[@]}"
		same "$k/$ca: ssh-keygen -L reads the certificate" \
		    "$(ssh-keygen -L -f f-$ca-$k-cert.pub | sed 1d)" \
		    "$(ssh-keygen -L -f o-$ca-$k-cert.pub | sed 1d)"
		same "$k/$ca: fssh-keygen -L as ssh-keygen -L" \
		    "$("$K" -L -f o-$ca-$k-cert.pub 2>&1)" \
		    "$(ssh-keygen -L -f o-$ca-$k-cert.pub 2>&1)"
		same "$k/$ca: the signing message" \
		    "$(sed "s/f-$ca/X/" f-$ca-$k.err)" \
		    "$(sed "s/o-$ca/X/" o-$ca-$k.err)"
	done
done

# Options, host certificates, signature algorithms, validity forms.
cases=(
	"-I host -h -n host1.example.com,*.example.org"
	"-I opts -n alice -O force-command=/usr/bin/true -O source-address=192.0.2.0/24,::1/128 -O no-pty -O no-x11-forwarding"
	"-I clear -n alice -O clear -O permit-pty"
	"-I rsa256 -t rsa-sha2-256"
	"-I always -V always:20300101"
	"-I forever -V 20200101123456:forever"
	"-I none"
	"-I quote\"d -z 18446744073709551615"
)
i=0
for c in "${cases[@]}"; do
	i=$((i + 1))
	ca=ca-ed25519
	case "$c" in *rsa256*) ca=ca-rsa ;; esac
	# shellcheck disable=SC2086
	sign "$K" fc$i $ca key-ecdsab256 $c
	# shellcheck disable=SC2086
	sign ssh-keygen oc$i $ca key-ecdsab256 $c
	same "fssh-keygen $c: the same certificate" \
	    "$(ssh-keygen -L -f fc$i-cert.pub | sed 1d)" \
	    "$(ssh-keygen -L -f oc$i-cert.pub | sed 1d)"
	same "fssh-keygen $c: the same message" \
	    "$(sed 's/fc/X/' fc$i.err)" "$(sed 's/oc/X/' oc$i.err)"
	same "fssh-keygen -L $c" "$("$K" -L -f oc$i-cert.pub 2>&1)" \
	    "$(ssh-keygen -L -f oc$i-cert.pub 2>&1)"
done
# Relative validity: compare the interval, not the moment.
sign "$K" rel ca-ed25519 key-ed25519 -I rel -V -1d:+52w
ok $? "-V -1d:+52w"
from=$(ssh-keygen -L -f rel-cert.pub | sed -n 's/.*Valid: from \(.*\) to \(.*\)/\1/p')
to=$(ssh-keygen -L -f rel-cert.pub | sed -n 's/.*Valid: from \(.*\) to \(.*\)/\2/p')
ok "$([ $(( $(date -d "$to" +%s) - $(date -d "$from" +%s) )) -eq $((53 * 7 * 86400 - 6 * 86400)) ]; echo $?)" \
    "-1d:+52w spans 52 weeks and a day"
sign "$K" plus ca-ed25519 key-ed25519 -I plus -V +1h
from=$(ssh-keygen -L -f plus-cert.pub | sed -n 's/.*Valid: from \(.*\) to .*/\1/p')
ok "$([ "${from: -2}" = 00 ] && [ $(( $(date +%s) - $(date -d "$from" +%s) )) -le 121 ]; echo $?)" \
    "+1h starts at a minute boundary just before now"

# Errors, as ssh-keygen.
status_same() {
	local what=$1 a b
	shift
	"$K" "$@" >/dev/null 2>&1 </dev/null
	a=$?
	ssh-keygen "$@" >/dev/null 2>&1 </dev/null
	b=$?
	same "$what: exit status" "$a" "$b"
}
cp key-ed25519.pub e.pub
status_same "no -I" -s ca-ed25519 e.pub
status_same "no file" -s ca-ed25519 -I x
status_same "missing CA" -s nonexistent -I x e.pub
status_same "missing key" -s ca-ed25519 -I x nonexistent.pub
status_same "bad validity" -s ca-ed25519 -I x -V bogus e.pub
status_same "bad relative validity" -s ca-ed25519 -I x -V +1x e.pub
status_same "empty interval" -s ca-ed25519 -I x -V 20300101:20200101 e.pub
status_same "bad serial" -s ca-ed25519 -I x -z abc e.pub
status_same "bad option" -s ca-ed25519 -I x -O bogus e.pub
status_same "-L on a plain key" -L -f e.pub
status_same "-L on a missing file" -L -f nonexistent
"$K" -L -f e.pub 2>err >/dev/null
same "-L on a plain key: message" "$(cat err)" "$(ssh-keygen -L -f e.pub 2>&1)"

# OpenSSH's sshd and ssh accept certificates fssh-keygen signed.
if [ ! -x /usr/sbin/sshd ] || ! command -v ssh >/dev/null; then
	skip "OpenSSH's sshd and ssh are not installed"
	done_testing
	exit 0
fi
me=$(id -un)
openssh_sshd_setup "TrustedUserCAKeys $TMP/ca-ed25519.pub" \
    "HostCertificate $TMP/sshd/host_ed25519-cert.pub"
: >"$TMP/sshd/authorized_keys"
"$K" -q -s ca-rsa -I host -h -n localhost,127.0.0.1 \
    "$TMP/sshd/host_ed25519.pub" || exit 1
echo "@cert-authority [127.0.0.1]:$SSHD_PORT $(cat ca-rsa.pub)" \
    >"$TMP/known_hosts"
openssh_sshd_start || skip_all "sshd did not start"
login() {
	ssh "${SSH_OPTS[@]}" -o "CertificateFile=$TMP/$1" \
	    -p "$SSHD_PORT" "$me@127.0.0.1" echo logged-in 2>/dev/null
}
cp "$TMP/id_ed25519.pub" c1.pub
"$K" -q -s ca-ed25519 -I good -n "$me" -V -5m:+1h c1.pub
same "sshd accepts a user certificate from fssh-keygen (host certificate checked by ssh)" \
    "$(login c1-cert.pub)" "logged-in"
cp "$TMP/id_ed25519.pub" c2.pub
"$K" -q -s ca-ed25519 -I other -n "nobody-$me" c2.pub
same "sshd refuses a certificate for another principal" \
    "$(login c2-cert.pub)" ""
cp "$TMP/id_ed25519.pub" c3.pub
"$K" -q -s ca-ed25519 -I old -n "$me" -V 20200101:20210101 c3.pub
same "sshd refuses an expired certificate" "$(login c3-cert.pub)" ""
cp "$TMP/id_ed25519.pub" c4.pub
"$K" -q -s ca-ed25519 -I later -n "$me" -V +1d:+2d c4.pub
same "sshd refuses a certificate not yet valid" "$(login c4-cert.pub)" ""
cp "$TMP/id_ed25519.pub" c5.pub
"$K" -q -s ca-rsa -I wrongca -n "$me" c5.pub
same "sshd refuses a certificate from another CA" "$(login c5-cert.pub)" ""
done_testing
