#!/usr/bin/env bash
# User certificates signed by OpenSSH's ssh-keygen, offered by OpenSSH's
# ssh to fsshd (as root): TrustedUserCAKeys with the user's name as a
# principal, validity, force-command and source-address critical
# options, AuthorizedPrincipalsFile (in Match), an untrusted CA, and
# cert-authority lines in authorized_keys; each decision logged with the
# certificate's key, ID, serial and CA.
. "$top_srcdir/tests/regress/lib.sh"
. "$top_srcdir/tests/regress/fsshd-lib.sh"
fsshd_require

tag=$$
u=cert-$tag
u2=certp-$tag
u3=certa-$tag
for x in "$u" "$u2" "$u3"; do
	useradd -M -d "$TMP/homes/$x" -s /bin/sh -p '*' "$x" || skip_all "cannot create users"
	at_exit "userdel $x"
	mkdir -p "$TMP/homes/$x/.ssh"
	: >"$TMP/homes/$x/.ssh/authorized_keys"
done
ssh-keygen -q -t ed25519 -N '' -C ca -f "$TMP/ca" </dev/null
ssh-keygen -q -t ed25519 -N '' -C rogue -f "$TMP/rogue" </dev/null
echo "ops" >"$TMP/homes/$u2/.ssh/principals"
echo "cert-authority,principals=\"deploy\" $(cat "$TMP/rogue.pub")" >"$TMP/homes/$u3/.ssh/authorized_keys"
for x in "$u" "$u2" "$u3"; do chown -R "$x:" "$TMP/homes/$x"; done
# cert NAME CA [ssh-keygen signing options...]: key NAME with NAME-cert.pub
cert() {
	local n=$1 ca=$2
	shift 2
	ssh-keygen -q -t ed25519 -N '' -f "$TMP/$n" </dev/null
	ssh-keygen -q -s "$TMP/$ca" -I "id-$n" -z 7 "$@" "$TMP/$n.pub" 2>/dev/null
}
cert good ca -n "$u" -V -5m:+1h
cert other ca -n "someone-else"
cert expired ca -n "$u" -V 20200101:20200102
cert forced ca -n "$u" -O force-command="echo forced-by-cert"
cert source ca -n "$u" -O source-address=10.0.0.0/8
cert ops ca -n ops
cert rogue-cert rogue -n "$u"
cert deploy rogue -n deploy

ssh-keygen -q -t ed25519 -N '' -f "$TMP/hostkey" </dev/null
port=$(free_port)
fsshd_config "$TMP/fsshd_config" "$port" <<EOC
PerSourcePenalties no
UsePAM no
TrustedUserCAKeys $TMP/ca.pub
Match User $u2
	AuthorizedPrincipalsFile %h/.ssh/principals
EOC
fsshd_start "$TMP/fsshd_config" "$TMP/server.log" "$port"
fsshd_known "$port"
# kssh KEY USER [command]: ssh offers KEY-cert.pub first, then KEY
kssh() { fsshd_ssh 60 "$1" "$port" "$2" "${3:-id -un}" </dev/null 2>/dev/null; }

ok "$( [ "$(kssh good "$u")" = "$u" ]; echo $?)" "a certificate from TrustedUserCAKeys naming the user logs in"
fp=$(ssh-keygen -lf "$TMP/good.pub" | cut -d' ' -f2)
cafp=$(ssh-keygen -lf "$TMP/ca.pub" | cut -d' ' -f2)
ok "$(grep -q "Accepted publickey for $u from 127.0.0.1 port [0-9]* ssh2: ED25519-CERT $fp ID id-good (serial 7) CA ED25519 $cafp" \
    "$TMP/server.log"; echo $?)" "logged with the certificate's key, ID, serial and CA"
ok "$( [ -z "$(kssh other "$u")" ] && grep -q "refused for $u .*name is not a listed principal" "$TMP/server.log"; echo $?)" \
    "a certificate for another principal is refused, logged"
ok "$( [ -z "$(kssh expired "$u")" ]; echo $?)" "an expired certificate is refused"
ok "$( [ "$(kssh forced "$u" 'echo asked')" = forced-by-cert ]; echo $?)" "force-command of the certificate runs instead"
ok "$( [ -z "$(kssh source "$u")" ]; echo $?)" "source-address elsewhere is refused"
ok "$( [ -z "$(kssh rogue-cert "$u")" ]; echo $?)" "a certificate of an untrusted CA is refused"
ok "$( [ "$(kssh ops "$u2")" = "$u2" ]; echo $?)" "AuthorizedPrincipalsFile: a listed principal logs in"
ok "$( [ -z "$(kssh good "$u2")" ]; echo $?)" "AuthorizedPrincipalsFile: an unlisted principal is refused"
ok "$( [ "$(kssh deploy "$u3")" = "$u3" ] && [ -z "$(kssh rogue-cert "$u3")" ]; echo $?)" \
    "cert-authority,principals= in authorized_keys: its CA and principals"

done_testing
