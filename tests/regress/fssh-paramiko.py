#!/usr/bin/python3
"""fssh against paramiko's server, an independent implementation that
reads first_kex_packet_follows but ignores it: the client's guessed key
exchange packet, its first USERAUTH_REQUEST sent before SERVICE_ACCEPT
(signed, without a "none" probe) and the fallback to password when the
server lists no publickey.  Prints TAP.
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

try:
    import paramiko
except ImportError:
    print("1..0 # SKIP python3-paramiko is not installed")
    sys.exit(77)

BUILD = os.environ.get("top_builddir", ".")
FSSH = os.path.join(BUILD, "src", "fssh")
if not os.access(FSSH, os.X_OK) or not shutil.which("ssh-keygen"):
    print("1..0 # SKIP fssh or ssh-keygen missing")
    sys.exit(77)

N = 0


def ok(cond, what):
    global N
    N += 1
    print("%s %d - %s" % ("ok" if cond else "not ok", N, what))
    sys.stdout.flush()


class Server(paramiko.ServerInterface):
    def __init__(self, key, methods):
        self.key = key
        self.methods = methods
        self.tried = []
        self.done = threading.Event()

    def get_allowed_auths(self, username):
        return ",".join(self.methods)

    def check_auth_none(self, username):
        self.tried.append("none")
        return paramiko.AUTH_FAILED

    def check_auth_publickey(self, username, key):
        self.tried.append("publickey")
        if "publickey" in self.methods and key == self.key:
            return paramiko.AUTH_SUCCESSFUL
        return paramiko.AUTH_FAILED

    def check_auth_password(self, username, password):
        self.tried.append("password")
        if "password" in self.methods and password == "sesame":
            return paramiko.AUTH_SUCCESSFUL
        return paramiko.AUTH_FAILED

    def check_channel_request(self, kind, chanid):
        return paramiko.OPEN_SUCCEEDED

    def check_channel_exec_request(self, channel, command):
        self.command = command
        self.done.set()
        return True


def serve(ls, hostkey, srv, log):
    try:
        c, _ = ls.accept()
    except OSError:
        return
    t = paramiko.Transport(c)
    t.add_server_key(hostkey)
    try:
        t.start_server(server=srv)
        chan = t.accept(60)
        if chan is not None and srv.done.wait(60):
            chan.sendall(b"ran " + srv.command + b"\n")
            chan.send_exit_status(0)
            chan.close()
            # Let the client read and close first.
            for _ in range(1200):
                if not t.is_active():
                    break
                time.sleep(0.05)
    except Exception as e:  # reported by the test's result
        log.append(repr(e))
    finally:
        t.close()


def run(tmp, methods, extra, env=None):
    hostkey = paramiko.Ed25519Key.from_private_key_file(
        os.path.join(tmp, "host"))
    ckey = paramiko.Ed25519Key.from_private_key_file(
        os.path.join(tmp, "id"))
    srv = Server(ckey, methods)
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    port = ls.getsockname()[1]
    log = []
    th = threading.Thread(target=serve, args=(ls, hostkey, srv, log),
                          daemon=True)
    th.start()
    with open(os.path.join(tmp, "known"), "w") as f:
        with open(os.path.join(tmp, "host.pub")) as p:
            f.write("[127.0.0.1]:%d %s" % (port, p.read()))
    cmd = [FSSH, "-F", "/dev/null", "-v", "-p", str(port),
           "-o", "UserKnownHostsFile=" + os.path.join(tmp, "known"),
           "-o", "StrictHostKeyChecking=yes", "-o", "IdentityAgent=none",
           "-o", "IdentitiesOnly=yes",
           "-i", os.path.join(tmp, "id")] + extra + ["u@127.0.0.1", "true"]
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=60, env=e)
    th.join(60)
    ls.close()
    return p, srv, log


def main():
    tmp = tempfile.mkdtemp(prefix="ferry-pmk")
    try:
        for name in ("host", "id"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "",
                            "-f", os.path.join(tmp, name)], check=True,
                           stdin=subprocess.DEVNULL)
        p, srv, log = run(tmp, ["publickey"], ["-o", "BatchMode=yes"])
        err = p.stderr.decode(errors="replace")
        ok(p.returncode == 0 and p.stdout == b"ran true\n",
           "fssh logs in to paramiko and runs a command (rc %d) %s"
           % (p.returncode, log))
        ok("guessed" in err and "stands" in err,
           "paramiko takes the guessed key exchange packet")
        ok(srv.tried == ["publickey"],
           "one signed publickey request, no none probe: %s" % srv.tried)

        # A server without publickey: the early request fails, then the
        # password from SSH_ASKPASS.
        ask = os.path.join(tmp, "askpass")
        with open(ask, "w") as f:
            f.write("#!/bin/sh\necho sesame\n")
        os.chmod(ask, 0o755)
        p, srv, log = run(tmp, ["password"], [],
                          {"SSH_ASKPASS": ask, "SSH_ASKPASS_REQUIRE": "force",
                           "DISPLAY": ":0"})
        ok(p.returncode == 0 and srv.tried[-1] == "password",
           "password-only paramiko server: fallback to password (%s) %s"
           % (srv.tried, log))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("1..%d" % N)


main()
