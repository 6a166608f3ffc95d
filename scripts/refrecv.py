"""A minimal reference TCP transfer, the yardstick for tcp/client.py's speed.

No protocol, no log, nothing but the work every receiver must do:

    python3 scripts/refrecv.py serve FILE --clients N --port-file P   # sendfile to each of N connections
    python3 scripts/refrecv.py receive --port PORT --clients N --out DIR

The sender accepts N connections, then sends FILE on each with
``socket.sendfile`` (one thread per connection) and closes it.  The receiver
runs N threads; each connects, then loops: fill a 1 MiB buffer with
``recv_into``, ``hashlib.sha256().update`` it, write it to a file, until the
end of the stream; it prints one JSON line: bytes, SHA-256 of each copy, and the aggregate rate
measured as the project's logs measure it (all bytes / first byte received
to last byte written).  scripts/benchmark.py runs it as a baseline row; no
program imports it.
"""

import argparse
import hashlib
import json
import os
import socket
import sys
import threading
import time

BUFFER = 1024 * 1024
TIMEOUT = 60.0


def serve(path, clients, bind, port, port_file):
    """Accept *clients* connections, then send *path* to each; returns 0."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((bind, port))
    listener.listen(max(128, clients))
    listener.settimeout(TIMEOUT)
    if port_file:
        with open(port_file + ".tmp", "w") as handle:
            handle.write("{}\n".format(listener.getsockname()[1]))
        os.replace(port_file + ".tmp", port_file)
    conns = [listener.accept()[0] for _ in range(clients)]
    listener.close()

    def send(conn):
        conn.settimeout(TIMEOUT)
        with open(path, "rb") as source:
            conn.sendfile(source)
        conn.close()
    run_threads(send, conns)
    return 0


def receive(host, port, clients, out_dir):
    """Run *clients* receiving threads; print the JSON result; returns 0 if all got data."""
    def one(index, _item):
        sock = socket.create_connection((host, port), timeout=TIMEOUT)
        buffer = bytearray(BUFFER)
        view = memoryview(buffer)
        digest = hashlib.sha256()
        total = 0
        first = None
        with open(os.path.join(out_dir, "ref-{}.bin".format(index)), "wb", buffering=0) as sink:
            ended = False
            while not ended:
                count = 0
                while count < BUFFER:  # fill the buffer: fewer, larger hash updates and writes
                    got = sock.recv_into(view[count:])
                    if not got:
                        ended = True
                        break
                    if first is None:
                        first = time.perf_counter()
                    count += got
                digest.update(view[:count])
                sink.write(view[:count])
                total += count
        sock.close()
        return total, first, time.perf_counter(), digest.hexdigest()

    return run_receivers(one, range(clients), out_dir, "ref-{}.bin")


def run_threads(target, *columns):
    """``target(*row)`` in a thread of its own for each row of *columns* (zipped), all at once; returns when
    every thread has ended."""
    threads = [threading.Thread(target=target, args=row) for row in zip(*columns)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def run_receivers(receive_one, items, out_dir, copy_name, extra=None):
    """Run ``receive_one(index, item)`` in a thread per item; it returns (bytes,
    first, last, sha256 hex, ...) with perf_counter times (first None: nothing
    arrived) or None.  Prints the JSON result (*extra*(those that arrived) adds fields),
    deletes the copies (*copy_name* formatted with the index); returns 0 if
    every item received something."""
    items = list(items)
    results = [None] * len(items)

    def run(index, item):
        results[index] = receive_one(index, item)
    run_threads(run, range(len(items)), items)
    done = [r for r in results if r is not None and r[1] is not None]
    total = sum(r[0] for r in done)
    span = max(r[2] for r in done) - min(r[1] for r in done) if done else 0
    summary = {"clients": len(items), "received": len(done), "bytes": total,
               "aggregate_bytes_per_s": total / span if span > 0 else None, "sha256": [r[3] for r in done]}
    summary.update(extra(done) if extra else {})
    print(json.dumps(summary))
    for k in range(len(items)):
        try:
            os.unlink(os.path.join(out_dir, copy_name.format(k)))
        except OSError:
            pass
    return 0 if len(done) == len(items) else 1


def reference_parser(prog, doc, serve_help, receive_help):
    """The command line both references share: (parser, serve, receive), with serve's FILE,
    --clients, --bind, --port-file and receive's --host, --out; each script adds its own."""
    parser = argparse.ArgumentParser(prog=prog, description=doc.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    serve_cmd = sub.add_parser("serve", help=serve_help)
    serve_cmd.add_argument("file")
    serve_cmd.add_argument("--clients", type=int, default=1)
    serve_cmd.add_argument("--bind", default="127.0.0.1")
    serve_cmd.add_argument("--port-file")
    receive_cmd = sub.add_parser("receive", help=receive_help)
    receive_cmd.add_argument("--host", default="127.0.0.1")
    receive_cmd.add_argument("--out", default=".")
    return parser, serve_cmd, receive_cmd


def run_command(prog, parser, argv, commands):
    """Parse *argv*, run ``commands[args.command](args)``; a network or value error is one line
    on stderr and status 1; no command: usage and 2."""
    args = parser.parse_args(argv)
    try:
        if args.command in commands:
            return commands[args.command](args)
    except (OSError, ValueError) as exc:
        sys.stderr.write("{}: error: {}\n".format(prog, exc))
        return 1
    parser.print_usage(sys.stderr)
    return 2


def main(argv=None):
    """Command line; returns the exit status."""
    parser, s, r = reference_parser("refrecv.py", __doc__, "send FILE to N connections with sendfile",
                                    "N threads: recv_into 1 MiB + sha256 + write")
    s.add_argument("--port", type=int, default=0)
    r.add_argument("--port", type=int, required=True)
    r.add_argument("--clients", type=int, default=1)
    return run_command("refrecv.py", parser, argv, {
        "serve": lambda a: serve(a.file, a.clients, a.bind, a.port, a.port_file),
        "receive": lambda a: receive(a.host, a.port, a.clients, a.out)})


if __name__ == "__main__":
    sys.exit(main())
