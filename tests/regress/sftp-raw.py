"""A raw SFTP version 3 client for regress tests: runs a server program
(fsftp-server or OpenSSH's sftp-server) as a subprocess and speaks the
protocol on its stdin/stdout, so tests can send requests no ordinary
client sends (check-file, malformed messages).  Load it with
importlib (its file name has a dash)."""
import struct
import subprocess

FXP = dict(INIT=1, VERSION=2, OPEN=3, CLOSE=4, READ=5, WRITE=6, LSTAT=7,
           FSTAT=8, SETSTAT=9, FSETSTAT=10, OPENDIR=11, READDIR=12,
           REMOVE=13, MKDIR=14, RMDIR=15, REALPATH=16, STAT=17, RENAME=18,
           READLINK=19, SYMLINK=20, STATUS=101, HANDLE=102, DATA=103,
           NAME=104, ATTRS=105, EXTENDED=200, EXTENDED_REPLY=201)
FX_OK, FX_EOF, FX_NO_SUCH_FILE, FX_PERMISSION_DENIED, FX_FAILURE = 0, 1, 2, 3, 4
FX_BAD_MESSAGE, FX_OP_UNSUPPORTED = 5, 8
READ, WRITE, APPEND, CREAT, TRUNC, EXCL = 1, 2, 4, 8, 0x10, 0x20


def u32(v):
    return struct.pack(">I", v)


def u64(v):
    return struct.pack(">Q", v)


def s(v):
    if isinstance(v, str):
        v = v.encode()
    return u32(len(v)) + v


class Status(Exception):
    def __init__(self, code, msg):
        super().__init__("status %d: %s" % (code, msg))
        self.code = code
        self.msg = msg


class Reader:
    def __init__(self, data):
        self.d = data
        self.o = 0

    def u32(self):
        v = struct.unpack(">I", self.d[self.o:self.o + 4])[0]
        self.o += 4
        return v

    def u64(self):
        v = struct.unpack(">Q", self.d[self.o:self.o + 8])[0]
        self.o += 8
        return v

    def s(self):
        n = self.u32()
        v = self.d[self.o:self.o + n]
        self.o += n
        return v

    def attrs(self):
        flags = self.u32()
        a = {}
        if flags & 1:
            a["size"] = self.u64()
        if flags & 2:
            a["uid"], a["gid"] = self.u32(), self.u32()
        if flags & 4:
            a["perm"] = self.u32()
        if flags & 8:
            a["atime"], a["mtime"] = self.u32(), self.u32()
        return a

    def rest(self):
        v = self.d[self.o:]
        self.o = len(self.d)
        return v


class Client:
    def __init__(self, argv):
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE)
        self.id = 0
        self.raw(bytes([FXP["INIT"]]) + u32(3))
        t, body = self.recv()
        assert t == FXP["VERSION"], t
        r = Reader(body)
        self.version = r.u32()
        self.exts = {}
        while r.o < len(body):
            k = r.s().decode()
            self.exts[k] = r.s().decode()

    def raw(self, payload):
        self.p.stdin.write(u32(len(payload)) + payload)
        self.p.stdin.flush()

    def rawbytes(self, data):
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def recv(self):
        hdr = self.p.stdout.read(4)
        if len(hdr) < 4:
            raise EOFError("server closed")
        n = struct.unpack(">I", hdr)[0]
        body = self.p.stdout.read(n)
        return body[0], body[1:]

    def request(self, type_, payload, ext=None):
        self.id += 1
        rid = self.id
        if ext is not None:
            payload = s(ext) + payload
        self.raw(bytes([FXP[type_] if isinstance(type_, str) else type_])
                 + u32(rid) + payload)
        t, body = self.recv()
        r = Reader(body)
        got = r.u32()
        assert got == rid, (got, rid)
        if t == FXP["STATUS"]:
            code = r.u32()
            msg = r.s().decode(errors="replace")
            if code != FX_OK:
                raise Status(code, msg)
            return t, None
        return t, r

    def status(self, type_, payload, ext=None):
        """Return the status code of a request (0 on success)."""
        try:
            self.request(type_, payload, ext)
            return FX_OK
        except Status as e:
            return e.code

    def open(self, path, flags, attrs=u32(0)):
        t, r = self.request("OPEN", s(path) + u32(flags) + attrs)
        return r.s()

    def close(self, h):
        self.request("CLOSE", s(h))

    def read(self, h, off, n):
        t, r = self.request("READ", s(h) + u64(off) + u32(n))
        return r.s()

    def write(self, h, off, data):
        self.request("WRITE", s(h) + u64(off) + s(data))

    def stat(self, path, kind="STAT"):
        t, r = self.request(kind, s(path))
        return r.attrs()

    def listdir(self, path):
        h = self.request("OPENDIR", s(path))[1].s()
        out = []
        while True:
            try:
                t, r = self.request("READDIR", s(h))
            except Status as e:
                if e.code == FX_EOF:
                    break
                raise
            for _ in range(r.u32()):
                name, longname, a = r.s(), r.s(), r.attrs()
                out.append((name.decode(), longname.decode(), a))
        self.close(h)
        return out

    def name1(self, type_, payload, ext=None):
        t, r = self.request(type_, payload, ext)
        assert r.u32() == 1
        return r.s().decode()

    def realpath(self, path):
        return self.name1("REALPATH", s(path))

    def readlink(self, path):
        return self.name1("READLINK", s(path))

    def check_file(self, name_or_handle, algs, start, length, block,
                   by_handle=False):
        ext = "check-file-handle" if by_handle else "check-file-name"
        t, r = self.request("EXTENDED", s(name_or_handle) + s(algs) +
                            u64(start) + u64(length) + u32(block), ext)
        assert t == FXP["EXTENDED_REPLY"], t
        alg = r.s().decode()
        return alg, r.rest()

    def finish(self):
        self.p.stdin.close()
        rc = self.p.wait(timeout=60)
        self.p.stdout.close()
        return rc


def load():
    """Import helper for tests: returns this module."""
    import sys
    return sys.modules[__name__]
