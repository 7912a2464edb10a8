"""A scripted SFTP version 3 server on stdin/stdout for fsftp's regress
tests (used through fsftp -D).  It serves the directory it starts in
honestly, except for the misbehaviour named by its first argument:

  honest        no misbehaviour (no check-file extension: resume falls
                back to comparing samples)
  slash         READDIR returns a name "../escaped" (and "a/b")
  dotdot        READDIR returns ".." and "." as regular files
  longdata      READ returns one byte more than asked
  unknownid     the first READ reply carries an id nobody used
  dupid         the first STAT is answered twice
  ctrl          STATUS messages hold terminal escapes (OPEN of deny*
                fails with one)
  cut=N         exit abruptly after N bytes of READ data or WRITE data
"""
import os
import stat
import struct
import sys

FXP_INIT, FXP_VERSION, FXP_OPEN, FXP_CLOSE, FXP_READ, FXP_WRITE = 1, 2, 3, 4, 5, 6
FXP_LSTAT, FXP_FSTAT, FXP_SETSTAT, FXP_FSETSTAT, FXP_OPENDIR = 7, 8, 9, 10, 11
FXP_READDIR, FXP_REMOVE, FXP_MKDIR, FXP_RMDIR, FXP_REALPATH = 12, 13, 14, 15, 16
FXP_STAT, FXP_RENAME = 17, 18
FXP_STATUS, FXP_HANDLE, FXP_DATA, FXP_NAME, FXP_ATTRS = 101, 102, 103, 104, 105
FXP_EXTENDED = 200

mode = sys.argv[1] if len(sys.argv) > 1 else "honest"
cut = int(mode[4:]) if mode.startswith("cut=") else -1
moved = 0
inp = sys.stdin.buffer
out = sys.stdout.buffer
handles = {}
nexth = [0]
once = {"read": True, "stat": True}


def u32(v):
    return struct.pack(">I", v)


def s(v):
    if isinstance(v, str):
        v = v.encode("utf-8", "surrogateescape")
    return u32(len(v)) + v


def send(body):
    out.write(u32(len(body)) + body)
    out.flush()


def status(rid, code, msg="x"):
    send(bytes([FXP_STATUS]) + u32(rid) + u32(code) + s(msg) + s(""))


def attrs(st):
    return (u32(0xf) + struct.pack(">Q", st.st_size) + u32(st.st_uid) +
            u32(st.st_gid) + u32(st.st_mode) + u32(int(st.st_atime)) +
            u32(int(st.st_mtime)))


def errno_status(rid, e):
    code = {2: 2, 13: 3}.get(e.errno, 4)
    status(rid, code, "ctrl \x1b[31mred\x1b[0m" if mode == "ctrl" else
           os.strerror(e.errno))


class R:
    def __init__(self, d):
        self.d, self.o = d, 0

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

    def path(self):
        return self.s().decode("utf-8", "surrogateescape")

    def attrs(self):
        f = self.u32()
        a = {}
        if f & 1:
            a["size"] = self.u64()
        if f & 2:
            a["uid"], a["gid"] = self.u32(), self.u32()
        if f & 4:
            a["perm"] = self.u32()
        if f & 8:
            a["atime"], a["mtime"] = self.u32(), self.u32()
        return a


def readn(n):
    b = b""
    while len(b) < n:
        c = inp.read(n - len(b))
        if not c:
            sys.exit(0)
        b += c
    return b


def count(n):
    global moved
    moved += n
    if cut >= 0 and moved >= cut:
        os._exit(0)


def newh(obj):
    nexth[0] += 1
    h = ("h%d" % nexth[0]).encode()
    handles[h] = obj
    return h


def handle(t, rid, r):
    if t == FXP_REALPATH:
        p = os.path.normpath(os.path.join(os.getcwd(), r.path()))
        send(bytes([FXP_NAME]) + u32(rid) + u32(1) + s(p) + s(p) + u32(0))
    elif t in (FXP_STAT, FXP_LSTAT):
        p = r.path()
        try:
            st = os.stat(p) if t == FXP_STAT else os.lstat(p)
        except OSError as e:
            return errno_status(rid, e)
        send(bytes([FXP_ATTRS]) + u32(rid) + attrs(st))
        if mode == "dupid" and once["stat"]:
            once["stat"] = False
            send(bytes([FXP_ATTRS]) + u32(rid) + attrs(st))
    elif t == FXP_FSTAT:
        h = r.s()
        send(bytes([FXP_ATTRS]) + u32(rid) + attrs(os.fstat(handles[h])))
    elif t == FXP_OPEN:
        p, pf = r.path(), r.u32()
        a = r.attrs()
        fl = 0
        if pf & 1 and pf & 2:
            fl = os.O_RDWR
        elif pf & 2:
            fl = os.O_WRONLY
        if pf & 8:
            fl |= os.O_CREAT
        if pf & 0x10:
            fl |= os.O_TRUNC
        try:
            if mode == "ctrl" and os.path.basename(p).startswith("deny"):
                raise OSError(1, "denied")
            fd = os.open(p, fl, a.get("perm", 0o666) & 0o777)
        except OSError as e:
            return errno_status(rid, e)
        send(bytes([FXP_HANDLE]) + u32(rid) + s(newh(fd)))
    elif t == FXP_OPENDIR:
        p = r.path()
        try:
            names = [".", ".."] + sorted(os.listdir(p))
        except OSError as e:
            return errno_status(rid, e)
        send(bytes([FXP_HANDLE]) + u32(rid) + s(newh([p, names, False])))
    elif t == FXP_READDIR:
        d = handles[r.s()]
        if d[2]:
            return status(rid, 1, "EOF")
        d[2] = True
        ents = []
        for n in d[1]:
            try:
                st = os.lstat(os.path.join(d[0], n))
            except OSError:
                continue
            ents.append((n, st))
        reg = os.lstat(__file__)
        if mode == "slash":
            ents += [("../escaped", reg), ("a/b", reg)]
        if mode == "dotdot":
            ents = [(n, st) for n, st in ents if n not in (".", "..")]
            ents += [("..", reg), (".", reg)]
        body = bytes([FXP_NAME]) + u32(rid) + u32(len(ents))
        for n, st in ents:
            body += s(n) + s("-rw-r--r-- 1 u g 0 Jan 1 00:00 " + n) + attrs(st)
        send(body)
    elif t == FXP_READ:
        h, off, ln = r.s(), r.u64(), r.u32()
        fd = handles[h]
        data = os.pread(fd, ln, off)
        if mode == "unknownid" and once["read"]:
            once["read"] = False
            rid += 1000
        if not data:
            return status(rid, 1, "EOF")
        if mode == "longdata":
            data += b"!" * (ln + 1 - len(data))
        count(len(data))
        send(bytes([FXP_DATA]) + u32(rid) + s(data))
    elif t == FXP_WRITE:
        h, off, data = r.s(), r.u64(), r.s()
        count(len(data))
        os.pwrite(handles[h], data, off)
        status(rid, 0, "OK")
    elif t == FXP_CLOSE:
        h = r.s()
        o = handles.pop(h, None)
        if isinstance(o, int):
            os.close(o)
        status(rid, 0, "OK")
    elif t in (FXP_SETSTAT, FXP_FSETSTAT):
        target = r.s() if t == FXP_FSETSTAT else r.path()
        a = r.attrs()
        if t == FXP_FSETSTAT:
            target = handles[target]
        try:
            if "perm" in a:
                os.chmod(target, a["perm"] & 0o7777)
            if "mtime" in a:
                os.utime(target, (a["atime"], a["mtime"]))
        except OSError as e:
            return errno_status(rid, e)
        status(rid, 0, "OK")
    elif t in (FXP_REMOVE, FXP_RMDIR, FXP_MKDIR):
        p = r.path()
        try:
            {FXP_REMOVE: os.unlink, FXP_RMDIR: os.rmdir,
             FXP_MKDIR: os.mkdir}[t](p)
        except OSError as e:
            return errno_status(rid, e)
        status(rid, 0, "OK")
    elif t == FXP_RENAME:
        a, b = r.path(), r.path()
        try:
            if os.path.exists(b):
                raise OSError(17, "exists")
            os.rename(a, b)
        except OSError as e:
            return errno_status(rid, e)
        status(rid, 0, "OK")
    else:
        status(rid, 8, "unsupported")


def main():
    ln = struct.unpack(">I", readn(4))[0]
    readn(ln)
    send(bytes([FXP_VERSION]) + u32(3))
    while True:
        ln = struct.unpack(">I", readn(4))[0]
        d = readn(ln)
        r = R(d)
        t = d[0]
        r.o = 1
        rid = r.u32()
        handle(t, rid, r)


main()
