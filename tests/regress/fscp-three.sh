#!/usr/bin/env bash
# fscp -3 in the SFTP protocol (the default): two SFTP sessions, OpenSSH's
# sshd and fsshd, files streamed from one to the other through this host:
# single files both ways (identical sha256), into a directory, several
# sources and globs, -r -p trees with modes and times, an empty file,
# small -X buffer= and nrequests= (many batches, short of the default),
# errors (a missing source, several sources onto a non-directory, an
# unwritable target) with exit status 1; -X values are checked.  Also
# -O against both servers: -l completes a copy, brace patterns in a
# source ({a,b}, expanded by sshd's shell or fsshd's in-process scp)
# arrive.  -R for real: fsshd (host 1) runs OpenSSH's scp as the test
# user (its glob expanded there), which reaches sshd (host 2) with the
# user's own key and
# ssh_config, in both protocols.
. "$top_srcdir/tests/regress/lib.sh"
. "$top_srcdir/tests/regress/fscp-lib.sh"
require_cmd sha256sum
fscp_setup f3

fs=("$FSCP" -q -3 "${SSH_OPTS[@]}")
fo=("$FSCP" -q -O "${SSH_OPTS[@]}")
F=scp://$u@127.0.0.1:$fport		# fsshd, the test user's home
S=scp://root@127.0.0.1:$SSHD_PORT/	# sshd: "$S$A" is the absolute $A
sum() { sha256sum <"$1" | cut -d' ' -f1; }
same() { [ "$(sum "$1")" = "$(sum "$2")" ]; }

A=$TMP/a			# sshd's side
mkdir -p "$A"
head -c 5000000 /dev/urandom >"$A/big"
head -c 70001 /dev/urandom >"$A/odd"
: >"$A/empty"
mkdir -p "$A/tree/sub dir/deep"
echo one >"$A/tree/one"
echo two >"$A/tree/sub dir/two"
head -c 100000 /dev/urandom >"$A/tree/sub dir/deep/three"
chmod 640 "$A/tree/one"
chmod 750 "$A/tree/sub dir"
touch -d '2001-02-03 04:05:06' "$A/tree/one"

"${fs[@]}" "$S$A/big" "$F/big"
ok "$(same "$A/big" "$uh/big"; echo $?)" "sshd to fsshd: a 5 MB file, identical sha256"
"${fs[@]}" "$F/big" "$S$TMP/back.big"
ok "$(same "$A/big" "$TMP/back.big"; echo $?)" "fsshd to sshd: identical sha256"
"${fs[@]}" "$S$A/odd" "$S$A/empty" "$F/"
ok "$(same "$A/odd" "$uh/odd" && [ -f "$uh/empty" ] && [ ! -s "$uh/empty" ]; echo $?)" \
    "two sources into a directory, an empty file stays empty"
mkdir -p "$uh/g" && chown "$u:" "$uh/g"
"${fs[@]}" "$S$A/o*" "$S$A/b?g" "$F/g"
ok "$( [ "$(cd "$uh/g" && ls | tr '\n' ' ')" = "big odd " ] && same "$A/odd" "$uh/g/odd"; echo $?)" \
    "remote globs on the source host"
"${fs[@]}" -r -p "$S$A/tree" "$F/"
ok "$(diff -r "$A/tree" "$uh/tree" >/dev/null; echo $?)" "-r: the tree arrives whole"
ok "$( [ "$(stat -c '%a %Y' "$uh/tree/one")" = "$(stat -c '%a %Y' "$A/tree/one")" ] &&
    [ "$(stat -c %a "$uh/tree/sub dir")" = 750 ]; echo $?)" "-p: modes and times"
ok "$( [ "$(stat -c %U "$uh/tree/sub dir/deep/three")" = "$u" ]; echo $?)" \
    "written as the target's user"
"${fs[@]}" -r "$F/tree" "$S$TMP/tree2"
ok "$(diff -r "$A/tree" "$TMP/tree2" >/dev/null; echo $?)" "-r back to a new name"

# Small requests, few at a time: many batches, short reads at the end.
"$FSCP" -v -3 -X buffer=1000 -X nrequests=3 "${SSH_OPTS[@]}" "$S$A/odd" \
    "$F/small" 2>"$TMP/v.err"
ok "$(same "$A/odd" "$uh/small"; echo $?)" "-X buffer=1000 nrequests=3: identical"
ok "$(grep -q -- '-3: 3 requests of 1000 bytes' "$TMP/v.err"; echo $?)" \
    "-X buffer= and nrequests= are honoured"

# Errors.
"${fs[@]}" "$S$A/missing" "$F/x" 2>"$TMP/e1"
ok "$( [ $? -eq 1 ] && grep -q missing "$TMP/e1" && [ ! -e "$uh/x" ]; echo $?)" \
    "a missing source: exit status 1, nothing made"
"${fs[@]}" "$S$A/odd" "$S$A/big" "$F/nodir" 2>"$TMP/e2"
ok "$( [ $? -eq 1 ] && grep -q 'Not a directory' "$TMP/e2"; echo $?)" \
    "several sources onto a non-directory: refused"
"${fs[@]}" "$S$A/odd" "$F/../../../nonexistent-$tag/x" 2>"$TMP/e3"
ok "$( [ $? -eq 1 ] && [ -s "$TMP/e3" ]; echo $?)" "an unwritable target: exit status 1"
"${fs[@]}" "$S$A/tree" "$F/t3" 2>"$TMP/e4"
ok "$( [ $? -eq 1 ] && grep -q 'not a regular file' "$TMP/e4"; echo $?)" \
    "a directory without -r: refused"
"${fs[@]}" "$S$A/odd" "$S$A/missing" "$F/g" 2>/dev/null
ok "$( [ $? -eq 1 ] && same "$A/odd" "$uh/g/odd"; echo $?)" \
    "one missing source of two: the other is copied, exit status 1"
cp "$A/odd" "$uh/self" && chown "$u:" "$uh/self"
"${fs[@]}" "$F/self" "$F/./self" 2>"$TMP/e5"
ok "$( [ $? -eq 1 ] && grep -q 'same file' "$TMP/e5" && same "$A/odd" "$uh/self"; echo $?)" \
    "a file onto itself on one account: refused, the file stays whole"
"${fs[@]}" "$F/self" "$F/self2"
ok "$(same "$A/odd" "$uh/self2"; echo $?)" "within one account: copied"

# -O: -l is honoured without changing what arrives (no timing checks).
"${fo[@]}" -l 20000 "$A/odd" "$F/lim"
ok "$( [ $? -eq 0 ] && same "$A/odd" "$uh/lim"; echo $?)" "-O -l: an upload completes, identical"
"${fo[@]}" -l 20000 "$F/lim" "$TMP/lim.back"
ok "$( [ $? -eq 0 ] && same "$A/odd" "$TMP/lim.back"; echo $?)" "-O -l: a download too"
"${fs[@]}" -l 20000 "$S$A/odd" "$F/lim3"
ok "$( [ $? -eq 0 ] && same "$A/odd" "$uh/lim3"; echo $?)" "-3 -l: completes"

# -O: brace patterns, from both servers.
rootsh=$(getent passwd root | cut -d: -f7)
for side in sshd fsshd; do
	if [ $side = sshd ] && [ "${rootsh##*/}" != bash ]; then
		skip "-O sshd: root's shell $rootsh does no brace expansion"
		continue
	fi
	d=$TMP/br-$side
	mkdir -p "$d"
	if [ $side = sshd ]; then src="$S$A/{odd,empty,b{i,x}g}"; else src="$F/{lim,self}"; fi
	"${fo[@]}" "$src" "$d" 2>"$TMP/br.err"
	rc=$?
	if [ $side = sshd ]; then
		ok "$( [ $rc -eq 1 ] && [ "$(ls "$d" | tr '\n' ' ')" = "big empty odd " ] &&
		    grep -q bxg "$TMP/br.err"; echo $?)" \
		    "-O $side: {odd,empty,b{i,x}g} brings each that exists"
	else
		ok "$( [ $rc -eq 0 ] && [ "$(ls "$d" | tr '\n' ' ')" = "lim self " ]; echo $?)" \
		    "-O $side: {lim,self}"
	fi
done

# -R: host 1 (fsshd, the test user) copies to host 2 (sshd) by itself,
# with the user's own key, known hosts and ssh_config there.
install -o "$u" -m 600 "$TMP/id_ed25519" "$uh/.ssh/id_ed25519"
install -o "$u" -m 644 "$TMP/known_hosts" "$uh/.ssh/known_hosts"
cat >"$uh/.ssh/config" <<EOC
Host h2-$tag
	HostName 127.0.0.1
	Port $SSHD_PORT
	User root
	IdentityFile ~/.ssh/id_ed25519
	IdentitiesOnly yes
	UserKnownHostsFile ~/.ssh/known_hosts
	StrictHostKeyChecking yes
	BatchMode yes
EOC
chown "$u:" "$uh/.ssh/config" && chmod 600 "$uh/.ssh/config"
mkdir -p "$TMP/rdir"
for mode in "" -O; do
	rm -rf "$TMP/rdir"/*
	"$FSCP" -q -R $mode "${SSH_OPTS[@]}" "$F/b?g" "h2-$tag:$TMP/rdir/" 2>"$TMP/r.err"
	ok "$( [ $? -eq 0 ] && same "$A/big" "$TMP/rdir/big" && [ "$(ls "$TMP/rdir")" = big ]; echo $?)" \
	    "-R ${mode:-(sftp)}: host 1 copies to host 2 by itself, globs expanded there"
done
"$FSCP" -q -R -r "${SSH_OPTS[@]}" "$F/tree" "h2-$tag:$TMP/rdir/t" 2>/dev/null
ok "$( [ $? -eq 0 ] && diff -r "$A/tree" "$TMP/rdir/t" >/dev/null; echo $?)" "-R -r: a tree"
"$FSCP" -q -R "${SSH_OPTS[@]}" "$F/missing" "h2-$tag:$TMP/rdir/" 2>/dev/null
ok "$( [ $? -ne 0 ]; echo $?)" "-R: a failure on host 1 is fscp's failure"

for bad in buffer=0 buffer=x nrequests=0 foo=1; do
	"$FSCP" -X "$bad" "$A/odd" "$TMP/z" 2>/dev/null
	ok "$( [ $? -ne 0 ] && [ ! -e "$TMP/z" ]; echo $?)" "-X $bad is refused"
done

done_testing
