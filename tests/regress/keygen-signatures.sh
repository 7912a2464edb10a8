#!/usr/bin/env bash
# Signatures made by Ferry's key library verify in OpenSSH: the unit test
# program tests/unit/test-key writes SSHSIG files (PROTOCOL.sshsig) signed
# by new keys of every type (ECDSA several times, so r and s of varied
# lengths are seen; RSA with rsa-sha2-512 and rsa-sha2-256), and
# "ssh-keygen -Y check-novalidate" must accept each and refuse them for
# another message.
. "${top_srcdir:-.}/tests/regress/lib.sh"
require_cmd ssh-keygen
T=$top_builddir/tests/unit/test-key
[ -x "$T" ] || skip_all "tests/unit/test-key is not built"
cd "$TMP" || exit 1
FERRY_SSHSIG_DIR=$TMP "$T" >export.log 2>&1
ok $? "test-key exported signatures"
printf 'ferry signed message\n' >message
printf 'ferry signed messagE\n' >other
for t in ed25519 ecdsa256 ecdsa384 ecdsa521 rsa512 rsa256; do
	for sig in "$t"-*.sig; do
		ssh-keygen -Y check-novalidate -n ferry-test -f "$t.pub" \
		    -s "$sig" <message >out 2>&1
		ok $? "OpenSSH verifies $sig"
		! ssh-keygen -Y check-novalidate -n ferry-test -f "$t.pub" \
		    -s "$sig" <other >/dev/null 2>&1
		ok $? "OpenSSH refuses $sig for another message"
	done
done
done_testing
