#!/usr/bin/env bash
# How fsshd streams a connection.  SFTP data goes straight into the
# in-process engine when nothing is queued: a malformed first message ends
# that channel alone, and the connection serves the next one (OpenSSH's
# ssh, multiplexed over one master connection).
#
# fsshd turns Nagle's algorithm off (TCP_NODELAY) on the socket of every
# TCP connection, as sshd does: otherwise a small packet (an SFTP STATUS,
# a window adjust) written while an earlier one is unacknowledged waits
# for the client's delayed ACK, and an upload stalls for 40 ms at a time.
# The option is read back from the live connection: a probe duplicates the
# processes' descriptors (pidfd_getfd) and asks the kernel with
# getsockopt.  OpenSSH's ssh, which sets the option itself, shows that the
# probe reads it.
. "$top_srcdir/tests/regress/lib.sh"
require_cmd ssh ssh-keygen
FSSHD=$(ferry_bin fsshd)
[ -x "$FSSHD" ] || skip_all "fsshd not built"
/usr/bin/python3 -c 'import os; os.pidfd_open' 2>/dev/null ||
    skip_all "python3 has no os.pidfd_open"

# probe PID: "pid local-port peer-port nodelay" for each TCP socket held
# by PID or its descendants.
cat >"$TMP/probe.py" <<'EOF'
import ctypes, os, socket, sys

SYS_PIDFD_GETFD = 438	# the same number on every Linux architecture
libc = ctypes.CDLL(None, use_errno=True)
root = int(sys.argv[1])
kids = {}
for p in os.listdir("/proc"):
	if not p.isdigit():
		continue
	try:
		with open("/proc/%s/stat" % p) as f:
			ppid = int(f.read().rsplit(")", 1)[1].split()[1])
	except (OSError, ValueError, IndexError):
		continue
	kids.setdefault(ppid, []).append(int(p))
todo, tree = [root], []
while todo:
	p = todo.pop()
	tree.append(p)
	todo.extend(kids.get(p, []))
for pid in tree:
	try:
		pidfd = os.pidfd_open(pid)
		fds = os.listdir("/proc/%d/fd" % pid)
	except OSError:
		continue
	for fd in fds:
		try:
			what = os.readlink("/proc/%d/fd/%s" % (pid, fd))
		except OSError:
			continue
		if not what.startswith("socket:"):
			continue
		n = libc.syscall(SYS_PIDFD_GETFD, pidfd, int(fd), 0)
		if n < 0:
			err = ctypes.get_errno()
			sys.exit("pidfd_getfd: " + os.strerror(err))
		s = socket.socket(fileno=n)
		try:
			if s.family in (socket.AF_INET, socket.AF_INET6) and \
			    s.type == socket.SOCK_STREAM:
				nd = s.getsockopt(socket.IPPROTO_TCP,
				    socket.TCP_NODELAY)
				print(pid, s.getsockname()[1],
				    s.getpeername()[1], nd)
		except OSError:
			pass
		finally:
			s.close()
	os.close(pidfd)
EOF
probe() { /usr/bin/python3 "$TMP/probe.py" "$1"; }

home=$TMP/home
mkdir -p "$home/.ssh"
chmod 700 "$home" "$home/.ssh"
ssh-keygen -q -t ed25519 -N '' -f "$TMP/id" </dev/null
cp "$TMP/id.pub" "$home/.ssh/authorized_keys"
port=$(free_port)
HOME=$home "$FSSHD" -p "$port" >"$TMP/server.log" 2>&1 &
server_pid=$!
track_pid "$server_pid"
wait_port "$port" || skip_all "fsshd did not start"
keyfile=$home/.local/state/ferry/ssh_host_ed25519_key.pub
wait_file "$keyfile"
echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$keyfile")" >"$TMP/known"

: >"$TMP/ssh.out"
ssh -F /dev/null -o UserKnownHostsFile="$TMP/known" \
    -o StrictHostKeyChecking=yes -o BatchMode=yes -o IdentitiesOnly=yes \
    -i "$TMP/id" -p "$port" "$(id -un)@127.0.0.1" 'echo ready; sleep 60' \
    >"$TMP/ssh.out" 2>"$TMP/ssh.err" </dev/null &
ssh_pid=$!
track_pid "$ssh_pid"
wait_log "$TMP/ssh.out" ready
ok "$(grep -q ready "$TMP/ssh.out"; echo $?)" "ssh runs a command through fsshd"

# A master connection; an SFTP channel whose first message is too long.
sshopts=(-F /dev/null -o UserKnownHostsFile="$TMP/known"
    -o StrictHostKeyChecking=yes -o BatchMode=yes -o IdentitiesOnly=yes
    -i "$TMP/id" -p "$port" -o ControlPath="$TMP/mux")
ssh "${sshopts[@]}" -o ControlMaster=yes -N -f "$(id -un)@127.0.0.1" \
    2>"$TMP/master.err"
ok $? "a master connection"
at_exit "ssh ${sshopts[*]} -O exit $(id -un)@127.0.0.1"
printf '\377\377\377\377\001\000\000\000\003' >"$TMP/bad"
timeout 60 ssh "${sshopts[@]}" -s "$(id -un)@127.0.0.1" sftp <"$TMP/bad" \
    >"$TMP/bad.out" 2>"$TMP/bad.err"
ok "$( [ $? -ne 124 ] && grep -q 'oversized first message' "$TMP/server.log"
    echo $?)" "an oversized first SFTP message ends the channel"
out=$(timeout 60 ssh "${sshopts[@]}" "$(id -un)@127.0.0.1" 'echo alive' 2>&1)
ok "$( [ "$out" = alive ]; echo $?)" "and the connection goes on serving"

if ! probe "$ssh_pid" >"$TMP/client" 2>"$TMP/probe.err"; then
	diag "$(cat "$TMP/probe.err")"
	skip "cannot read another process's sockets here (needs ptrace rights)"
	skip "cannot read another process's sockets here (needs ptrace rights)"
	done_testing
fi
read -r _ cport _ cnodelay <"$TMP/client"
ok "$( [ -n "${cport:-}" ] && [ "$cnodelay" -ne 0 ]; echo $?)" \
    "the probe reads TCP_NODELAY on OpenSSH's client socket"

probe "$server_pid" >"$TMP/server" 2>>"$TMP/probe.err"
# The connection's sockets on the server side: ours, from the client's port.
awk -v p="$port" -v c="${cport:-0}" '$2 == p && $3 == c' "$TMP/server" \
    >"$TMP/conn"
diag "server sockets: $(tr '\n' ';' <"$TMP/conn")"
ok "$( [ -s "$TMP/conn" ] && awk '$4 == 0 { bad = 1 } END { exit bad }' \
    "$TMP/conn"; echo $?)" "fsshd sets TCP_NODELAY on the connection's socket"
done_testing
