#!/usr/bin/env bash
# ModuliFile before authentication, as root with OpenSSH's ssh: the
# pre-auth process is chrooted to an empty directory, so fsshd reads the
# moduli file at start and every connection's processes choose from that
# text.  A file holding one 3072-bit group gives that group to
# diffie-hellman-group-exchange-sha256 (ssh -vv: "bits set: N/3072";
# fsshd's DEBUG log names the file), also at a rekey after login; an
# unreadable ModuliFile is logged at start and the built-in groups serve.
. "$top_srcdir/tests/regress/lib.sh"
. "$top_srcdir/tests/regress/fsshd-lib.sh"
fsshd_require awk

u=gapmd$$
fsshd_user "$u" "$TMP/home" key
ssh-keygen -q -t ed25519 -N '' -f "$TMP/hostkey" </dev/null
# The one 3072-bit (size 3071) group of the Debian moduli seed.
awk '$5 == 3071' "$top_srcdir/tests/fuzz/corpus/moduli/debian" >"$TMP/moduli"
[ "$(wc -l <"$TMP/moduli")" -eq 1 ] || skip_all "no 3071 line in the moduli seed"

# start NAME MODULIFILE: an fsshd logging at DEBUG; sets $port.
start() {
	port=$(free_port)
	fsshd_config "$TMP/$1.conf" "$port" "$TMP/$1.pid" <<EOC
PerSourcePenalties no
UsePAM no
ModuliFile $2
LogLevel DEBUG
EOC
	fsshd_start "$TMP/$1.conf" "$TMP/$1.log" "$port"
	fsshd_known "$port"
}
gssh() {
	timeout 60 ssh -vv -F /dev/null -o UserKnownHostsFile="$TMP/known" -o BatchMode=yes \
	    -o IdentitiesOnly=yes -i "$TMP/key" \
	    -o KexAlgorithms=diffie-hellman-group-exchange-sha256 \
	    -p "$port" "$u@127.0.0.1" "$@" </dev/null 2>"$TMP/err"
	local rc=$?
	sed -i 's/\r$//' "$TMP/err"	# ssh -vv ends its lines with CR LF
	return $rc
}

start file "$TMP/moduli"
out=$(gssh 'echo ok')
ok "$( [ "$out" = ok ] && grep -q "bits set: [0-9]*/3072\$" "$TMP/err"; echo $?)" \
    "the group of ModuliFile before authentication: $(grep "bits set" "$TMP/err" | head -1)"
ok "$(grep -q "moduli: a 3072-bit group from $TMP/moduli (read at start) \[preauth\]" "$TMP/file.log"; echo $?)" \
    "fsshd's log names the file, read at start"
ok "$(! grep -q "moduli: cannot read" "$TMP/file.log"; echo $?)" \
    "the chrooted pre-auth process never tries to open it"
out=$(gssh -o RekeyLimit=16 'echo ok')
n=$(grep -c "bits set: [0-9]*/3072\$" "$TMP/err")
ok "$( [ "$out" = ok ] && [ "$n" -ge 2 ] && ! grep "bits set" "$TMP/err" | grep -qv "/3072\$"; echo $?)" \
    "and at rekeys after login ($n exchanges, all 3072 bits)"

start missing "$TMP/no-such-moduli"
ok "$(grep -q "ModuliFile $TMP/no-such-moduli: No such file or directory; group exchange uses the built-in groups" "$TMP/missing.log"; echo $?)" \
    "an unreadable ModuliFile is logged at start"
out=$(gssh 'echo ok')
ok "$( [ "$out" = ok ] && grep -q "bits set: [0-9]*/8192\$" "$TMP/err"; echo $?)" \
    "and a built-in group serves: $(grep "bits set" "$TMP/err" | head -1)"
done_testing
