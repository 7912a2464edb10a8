#!/usr/bin/env bash
# fssh-keygen's command line against ssh-keygen's: output of key
# generation, prompts and passphrases from standard input, overwrite
# confirmation, the default key type and file, -l on authorized_keys and
# known_hosts style files, errors and exit statuses, and the options that
# are refused (private keys in PEM format).
. "${top_srcdir:-.}/tests/regress/lib.sh"
. "${top_srcdir:-.}/tests/regress/keygen-lib.sh"
keygen_setup

# status DESCRIPTION WANT COMMAND...: COMMAND exits with WANT.
status() {
	local what=$1 want=$2 st
	shift 2
	"$@" >"$TMP/out" 2>"$TMP/err" </dev/null
	st=$?
	[ "$st" -eq "$want" ] || diag "exit $st, stderr: $(cat "$TMP/err")"
	ok "$([ "$st" -eq "$want" ]; echo $?)" "$what (exit $want)"
}

# Generation output, line by line, against ssh-keygen -l / -lv.
"$K" -t ed25519 -N '' -C 'gen out' -f gen >gen.out 2>gen.err
ok $? "generation succeeds"
same "generation prints nothing on stderr" "$(cat gen.err)" ""
same "generation output: first lines" "$(sed -n 1,4p gen.out)" \
"Generating public/private ed25519 key pair.
Your identification has been saved in gen
Your public key has been saved in gen.pub
The key fingerprint is:"
same "generation output: fingerprint line" "$(sed -n 5p gen.out)" \
    "$(ssh-keygen -l -f gen.pub | cut -d' ' -f2) gen out"
same "generation output: randomart" "$(sed -n '6,$p' gen.out)" \
    "The key's randomart image is:
$(ssh-keygen -lv -f gen.pub | sed 1d)"
ok "$([ "$(stat -c %a gen)" = 600 ] && [ "$(stat -c %a gen.pub)" = 644 ]; echo $?)" \
    "private key mode 600, public key mode 644"
"$K" -q -t ecdsa -N '' -f quiet >quiet.out 2>&1
ok "$([ $? -eq 0 ] && [ ! -s quiet.out ]; echo $?)" "-q prints nothing"

# Overwrite confirmation reads standard input.
before=$(cat gen.pub)
echo n | "$K" -q -t ed25519 -N '' -f gen >ow.out 2>&1
ok "$([ $? -eq 1 ]; echo $?)" "declined overwrite exits 1"
same "declined overwrite keeps the key" "$(cat gen.pub)" "$before"
grep -q '^gen already exists\.$' ow.out
ok $? "overwrite question says the file exists"
echo y | "$K" -q -t ed25519 -N '' -f gen >/dev/null 2>&1
ok "$([ $? -eq 0 ] && [ "$(cat gen.pub)" != "$before" ]; echo $?)" \
    "accepted overwrite writes a new key"

# Without -f, the file name is asked for; the default type is RSA 3072
# in OpenSSH 9.2, and the default file is ~/.ssh/id_rsa.
home=$(getent passwd "$(id -u)" | cut -d: -f6)
printf '%s\n' "$TMP/asked" | "$K" -N '' >ask.out 2>&1
ok $? "file name read from standard input"
grep -qF "Enter file in which to save the key ($home/.ssh/id_rsa): " ask.out
ok $? "prompt shows the default file ~/.ssh/id_rsa"
same "default type is rsa 3072" "$("$K" -l -f asked.pub | cut -d' ' -f1,4)" \
    "3072 (RSA)"
printf '%s\n' "$TMP/asked2" | "$K" -t ed25519 -N '' >ask2.out 2>&1
grep -qF "($home/.ssh/id_ed25519)" ask2.out
ok $? "ed25519 default file is ~/.ssh/id_ed25519"

# Passphrases from standard input when it is not a terminal.
printf 'stdin pw\nstdin pw\n' | "$K" -q -t ed25519 -f piped >/dev/null 2>&1
ok $? "passphrase twice from standard input"
same "ssh-keygen reads the key with that passphrase" \
    "$(ssh-keygen -y -P 'stdin pw' -f piped 2>&1)" "$(cat piped.pub)"
same "-y asks for the passphrase on standard input" \
    "$(echo 'stdin pw' | "$K" -y -f piped 2>/dev/null)" "$(cat piped.pub)"
printf 'a1\nb2\na3\na3\n' | "$K" -q -t ed25519 -f retry >retry.out 2>&1
ok $? "mismatched passphrases are asked again"
grep -q 'Passphrases do not match.  Try again.' retry.out
ok $? "mismatch message"
same "the second pair was used" \
    "$(ssh-keygen -y -P a3 -f retry 2>&1)" "$(cat retry.pub)"

# -l on authorized_keys and known_hosts style files, and on stdin.
{
	echo "# a comment line"
	echo ""
	echo "$(cat gen.pub)"
	echo "no-pty,command=\"echo a b\" $(cut -d' ' -f1,2 quiet.pub) opt key"
	echo "host.example,10.0.0.1 $(cut -d' ' -f1,2 piped.pub)"
	echo "not a key at all"
} >multi
same "-l on a file of several keys" "$("$K" -l -f multi 2>&1)" \
    "$(ssh-keygen -l -f multi 2>&1)"
same "-l from standard input" "$("$K" -l -f - <multi 2>&1)" \
    "$(ssh-keygen -l -f - <multi 2>&1)"
same "-lv -E md5 on several keys" "$("$K" -lv -E md5 -f multi 2>&1)" \
    "$(ssh-keygen -lv -E md5 -f multi 2>&1)"
ssh-keygen -q -t ed25519 -N '' -C '' -f nocomment
same "-l of a private key whose .pub has no comment" \
    "$("$K" -l -f nocomment 2>&1)" "$(ssh-keygen -l -f nocomment 2>&1)"
same "-l of a .pub without comment" "$("$K" -l -f nocomment.pub 2>&1)" \
    "$(ssh-keygen -l -f nocomment.pub 2>&1)"

# -c without change, -c removing the comment.
"$K" -c -C 'same one' -f quiet >/dev/null 2>&1
same "-c with the same comment" "$("$K" -c -C 'same one' -f quiet 2>&1 |
    tail -1)" "No change to comment"
same "-c with an empty comment" "$("$K" -c -C '' -f quiet 2>&1 | tail -1)" \
    "Comment removed"

# Errors and exit statuses, as ssh-keygen.
echo junk >junk
chmod 600 junk
for args in "-l -f junk" "-y -f junk" "-l -f missing" "-y -f missing" \
    "-t ecdsa -b 300 -N x -f e" \
    "-i -f junk" "-e -f junk" "-p -N x -f junk" "-c -C x -f junk" \
    "-Z des -N x -f z" "-b 0 -f b" "-e -m foo -f gen.pub"; do
	ssh-keygen $args >/dev/null 2>&1 </dev/null
	want=$?
	status "fssh-keygen $args as ssh-keygen" "$want" "$K" $args
done
# Deliberate differences: no DSA, no SHA-1 fingerprints.
status "DSA keys are refused" 255 "$K" -t dsa -N x -f d
status "SHA-1 fingerprints are refused" 255 "$K" -l -E sha1 -f gen.pub
status "RSA under 2048 bits is refused" 255 "$K" -t rsa -b 1024 -N '' -f small
ok "$([ ! -e small ]; echo $?)" "no file for a refused size"
grep -q 'minimum is 2048 bits' err
ok $? "the size message names the minimum"
cp gen open
chmod 644 open
status "a private key others can read is refused" 255 "$K" -y -f open
grep -q 'UNPROTECTED PRIVATE KEY FILE' err
ok $? "with OpenSSH's warning"
status "an unknown option is a usage error" 1 "$K" -J
status "an extra argument is a usage error" 1 "$K" -l -f gen.pub extra
status "two modes are a usage error" 1 "$K" -p -c -f gen

# Not supported yet (private keys in PEM): usage error.
for args in "-m PEM"; do
	status "fssh-keygen $args is refused" 1 "$K" $args -f gen.pub
	grep -q 'not supported yet' err
	ok $? "fssh-keygen $args says it is not supported yet"
done
done_testing
