# Shared by the safety regress tests (source after tests/regress/lib.sh):
# an embedded-default fsshd serving a fresh unprivileged test user.
#
#   safety_user NAME	create user NAME$$ with home $SAFETY_HOME and a
#			client key $TMP/id (sets SAFETY_USER)
#   safety_fsshd_start	start fsshd as that user on a free port (sets
#			SAFETY_PORT, SAFETY_PID; waits for the host key)
#   SAFETY_SSH_OPTS	ssh/sftp/fsftp options that trust that host key
#   safety_known PORT	trust it on another port (a relay) too
FSSHD=$(ferry_bin fsshd)
FSFTP=$(ferry_bin fsftp)
# Memory bounds are multiplied by this: ASan's shadow memory and
# quarantine make every process larger.
SAFETY_MEM_SCALE=1
grep -q '^#define FERRY_SANITIZERS 1' "$top_builddir/config.h" 2>/dev/null &&
	SAFETY_MEM_SCALE=8

safety_user() {
	require_root
	require_cmd setpriv useradd userdel ssh-keygen
	[ -x "$FSSHD" ] || skip_all "fsshd not built"
	SAFETY_USER=$1$$
	SAFETY_HOME=$TMP/home
	useradd -M -d "$SAFETY_HOME" -s /bin/sh -p '*' "$SAFETY_USER" ||
		skip_all "cannot create a test user"
	at_exit "userdel $SAFETY_USER"
	mkdir -p "$SAFETY_HOME/.ssh"
	ssh-keygen -q -t ed25519 -N '' -f "$TMP/id" </dev/null
	cp "$TMP/id.pub" "$SAFETY_HOME/.ssh/authorized_keys"
	chown -R "$SAFETY_USER:" "$SAFETY_HOME"
	chmod 700 "$SAFETY_HOME" "$SAFETY_HOME/.ssh"
	SAFETY_PORT=$(free_port)
}

safety_fsshd_start() {
	local key=$SAFETY_HOME/.local/state/ferry/ssh_host_ed25519_key n
	# Ready once it logged its last start-up line (after it listens).
	n=$(grep -c 'Connect with:' "$TMP/fsshd.log" 2>/dev/null)
	# $! must be fsshd itself: no subshell in between.
	setpriv --reuid="$SAFETY_USER" --regid="$SAFETY_USER" --init-groups \
	    env -i HOME="$SAFETY_HOME" PATH=/usr/bin:/bin "$FSSHD" \
	    -p "$SAFETY_PORT" "$@" >>"$TMP/fsshd.log" 2>&1 &
	SAFETY_PID=$!
	track_pid "$SAFETY_PID"
	wait_port "$SAFETY_PORT" || return 1
	wait_log "$TMP/fsshd.log" 'Connect with:' $((${n:-0} + 1)) || return 1
	echo "[127.0.0.1]:$SAFETY_PORT $(cut -d' ' -f1,2 "$key.pub")" >"$TMP/known"
	SAFETY_SSH_OPTS=(-F /dev/null -o UserKnownHostsFile="$TMP/known"
	    -o StrictHostKeyChecking=yes -o BatchMode=yes
	    -o IdentitiesOnly=yes -i "$TMP/id")
}

# safety_known PORT: trust fsshd's host key on PORT too (a relay's).
safety_known() {
	local key=$SAFETY_HOME/.local/state/ferry/ssh_host_ed25519_key
	echo "[127.0.0.1]:$1 $(cut -d' ' -f1,2 "$key.pub")" >>"$TMP/known"
}

# safety_fsshd_stop: end fsshd and the session processes it started.
safety_fsshd_stop() {
	local kids
	kids=$(pgrep -P "$SAFETY_PID" 2>/dev/null)
	kill "$SAFETY_PID" $kids 2>/dev/null
	wait "$SAFETY_PID" 2>/dev/null
}

# safety_rss PID...: summed resident set size in KiB.
safety_rss() {
	local p sum=0 r
	for p in "$@"; do
		r=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
		sum=$((sum + ${r:-0}))
	done
	echo "$sum"
}

sha() { sha256sum <"$1" | cut -d' ' -f1; }
