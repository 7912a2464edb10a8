"""check-file-name / check-file-handle answers against hashlib digests of
the same bytes and ranges, plus malformed-message handling seen from a
real pipe, using raw SFTP packets to fsftp-server (the -D style pipe)."""
import hashlib
import importlib.util
import os
import shutil
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("sftp_raw",
                                              os.path.join(here, "sftp-raw.py"))
raw = importlib.util.module_from_spec(spec)
spec.loader.exec_module(raw)

builddir = os.environ.get("top_builddir", os.path.join(here, "..", ".."))
server = os.path.join(builddir, "src", "fsftp-server")
n = 0
failed = 0


def ok(cond, what):
    global n, failed
    n += 1
    print("%sok %d - %s" % ("" if cond else "not ", n, what))
    if not cond:
        failed += 1


tmp = tempfile.mkdtemp(prefix="ferry-checkfile.")
try:
    data = bytes((i * 131 + (i >> 8)) & 0xff for i in range(1000003))
    with open(os.path.join(tmp, "f"), "wb") as f:
        f.write(data)
    open(os.path.join(tmp, "empty"), "wb").close()
    c = raw.Client([server, "-e", "-l", "ERROR", "-r", tmp])
    ok(c.exts.get("check-file-name") == "md5,sha1,sha256,sha512",
       "check-file-name advertised with its algorithms")
    ok("check-file-handle" in c.exts, "check-file-handle advertised")
    for alg in ("md5", "sha1", "sha256", "sha512"):
        got_alg, dig = c.check_file("/f", alg, 0, 0, 0)
        ok(got_alg == alg and dig == hashlib.new(alg, data).digest(),
           "whole file %s equals %ssum" % (alg, alg))
    import subprocess
    for alg, tool in (("sha256", "sha256sum"), ("md5", "md5sum")):
        got_alg, dig = c.check_file("/f", alg, 0, 0, 0)
        want = subprocess.run([tool, os.path.join(tmp, "f")],
                              capture_output=True, text=True).stdout.split()[0]
        ok(dig.hex() == want, "%s answer equals %s of the file" % (alg, tool))
    part = os.path.join(tmp, "part")
    with open(part, "wb") as f:
        f.write(data[4096:4096 + 100000])
    got_alg, dig = c.check_file("/f", "sha256", 4096, 100000, 0)
    want = subprocess.run(["sha256sum", part], capture_output=True,
                          text=True).stdout.split()[0]
    ok(dig.hex() == want, "range answer equals sha256sum of the same bytes")
    os.unlink(part)
    h = c.open("/f", raw.READ)
    got_alg, dig = c.check_file(h, "sha256", 0, 0, 0, by_handle=True)
    ok(dig == hashlib.sha256(data).digest(), "check-file-handle sha256")
    # Ranges with blocks: resume-style verification.
    start, length, block = 12345, 500000, 65536
    got_alg, dig = c.check_file(h, "sha1,md5", start, length, block,
                                by_handle=True)
    want = b""
    pos = start
    while pos < start + length:
        end = min(pos + block, start + length)
        want += hashlib.sha1(data[pos:end]).digest()
        pos = end
    ok(got_alg == "sha1" and dig == want,
       "sha1 per 64 KiB block of a range (%d digests)" % (len(want) // 20))
    got_alg, dig = c.check_file("f", "sha512", 999000, 0, 0)
    ok(dig == hashlib.sha512(data[999000:]).digest(),
       "length 0 hashes to the end of the file (relative name)")
    got_alg, dig = c.check_file("/f", "md5", 900000, 10 ** 9, 0)
    ok(dig == hashlib.md5(data[900000:]).digest(),
       "range past the end stops at the end of the file")
    got_alg, dig = c.check_file("/empty", "sha256", 0, 0, 0)
    ok(dig == hashlib.sha256(b"").digest(), "empty file")
    ok(c.status("EXTENDED", raw.s("/f") + raw.s("crc32") + raw.u64(0) +
                raw.u64(0) + raw.u32(0), "check-file-name") == raw.FX_FAILURE,
       "unsupported algorithm: failure")
    ok(c.status("EXTENDED", raw.s("/f") + raw.s("md5") + raw.u64(0) +
                raw.u64(0) + raw.u32(255), "check-file-name") == raw.FX_FAILURE,
       "block size 255: failure")
    got_alg, dig = c.check_file("/f", "md5", 0, 0, 256)
    want = b"".join(hashlib.md5(data[i:i + 256]).digest()
                    for i in range(0, len(data), 256))
    ok(dig == want, "md5 of every 256-byte block (%d digests)" %
       (len(want) // 16))
    with open(os.path.join(tmp, "sparse"), "wb") as f:
        f.truncate(8 << 20)
    ok(c.status("EXTENDED", raw.s("/sparse") + raw.s("md5") + raw.u64(0) +
                raw.u64(0) + raw.u32(256), "check-file-name") == raw.FX_FAILURE,
       "too many blocks for one reply: failure")
    ok(c.status("EXTENDED", raw.s("/missing") + raw.s("md5") + raw.u64(0) +
                raw.u64(0) + raw.u32(0), "check-file-name") ==
       raw.FX_NO_SUCH_FILE, "missing file: no such file")
    ok(c.status("EXTENDED", raw.s("/f") + raw.s("md5") + raw.u64(0),
                "check-file-name") == raw.FX_BAD_MESSAGE,
       "truncated request: bad message")
    c.close(h)
    # Malformed framing over the pipe: zero length, then still in sync.
    c.rawbytes(raw.u32(0))
    t, body = c.recv()
    ok(t == raw.FXP["STATUS"] and raw.Reader(body[4:]).u32() ==
       raw.FX_BAD_MESSAGE, "zero-length message: bad message")
    ok(c.realpath("/") == "/", "still in sync afterwards")
    ok(c.finish() == 0, "server exits 0 at end of input")
    # Protocol error: a request before INIT ends the session.
    import subprocess
    p = subprocess.run([server, "-e", "-l", "QUIET"], input=raw.u32(5) +
                       bytes([17]) + raw.u32(1), capture_output=True,
                       timeout=60)
    ok(p.returncode != 0 and p.stdout == b"",
       "request before INIT: session ends, nothing sent")
finally:
    shutil.rmtree(tmp)
print("1..%d" % n)
sys.exit(1 if failed else 0)
