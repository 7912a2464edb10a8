"""Hostile clients against a running fsshd (started by
tests/regress/hostile-fsshd.sh, which passes HOSTILE_PORT, HOSTILE_USER,
HOSTILE_KEY, HOSTILE_PID, HOSTILE_FILE and HOSTILE_GOOD, a command that
runs one well-behaved OpenSSH sftp session and checks its result).

Each case runs while a well-behaved client is served in parallel, and
checks that fsshd's memory stays bounded.  Prints TAP."""
import os
import socket
import struct
import subprocess
import sys
import threading
import time

import logging

import paramiko
import paramiko.common

# paramiko 2.12 knows neither of OpenSSH's PING (192) and PONG (193): name
# them, so its reader thread survives fsshd's PONG replies.
paramiko.common.MSG_NAMES.setdefault(192, "ping@openssh.com")
paramiko.common.MSG_NAMES.setdefault(193, "pong@openssh.com")


class Reasons(logging.Handler):
    """Collects the DISCONNECT reasons paramiko logs."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def emit(self, record):
        text = record.getMessage()
        if text.startswith("Disconnect"):
            self.seen.append(text)


REASONS = Reasons()
logging.getLogger("paramiko").addHandler(REASONS)
logging.getLogger("paramiko").setLevel(logging.INFO)

PORT = int(os.environ["HOSTILE_PORT"])
USER = os.environ["HOSTILE_USER"]
KEY = paramiko.Ed25519Key.from_private_key_file(os.environ["HOSTILE_KEY"])
ROOT_PID = int(os.environ["HOSTILE_PID"])
FILE = os.environ["HOSTILE_FILE"]		# a 64 KiB file in the home
GOOD = os.environ["HOSTILE_GOOD"]
LOG = os.environ.get("HOSTILE_LOG", "/dev/null")	# fsshd's log


def log_size():
    try:
        return os.path.getsize(LOG)
    except OSError:
        return 0


def server_reason(since):
    """The reason fsshd logged for closing a connection after offset
    since: the client may miss the DISCONNECT when the server closes the
    socket while the client is still writing."""
    try:
        with open(LOG, errors="replace") as f:
            f.seek(since)
            for line in f:
                if "Disconnecting" in line:
                    return line.strip()
    except OSError:
        pass
    return ""
# How long anything that must happen may take: generous, since CI runs
# on a loaded machine under ASan; waits end as soon as it happened.
WAIT = 60


def reason_after(since):
    """The DISCONNECT reason paramiko saw or fsshd logged after offset
    since, waited for (fsshd may log it after the client saw the close)."""
    end = time.time() + WAIT
    while True:
        reason = REASONS.seen[0] if REASONS.seen else server_reason(since)
        if reason or time.time() >= end:
            return reason
        time.sleep(0.1)


# Any one fsshd process (sanitizer builds scale it).
RSS_MAX_KIB = 64 * 1024 * int(os.environ.get("HOSTILE_MEM_SCALE", "1"))

MSG_IGNORE, MSG_EXT_INFO, MSG_GLOBAL_REQUEST = 2, 7, 80
MSG_PING = 192					# OpenSSH's ping@openssh.com
FXP_INIT, FXP_OPEN, FXP_CLOSE, FXP_READ, FXP_STAT = 1, 3, 4, 5, 17
FXP_REALPATH = 16
FXP_VERSION, FXP_STATUS, FXP_HANDLE, FXP_DATA = 2, 101, 102, 103
FXP_NAME, FXP_ATTRS = 104, 105

n = 0
failed = 0


def ok(cond, what):
    global n, failed
    n += 1
    if cond:
        print("ok %d - %s" % (n, what))
    else:
        failed += 1
        print("not ok %d - %s" % (n, what))
    sys.stdout.flush()


def diag(text):
    print("# " + text)
    sys.stdout.flush()


def fsshd_rss():
    """Largest RSS (KiB) among fsshd and its descendants."""
    parent, rss = {}, {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/status" % d) as f:
                st = f.read()
        except OSError:
            continue
        pp = r = 0
        for line in st.splitlines():
            if line.startswith("PPid:"):
                pp = int(line.split()[1])
            elif line.startswith("VmRSS:"):
                r = int(line.split()[1])
        parent[int(d)] = pp
        rss[int(d)] = r
    best = 0
    for p in parent:
        q, depth = p, 0
        while q != ROOT_PID and q in parent and depth < 10:
            q, depth = parent[q], depth + 1
        if q == ROOT_PID:
            best = max(best, rss[p])
    return best


class Parallel:
    """A well-behaved client, run repeatedly while a hostile case runs,
    and an RSS sampler."""

    def __init__(self):
        self.stop = threading.Event()
        self.good = 0
        self.bad = 0
        self.peak = 0
        self.threads = [threading.Thread(target=self.client),
                        threading.Thread(target=self.sample)]

    def client(self):
        while True:
            r = subprocess.run(GOOD, shell=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=60)
            if r.returncode == 0:
                self.good += 1
            else:
                self.bad += 1
            if self.stop.is_set():
                break

    def sample(self):
        while not self.stop.is_set():
            self.peak = max(self.peak, fsshd_rss())
            time.sleep(0.1)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join()
        return False


def check_parallel(par, what):
    ok(par.good >= 1 and par.bad == 0,
       "%s: a well-behaved client was served in parallel (%d sessions)"
       % (what, par.good))
    ok(0 < par.peak < RSS_MAX_KIB,
       "%s: fsshd memory stayed bounded (largest process %d KiB)"
       % (what, par.peak))


def transport(auth):
    sock = socket.create_connection(("127.0.0.1", PORT), WAIT)
    t = paramiko.Transport(sock)
    t._handler_table = dict(t._handler_table)
    t._handler_table[193] = lambda tr, m: None	# PONG
    t.start_client(timeout=WAIT)
    if auth:
        t.auth_publickey(USER, KEY)
    return t


def send(t, typ, body=b""):
    m = paramiko.Message()
    m.add_byte(bytes([typ]))
    if body:
        m.add_bytes(body)
    t._send_message(m)


def wait_closed(t, seconds):
    end = time.time() + seconds
    while t.is_active() and time.time() < end:
        time.sleep(0.05)
    return not t.is_active()


def u32(v):
    return struct.pack(">I", v)


def sstr(v):
    if isinstance(v, str):
        v = v.encode()
    return u32(len(v)) + v


def flood(what, typ, make_body, count):
    """Send count messages before authentication; afterwards the
    connection must either still authenticate (the messages were
    handled and dropped) or be closed by the server with a reason."""
    REASONS.seen.clear()
    since = log_size()
    with Parallel() as par:
        t = transport(False)
        sent = 0
        try:
            for i in range(count):
                send(t, typ, make_body(i))
                sent += 1
        except (EOFError, OSError, paramiko.SSHException):
            pass
        try:
            t.auth_publickey(USER, KEY)
            outcome = "still serves it" if t.is_authenticated() else "refused"
        except (EOFError, OSError, paramiko.SSHException) as e:
            outcome = "disconnected it (%s)" % (str(e) or type(e).__name__)
        t.close()
    reason = ""
    if "still serves" not in outcome:
        reason = reason_after(since)
        outcome += ", " + (reason or "no reason given")
    ok(sent > 0 and ("still serves" in outcome or reason), "%s: %d messages sent before authentication; fsshd %s"
       % (what, sent, outcome))
    check_parallel(par, what)


def sftp_channel():
    t = transport(True)
    ch = t.open_session(timeout=WAIT)
    ch.invoke_subsystem("sftp")
    return t, ch


def sftp_send(ch, body):
    ch.sendall(u32(len(body)) + body)


def sftp_recv(ch):
    hdr = b""
    while len(hdr) < 4:
        d = ch.recv(4 - len(hdr))
        if not d:
            raise EOFError("channel closed")
        hdr += d
    need = struct.unpack(">I", hdr)[0]
    data = b""
    while len(data) < need:
        d = ch.recv(min(need - len(data), 1 << 20))
        if not d:
            raise EOFError("channel closed")
        data += d
    return data


def sftp_init(ch):
    sftp_send(ch, bytes([FXP_INIT]) + u32(3))
    r = sftp_recv(ch)
    return r[0] == FXP_VERSION


def sftp_open(ch, rid, path):
    sftp_send(ch, bytes([FXP_OPEN]) + u32(rid) + sstr(path) + u32(1) + u32(0))
    r = sftp_recv(ch)
    if r[0] != FXP_HANDLE:
        return None, r
    hl = struct.unpack(">I", r[5:9])[0]
    return r[9:9 + hl], r


def status_text(r):
    if r[0] != FXP_STATUS:
        return ""
    ml = struct.unpack(">I", r[9:13])[0]
    return r[13:13 + ml].decode(errors="replace")


def case_split():
    what = "SFTP frames split across one-byte channel messages"
    with Parallel() as par:
        t, ch = sftp_channel()
        frame = u32(5) + bytes([FXP_INIT]) + u32(3)
        body = bytes([FXP_REALPATH]) + u32(7) + sstr(".")
        frame += u32(len(body)) + body
        for b in frame:
            ch.sendall(bytes([b]))
        v = sftp_recv(ch)
        r = sftp_recv(ch)
        t.close()
    ok(v[0] == FXP_VERSION and r[0] == FXP_NAME and r[1:5] == u32(7),
       "%s: reassembled and answered (VERSION, NAME)" % what)
    check_parallel(par, what)


def case_read_huge():
    what = "READ of 0xFFFFFFFF bytes"
    with Parallel() as par:
        t, ch = sftp_channel()
        sftp_init(ch)
        h, _ = sftp_open(ch, 1, FILE)
        sftp_send(ch, bytes([FXP_READ]) + u32(2) + sstr(h) +
                  struct.pack(">Q", 0) + u32(0xFFFFFFFF))
        r = sftp_recv(ch)
        got = struct.unpack(">I", r[5:9])[0] if r[0] == FXP_DATA else -1
        # The session still works.
        sftp_send(ch, bytes([FXP_CLOSE]) + u32(3) + sstr(h))
        c = sftp_recv(ch)
        t.close()
    ok(r[0] in (FXP_DATA, FXP_STATUS) and got <= 256 * 1024,
       "%s: answered with at most 256 KiB (%s)" %
       (what, "DATA of %d bytes" % got if got >= 0 else "STATUS"))
    ok(c[0] == FXP_STATUS and c[5:9] == u32(0),
       "%s: the session goes on (CLOSE answered OK)" % what)
    check_parallel(par, what)


def case_outstanding():
    what = "10,000 outstanding requests"
    count = 10000
    with Parallel() as par:
        t, ch = sftp_channel()
        sftp_init(ch)
        got = {}
        err = []

        def reader():
            try:
                for _ in range(count):
                    r = sftp_recv(ch)
                    got[struct.unpack(">I", r[1:5])[0]] = r[0]
            except (EOFError, OSError, socket.timeout) as e:
                err.append(str(e))
        # Send them all before reading any reply (the reader starts late).
        batch = b"".join(bytes([FXP_STAT]) and
                         u32(len(bytes([FXP_STAT]) + u32(i) + sstr(FILE))) +
                         bytes([FXP_STAT]) + u32(i) + sstr(FILE)
                         for i in range(count))
        ch.settimeout(60)
        sender = threading.Thread(target=ch.sendall, args=(batch,))
        sender.start()
        time.sleep(1)
        rd = threading.Thread(target=reader)
        rd.start()
        sender.join()
        rd.join()
        t.close()
    ok(len(got) == count and set(got.values()) == {FXP_ATTRS},
       "%s: every one answered in order of ids (%d ATTRS)%s" %
       (what, len(got), " " + err[0] if err else ""))
    check_parallel(par, what)


def case_handles():
    what = "handle exhaustion"
    with Parallel() as par:
        t, ch = sftp_channel()
        sftp_init(ch)
        handles, refusal = [], ""
        for i in range(5000):
            h, r = sftp_open(ch, 100 + i, FILE)
            if h is None:
                refusal = status_text(r)
                break
            handles.append(h)
        sftp_send(ch, bytes([FXP_CLOSE]) + u32(1) + sstr(handles[0]))
        sftp_recv(ch)
        h, _ = sftp_open(ch, 2, FILE)
        t.close()
    ok(0 < len(handles) < 5000 and refusal != "",
       "%s: refused after %d handles with a reason (%s)" %
       (what, len(handles), refusal))
    ok(h is not None, "%s: a closed handle's slot can be used again" % what)
    check_parallel(par, what)


def case_frame_length(length, what):
    with Parallel() as par:
        t, ch = sftp_channel()
        sftp_init(ch)
        ch.sendall(u32(length) + bytes([FXP_STAT]) + u32(1) + sstr(FILE))
        ch.settimeout(WAIT)
        outcome = ""
        try:
            r = sftp_recv(ch)
            outcome = "answered %d (%s)" % (r[0], status_text(r))
        except (EOFError, OSError, socket.timeout) as e:
            outcome = "session ended (%s)" % (str(e) or type(e).__name__)
        ended = ch.closed or ch.exit_status_ready() or "ended" in outcome
        t.close()
    ok(ended or "answered 101" in outcome,
       "%s: refused (%s)" % (what, outcome))
    check_parallel(par, what)


def case_ext_info():
    what = "EXT_INFO with 0xFFFFFFFF extensions from the client"
    REASONS.seen.clear()
    since = log_size()
    with Parallel() as par:
        t = transport(False)
        send(t, MSG_EXT_INFO, u32(0xFFFFFFFF) + sstr("server-sig-algs") +
             sstr("ssh-ed25519"))
        closed = wait_closed(t, WAIT)
        t.close()
    reason = reason_after(since)
    ok(closed and reason, "%s: the connection is closed (%s)" %
       (what, reason or "no reason given"))
    check_parallel(par, what)


def case_half_open(count):
    what = "%d half-open connections" % count
    t, ch = sftp_channel()
    sftp_init(ch)
    with Parallel() as par:
        socks = []
        for _ in range(count):
            try:
                socks.append(socket.create_connection(("127.0.0.1", PORT), 5))
            except OSError:
                break
        time.sleep(2)
        # The session authenticated before the flood keeps working.
        sftp_send(ch, bytes([FXP_STAT]) + u32(9) + sstr(FILE))
        r = sftp_recv(ch)
        for so in socks:
            so.close()
    t.close()
    ok(len(socks) == count, "%s: opened and held" % what)
    ok(r[0] == FXP_ATTRS, "%s: an authenticated session goes on" % what)
    check_parallel(par, what)


def main():
    pad = b"x" * 1000
    flood("IGNORE flood (20,000 x 1 KiB)", MSG_IGNORE,
          lambda i: sstr(pad), 20000)
    flood("PING flood (20,000)", MSG_PING, lambda i: sstr(pad[:64]), 20000)
    flood("GLOBAL_REQUEST flood (20,000, want-reply)", MSG_GLOBAL_REQUEST,
          lambda i: sstr("hostile-%d@example.com" % i) + b"\x01", 20000)
    case_ext_info()
    case_half_open(100)
    case_split()
    case_read_huge()
    case_outstanding()
    case_handles()
    case_frame_length(0, "SFTP frame of length 0")
    case_frame_length(3, "SFTP frame of length 3 (< 5)")
    case_frame_length(256 * 1024 + 1, "SFTP frame over 256 KiB")
    case_frame_length(0xFFFFFFFF, "SFTP frame of length 0xFFFFFFFF")
    print("1..%d" % n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
