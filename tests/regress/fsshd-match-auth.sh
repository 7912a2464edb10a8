#!/usr/bin/env bash
# Per-user authentication settings (Match applied to the user named in
# the first USERAUTH_REQUEST) offered by fsshd's pre-auth process, as
# root with OpenSSH's ssh: AuthenticationMethods publickey,password in a
# Match block logs in with the key and then the password (partial
# success naming password), the key alone is refused after partial
# success; a user no Match block names keeps the global methods; a name
# without an account gets what Match gives the name (the same first list
# as an account's); PasswordAuthentication no in Match takes password
# out of that user's list; MaxAuthTries in Match ends that user's
# connection sooner; PasswordAuthentication yes in Match lets that user
# log in with a password where the global setting is no.
. "$top_srcdir/tests/regress/lib.sh"
. "$top_srcdir/tests/regress/fsshd-lib.sh"
fsshd_require chpasswd setsid

tag=$$
mkdir -p "$TMP/homes"
# mk_user NAME: the account NAME-$tag, key $TMP/key-NAME, password
# Pw-NAME-$tag.
mk_user() {
	local u=$1-$tag
	fsshd_user "$u" "$TMP/homes/$u" "key-$1"
	echo "$u:Pw-$u" | chpasswd
}
mk_user mab		# Match: publickey,password
mk_user mag		# no Match block
mk_user man		# Match: PasswordAuthentication no
mk_user mat		# Match: MaxAuthTries 2
ghost=mghost-$tag	# no account; named by the publickey,password block
nobody=mnone-$tag	# no account, named by no block

# askpass NAME ANSWER: $TMP/NAME answers ANSWER and counts its calls in
# $TMP/NAME.n.
askpass() {
	printf '#!/bin/sh\necho x >>"%s/%s.n"\necho "%s"\n' "$TMP" "$1" "$2" \
	    >"$TMP/$1"
	chmod 755 "$TMP/$1"
}
askpass ask-mab "Pw-mab-$tag"
askpass ask-mag "Pw-mag-$tag"
askpass ask-man "Pw-man-$tag"
askpass ask-bad "wrong-$tag"

ssh-keygen -q -t ed25519 -N '' -f "$TMP/hostkey" </dev/null
port=$(free_port)
fsshd_config "$TMP/conf" "$port" "$TMP/pid" <<EOC
PerSourcePenalties no
UsePAM no
AuthorizedKeysFile .ssh/authorized_keys
PasswordAuthentication yes
KbdInteractiveAuthentication no
LogLevel VERBOSE
Match User mab-$tag,$ghost
	AuthenticationMethods publickey,password
Match User man-$tag
	PasswordAuthentication no
Match User mat-$tag
	MaxAuthTries 2
EOC
fsshd_start "$TMP/conf" "$TMP/log" "$port"
fsshd_known "$port"

# ossh USER KEY ASKPASS PREFERRED PROMPTS [ssh args...]: ssh -v as USER
# with $TMP/KEY, passwords from $TMP/ASKPASS, at most PROMPTS of them.
ossh() {
	SSH_ASKPASS=$TMP/$3 SSH_ASKPASS_REQUIRE=force DISPLAY=:0 \
	    setsid -w timeout 60 ssh -v -F /dev/null \
	    -o UserKnownHostsFile="$TMP/known" -o IdentitiesOnly=yes \
	    -i "$TMP/$2" -o NumberOfPasswordPrompts="$5" \
	    -o PreferredAuthentications="$4" -p "$port" "$1@127.0.0.1" \
	    "${@:6}" </dev/null
}
# lists FILE: the methods of each USERAUTH_FAILURE in ssh -v's output
# FILE, a line each; first_list FILE: the first of them.
lists() {
	tr -d '\r' <"$1" |
	    sed -n 's/^debug1: Authentications that can continue: //p'
}
first_list() {
	lists "$1" | head -1
}

# (1) publickey,password for mab.
out=$(ossh "mab-$tag" key-mab ask-mab publickey,password 1 'id -un' \
    2>"$TMP/err1")
ok "$( [ "$out" = "mab-$tag" ]; echo $?)" \
    "Match publickey,password: the key then the password log in"
ok "$(grep -q 'Authenticated using "publickey" with partial success' \
    "$TMP/err1" && [ "$(lists "$TMP/err1" | sed -n 2p)" = password ]
    echo $?)" \
    "the key is a partial success and the list left names password"
ok "$(grep -q "Accepted publickey,password for mab-$tag from 127.0.0.1" \
    "$TMP/log"; echo $?)" "the monitor logs both methods in order"
ossh "mab-$tag" key-mab ask-mab publickey 1 true 2>"$TMP/err2"
ok "$( [ $? -eq 255 ] &&
    grep -q 'Authenticated using "publickey" with partial success' \
    "$TMP/err2" && grep -q "Permission denied (password)" "$TMP/err2"
    echo $?)" "the key alone: partial success, then refused"
ok "$( [ "$(first_list "$TMP/err2")" = publickey ]; echo $?)" \
    "the first list for mab is its own: publickey"

# (2) mag: no Match block, the global settings.
out=$(ossh "mag-$tag" key-mag ask-mag publickey 1 'id -un' 2>"$TMP/err3")
ok "$( [ "$out" = "mag-$tag" ] &&
    [ "$(first_list "$TMP/err3")" = publickey,password ]; echo $?)" \
    "(control) a user no Match block names: the key alone logs in"

# (3) Names without an account: the list is the one Match gives the name.
ossh "$nobody" key-mag ask-bad publickey 1 true 2>"$TMP/err4"
ok "$( [ "$(first_list "$TMP/err4")" = "$(first_list "$TMP/err3")" ]
    echo $?)" "(control) an unknown user sees the same first list as an account"
ossh "$ghost" key-mag ask-bad publickey 1 true 2>"$TMP/err5"
ok "$( [ "$(first_list "$TMP/err5")" = publickey ]; echo $?)" \
    "an unknown name a Match block names sees that block's list"

# (4) PasswordAuthentication no in Match, yes globally.
ossh "man-$tag" key-man ask-man password 1 true 2>"$TMP/err6"
ok "$( [ $? -eq 255 ] && [ "$(first_list "$TMP/err6")" = publickey ] &&
    [ ! -e "$TMP/ask-man.n" ]; echo $?)" \
    "Match PasswordAuthentication no: password is not offered to man"
out=$(ossh "mag-$tag" key-mag ask-mag password 1 'id -un' 2>"$TMP/err7")
ok "$( [ "$out" = "mag-$tag" ]; echo $?)" \
    "(control) PasswordAuthentication yes globally lets mag in"

# Ferry's fssh sends a signed publickey request first (no "none"): the
# monitor sees it before the settings are asked for.
FSSH=$(ferry_bin fssh)
# fssh_as USER KEY ASKPASS PREFERRED [args...]
fssh_as() {
	SSH_ASKPASS=$TMP/$3 SSH_ASKPASS_REQUIRE=force timeout 60 "$FSSH" \
	    -F /dev/null -o UserKnownHostsFile="$TMP/known" -o BatchMode=no \
	    -i "$TMP/$2" -o NumberOfPasswordPrompts=1 \
	    -o PreferredAuthentications="$4" -p "$port" "$1@127.0.0.1" \
	    "${@:5}" </dev/null
}
if [ -x "$FSSH" ]; then
	out=$(fssh_as "mag-$tag" key-mag ask-bad publickey 'id -un' \
	    2>"$TMP/err-f1")
	ok "$( [ "$out" = "mag-$tag" ]; echo $?)" \
	    "fssh: a signed key first logs in: $(tail -1 "$TMP/err-f1")"
	out=$(fssh_as "mab-$tag" key-mab ask-mab publickey,password 'id -un' \
	    2>"$TMP/err-f2")
	ok "$( [ "$out" = "mab-$tag" ]; echo $?)" \
	    "fssh: the key then the password for mab: $(tail -1 "$TMP/err-f2")"
else
	skip "fssh not built"
	skip "fssh not built"
fi

# (5) MaxAuthTries 2 in Match (6 globally).
ossh "mat-$tag" key-mat ask-bad password 5 true 2>"$TMP/err8"
n=$(wc -l <"$TMP/ask-bad.n")
ok "$( [ "$n" -eq 2 ] &&
    grep -q "Too many authentication failures" "$TMP/err8"; echo $?)" \
    "Match MaxAuthTries 2: disconnected after two wrong passwords ($n)"
rm -f "$TMP/ask-bad.n"
ossh "mag-$tag" key-mag ask-bad password 3 true 2>"$TMP/err9"
n=$(wc -l <"$TMP/ask-bad.n")
ok "$( [ "$n" -eq 3 ] && ! grep -q "Too many authentication failures" \
    "$TMP/err9"; echo $?)" "(control) the global MaxAuthTries gives mag three tries"
ok "$(! grep -q "not approved by the monitor\|not next in\|change of user" \
    "$TMP/log"; echo $?)" \
    "an honest pre-auth process never trips the monitor's checks"

# (6) PasswordAuthentication no globally, yes in Match: the monitor
# decides by the user's setting too.
kill "$(cat "$TMP/pid")"
port=$(free_port)
fsshd_config "$TMP/conf2" "$port" "$TMP/pid2" <<EOC
PerSourcePenalties no
UsePAM no
AuthorizedKeysFile .ssh/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
LogLevel VERBOSE
Match User mag-$tag
	PasswordAuthentication yes
EOC
fsshd_start "$TMP/conf2" "$TMP/log2" "$port"
fsshd_known "$port"
out=$(ossh "mag-$tag" key-mag ask-mag password 1 'id -un' 2>"$TMP/err10")
ok "$( [ "$out" = "mag-$tag" ]; echo $?)" \
    "Match PasswordAuthentication yes: mag logs in by password"
ossh "man-$tag" key-man ask-man password 1 true 2>"$TMP/err11"
ok "$( [ $? -eq 255 ] && [ "$(first_list "$TMP/err11")" = publickey ]
    echo $?)" "(control) others get the global list without password"
done_testing
