#!/usr/bin/env bash
# sshd_config(5): Ferry's effective settings against OpenSSH's own
# `sshd -T` (with -C connection specs and -o overrides) for the keywords
# both print, and `-t` style error reports with file and line.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/config-lib.sh"

DUMP=$top_builddir/tests/regress/config-dump
SSHD=/usr/sbin/sshd
[ -x "$SSHD" ] || skip_all "OpenSSH's sshd is not installed"
require_cmd ssh-keygen
[ -x "$DUMP" ] || skip_all "config-dump is not built"
[ "$(id -u)" -eq 0 ] || skip_all "sshd -T needs root"
mkdir -p /run/sshd

ssh-keygen -q -t ed25519 -N '' -f "$TMP/hk" || exit 1
DEFAULT_EXCLUDE='^(kexalgorithms|ciphers|macs|hostkeyalgorithms|pubkeyacceptedalgorithms)$'

# compare NAME EXCLUDE-REGEX CONFIG [sshd options...]
compare() {
	local name=$1 excl=$2 cfg=$3
	shift 3
	if ! "$SSHD" -T -f "$cfg" "$@" >"$TMP/o.txt" 2>"$TMP/o.err"; then
		ok 1 "$name: sshd -T failed: $(head -1 "$TMP/o.err")"
		return
	fi
	if ! "$DUMP" sshd -f "$cfg" "$@" >"$TMP/f.txt" 2>"$TMP/f.err"; then
		ok 1 "$name: config-dump failed: $(head -1 "$TMP/f.err")"
		return
	fi
	config_same "$name" "$excl"
}

mkdir -p "$TMP/inc"
cat >"$TMP/inc/a.conf" <<'CFG'
MaxSessions 4
AllowUsers inc1
CFG
cat >"$TMP/inc/b.conf" <<'CFG'
MaxSessions 5
AcceptEnv LC_*
CFG

cat >"$TMP/s1" <<CFG
# Global section: first value wins.
Port 2222
Port 2223
ListenAddress 127.0.0.1
ListenAddress [::1]:2299
HostKey $TMP/hk
PidFile $TMP/sshd.pid
UsePAM no
Include $TMP/inc/*.conf
MaxSessions 9
LoginGraceTime 1h30m
MaxAuthTries 3
ClientAliveInterval 2m
ClientAliveCountMax 4
PermitRootLogin prohibit-password
PermitRootLogin yes
PubkeyAuthentication yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
PermitEmptyPasswords no
StrictModes no
Compression no
DisableForwarding yes
ModuliFile /etc/ssh/moduli
Banner "/etc/issue.net"
AuthorizedKeysFile .ssh/authorized_keys /etc/ssh/keys/%u
AuthorizedPrincipalsFile /etc/ssh/principals/%u
TrustedUserCAKeys /etc/ssh/ca.pub
AuthenticationMethods publickey,password publickey
AllowUsers alice bob root
DenyUsers mallory
AllowGroups root users
DenyGroups nogroup
AcceptEnv LANG
SetEnv A=1 B=2
SetEnv C=3
PermitUserEnvironment LANG,TZ
MaxStartups 5:50:20
RekeyLimit 1G 30m
LogLevel VERBOSE
SyslogFacility LOCAL2
Ciphers aes128-ctr,aes256-gcm@openssh.com
MACs hmac-sha2-256
KexAlgorithms curve25519-sha256
Subsystem sftp internal-sftp -l INFO
Subsystem other /usr/bin/other --flag
X11Forwarding no

Match User alice
    PasswordAuthentication no
    ChrootDirectory /srv/%u
    ForceCommand internal-sftp -d /upload
    MaxSessions 2
Match Group root Address 10.0.0.0/8,192.168.1.*
    Banner none
    MaxAuthTries 2
    AllowUsers root
Match Address !10.1.0.0/16,10.0.0.0/8
    ClientAliveCountMax 7
    PermitRootLogin no
Match LocalPort 2223 LocalAddress 127.0.0.1
    LogLevel DEBUG2
    AuthenticationMethods publickey
Match Host *.example.com
    PubkeyAuthentication no
    MaxAuthTries 5
Match All
    MaxAuthTries 6
    AcceptEnv TZ
CFG

# sshd -T wants every criterion the file uses in the -C spec.
L=laddr=127.0.0.2,lport=22
compare "global settings, Include, first value wins" "$DEFAULT_EXCLUDE" \
    "$TMP/s1" -C user=nobody-x,host=none,addr=203.0.113.9,$L
compare "Match User" "$DEFAULT_EXCLUDE" "$TMP/s1" \
    -C user=alice,host=h.example.org,addr=172.16.0.1,$L
compare "Match Group + Address (CIDR and wildcard)" "$DEFAULT_EXCLUDE" \
    "$TMP/s1" -C user=root,host=h,addr=192.168.1.7,$L
compare "Match Address negation" "$DEFAULT_EXCLUDE" "$TMP/s1" \
    -C user=root,host=h,addr=10.1.2.3,$L
compare "Match Address CIDR" "$DEFAULT_EXCLUDE" "$TMP/s1" \
    -C user=bob,host=h,addr=10.9.2.3,$L
compare "Match LocalPort/LocalAddress" "$DEFAULT_EXCLUDE" "$TMP/s1" \
    -C user=bob,host=h,addr=1.2.3.4,laddr=127.0.0.1,lport=2223
compare "Match Host" "$DEFAULT_EXCLUDE" "$TMP/s1" \
    -C user=bob,host=www.example.com,addr=1.2.3.4,$L
compare "-o overrides" "$DEFAULT_EXCLUDE" "$TMP/s1" \
    -o MaxAuthTries=1 -o "Banner /b" -C user=bob,host=h,addr=1.2.3.4,$L

cat >"$TMP/s2" <<CFG
HostKey $TMP/hk
PidFile $TMP/sshd.pid
CFG
compare "defaults" "$DEFAULT_EXCLUDE|^pidfile$" "$TMP/s2"

# -t: every error, each with file and line.
cat >"$TMP/bad" <<CFG
HostKey $TMP/hk
NoSuchKeyword yes
Port notaport
PermitRootLogin sometimes
LoginGraceTime 5x
Match User x
    HostKey /etc/ssh/k
    Port 2
CFG
"$SSHD" -t -f "$TMP/bad" >/dev/null 2>&1
ok "$([ $? -ne 0 ]; echo $?)" "sshd -t refuses the bad file"
"$DUMP" sshd -t -f "$TMP/bad" >/dev/null 2>"$TMP/e"
ok "$([ $? -ne 0 ]; echo $?)" "Ferry refuses the bad file"
for want in "line 2: Bad configuration option: nosuchkeyword" \
    "line 3: Badly formatted port number" \
    "line 4: unsupported option \"sometimes\"" \
    "line 5: invalid time value" \
    "line 7: Directive 'hostkey' is not allowed within a Match block" \
    "line 8: Directive 'port' is not allowed within a Match block"; do
	grep -qF "$TMP/bad $want" "$TMP/e"
	ok $? "reported: $want"
done
grep -q "terminating, 6 bad configuration options" "$TMP/e"
ok $? "all six errors counted"

done_testing
