# Shared setup of the fsshd regress tests (sourced after lib.sh): test
# accounts whose authorized_keys hold a new key, an fsshd_config on a
# free port with the host key $TMP/hostkey, fsshd started in the
# background and waited for, its host key in $TMP/known, and OpenSSH's
# ssh logging in with a key.

# fsshd_require [COMMAND...]: root, OpenSSH's ssh and ssh-keygen, useradd,
# userdel and the COMMANDs, else the test is skipped; FSSHD names fsshd.
fsshd_require() {
	require_root
	require_cmd ssh ssh-keygen useradd userdel "$@"
	FSSHD=$(ferry_bin fsshd)
	[ -x "$FSSHD" ] || skip_all "fsshd not built"
}

# fsshd_user NAME HOME KEY [OPTIONS]: the account NAME (removed at exit)
# with the home HOME it owns, whose .ssh/authorized_keys holds the new
# ed25519 key $TMP/KEY with OPTIONS (and a space) in front.
fsshd_user() {
	local name=$1 home=$2 key=$3
	useradd -M -d "$home" -s /bin/sh -p '*' "$name" ||
	    skip_all "cannot create a test user"
	at_exit "userdel $name"
	mkdir -p "$home/.ssh"
	ssh-keygen -q -t ed25519 -N '' -f "$TMP/$key" </dev/null
	echo "${4:-}$(cat "$TMP/$key.pub")" >"$home/.ssh/authorized_keys"
	chown -R "$name:" "$home"
}

# fsshd_config FILE PORT [PIDFILE]: writes FILE, a configuration that
# listens on 127.0.0.1 port PORT with the host key $TMP/hostkey and the
# pid file PIDFILE ($TMP/fsshd.pid), then the lines read from stdin.
fsshd_config() {
	{
		echo "Port $2"
		echo "ListenAddress 127.0.0.1"
		echo "HostKey $TMP/hostkey"
		echo "PidFile ${3:-$TMP/fsshd.pid}"
		cat
	} >"$1"
}

# fsshd_start CONFIG LOG PORT: fsshd -f CONFIG -e in the background
# (stopped at exit, its stderr in LOG); returns once it is ready: PORT
# listens and the PidFile (if any) is written.  fsshd writes its pid file
# after it has opened and logged every listener, while PORT may accept
# before the others are open and before "Server listening" is logged.
fsshd_start() {
	local pidfile
	pidfile=$(awk 'tolower($1) == "pidfile" { print $2; exit }' "$1")
	case $pidfile in
	""|none) pidfile= ;;
	*) rm -f "$pidfile" ;;
	esac
	"$FSSHD" -f "$1" -e 2>"$2" &
	track_pid $!
	wait_port "$3" && { [ -z "$pidfile" ] || wait_file "$pidfile"; }
}

# fsshd_known PORT [PUBKEY]: adds the host key PUBKEY ($TMP/hostkey.pub)
# of [127.0.0.1]:PORT to $TMP/known.
fsshd_known() {
	echo "[127.0.0.1]:$1 $(cut -d' ' -f1,2 "${2:-$TMP/hostkey.pub}")" \
	    >>"$TMP/known"
}

# OpenSSH's ssh options for a key login (-i KEY follows) to these
# servers: no configuration files, $TMP/known, never a prompt.
FSSHD_SSH=(-F /dev/null -o UserKnownHostsFile="$TMP/known" -o BatchMode=yes
    -o IdentitiesOnly=yes)

# fsshd_ssh SECONDS KEY PORT USER [ssh args...]: ssh with the key $TMP/KEY
# to USER@127.0.0.1 port PORT, stopped after SECONDS.
fsshd_ssh() {
	timeout "$1" ssh "${FSSHD_SSH[@]}" -i "$TMP/$2" -p "$3" "$4@127.0.0.1" \
	    "${@:5}"
}

# fsshd_embedded NAME HOME: the account NAME (as fsshd_user, key $TMP/id,
# home and .ssh 700) running fsshd's embedded default as itself on a
# free port $port, its output in $TMP/server.log; $keyfile is the host
# key it created, $TMP/known holds it for [127.0.0.1]:PATTERN (default
# the port).
fsshd_embedded() {
	fsshd_user "$1" "$2" id
	chmod 700 "$2" "$2/.ssh"
	port=$(free_port)
	setpriv --reuid="$1" --regid="$1" --init-groups env -i HOME="$2" \
	    PATH=/usr/bin:/bin "$FSSHD" -p "$port" >"$TMP/server.log" 2>&1 &
	track_pid $!
	# Its last start-up line comes after it listens.
	wait_port "$port" && wait_log "$TMP/server.log" 'Connect with:'
	keyfile=$2/.local/state/ferry/ssh_host_ed25519_key
	echo "[127.0.0.1]:${3:-$port} $(cut -d' ' -f1,2 "$keyfile.pub")" \
	    >"$TMP/known"
}

# relay_flights PORT COUNTFILE PORTFLAG PROGRAM ARGS...: run the client
# PROGRAM -F /dev/null PORTFLAG RELAYPORT ARGS... (stdin empty) through a
# fresh login-relay.py to 127.0.0.1:PORT, which writes the round-trip
# flights it counted to COUNTFILE; PROGRAM's exit status.
relay_flights() {
	local port=$1 count=$2 flag=$3 prog=$4 pf=$TMP/relay.port rpid rc
	shift 4
	rm -f "$pf" "$count"
	/usr/bin/python3 "$top_srcdir/tests/regress/login-relay.py" "$pf" \
	    "$port" "$count" &
	rpid=$!
	wait_file "$pf"
	timeout 60 "$prog" -F /dev/null "$flag" "$(cat "$pf")" "$@" </dev/null
	rc=$?
	wait "$rpid"
	return $rc
}

# nflights COUNTFILE: the number of flights relay_flights counted.
nflights() { sed -n 's/^flights //p' "$1"; }
