#!/usr/bin/env bash
# Secret prompts on a real pseudo-terminal (tests/regress/tty-drive.py):
# echo is off while fssh-keygen asks for a passphrase; ^C, SIGTERM and
# SIGHUP there leave echo on again and end the program by that signal;
# ^Z stops it with echo on, and after SIGCONT the prompt is asked again
# with echo off and still works.  The same for fssh's passphrase prompt
# (the shared client prompt of fssh, fsftp, fscp) against sshd -i, and
# fscp's: its handler then ends it with exit status 1, "fscp: interrupted".
. "$top_srcdir/tests/regress/lib.sh"
require_cmd ssh-keygen
KG=$(ferry_bin fssh-keygen)
FSSH=$(ferry_bin fssh)
DRIVE=$top_srcdir/tests/regress/tty-drive.py
[ -x "$KG" ] && [ -x "$FSSH" ] || skip_all "fssh-keygen or fssh not built"
/usr/bin/python3 -c 'import pty, termios' 2>/dev/null ||
	skip_all "python3 without termios"

ssh-keygen -q -t ed25519 -N secret -f "$TMP/enc" </dev/null
drive() { /usr/bin/python3 "$DRIVE" "$@" 2>&1; }
has() { grep -qx -- "$2" <<<"$1"; }

out=$(drive "Enter passphrase: " echo,key:C -- "$KG" -p -N new -f "$TMP/enc")
has "$out" "echo=off"
ok $? "fssh-keygen: echo is off at the passphrase prompt"
has "$out" "final-echo=on"
ok $? "fssh-keygen: ^C at the prompt turns echo on again"
has "$out" "status=signal 2"
ok $? "fssh-keygen: ... and the program ends by SIGINT" || diag "$out"

for sig in TERM HUP; do
	n=$(kill -l "$sig")
	out=$(drive "Enter passphrase: " type:abc,kill:$sig -- "$KG" -p -N new \
	    -f "$TMP/enc")
	has "$out" "final-echo=on" && has "$out" "status=signal $n"
	ok $? "fssh-keygen: SIG$sig at the prompt: echo on, ended by it" ||
		diag "$out"
done

out=$(drive "Enter passphrase: " type:xy,key:Z,stopped,echo,cont,prompt,echo,line:secret \
    -- "$KG" -p -N new -f "$TMP/enc")
has "$out" "stopped=yes" && has "$out" "echo=on"
ok $? "fssh-keygen: ^Z stops the program with echo on" || diag "$out"
has "$out" "prompt=again" && [ "$(grep -c '^echo=off' <<<"$out")" = 1 ]
ok $? "fssh-keygen: continued, the prompt is asked again with echo off" ||
	diag "$out"
has "$out" "status=exit 0" && has "$out" "final-echo=on" &&
    ssh-keygen -y -P new -f "$TMP/enc" >/dev/null
ok $? "fssh-keygen: the answer typed after the stop is taken" || diag "$out"

# fssh: the passphrase of an identity, asked while connected to sshd -i.
if [ "$(id -u)" -eq 0 ] && [ -x /usr/sbin/sshd ]; then
	openssh_sshd_setup
	cp "$TMP/enc.pub" "$TMP/sshd/authorized_keys"
	out=$(drive "Enter passphrase for key" echo,key:C -- "$FSSH" \
	    -F /dev/null -o "UserKnownHostsFile=$TMP/known_hosts" \
	    -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes \
	    -o "IdentityFile=$TMP/enc" -o "HostKeyAlias=[127.0.0.1]:$SSHD_PORT" \
	    -o "ProxyCommand=/usr/sbin/sshd -i -f $SSHD_CONFIG" \
	    root@127.0.0.1 true)
	has "$out" "echo=off" && has "$out" "final-echo=on" &&
	    has "$out" "status=signal 2"
	ok $? "fssh: ^C at the passphrase prompt: echo on again, ended by SIGINT" ||
		diag "$out"
	# fscp: its own handler ends it (exit 1, one line) after the restore.
	out=$(drive "Enter passphrase for key" echo,key:C -- "$(ferry_bin fscp)" \
	    -F /dev/null -o "UserKnownHostsFile=$TMP/known_hosts" \
	    -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes \
	    -o "IdentityFile=$TMP/enc" -o "HostKeyAlias=[127.0.0.1]:$SSHD_PORT" \
	    -o "ProxyCommand=/usr/sbin/sshd -i -f $SSHD_CONFIG" \
	    "root@127.0.0.1:$TMP/enc.pub" "$TMP/copy")
	has "$out" "echo=off" && has "$out" "final-echo=on" &&
	    has "$out" "status=exit 1" && grep -q 'fscp: interrupted' <<<"$out"
	ok $? "fscp: ^C at the passphrase prompt: echo on again, exit 1, interrupted" ||
		diag "$out"
else
	skip "fssh prompt: needs root and /usr/sbin/sshd"
	skip "fscp prompt: needs root and /usr/sbin/sshd"
fi
done_testing
