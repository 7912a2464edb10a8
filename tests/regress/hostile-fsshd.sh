#!/usr/bin/env bash
# Hostile clients against fsshd (tests/safety/hostile-peer.py, paramiko):
# IGNORE, PING and GLOBAL_REQUEST floods before authentication, EXT_INFO
# with an absurd count, SFTP frames split across one-byte channel
# messages, READ of 0xFFFFFFFF bytes, 10,000 outstanding requests, handle
# exhaustion, frames of length 0, < 5, > 256 KiB and 0xFFFFFFFF, 100
# half-open connections held while others log in.  Each
# case: refused or survived as the protocol says, fsshd's memory bounded,
# and an OpenSSH sftp client served in parallel throughout.
. "$top_srcdir/tests/regress/lib.sh"
. "$top_srcdir/tests/safety/fsshd-lib.sh"
require_cmd sftp sha256sum
/usr/bin/python3 -c 'import paramiko' 2>/dev/null || skip_all "paramiko is not installed"
safety_user ferry-h
safety_fsshd_start || skip_all "fsshd does not start"
head -c 65536 /dev/urandom >"$SAFETY_HOME/file"
head -c 300000 /dev/urandom >"$SAFETY_HOME/good"
chown "$SAFETY_USER:" "$SAFETY_HOME/file" "$SAFETY_HOME/good"
cp "$TMP/id" "$TMP/id.paramiko"
cat >"$TMP/good.sh" <<EOS
#!/bin/sh
d=\$(mktemp -d "$TMP/good.XXXXXX") || exit 1
printf 'get good %s/g\n' "\$d" >"\$d/batch"
sftp ${SAFETY_SSH_OPTS[*]} -P $SAFETY_PORT -b "\$d/batch" $SAFETY_USER@127.0.0.1 &&
    [ "\$(sha256sum <"\$d/g")" = "$(sha256sum <"$SAFETY_HOME/good")" ]
r=\$?
rm -rf "\$d"
exit \$r
EOS
chmod +x "$TMP/good.sh"
"$TMP/good.sh" >/dev/null 2>&1 || skip_all "a plain sftp session fails"
HOSTILE_PORT=$SAFETY_PORT HOSTILE_USER=$SAFETY_USER HOSTILE_KEY=$TMP/id.paramiko \
    HOSTILE_PID=$SAFETY_PID HOSTILE_FILE=file HOSTILE_MEM_SCALE=$SAFETY_MEM_SCALE \
    HOSTILE_LOG=$TMP/fsshd.log HOSTILE_GOOD=$TMP/good.sh \
    timeout 600 /usr/bin/python3 "$top_srcdir/tests/safety/hostile-peer.py"
rc=$?
kill -0 "$SAFETY_PID" 2>/dev/null || { echo "not ok - fsshd died"; rc=1; }
diag "fsshd logged $(grep -c Disconnecting "$TMP/fsshd.log") disconnects with a reason"
exit $rc
