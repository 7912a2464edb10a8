#!/usr/bin/env bash
# fsftp's in-process SSH client (the default: no ssh program runs, PATH
# holds none) against OpenSSH's sshd: files of 0, 1, 32767, 32768,
# 261120-1/+0/+1 bytes and 8 MiB both ways with equal sha256, compared
# in time with -S ssh; -P, -o Port, a -F config file's Host alias, -i,
# -c and -C; -s with a subsystem name, with a path (exec) and an unknown
# subsystem; -l; a refused connection and an unknown host key in batch
# mode (exit 255 and OpenSSH's words); -J through a second sshd; ^C
# cancelling an interactive transfer; no child process; the host key
# question on a terminal (no, yes); resume; password authentication
# through SSH_ASKPASS (root); and against fsshd's embedded default (root),
# also with a rekey every MiB during 64 MiB transfers.
. "${top_srcdir:-.}/tests/regress/lib.sh"
require_cmd sha256sum cmp
FSFTP=$(ferry_bin fsftp)
FSS=$(cd "$(dirname "$(ferry_bin fsftp-server)")" && pwd)/fsftp-server
FSSHD=$(ferry_bin fsshd)
[ -x "$FSFTP" ] || skip_all "fsftp not built"
openssh_sshd_setup "Subsystem sftp $FSS" || skip_all "no OpenSSH sshd"
openssh_sshd_start || skip_all "OpenSSH's sshd did not start"
port=$SSHD_PORT
me=$(id -un)
L=$TMP/local
R=$TMP/remote
mkdir -p "$L" "$R" "$TMP/nobin"
sum() { sha256sum <"$1" | cut -d' ' -f1; }

# A config whose Host alias carries everything but the port.
cat >"$TMP/cfg" <<CFG
Host ferryalias
    HostName 127.0.0.1
    User $me
Host *
    UserKnownHostsFile $TMP/known_hosts
    GlobalKnownHostsFile /dev/null
    StrictHostKeyChecking yes
    IdentitiesOnly yes
    IdentityAgent none
    LogLevel ERROR
CFG

# fi BATCH-TEXT [options]: fsftp in-process with a PATH without ssh.
fi_() {
	local text=$1
	shift
	printf '%s\n' "$text" >"$TMP/batch"
	(cd "$L" && timeout 60 env PATH=$TMP/nobin "$FSFTP" -F "$TMP/cfg" \
	    -i "$TMP/id_ed25519" "$@" -b "$TMP/batch") >"$TMP/out" 2>"$TMP/err"
}

sizes="0 1 32767 32768 261119 261120 261121 8388608"
text="cd $R"
for s in $sizes; do
	head -c "$s" /dev/urandom >"$L/f$s"
	text="$text
put f$s
get f$s back$s"
done
fi_ "$text" -P "$port" "$me@127.0.0.1"
ok $? "in-process: put and get of every size (no ssh in PATH)"
for s in $sizes; do
	ok "$( [ "$(sum "$L/f$s")" = "$(sum "$R/f$s")" ] &&
	    [ "$(sum "$L/f$s")" = "$(sum "$L/back$s")" ]; echo $?)" \
	    "in-process: $s bytes, sha256 equal both ways"
done

# Resume in-process: a partial copy is verified and completed, both ways.
head -c 1000000 "$L/f8388608" >"$L/part"
head -c 3000000 "$L/f8388608" >"$R/rpart"
fi_ "get -a $R/f8388608 part
put -a f8388608 $R/rpart" -X verify -P "$port" 127.0.0.1
ok "$( [ $? -eq 0 ] && cmp -s "$L/f8388608" "$L/part" &&
    cmp -s "$L/f8388608" "$R/rpart"; echo $?)" "in-process: get -a and put -a resume, -X verify"

# Speed: 64 MiB down in-process and through ssh (for the log).
head -c $((64 * 1024 * 1024)) /dev/urandom >"$R/big"
start=$(date +%s%N)
fi_ "get $R/big $L/big" -P "$port" 127.0.0.1
rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
ok "$( [ $rc -eq 0 ] && cmp -s "$R/big" "$L/big"; echo $?)" \
    "in-process: 64 MiB get intact ($ms ms)"
rm -f "$L/big"
start=$(date +%s%N)
(cd "$L" && timeout 60 "$FSFTP" -S ssh "${SSH_OPTS[@]}" -P "$port" \
    -b /dev/null "127.0.0.1:$R/big" "$L/big") >/dev/null 2>&1
rc=$?
ms2=$(( ($(date +%s%N) - start) / 1000000 ))
ok "$( [ $rc -eq 0 ] && cmp -s "$R/big" "$L/big"; echo $?)" \
    "-S ssh: 64 MiB get intact ($ms2 ms)"
diag "64 MiB get: in-process $ms ms, -S ssh $ms2 ms"
rm -f "$L/big" "$R/big"

# No child process runs during a session: stdin (a fifo held open) keeps
# the session up while its processes are counted, once sshd has started
# the session's sftp subsystem.
mkfifo "$TMP/in"
subs=$(grep -c "Starting session: subsystem 'sftp'" "$TMP/sshd/sshd.log")
(cd "$L" && timeout 60 env PATH=$TMP/nobin \
    "$FSFTP" -F "$TMP/cfg" -i "$TMP/id_ed25519" -P "$port" 127.0.0.1 \
    <"$TMP/in" >"$TMP/out" 2>&1) &
bg=$!
exec 7>"$TMP/in"
wait_log "$TMP/sshd/sshd.log" "Starting session: subsystem 'sftp'" $((subs + 1))
fpid=$(pgrep -n -f "^$FSFTP -F $TMP/cfg")
kids=$( [ -n "$fpid" ] && pgrep -P "$fpid" | wc -l)
(printf 'pwd\n' >&7) 2>/dev/null
exec 7>&-
wait $bg
ok "$( [ -n "$fpid" ] && [ "$kids" -eq 0 ] &&
    grep -q "^Remote working directory: " "$TMP/out"; echo $?)" \
    "in-process: no child process during the session (pid ${fpid:-none})"

# How the destination is reached.
fi_ "pwd" -o "Port=$port" ferryalias
ok "$( [ $? -eq 0 ] && grep -q "^Remote working directory: " "$TMP/out"; echo $?)" \
    "-o Port= and a -F Host alias"
fi_ "pwd" -o "Port $port" "sftp://$me@ferryalias"
ok $? "sftp:// with a Host alias, -o 'Port N'"
fi_ "pwd" "sftp://$me@127.0.0.1:$port"
ok $? "sftp://user@host:port"
(cd "$L" && timeout 60 env PATH=$TMP/nobin "$FSFTP" -F "$TMP/cfg" -P "$port" \
    -b "$TMP/batch" 127.0.0.1) >"$TMP/out" 2>"$TMP/err"
rc=$?
ok "$( [ $rc -eq 255 ] && grep -q "Permission denied (publickey" "$TMP/err" &&
    grep -qx "Connection closed" "$TMP/err"; echo $?)" \
    "without -i the key is missing: $(head -1 "$TMP/err") (rc $rc)"
fi_ "get f1 c1" -P "$port" -c aes128-ctr -C -v "127.0.0.1:$R"
ok "$( [ $? -eq 0 ] && cmp -s "$L/f1" "$L/c1" && grep -q "cipher aes128-ctr" "$TMP/err" &&
    grep -qi "compression.*zlib" "$TMP/err"; echo $?)" "-c, -C and -v reach the client core"

# -s: a subsystem name, a path (run as a command), an unknown name.
fi_ "pwd" -P "$port" -s sftp 127.0.0.1
ok $? "-s sftp"
fi_ "pwd" -P "$port" -s /usr/lib/openssh/sftp-server 127.0.0.1
ok "$( [ $? -eq 0 ] || [ ! -x /usr/lib/openssh/sftp-server ]; echo $?)" \
    "-s /path runs the server as a command"
fi_ "pwd" -P "$port" -s nosuchsubsystem 127.0.0.1
rc=$?
ok "$( [ $rc -eq 255 ] && grep -q "subsystem request failed on channel 0" "$TMP/err" &&
    grep -qx "Connection closed" "$TMP/err"; echo $?)" \
    "an unknown subsystem is refused (rc $rc): $(head -1 "$TMP/err")"

# -l: 500 KB each way at 8000 Kbit/s (1 MB/s) take about a second.
head -c 500000 /dev/urandom >"$L/half"
start=$(date +%s%N)
fi_ "put half $R/half-up
get $R/half-up half-back" -P "$port" -l 8000 127.0.0.1
rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
ok "$( [ $rc -eq 0 ] && [ "$ms" -ge 850 ] && cmp -s "$L/half" "$R/half-up" &&
    cmp -s "$L/half" "$L/half-back"; echo $?)" "-l limits the rate in-process ($ms ms)"

# ^C at the prompt's terminal cancels a transfer, the session goes on.
# Each step waits for what it answers (tests/regress/tty-drive.py): the
# prompt, then the first bytes of the transfer, then the prompt again.
# At 1 MB/s the 4 MB transfer cannot end by itself before the ^C.
DRIVE=$top_srcdir/tests/regress/tty-drive.py
head -c 4000000 /dev/urandom >"$R/slow"
TTY_DRIVE_OUT=$TMP/out.raw timeout 90 /usr/bin/python3 "$DRIVE" "sftp> " \
    "line:get $R/slow $L/slow-part,file:$L/slow-part,key:C,prompt,line:pwd,prompt,line:bye" \
    -- "$FSFTP" -F "$TMP/cfg" -i "$TMP/id_ed25519" -P "$port" -l 8000 \
    127.0.0.1 >"$TMP/drive" 2>&1
rc=$?
tr -d '\r' <"$TMP/out.raw" >"$TMP/out" 2>/dev/null
size=$(stat -c %s "$L/slow-part" 2>/dev/null || echo 0)
ok "$( [ $rc -eq 0 ] && grep -q "^Remote working directory: " "$TMP/out" &&
    [ "$size" -lt 4000000 ]; echo $?)" \
    "interactive ^C cancels the -l paced transfer ($size of 4000000 bytes), the prompt comes back" ||
	diag "$(head -c 600 "$TMP/drive")"
rm -f "$R/slow"

# Failures: a closed port, an unknown host key in batch mode.
dead=$(free_port)
fi_ "pwd" -P "$dead" 127.0.0.1
rc=$?
ok "$( [ $rc -eq 255 ] &&
    grep -qx "fsftp: connect to host 127.0.0.1 port $dead: Connection refused" "$TMP/err" &&
    grep -qx "Connection closed" "$TMP/err"; echo $?)" \
    "connection refused: exit 255 and ssh's words (rc $rc)"
sed "s|UserKnownHostsFile .*|UserKnownHostsFile $TMP/empty_kh|; s|StrictHostKeyChecking yes|StrictHostKeyChecking ask|" \
    "$TMP/cfg" >"$TMP/cfg-ask"
: >"$TMP/empty_kh"
printf 'pwd\n' >"$TMP/batch"
(cd "$L" && timeout 60 env PATH=$TMP/nobin "$FSFTP" -F "$TMP/cfg-ask" \
    -i "$TMP/id_ed25519" -P "$port" -b "$TMP/batch" 127.0.0.1) \
    >"$TMP/out" 2>"$TMP/err" </dev/null
rc=$?
ok "$( [ $rc -eq 255 ] && grep -qx "Host key verification failed." "$TMP/err" &&
    [ ! -s "$TMP/empty_kh" ]; echo $?)" \
    "-b implies BatchMode: an unknown host key is refused (rc $rc)"

# Interactively the host key question is asked on the terminal (answered
# once it is asked: an answer typed earlier may be flushed).
askq() {
	local then=
	[ "$1" = yes ] && then=",wait:sftp> ,line:pwd,wait:sftp> ,line:bye"
	: >"$TMP/out.raw"
	TTY_DRIVE_OUT=$TMP/out.raw timeout 90 /usr/bin/python3 "$DRIVE" \
	    "(yes/no" "line:$1$then" -- "$FSFTP" -F "$TMP/cfg-ask" \
	    -i "$TMP/id_ed25519" -P "$port" 127.0.0.1 >"$TMP/drive" 2>&1
	tr -d '\r' <"$TMP/out.raw" >"$TMP/out"
}
askq no
ok "$(grep -q "can't be established" "$TMP/out" &&
    grep -qx "Host key verification failed." "$TMP/out" &&
    ! grep -q "^Remote working directory" "$TMP/out" &&
    [ ! -s "$TMP/empty_kh" ]; echo $?)" "the host key question answered no refuses"
askq yes
ok "$(grep -q "^Remote working directory: " "$TMP/out" &&
    [ "$(wc -l <"$TMP/empty_kh")" -eq 1 ]; echo $?)" \
    "answered yes: connected, the key is added" || diag "$(head -c 600 "$TMP/drive")"

# -J through a second sshd (the jump runs fssh, found next to fsftp).
port2=$(free_port)
/usr/sbin/sshd -D -e -f "$SSHD_CONFIG" -o Port="$port2" \
    -o PidFile="$TMP/sshd2.pid" >"$TMP/sshd2.log" 2>&1 &
track_pid $!
if wait_port "$port2"; then
	echo "[127.0.0.1]:$port2 $(cat "$TMP/sshd/host_ed25519.pub")" >>"$TMP/known_hosts"
	cat "$TMP/cfg" >"$TMP/cfg-j"
	echo "    IdentityFile $TMP/id_ed25519" >>"$TMP/cfg-j"
	printf 'get %s/f32768 viajump\n' "$R" >"$TMP/batch"
	(cd "$L" && timeout 60 "$FSFTP" -F "$TMP/cfg-j" -J "127.0.0.1:$port2" \
	    -P "$port" -b "$TMP/batch" 127.0.0.1) >"$TMP/out" 2>"$TMP/err"
	ok "$( [ $? -eq 0 ] && cmp -s "$L/f32768" "$L/viajump"; echo $?)" \
	    "-J through a second sshd"
else
	skip "the second sshd did not start"
fi

# Idle at the prompt: a server checking the client every second and
# giving up after two unanswered checks (about 6 s with sshd 9.2) still
# has it after 9 s, because the connection is served while fsftp waits
# for the next command (cd needs the server; pwd would not).
port2=$(free_port)
sed -e "s/^Port .*/Port $port2/" -e "/^PidFile/d" "$SSHD_CONFIG" >"$TMP/sshd/alive_config"
printf 'ClientAliveInterval 1\nClientAliveCountMax 1\nPidFile %s\n' \
    "$TMP/sshd/alive.pid" >>"$TMP/sshd/alive_config"
/usr/sbin/sshd -D -e -f "$TMP/sshd/alive_config" >"$TMP/sshd/alive.log" 2>&1 &
track_pid $!
wait_port "$port2"
sed -n "s/^\[127.0.0.1\]:$port /[127.0.0.1]:$port2 /p" "$TMP/known_hosts" >>"$TMP/known_hosts"
{ echo "cd $R"; echo pwd; sleep 9; echo "cd $R"; echo pwd; echo bye; } |
    (cd "$L" && timeout 60 env PATH=$TMP/nobin "$FSFTP" -F "$TMP/cfg" \
    -i "$TMP/id_ed25519" -P "$port2" "$me@127.0.0.1") >"$TMP/out" 2>"$TMP/err"
ok $? "idle 9 s at the prompt under ClientAliveInterval 1, CountMax 1: exit 0"
check "both pwd commands answered after the idle time" \
    test "$(grep -c "^Remote working directory: $R" "$TMP/out")" -eq 2

# Password authentication through SSH_ASKPASS (needs a test account).
if [ "$(id -u)" -ne 0 ] || ! command -v useradd >/dev/null ||
    ! command -v chpasswd >/dev/null; then
	skip "password tests need root, useradd and chpasswd"
	skip "password tests need root, useradd and chpasswd"
else
	user=ferry-i$$
	useradd -M -d "$TMP" -s /bin/sh "$user" && at_exit "userdel $user"
	echo "$user:Pa55-word" | chpasswd
	printf '#!/bin/sh\necho "$1" >>"%s/asked"\necho Pa55-word\n' "$TMP" \
	    >"$TMP/askpw"
	chmod 755 "$TMP/askpw"
	port3=$(free_port)
	/usr/sbin/sshd -D -e -f "$SSHD_CONFIG" -o Port="$port3" \
	    -o PidFile="$TMP/sshd3.pid" -o PasswordAuthentication=yes \
	    -o UsePAM=yes >"$TMP/sshd3.log" 2>&1 &
	track_pid $!
	wait_port "$port3"
	echo "[127.0.0.1]:$port3 $(cat "$TMP/sshd/host_ed25519.pub")" >>"$TMP/known_hosts"
	rm -f "$TMP/asked"
	# Commands on stdin (not a terminal): not batch mode, so it asks.
	printf 'pwd\n' | (cd "$L" && SSH_ASKPASS=$TMP/askpw \
	    SSH_ASKPASS_REQUIRE=force timeout 60 env PATH=$TMP/nobin "$FSFTP" \
	    -F "$TMP/cfg" -o PreferredAuthentications=password -P "$port3" \
	    "$user@127.0.0.1") >"$TMP/out" 2>"$TMP/err"
	ok "$( [ $? -eq 0 ] && grep -q "^Remote working directory: " "$TMP/out" &&
	    grep -q "$user@127.0.0.1's password:" "$TMP/asked"; echo $?)" \
	    "password through SSH_ASKPASS"
	rm -f "$TMP/asked"
	printf 'pwd\n' >"$TMP/batch"
	(cd "$L" && SSH_ASKPASS=$TMP/askpw SSH_ASKPASS_REQUIRE=force \
	    timeout 60 "$FSFTP" -F "$TMP/cfg" -o PreferredAuthentications=password \
	    -P "$port3" -b "$TMP/batch" "$user@127.0.0.1") >"$TMP/out" 2>"$TMP/err"
	rc=$?
	ok "$( [ $rc -eq 255 ] && [ ! -e "$TMP/asked" ]; echo $?)" \
	    "-b: no password is asked (rc $rc)"
fi

# fsshd's embedded default as an unprivileged test user.
if [ "$(id -u)" -ne 0 ] || [ ! -x "$FSSHD" ] || ! command -v setpriv >/dev/null ||
    ! command -v useradd >/dev/null; then
	skip "fsshd tests need root, setpriv, useradd and fsshd"
	skip "fsshd tests need root, setpriv, useradd and fsshd"
else
	fuser=ferry-j$$
	fhome=$TMP/fhome
	useradd -M -d "$fhome" -s /bin/sh -p '*' "$fuser" && at_exit "userdel $fuser"
	mkdir -p "$fhome/.ssh"
	cp "$TMP/id_ed25519.pub" "$fhome/.ssh/authorized_keys"
	chown -R "$fuser:" "$fhome"
	chmod 700 "$fhome" "$fhome/.ssh"
	fport=$(free_port)
	setpriv --reuid="$fuser" --regid="$fuser" --init-groups env -i \
	    HOME="$fhome" PATH=/usr/bin:/bin "$FSSHD" -p "$fport" \
	    >"$TMP/fsshd.log" 2>&1 &
	track_pid $!
	wait_port "$fport"
	keyfile=$fhome/.local/state/ferry/ssh_host_ed25519_key
	echo "[127.0.0.1]:$fport $(cut -d' ' -f1,2 "$keyfile.pub")" >>"$TMP/known_hosts"
	text=""
	for s in $sizes; do
		text="$text
put f$s
get f$s fb$s"
	done
	fi_ "$text" -P "$fport" "$fuser@127.0.0.1"
	ok $? "fsshd: put and get of every size in-process"
	bad=0
	for s in $sizes; do
		[ "$(sum "$L/f$s")" = "$(sum "$fhome/f$s")" ] &&
		    [ "$(sum "$L/f$s")" = "$(sum "$L/fb$s")" ] || bad=1
	done
	ok "$bad" "fsshd: every size has an equal sha256 both ways"
	# Rekeys every MiB while fsshd streams 64 MiB with a full window:
	# what it sends during each key exchange is held, within bounds.
	head -c $((64 << 20)) /dev/urandom >"$fhome/big"
	chown "$fuser:" "$fhome/big"
	fi_ "get big bigback
put bigback bigup" -o RekeyLimit=1M -P "$fport" "$fuser@127.0.0.1"
	ok $? "fsshd: 64 MiB each way with a rekey every MiB"
	check "and both copies are identical" cmp -s "$fhome/big" "$L/bigback"
	check "both ways" cmp -s "$fhome/big" "$fhome/bigup"
fi
done_testing
