"""A minimal reference UDP transfer, the yardstick for the UDP programs' speed.

No handshake beyond one datagram, no log, no resends: only the work every UDP
receiver and sender must do, in the toolkit's shape (a thread per client on
both sides, 64,000-byte datagrams with a 12-byte header, as udp/server.py
sends on loopback):

    python3 scripts/refudp.py serve FILE --clients N --port-file P   # one socket and thread per client
    python3 scripts/refudp.py receive --ports P1,P2,... --out DIR

Each receiving thread sends one datagram to its server port, then loops:
``recvmsg_into`` the header and the data straight into the next slot of a
1 MiB buffer; when the buffer is full (or at the end), ``hashlib.sha256()
.update`` it and write it to a file.  It reports the count it received every
32 datagrams; the sender keeps at most WINDOW datagrams beyond that count in
flight (less than the receiver's socket buffer holds, so nothing is lost for
want of room), reading each datagram's data from the file with ``os.preadv``
into the buffer behind its header and sending it with one ``send``.  A lost
datagram is not resent: the copy then fails its hash, which the result
shows.  Each side reports its own CPU time (``resource.getrusage``), so a
benchmark can say what a gigabyte costs each side.  The receiver prints one
JSON line: bytes, SHA-256 of each copy, aggregate rate (all bytes / first
datagram received to last byte written), CPU seconds; the sender prints its
CPU seconds.  scripts/baselines.py runs it as a baseline row; no
program imports it.  Linux and macOS.
"""

if __package__ in (None, ""):
    import os, sys  # noqa: E401
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import argparse
import hashlib
import json
import os
import resource
import socket
import struct
import sys
import threading
import time

from scripts.refrecv import run_command, run_receivers

DATAGRAM = 64000                   # as udp/server.py's default chunk size: 12-byte header + data
HEADER = struct.Struct("!QI")      # transfer id, seq
DATA = DATAGRAM - HEADER.size
WINDOW = 60                        # datagrams in flight beyond the receiver's last report (3.8 MB)
REPORT_EVERY = 32                  # the receiver reports its count this often
BUFFER_SLOTS = 16                  # 16 x 63,988 bytes: about 1 MiB per hash update and write
SOCKET_BUFFER = 8 * 1024 * 1024
TIMEOUT = 30.0
END = b"END"
TRANSFER = 0x5245465544500001      # "REFUDP" + 1: any constant; the receiver checks it


def cpu_seconds():
    """User + system CPU time of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _big_buffers(sock, option):
    try:
        sock.setsockopt(socket.SOL_SOCKET, option, SOCKET_BUFFER)
    except OSError:
        pass


def serve(path, clients, bind, port_file):
    """Send *path* to *clients* receivers, one socket and thread each; returns 0."""
    size = os.path.getsize(path)
    chunks = (size + DATA - 1) // DATA
    fd = os.open(path, os.O_RDONLY)
    socks = []
    for _ in range(clients):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((bind, 0))
        _big_buffers(sock, socket.SO_SNDBUF)
        sock.settimeout(TIMEOUT)
        socks.append(sock)
    if port_file:
        with open(port_file + ".tmp", "w") as handle:
            handle.write(",".join(str(s.getsockname()[1]) for s in socks) + "\n")
        os.replace(port_file + ".tmp", port_file)
    errors = []

    def send(sock):
        try:
            _, peer = sock.recvfrom(64)
            sock.connect(peer)
            sock.settimeout(0.2)
            buffer = bytearray(DATAGRAM)
            view = memoryview(buffer)
            body = view[HEADER.size:]
            report = bytearray(8)
            reported = 0
            for seq in range(chunks):
                while seq - reported >= WINDOW:
                    try:
                        if sock.recv_into(report) == 8:
                            reported = max(reported, struct.unpack("!Q", report)[0])
                    except socket.timeout:
                        reported = seq - WINDOW // 2   # a report lost (or a datagram): go on
                HEADER.pack_into(buffer, 0, TRANSFER, seq)
                got = os.preadv(fd, [body], seq * DATA)
                sock.send(view[:HEADER.size + got])
            for _ in range(3):
                sock.send(END)
        except OSError as exc:
            errors.append(exc)
            sys.stderr.write("refudp.py: sending: {}\n".format(exc))
        finally:
            sock.close()

    threads = [threading.Thread(target=send, args=(s,)) for s in socks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    os.close(fd)
    print(json.dumps({"clients": clients, "cpu_s": cpu_seconds()}))
    return 1 if errors else 0


def receive(host, ports, out_dir):
    """One receiving thread per server port; prints the JSON result; returns 0 if every copy came whole."""
    def one(index, port):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        _big_buffers(sock, socket.SO_RCVBUF)
        sock.settimeout(TIMEOUT)
        sock.connect((host, port))
        sock.send(b"HELLO")
        batch = memoryview(bytearray(BUFFER_SLOTS * DATA))
        slots = [batch[i * DATA:(i + 1) * DATA] for i in range(BUFFER_SLOTS)]
        header = bytearray(HEADER.size)
        digest = hashlib.sha256()
        total = received = lost = 0
        expected = 0
        filled = 0           # bytes of the batch holding data
        first = None
        with open(os.path.join(out_dir, "refudp-{}.bin".format(index)), "wb", buffering=0) as sink:
            while True:
                slot = filled // DATA
                try:
                    count = sock.recvmsg_into([header, slots[slot]])[0]
                except ConnectionRefusedError:
                    continue   # a report reached the sender after it closed: what is queued still counts
                if count == len(END) and bytes(header[:3]) == END:
                    break
                if count <= HEADER.size:
                    continue
                tid, seq = HEADER.unpack(header)
                if tid != TRANSFER:
                    continue
                if first is None:
                    first = time.perf_counter()
                    sock.settimeout(2.0)   # from now on a silence this long ends the transfer
                lost += max(0, seq - expected)
                expected = seq + 1
                received += 1
                filled += count - HEADER.size
                if received % REPORT_EVERY == 0:
                    try:
                        sock.send(struct.pack("!Q", received))
                    except ConnectionRefusedError:
                        pass
                if filled == len(batch) or count - HEADER.size < DATA:
                    digest.update(batch[:filled])
                    sink.write(batch[:filled])
                    total += filled
                    filled = 0
            if filled:
                digest.update(batch[:filled])
                sink.write(batch[:filled])
                total += filled
        sock.close()
        return total, first, time.perf_counter(), digest.hexdigest(), lost

    def guarded(index, port):
        try:
            return one(index, port)
        except OSError as exc:
            sys.stderr.write("refudp.py: client {}: {}\n".format(index + 1, exc))   # its copy is missing

    return run_receivers(guarded, ports, out_dir, "refudp-{}.bin",
                         lambda done: {"lost_datagrams": sum(r[4] for r in done), "cpu_s": cpu_seconds()})


def main(argv=None):
    """Command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="refudp.py", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    s = sub.add_parser("serve", help="send FILE to N receivers, one UDP socket and thread each")
    s.add_argument("file")
    s.add_argument("--clients", type=int, default=1)
    s.add_argument("--bind", default="127.0.0.1")
    s.add_argument("--port-file")
    r = sub.add_parser("receive", help="a thread per port: recvmsg_into 1 MiB + sha256 + write")
    r.add_argument("--host", default="127.0.0.1")
    r.add_argument("--ports", required=True, help="the server's ports, comma-separated (its port file)")
    r.add_argument("--out", default=".")
    return run_command("refudp.py", parser, argv, {
        "serve": lambda a: serve(a.file, a.clients, a.bind, a.port_file),
        "receive": lambda a: receive(a.host, [int(p) for p in a.ports.split(",") if p.strip()], a.out)})


if __name__ == "__main__":
    sys.exit(main())
