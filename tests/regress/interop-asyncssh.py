#!/usr/bin/python3
"""Ferry against AsyncSSH (python3-asyncssh), an independent SSH-2
implementation, both ways, on 127.0.0.1.  Prints TAP.

AsyncSSH server (exec, SFTP, scp; host keys made here) <- fssh (exec, exit
status, 8 MiB both ways), fsftp (mkdir/put/ls/rename/get of 16 MiB, resume
with -a), fscp (SFTP and -O, files and -r), one fssh connection per key
exchange, cipher, MAC and host key algorithm both implement, and the
client's guessed key exchange packet (RFC 4253 7.1) where the guess is right,
wrong, and wrong by the RFC but kept by AsyncSSH, which keeps a guess whose
name is the negotiated one whatever the server prefers.

fsshd (as root: a test account) <- AsyncSSH's client: known_hosts, public
key and password authentication, exec with exit status, SFTP put and get of
16 MiB with rekeying every MiB (and zlib@openssh.com, AsyncSSH's first
choice), one connection per kex, cipher, MAC and host key algorithm both
share.  AsyncSSH sends the packet that crosses its rekey limit right after
its KEXINIT: Ferry takes it, as OpenSSH does, both as client and server.
"""
import asyncio
import hashlib
import logging
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import warnings

warnings.simplefilter("ignore")
try:
    import asyncssh
    from asyncssh.encryption import get_encryption_algs
    from asyncssh.kex import get_kex_algs
    from asyncssh.mac import get_mac_algs
except ImportError:
    print("1..0 # SKIP python3-asyncssh is not installed")
    sys.exit(77)

BUILD = os.environ.get("top_builddir", ".")
PROG = {p: os.path.join(BUILD, "src", p)
        for p in ("fssh", "fsftp", "fscp", "fsshd")}
for p in PROG.values():
    if not os.access(p, os.X_OK):
        print("1..0 # SKIP %s is not built" % p)
        sys.exit(77)
if not shutil.which("ssh-keygen"):
    print("1..0 # SKIP ssh-keygen is not installed")
    sys.exit(77)

N = 0
FAILED = 0
MIB = 1024 * 1024


def ok(cond, what):
    global N, FAILED
    N += 1
    if not cond:
        FAILED += 1
    print("%s %d - %s" % ("ok" if cond else "not ok", N, what))
    sys.stdout.flush()
    return cond


def skip(why):
    global N
    N += 1
    print("ok %d # SKIP %s" % (N, why))


def diag(text):
    for line in str(text).splitlines()[-15:]:
        print("# " + line)


class Capture(logging.Handler):
    """AsyncSSH's log lines, for what the peer did."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []
        self.mu = threading.Lock()

    def emit(self, record):
        with self.mu:
            self.lines.append(record.getMessage())

    def take(self):
        with self.mu:
            lines, self.lines = self.lines, []
        return lines


LOG = Capture()
logging.getLogger("asyncssh").addHandler(LOG)
logging.getLogger("asyncssh").setLevel(logging.DEBUG)
logging.getLogger("asyncssh").propagate = False

# The AsyncSSH side runs in an event loop of its own thread.
LOOP = asyncio.new_event_loop()
threading.Thread(target=LOOP.run_forever, daemon=True).start()


def arun(coro, timeout=120):
    return asyncio.run_coroutine_threadsafe(coro, LOOP).result(timeout)


def names(algs):
    return [a.decode() for a in algs if not a.startswith(b"gss-")]


def ferry_list(what):
    p = subprocess.run([PROG["fssh"], "-Q", what], capture_output=True,
                       text=True, check=True)
    return p.stdout.split()


def digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(MIB), b""):
            h.update(chunk)
    return h.hexdigest()


def same(a, b):
    return (os.path.exists(a) and os.path.exists(b) and
            digest(a) == digest(b))


# ---- AsyncSSH server <- Ferry clients ----

async def handle_exec(process):
    """exit N, cat, and anything else is echoed back as "ran CMD"."""
    cmd = process.command or ""
    if cmd.startswith("exit "):
        process.exit(int(cmd.split()[1]))
    elif cmd == "cat":
        while True:
            data = await process.stdin.read(65536)
            if not data:
                break
            process.stdout.write(data)
        process.exit(0)
    elif cmd == "stderr":
        process.stdout.write(b"out\n")
        process.stderr.write(b"err\n")
        process.exit(0)
    else:
        process.stdout.write(b"ran " + cmd.encode() + b"\n")
        process.exit(0)


async def start_server(tmp, root, hostkeys, **kw):
    def sftp(chan):
        return asyncssh.SFTPServer(chan, chroot=root)
    srv = await asyncssh.listen(
        "127.0.0.1", 0, server_host_keys=hostkeys,
        authorized_client_keys=os.path.join(tmp, "id.pub"),
        process_factory=handle_exec, sftp_factory=sftp, allow_scp=True,
        encoding=None, **kw)
    return srv, srv.sockets[0].getsockname()[1]


def write_known(tmp, port, pubs):
    path = os.path.join(tmp, "known-%d" % port)
    with open(path, "w") as f:
        for pub in pubs:
            f.write("[127.0.0.1]:%d %s\n" % (port, pub))
    return path


def client_opts(tmp, known):
    return ["-F", "/dev/null", "-o", "UserKnownHostsFile=" + known,
            "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
            "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
            "-i", os.path.join(tmp, "id")]


def fssh(opts, port, args, stdin=None, timeout=60):
    with open(stdin or os.devnull, "rb") as f:
        return subprocess.run([PROG["fssh"]] + opts + ["-p", str(port),
                              "u@127.0.0.1"] + args, stdin=f,
                              capture_output=True, timeout=timeout)


def test_server(tmp):
    root = os.path.join(tmp, "root")
    os.mkdir(root)
    hostkeys, pubs = [], []
    for alg in ("ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
                "ecdsa-sha2-nistp521", "ssh-rsa"):
        k = asyncssh.generate_private_key(alg)
        hostkeys.append(k)
        pubs.append(k.export_public_key().decode().strip())
    f_kex = ferry_list("kex")
    f_cipher = ferry_list("cipher")
    f_mac = ferry_list("mac")
    f_hk = ferry_list("HostKeyAlgorithms")
    kexes = [a for a in f_kex if a in names(get_kex_algs())]
    ciphers = [a for a in f_cipher if a in names(get_encryption_algs())]
    macs = [a for a in f_mac if a in names(get_mac_algs())]
    hks = [a for a in f_hk if "cert" not in a]
    srv, port = arun(start_server(
        tmp, root, hostkeys, kex_algs=kexes, encryption_algs=ciphers,
        mac_algs=macs, signature_algs=hks, rekey_bytes=MIB))
    known = write_known(tmp, port, pubs)
    opts = client_opts(tmp, known)
    try:
        p = fssh(opts, port, ["hello"])
        ok(p.returncode == 0 and p.stdout == b"ran hello\n",
           "fssh runs a command on AsyncSSH (rc %d)" % p.returncode) or \
            diag(p.stderr.decode(errors="replace"))
        for code in (0, 1, 42, 255):
            p = fssh(opts, port, ["exit %d" % code])
            ok(p.returncode == code, "exit status %d reaches fssh (%d)"
               % (code, p.returncode))
        p = fssh(opts, port, ["stderr"])
        ok(p.stdout == b"out\n" and p.stderr == b"err\n",
           "stdout and stderr are kept apart")
        rand = os.path.join(tmp, "rand8")
        with open(rand, "wb") as f:
            f.write(os.urandom(8 * MIB))
        LOG.take()
        p = fssh(opts, port, ["cat"], stdin=rand)
        rekeys = sum("Completed key exchange" in x for x in LOG.take())
        ok(p.returncode == 0 and hashlib.sha256(p.stdout).hexdigest() ==
           digest(rand), "8 MiB through cat on AsyncSSH come back intact")
        ok(rekeys >= 3, "while AsyncSSH rekeys every MiB it sends "
           "(%d key exchanges)" % rekeys)

        sftp_tests(tmp, root, opts, port)
        scp_tests(tmp, root, opts, port)

        # One connection per algorithm both sides implement.
        for kw, lst in (("KexAlgorithms", kexes), ("Ciphers", ciphers),
                        ("MACs", macs), ("HostKeyAlgorithms", hks)):
            bad = []
            for alg in lst:
                extra = ["-o", "%s=%s" % (kw, alg)]
                if kw == "MACs":
                    extra += ["-o", "Ciphers=aes128-ctr"]
                p = fssh(opts + ["-v"] + extra, port, ["alg"])
                err = p.stderr.decode(errors="replace")
                if (p.returncode != 0 or p.stdout != b"ran alg\n" or
                        alg not in err):
                    bad.append(alg)
                    diag(err)
            ok(lst and not bad, "fssh with each of %d %s AsyncSSH shares: "
               "%s failed" % (len(lst), kw, bad))
    finally:
        srv.close()
    guess_tests(tmp, hostkeys[0], pubs[0], root)


def fsftp(opts, port, batch, tmp):
    path = os.path.join(tmp, "batch")
    with open(path, "w") as f:
        f.write(batch)
    return subprocess.run([PROG["fsftp"]] + opts + ["-P", str(port), "-b",
                          path, "u@127.0.0.1"], capture_output=True,
                          timeout=120, cwd=tmp)


def sftp_tests(tmp, root, opts, port):
    big = os.path.join(tmp, "big")
    with open(big, "wb") as f:
        f.write(os.urandom(16 * MIB))
    p = fsftp(opts, port, "mkdir /d\nput big /d/big\nls -l /d\n"
              "rename /d/big /d/big2\nget /d/big2 got\n", tmp)
    out = p.stdout.decode(errors="replace")
    ok(p.returncode == 0 and same(big, os.path.join(root, "d", "big2")) and
       same(big, os.path.join(tmp, "got")) and "big" in out and
       str(16 * MIB) in out,
       "fsftp mkdir, put, ls -l, rename and get of 16 MiB on AsyncSSH") or \
        diag(p.stderr.decode(errors="replace"))
    # Resume: the first 5 MiB are already on each side.
    with open(big, "rb") as f:
        head = f.read(5 * MIB)
    for path in (os.path.join(root, "d", "res"), os.path.join(tmp, "resl")):
        with open(path, "wb") as f:
            f.write(head)
    p = fsftp(opts, port, "put -a big /d/res\nget -a /d/res resl\n", tmp)
    ok(p.returncode == 0 and same(big, os.path.join(root, "d", "res")) and
       same(big, os.path.join(tmp, "resl")),
       "fsftp put -a and get -a resume 16 MiB files on AsyncSSH") or \
        diag(p.stderr.decode(errors="replace"))
    p = fsftp(opts, port, "ls /nonexistent\n", tmp)
    ok(p.returncode != 0, "a failing batch command fails fsftp")


def fscp(opts, port, args, tmp):
    return subprocess.run([PROG["fscp"]] + opts + ["-P", str(port)] + args,
                          capture_output=True, timeout=120, cwd=tmp)


def same_tree(a, b):
    p = subprocess.run(["diff", "-r", a, b], capture_output=True)
    return p.returncode == 0


def scp_tests(tmp, root, opts, port):
    tree = os.path.join(tmp, "tree")
    os.makedirs(os.path.join(tree, "sub", "deeper"))
    for rel, size in (("a", 1), ("sub/b", 70000), ("sub/deeper/c", 0)):
        with open(os.path.join(tree, rel), "wb") as f:
            f.write(os.urandom(size))
    for mode, flag in (("SFTP", []), ("scp (-O)", ["-O"])):
        tag = "O" if flag else "s"
        p = fscp(opts, port, flag + ["big", "u@127.0.0.1:/up-" + tag], tmp)
        ok(p.returncode == 0 and same(os.path.join(tmp, "big"),
           os.path.join(root, "up-" + tag)),
           "fscp %s uploads 16 MiB to AsyncSSH" % mode) or \
            diag(p.stderr.decode(errors="replace"))
        p = fscp(opts, port, flag + ["u@127.0.0.1:/up-" + tag,
                 "down-" + tag], tmp)
        ok(p.returncode == 0 and same(os.path.join(tmp, "big"),
           os.path.join(tmp, "down-" + tag)),
           "fscp %s downloads it" % mode) or \
            diag(p.stderr.decode(errors="replace"))
        p = fscp(opts, port, flag + ["-r", "tree", "u@127.0.0.1:/t-" + tag],
                 tmp)
        ok(p.returncode == 0 and same_tree(tree, os.path.join(root,
           "t-" + tag)), "fscp %s -r uploads a tree" % mode) or \
            diag(p.stderr.decode(errors="replace"))
        p = fscp(opts, port, flag + ["-r", "u@127.0.0.1:/t-" + tag,
                 "back-" + tag], tmp)
        ok(p.returncode == 0 and same_tree(tree, os.path.join(tmp,
           "back-" + tag)), "fscp %s -r downloads it" % mode) or \
            diag(p.stderr.decode(errors="replace"))
        p = fscp(opts, port, flag + ["u@127.0.0.1:/missing", "x"], tmp)
        ok(p.returncode != 0, "fscp %s: a missing file fails" % mode)


def guess_tests(tmp, hostkey, pub, root):
    """
    RFC 4253 7.1: fssh sends its first ECDH/curve25519 packet before the
    server's KEXINIT.  What AsyncSSH does with it is in its log: "ignored
    first kex" when it discards it.
    """
    cases = (
        # server prefers, client prefers, fssh keeps its guess
        ("curve25519-sha256,ecdh-sha2-nistp256",
         "curve25519-sha256,ecdh-sha2-nistp256", True,
         "right: both prefer curve25519-sha256"),
        ("curve25519-sha256,ecdh-sha2-nistp256",
         "ecdh-sha2-nistp256,curve25519-sha256", True,
         "wrong by RFC 4253 (the server prefers curve25519) but ECDH is "
         "negotiated: AsyncSSH keeps it"),
        ("ecdh-sha2-nistp256,curve25519-sha256",
         "curve25519-sha256,ecdh-sha2-nistp256", True,
         "the reverse: the server prefers ECDH, curve25519 is negotiated"),
        ("curve25519-sha256",
         "ecdh-sha2-nistp256,curve25519-sha256", False,
         "wrong: the server has no ECDH"),
        ("diffie-hellman-group14-sha256,curve25519-sha256",
         "ecdh-sha2-nistp384,diffie-hellman-group14-sha256", False,
         "wrong: DH negotiated after an ECDH guess"),
    )
    for skex, ckex, kept, what in cases:
        srv, port = arun(start_server(tmp, root, [hostkey],
                                      kex_algs=skex.split(",")))
        known = write_known(tmp, port, [pub])
        try:
            asyncssh.set_debug_level(3)
            LOG.take()
            p = fssh(client_opts(tmp, known) + ["-v", "-o",
                     "KexAlgorithms=" + ckex], port, ["guess"])
            time.sleep(0.2)
            lines = LOG.take()
            asyncssh.set_debug_level(1)
        finally:
            srv.close()
        err = p.stderr.decode(errors="replace")
        ignored = any("ignored first kex" in x for x in lines)
        ok(p.returncode == 0 and p.stdout == b"ran guess\n" and
           ("packet stands" in err) == kept and
           ("packet is void" in err) == (not kept) and ignored != kept,
           "kex guess %s (server %s, client %s): fssh %s, AsyncSSH %s"
           % (what, skex, ckex, "keeps it" if kept else "sends another",
              "ignores it" if ignored else "takes it")) or diag(err)


# ---- fsshd <- AsyncSSH client ----

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port):
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


async def client_session(port, user, known, **kw):
    """Connect, run commands, return (results, what failed)."""
    async with asyncssh.connect("127.0.0.1", port, username=user,
                                known_hosts=known, agent_path=None,
                                **kw) as conn:
        r1 = await conn.run("id -un", check=False)
        r2 = await conn.run("exit 7", check=False)
        return r1.stdout, r2.exit_status


async def client_sftp(port, user, known, key, big, remote, back):
    async with asyncssh.connect("127.0.0.1", port, username=user,
                                known_hosts=known, client_keys=[key],
                                agent_path=None, preferred_auth="publickey",
                                rekey_bytes=MIB) as conn:
        async with conn.start_sftp_client() as sftp:
            await sftp.put(big, remote)
            await sftp.get(remote, back)


async def client_alg(port, user, known, key, **kw):
    async with asyncssh.connect("127.0.0.1", port, username=user,
                                known_hosts=known, client_keys=[key],
                                agent_path=None, preferred_auth="publickey",
                                **kw) as conn:
        r = await conn.run("echo alg", check=False)
        return r.stdout


def test_fsshd(tmp):
    if os.geteuid() != 0:
        for _ in range(8):
            skip("fsshd with a test account needs root")
        return
    for c in ("useradd", "userdel", "chpasswd"):
        if not shutil.which(c):
            for _ in range(8):
                skip("%s is not installed" % c)
            return
    user = "ferry-ia%d" % os.getpid()
    home = os.path.join(tmp, "home")
    os.makedirs(os.path.join(home, ".ssh"))
    subprocess.run(["useradd", "-M", "-d", home, "-s", "/bin/sh", "-p", "*",
                    user], check=True)
    try:
        fsshd_run(tmp, user, home)
    finally:
        subprocess.run(["userdel", user], capture_output=True)


def fsshd_run(tmp, user, home):
    password = "Pw-%d-sesame" % os.getpid()
    subprocess.run(["chpasswd"], input="%s:%s\n" % (user, password),
                   text=True, check=True)
    key = os.path.join(tmp, "uid")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key],
                   check=True, stdin=subprocess.DEVNULL)
    shutil.copy(key + ".pub", os.path.join(home, ".ssh", "authorized_keys"))
    uid = pwd.getpwnam(user)
    for d, _, files in os.walk(home):
        os.chown(d, uid.pw_uid, uid.pw_gid)
        for f in files:
            os.chown(os.path.join(d, f), uid.pw_uid, uid.pw_gid)
    hostkey = os.path.join(tmp, "fhostkey")
    hostkeys = []
    for t, bits in (("ed25519", "256"), ("ecdsa", "256"), ("ecdsa", "384"),
                    ("ecdsa", "521"), ("rsa", "3072")):
        path = "%s-%s%s" % (hostkey, t, bits)
        subprocess.run(["ssh-keygen", "-q", "-t", t, "-b", bits, "-N", "",
                        "-f", path], check=True, stdin=subprocess.DEVNULL)
        hostkeys.append(path)
    hks = [a for a in ferry_list("HostKeyAlgorithms") if "cert" not in a]
    kexes = [a for a in ferry_list("kex") if a in names(get_kex_algs())]
    ciphers = [a for a in ferry_list("cipher")
               if a in names(get_encryption_algs())]
    macs = [a for a in ferry_list("mac") if a in names(get_mac_algs())]
    port = free_port()
    conf = os.path.join(tmp, "fsshd.conf")
    with open(conf, "w") as f:
        f.write("Port %d\nListenAddress 127.0.0.1\n" % port)
        for path in hostkeys:
            f.write("HostKey %s\n" % path)
        f.write("PidFile %s/fsshd.pid\nAuthorizedKeysFile .ssh/authorized_keys\n"
                "PasswordAuthentication yes\nKbdInteractiveAuthentication no\n"
                "UsePAM no\nPerSourcePenalties no\nLogLevel VERBOSE\n"
                "Subsystem sftp internal-sftp\n"
                "KexAlgorithms %s\nCiphers %s\nMACs %s\n"
                "HostKeyAlgorithms %s\n"
                % (tmp, ",".join(kexes), ",".join(ciphers), ",".join(macs),
                   ",".join(hks)))
    log = open(os.path.join(tmp, "fsshd.log"), "w")
    server = subprocess.Popen([PROG["fsshd"], "-f", conf, "-e"], stderr=log)
    try:
        if not ok(wait_port(port), "fsshd listens"):
            return
        known = os.path.join(tmp, "fknown")
        with open(known, "w") as out:
            for path in hostkeys:
                with open(path + ".pub") as f:
                    out.write("[127.0.0.1]:%d %s\n"
                              % (port, " ".join(f.read().split()[:2])))
        fsshd_client(tmp, port, user, home, known, key, password,
                     (("kex_algs", kexes), ("encryption_algs", ciphers),
                      ("mac_algs", macs), ("server_host_key_algs", hks)))
    finally:
        server.terminate()
        server.wait(10)
        log.close()


def fsshd_client(tmp, port, user, home, known, key, password, lists):
    try:
        out, status = arun(client_session(port, user, known,
                                          client_keys=[key],
                                          preferred_auth="publickey"))
        ok(out == user + "\n" and status == 7,
           "AsyncSSH logs in to fsshd with a key: exec and exit status")
    except Exception as e:
        ok(False, "AsyncSSH logs in to fsshd with a key: %r" % e)
    try:
        out, status = arun(client_session(port, user, known,
                                          client_keys=None,
                                          password=password,
                                          preferred_auth="password"))
        ok(out == user + "\n" and status == 7,
           "AsyncSSH logs in to fsshd with a password")
    except Exception as e:
        ok(False, "AsyncSSH logs in to fsshd with a password: %r" % e)
    try:
        arun(client_session(port, user, known, client_keys=None,
                            password="wrong", preferred_auth="password"))
        ok(False, "a wrong password is refused")
    except asyncssh.PermissionDenied:
        ok(True, "a wrong password is refused")
    other = os.path.join(tmp, "fknown-other")
    with open(other, "w") as f:
        k = asyncssh.generate_private_key("ssh-ed25519")
        f.write("[127.0.0.1]:%d %s\n" % (port, k.export_public_key()
                                         .decode().strip()))
    try:
        arun(client_session(port, user, other, client_keys=[key],
                            preferred_auth="publickey"))
        ok(False, "a host key unlike known_hosts is refused")
    except (asyncssh.HostKeyNotVerifiable, asyncssh.KeyExchangeFailed):
        ok(True, "a host key unlike known_hosts is refused")

    big = os.path.join(tmp, "big")
    back = os.path.join(tmp, "big-back")
    remote = os.path.join(home, "big-up")
    LOG.take()
    try:
        arun(client_sftp(port, user, known, key, big, remote, back))
        err = ""
    except Exception as e:
        err = repr(e)
    rekeys = sum("Completed key exchange" in x for x in LOG.take())
    with open(os.path.join(tmp, "fsshd.log"), errors="replace") as f:
        served = "subsystem sftp for %s" % user in f.read()
    ok(not err and served and same(big, remote) and same(big, back),
       "AsyncSSH's SFTP puts and gets 16 MiB through fsshd's SFTP server %s"
       % err)
    ok(rekeys >= 5, "with a rekey every MiB (%d key exchanges)" % rekeys)

    bad = []
    for kw, lst in lists:
        for alg in lst:
            extra = {kw: [alg]}
            if kw == "mac_algs":
                extra["encryption_algs"] = ["aes128-ctr"]
            try:
                out = arun(client_alg(port, user, known, key, **extra))
            except Exception as e:
                out = repr(e)
            if out != "alg\n":
                bad.append("%s (%s)" % (alg, out))
    ok(all(lst for _, lst in lists) and not bad,
       "AsyncSSH with each of %s fsshd shares: %s failed"
       % (", ".join("%d %s" % (len(lst), kw) for kw, lst in lists), bad))


def main():
    tmp = tempfile.mkdtemp(prefix="ferry-iasync")
    os.chmod(tmp, 0o755)
    try:
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                        os.path.join(tmp, "id")], check=True,
                       stdin=subprocess.DEVNULL)
        test_server(tmp)
        test_fsshd(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("1..%d" % N)
    sys.exit(1 if FAILED else 0)


main()
