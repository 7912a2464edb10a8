#!/usr/bin/env bash
# fssh-copy-id's command line, without a server: usage errors and exit
# statuses as ssh-copy-id's, which keys are chosen (-i with and without
# .pub, -i '' for the default, the newest ~/.ssh/id*.pub but never a
# *-cert.pub, the agent's keys before the default file, -i over the
# agent), -f -n printing the keys without connecting, unreadable and
# malformed key files, and a refused connection (exit 1).
. "${top_srcdir:-.}/tests/regress/lib.sh"
require_cmd ssh-keygen
CID=$(ferry_bin fssh-copy-id)
[ -x "$CID" ] || skip_all "fssh-copy-id is not built"
unset SSH_AUTH_SOCK SSH_ASKPASS
export HOME=$TMP/home
mkdir -p "$HOME/.ssh"
cd "$TMP" || exit 1

# run WANT-STATUS DESCRIPTION ARGS...: fssh-copy-id's exit status.
run() {
	local want=$1 what=$2 st
	shift 2
	timeout 60 "$CID" "$@" </dev/null >out 2>err
	st=$?
	[ "$st" -eq "$want" ] || diag "exit $st, stderr: $(cat err)"
	ok "$([ "$st" -eq "$want" ]; echo $?)" "$what (exit $want)"
}

run 1 "no arguments: usage"
grep -q '^Usage: fssh-copy-id \[-h|-?|-f|-n|-s\] \[-i \[identity_file\]\]' err
ok $? "usage text"
run 1 "-h: usage" -h
run 1 "an unknown option: usage" -x host
run 1 "two hosts" -f -n host1 host2
grep -q 'ERROR: Too many arguments.  Expecting a target hostname, got: host1 host2' err
ok $? "too many arguments named"
run 1 "no identities anywhere" -n host
grep -q '^fssh-copy-id: ERROR: No identities found$' err
ok $? "no identities: ssh-copy-id's words"

ssh-keygen -q -t ed25519 -N '' -C old -f "$HOME/.ssh/id_ed25519"
ssh-keygen -q -t ecdsa -N '' -C new -f "$HOME/.ssh/id_ecdsa"
touch -d '2 hours ago' "$HOME/.ssh/id_ed25519.pub"
touch -d '1 hour ago' "$HOME/.ssh/id_ecdsa.pub"
cp "$HOME/.ssh/id_ed25519.pub" "$HOME/.ssh/id_ed25519-cert.pub"
run 1 "-i twice" -i a -i b host
grep -q 'ERROR: -i option must not be specified more than once' err
ok $? "-i twice: the reason"

run 0 "-f -n: no connection needed" -f -n nohost.invalid
ok "$([ "$(cat out)" = "=-=-=-=-=-=-=-=
Would have added the following key(s):

$(cat "$HOME/.ssh/id_ecdsa.pub")
=-=-=-=-=-=-=-=" ]; echo $?)" "-f -n prints ssh-copy-id's block with the newest key"
grep -q "INFO: Source of key(s) to be installed: \"$HOME/.ssh/id_ecdsa.pub\"" err
ok $? "the default is the newest id*.pub, not the newer -cert.pub"

run 0 "-i without .pub" -f -n -i "$HOME/.ssh/id_ed25519" h
grep -qxF "$(cat "$HOME/.ssh/id_ed25519.pub")" out
ok $? "-i FILE reads FILE.pub"
run 0 "-i '' is the default file" -f -n -i '' h
grep -qxF "$(cat "$HOME/.ssh/id_ecdsa.pub")" out
ok $? "-i '': the newest key"
cat "$HOME/.ssh/id_ed25519.pub" "$HOME/.ssh/id_ecdsa.pub" >two.pub
run 0 "a file of two keys" -f -n -i two.pub h
ok "$([ "$(grep -c '^ssh-\|^ecdsa-' out)" = 2 ]; echo $?)" "both keys listed"
run 1 "a missing key file" -f -n -i "$TMP/nokey" h
grep -q "ERROR: failed to open ID file '$TMP/nokey.pub': No such file or directory" err
ok $? "a missing key file: the file and the reason"
printf '%s\nnot a key at all\n' "$(cat "$HOME/.ssh/id_ed25519.pub")" >bad.pub
run 1 "a malformed key file" -f -n -i bad.pub h
grep -q 'bad.pub:2: not a public key' err
ok $? "a malformed key file: its line number"

if command -v ssh-agent >/dev/null && command -v ssh-add >/dev/null; then
	ssh-keygen -q -t ed25519 -N '' -C agentkey -f "$TMP/agentkey"
	agent_start "$TMP/agent.sock"
	SSH_AUTH_SOCK=$TMP/agent.sock ssh-add -q "$TMP/agentkey" 2>/dev/null
	SSH_AUTH_SOCK=$TMP/agent.sock run 0 "agent keys" -f -n h
	ok "$(grep -q "$(cut -d' ' -f2 "$TMP/agentkey.pub")" out &&
	    ! grep -q "$(cut -d' ' -f2 "$HOME/.ssh/id_ecdsa.pub")" out; echo $?)" \
	    "without -i the agent's keys come first, not the file"
	SSH_AUTH_SOCK=$TMP/agent.sock run 0 "-i over the agent" -f -n \
	    -i "$HOME/.ssh/id_ed25519.pub" h
	ok "$(! grep -q "$(cut -d' ' -f2 "$TMP/agentkey.pub")" out &&
	    grep -q "$(cut -d' ' -f2 "$HOME/.ssh/id_ed25519.pub")" out; echo $?)" \
	    "-i: only the file's keys"
else
	skip "ssh-agent is not installed"
	skip "ssh-agent is not installed"
	skip "ssh-agent is not installed"
	skip "ssh-agent is not installed"
fi

port=$(free_port)
run 1 "a refused connection" -F /dev/null -o BatchMode=yes -p "$port" \
    -i "$HOME/.ssh/id_ed25519" 127.0.0.1
grep -q "connect to host 127.0.0.1 port $port: Connection refused" err
ok $? "a refused connection: ssh's message"
done_testing
