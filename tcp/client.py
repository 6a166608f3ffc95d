"""TCP file-transfer client: starts N clients (a thread and a connection
each) that handshake, wait for one READY confirmation, receive the file,
hash it while receiving, and save ``ArchivosRecibidos/Cliente<k>-Prueba-<n>.txt``
only when its SHA-256 matches the server's.

Run ``python3 tcp/client.py --help``.  The protocol is in PROTOCOL.md.
"""

if __package__ in (None, ""):
    import os
    import sys
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import os
import queue
import socket
import sys
import threading
import time

from transfer.cli import run_main
from transfer.client_app import (ask_missing_settings, failure_reason, print_client_summary, received_path,
                                 run_client)
from transfer.config import client_config_from_args, client_parser
from transfer.deadline import Deadline
from transfer.errors import ProtocolError, TransferFailed
from transfer.hashing import BufferPool
from transfer.i18n import N_, _, localize
from transfer.incoming import IncomingFile
from transfer.messages import (Busy, Bye, DataHeader, Done, ErrorMessage, FileOffer, Hello, LineReader, Ready,
                               close_quietly, printable, send_message)
from transfer.prompts import Prompter
from transfer.records import ConnectionRecord
from transfer.status import progress_detail
from transfer.text import host_port

DEFAULT_PORT = 5001
ZERO_SHA256 = "0" * 64


def pipelined(clients, cpus=None):
    """True when each client receives and writes in its thread with a hasher
    thread beside it (it can have two cores to itself: 2 x clients <= CPUs, so
    one client on a 2-core machine); otherwise one thread per client receives,
    hashes and writes, which avoids the handoffs between threads when clients
    share the cores.  Measured in docs/PERFORMANCE.md."""
    forced = os.environ.get("FILELAB_TCP_RECEIVE", "")  # "pipelined" / "inline": for measuring both
    if forced in ("pipelined", "inline"):
        return forced == "pipelined"
    cpus = cpus if cpus is not None else (os.cpu_count() or 1)
    return 2 * clients <= cpus


def buffer_plan(clients):
    """(buffers, bytes each) per client: 1 MiB pieces for a few clients, smaller for many."""
    if clients <= 10:
        return 8, 1024 * 1024
    if clients <= 50:
        return 4, 256 * 1024
    return 3, 128 * 1024


class TCPClientSession:
    """One client: its connection, its file, its record (a thread runs ``run``)."""

    def __init__(self, config, client_id, clients, board, go, cancel):
        self.config = config
        self.clients = clients
        self.board = board
        self.go = go
        self.cancel = cancel
        self.record = ConnectionRecord(client_id)
        self.offer = None
        self.handshake_done = threading.Event()
        self.sock = None
        self.row = _("client {}").format(client_id)
        self.pipelined = pipelined(clients)

    def _state(self, state, detail=""):
        self.record.state = state
        self.board.update(self.row, state, detail)

    def abort(self):
        """Close the connection from another thread (Ctrl-C)."""
        if self.sock is not None:
            close_quietly(self.sock)

    def run(self):
        """The thread body: never raises; the record says what happened."""
        incoming = None
        rec = self.record
        try:
            self._state("connecting", host_port(self.config.host, self.config.port))
            reader = self._connect_and_hello()
            self.handshake_done.set()
            self._wait_for_go()
            send_message(self.sock, Ready())
            self._state("ready", _("waiting for the other clients"))
            # the server waits up to its handshake timeout for the others: one deadline for the DATA line
            header = self._expect(reader, DataHeader,
                                  Deadline(self.config.handshake_timeout + self.config.timeout))
            if header.size != self.offer.size:
                raise ProtocolError(N_("DATA size {} differs from FILE size {}").format(header.size, self.offer.size))
            final = received_path(self.config, rec.client_id, self.offer)
            incoming = IncomingFile(final, self.offer.size, self.offer.sha256, threaded=self.pipelined)
            self._receive(reader.take_buffered(), incoming)
            self._finish(reader, incoming)
        except socket.timeout:
            rec.fail(N_("timed out after {:,} bytes (no data for {:g} s)").format(rec.bytes,
                                                                                  self.sock.gettimeout() or 0)
                     if rec.started else N_("timed out waiting for the server"))
        except EOFError as exc:
            rec.fail(N_("server closed the connection after {:,} of {} bytes").format(
                rec.bytes, "{:,}".format(self.offer.size) if self.offer else "?") if rec.started else str(exc))
        except ConnectionRefusedError:
            rec.fail(N_("connection refused by {} (is the server running?)").format(
                host_port(self.config.host, self.config.port)))
        except Exception as exc:  # a bug must not kill the other clients
            rec.fail(failure_reason(exc, rec, self.cancel.is_set()))
        finally:
            self.handshake_done.set()
            if self.sock is not None:
                close_quietly(self.sock)
            if not rec.ok:
                if rec.started and rec.time_ms is None:
                    rec.stop_clock()
                if incoming is not None:
                    kept = incoming.discard(keep_partial=self.config.keep_partial)
                    rec.partial_as = str(kept) if kept else None
                self._state("failed", printable(localize(rec.reason), 80))

    # -- steps ---------------------------------------------------------------------
    def _connect_and_hello(self):
        cfg = self.config
        try:
            self.sock = socket.create_connection((cfg.host, cfg.port), timeout=cfg.timeout)
        except socket.gaierror as exc:
            raise TransferFailed(N_("cannot resolve {!r}: {}").format(cfg.host, exc.strerror or exc))
        except socket.timeout:
            raise TransferFailed(N_("no answer from {} within {:g} s").format(host_port(cfg.host, cfg.port),
                                                                               cfg.timeout))
        except ConnectionRefusedError:
            raise
        except OSError as exc:
            raise TransferFailed(N_("cannot connect to {}: {}").format(host_port(cfg.host, cfg.port),
                                                                        exc.strerror or exc))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.record.set_addresses(self.sock.getsockname(), self.sock.getpeername(), "client")
        self.sock.settimeout(cfg.handshake_timeout)
        send_message(self.sock, Hello(id=self.record.client_id, total=self.clients))
        reader = LineReader(self.sock)
        offer = self._expect(reader, FileOffer, Deadline(cfg.handshake_timeout))  # however slowly it trickles
        self.offer = offer
        self.record.sha256_expected = offer.sha256
        self.record.extra["file_name"] = offer.name
        self._state("connected", _("file {} ({:,} bytes), test of {} client(s)").format(
            printable(offer.name, 60), offer.size, offer.clients))
        return reader

    def _expect(self, reader, kind, deadline=None):
        message = reader.read_message(deadline=deadline)
        if isinstance(message, kind):
            return message
        if isinstance(message, Busy):
            raise TransferFailed(N_("server is busy: {}").format(printable(message.reason)))
        if isinstance(message, ErrorMessage):
            raise TransferFailed(N_("server error: {}").format(printable(message.reason)))
        raise ProtocolError(N_("expected {}, got {}").format(kind.VERB, message.VERB))

    def _wait_for_go(self):
        while not self.go.wait(0.1):
            pass
        if self.cancel.is_set():
            raise TransferFailed(N_("cancelled before READY"))

    def _receive(self, first_bytes, incoming):
        """Exactly offer.size bytes into *incoming*: pipelined (written here,
        hashed by a worker thread) or in this thread alone (see ``pipelined``)."""
        rec = self.record
        size = self.offer.size
        self.sock.settimeout(self.config.handshake_timeout)  # the first byte waits for the slowest client
        if first_bytes:
            rec.start_clock()
            take = first_bytes[:size]
            incoming.write(take)
            rec.bytes = len(take)
        self._state("receiving", progress_detail(rec.bytes, size, 0))
        if incoming.threaded:
            self._receive_pipelined(incoming)
        else:
            self._receive_inline(incoming)

    def _fill(self, view, want):
        """recv_into *view* until *want* bytes are in (Brandon Rhodes' recvall); EOFError on a short
        read.  The clock starts at the first byte, and the data timeout replaces the handshake's."""
        rec, sock = self.record, self.sock
        recv_into = sock.recv_into
        filled = 0
        while filled < want:
            got = recv_into(view[filled:want])
            if not got:
                raise EOFError(N_("server closed the connection"))
            if not rec.started:
                rec.start_clock()
                sock.settimeout(self.config.timeout)
            filled += got
            rec.bytes += got
        return filled

    def _receive_inline(self, incoming):
        """One thread: fill a buffer with recv_into, hash and write it, repeat."""
        rec = self.record
        size = self.offer.size
        write = incoming.write
        buffer = bytearray(buffer_plan(self.clients)[1])
        view = memoryview(buffer)
        last_update = time.monotonic()
        while rec.bytes < size:
            filled = self._fill(view, min(len(buffer), size - rec.bytes))
            write(view[:filled])
            now = time.monotonic()
            if now - last_update >= 0.25:
                last_update = now
                self._state("receiving", progress_detail(rec.bytes, size, rec.elapsed()))

    def _receive_pipelined(self, incoming):
        """Receive into a pool of buffers, write each one here; a hasher thread hashes it, then frees it."""
        rec = self.record
        size = self.offer.size
        count, piece = buffer_plan(self.clients)
        pool = BufferPool(count, piece)
        last_update = time.monotonic()
        while rec.bytes < size:
            try:
                buffer = pool.get(timeout=self.config.timeout)
            except queue.Empty:
                raise TransferFailed(N_("hashing stalled"))
            view = memoryview(buffer)
            try:
                filled = self._fill(view, min(len(buffer), size - rec.bytes))
            except EOFError:
                pool.put(buffer)
                raise
            incoming.write(view[:filled], lambda _hashed, done=buffer: pool.put(done))
            now = time.monotonic()
            if now - last_update >= 0.25:
                last_update = now
                self._state("receiving", progress_detail(rec.bytes, size, rec.elapsed()))

    def _finish(self, reader, incoming):
        """Verify, report DONE, read BYE, then keep the file under its final name."""
        rec = self.record
        received = incoming.digest()
        rec.sha256_received = received
        ok = rec.bytes == self.offer.size and received == self.offer.sha256
        send_message(self.sock, Done(bytes=rec.bytes, sha256=received, ok=ok))
        rec.stop_clock()  # client time: first byte received -> DONE sent
        if not ok:
            raise TransferFailed(N_("SHA-256 mismatch: server announced {}..., received {}...").format(
                self.offer.sha256[:16], received[:16]))
        self.sock.settimeout(min(self.config.timeout, 10.0))
        try:
            bye = reader.read_message()
        except (EOFError, socket.timeout, OSError):
            rec.extra["server_verdict"] = N_("no BYE")
        else:
            if not isinstance(bye, Bye):
                raise ProtocolError(N_("expected BYE after DONE, got {}").format(bye.VERB))
            rec.extra["server_verdict"] = N_("ok") if bye.ok else N_("not ok")
        incoming.finish()
        rec.ok = True
        rec.saved_as = str(incoming.final_path)
        self._state("verified", _("{:,} bytes in {:.3f} s").format(rec.bytes, (rec.time_ms or 0) / 1000))


def build_parser():
    """The client's command line."""
    return client_parser("tcp/client.py", N_("TCP file-transfer client: starts N clients that receive the "
                                             "server's file at once and verify it with SHA-256."), DEFAULT_PORT)


def tcp_run_client(config, prompter=None):
    """Run the clients of one test in-process; returns a ClientRunResult."""
    return run_client(config, TCPClientSession, "tcp", "stream",
                      settings={"timeout": config.timeout, "handshake_timeout": config.handshake_timeout,
                                "server": host_port(config.host, config.port)},
                      prompter=prompter)


def main(argv=None, input_fn=None):
    """Command-line entry point; returns the exit status (0 only if every client verified)."""
    args = build_parser().parse_args(argv)
    config = client_config_from_args(args)

    def body():
        prompter = Prompter(input_fn=input_fn)
        ask_missing_settings(config, prompter, DEFAULT_PORT)
        result = tcp_run_client(config, prompter)
        print_client_summary(result)
        return result.exit_status
    return run_main(body, "tcp/client.py", eof_status=1)


def exit_now(status):
    """Flush the output and end the process without the interpreter's teardown
    (freeing every module and object: 6-20 ms, a third of the client's wrap-up).
    Everything the run wrote is closed by then: the log, the received files."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(status)


if __name__ == "__main__":
    exit_now(main())
