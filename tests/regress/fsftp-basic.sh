#!/usr/bin/env bash
# fsftp's command battery against OpenSSH's sftp-server and fsftp-server
# through -D, and against OpenSSH's sshd both with the in-process client
# (the default) and through -S ssh: transfers of
# 0, 1, 32767, 32768, 255 KiB-1/+0/+1 and 100 MiB, trees of 2,000 small
# files both ways, file operations, listings; batch exit codes and error
# messages compared with OpenSSH's sftp on the same batches; the argument
# vector given to -S program compared with OpenSSH's; host:path and
# sftp:// destinations.  With FSFTP_BATTERY=sshd (fsftp-basic-sshd.sh)
# only the runs through sshd, so that the two halves run in parallel.
. "${top_srcdir:-.}/tests/regress/lib.sh"
require_cmd sftp cmp sha256sum diff
FSFTP=$(ferry_bin fsftp)
FSS=$(cd "$(dirname "$(ferry_bin fsftp-server)")" && pwd)/fsftp-server
OSS=/usr/lib/openssh/sftp-server
[ -x "$FSFTP" ] || skip_all "fsftp not built"
L=$TMP/local
R=$TMP/remote
mkdir -p "$L" "$R"

# fb SERVER BATCH-TEXT [options]: fsftp -b in $R against -D SERVER, or
# through sshd into $R: in-process for "inproc", with ssh for "ssh".
fb() {
	local srv=$1 text=$2 how
	shift 2
	printf '%s\n' "$text" >"$TMP/batch"
	case $srv in
	inproc|ssh)
		how=()
		[ "$srv" = ssh ] && how=(-S ssh)
		(cd "$R" && timeout 120 "$FSFTP" "${SSH_OPTS[@]}" "${how[@]}" \
		    -P "$SSHD_PORT" "$@" -b "$TMP/batch" "127.0.0.1:$R") \
		    >"$TMP/out" 2>"$TMP/err"
		;;
	*)
		(cd "$R" && timeout 120 "$FSFTP" "$@" -b "$TMP/batch" \
		    -D "$srv") >"$TMP/out" 2>"$TMP/err"
		;;
	esac
}

sizes="0 1 32767 32768 261119 261120 261121"
for s in $sizes; do
	head -c "$s" /dev/urandom >"$L/f$s"
done
head -c $((100 * 1024 * 1024)) /dev/urandom >"$L/huge"
mkdir -p "$L/tree"
for d in $(seq 1 20); do
	mkdir -p "$L/tree/d$d"
	for f in $(seq 1 100); do
		printf '%s-%s\n' "$d" "$f" >"$L/tree/d$d/f$f"
	done
done
mkdir -p "$L/tree/empty"

battery=${FSFTP_BATTERY:-direct}
servers=()
if [ "$battery" = direct ]; then
	servers=("$FSS")
	[ -x "$OSS" ] && servers+=("$OSS")
# Through OpenSSH's sshd: in-process (the default) and -S ssh.
elif openssh_sshd_setup "Subsystem sftp $FSS" && openssh_sshd_start; then
	servers+=(inproc ssh)
else
	skip_all "OpenSSH's sshd did not start"
fi
for srv in "${servers[@]}"; do
	n=$(basename "$srv")
	rm -rf "${R:?}"/* "$L/back"
	mkdir -p "$L/back"
	text="lcd $L"
	for s in $sizes; do
		text="$text
put f$s
get f$s back/f$s"
	done
	fb "$srv" "$text"
	ok $? "$n: put/get of every size succeeds"
	for s in $sizes; do
		ok "$(cmp -s "$L/f$s" "$R/f$s" && cmp -s "$L/f$s" "$L/back/f$s"; echo $?)" \
		    "$n: $s bytes intact both ways"
	done
	# ssh as the transport gets the small sizes only (time).
	if [ "$srv" != ssh ]; then
		start=$(date +%s%N)
		fb "$srv" "put $L/huge huge
get huge $L/back/huge"
		ok $? "$n: 100 MiB put and get"
		diag "$n: 100 MiB both ways in $(( ($(date +%s%N) - start) / 1000000 )) ms"
		ok "$( [ "$(sha256sum <"$L/huge")" = "$(sha256sum <"$L/back/huge")" ]; echo $?)" \
		    "$n: 100 MiB intact"
		rm -f "$R/huge" "$L/back/huge"
	fi
	# The tree is the engine's work: not repeated through ssh (time).
	if [ "$srv" != ssh ]; then
		start=$(date +%s%N)
		fb "$srv" "put -r $L/tree tree
get -r tree $L/back/tree"
		ok $? "$n: put -r and get -r of 2,000 small files"
		diag "$n: 2,000 files both ways in $(( ($(date +%s%N) - start) / 1000000 )) ms"
		check "$n: uploaded tree identical" diff -r "$L/tree" "$R/tree"
		check "$n: downloaded tree identical" diff -r "$L/tree" "$L/back/tree"
	else
		mkdir -p "$R/tree/empty"
	fi
	fb "$srv" "mkdir dir
rename f1 dir/g1
ln -s g1 dir/soft
symlink g1 dir/soft2
chmod 600 dir/g1
cd dir
pwd
ls -1
ls -l g1
ls -1 g*
cd ..
rm f0
rmdir tree/empty
lumask 077
version
df
-rm nothere
lpwd"
	ok $? "$n: file operations succeed"
	ok "$( [ "$(stat -c %a "$R/dir/g1")" = 600 ] && [ ! -e "$R/f0" ] &&
	    [ "$(readlink "$R/dir/soft")" = g1 ] && [ ! -e "$R/tree/empty" ];
	    echo $?)" "$n: their effects are seen on disk"
	grep -q "^Remote working directory: $R/dir$" "$TMP/out" &&
	    grep -q "^soft2$" "$TMP/out" && grep -q "^-rw-------.* g1$" "$TMP/out"
	ok $? "$n: pwd, ls -1 and ls -l print as OpenSSH's sftp"
	fb "$srv" "cp dir/g1 copy
ln dir/g1 hard"
	rc=$?
	if [ "$n" = fsftp-server ] || [ "$n" = inproc ] || [ "$n" = ssh ]; then
		ok "$( [ $rc -eq 0 ] && cmp -s "$R/dir/g1" "$R/copy" &&
		    [ "$(stat -c %h "$R/hard")" = 2 ]; echo $?)" "$n: cp and ln"
	fi
done

# Through OpenSSH's sshd: no ssh in PATH is needed in-process.
if [ "$battery" = sshd ]; then
	mkdir -p "$TMP/nobin"
	printf 'put %s/f32768 viassh\nget viassh %s/viassh-back\nls -1\n' \
	    "$L" "$L" >"$TMP/eb"
	(cd "$R" && timeout 60 env PATH="$TMP/nobin" "$FSFTP" "${SSH_OPTS[@]}" \
	    -P "$SSHD_PORT" -b "$TMP/eb" "$(id -un)@127.0.0.1") >"$TMP/out" 2>&1
	ok "$( [ $? -eq 0 ] && cmp -s "$L/f32768" "$L/viassh-back"; echo $?)" \
	    "through sshd without ssh in PATH"
	(cd "$R" && timeout 60 env PATH="$TMP/nobin" "$FSFTP" "${SSH_OPTS[@]}" \
	    -P "$SSHD_PORT" -S ssh -b "$TMP/eb" "$(id -un)@127.0.0.1") \
	    >"$TMP/out" 2>&1
	ok "$( [ $? -ne 0 ] && grep -q 'exec: ssh: No such file' "$TMP/out"; echo $?)" \
	    "... while -S ssh needs it: $(head -1 "$TMP/out")"
	done_testing
fi

# -l: 500 KB each way at 8000 Kbit/s (1 MB/s) takes about a second.
head -c 500000 /dev/urandom >"$L/half"
start=$(date +%s%N)
fb "$FSS" "get $L/half half-back
put $L/half half-up" -l 8000
ms=$(( ($(date +%s%N) - start) / 1000000 ))
ok "$( [ "$ms" -ge 850 ] && cmp -s "$L/half" "$R/half-back" &&
    cmp -s "$L/half" "$R/half-up"; echo $?)" "-l limits the rate both ways ($ms ms)"

# Batch failures: exit status and messages as OpenSSH's sftp prints them.
rm -rf "${R:?}"/*
printf 'x\n' >"$R/file"
mkdir -p "$R/adir"
head -c 5000 /dev/zero >"$R/adir/five-k"
printf 'y\n' >"$R/adir/.hidden"
while IFS= read -r cmd; do
	printf '%s\n' "$cmd" >"$TMP/eb"
	(cd "$R" && sftp -b "$TMP/eb" -D "$OSS") >"$TMP/o1" 2>"$TMP/e1"
	r1=$?
	(cd "$R" && "$FSFTP" -b "$TMP/eb" -D "$OSS") >"$TMP/o2" 2>"$TMP/e2"
	r2=$?
	ok "$( [ $r1 = $r2 ] && cmp -s "$TMP/o1" "$TMP/o2" &&
	    cmp -s "$TMP/e1" "$TMP/e2"; echo $?)" "batch '${cmd//$'\n'/; }' as OpenSSH's sftp (exit $r1)"
done <<'EOB'
get nothere
get
put /nonexistent
put
cd nothere
cd file
rm nothere
rmdir nothere
mkdir adir
lcd /nonexistent
bogus
chmod 644 nothere
chmod x file
chown x file
chgrp 0 nothere
rename nothere x
ln a b
symlink a
ls nothere
lumask 999
cp nothere x
ls
ls -1
ls -l
ls -la adir
ls -lh adir
ls -1a adir
ls adir/*
ls -l adir/*
ls -l file
ls -1r
pwd
lpwd
version
EOB
printf -- '-rm nothere\npwd\nget nothere\npwd\n' >"$TMP/eb"
(cd "$R" && sftp -b "$TMP/eb" -D "$OSS") >"$TMP/o1" 2>"$TMP/e1"
r1=$?
(cd "$R" && "$FSFTP" -b "$TMP/eb" -D "$OSS") >"$TMP/o2" 2>"$TMP/e2"
ok "$( [ $r1 = $? ] && [ $r1 = 1 ] && cmp -s "$TMP/o1" "$TMP/o2" &&
    cmp -s "$TMP/e1" "$TMP/e2"; echo $?)" \
    "'-' ignores a failure, the next failure aborts, as OpenSSH's sftp"
printf '@pwd\n' >"$TMP/eb"
(cd "$R" && "$FSFTP" -b "$TMP/eb" -D "$OSS") >"$TMP/o2" 2>&1
ok "$( [ "$(cat "$TMP/o2")" = "Remote working directory: $R" ]; echo $?)" \
    "'@' runs a command without echoing it"

# -S program: the argument vector, compared with OpenSSH's sftp.
cat >"$TMP/fake-ssh" <<EOS
#!/bin/sh
printf '%s\n' "\$@" >"\$FAKE_ARGS"
exec "$FSS"
EOS
chmod +x "$TMP/fake-ssh"
printf 'pwd\n' >"$TMP/eb"
opts=(-q -P 2222 -o Foo=bar -i /id -F /cfg -C -4 -c aes128-ctr -J jump)
(cd "$R" && FAKE_ARGS=$TMP/a1 sftp "${opts[@]}" -S "$TMP/fake-ssh" \
    -b "$TMP/eb" user@example.org) >/dev/null 2>&1
(cd "$R" && FAKE_ARGS=$TMP/a2 "$FSFTP" "${opts[@]}" -S "$TMP/fake-ssh" \
    -b "$TMP/eb" user@example.org) >/dev/null 2>&1
ok $? "fsftp -S program runs a session"
check "-S program gets OpenSSH's sftp's arguments" diff "$TMP/a1" "$TMP/a2"
printf 'hello\n' >"$R/dl"
(cd "$L" && FAKE_ARGS=$TMP/a3 "$FSFTP" -q -S "$TMP/fake-ssh" \
    "user@host:$R/dl" "$L/dl-back") >/dev/null 2>&1
ok "$( [ $? -eq 0 ] && cmp -s "$R/dl" "$L/dl-back"; echo $?)" \
    "host:file downloads the file"
(cd "$L" && FAKE_ARGS=$TMP/a4 "$FSFTP" -q -S "$TMP/fake-ssh" \
    "sftp://us%65r@example.org:2200/$R/dl" "$L/dl-uri") >/dev/null 2>&1
ok "$( [ $? -eq 0 ] && cmp -s "$R/dl" "$L/dl-uri" &&
    grep -qx -- '-oPort 2200' "$TMP/a4" && grep -qx user "$TMP/a4"; echo $?)" \
    "sftp://user@host:port/path is understood"

done_testing
