# Shared helpers of the interop tests against independent SSH servers
# (sourced after lib.sh).

# peer_kexinit PORT: reads the KEXINIT of the SSH server on 127.0.0.1:PORT
# (sent in the clear before any key exchange) and prints its lists, one a
# line: "kex LIST", "key LIST", "cipher LIST" (client to server) and
# "mac LIST" (client to server).  Fails when no KEXINIT comes.
peer_kexinit() {
	/usr/bin/python3 - "$1" <<'EOF'
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 10)
s.sendall(b"SSH-2.0-FerryTest_1.0\r\n")
data = b""
while True:
    while b"\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            sys.exit(1)
        data += chunk
    line, data = data.split(b"\n", 1)
    if line.startswith(b"SSH-"):
        break
while len(data) < 5 or len(data) < 4 + struct.unpack(">I", data[:4])[0]:
    chunk = s.recv(65536)
    if not chunk:
        sys.exit(1)
    data += chunk
plen, padlen = struct.unpack(">IB", data[:5])
payload = data[5:4 + plen - padlen]
if payload[0] != 20:
    sys.exit(1)
pos = 17
names = []
for kind in ("kex", "key", "cipher", None, "mac"):
    n = struct.unpack(">I", payload[pos:pos + 4])[0]
    value = payload[pos + 4:pos + 4 + n].decode()
    pos += 4 + n
    if kind:
        print(kind, value)
s.close()
EOF
}

# shared_algs KIND KEXINIT-FILE: the algorithms of KIND (kex, key, cipher,
# mac) that both Ferry (fssh -Q) and the peer's KEXINIT (saved from
# peer_kexinit) name, one a line, in Ferry's order.
shared_algs() {
	local peer a
	peer=$(awk -v k="$1" '$1 == k { print $2 }' "$2" | tr ',' ' ')
	for a in $("$(ferry_bin fssh)" -Q "$1" | grep -v -- '-cert-v01@'); do
		case " $peer " in
		*" $a "*) echo "$a" ;;
		esac
	done
	# RSA host keys: the peer's ssh-rsa key type also signs rsa-sha2-*.
	if [ "$1" = key ]; then
		for a in rsa-sha2-512 rsa-sha2-256; do
			case " $peer " in
			*" $a "*) echo "$a" ;;
			esac
		done
	fi
}

# interop_sftp PEER PORT HOME OPTS...: fsftp (put, get, mkdir, rename, ls
# in one batch) and fscp over SFTP (upload, download) with $TMP/rand
# against the server on 127.0.0.1:PORT as $user whose home is HOME, with
# the client options OPTS (four checks named after PEER).
interop_sftp() {
	local peer=$1 port=$2 home=$3
	shift 3
	cat >"$TMP/batch" <<EOB
put $TMP/rand up.bin
get up.bin $TMP/sftp-back.bin
mkdir d
rename up.bin d/moved.bin
ls d
EOB
	timeout 60 "$(ferry_bin fsftp)" "$@" -b "$TMP/batch" -P "$port" \
	    "$user@127.0.0.1" >"$TMP/sftp.out" 2>&1
	ok $? "$peer: fsftp batch"
	ok "$(cmp -s "$TMP/rand" "$TMP/sftp-back.bin" &&
	    cmp -s "$TMP/rand" "$home/d/moved.bin" &&
	    grep -q moved.bin "$TMP/sftp.out"; echo $?)" \
	    "$peer: fsftp put, get, mkdir, rename, ls"
	timeout 60 "$(ferry_bin fscp)" "$@" -P "$port" "$TMP/rand" \
	    "$user@127.0.0.1:scp.bin" &&
	    timeout 60 "$(ferry_bin fscp)" "$@" -P "$port" \
	    "$user@127.0.0.1:scp.bin" "$TMP/scp-back.bin"
	ok "$(cmp -s "$TMP/rand" "$home/scp.bin" &&
	    cmp -s "$TMP/rand" "$TMP/scp-back.bin"; echo $?)" \
	    "$peer: fscp (SFTP) upload and download"
}
