#!/usr/bin/python3
"""Transport interop with paramiko, an independent SSH implementation.

Both ways, for every algorithm both implement: paramiko's client against
Ferry's engine (ssh-probe server), and Ferry's engine (ssh-probe client)
against paramiko's server.  Each run completes key exchange with exactly
the algorithm asked for, checks the host key, and exchanges encrypted
messages (a service request and a "none" authentication attempt).
paramiko also rekeys against a server whose connection is handed from
engine to engine (transport_export/transport_import).  Prints TAP.
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading

try:
    import paramiko
except ImportError:
    print("1..0 # SKIP python3-paramiko is not installed")
    sys.exit(77)

BUILD = os.environ.get("top_builddir", ".")
PROBE = os.path.join(BUILD, "tests", "regress", "ssh-probe")
if not os.access(PROBE, os.X_OK) or not shutil.which("ssh-keygen"):
    print("1..0 # SKIP ssh-probe or ssh-keygen missing")
    sys.exit(77)

KEXES = ["curve25519-sha256@libssh.org", "ecdh-sha2-nistp256",
         "ecdh-sha2-nistp384", "ecdh-sha2-nistp521",
         "diffie-hellman-group16-sha512",
         "diffie-hellman-group-exchange-sha256",
         "diffie-hellman-group14-sha256", "diffie-hellman-group14-sha1",
         "diffie-hellman-group1-sha1"]
CIPHERS = ["aes128-ctr", "aes192-ctr", "aes256-ctr"]
MACS = ["hmac-sha2-256", "hmac-sha2-512", "hmac-sha2-256-etm@openssh.com",
        "hmac-sha2-512-etm@openssh.com", "hmac-sha1"]
HOSTKEYS = {"ssh-ed25519": "ed25519", "ecdsa-sha2-nistp256": "ecdsa-256",
            "ecdsa-sha2-nistp384": "ecdsa-384",
            "ecdsa-sha2-nistp521": "ecdsa-521", "rsa-sha2-512": "rsa-2048",
            "rsa-sha2-256": "rsa-2048"}

n = 0
failed = 0


def ok(cond, what, diag=None):
    global n, failed
    n += 1
    if cond:
        print("ok %d - %s" % (n, what))
    else:
        failed += 1
        print("not ok %d - %s" % (n, what))
        if diag:
            for line in str(diag).splitlines()[:6]:
                print("#   " + line)
    sys.stdout.flush()


def keygen(tmp):
    paths = {}
    for name in set(HOSTKEYS.values()):
        kind, _, bits = name.partition("-")
        path = os.path.join(tmp, "host_" + name)
        cmd = ["ssh-keygen", "-q", "-t", kind, "-N", "", "-f", path]
        if bits:
            cmd[4:4] = ["-b", bits]
        subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL)
        paths[name] = path
    return paths


def pub_blob(path):
    with open(path + ".pub") as f:
        return f.read().split()[1]


def paramiko_to_ferry(tmp, keys):
    """paramiko's client against ssh-probe server."""
    cases = ([("kex", k) for k in KEXES] + [("cipher", c) for c in CIPHERS]
             + [("mac", m) for m in MACS]
             + [("hostkey", h) for h in HOSTKEYS])
    portfile = os.path.join(tmp, "port")
    args = [PROBE, "server", portfile, "-n", str(len(cases)),
            "-k", ",".join(KEXES), "-c", ",".join(CIPHERS),
            "-m", ",".join(MACS), "-h", ",".join(HOSTKEYS)]
    args += [keys[k] for k in sorted(set(HOSTKEYS.values()))]
    server = subprocess.Popen(args, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    try:
        for _ in range(1200):     # 60 s: CI machines are loaded
            if os.path.exists(portfile) and os.path.getsize(portfile) > 0:
                break
            threading.Event().wait(0.05)
        port = int(open(portfile).read())
        for what, name in cases:
            sock = socket.create_connection(("127.0.0.1", port), timeout=60)
            t = paramiko.Transport(sock)
            opts = t.get_security_options()
            try:
                if what == "kex":
                    opts.kex = [name]
                elif what == "cipher":
                    opts.ciphers = [name]
                elif what == "mac":
                    opts.digests = [name]
                else:
                    opts.key_types = [name]
                t.start_client(timeout=60)
                key = t.get_remote_server_key()
                want = keys[HOSTKEYS.get(name, "ed25519")]
                if what != "hostkey":
                    want = None
                allowed = []
                try:
                    t.auth_none("probe")
                except paramiko.BadAuthenticationType as e:
                    allowed = e.allowed_types
                good = (t.is_active() and allowed == ["publickey", "password"]
                        and (want is None or key.get_base64() == pub_blob(want)))
                ok(good, "paramiko -> Ferry: %s %s" % (what, name),
                   "allowed %r" % (allowed,))
            except Exception as e:  # report, keep going
                ok(False, "paramiko -> Ferry: %s %s" % (what, name), repr(e))
            finally:
                t.close()
    finally:
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def paramiko_to_handover(tmp, keys):
    """paramiko's client against ssh-probe server -H -S: the server's
    connection moves to a fresh engine (transport_export/import) whenever
    it is idle and signs with public host keys through the callback;
    paramiko rekeys in the middle."""
    cases = ([("cipher", c) for c in CIPHERS] + [("mac", m) for m in MACS]
             + [("hostkey", h) for h in HOSTKEYS])
    portfile = os.path.join(tmp, "port-handover")
    args = [PROBE, "server", portfile, "-H", "-S", "-n", str(len(cases)),
            "-c", ",".join(CIPHERS), "-m", ",".join(MACS),
            "-h", ",".join(HOSTKEYS)]
    args += [keys[k] for k in sorted(set(HOSTKEYS.values()))]
    server = subprocess.Popen(args, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(1200):     # 60 s: CI machines are loaded
            if os.path.exists(portfile) and os.path.getsize(portfile) > 0:
                break
            threading.Event().wait(0.05)
        port = int(open(portfile).read())
        for what, name in cases:
            sock = socket.create_connection(("127.0.0.1", port), timeout=60)
            t = paramiko.Transport(sock)
            opts = t.get_security_options()
            try:
                if what == "cipher":
                    opts.ciphers = [name]
                elif what == "mac":
                    opts.digests = [name]
                else:
                    opts.key_types = [name]
                t.start_client(timeout=60)
                allowed = []
                for _ in range(2):
                    try:
                        t.auth_none("probe")
                    except paramiko.BadAuthenticationType as e:
                        allowed = e.allowed_types
                    if not allowed:
                        break
                    t.send_ignore(100)
                    t.renegotiate_keys()
                ok(t.is_active() and allowed == ["publickey", "password"],
                   "paramiko -> handed-over Ferry, rekeyed: %s %s"
                   % (what, name), "allowed %r" % (allowed,))
            except Exception as e:  # report, keep going
                ok(False, "paramiko -> handed-over Ferry: %s %s"
                   % (what, name), repr(e))
            finally:
                t.close()
        try:
            out, err = server.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            out, err = server.communicate()
        lines = out.splitlines()
        hand = [int(x.split()[1]) for x in lines if x.startswith("handovers ")]
        kexes = [x for x in lines if x.startswith("kex ")]
        ok(len(hand) == len(cases) and min(hand) >= 3
           and len(kexes) == 3 * len(cases),
           "every connection handed over and rekeyed twice (%d)" % len(cases),
           "handovers %r, %d kex lines\n%s" % (hand, len(kexes), err))
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


class NoAuth(paramiko.ServerInterface):
    def get_allowed_auths(self, username):
        return "publickey"

    def check_auth_none(self, username):
        return paramiko.AUTH_FAILED


def load_paramiko_key(path):
    for cls in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return cls(filename=path)
        except Exception:
            continue
    raise ValueError("cannot load " + path)


def ferry_to_paramiko(tmp, keys):
    """ssh-probe client against paramiko's server."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(4)
    port = lsock.getsockname()[1]
    hostkeys = [load_paramiko_key(keys[k]) for k in sorted(set(HOSTKEYS.values()))]

    def serve_one():
        conn, _ = lsock.accept()
        t = paramiko.Transport(conn)
        # paramiko serves group exchange only with a moduli file loaded.
        t.load_server_moduli()
        for k in hostkeys:
            t.add_server_key(k)
        try:
            t.start_server(server=NoAuth())
            t.join(30)
        except Exception:
            pass
        finally:
            t.close()

    cases = ([("-k", k, "ed25519") for k in KEXES]
             + [("-c", c, "ed25519") for c in CIPHERS]
             + [("-m", m, "ed25519") for m in MACS]
             + [("-h", h, HOSTKEYS[h]) for h in HOSTKEYS])
    for opt, name, key in cases:
        th = threading.Thread(target=serve_one, daemon=True)
        th.start()
        extra = [opt, name]
        if opt == "-m":
            extra += ["-c", "aes128-ctr"]
        if opt != "-h":
            extra += ["-h", "ssh-ed25519"]
        try:
            p = subprocess.run([PROBE, "client", str(port), keys[key] + ".pub"]
                               + extra, capture_output=True, text=True,
                               timeout=60)
            out = p.stdout
            good = (p.returncode == 0 and "service accepted" in out
                    and "auth methods publickey" in out
                    and (" %s " % name) in out.splitlines()[0] + " ")
            ok(good, "Ferry -> paramiko: %s" % name, out + p.stderr)
        except subprocess.TimeoutExpired as e:
            ok(False, "Ferry -> paramiko: %s" % name, repr(e))
        th.join(30)
    lsock.close()


def main():
    tmp = tempfile.mkdtemp(prefix="ferry-paramiko.")
    try:
        keys = keygen(tmp)
        paramiko_to_ferry(tmp, keys)
        paramiko_to_handover(tmp, keys)
        ferry_to_paramiko(tmp, keys)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("1..%d" % n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
