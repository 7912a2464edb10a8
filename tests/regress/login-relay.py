#!/usr/bin/python3
"""Count a client's round trips: a TCP relay on 127.0.0.1 that forwards
one connection to a server and counts the client's flights.

A flight is data the client sends after it has been given data from the
server since its previous flight: each flight after the first is one
round trip the client waited for.  Server-to-client data is held for
DELAY seconds (0.25) and handed over in one piece, so what the server
sends in one burst arrives as one burst and the count does not depend on
how TCP split it.  DELAY is also how long a side may pause within one
burst (descheduled, or computing a signature between two writes) before
the count goes up: it is generous because CI machines are loaded.

usage: login-relay.py PORTFILE TARGETPORT COUNTFILE [DELAY]
Writes the listening port to PORTFILE, serves one connection, writes
"flights N" and the client's flights with their sizes to COUNTFILE.
"""
import os
import select
import socket
import sys
import time


def main():
    portfile, target, countfile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    delay = float(sys.argv[4]) if len(sys.argv) > 4 else 0.25
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % ls.getsockname()[1])
    # Renamed into place so a reader never sees half a port number.
    os.rename(portfile + ".tmp", portfile)
    ls.settimeout(60)
    c, _ = ls.accept()
    s = socket.create_connection(("127.0.0.1", target))
    for x in (c, s):
        x.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    flights = []
    given = True        # the client may start speaking at once
    pending = b""       # server data held back
    due = None
    open_c = open_s = True
    end = time.time() + 60
    while (open_c or open_s or pending) and time.time() < end:
        socks = [x for x, o in ((c, open_c), (s, open_s)) if o]
        wait = 1.0 if due is None else max(0.0, due - time.time())
        r, _, _ = select.select(socks, [], [], wait)
        if c in r:
            d = c.recv(65536)
            if not d:
                open_c = False
                try:
                    s.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
            else:
                if given:
                    flights.append(0)
                    given = False
                flights[-1] += len(d)
                s.sendall(d)
        if s in r:
            d = s.recv(65536)
            if not d:
                open_s = False
            else:
                if not pending:
                    due = time.time() + delay
                pending += d
        if pending and time.time() >= due:
            try:
                c.sendall(pending)
            except OSError:
                open_c = False
            pending = b""
            due = None
            given = True
        if not open_s and not pending:
            try:
                c.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            if not open_c:
                break
            # The server is gone: let the client finish on its own.
            open_s = False
            r, _, _ = select.select([c], [], [], 5)
            break
    with open(countfile, "w") as f:
        f.write("flights %d\n" % len(flights))
        f.write("sizes %s\n" % " ".join(str(n) for n in flights))


if __name__ == "__main__":
    main()
