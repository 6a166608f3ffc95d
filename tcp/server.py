"""TCP file-transfer server: one thread per connection, the file sent to every
client of a test at once (with ``socket.sendfile``) when the chosen number of
clients are connected and all have sent READY.

Run ``python3 tcp/server.py --help``.  The protocol is in PROTOCOL.md.
"""

if __package__ in (None, ""):
    import os
    import sys
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import logging
import select
import socket
import sys
import threading
import time

from transfer.cli import run_main
from transfer.config import server_config_from_args, server_parser
from transfer.errors import ProtocolError, UserError
from transfer.gate import TestGate
from transfer.i18n import N_, _, localize
from transfer.messages import (Busy, Bye, DataHeader, Done, FileOffer, Hello, LineReader, Ready,
                               close_quietly, printable, send_error_and_close, send_message)
from transfer.records import ConnectionRecord
from transfer.server_app import TestOutcome, run_server_program, wait_for_test
from transfer.status import progress_detail
from transfer.testlog import TestLog

log = logging.getLogger(__name__)

DEFAULT_PORT = 5001
SENDFILE_SLICE = 8 * 1024 * 1024   # bytes per sendfile() call, so progress and aborts are seen


def bind_listener(bind, port, backlog):
    """A listening TCP socket on (*bind*, *port*); UserError if it can't be had."""
    family = socket.AF_INET6 if ":" in bind else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        if sys.platform != "win32":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((bind, port))
        sock.listen(backlog)
    except OSError as exc:
        sock.close()
        if getattr(exc, "errno", None) in (98, 48, 10048):
            raise UserError(_("port {} is already in use on {} (choose another with --port)").format(port, bind))
        raise UserError(_("cannot listen on {}:{}: {}").format(bind, port, exc.strerror or exc))
    return sock


class TCPTest:
    """The state of one running test: gate, log, records, live connections."""

    def __init__(self, entry, clients, log_file, board):
        self.entry = entry
        self.clients = clients
        self.gate = TestGate(clients)
        self.log = log_file
        self.board = board
        self.records = []
        self.connections = set()
        self.finished = threading.Event()
        self.lock = threading.Lock()
        self.stopping = False

    def track(self, conn):
        """Remember a live connection (so an abort can close it)."""
        with self.lock:
            self.connections.add(conn)

    def untrack(self, conn):
        """Forget a closed connection."""
        with self.lock:
            self.connections.discard(conn)

    def finish_connection(self, rec):
        """A started connection ended: log it; the test ends with the last one."""
        rec.state = "verified" if rec.ok else "failed"
        detail = (_("{:,} bytes in {:.3f} s").format(rec.bytes, (rec.time_ms or 0) / 1000) if rec.ok
                  else printable(localize(rec.reason), 80))
        self.board.update(_row(rec), rec.state, detail)
        self.log.add_connection(rec)
        with self.lock:
            self.records.append(rec)
            if len(self.records) >= self.clients:
                self.finished.set()

    def abort(self):
        """Stop the test: wake the waiters and close every connection."""
        self.stopping = True
        self.gate.cancel()
        with self.lock:
            connections = list(self.connections)
        for conn in connections:
            close_quietly(conn)


def _row(rec):
    return _("client {}").format(rec.client_id) if rec.client_id is not None else rec.client_address


class TCPFileServer:
    """Listens on one port and runs tests one after another (see ``run_test``)."""

    def __init__(self, config):
        self.config = config
        self.listener = bind_listener(config.bind, config.port, max(128, config.max_clients * 2))
        self.port = self.listener.getsockname()[1]
        self.listener.settimeout(0.2)
        self._test = None

    # -- one test -----------------------------------------------------------------
    def run_test(self, entry, clients, board):
        """Serve *entry* to *clients* clients; returns a TestOutcome.  Ctrl-C in
        the calling thread aborts the test, logs it, and marks it interrupted."""
        sha256 = entry.sha256  # computed once per file, reused for every client
        test_log = TestLog(self.config.logs_dir, "tcp", "server")
        test_log.begin("stream", entry.name, entry.size, sha256, clients, {
            "timeout": self.config.timeout, "handshake_timeout": self.config.handshake_timeout,
            "bind": self.config.bind, "port": self.port, "sendfile": hasattr(socket.socket, "sendfile")})
        test = TCPTest(entry, clients, test_log, board)
        self._test = test
        board.start()
        accept_thread = threading.Thread(target=self._accept_loop, args=(test,), name="accept", daemon=True)
        accept_thread.start()
        interrupted = False
        try:
            interrupted = wait_for_test(test.finished, self.config.test_timeout, test_log)
        finally:
            if interrupted or not test.finished.is_set():
                test.abort()
            test.stopping = True
            accept_thread.join(2.0)
            self._collect_unfinished(test, interrupted)
            board.stop()
            test_log.close(interrupted=interrupted)
        ok = (not interrupted and len(test.records) == clients and all(r.ok for r in test.records))
        return TestOutcome(list(test.records), test_log.path, ok, interrupted)

    def _collect_unfinished(self, test, interrupted):
        # wait briefly for handlers to log their failure after an abort
        end = time.monotonic() + 5.0
        while time.monotonic() < end:
            with test.lock:
                if len(test.records) >= test.gate.joined or test.finished.is_set():
                    break
            time.sleep(0.05)

    def _accept_loop(self, test):
        while not test.stopping:
            try:
                conn, peer = self.listener.accept()
            except socket.timeout:
                continue
            except OSError as exc:
                if test.stopping:
                    return
                log.warning("accept failed: %s", exc)
                time.sleep(0.05)
                continue
            threading.Thread(target=self._handle, args=(test, conn, peer),
                             name="conn-{}".format(peer[1]), daemon=True).start()

    # -- one connection --------------------------------------------------------------
    def _handle(self, test, conn, peer):
        peer_text = "{}:{}".format(peer[0], peer[1])
        test.track(conn)
        rec = None
        try:
            rec = self._handshake(test, conn, peer_text)
            if rec is not None:
                self._transfer(test, conn, rec)
        except Exception as exc:  # one bad connection never takes the server down
            log.exception("connection %s", peer_text)
            if rec is not None and rec.started:
                rec.fail(N_("internal error: {}").format(exc))
                test.finish_connection(rec)
        finally:
            test.untrack(conn)
            close_quietly(conn)

    def _handshake(self, test, conn, peer_text):
        """HELLO -> FILE -> READY -> wait for all.  Returns the record of a
        connection that takes part in the transfer, or None."""
        conn.settimeout(self.config.hello_timeout)
        reader = LineReader(conn)
        try:
            hello = reader.read_message()
            if not isinstance(hello, Hello):
                raise ProtocolError(N_("expected HELLO, got {}").format(hello.VERB))
        except socket.timeout:
            test.log.add_event("timeout", peer_text, N_("no HELLO within {:g} s").format(self.config.hello_timeout))
            send_error_and_close(conn, "no HELLO in time")
            return None
        except (ProtocolError, EOFError, OSError) as exc:
            test.log.add_event("protocol_error", peer_text, N_("before HELLO: {}").format(exc))
            send_error_and_close(conn, "expected HELLO: {}".format(exc))
            return None
        if not test.gate.join():
            test.log.add_event("busy", peer_text, N_("HELLO id={} total={}: test full or running").format(
                hello.id, hello.total))
            try:
                send_message(conn, Busy(reason=N_("this test already has its {} client(s)").format(test.clients)))
            except OSError:
                pass
            return None
        rec = ConnectionRecord(hello.id)
        rec.set_addresses(conn.getsockname(), conn.getpeername(), "server")
        rec.sha256_expected = test.entry.sha256
        rec.extra["clients_announced"] = hello.total
        rec_row = _row(rec)
        ready = False
        try:
            send_message(conn, FileOffer(name=test.entry.name, size=test.entry.size, sha256=test.entry.sha256,
                                         clients=test.clients))
            test.board.update(rec_row, "connected", peer_text)
            conn.settimeout(self.config.handshake_timeout)
            message = reader.read_message()
            if not isinstance(message, Ready):
                raise ProtocolError(N_("expected READY, got {}").format(message.VERB))
            ready = True
            test.gate.ready()
            test.board.update(rec_row, "ready", _("{}/{} ready").format(test.gate.ready_count, test.clients))
            self._wait_for_start(test, conn, reader)
        except (ProtocolError, EOFError, OSError, _LeftBeforeStart) as exc:
            test.gate.leave(ready)
            reason = N_("timed out waiting for READY") if isinstance(exc, socket.timeout) else str(exc)
            if test.gate.started.is_set() and not test.stopping:
                rec.fail(reason)  # left just as the gate opened: the test counts on this record to end
                test.finish_connection(rec)
                return None
            test.board.update(rec_row, "left", printable(localize(reason), 60))
            test.log.add_event("left_before_start", peer_text, N_("client {}: {}").format(hello.id, reason))
            if isinstance(exc, ProtocolError):
                send_error_and_close(conn, reason)
            return None
        return rec

    def _wait_for_start(self, test, conn, reader):
        """Block until every client is ready; notice a client that leaves meanwhile."""
        started_waiting = time.monotonic()
        while not test.gate.wait_start(0.25):
            if test.gate.cancelled.is_set():
                raise _LeftBeforeStart(N_("test cancelled"))
            if time.monotonic() - started_waiting > self.config.handshake_timeout:
                raise _LeftBeforeStart(N_("the other clients were not ready within {:g} s").format(
                    self.config.handshake_timeout))
            readable, _, _ = select.select([conn], [], [], 0)
            if readable:
                try:
                    peek = conn.recv(1, socket.MSG_PEEK)
                except OSError as exc:
                    raise _LeftBeforeStart(N_("connection lost: {}").format(exc))
                if not peek:
                    raise _LeftBeforeStart(N_("client closed the connection before the start"))
                raise ProtocolError(N_("unexpected data before DATA"))

    def _transfer(self, test, conn, rec):
        """DATA header, the file with sendfile, then DONE -> BYE."""
        entry = test.entry
        row = _row(rec)
        conn.settimeout(self.config.timeout)
        try:
            send_message(conn, DataHeader(size=entry.size))
            test.board.update(row, "sending", progress_detail(0, entry.size, 0))
            with entry.open() as source:
                rec.start_clock()
                offset = 0
                last_update = 0.0
                while offset < entry.size:
                    count = min(SENDFILE_SLICE, entry.size - offset)
                    try:
                        sent = conn.sendfile(source, offset, count)
                    except OSError:
                        # sendfile() leaves the file position after what it did send
                        rec.bytes = max(rec.bytes, source.tell())
                        raise
                    if sent == 0:
                        raise EOFError(N_("connection closed while sending"))
                    offset += sent
                    rec.bytes = offset
                    now = time.monotonic()
                    if now - last_update > 0.25:
                        last_update = now
                        test.board.update(row, "sending", progress_detail(offset, entry.size, rec.elapsed()))
            test.board.update(row, "waiting", _("all sent, waiting for DONE"))
            reader = LineReader(conn)
            done = reader.read_message()
            rec.stop_clock()  # server time: first byte sent -> DONE received
            if not isinstance(done, Done):
                raise ProtocolError(N_("expected DONE, got {}").format(done.VERB))
            rec.sha256_received = done.sha256
            rec.extra["client_bytes"] = done.bytes
            rec.ok = done.ok and done.bytes == entry.size and done.sha256 == entry.sha256
            if not rec.ok:
                rec.fail(N_("client reports {} of {:,} bytes, hash {}").format(
                    N_("verified") if done.ok else N_("FAILED"), done.bytes,
                    N_("matches") if done.sha256 == entry.sha256 else N_("differs")))
            try:
                send_message(conn, Bye(ok=rec.ok))
            except OSError:
                pass
        except socket.timeout:
            rec.stop_clock()
            rec.fail(N_("client stalled: nothing moved for {:g} s after {:,} bytes").format(self.config.timeout, rec.bytes))
        except (EOFError, ConnectionError) as exc:
            rec.stop_clock()
            rec.fail(N_("connection lost after {:,} bytes: {}").format(rec.bytes, exc))
        except ProtocolError as exc:
            rec.stop_clock()
            rec.fail(N_("protocol error: {}").format(exc))
            send_error_and_close(conn, str(exc))
        except OSError as exc:
            rec.stop_clock()
            rec.fail(N_("interrupted") if test.stopping else N_("send failed after {:,} bytes: {}").format(
                rec.bytes, exc.strerror or exc))
        if test.stopping and not rec.ok:
            rec.reason = N_("server interrupted ({})").format(rec.reason)
        test.finish_connection(rec)

    def close(self):
        """Stop listening."""
        close_quietly(self.listener)


class _LeftBeforeStart(Exception):
    """A client's place was given back before the data started."""


def build_parser():
    """The server's command line."""
    return server_parser("tcp/server.py", N_("TCP file-transfer server: sends a file from files/ to N clients "
                                             "at once and verifies each copy with SHA-256."), DEFAULT_PORT)


def main(argv=None, input_fn=None):
    """Command-line entry point; returns the exit status."""
    args = build_parser().parse_args(argv)
    config = server_config_from_args(args)
    return run_main(lambda: run_server_program(config, TCPFileServer, "TCP", input_fn=input_fn), "tcp/server.py")


if __name__ == "__main__":
    sys.exit(main())
