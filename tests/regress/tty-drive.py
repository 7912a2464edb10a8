# Run a program on a fresh pseudo-terminal as a shell with job control
# would (its own process group in the foreground of a session whose
# leader is its parent, so that ^Z really stops it), wait for a prompt,
# and act on it:
#
#   tty-drive.py PROMPT ACTIONS -- COMMAND [ARG...]
#
# ACTIONS is a comma-separated list, run in order once PROMPT appeared:
#   type:TEXT   type TEXT (no newline)
#   echo        report whether echo is on now ("echo=on|off")
#   key:C       type the control character ^C (C in A..Z: ^Z, ^C, ^\)
#   kill:SIG    send signal SIG (TERM, HUP, ...) to the program
#   stopped     wait until the program has stopped; report "stopped=yes"
#   cont        send SIGCONT
#   prompt      wait for PROMPT to appear again ("prompt=again")
#   line:TEXT   type TEXT and a newline
#   wait:TEXT   wait until TEXT appears in the output (after what an earlier
#               prompt or wait matched)
#   file:PATH   wait until the file PATH exists and is not empty
# At the end the driver waits for the program to end and prints
# "status=exit N" or "status=signal N", the terminal's echo after it
# ("final-echo=on|off") and everything the program wrote ("output=...").
# With TTY_DRIVE_OUT=FILE in the environment the output is also written
# raw to FILE.  Exit status 0, or 1 when something did not happen in time
# (TIMEOUT seconds for the whole run: generous, as CI machines are loaded).
import fcntl
import os
import select
import signal
import sys
import termios
import time

TIMEOUT = 60


def main():
    sep = sys.argv.index("--")
    prompt, actions = sys.argv[1].encode(), sys.argv[2].split(",")
    cmd = sys.argv[sep + 1:]
    master, slave = os.openpty()
    # The "shell" reports the program's pid and its state changes.
    rp, wp = os.pipe()
    shell = os.fork()
    if shell == 0:
        os.close(master)
        os.close(rp)
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        signal.signal(signal.SIGTTOU, signal.SIG_IGN)
        pid = os.fork()
        if pid == 0:
            # Both sides set the group and the foreground, as shells
            # do: whichever runs first wins the race with the exec.
            os.setpgid(0, 0)
            os.tcsetpgrp(slave, os.getpid())
            signal.signal(signal.SIGTTOU, signal.SIG_DFL)
            for fd in (0, 1, 2):
                os.dup2(slave, fd)
            if slave > 2:
                os.close(slave)
            os.close(wp)
            os.execvp(cmd[0], cmd)
        try:
            os.setpgid(pid, pid)
            os.tcsetpgrp(slave, pid)
        except OSError:
            pass  # the child has done it and run the program already
        os.write(wp, b"pid %d\n" % pid)
        while True:
            _, st = os.waitpid(pid, os.WUNTRACED)
            if os.WIFSTOPPED(st):
                os.write(wp, b"stopped\n")
                continue
            if os.WIFSIGNALED(st):
                os.write(wp, b"signal %d\n" % os.WTERMSIG(st))
            else:
                os.write(wp, b"exit %d\n" % os.WEXITSTATUS(st))
            os._exit(0)
    os.close(wp)
    events = b""
    out = b""
    deadline = time.time() + TIMEOUT

    def pump(until, step=None):
        nonlocal events, out
        while not until():
            left = deadline - time.time()
            if left <= 0:
                return False
            r, _, _ = select.select([master, rp], [], [],
                                    min(left, step) if step else left)
            if master in r:
                try:
                    out += os.read(master, 4096)
                except OSError:
                    pass
            if rp in r:
                d = os.read(rp, 4096)
                if d:
                    events += d
        return True

    if not pump(lambda: b"\n" in events):
        print("error=no pid")
        return 1
    pid = int(events.split(b"\n")[0].split()[1])
    events = events.split(b"\n", 1)[1]
    seen = 0

    def saw_prompt():
        return out.count(prompt) > seen

    def file_filled(path):
        try:
            return os.path.getsize(path) > 0
        except OSError:
            return False

    if not pump(saw_prompt):
        print("error=no prompt; output=%r" % out)
        return 1
    seen = out.count(prompt)
    pos = out.rfind(prompt) + len(prompt)
    for a in actions:
        name, _, arg = a.partition(":")
        if name == "type":
            os.write(master, arg.encode())
        elif name == "line":
            os.write(master, arg.encode() + b"\r")
        elif name == "key":
            os.write(master, bytes([ord(arg) & 0x1f]))
        elif name == "echo":
            on = termios.tcgetattr(slave)[3] & termios.ECHO
            print("echo=%s" % ("on" if on else "off"))
        elif name == "kill":
            os.kill(pid, getattr(signal, "SIG" + arg))
        elif name == "stopped":
            if not pump(lambda: b"stopped" in events):
                print("error=not stopped")
                return 1
            events = events.replace(b"stopped\n", b"", 1)
            print("stopped=yes")
        elif name == "cont":
            os.kill(pid, signal.SIGCONT)
        elif name == "prompt":
            if not pump(saw_prompt):
                print("error=no prompt again; output=%r" % out)
                return 1
            seen = out.count(prompt)
            pos = out.rfind(prompt) + len(prompt)
            print("prompt=again")
        elif name == "wait":
            if not pump(lambda: out.find(arg.encode(), pos) >= 0):
                print("error=no %r; output=%r" % (arg, out))
                return 1
            pos = out.find(arg.encode(), pos) + len(arg)
        elif name == "file":
            if not pump(lambda: file_filled(arg), 0.05):
                print("error=%s stays empty" % arg)
                return 1
    if not pump(lambda: b"exit" in events or b"signal" in events):
        print("error=still running")
        os.kill(pid, signal.SIGKILL)
        return 1
    os.waitpid(shell, 0)
    pump(lambda: False if select.select([master], [], [], 0.2)[0] else True)
    for line in events.decode().split("\n"):
        if line.startswith(("exit", "signal")):
            print("status=" + line)
    on = termios.tcgetattr(slave)[3] & termios.ECHO
    print("final-echo=%s" % ("on" if on else "off"))
    print("output=%r" % out)
    if os.environ.get("TTY_DRIVE_OUT"):
        with open(os.environ["TTY_DRIVE_OUT"], "wb") as f:
            f.write(out)
    return 0


sys.exit(main())
