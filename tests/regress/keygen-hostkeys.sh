#!/usr/bin/env bash
# fssh-keygen -A against ssh-keygen -A, both with -f PREFIX on temporary
# directories (no root needed): the same progress line, the same set of
# missing (or empty) host keys generated with the same types, sizes and
# comment, modes 600/644, nothing written for keys that exist, errors
# on stderr with exit status 0, and no temporary files left behind.
. "${top_srcdir:-.}/tests/regress/lib.sh"
. "${top_srcdir:-.}/tests/regress/keygen-lib.sh"
keygen_setup

# The program name starts ssh-keygen's line; ours starts with ours.
fixname() { sed 's/^ssh-keygen:/fssh-keygen:/; s/ ssh-keygen:/ fssh-keygen:/g'; }

# keyinfo DIR: "bits type comment" of each private key, in file order.
keyinfo() {
	local f
	for f in "$1"/etc/ssh/ssh_host_*_key; do
		ssh-keygen -l -f "$f" | awk '{ print $1, $NF, $3 }'
	done
}

mkdir -p f/etc/ssh o/etc/ssh
"$K" -A -f "$TMP/f" >f.out 2>f.err
st=$?
ssh-keygen -A -f "$TMP/o" >o.out 2>o.err
ok "$([ $st -eq 0 ]; echo $?)" "fssh-keygen -A exits 0"
same "progress line as ssh-keygen's" "$(od -c f.out)" \
    "$(fixname <o.out | od -c)"
same "nothing on stderr" "$(cat f.err)" ""
same "same file names" "$(cd f/etc/ssh && ls)" "$(cd o/etc/ssh && ls)"
same "same key types, sizes and comments (user@host)" "$(keyinfo f)" \
    "$(keyinfo o)"
same "comment is user@hostname" "$(awk '{ print $3 }' \
    f/etc/ssh/ssh_host_ed25519_key.pub)" "$(id -un)@$(hostname)"
same "private keys mode 600, public keys 644" \
    "$(cd f/etc/ssh && stat -c '%n %a' *)" \
    "$(cd o/etc/ssh && stat -c '%n %a' *)"
for t in rsa ecdsa ed25519; do
	f=f/etc/ssh/ssh_host_${t}_key
	same "$t: ssh-keygen -y reads the private key, equal to .pub" \
	    "$(ssh-keygen -y -f "$f" 2>&1 | cut -d' ' -f1,2)" \
	    "$(cut -d' ' -f1,2 "$f.pub")"
	ssh-keygen -l -f "$f" >/dev/null 2>&1 && ! grep -q ENCRYPTED "$f"
	ok $? "$t: unencrypted, readable by ssh-keygen -l"
done

# A second run changes nothing and prints nothing.
sums=$(cd f/etc/ssh && md5sum *)
"$K" -A -f "$TMP/f" >f2.out 2>&1
ok "$([ $? -eq 0 ] && [ ! -s f2.out ]; echo $?)" \
    "nothing to do: exit 0, no output"
same "existing keys are kept" "$(cd f/etc/ssh && md5sum *)" "$sums"

# Only the missing and the empty keys are made, as ssh-keygen does.
for d in f o; do
	rm "$d"/etc/ssh/ssh_host_ecdsa_key*
	: >"$d"/etc/ssh/ssh_host_ed25519_key
done
rsa=$(md5sum <f/etc/ssh/ssh_host_rsa_key)
"$K" -A -f "$TMP/f" >f3.out 2>&1
ssh-keygen -A -f "$TMP/o" >o3.out 2>&1
same "missing and empty keys: same output" "$(cat f3.out)" \
    "$(fixname <o3.out)"
same "only ECDSA and ED25519 named" "$(cat f3.out)" \
    "fssh-keygen: generating new host keys: ECDSA ED25519 "
same "the RSA key is untouched" "$(md5sum <f/etc/ssh/ssh_host_rsa_key)" "$rsa"
ssh-keygen -l -f f/etc/ssh/ssh_host_ed25519_key >/dev/null 2>&1
ok $? "the empty ED25519 key was replaced by a valid key"
same "no temporary files" "$(cd f/etc/ssh && ls | grep -c -v -E \
    '^ssh_host_(rsa|ecdsa|ed25519)_key(\.pub)?$')" "0"

# The prefix is put in front as given: "PREFIX/" works too.
mkdir -p s/etc/ssh
"$K" -A -f "$TMP/s/" >/dev/null 2>&1
ok "$([ -s s/etc/ssh/ssh_host_ed25519_key ]; echo $?)" \
    "a prefix with a trailing slash"

# A missing directory: errors on stderr, still exit 0, as ssh-keygen.
"$K" -A -f "$TMP/none" >n.out 2>n.err
st=$?
ssh-keygen -A -f "$TMP/none" >no.out 2>no.err
ost=$?
same "unwritable prefix: same exit status" "$st" "$ost"
same "unwritable prefix: same stdout" "$(cat n.out)" "$(fixname <no.out)"
same "unwritable prefix: one error per key" "$(grep -c 'Could not save' n.err)" 3
ok "$([ ! -e none ]; echo $?)" "unwritable prefix: nothing created"

st=0; "$K" -A -f "$TMP/f" extra >/dev/null 2>&1 || st=$?
same "an extra argument is a usage error" "$st" 1
done_testing
