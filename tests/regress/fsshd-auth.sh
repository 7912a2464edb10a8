#!/usr/bin/env bash
# fsshd's password and keyboard-interactive authentication, as root, with
# and without PAM: OpenSSH's ssh and fssh answer the "Password: " prompt
# through SSH_ASKPASS; wrong answers are refused and logged; MaxAuthTries
# counts keyboard-interactive failures; locked (usermod -L) and expired
# (chage -E 0) accounts are refused with a log line for every method;
# UsePAM yes goes through the "ferry" service (Debian's pam_unix stack).
. "$top_srcdir/tests/regress/lib.sh"
. "$top_srcdir/tests/regress/fsshd-lib.sh"
fsshd_require usermod chpasswd chage setsid
FSSH=$(ferry_bin fssh)

tag=$$
mkdir -p "$TMP/homes"
mk_user() { # name password
	local u=$1-$tag
	fsshd_user "$u" "$TMP/homes/$u" "key-$1"
	echo "$u:$2" | chpasswd
}
mk_user kim "Kim-pw-$tag"
mk_user lock "Lock-pw-$tag"
mk_user exp "Exp-pw-$tag"
usermod -L "lock-$tag"
chage -E 0 "exp-$tag"

# The PAM service: installed by make install; here for the test only.
pam_made=
if [ ! -e /etc/pam.d/ferry ]; then
	cp "$top_srcdir/src/ferry.pam" /etc/pam.d/ferry && pam_made=1
	at_exit "rm -f /etc/pam.d/ferry"
fi

ssh-keygen -q -t ed25519 -N '' -f "$TMP/hostkey" </dev/null
"$FSSHD" -t -f "$top_srcdir/src/fsshd_config.example" -h "$TMP/hostkey" 2>"$TMP/example.err"
ok "$( [ $? -eq 0 ] && [ ! -s "$TMP/example.err" ]; echo $?)" \
    "the example configuration (src/fsshd_config.example) passes -t cleanly"
start_server() { # name port usepam
	fsshd_config "$TMP/$1.conf" "$2" "$TMP/$1.pid" <<EOC
PerSourcePenalties no
AuthorizedKeysFile .ssh/authorized_keys
PasswordAuthentication yes
KbdInteractiveAuthentication yes
UsePAM $3
MaxAuthTries 3
LogLevel VERBOSE
EOC
	fsshd_start "$TMP/$1.conf" "$TMP/$1.log" "$2"
	fsshd_known "$2"
}

# askpass NAME ANSWER: a helper that records its prompt and answers.
askpass() {
	printf '#!/bin/sh\necho "$1" >>"%s/asked"\necho "%s"\n' "$TMP" "$2" >"$TMP/$1"
	chmod 755 "$TMP/$1"
}
askpass ask-kim "Kim-pw-$tag"
askpass ask-bad "wrong-$tag"
askpass ask-lock "Lock-pw-$tag"
askpass ask-exp "Exp-pw-$tag"

# ossh PORT ASKPASS USER METHOD [ssh args...]
ossh() {
	SSH_ASKPASS=$TMP/$2 SSH_ASKPASS_REQUIRE=force DISPLAY=:0 setsid -w \
	    timeout 60 ssh -F /dev/null -o UserKnownHostsFile="$TMP/known" \
	    -o PubkeyAuthentication=no -o NumberOfPasswordPrompts="${NPP:-1}" \
	    -o PreferredAuthentications="$4" -p "$1" "$3-$tag@127.0.0.1" "${@:5}" </dev/null
}
# fkbd PORT ASKPASS USER [fssh args...]: fssh with keyboard-interactive
fkbd() {
	SSH_ASKPASS=$TMP/$2 SSH_ASKPASS_REQUIRE=force timeout 60 "$FSSH" -F /dev/null \
	    -o UserKnownHostsFile="$TMP/known" -o BatchMode=no -o IdentityFile=/dev/null \
	    -o PreferredAuthentications=keyboard-interactive -o NumberOfPasswordPrompts=1 \
	    -p "$1" "$3-$tag@127.0.0.1" "${@:4}" </dev/null
}
kssh() { # PORT USER [args...]: a key login
	fsshd_ssh 60 "key-$2" "$1" "$2-$tag" "${@:3}" </dev/null
}

# 1. Without PAM: crypt(3) against the shadow file.
p1=$(free_port)
start_server nopam "$p1" no
rm -f "$TMP/asked"
out=$(ossh "$p1" ask-kim kim keyboard-interactive 'id -un' 2>"$TMP/err")
ok "$( [ "$out" = "kim-$tag" ] && grep -q "^(kim-$tag@127.0.0.1) Password: *$" "$TMP/asked"; echo $?)" \
    "keyboard-interactive with OpenSSH's ssh: one \"Password: \" prompt, checked against shadow"
ok "$(grep -q "Accepted keyboard-interactive for kim-$tag from 127.0.0.1" "$TMP/nopam.log"; echo $?)" \
    "the success is logged"
ossh "$p1" ask-bad kim keyboard-interactive true 2>/dev/null
ok "$( [ $? -eq 255 ] && grep -q "Failed keyboard-interactive for kim-$tag from 127.0.0.1: wrong password" \
    "$TMP/nopam.log"; echo $?)" "a wrong answer is refused and logged"
rm -f "$TMP/asked"
NPP=6 ossh "$p1" ask-bad kim keyboard-interactive true 2>/dev/null
ok "$( [ $? -eq 255 ] && [ "$(wc -l <"$TMP/asked")" -eq 3 ]; echo $?)" \
    "MaxAuthTries 3 counts keyboard-interactive failures: asked $(wc -l <"$TMP/asked") times of 6"
if [ -x "$FSSH" ]; then
	rm -f "$TMP/asked"
	out=$(fkbd "$p1" ask-kim kim 'id -un' 2>"$TMP/err")
	ok "$( [ "$out" = "kim-$tag" ] && grep -q "Password: " "$TMP/asked"; echo $?)" \
	    "keyboard-interactive with fssh: $(head -1 "$TMP/err")"
	fkbd "$p1" ask-bad kim true 2>/dev/null
	ok "$( [ $? -ne 0 ]; echo $?)" "fssh: a wrong answer is refused"
else
	skip "fssh not built"
	skip "fssh not built"
fi
out=$(ossh "$p1" ask-kim kim password 'id -un' 2>/dev/null)
ok "$( [ "$out" = "kim-$tag" ]; echo $?)" "password authentication still works"

# Locked and expired accounts: refused whatever the method, with a reason.
ossh "$p1" ask-lock lock keyboard-interactive true 2>/dev/null
r1=$?
kssh "$p1" lock true 2>/dev/null
r2=$?
ok "$( [ $r1 -eq 255 ] && [ $r2 -eq 255 ] &&
    grep -q "User lock-$tag from 127.0.0.1 not allowed: account is locked" "$TMP/nopam.log"; echo $?)" \
    "a locked account (usermod -L) is refused for passwords and keys, with a log line"
ossh "$p1" ask-exp exp password true 2>/dev/null
r1=$?
kssh "$p1" exp true 2>/dev/null
r2=$?
ok "$( [ $r1 -eq 255 ] && [ $r2 -eq 255 ] &&
    grep -q "User exp-$tag from 127.0.0.1 not allowed: account has expired" "$TMP/nopam.log"; echo $?)" \
    "an expired account (chage -E 0) is refused for passwords and keys, with a log line"
chage -E -1 "exp-$tag"
chage -d 0 "exp-$tag"
ossh "$p1" ask-exp exp password true 2>/dev/null
r1=$?
out=$(kssh "$p1" exp 'id -un' 2>/dev/null)
ok "$( [ $r1 -eq 255 ] && [ "$out" = "exp-$tag" ] &&
    grep -q "Failed password for exp-$tag .*password has expired" "$TMP/nopam.log"; echo $?)" \
    "a password that must be changed (chage -d 0) is refused; a key still logs in"

# 2. With PAM: the "ferry" service, pam_unix behind common-auth.
if ! grep -q HAVE_PAM "$top_builddir/config.h" 2>/dev/null ||
    ! grep -q '^#define HAVE_PAM 1' "$top_builddir/config.h"; then
	for i in 1 2 3 4 5 6; do skip "fsshd built without PAM"; done
	done_testing
fi
chage -d "$(date +%F)" "exp-$tag"
chage -E 0 "exp-$tag"
p2=$(free_port)
start_server pam "$p2" yes
rm -f "$TMP/asked"
out=$(ossh "$p2" ask-kim kim keyboard-interactive 'id -un' 2>"$TMP/err")
ok "$( [ "$out" = "kim-$tag" ] && grep -q "^(kim-$tag@127.0.0.1) Password: *$" "$TMP/asked"; echo $?)" \
    "UsePAM yes: keyboard-interactive runs the PAM conversation (pam_unix's prompt)"
ossh "$p2" ask-bad kim keyboard-interactive true 2>/dev/null
ok "$( [ $? -eq 255 ] && grep -q "Failed keyboard-interactive for kim-$tag from 127.0.0.1: Authentication failure" \
    "$TMP/pam.log"; echo $?)" "UsePAM yes: a wrong answer fails pam_authenticate, logged"
out=$(ossh "$p2" ask-kim kim password 'id -un' 2>/dev/null)
ossh "$p2" ask-bad kim password true 2>/dev/null
r=$?
ok "$( [ "$out" = "kim-$tag" ] && [ $r -eq 255 ]; echo $?)" \
    "UsePAM yes: password authentication through pam_authenticate, wrong one refused"
ossh "$p2" ask-exp exp keyboard-interactive true 2>/dev/null
r1=$?
kssh "$p2" exp true 2>/dev/null
r2=$?
ok "$( [ $r1 -eq 255 ] && [ $r2 -eq 255 ] &&
    grep -q "User exp-$tag from 127.0.0.1 not allowed: PAM account:" "$TMP/pam.log"; echo $?)" \
    "UsePAM yes: an expired account is refused by pam_acct_mgmt, with a log line"
ossh "$p2" ask-lock lock keyboard-interactive true 2>/dev/null
ok "$( [ $? -eq 255 ] && grep -q "Failed keyboard-interactive for lock-$tag" "$TMP/pam.log"; echo $?)" \
    "UsePAM yes: a locked account's password is refused"
out=$(kssh "$p2" kim 'id -un' 2>/dev/null)
ok "$( [ "$out" = "kim-$tag" ]; echo $?)" "UsePAM yes: key login with a PAM session"
[ -n "$pam_made" ] || diag "/etc/pam.d/ferry existed already and was used as it is"

done_testing
