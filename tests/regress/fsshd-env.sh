#!/usr/bin/env bash
# The environment of fsshd's sessions, as root with OpenSSH's ssh: the
# account's variables (USER LOGNAME HOME SHELL PATH MAIL), SSH_CLIENT and
# SSH_CONNECTION, AcceptEnv patterns for what ssh -o SendEnv sends,
# SetEnv (which wins), PermitUserEnvironment with ~/.ssh/environment and
# environment= in authorized_keys (names filtered by its patterns), and
# SSH_ORIGINAL_COMMAND under ForceCommand.
. "$top_srcdir/tests/regress/lib.sh"
. "$top_srcdir/tests/regress/fsshd-lib.sh"
fsshd_require

tag=$$
mkdir -p "$TMP/homes"
mk_user() {
	local u=$1-$tag
	fsshd_user "$u" "$TMP/homes/$u" "key-$1" "${2:-}"
}
mk_user env 'environment="FERRY_UKEY=from-key",environment="LD_FOO=no" '
mk_user noue 'environment="FERRY_UKEY=from-key" '
mk_user fc
printf '# comment\nFERRY_UFILE=from-file\nNOTPERMITTED=x\n\nbroken line\n' \
    >"$TMP/homes/env-$tag/.ssh/environment"
cp "$TMP/homes/env-$tag/.ssh/environment" "$TMP/homes/noue-$tag/.ssh/environment"
for u in env noue fc; do chown -R "$u-$tag:" "$TMP/homes/$u-$tag"; done

ssh-keygen -q -t ed25519 -N '' -f "$TMP/hostkey" </dev/null
port=$(free_port)
fsshd_config "$TMP/fsshd_config" "$port" <<EOC
PerSourcePenalties no
AuthorizedKeysFile .ssh/authorized_keys
UsePAM no
AcceptEnv FERRY_A* LC_*
AcceptEnv FERRY_SET
SetEnv FERRY_SET=from-config FERRY_CONF=yes
PermitUserEnvironment FERRY_U*
LogLevel VERBOSE
Match User fc-$tag
	ForceCommand echo "orig=\$SSH_ORIGINAL_COMMAND"
EOC
fsshd_start "$TMP/fsshd_config" "$TMP/server.log" "$port"
fsshd_known "$port"
kssh() { local u=$1; shift; fsshd_ssh 60 "key-$u" "$port" "$u-$tag" "$@" </dev/null; }

FERRY_A1=sent LC_FERRY=lc FERRY_SET=from-client NOT_ACCEPTED=x kssh env \
    -o SendEnv=FERRY_A1 -o SendEnv=LC_FERRY -o SendEnv=FERRY_SET -o SendEnv=NOT_ACCEPTED \
    'env; echo "port=${SSH_CLIENT#* }"' >"$TMP/env.out" 2>"$TMP/env.err"
has() { grep -qx "$1" "$TMP/env.out"; }
cport=$(sed -n 's/^port=\([0-9]*\) .*/\1/p' "$TMP/env.out")
ok "$(has "USER=env-$tag" && has "LOGNAME=env-$tag" && has "HOME=$TMP/homes/env-$tag" &&
    has "SHELL=/bin/sh" && has "MAIL=/var/mail/env-$tag" &&
    has "PATH=/usr/local/bin:/usr/bin:/bin:/usr/games"; echo $?)" \
    "USER LOGNAME HOME SHELL MAIL PATH as sshd sets them"
ok "$( [ -n "$cport" ] && has "SSH_CLIENT=127.0.0.1 $cport $port" &&
    has "SSH_CONNECTION=127.0.0.1 $cport 127.0.0.1 $port"; echo $?)" "SSH_CLIENT and SSH_CONNECTION"
ok "$(has "FERRY_A1=sent" && has "LC_FERRY=lc" && ! grep -q '^NOT_ACCEPTED=' "$TMP/env.out"; echo $?)" \
    "AcceptEnv patterns let in what they match (ssh -o SendEnv), nothing else"
ok "$(has "FERRY_SET=from-config" && has "FERRY_CONF=yes"; echo $?)" \
    "SetEnv sets variables and wins over the client's"
ok "$(has "FERRY_UFILE=from-file" && has "FERRY_UKEY=from-key" &&
    ! grep -q '^NOTPERMITTED=' "$TMP/env.out" && ! grep -q '^LD_FOO=' "$TMP/env.out"; echo $?)" \
    "PermitUserEnvironment patterns: ~/.ssh/environment and environment= (only permitted names)"
ok "$(grep -q 'NOTPERMITTED not permitted by PermitUserEnvironment' "$TMP/server.log"; echo $?)" \
    "a refused user variable is logged"
port2=$(free_port)
sed -e "s/^Port .*/Port $port2/" -e "s/^PermitUserEnvironment .*/PermitUserEnvironment no/" \
    -e "s|^PidFile .*|PidFile $TMP/fsshd2.pid|" "$TMP/fsshd_config" >"$TMP/fsshd_config2"
fsshd_start "$TMP/fsshd_config2" "$TMP/server2.log" "$port2"
fsshd_known "$port2"
out=$(port=$port2 kssh noue env 2>/dev/null)
ok "$( [ -n "$out" ] && ! echo "$out" | grep -q '^FERRY_U'; echo $?)" \
    "PermitUserEnvironment no: neither ~/.ssh/environment nor environment= apply"
ok "$(! grep -q '^SSH_ORIGINAL_COMMAND=' "$TMP/env.out"; echo $?)" "no SSH_ORIGINAL_COMMAND without a forced command"
out=$(kssh fc 'ls -l /some/where' 2>/dev/null)
ok "$( [ "$out" = "orig=ls -l /some/where" ]; echo $?)" "ForceCommand sees SSH_ORIGINAL_COMMAND"

done_testing
