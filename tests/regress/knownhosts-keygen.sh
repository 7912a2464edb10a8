#!/usr/bin/env bash
# fssh-keygen -F, -R and -H against OpenSSH's ssh-keygen on the same
# known_hosts files: output, messages, exit statuses and the rewritten
# file (hashes aside, which are salted at random), the .old backup, the
# refusal to rewrite a file with invalid lines; and each tool reads the
# hashed file the other wrote.
. "${top_srcdir:-.}/tests/regress/lib.sh"
require_cmd ssh-keygen
K=$(ferry_bin fssh-keygen)
[ -x "$K" ] || skip_all "fssh-keygen is not built"
cd "$TMP" || exit 1

ssh-keygen -q -t ed25519 -N '' -C '' -f k1 || exit 1
ssh-keygen -q -t ecdsa -N '' -C '' -f k2 || exit 1
ssh-keygen -q -t rsa -b 2048 -N '' -C '' -f k3 || exit 1
K1=$(cat k1.pub)
K2=$(cat k2.pub)
K3=$(cat k3.pub)
cat >plain <<EOT
# comment
host1,10.0.0.1 $K1
[host2]:2222 $K2 some comment
@cert-authority *.example.com $K2
@revoked host3 $K1
*.foo.org,!bad.foo.org $K1

host1 $K2
Host4 $K3
oldhost ssh-dss AAAAB3NzaC1kc3M= a DSA key
EOT
printf 'garbage line here\nhost9 %s\n' "$K1" >invalid
printf 'host1 %s' "$K1" >nonewline

# run DIR FILE ARGS...: copy FILE to DIR/kh and run the tool there.
run() {
	local tool=$1 dir=$2 file=$3
	shift 3
	rm -rf "$dir"
	mkdir "$dir"
	cp "$file" "$dir/kh"
	(cd "$dir" && "$tool" "$@" -f kh >out 2>err; echo $? >rc)
}

# compare FILE ARGS...: same stdout, stderr and status as ssh-keygen.
compare() {
	local file=$1 f bad=0
	shift
	run "$K" f "$file" "$@"
	run ssh-keygen o "$file" "$@"
	for f in out err rc; do
		if ! cmp -s "f/$f" "o/$f"; then
			diag "$f differs for $*:"
			diff "f/$f" "o/$f" | sed 's/^/# /'
			bad=1
		fi
	done
	ok $bad "-f $file $* as ssh-keygen"
}

for h in host1 '[host2]:2222' x.example.com host3 nothere a.foo.org \
    bad.foo.org HOST1 host4 10.0.0.1 oldhost; do
	compare plain -F "$h"
done
compare plain -F host1 -l
compare plain -F host1 -lv
compare plain -F host1 -E md5 -l
compare plain -q -F host1
compare invalid -F host9
compare nonewline -F host1

# -R: the rewritten file and its backup are byte for byte OpenSSH's.
for h in host1 a.foo.org x.example.com host3 nothere; do
	compare plain -R "$h"
	check "-R $h leaves the same file" cmp f/kh o/kh
	if [ -e o/kh.old ]; then
		check "-R $h keeps the original as kh.old" cmp f/kh.old plain
	else
		check "-R $h without a match leaves no kh.old" test ! -e f/kh.old
	fi
done
compare plain -q -R host1
compare invalid -R host9
check "an invalid file is not replaced" cmp f/kh invalid
compare nonewline -R host1
chmod 600 plain
run "$K" f plain -R host1
ok "$([ "$(stat -c %a f/kh)" = 600 ]; echo $?)" "-R keeps the file's mode"
chmod 644 plain

# -H: messages and structure as OpenSSH's; names hashed with fresh salts.
compare plain -H
check "-H keeps the original as kh.old" cmp f/kh.old plain
check "-H leaves the same structure" \
    cmp <(cut -d' ' -f2- f/kh) <(cut -d' ' -f2- o/kh)
check "-H hashes the same lines" \
    cmp <(cut -c1-3 f/kh) <(cut -c1-3 o/kh)
cp f/kh ferry-hashed
cp o/kh openssh-hashed
for h in host1 10.0.0.1 '[host2]:2222' host4 Host4; do
	check "ssh-keygen -F $h finds it in fssh-keygen's hashed file" \
	    cmp <(ssh-keygen -F "$h" -f ferry-hashed | sed 's/ .*//' | grep -c .) \
	    <(ssh-keygen -F "$h" -f openssh-hashed | sed 's/ .*//' | grep -c .)
	check "fssh-keygen -F $h finds it in ssh-keygen's hashed file" \
	    cmp <("$K" -F "$h" -f openssh-hashed) \
	    <(ssh-keygen -F "$h" -f openssh-hashed)
done
check_fails "a hashed name is case-sensitive" ssh-keygen -F HOST1 -f ferry-hashed
compare openssh-hashed -H
check "-H on a hashed file changes nothing" cmp f/kh openssh-hashed
compare openssh-hashed -R host1
check "-R removes a hashed entry as ssh-keygen does" cmp f/kh o/kh
run "$K" f plain -F host1 -H
run ssh-keygen o plain -F host1 -H
check "-F -H prints a hashed line per name" \
    cmp <(cut -d' ' -f2- f/out) <(cut -d' ' -f2- o/out)
check "-F -H: same status" cmp f/rc o/rc
compare invalid -H
check "an invalid file is not hashed" cmp f/kh invalid
compare nonewline -H
compare plain -q -H

# Errors.
rm -rf f o
mkdir f o
(cd f && "$K" -F host -f missing >out 2>err; echo $? >rc)
(cd o && ssh-keygen -F host -f missing >out 2>err; echo $? >rc)
check "a missing file: same status" cmp f/rc o/rc
grep -q 'Cannot stat missing: No such file or directory' f/err
ok $? "a missing file: the message names it"
done_testing
