#!/usr/bin/env bash
# AuthenticationMethods publickey,password end to end with OpenSSH's ssh,
# as root: the key and then the password log in, either alone is
# refused; with two lists (and a keyboard-interactive:pam submethod)
# each list logs in in its order.  The monitor enforces the lists itself (the pre-auth process
# cannot skip a method); tests/unit/test-fsshd-monitor.c feeds it the
# requests a compromised pre-auth process could send.
. "$top_srcdir/tests/regress/lib.sh"
. "$top_srcdir/tests/regress/fsshd-lib.sh"
fsshd_require chpasswd setsid

u=gapam$$
pw="Pw-$u"
fsshd_user "$u" "$TMP/home" key
echo "$u:$pw" | chpasswd
printf '#!/bin/sh\necho "%s"\n' "$pw" >"$TMP/askpass"
chmod 755 "$TMP/askpass"

ssh-keygen -q -t ed25519 -N '' -f "$TMP/hostkey" </dev/null
port=$(free_port)
fsshd_config "$TMP/conf" "$port" "$TMP/pid" <<EOC
PerSourcePenalties no
UsePAM no
PasswordAuthentication yes
KbdInteractiveAuthentication no
AuthenticationMethods publickey,password
LogLevel VERBOSE
EOC
fsshd_start "$TMP/conf" "$TMP/log" "$port"
fsshd_known "$port"

# ossh PREFERRED [ssh args...]
ossh() {
	SSH_ASKPASS=$TMP/askpass SSH_ASKPASS_REQUIRE=force DISPLAY=:0 \
	    setsid -w timeout 60 ssh -F /dev/null \
	    -o UserKnownHostsFile="$TMP/known" -o IdentitiesOnly=yes \
	    -i "$TMP/key" -o NumberOfPasswordPrompts=1 \
	    -o PreferredAuthentications="$1" -p "$port" "$u@127.0.0.1" \
	    "${@:2}" </dev/null
}

out=$(ossh publickey,password 'id -un' 2>"$TMP/err")
ok "$( [ "$out" = "$u" ]; echo $?)" "publickey then password logs in: $(tail -1 "$TMP/err")"
ok "$(grep -q "Accepted publickey,password for $u from 127.0.0.1" "$TMP/log"; echo $?)" \
    "the monitor logs both methods in order"
ossh publickey true 2>"$TMP/err"
ok "$( [ $? -eq 255 ] && grep -q "Permission denied" "$TMP/err"; echo $?)" \
    "the key alone is refused (partial success, then no method left)"
ossh password true 2>"$TMP/err"
ok "$( [ $? -eq 255 ] && grep -q "Permission denied" "$TMP/err"; echo $?)" \
    "the password alone is refused"
ok "$(! grep -q "Accepted publickey for\|Accepted password for" "$TMP/log"; echo $?)" \
    "no login with one method is logged as accepted"
ok "$(! grep -q "not approved by the monitor\|not next in" "$TMP/log"; echo $?)" \
    "an honest pre-auth process never trips the monitor's checks"

# Two lists, one with a submethod (matched by its method).
kill "$(cat "$TMP/pid")"
port=$(free_port)
sed -e "s/^Port .*/Port $port/" -e "s|^PidFile .*|PidFile $TMP/pid2|" \
    -e "s/^KbdInteractiveAuthentication .*/KbdInteractiveAuthentication yes/" \
    -e "s/^AuthenticationMethods .*/AuthenticationMethods password,publickey publickey,keyboard-interactive:pam/" \
    "$TMP/conf" >"$TMP/conf2"
"$FSSHD" -t -f "$TMP/conf2"
ok $? "fsshd -t accepts two lists and a submethod"
"$FSSHD" -f "$TMP/conf2" -e 2>"$TMP/log2" &
track_pid $!
wait_port "$port"
echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$TMP/hostkey.pub")" >"$TMP/known"
out=$(ossh publickey,keyboard-interactive 'id -un' 2>"$TMP/err")
ok "$( [ "$out" = "$u" ] &&
    grep -q "Accepted publickey,keyboard-interactive for $u" "$TMP/log2"; echo $?)" \
    "publickey then keyboard-interactive (keyboard-interactive:pam) logs in"
out=$(ossh password,publickey 'id -un' 2>"$TMP/err")
ok "$( [ "$out" = "$u" ] &&
    grep -q "Accepted password,publickey for $u" "$TMP/log2"; echo $?)" \
    "password then publickey, the other list, logs in"
ossh publickey true 2>/dev/null
r1=$?
ossh keyboard-interactive true 2>/dev/null
r2=$?
ok "$( [ $r1 -eq 255 ] && [ $r2 -eq 255 ]; echo $?)" \
    "neither the key alone nor keyboard-interactive alone logs in"
ok "$(! grep -q "not approved by the monitor\|not next in" "$TMP/log2"; echo $?)" \
    "the monitor agrees with the pre-auth process on every list"
done_testing
