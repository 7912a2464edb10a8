"""Permission matrix for fsftp-server: every request denied with -P (and
then the file system is unchanged), allowed with -p (and its effect is
there, while requests outside the list are refused), and -R (read-only:
nothing changes, not even an empty file from OPEN with CREAT)."""
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
s, u32, u64 = raw.s, raw.u32, raw.u64
builddir = os.environ.get("top_builddir", os.path.join(here, "..", ".."))
server = os.path.join(builddir, "src", "fsftp-server")
n = failed = 0


def ok(cond, what):
    global n, failed
    n += 1
    print("%sok %d - %s" % ("" if cond else "not ", n, what))
    if not cond:
        failed += 1


def setup(d):
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(os.path.join(d, "d"))
    with open(os.path.join(d, "f"), "wb") as f:
        f.write(b"content of f\n")
    os.chmod(os.path.join(d, "f"), 0o644)
    os.symlink("f", os.path.join(d, "l"))
    open(os.path.join(d, "cp"), "wb").close()
    os.utime(os.path.join(d, "f"), (1000000000, 1000000000))


def snapshot(d):
    out = []
    for root, dirs, files in os.walk(d):
        for name in sorted(dirs + files):
            p = os.path.join(root, name)
            st = os.lstat(p)
            h = ""
            if os.path.isfile(p) and not os.path.islink(p):
                with open(p, "rb") as f:
                    h = hashlib.sha256(f.read()).hexdigest()
            out.append((os.path.relpath(p, d), st.st_mode, st.st_size,
                        int(st.st_mtime), st.st_nlink, h))
    return sorted(out)


def rd(c):
    return c.open("/f", raw.READ)


def wr(c):
    return c.open("/f", raw.READ | raw.WRITE)


def perm(mode):
    return u32(4) + u32(mode)


# name: (prerequisite requests, action(c) -> status, effect(d) when allowed)
CASES = {
    "open": ([], lambda c: c.status("OPEN", s("/new") + u32(raw.WRITE |
              raw.CREAT) + u32(0)),
             lambda d: os.path.exists(d + "/new")),
    "close": (["open"], lambda c: c.status("CLOSE", s(rd(c))), None),
    "read": (["open"], lambda c: c.status("READ", s(rd(c)) + u64(0) +
                                          u32(10)), None),
    "write": (["open"], lambda c: c.status("WRITE", s(wr(c)) + u64(0) +
                                           s("X")),
              lambda d: open(d + "/f", "rb").read(1) == b"X"),
    "lstat": ([], lambda c: c.status("LSTAT", s("/l")), None),
    "fstat": (["open"], lambda c: c.status("FSTAT", s(rd(c))), None),
    "setstat": ([], lambda c: c.status("SETSTAT", s("/f") + perm(0o600)),
                lambda d: os.stat(d + "/f").st_mode & 0o777 == 0o600),
    "fsetstat": (["open"], lambda c: c.status("FSETSTAT", s(rd(c)) +
                                              perm(0o600)),
                 lambda d: os.stat(d + "/f").st_mode & 0o777 == 0o600),
    "opendir": ([], lambda c: c.status("OPENDIR", s("/d")), None),
    "readdir": (["opendir"], lambda c: c.status(
        "READDIR", s(c.request("OPENDIR", s("/"))[1].s())), None),
    "remove": ([], lambda c: c.status("REMOVE", s("/f")),
               lambda d: not os.path.exists(d + "/f")),
    "mkdir": ([], lambda c: c.status("MKDIR", s("/nd") + u32(0)),
              lambda d: os.path.isdir(d + "/nd")),
    "rmdir": ([], lambda c: c.status("RMDIR", s("/d")),
              lambda d: not os.path.exists(d + "/d")),
    "realpath": ([], lambda c: c.status("REALPATH", s("/d/..")), None),
    "stat": ([], lambda c: c.status("STAT", s("/l")), None),
    "rename": ([], lambda c: c.status("RENAME", s("/f") + s("/g")),
               lambda d: os.path.exists(d + "/g")),
    "readlink": ([], lambda c: c.status("READLINK", s("/l")), None),
    "symlink": ([], lambda c: c.status("SYMLINK", s("f") + s("/sl")),
                lambda d: os.readlink(d + "/sl") == "f"),
    "posix-rename": ([], lambda c: c.status("EXTENDED", s("/f") + s("/g"),
                                            "posix-rename@openssh.com"),
                     lambda d: os.path.exists(d + "/g")),
    "statvfs": ([], lambda c: c.status("EXTENDED", s("/"),
                                       "statvfs@openssh.com"), None),
    "fstatvfs": (["open"], lambda c: c.status("EXTENDED", s(rd(c)),
                                              "fstatvfs@openssh.com"), None),
    "hardlink": ([], lambda c: c.status("EXTENDED", s("/f") + s("/hl"),
                                        "hardlink@openssh.com"),
                 lambda d: os.stat(d + "/f").st_nlink == 2),
    "fsync": (["open"], lambda c: c.status("EXTENDED", s(rd(c)),
                                           "fsync@openssh.com"), None),
    "lsetstat": ([], lambda c: c.status("EXTENDED", s("/f") + perm(0o600),
                                        "lsetstat@openssh.com"),
                 lambda d: os.stat(d + "/f").st_mode & 0o777 == 0o600),
    "limits": ([], lambda c: c.status("EXTENDED", b"",
                                      "limits@openssh.com"), None),
    "expand-path": ([], lambda c: c.status("EXTENDED", s("~/d"),
                                           "expand-path@openssh.com"), None),
    "copy-data": (["open"], lambda c: c.status(
        "EXTENDED", s(rd(c)) + u64(0) + u64(0) +
        s(c.open("/cp", raw.WRITE)) + u64(0), "copy-data"),
        lambda d: open(d + "/cp", "rb").read() == b"content of f\n"),
    "home-directory": ([], lambda c: c.status("EXTENDED", s(""),
                                              "home-directory"), None),
    "users-groups-by-id": ([], lambda c: c.status(
        "EXTENDED", s(u32(0)) + s(u32(0)), "users-groups-by-id@openssh.com"),
        None),
    "check-file-handle": (["open"], lambda c: c.status(
        "EXTENDED", s(rd(c)) + s("md5") + u64(0) + u64(0) + u32(0),
        "check-file-handle"), None),
    "check-file-name": ([], lambda c: c.status(
        "EXTENDED", s("/f") + s("md5") + u64(0) + u64(0) + u32(0),
        "check-file-name"), None),
    # SCAN of a directory: needs what a walk needs (man ferry-sftp-archive.7).
    "tree-archive": (["opendir", "readdir", "open", "read", "lstat",
                      "readlink"], lambda c: c.status(
        "EXTENDED", u32(3) + s("/d") + u32(0) + u64(0),
        "tree-archive@ferry"), None),
}
EXT_NAMES = {"posix-rename": "posix-rename@openssh.com",
             "statvfs": "statvfs@openssh.com",
             "hardlink": "hardlink@openssh.com",
             "copy-data": "copy-data",
             "check-file-name": "check-file-name",
             "tree-archive": "tree-archive@ferry"}
# Requests that change the file system: refused by -R.
WRITES = {"write", "setstat", "fsetstat", "remove", "mkdir", "rmdir",
          "rename", "symlink", "posix-rename", "hardlink", "fsync",
          "lsetstat", "copy-data"}

tmp = tempfile.mkdtemp(prefix="ferry-perms.")
d = os.path.join(tmp, "root")
try:
    q = os.popen(server + " -Q requests").read().split()
    ok(sorted(q) == sorted(CASES), "the matrix covers every request of -Q")
    for name in q:
        pre, action, effect = CASES[name]
        # Denied with -P: refused, nothing changed.
        setup(d)
        before = snapshot(d)
        c = raw.Client([server, "-e", "-l", "QUIET", "-r", d, "-P", name])
        if name in EXT_NAMES:
            ok(EXT_NAMES[name] not in c.exts,
               "-P %s: extension not advertised" % name)
        code = action(c)
        c.finish()
        ok(code == raw.FX_PERMISSION_DENIED and snapshot(d) == before,
           "-P %s: permission denied, file system unchanged (%d)" %
           (name, code))
        # Allowed with -p (and its prerequisites): works; others refused.
        setup(d)
        allow = ",".join([name] + pre)
        c = raw.Client([server, "-e", "-l", "QUIET", "-r", d, "-p", allow])
        code = action(c)
        other = "mkdir" if name != "mkdir" else "rmdir"
        ocode = c.status("MKDIR", s("/other") + u32(0)) if other == "mkdir" \
            else c.status("RMDIR", s("/d"))
        c.finish()
        ok(code == raw.FX_OK and (effect is None or effect(d)),
           "-p %s: allowed and done (%d)" % (allow, code))
        ok(ocode == raw.FX_PERMISSION_DENIED and
           not os.path.exists(d + "/other") and
           (other == "mkdir" or os.path.isdir(d + "/d")),
           "-p %s: %s outside the list refused" % (allow, other))
        # Read-only.
        setup(d)
        before = snapshot(d)
        c = raw.Client([server, "-e", "-l", "QUIET", "-r", d, "-R"])
        try:
            code = action(c)
        except raw.Status as e:
            code = e.code	# a writable handle could not be opened
        c.finish()
        after = snapshot(d)
        if name in WRITES or name == "open":
            ok(code == raw.FX_PERMISSION_DENIED and after == before,
               "-R %s: refused, file system unchanged" % name)
        else:
            ok(code == raw.FX_OK and after == before,
               "-R %s: allowed, nothing changed" % name)
    # -R: OPEN with CREAT creates nothing, even without WRITE.
    setup(d)
    c = raw.Client([server, "-e", "-l", "QUIET", "-r", d, "-R"])
    code = c.status("OPEN", s("/empty") + u32(raw.READ | raw.CREAT) + u32(0))
    tcode = c.status("OPEN", s("/f") + u32(raw.READ | raw.TRUNC) + u32(0))
    c.finish()
    ok(code == raw.FX_PERMISSION_DENIED and not os.path.exists(d + "/empty"),
       "-R: OPEN(READ|CREAT) refused, no empty file")
    ok(tcode == raw.FX_PERMISSION_DENIED and os.path.getsize(d + "/f") > 0,
       "-R: OPEN(READ|TRUNC) refused, file intact")
finally:
    shutil.rmtree(tmp)
print("1..%d" % n)
sys.exit(1 if failed else 0)
