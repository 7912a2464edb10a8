#!/usr/bin/env bash
# fsshd against PuTTY's command-line tools (putty-tools), an independent
# SSH-2 implementation, on 127.0.0.1: plink runs commands (exit status,
# 8 MiB each way, rekeying every MiB) with ed25519, RSA and ECDSA keys
# converted by puttygen and with a password; one plink login per key
# exchange, cipher, MAC, host key algorithm and compression PuTTY shares
# with fsshd (fsshd is restricted to the one algorithm; PuTTY's own
# preferences are set in a saved session, as plink has no option for
# them); pscp (SFTP and -scp, 16 MiB each way, -r) and psftp -b against
# fsshd's in-process SFTP server; and the embedded default fsshd.
#
# PuTTY 0.78 offers no hmac-sha2-512 (either form) and no UMAC: those are
# not tried.  pscp -r -sftp into a directory
# that does not exist yet fails in PuTTY itself (it creates the directory,
# then opens the directory's own name for the first file), so the trees
# go into existing directories.
. "$top_srcdir/tests/regress/lib.sh"
. "$top_srcdir/tests/regress/fsshd-lib.sh"
fsshd_require plink pscp psftp puttygen chpasswd setpriv cmp

user=ferry-ip$$
home=$TMP/home
fsshd_user "$user" "$home" pk
pw="Pw-$$-sesame"
echo "$user:$pw" | chpasswd || skip_all "cannot set a password"
printf '%s\n' "$pw" >"$TMP/pwfile"
printf 'wrong-%s\n' "$pw" >"$TMP/badpw"
for t in rsa ecdsa; do
	ssh-keygen -q -t "$t" -N '' -f "$TMP/id_$t" </dev/null
	cat "$TMP/id_$t.pub" >>"$home/.ssh/authorized_keys"
done
for k in pk id_rsa id_ecdsa; do
	puttygen "$TMP/$k" -O private -o "$TMP/$k.ppk" 2>/dev/null
	ok $? "puttygen converts the OpenSSH key $k"
done
mkdir -p "$home/up"
chown -R "$user:" "$home"

# Host keys of every type; plink is given all their fingerprints.
ssh-keygen -q -t ed25519 -N '' -f "$TMP/hostkey" </dev/null
ssh-keygen -q -t rsa -N '' -f "$TMP/hostkey_rsa" </dev/null
for b in 256 384 521; do
	ssh-keygen -q -t ecdsa -b "$b" -N '' -f "$TMP/hostkey_p$b" </dev/null
done
hostkeys=(hostkey hostkey_rsa hostkey_p256 hostkey_p384 hostkey_p521)
fps=()
for k in "${hostkeys[@]}"; do
	fps+=(-hostkey "$(ssh-keygen -lf "$TMP/$k.pub" | awk '{ print $2 }')")
done

# PuTTY keeps saved sessions and its host key cache under $HOME/.putty.
phome=$TMP/phome
mkdir -p "$phome/.putty/sessions"
putty_env=(env HOME="$phome")
# session NAME LINES: a saved session (Key=Value lines).
session() { printf '%s\n' "${@:2}" >"$phome/.putty/sessions/$1"; }

# start_fsshd TAG PORT [CONFIG-LINES...]: fsshd with all host keys.
start_fsshd() {
	local tag=$1 p=$2 k
	shift 2
	{
		for k in "${hostkeys[@]:1}"; do
			echo "HostKey $TMP/$k"
		done
		echo "AuthorizedKeysFile .ssh/authorized_keys"
		echo "PasswordAuthentication yes"
		echo "KbdInteractiveAuthentication no"
		echo "UsePAM no"
		echo "PerSourcePenalties no"
		echo "Subsystem sftp internal-sftp"
		echo "LogLevel DEBUG"
		printf '%s\n' "$@"
	} | fsshd_config "$TMP/$tag.conf" "$p" "$TMP/$tag.pid"
	"$FSSHD" -f "$TMP/$tag.conf" -e 2>"$TMP/$tag.log" &
	server_pid=$!
	track_pid "$server_pid"
	wait_port "$p"
}

# pl PORT [plink args...]: plink in batch mode to the test account.
pl() {
	local p=$1
	shift
	timeout 60 "${putty_env[@]}" plink -batch "${fps[@]}" -P "$p" "$@"
}

port=$(free_port)
start_fsshd main "$port"
main_pid=$server_pid

out=$(pl "$port" -i "$TMP/pk.ppk" "$user@127.0.0.1" 'echo "$USER:$PWD"' \
    2>"$TMP/err")
ok "$( [ "$out" = "$user:$home" ]; echo $?)" \
    "plink runs a command with an ed25519 key"
for code in 0 1 42 255; do
	pl "$port" -i "$TMP/pk.ppk" "$user@127.0.0.1" "exit $code" 2>/dev/null
	ok "$( [ $? -eq $code ]; echo $?)" "exit status $code reaches plink"
done
out=$(pl "$port" -i "$TMP/pk.ppk" "$user@127.0.0.1" 'echo out; echo err >&2' \
    2>"$TMP/err")
ok "$( [ "$out" = out ] && grep -qx err "$TMP/err"; echo $?)" \
    "stdout and stderr are kept apart"
for t in rsa ecdsa; do
	out=$(pl "$port" -i "$TMP/id_$t.ppk" "$user@127.0.0.1" 'id -un' 2>/dev/null)
	ok "$( [ "$out" = "$user" ] && grep -q "Accepted publickey for $user .* ${t^^}" \
	    "$TMP/main.log"; echo $?)" "plink logs in with an $t key"
done
out=$(pl "$port" -pwfile "$TMP/pwfile" "$user@127.0.0.1" 'id -un' 2>/dev/null)
ok "$( [ "$out" = "$user" ] && grep -q "Accepted password for $user" \
    "$TMP/main.log"; echo $?)" "plink logs in with a password (-pwfile)"
pl "$port" -pwfile "$TMP/badpw" "$user@127.0.0.1" true >/dev/null 2>&1
ok "$( [ $? -ne 0 ]; echo $?)" "a wrong password is refused"
timeout 30 "${putty_env[@]}" plink -batch -P "$port" -i "$TMP/pk.ppk" \
    -hostkey SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA \
    "$user@127.0.0.1" true >/dev/null 2>&1
ok "$( [ $? -ne 0 ]; echo $?)" "plink refuses a host key it was not given"

head -c $((8 * 1024 * 1024)) /dev/urandom >"$TMP/rand8"
sum8=$(sha256sum <"$TMP/rand8")
out=$(pl "$port" -i "$TMP/pk.ppk" "$user@127.0.0.1" sha256sum <"$TMP/rand8" \
    2>/dev/null)
ok "$( [ "$out" = "$sum8" ]; echo $?)" "8 MiB of plink's stdin arrive intact"
out=$(pl "$port" -i "$TMP/pk.ppk" "$user@127.0.0.1" cat <"$TMP/rand8" \
    2>/dev/null | sha256sum)
ok "$( [ "$out" = "$sum8" ]; echo $?)" "and come back through cat intact"
session rekey RekeyBytes=1M
out=$(pl "$port" -load rekey -v -i "$TMP/pk.ppk" "$user@127.0.0.1" cat \
    <"$TMP/rand8" 2>"$TMP/rekey.err" | sha256sum)
ok "$( [ "$out" = "$sum8" ] &&
    [ "$(grep -c 'Initiating key re-exchange' "$TMP/rekey.err")" -ge 4 ]
    echo $?)" "PuTTY rekeys every MiB (saved session) while 8 MiB go both ways"

# One login per algorithm: fsshd offers only that one.
# alg_run KEYWORD NAME [plink args]: 0 when plink logs in and fsshd's
# kex line names NAME.
alg_run() {
	local p kw=$1 name=$2 out
	shift 2
	p=$(free_port)
	start_fsshd alg "$p" "$kw $name" || return 1
	out=$(pl "$p" "$@" -i "$TMP/pk.ppk" "$user@127.0.0.1" echo alg \
	    2>"$TMP/alg.err")
	kill "$server_pid"
	wait "$server_pid" 2>/dev/null
	[ "$out" = alg ] && grep -E "kex:.*[ /]$name[,/ ]" "$TMP/alg.log" \
	    >/dev/null
}
# PuTTY warns below dh-group14 and refuses in batch mode: ask for it.
session group1 'KEX=dh-group1-sha1,ecdh,dh-gex-sha1,dh-group14-sha1,WARN'
algs() { # KEYWORD NAME... ; NAME=session picks a saved session
	local kw=$1 a bad=() n=0 extra
	shift
	for a in "$@"; do
		extra=()
		case $a in
		*=*) extra=(-load "${a#*=}"); a=${a%%=*} ;;
		esac
		n=$((n + 1))
		alg_run "$kw" "$a" "${extra[@]}" || {
			bad+=("$a")
			cat "$TMP/alg.err" <(grep -E 'kex: |fatal|error' \
			    "$TMP/alg.log") | sed 's/^/# /' | tail -4
		}
	done
	ok "$( [ ${#bad[@]} -eq 0 ]; echo $?)" \
	    "plink logs in with each of $n $kw (failed: ${bad[*]:-none})"
}
algs KexAlgorithms curve25519-sha256 curve25519-sha256@libssh.org \
    ecdh-sha2-nistp256 ecdh-sha2-nistp384 ecdh-sha2-nistp521 \
    diffie-hellman-group-exchange-sha256 diffie-hellman-group16-sha512 \
    diffie-hellman-group18-sha512 diffie-hellman-group14-sha256 \
    diffie-hellman-group14-sha1 diffie-hellman-group1-sha1=group1
algs Ciphers chacha20-poly1305@openssh.com aes128-ctr aes192-ctr aes256-ctr \
    aes128-gcm@openssh.com aes256-gcm@openssh.com
algs MACs hmac-sha2-256-etm@openssh.com hmac-sha2-256 \
    hmac-sha1-etm@openssh.com hmac-sha1
algs HostKeyAlgorithms ssh-ed25519 ecdsa-sha2-nistp256 ecdsa-sha2-nistp384 \
    ecdsa-sha2-nistp521 rsa-sha2-512 rsa-sha2-256 ssh-rsa
p=$(free_port)
start_fsshd comp "$p" "Compression yes"
out=$(pl "$p" -C -i "$TMP/pk.ppk" "$user@127.0.0.1" cat <"$TMP/rand8" \
    2>/dev/null | sha256sum)
kill "$server_pid"
wait "$server_pid" 2>/dev/null
ok "$( [ "$out" = "$sum8" ] && grep -q 'compression zlib@openssh.com' \
    "$TMP/comp.log"; echo $?)" \
    "plink -C: zlib@openssh.com after authentication, 8 MiB both ways"

# pscp and psftp: fsshd's own SFTP server (no fallback to an sftp-server).
head -c $((16 * 1024 * 1024)) /dev/urandom >"$TMP/big"
pscp_run() { timeout 120 "${putty_env[@]}" pscp -batch -q "${fps[@]}" -P "$port" \
    -i "$TMP/pk.ppk" "$@"; }
for proto in sftp scp; do
	pscp_run "-$proto" "$TMP/big" "$user@127.0.0.1:up/big.$proto" 2>"$TMP/err"
	ok "$( [ $? -eq 0 ] && cmp -s "$TMP/big" "$home/up/big.$proto"; echo $?)" \
	    "pscp -$proto uploads 16 MiB"
	pscp_run "-$proto" "$user@127.0.0.1:up/big.$proto" "$TMP/down.$proto" 2>"$TMP/err"
	ok "$( [ $? -eq 0 ] && cmp -s "$TMP/big" "$TMP/down.$proto"; echo $?)" \
	    "pscp -$proto downloads 16 MiB"
	mkdir -p "$TMP/tree/sub" "$home/up/t-$proto" "$TMP/back-$proto"
	echo a >"$TMP/tree/a"
	head -c 70000 /dev/urandom >"$TMP/tree/sub/b"
	chown "$user:" "$home/up/t-$proto"
	pscp_run "-$proto" -r "$TMP/tree" "$user@127.0.0.1:up/t-$proto" 2>"$TMP/err" &&
	    pscp_run "-$proto" -r "$user@127.0.0.1:up/t-$proto/tree" \
	    "$TMP/back-$proto" 2>>"$TMP/err"
	ok "$( [ $? -eq 0 ] && diff -r "$TMP/tree" "$home/up/t-$proto/tree" &&
	    diff -r "$TMP/tree" "$TMP/back-$proto/tree"; echo $?)" \
	    "pscp -$proto -r copies a tree up and back"
	pscp_run "-$proto" "$user@127.0.0.1:up/missing" "$TMP/x" 2>/dev/null
	ok "$( [ $? -ne 0 ] && [ ! -e "$TMP/x" ]; echo $?)" \
	    "pscp -$proto: a missing remote file fails"
done
ok "$( [ "$(grep -c "subsystem sftp for $user" "$TMP/main.log")" -ge 4 ]
    echo $?)" "pscp -sftp used fsshd's SFTP subsystem"

cat >"$TMP/batch" <<EOF
cd up
put $TMP/big p1
ls
rename p1 p2
get p2 $TMP/got
mkdir d
rmdir d
rm p2
EOF
timeout 120 "${putty_env[@]}" psftp -batch "${fps[@]}" -P "$port" \
    -i "$TMP/pk.ppk" -b "$TMP/batch" "$user@127.0.0.1" >"$TMP/psftp.out" 2>&1
ok "$( [ $? -eq 0 ] && cmp -s "$TMP/big" "$TMP/got" &&
    grep -q ' p1$' "$TMP/psftp.out" && grep -q 'mkdir .*/d: OK' "$TMP/psftp.out" &&
    grep -q 'rmdir .*/d: OK' "$TMP/psftp.out" && [ ! -e "$home/up/p2" ] &&
    [ ! -e "$home/up/p1" ] && [ ! -e "$home/up/d" ]; echo $?)" \
    "psftp -b: put, ls, rename, get (16 MiB), mkdir, rmdir, rm"
printf 'cd up\nget nonexistent %s/y\nls\n' "$TMP" >"$TMP/batch2"
timeout 60 "${putty_env[@]}" psftp -batch "${fps[@]}" -P "$port" \
    -i "$TMP/pk.ppk" -b "$TMP/batch2" "$user@127.0.0.1" >"$TMP/psftp2.out" 2>&1
ok "$( [ $? -ne 0 ] && ! grep -q 'Listing directory' "$TMP/psftp2.out"
    echo $?)" "psftp -b stops at a failing command"
kill "$main_pid"
wait "$main_pid" 2>/dev/null

# The embedded default: an ordinary user's fsshd with its own host key.
fsshd_embedded "ferry-ipe$$" "$TMP/ehome"
puttygen "$TMP/id" -O private -o "$TMP/eid.ppk" 2>/dev/null
efp=$(ssh-keygen -lf "$keyfile.pub" | awk '{ print $2 }')
out=$(timeout 60 "${putty_env[@]}" plink -batch -hostkey "$efp" -P "$port" \
    -i "$TMP/eid.ppk" "ferry-ipe$$@127.0.0.1" 'id -un; exit 3' 2>/dev/null)
ok "$( [ $? -eq 3 ] && [ "$out" = "ferry-ipe$$" ]; echo $?)" \
    "plink runs a command on the embedded fsshd (exit status 3)"
timeout 60 "${putty_env[@]}" pscp -batch -q -sftp -hostkey "$efp" -P "$port" \
    -i "$TMP/eid.ppk" "$TMP/rand8" "ferry-ipe$$@127.0.0.1:r8" 2>/dev/null &&
    timeout 60 "${putty_env[@]}" pscp -batch -q -sftp -hostkey "$efp" \
    -P "$port" -i "$TMP/eid.ppk" "ferry-ipe$$@127.0.0.1:r8" "$TMP/r8" 2>/dev/null
ok "$( [ $? -eq 0 ] && cmp -s "$TMP/rand8" "$TMP/ehome/r8" &&
    cmp -s "$TMP/rand8" "$TMP/r8"; echo $?)" \
    "pscp -sftp copies 8 MiB to and from the embedded fsshd"

done_testing
