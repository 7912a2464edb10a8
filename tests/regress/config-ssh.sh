#!/usr/bin/env bash
# ssh_config(5): Ferry's resolved configuration against OpenSSH's own
# `ssh -G`, line by line for the keywords both print, over config files
# with Host patterns and negation, Match, Include with globs, tokens,
# accumulating keywords and quoting.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/config-lib.sh"

DUMP=$top_builddir/tests/regress/config-dump
require_cmd ssh
[ -x "$DUMP" ] || skip_all "config-dump is not built"

# Algorithm lists and default identity files legitimately differ (Ferry
# implements fewer algorithms); they are compared when a case sets them.
DEFAULT_EXCLUDE='^(kexalgorithms|ciphers|macs|hostkeyalgorithms|pubkeyacceptedalgorithms|identityfile)$'

# compare NAME EXCLUDE-REGEX CONFIG HOST [ssh options...]
compare() {
	local name=$1 excl=$2 cfg=$3 host=$4
	shift 4
	if ! ssh -G -F "$cfg" "$@" "$host" >"$TMP/o.txt" 2>"$TMP/o.err"; then
		ok 1 "$name: ssh -G failed: $(head -1 "$TMP/o.err")"
		return
	fi
	if ! "$DUMP" ssh -F "$cfg" "$@" "$host" >"$TMP/f.txt" 2>"$TMP/f.err"
	then
		ok 1 "$name: config-dump failed: $(head -1 "$TMP/f.err")"
		return
	fi
	config_same "$name" "$excl"
}

# 1. Host patterns, negation, first value wins, case-insensitive host.
cat >"$TMP/c1" <<'CFG'
# comment
Host *.example.com !bad.example.com
    Port 2200
    User alice
Host bad.example.com
    Port 2201
Host *
    Port 2222
    User fallback
    Compression yes
CFG
compare "Host pattern" "$DEFAULT_EXCLUDE" "$TMP/c1" a.example.com
compare "Host negated pattern" "$DEFAULT_EXCLUDE" "$TMP/c1" bad.example.com
compare "Host wildcard only" "$DEFAULT_EXCLUDE" "$TMP/c1" other.org
compare "Host case-insensitive" "$DEFAULT_EXCLUDE" "$TMP/c1" A.EXAMPLE.COM
compare "-o wins over the file" "$DEFAULT_EXCLUDE" "$TMP/c1" \
    a.example.com -o Port=7 -o User=zed

cat >"$TMP/c1b" <<'CFG'
Match host *.example.com
    Port 5
Match originalhost *.example.com
    User ou
CFG
compare "Match host/originalhost case" "$DEFAULT_EXCLUDE" "$TMP/c1b" \
    A.EXAMPLE.COM

# 2. Match user / localuser / originalhost / host / all.
me=$(id -un)
cat >"$TMP/c2" <<CFG
Host gw
    HostName gateway.internal
Match user alice
    Port 2301
Match localuser $me host gateway.internal
    Compression yes
    ConnectionAttempts 4
Match originalhost gw
    ServerAliveInterval 1m
Match !localuser nobody-here
    ServerAliveCountMax 9
Match all
    Port 2399
    IdentitiesOnly yes
CFG
compare "Match user (config)" "$DEFAULT_EXCLUDE" "$TMP/c2" h -o User=alice
compare "Match user (other)" "$DEFAULT_EXCLUDE" "$TMP/c2" h -o User=bob
compare "Match host/originalhost/localuser" "$DEFAULT_EXCLUDE" "$TMP/c2" gw

# 3. Include with a glob, Host blocks inside included files.
mkdir -p "$TMP/inc"
cat >"$TMP/inc/10-a.conf" <<'CFG'
Host web*
    Port 2401
    IdentityFile ~/.ssh/web_key
CFG
cat >"$TMP/inc/20-b.conf" <<'CFG'
Port 2402
IdentityFile /keys/common
CFG
echo "Port 9" >"$TMP/inc/30-c.notconf"
cat >"$TMP/c3" <<CFG
Include $TMP/inc/*.conf
Host db
    HostKeyAlias dbalias
    Include $TMP/inc/10-a.conf
Host *
    User incuser
CFG
compare "Include glob (web)" "^(kexalgorithms|ciphers|macs|hostkeyalgorithms|pubkeyacceptedalgorithms)$" "$TMP/c3" web1
compare "Include glob (db)" "^(kexalgorithms|ciphers|macs|hostkeyalgorithms|pubkeyacceptedalgorithms)$" "$TMP/c3" db

# 4. Most supported keywords, tokens, quoting and '=' separators.
cat >"$TMP/c4" <<'CFG'
IgnoreUnknown NoSuchOption*
NoSuchOptionA yes
Host t
    HostName %h.example.org
    Port=2022
    User = "carol"
    IdentityFile "~/.ssh/my key"
    IdentityFile /k/%r@%h:%p
    IdentityFile /k/%r@%h:%p
    IdentitiesOnly yes
    IdentityAgent ~/agent.sock
    CertificateFile ~/.ssh/cert-%u
    StrictHostKeyChecking accept-new
    UserKnownHostsFile ~/kh/%h /k/%C %d/%u-%l-%n
    GlobalKnownHostsFile /etc/k1 /etc/k2
    HashKnownHosts yes
    KexAlgorithms curve25519-sha256,diffie-hellman-group14-sha256
    Ciphers aes128-ctr,aes256-gcm@openssh.com
    MACs hmac-sha2-256-etm@openssh.com,hmac-sha2-256
    HostKeyAlgorithms ssh-ed25519,rsa-sha2-512
    PubkeyAcceptedKeyTypes ssh-ed25519
    Compression yes
    ConnectTimeout 1m30s
    ConnectionAttempts 3
    ServerAliveInterval 15
    ServerAliveCountMax 5
    BatchMode yes
    PasswordAuthentication no
    ChallengeResponseAuthentication no
    PubkeyAuthentication yes
    PreferredAuthentications publickey,keyboard-interactive
    ProxyJump jump@bastion:2200,ssh://other
    ProxyCommand nc %h %p
    LogLevel VERBOSE
    SendEnv LANG LC_* XMODIFIERS
    SendEnv -LC_*
    SendEnv EDITOR
    SetEnv A=1 "B=two words"
    SetEnv C=3
    RekeyLimit 512M 1h
    AddKeysToAgent no
    AddressFamily inet
    BindAddress 127.0.0.1
    NumberOfPasswordPrompts 1
    ForwardAgent no
    ControlMaster no
CFG
compare "many keywords" '^(identityfile|pubkeyacceptedalgorithms|hostkeyalgorithms)$' \
    "$TMP/c4" t

# 5. Match final: a second pass matches the resolved HostName.
cat >"$TMP/c5" <<'CFG'
Host short
    HostName long.example.net
Match final host long.example.net
    Port 2501
Match canonical
    User canon
Host long.example.net
    ConnectionAttempts 7
CFG
compare "Match final/canonical" "$DEFAULT_EXCLUDE" "$TMP/c5" short
cat >"$TMP/c5b" <<'CFG'
Host Short*
    HostName %h.Example.NET
Match final host short.example.net
    Port 2502
Match final host short.example.net.example.net
    Port 2503
Host short.example.net
    User finaluser
CFG
compare "Match final with HostName tokens" "$DEFAULT_EXCLUDE" "$TMP/c5b" Short

# 6. Errors: both refuse an unknown keyword and report file and line.
printf 'Port 22\nNoSuchKeyword yes\n' >"$TMP/c6"
ssh -G -F "$TMP/c6" h >/dev/null 2>&1
ok "$([ $? -ne 0 ]; echo $?)" "ssh -G refuses an unknown keyword"
"$DUMP" ssh -F "$TMP/c6" h >/dev/null 2>"$TMP/e6"
ok "$([ $? -ne 0 ]; echo $?)" "Ferry refuses an unknown keyword"
grep -q "c6 line 2: Bad configuration option: nosuchkeyword" "$TMP/e6"
ok $? "the message names file and line"

printf 'Match exec "true"\n  Port 3\n' >"$TMP/c7"
"$DUMP" ssh -F "$TMP/c7" h >/dev/null 2>"$TMP/e7"
ok "$([ $? -ne 0 ] && grep -q 'Match exec is not supported' "$TMP/e7"; echo $?)" \
    "Match exec is refused with a clear message"

done_testing
