"""A minimal reference UDP transfer, the yardstick for the UDP programs' speed.

No handshake beyond one datagram, no log, no resends: only the work every UDP
receiver and sender must do, in the toolkit's shape (a thread per client on
both sides, 64,000-byte datagrams with a 12-byte header, as udp/server.py
sends on loopback):

    python3 scripts/refudp.py serve FILE --clients N --port-file P   # one socket and thread per client
    python3 scripts/refudp.py receive --ports P1,P2,... --out DIR

With ``--datagram 1472`` (given to both) it moves what fits a 1,500-byte MTU, 64 KiB per system call
on Linux: the sender lays out 44 datagrams as on the wire (headers by ``struct.pack_into``, data by one
``os.preadv``) and hands them over in one ``sendmsg`` with UDP GSO; the receiver turns on UDP GRO and
scatters each receive in place (header i into a header area, data i into the next slot of its
buffer), as udp/client.py does.  Through scripts/netlab.py's namespaces it is the yardstick for the
UDP programs on a link (docs/UDP-LINKS.md).

Each receiving thread sends one datagram to its server port (``HELLO`` and the
size of its socket's receive buffer), then loops:
``recvmsg_into`` the header and the data straight into the next slot of a
1 MiB buffer; when the buffer is full (or at the end), ``hashlib.sha256()
.update`` it and write it to a file.  It reports the count it received every
32 datagrams; the sender keeps at most WINDOW_BYTES beyond that count in
flight, or half that receive buffer when it is smaller (so nothing is lost for
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

import hashlib
import json
import os
import resource
import socket
import struct
import sys
import time

from scripts.refrecv import reference_parser, run_command, run_receivers, run_threads
from udp.transport import LINUX, MAX_GSO_BYTES, SOL_UDP, UDP_GRO, UDP_SEGMENT
from udp.transport import MAX_GSO_SEGMENTS as GSO_MAX_SEGMENTS

DATAGRAM = 64000                   # as udp/server.py's default chunk size: 12-byte header + data
HEADER = struct.Struct("!QI")      # transfer id, seq
WINDOW_BYTES = 60 * DATAGRAM       # in flight beyond the receiver's last report (3.84 MB: 60 datagrams of 64,000)
REPORT_EVERY = 32                  # the receiver reports its count this often
BUFFER_BYTES = 16 * (DATAGRAM - HEADER.size)   # about 1 MiB per hash update and write
SMALL = 16 * 1024                  # datagrams below this go 64 KiB at a time with UDP GSO / GRO (Linux)
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


def _keep(digest, sink, piece):
    """Hash and write *piece*; its length."""
    digest.update(piece)
    sink.write(piece)
    return len(piece)


def _report(sock, received):
    """Tell the sender how many datagrams arrived (after it left, nobody listens: fine)."""
    try:
        sock.send(struct.pack("!Q", received))
    except ConnectionRefusedError:
        pass


def gso_batch(datagram):
    """Datagrams one send carries: up to 64 KiB of small ones with UDP GSO (Linux), else 1."""
    if datagram >= SMALL or not LINUX:
        return 1
    return max(1, min(GSO_MAX_SEGMENTS, MAX_GSO_BYTES // datagram))   # as udp/transport.py batches


def send_window(datagram, hello):
    """Datagrams in flight beyond the receiver's last report: WINDOW_BYTES, or half the receive buffer
    its HELLO says it has (``HELLO <bytes>``) when that is less (a stock 212,992-byte buffer holds
    three 64,000-byte datagrams), at least two send batches."""
    window = WINDOW_BYTES
    words = hello.split()
    if len(words) == 2 and words[1].isdigit():
        window = min(window, int(words[1]) // 2)
    return max(2 * gso_batch(datagram), window // datagram)


def serve(path, clients, bind, port_file, datagram=DATAGRAM):
    """Send *path* to *clients* receivers, one socket and thread each, in
    *datagram*-byte datagrams; returns 0."""
    data = datagram - HEADER.size
    size = os.path.getsize(path)
    chunks = (size + data - 1) // data
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
            hello, peer = sock.recvfrom(64)
            sock.connect(peer)
            sock.settimeout(0.2)
            batch = gso_batch(datagram)
            window = send_window(datagram, hello)
            buffer = bytearray(batch * datagram)      # laid out as on the wire: header, data, header, data ...
            view = memoryview(buffer)
            bodies = [view[i * datagram + HEADER.size:(i + 1) * datagram] for i in range(batch)]
            segment = [(SOL_UDP, UDP_SEGMENT, struct.pack("=H", datagram))]
            report = bytearray(8)
            reported = seq = 0
            while seq < chunks:
                count = min(batch, chunks - seq)
                while seq + count - reported > window:
                    try:
                        if sock.recv_into(report) == 8:
                            reported = max(reported, struct.unpack("!Q", report)[0])
                    except socket.timeout:
                        reported = seq - window // 2   # a report lost (or a datagram): go on
                for i in range(count):
                    HEADER.pack_into(buffer, i * datagram, TRANSFER, seq + i)
                got = os.preadv(fd, bodies[:count], seq * data)
                length = count * HEADER.size + got
                if count == 1:
                    sock.send(view[:length])
                else:
                    try:
                        sock.sendmsg([view[:length]], segment)
                    except OSError:   # no GSO here: one datagram per send from now on
                        batch = 1
                        for i in range(count):
                            sock.send(view[i * datagram:min(length, (i + 1) * datagram)])
                seq += count
            for _ in range(3):
                try:
                    sock.send(END)
                except ConnectionRefusedError:
                    break   # the receiver took the first one and left
        except OSError as exc:
            errors.append(exc)
            sys.stderr.write("refudp.py: sending: {}\n".format(exc))
        finally:
            sock.close()

    run_threads(send, socks)
    os.close(fd)
    print(json.dumps({"clients": clients, "cpu_s": cpu_seconds()}))
    return 1 if errors else 0


def receive(host, ports, out_dir, datagram=DATAGRAM):
    """One receiving thread per server port; prints the JSON result; returns 0 if every copy came whole."""
    DATA = datagram - HEADER.size  # noqa: N806 (the data bytes of a full datagram)

    def connect(port):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        _big_buffers(sock, socket.SO_RCVBUF)
        sock.settimeout(TIMEOUT)
        sock.connect((host, port))
        return sock

    def hello(sock):
        """Start the sender, telling it the receive buffer this socket got (its window follows it)."""
        sock.send(b"HELLO %d" % sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))

    def one(index, port):
        sock = connect(port)
        gro = False
        if gso_batch(datagram) > 1:
            try:
                sock.setsockopt(SOL_UDP, UDP_GRO, 1)
                gro = True
            except OSError:
                pass   # no GRO here: one datagram per receive
        if gro:
            return one_gro(index, sock)
        hello(sock)
        batch = memoryview(bytearray(BUFFER_BYTES // DATA * DATA))
        slots = [batch[i * DATA:(i + 1) * DATA] for i in range(len(batch) // DATA)]
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
                    _report(sock, received)
                if filled == len(batch) or count - HEADER.size < DATA:
                    total += _keep(digest, sink, batch[:filled])
                    filled = 0
            total += _keep(digest, sink, batch[:filled])
        sock.close()
        return total, first, time.perf_counter(), digest.hexdigest(), lost

    def one_gro(index, sock):
        """As one(), with UDP GRO: each receive scatters up to 64 datagrams in place, header i into
        the header area, data i into the next slot of the batch; the segment size comes in a cmsg."""
        hello(sock)
        slots_in_batch = BUFFER_BYTES // DATA
        batch = memoryview(bytearray(slots_in_batch * DATA))
        slots = [batch[i * DATA:(i + 1) * DATA] for i in range(slots_in_batch)]
        heads = bytearray(HEADER.size * GSO_MAX_SEGMENTS)
        head_views = [memoryview(heads)[i * HEADER.size:(i + 1) * HEADER.size] for i in range(GSO_MAX_SEGMENTS)]
        spill = memoryview(bytearray(65536))
        ancillary = socket.CMSG_SPACE(4)
        digest = hashlib.sha256()
        total = received = lost = expected = since_report = 0
        used = filled = 0    # slots of the batch holding data, and their bytes
        first = None
        with open(os.path.join(out_dir, "refudp-{}.bin".format(index)), "wb", buffering=0) as sink:
            while True:
                if slots_in_batch - used < GSO_MAX_SEGMENTS and filled:
                    total += _keep(digest, sink, batch[:filled])
                    used = filled = 0
                free = min(GSO_MAX_SEGMENTS, slots_in_batch - used)
                pieces = [None] * (2 * free)
                pieces[0::2] = head_views[:free]
                pieces[1::2] = slots[used:used + free]
                pieces.append(spill)
                try:
                    count, ancdata, _, _ = sock.recvmsg_into(pieces, ancillary)
                except ConnectionRefusedError:
                    continue   # a report reached the sender after it closed: what is queued still counts
                if count == len(END) and bytes(heads[:3]) == END:
                    break
                if count <= HEADER.size or HEADER.unpack_from(heads)[0] != TRANSFER:
                    continue
                size = datagram
                for level, kind, value in ancdata:
                    if level == SOL_UDP and kind == UDP_GRO:
                        size = int.from_bytes(value[:4], sys.byteorder)   # the segment size (an int)
                datagrams = -(-count // size)
                if first is None:
                    first = time.perf_counter()
                    sock.settimeout(2.0)   # from now on a silence this long ends the transfer
                seq = HEADER.unpack_from(heads)[1]
                lost += max(0, seq - expected) + (datagrams > free)   # more than the slots: data in the spill
                expected = seq + datagrams
                received += datagrams
                used += min(datagrams, free)
                filled += count - datagrams * HEADER.size
                since_report += datagrams
                if since_report >= REPORT_EVERY:
                    since_report = 0
                    _report(sock, received)
            total += _keep(digest, sink, batch[:filled])
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
    parser, s, r = reference_parser("refudp.py", __doc__, "send FILE to N receivers, one UDP socket and thread each",
                                    "a thread per port: recvmsg_into 1 MiB + sha256 + write")
    s.add_argument("--datagram", type=int, default=DATAGRAM,
                   help="bytes per datagram, header included (default 64000; 1472 for a 1,500-byte MTU: "
                        "then 64 KiB per send and receive with UDP GSO/GRO on Linux)")
    r.add_argument("--ports", required=True, help="the server's ports, comma-separated (its port file)")
    r.add_argument("--datagram", type=int, default=DATAGRAM, help="as given to serve")
    return run_command("refudp.py", parser, argv, {
        "serve": lambda a: serve(a.file, a.clients, a.bind, a.port_file, a.datagram),
        "receive": lambda a: receive(a.host, [int(p) for p in a.ports.split(",") if p.strip()], a.out,
                                     a.datagram)})


if __name__ == "__main__":
    sys.exit(main())
