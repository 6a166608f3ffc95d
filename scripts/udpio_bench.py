"""How many datagrams per second the UDP client's receive path absorbs, with
and without UDP GRO, across a real veth link (scripts/netlab.py: two network
namespaces, MTU 1500, unshaped unless --rate).

A sender in the server namespace sends 1,472-byte data datagrams as fast as
it can (UDP GSO where the kernel takes it: one system call per 44
datagrams); a receiver in the client namespace takes them for --seconds with
GRO on or off, interleaved, --repeat times, and prints the medians.  Receiver
kinds: ``count`` (recv_batch only) and ``client`` (the client's real data
path: udp/receiving.py Reception + ChunkStore, hashing and writing a
temporary file).  Needs root (network namespaces).

    python3 scripts/udpio_bench.py [--seconds 2] [--repeat 3] [--kind client|count|both] [--rate 1gbit]
"""

if __package__ in (None, ""):
    import os
    import sys
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from types import SimpleNamespace

from udp.packets import DATA_TYPE, HEADER, HEADER_SIZE, VERSION, raise_buffers

DATAGRAM = 1472
PORT = 6011
TRANSFER = 4242
CHUNKS = 4 * 1000 * 1000      # the announced transfer: more chunks than a run sends (seq never wraps)


def send(host, port, seconds, gso):
    """Send data datagrams flat out for *seconds*; print a JSON line of counts."""
    from udp.transport import DatagramSender
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    raise_buffers(sock)
    sock.connect((host, port))
    sender = DatagramSender(sock, DATAGRAM, gso=gso)
    chunk = DATAGRAM - HEADER_SIZE
    payload = memoryview(bytes(range(256)) * (chunk // 256 + 1))[:chunk]
    headers = [bytearray(HEADER_SIZE) for _ in range(64)]
    seq = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end and seq < CHUNKS - 64:
        count = sender.batch
        for i in range(count):
            HEADER.pack_into(headers[i], 0, DATA_TYPE, VERSION, 0, TRANSFER, seq + i)
        sender.send(headers[:count], [payload] * count)
        seq += count
    print(json.dumps({"sent": sender.datagrams, "errors": sender.errors, "io_path": sender.io_path}), flush=True)


def receive(port, seconds, gro, kind):
    """Receive for up to *seconds* (ends 0.5 s after the data stops); print a JSON line."""
    from udp.transport import MIN_RECEIVE_BUFFER, DatagramReceiver
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    raise_buffers(sock)
    sock.bind(("0.0.0.0", port))
    receiver = DatagramReceiver(sock, gro=gro)
    print(json.dumps({"ready": True}), flush=True)
    first = last = None
    count = 0
    if kind == "count":
        into = bytearray(MIN_RECEIVE_BUFFER)
        deadline = None
        while True:
            views, _ = receiver.recv_batch(into, 0.5)
            now = time.perf_counter()
            if not views:
                if first is not None:
                    break
                continue
            if first is None:
                first, deadline = now, now + seconds + 1
            last = now
            count += len(views)
            if now > deadline:
                break
    else:
        from transfer.incoming import IncomingFile
        from udp.receiving import ChunkStore, Reception
        folder = tempfile.mkdtemp(prefix="udpio-bench-")
        try:
            size = CHUNKS * (DATAGRAM - HEADER_SIZE)
            incoming = IncomingFile(os.path.join(folder, "f"), size, "0" * 64, threaded=False)
            store = ChunkStore(incoming, DATAGRAM - HEADER_SIZE, (1024 * 1024) // (DATAGRAM - HEADER_SIZE), 2, 10)
            offer = SimpleNamespace(size=size, chunk=DATAGRAM - HEADER_SIZE, transfer=TRANSFER)
            times = []
            reception = Reception(receiver, None, offer, store, False, 0.5, lambda *a: None, lambda got: None,
                                  lambda: times.append(time.perf_counter()))
            reception.session = None
            # the sender's address is not known in advance: take the first source as the session
            original = reception._take

            def take(datagrams, source):
                if reception.session is None:
                    reception.session = source
                return original(datagrams, source)
            reception._take = take
            reception.run()
            first, last, count = reception.first_rx, reception.last_rx, reception.datagrams
            incoming.discard()
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    elapsed = (last - first) if first is not None and last > first else 0.0
    print(json.dumps({"received": count, "seconds": elapsed, "calls": receiver.calls,
                      "io_path": receiver.io_path, "per_s": count / elapsed if elapsed else 0.0}), flush=True)


def run_pair(lab, seconds, gro, kind):
    """One measurement in the lab: receiver in the client namespace, sender in the server's."""
    me = os.path.abspath(__file__)
    rx = lab.popen("client", [sys.executable, me, "_receive", "--seconds", str(seconds), "--gro", str(int(gro)),
                              "--kind", kind], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        rx.stdout.readline()   # ready
        tx = lab.run("server", [sys.executable, me, "_send", "--host", lab.client_addr, "--seconds", str(seconds)],
                     timeout=seconds + 30, capture_output=True, text=True)
        out, err = rx.communicate(timeout=seconds + 30)
    finally:
        if rx.poll() is None:
            rx.kill()
            rx.wait()
    sent = json.loads(tx.stdout.strip().splitlines()[-1])
    got = json.loads(out.strip().splitlines()[-1])
    got.update({"sent": sent["sent"], "send_path": sent["io_path"]})
    return got


def main(argv=None):
    """CLI entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("role", nargs="?", default="bench", choices=("bench", "_send", "_receive"))
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--kind", default="both", choices=("client", "count", "both"))
    parser.add_argument("--rate", default=None, help="tbf rate on the link (default: unshaped)")
    parser.add_argument("--gro", type=int, default=1)
    parser.add_argument("--host", default=None)
    args = parser.parse_args(argv)
    if args.role == "_send":
        send(args.host, PORT, args.seconds, True)
        return 0
    if args.role == "_receive":
        receive(PORT, args.seconds, bool(args.gro), args.kind)
        return 0
    from scripts.netlab import NetLab
    kinds = ("count", "client") if args.kind == "both" else (args.kind,)
    results = {}
    with NetLab(rate=args.rate, prefix="udpio{}".format(os.getpid() % 10000)) as lab:
        for _ in range(args.repeat):
            for kind in kinds:
                for gro in (True, False):
                    got = run_pair(lab, args.seconds, gro, kind)
                    results.setdefault((kind, got["io_path"]), []).append(got)
                    print("{:6} recv={:5} send={:5} {:>9,.0f} datagrams/s  {:5.1f} per call  loss {:5.1f}%".format(
                        kind, got["io_path"], got["send_path"], got["per_s"],
                        got["received"] / got["calls"] if got["calls"] else 0,
                        100.0 * (1 - got["received"] / got["sent"]) if got["sent"] else 0), flush=True)
    print("medians of {} ({}-byte datagrams, link {}):".format(args.repeat, DATAGRAM, args.rate or "unshaped veth"))
    for (kind, path), runs in sorted(results.items()):
        rate = statistics.median(r["per_s"] for r in runs)
        print("  {:6} recv={:5} {:>9,.0f} datagrams/s = {:6.1f} MB/s of payload".format(
            kind, path, rate, rate * (DATAGRAM - HEADER_SIZE) / 1e6))
    return 0


if __name__ == "__main__":
    sys.exit(main())
