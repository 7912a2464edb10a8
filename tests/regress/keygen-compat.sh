#!/usr/bin/env bash
# fssh-keygen against OpenSSH's ssh-keygen, for every key type: keys
# Ferry writes (plain and encrypted) are read by ssh-keygen with equal
# public keys and fingerprints, and the reverse, including PEM and
# PKCS#8 files; -p and -c keep the key; -e/-i round trip; -l, -l -E md5
# and -lv print exactly what ssh-keygen prints.
. "${top_srcdir:-.}/tests/regress/lib.sh"
. "${top_srcdir:-.}/tests/regress/keygen-lib.sh"
keygen_setup

# quiet COMMAND...: run it with its output discarded.
quiet() { "$@" >/dev/null 2>&1; }

# Fingerprint outputs of a public key file, by both programs.
compare_fp() {
	local what=$1 f=$2
	same "$what: -l" "$("$K" -l -f "$f" 2>&1)" "$(ssh-keygen -l -f "$f" 2>&1)"
	same "$what: -l -E md5" "$("$K" -l -E md5 -f "$f" 2>&1)" \
	    "$(ssh-keygen -l -E md5 -f "$f" 2>&1)"
	same "$what: -lv randomart" "$("$K" -lv -f "$f" 2>&1)" \
	    "$(ssh-keygen -lv -f "$f" 2>&1)"
}

for spec in ed25519: ecdsa:256 ecdsa:384 ecdsa:521 rsa:2048 rsa:; do
	t=${spec%%:*}
	b=${spec#*:}
	n=$t$b
	bits=()
	[ -n "$b" ] && bits=(-b "$b")

	# Ferry writes, OpenSSH reads.
	check "$n: fssh-keygen generates" \
	    "$K" -q -t "$t" "${bits[@]}" -N '' -C "ferry $n" -f "f_$n"
	same "$n: ssh-keygen -y on a Ferry key gives its .pub" \
	    "$(cat "f_$n.pub")" "$(ssh-keygen -y -f "f_$n" 2>&1)"
	compare_fp "$n Ferry .pub" "f_$n.pub"
	same "$n: -l on the private file" "$("$K" -l -f "f_$n" 2>&1)" \
	    "$(ssh-keygen -l -f "f_$n" 2>&1)"
	check "$n: fssh-keygen generates encrypted" \
	    "$K" -q -t "$t" "${bits[@]}" -N 'ferry pw' -C "enc $n" -f "fe_$n"
	same "$n: ssh-keygen decrypts a Ferry key" \
	    "$(cat "fe_$n.pub")" "$(ssh-keygen -y -P 'ferry pw' -f "fe_$n" 2>&1)"
	check_fails "$n: ssh-keygen refuses the wrong passphrase" \
	    ssh-keygen -y -P 'ferry pX' -f "fe_$n"

	# OpenSSH writes, Ferry reads.
	ssh-keygen -q -t "$t" "${bits[@]}" -N '' -C "openssh $n" -f "o_$n"
	same "$n: fssh-keygen -y on an OpenSSH key" \
	    "$("$K" -y -f "o_$n" 2>&1)" "$(ssh-keygen -y -f "o_$n" 2>&1)"
	compare_fp "$n OpenSSH .pub" "o_$n.pub"
	mv "o_$n.pub" "o_$n.pub.away"
	same "$n: -l on an OpenSSH private key without its .pub" \
	    "$("$K" -l -f "o_$n" 2>&1)" "$(ssh-keygen -l -f "o_$n" 2>&1)"
	mv "o_$n.pub.away" "o_$n.pub"
	ssh-keygen -q -t "$t" "${bits[@]}" -N 'open pw' -C "oe $n" -f "oe_$n"
	same "$n: fssh-keygen decrypts an OpenSSH key" \
	    "$("$K" -y -P 'open pw' -f "oe_$n" 2>&1)" \
	    "$(ssh-keygen -y -P 'open pw' -f "oe_$n" 2>&1)"
	"$K" -y -P 'wrong pw' -f "oe_$n" >out 2>err
	st=$?
	ok "$([ "$st" -eq 255 ] && [ ! -s out ] &&
	    grep -q 'passphrase is wrong' err; echo $?)" \
	    "$n: wrong passphrase: exit 255, a clean message (got $st: $(cat err))"
	same "$n: -l on an encrypted private key" \
	    "$("$K" -l -f "oe_$n" 2>&1)" "$(ssh-keygen -l -f "oe_$n" 2>&1)"

	if [ "$t" != ed25519 ]; then
		for fmt in PEM PKCS8; do
			ssh-keygen -q -t "$t" "${bits[@]}" -m "$fmt" -N '' \
			    -f "p_$n$fmt"
			same "$n: fssh-keygen -y on $fmt" \
			    "$("$K" -y -f "p_$n$fmt" 2>&1)" \
			    "$(ssh-keygen -y -f "p_$n$fmt" 2>&1)"
			ssh-keygen -q -t "$t" "${bits[@]}" -m "$fmt" \
			    -N 'pem pass' -f "pe_$n$fmt"
			same "$n: fssh-keygen -y on encrypted $fmt" \
			    "$("$K" -y -P 'pem pass' -f "pe_$n$fmt" 2>&1)" \
			    "$(ssh-keygen -y -P 'pem pass' -f "pe_$n$fmt" 2>&1)"
			"$K" -y -P 'pem pasX' -f "pe_$n$fmt" >/dev/null 2>&1
			ok "$([ $? -eq 255 ]; echo $?)" \
			    "$n: encrypted $fmt, wrong passphrase: exit 255"
		done
	fi

	# -p keeps the key, changes the passphrase.
	before=$(ssh-keygen -y -P 'ferry pw' -f "fe_$n")
	check "$n: -p changes the passphrase" \
	    quiet "$K" -p -P 'ferry pw' -N 'second pw' -f "fe_$n"
	same "$n: after -p ssh-keygen reads the same key" \
	    "$(ssh-keygen -y -P 'second pw' -f "fe_$n" 2>&1)" "$before"
	check_fails "$n: after -p the old passphrase fails" \
	    ssh-keygen -y -P 'ferry pw' -f "fe_$n"
	"$K" -p -P 'nope nope' -N x -f "fe_$n" >/dev/null 2>&1
	ok "$([ $? -eq 255 ]; echo $?)" "$n: -p with a wrong old passphrase: exit 255"
	check "$n: -p on an OpenSSH key" quiet "$K" -p -P 'open pw' -N '' -f "oe_$n"
	same "$n: after -p the OpenSSH key is plain and the same" \
	    "$(ssh-keygen -y -f "oe_$n" 2>&1)" "$(cat "oe_$n.pub")"

	# -c keeps the key, changes the comment in both files.
	keypart=$(cut -d' ' -f1,2 "o_$n.pub")
	check "$n: -c changes the comment" quiet "$K" -c -C "new $n" -f "o_$n"
	pub=$(ssh-keygen -y -f "o_$n")
	same "$n: after -c ssh-keygen sees the same key, new comment" "$pub" \
	    "$keypart new $n"
	same "$n: after -c the .pub matches" "$(cat "o_$n.pub")" "$pub"

	# -e / -i.
	same "$n: -e identical to ssh-keygen -e" "$("$K" -e -f "o_$n.pub" 2>&1)" \
	    "$(ssh-keygen -e -f "o_$n.pub" 2>&1)"
	"$K" -e -f "f_$n.pub" >"f_$n.4716"
	same "$n: ssh-keygen -i reads Ferry's RFC 4716" \
	    "$(ssh-keygen -i -f "f_$n.4716" 2>&1)" "$(cut -d' ' -f1,2 "f_$n.pub")"
	ssh-keygen -e -f "o_$n.pub" >"o_$n.4716"
	same "$n: fssh-keygen -i reads OpenSSH's RFC 4716" \
	    "$("$K" -i -f "o_$n.4716" 2>&1)" "$(ssh-keygen -i -f "o_$n.4716")"
	same "$n: -e from the private file" "$("$K" -e -f "f_$n" 2>&1)" \
	    "$(ssh-keygen -e -f "f_$n" 2>&1)"
	for fmt in PKCS8 PEM; do
		"$K" -e -m "$fmt" -f "o_$n.pub" >"fx_$n.$fmt" 2>/dev/null
		fst=$?
		ssh-keygen -e -m "$fmt" -f "o_$n.pub" >"ox_$n.$fmt" 2>/dev/null
		ost=$?
		ok "$([ "$fst" -eq "$ost" ] && cmp -s "fx_$n.$fmt" \
		    "ox_$n.$fmt"; echo $?)" \
		    "$n: -e -m $fmt as ssh-keygen (exit $ost)"
		[ "$ost" -eq 0 ] || continue
		# ssh-keygen cannot -i -m PEM its own ECDSA export: compare
		# the output when it succeeds, else the exit status.
		want=$(ssh-keygen -i -m "$fmt" -f "ox_$n.$fmt" 2>/dev/null)
		ost=$?
		got=$("$K" -i -m "$fmt" -f "ox_$n.$fmt" 2>/dev/null)
		fst=$?
		if [ "$ost" -eq 0 ]; then
			same "$n: fssh-keygen -i -m $fmt" "$got" "$want"
		else
			ok "$([ "$fst" -eq "$ost" ]; echo $?)" \
			    "$n: -i -m $fmt fails as ssh-keygen (exit $ost)"
		fi
	done
done

# Other ciphers OpenSSH can write (-Z).
for c in aes128-ctr aes256-cbc aes256-gcm@openssh.com; do
	ssh-keygen -q -t ed25519 -N 'zz pass' -Z "$c" -a 4 -f "z_$c"
	same "OpenSSH -Z $c read" "$("$K" -y -P 'zz pass' -f "z_$c" 2>&1)" \
	    "$(cat "z_$c.pub")"
	"$K" -q -t ed25519 -N 'zz pass' -Z "$c" -a 4 -f "fz_$c"
	same "Ferry -Z $c read by OpenSSH" \
	    "$(ssh-keygen -y -P 'zz pass' -f "fz_$c" 2>&1)" "$(cat "fz_$c.pub")"
done
done_testing
