# Shared shell library for regress tests.  Source it first:
#
#   . "$top_srcdir/tests/regress/lib.sh"
#
# It creates $TMP (a fresh directory removed on exit, even on failure),
# kills every process registered with track_pid on exit, and provides TAP
# output (ok, skip, done_testing), free loopback ports, and helpers to run
# OpenSSH's sshd as a test server.
#
# Tests run on loaded machines (CI: two test jobs on two cores, and the
# whole suite again under ASan): never sleep a fixed time to let something
# happen, wait for it (wait_until, wait_file, wait_log, wait_port,
# wait_gone, stop_pid, agent_start; $FERRY_WAIT seconds, 60), and assert
# no upper bound on how long anything takes.
set -u
: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ferry-test.XXXXXX")
chmod 755 "$TMP"
_tap_n=0
_tap_failed=0
_pids=()
_at_exit=()

# at_exit COMMAND...: run COMMAND (eval'd) at exit, after processes stop.
at_exit() { _at_exit+=("$*"); }

_cleanup() {
	local p
	for p in "${_pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${_pids[@]}"; do
		wait "$p" 2>/dev/null
	done
	for p in "${_at_exit[@]}"; do
		eval "$p" >/dev/null 2>&1
	done
	if [ -f "$TMP.ports" ]; then
		while read -r p; do
			rmdir "$FERRY_PORT_DIR/$p"
		done <"$TMP.ports" 2>/dev/null
	fi
	rm -rf "$TMP" "$TMP.ports"
}
trap _cleanup EXIT
trap 'exit 130' INT TERM

# Register a background process to be killed at exit.
track_pid() { _pids+=("$1"); }

# ok CONDITION-EXIT-STATUS DESCRIPTION: `cmd; ok $? "what"` or
# `ok "$( [ a = b ]; echo $? )" "what"`.
ok() {
	_tap_n=$((_tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $_tap_n - $2"
	else
		echo "not ok $_tap_n - $2"
		_tap_failed=$((_tap_failed + 1))
		return 1
	fi
}

# check DESCRIPTION COMMAND...: run COMMAND, report its success.
check() {
	local what=$1
	shift
	"$@"
	ok $? "$what"
}

# check_fails DESCRIPTION COMMAND...: COMMAND must fail.
check_fails() {
	local what=$1
	shift
	! "$@"
	ok $? "$what"
}

skip() {
	_tap_n=$((_tap_n + 1))
	echo "ok $_tap_n # SKIP $1"
}

diag() { echo "# $*"; }

# Skip the whole test (exit 77) with a reason.
skip_all() {
	echo "1..0 # SKIP $1"
	exit 77
}

require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip_all "$c is not installed"
	done
}

require_root() {
	[ "$(id -u)" -eq 0 ] || skip_all "needs root"
}

done_testing() {
	echo "1..$_tap_n"
	[ "$_tap_failed" -eq 0 ]
	exit $?
}

# How long the wait_* helpers wait for their condition, in seconds.  The
# deadline is generous on purpose: CI runs on a loaded two-core machine
# (and under ASan), and a wait ends as soon as its condition holds, so only
# a real failure ever pays for it.  Tests wait for a condition (a file, a
# log line, a listening port, a process gone), never for a fixed time.
: "${FERRY_WAIT:=60}"

# wait_until COMMAND...: run COMMAND every 0.1 s until it succeeds, for at
# most $FERRY_WAIT seconds; 1 if it never did.
wait_until() {
	local end=$((SECONDS + FERRY_WAIT + 1))
	until "$@"; do
		if [ "$SECONDS" -ge "$end" ]; then
			echo "# timed out waiting for: $*" >&2
			return 1
		fi
		sleep 0.1
	done
}

# wait_file FILE: until FILE exists and is not empty.
wait_file() { wait_until test -s "$1"; }

# wait_log FILE ERE [COUNT]: until FILE has COUNT (1) lines matching ERE.
_log_has() { [ "$(grep -Ec -- "$2" "$1" 2>/dev/null)" -ge "$3" ]; }
wait_log() { wait_until _log_has "$1" "$2" "${3:-1}"; }

# pid_alive PID: whether PID runs (a zombie, exited but not yet reaped,
# counts as gone: kill -0 would still succeed on it).
pid_alive() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "${st%% *}" != Z ]
}
_pid_gone() { ! pid_alive "$1"; }

# wait_gone PID: until PID has exited; reaps it when it is our child.
wait_gone() {
	wait_until _pid_gone "$1" || return 1
	wait "$1" 2>/dev/null
	return 0
}

# stop_pid PID [SIGNAL]: send SIGNAL (TERM) to PID and wait until it has
# exited, so that what it held (a listening port, a pid file) is free.
stop_pid() {
	kill -"${2:-TERM}" "$1" 2>/dev/null
	wait_gone "$1"
}

# A free TCP port on 127.0.0.1 (bound to port 0 and read back).  The port
# is only free when we look: the server binds it later.  Two things keep
# another test from being handed the same port in between: a port is
# never handed out twice while a test runs, neither to it nor to a
# concurrent test (make check runs several at once): each port handed out
# is reserved by a directory made atomically under $FERRY_PORT_DIR, listed
# in $TMP.ports and removed at exit (reservations older than an hour,
# left by a killed test, are cleared).
: "${FERRY_PORT_DIR:=${TMPDIR:-/tmp}/ferry-ports-$(id -u)}"
free_port() {
	local p i
	mkdir -p "$FERRY_PORT_DIR" 2>/dev/null
	for i in $(seq 1 50); do
		p=$(/usr/bin/python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()') || return 1
		find "$FERRY_PORT_DIR" -maxdepth 1 -name "$p" -mmin +60 \
		    -exec rmdir {} + 2>/dev/null
		mkdir "$FERRY_PORT_DIR/$p" 2>/dev/null || continue
		echo "$p" >>"$TMP.ports"
		echo "$p"
		return 0
	done
	# The reservation directory is unusable: the kernel's choice alone.
	echo "$p"
}

# wait_port PORT: wait until something accepts on 127.0.0.1:PORT.
_port_accepts() {
	/usr/bin/python3 -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)
s.close()' "$1" 2>/dev/null
}
wait_port() {
	wait_until _port_accepts "$1" 2>/dev/null && return 0
	echo "# nothing listens on 127.0.0.1:$1" >&2
	return 1
}

# agent_start SOCK: ssh-agent -D listening on SOCK (stopped at exit), once
# it answers: the socket file appears when it binds, before it listens.
_agent_answers() {
	SSH_AUTH_SOCK=$1 ssh-add -l >/dev/null 2>&1
	[ $? -le 1 ]	# 2: no connection
}
agent_start() {
	ssh-agent -D -a "$1" >/dev/null 2>&1 &
	track_pid $!
	wait_until _agent_answers "$1"
}

# Program paths in the build tree.
ferry_bin() { echo "$top_builddir/src/$1"; }

# openssh_sshd_setup [CONFIG-LINES...]: prepare (not start) OpenSSH's sshd
# in $TMP/sshd for the current user, with a client key in $TMP/id_ed25519.
# Sets SSHD_PORT, SSHD_CONFIG and SSH_OPTS (an array for ssh/sftp/scp).
openssh_sshd_setup() {
	require_cmd /usr/sbin/sshd ssh ssh-keygen
	local d=$TMP/sshd line
	mkdir -p "$d"
	[ "$(id -u)" -eq 0 ] && mkdir -p /run/sshd
	ssh-keygen -q -t ed25519 -N '' -f "$d/host_ed25519" </dev/null >/dev/null
	[ -f "$TMP/id_ed25519" ] ||
		ssh-keygen -q -t ed25519 -N '' -f "$TMP/id_ed25519" </dev/null >/dev/null
	cp "$TMP/id_ed25519.pub" "$d/authorized_keys"
	chmod 644 "$d/authorized_keys"
	SSHD_PORT=$(free_port)
	SSHD_CONFIG=$d/sshd_config
	{
		for line in "$@"; do
			echo "$line"
		done
		echo "Port $SSHD_PORT"
		echo "ListenAddress 127.0.0.1"
		echo "HostKey $d/host_ed25519"
		echo "PidFile $d/sshd.pid"
		echo "UsePAM no"
		echo "StrictModes no"
		echo "PermitRootLogin yes"
		echo "PasswordAuthentication no"
		echo "KbdInteractiveAuthentication no"
		echo "AuthorizedKeysFile $d/authorized_keys"
		echo "LogLevel DEBUG1"
	} >"$SSHD_CONFIG"
	echo "[127.0.0.1]:$SSHD_PORT $(cat "$d/host_ed25519.pub")" >"$TMP/known_hosts"
	SSH_OPTS=(-o "UserKnownHostsFile=$TMP/known_hosts" -o StrictHostKeyChecking=yes
	    -o BatchMode=yes -o IdentitiesOnly=yes -o "IdentityFile=$TMP/id_ed25519"
	    -o LogLevel=ERROR -F /dev/null)
}

# openssh_sshd_start: start the sshd prepared by openssh_sshd_setup.
openssh_sshd_start() {
	/usr/sbin/sshd -D -e -f "$SSHD_CONFIG" >"$TMP/sshd/sshd.log" 2>&1 &
	track_pid $!
	wait_port "$SSHD_PORT"
}
