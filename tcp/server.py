"""TCP file-transfer server: one thread per connection, the file sent to every
client of a test at once (with ``socket.sendfile``) when the chosen number of
clients are connected and all have sent READY.

Run ``python3 tcp/server.py --help``.  The protocol is in PROTOCOL.md.
"""

if __package__ in (None, ""):
    import os
    import sys
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import errno
import logging
import selectors
import socket
import sys
import threading
import time

from transfer.cli import run_main
from transfer.catalog import FileChanged
from transfer.config import DEFAULT_MAX_PENDING, positive_int, server_config_from_args, server_parser
from transfer.deadline import Deadline
from transfer.errors import ProtocolError, UserError
from transfer.gate import TestGate
from transfer.i18n import N_, _, localize
from transfer.messages import (MAX_LINE, TCP_MESSAGES, Busy, Bye, DataHeader, Done, ErrorMessage, FileOffer, Hello,
                               LineReader, Ready, close_quietly, decode, printable, send_error_and_close, send_message)
from transfer.records import ConnectionRecord
from transfer.server_app import TestOutcome, run_server_program, wait_for_test
from transfer.status import progress_detail
from transfer.testlog import TestLog
from transfer.text import host_port

log = logging.getLogger(__name__)

DEFAULT_PORT = 5001
SENDFILE_SLICE = 8 * 1024 * 1024   # bytes per sendfile() call, so progress and aborts are seen
ACCEPT_BACKOFF_MIN = 0.05          # seconds the listener rests after accept() failed, doubling ...
ACCEPT_BACKOFF_MAX = 1.0           # ... up to this


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
        raise UserError(_("cannot listen on {}: {}").format(host_port(bind, port), exc.strerror or exc))
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
        self._warned = set()

    def note(self, kind, peer, detail, warn=False):
        """An event of this test: logged (capped per kind by TestLog); with
        *warn*, the first of its kind also goes to stderr once."""
        self.log.event(kind, peer, detail)
        if warn and kind not in self._warned:
            self._warned.add(kind)
            log.warning("%s: %s (further ones are counted in the test log)", kind, detail)

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
            # shut down, never close, under a thread that may be inside sendfile():
            # it wakes with an OSError and closes its own socket (a close here
            # made it fail with "ValueError: Invalid file descriptor: -1")
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except (OSError, ValueError):
                pass


def _row(rec):
    return _("client {}").format(rec.client_id) if rec.client_id is not None else rec.client_address


class _Pending:
    """A connection that has not said HELLO yet.  It costs no thread: the
    accept loop reads it (non-blocking) until its line is complete or its
    deadline passes."""

    __slots__ = ("sock", "peer", "peer_text", "accepted", "deadline", "buffer")

    def __init__(self, sock, peer, hello_timeout):
        self.sock = sock
        self.peer = peer
        self.peer_text = _peer_text(peer)
        self.accepted = time.monotonic()
        self.deadline = Deadline(hello_timeout)
        self.buffer = bytearray()

    def progress(self, now):
        """Bytes per second sent so far (how the shedding rule ranks peers)."""
        return len(self.buffer) / max(now - self.accepted, 1e-3)


def _peer_text(peer):
    try:
        host, port = peer[0], peer[1]
    except (TypeError, IndexError):
        return str(peer)
    return host_port(host, port)


class _Place:
    """A place of a test, taken by one connection: ``give_back()`` returns it
    (once; a no-op after the test started), whatever path the connection
    leaves by."""

    def __init__(self, gate):
        self.gate = gate
        self.ready = False
        self.held = True

    def give_back(self):
        """Return the place unless the test already started with it."""
        if self.held:
            self.held = False
            self.gate.leave(self.ready)


class TCPFileServer:
    """Listens on one port and runs tests one after another (see ``run_test``).

    The accept loop (one thread per test, like socketserver's
    ``serve_forever``) owns the listener and every connection that has not
    said HELLO yet, in a ``selectors`` selector (no fd limit of select(), no
    thread per idle peer).  At most ``max_pending`` such connections wait;
    at the cap the one that has shown the least progress is shed, so a flood
    of idle or slow peers never keeps a real client out.  ``accept()``
    failures (out of file descriptors) shed a pending peer or back off.  A
    connection that says HELLO and gets a place runs in its own thread.
    """

    def __init__(self, config):
        self.config = config
        self.listener = bind_listener(config.bind, config.port, max(128, config.max_clients * 2))
        self.port = self.listener.getsockname()[1]
        self.listener.setblocking(False)
        self.max_pending = max(1, getattr(config, "max_pending", DEFAULT_MAX_PENDING) or DEFAULT_MAX_PENDING)
        self._pending = {}          # socket -> _Pending, kept across tests
        self._backoff = 0.0
        self._paused_until = 0.0
        self._test = None

    # -- one test -----------------------------------------------------------------
    def run_test(self, entry, clients, board):
        """Serve *entry* to *clients* clients; returns a TestOutcome.  Ctrl-C in
        the calling thread aborts the test, logs it, and marks it interrupted."""
        sha256 = entry.sha256  # computed once per file, reused for every client
        test_log = TestLog(self.config.logs_dir, "tcp", "server")
        test_log.begin("stream", entry.name, entry.size, sha256, clients, {
            "timeout": self.config.timeout, "handshake_timeout": self.config.handshake_timeout,
            "hello_timeout": self.config.hello_timeout, "max_pending": self.max_pending,
            "bind": self.config.bind, "port": self.port, "sendfile": hasattr(socket.socket, "sendfile")})
        test = TCPTest(entry, clients, test_log, board)
        self._test = test
        board.start()
        accept_thread = threading.Thread(target=self._accept_loop, args=(test,), name="accept", daemon=True)
        try:
            accept_thread.start()
        except RuntimeError as exc:  # out of threads: one clear line, not a traceback
            board.stop()
            test_log.close(interrupted=False)
            raise UserError(_("cannot start the accept thread: {}").format(exc))
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

    # -- the accept loop: listener + connections before HELLO -------------------------
    def _accept_loop(self, test):
        """Accept, read HELLO lines, enforce their deadline, until the test stops.
        Never dies on one bad event: it is the only way in."""
        selector = selectors.DefaultSelector()
        try:
            for pending in list(self._pending.values()):
                try:
                    selector.register(pending.sock, selectors.EVENT_READ, pending)
                except (OSError, ValueError):
                    self._pending.pop(pending.sock, None)
            while not test.stopping:
                try:
                    self._accept_round(test, selector)
                except Exception as exc:  # pragma: no cover - a bug must not close the only way in
                    log.exception("accept loop")
                    test.note("internal", "-", N_("accept loop: {!r}").format(exc))
                    time.sleep(0.05)
        finally:
            selector.close()

    def _accept_round(self, test, selector):
        """One wait of the accept loop and what it brings."""
        now = time.monotonic()
        listening = self.listener in selector.get_map()
        if not listening and now >= self._paused_until:
            selector.register(self.listener, selectors.EVENT_READ, None)
            listening = True
        try:
            events = selector.select(self._next_wakeup(now, listening))
        except (OSError, ValueError) as exc:  # pragma: no cover - a closed socket slipped in
            test.note("internal", "-", N_("select failed: {}").format(exc), warn=True)
            self._drop_closed(selector)
            return
        for key, _mask in events:
            if test.stopping:
                break
            if key.data is None:
                if self.listener in selector.get_map() and not self._accept_some(test, selector):
                    selector.unregister(self.listener)  # back off: listen again after _paused_until
            else:
                self._read_pending(test, selector, key.data)
        self._expire_pending(test, selector)

    def _next_wakeup(self, now, listening):
        wake = 0.2
        if not listening:
            wake = min(wake, max(0.0, self._paused_until - now))
        for pending in self._pending.values():
            wake = min(wake, pending.deadline.remaining())
        return max(wake, 0.001)

    def _drop_closed(self, selector):
        for sock, pending in list(self._pending.items()):
            if sock.fileno() < 0:
                self._forget(selector, pending)

    def _accept_some(self, test, selector):
        """Accept what is waiting (at most 64 at a time).  False means: stop
        listening for a while (backing off after accept() failed)."""
        for _ in range(64):
            try:
                conn, peer = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return True
            except ConnectionAbortedError:
                continue
            except OSError as exc:
                return self._accept_failed(test, selector, exc)
            self._backoff = 0.0
            if len(self._pending) >= self.max_pending:
                self._shed(test, selector, N_("--max-pending {} connections were waiting for HELLO").format(
                    self.max_pending))
            try:
                conn.setblocking(False)
                pending = _Pending(conn, peer, self.config.hello_timeout)
                selector.register(conn, selectors.EVENT_READ, pending)
            except (OSError, ValueError) as exc:
                test.note("protocol_error", _peer_text(peer), N_("before HELLO: {}").format(exc))
                close_quietly(conn)
                continue
            self._pending[conn] = pending
        return True

    def _accept_failed(self, test, selector, exc):
        """accept() failed: out of fds (or memory) sheds the least-progress
        waiting peer to make room; otherwise (or with none) back off."""
        code = getattr(exc, "errno", None)
        test.note("accept_failed", "-", N_("accept failed: {}").format(exc.strerror or exc), warn=True)
        if code in (errno.EMFILE, errno.ENFILE) and self._pending:
            self._shed(test, selector, N_("out of file descriptors ({})").format(exc.strerror or exc))
            return True
        self._backoff = min(ACCEPT_BACKOFF_MAX, max(ACCEPT_BACKOFF_MIN, self._backoff * 2))
        self._paused_until = time.monotonic() + self._backoff
        return False

    def _shed(self, test, selector, why):
        """Drop the waiting peer that has shown the least progress (the oldest among equals)."""
        if not self._pending:
            return
        now = time.monotonic()
        victim = min(self._pending.values(), key=lambda p: (p.progress(now), p.accepted))
        test.note("shed", victim.peer_text, N_("dropped before HELLO ({:,} bytes in {:.1f} s): {}").format(
            len(victim.buffer), now - victim.accepted, why))
        self._refuse(selector, victim, N_("server busy: too many connections waiting for HELLO"))

    def _read_pending(self, test, selector, pending):
        try:
            data = pending.sock.recv(MAX_LINE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            test.note("protocol_error", pending.peer_text, N_("before HELLO: {}").format(exc.strerror or exc))
            self._forget(selector, pending)
            close_quietly(pending.sock)
            return
        if not data:
            test.note("protocol_error", pending.peer_text, N_("before HELLO: {}").format(
                "connection closed in the middle of a line" if pending.buffer else "connection closed by the peer"))
            self._forget(selector, pending)
            close_quietly(pending.sock)
            return
        pending.buffer += data
        end = pending.buffer.find(b"\n", 0, MAX_LINE)
        if end < 0:
            if len(pending.buffer) >= MAX_LINE:
                self._reject(test, selector, pending, N_("line longer than {} bytes").format(MAX_LINE))
            return
        try:
            hello = decode(bytes(pending.buffer[:end + 1]), TCP_MESSAGES)
            if not isinstance(hello, Hello):
                raise ProtocolError(N_("expected HELLO, got {}").format(hello.VERB))
        except ProtocolError as exc:
            self._reject(test, selector, pending, str(exc))
            return
        self._forget(selector, pending)
        self._admit(test, pending, hello, bytes(pending.buffer[end + 1:]))

    def _expire_pending(self, test, selector):
        for pending in [p for p in self._pending.values() if p.deadline.expired()]:
            test.note("timeout", pending.peer_text, N_("no HELLO within {:g} s ({:,} bytes received)").format(
                self.config.hello_timeout, len(pending.buffer)))
            self._refuse(selector, pending, N_("no HELLO in time"))

    def _reject(self, test, selector, pending, reason):
        test.note("protocol_error", pending.peer_text, N_("before HELLO: {}").format(reason))
        self._refuse(selector, pending, N_("expected HELLO: {}").format(reason))

    def _refuse(self, selector, pending, reason, message=None):
        """Forget a waiting peer: one non-blocking ERROR (or *message*) line, then close."""
        self._forget(selector, pending)
        _send_nowait(pending.sock, message or ErrorMessage(reason=str(reason)[:200]))
        close_quietly(pending.sock)

    def _forget(self, selector, pending):
        self._pending.pop(pending.sock, None)
        try:
            selector.unregister(pending.sock)
        except (KeyError, ValueError, OSError):
            pass

    def _admit(self, test, pending, hello, rest):
        """A HELLO: take a place (or answer BUSY) and start the connection's thread."""
        conn = pending.sock
        if not test.gate.join():
            test.note("busy", pending.peer_text, N_("HELLO id={} total={}: test full or running").format(
                hello.id, hello.total))
            _send_nowait(conn, Busy(reason=N_("this test already has its {} client(s)").format(test.clients)))
            close_quietly(conn)
            return
        place = _Place(test.gate)
        try:
            conn.settimeout(self.config.timeout)
            thread = threading.Thread(target=self._handle, args=(test, conn, pending.peer, hello, rest, place),
                                      name="conn-{}".format(pending.peer[1]), daemon=True)
            thread.start()
        except Exception as exc:  # RuntimeError: can't start new thread (or MemoryError)
            place.give_back()
            test.note("thread_failed", pending.peer_text, N_("cannot start a thread for it: {}").format(exc), warn=True)
            _send_nowait(conn, ErrorMessage(reason=N_("server overloaded, try again")))
            close_quietly(conn)

    # -- one connection (its own thread, holding a place) -------------------------------
    def _handle(self, test, conn, peer, hello, rest, place):
        peer_text = _peer_text(peer)
        test.track(conn)
        rec = None
        try:
            rec = self._handshake(test, conn, peer, hello, rest, place)
            if rec is not None:
                self._transfer(test, conn, rec)
        except Exception as exc:  # one bad connection never takes the server down
            log.exception("connection %s", peer_text)
            if rec is not None and rec.started:
                rec.fail(N_("internal error: {}").format(exc))
                test.finish_connection(rec)
        finally:
            place.give_back()  # every path out returns the place (a no-op once the test started)
            test.untrack(conn)
            close_quietly(conn)

    def _handshake(self, test, conn, peer, hello, rest, place):
        """FILE -> READY -> wait for all, on a connection holding a place.
        Returns the record of a connection that takes part in the transfer,
        or None (the place given back, the reason logged)."""
        peer_text = _peer_text(peer)
        rec = ConnectionRecord(hello.id)
        try:
            local = conn.getsockname()
        except OSError:
            local = (self.config.bind, self.port)
        rec.set_addresses(local, peer, "server")
        rec.sha256_expected = test.entry.sha256
        rec.extra["clients_announced"] = hello.total
        rec_row = _row(rec)
        reader = LineReader(conn)
        reader.feed(rest)
        try:
            send_message(conn, FileOffer(name=test.entry.name, size=test.entry.size, sha256=test.entry.sha256,
                                         clients=test.clients))
            test.board.update(rec_row, "connected", peer_text)
            # one deadline for the whole READY line, however its bytes trickle in
            message = reader.read_message(deadline=Deadline(self.config.handshake_timeout))
            if not isinstance(message, Ready):
                raise ProtocolError(N_("expected READY, got {}").format(message.VERB))
            place.ready = True
            test.gate.ready()
            test.board.update(rec_row, "ready", _("{}/{} ready").format(test.gate.ready_count, test.clients))
            self._wait_for_start(test, conn, reader)
        except (ProtocolError, EOFError, OSError, ValueError, _LeftBeforeStart) as exc:
            place.give_back()
            reason = N_("timed out waiting for READY") if isinstance(exc, socket.timeout) else str(exc)
            if test.gate.started.is_set() and not test.stopping:
                rec.fail(reason)  # left just as the gate opened: the test counts on this record to end
                test.finish_connection(rec)
                return None
            test.board.update(rec_row, "left", printable(localize(reason), 60))
            test.note("left_before_start", peer_text, N_("client {}: {}").format(hello.id, reason))
            if isinstance(exc, (ProtocolError, socket.timeout)):
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
            if _peek_nowait(conn):
                raise ProtocolError(N_("unexpected data before DATA"))

    def _transfer(self, test, conn, rec):
        """DATA header, the file with sendfile, then DONE -> BYE."""
        entry = test.entry
        row = _row(rec)
        conn.settimeout(self.config.timeout)
        try:
            with entry.open() as source:  # before DATA: a file changed on disk sends nothing
                send_message(conn, DataHeader(size=entry.size))
                test.board.update(row, "sending", progress_detail(0, entry.size, 0))
                rec.start_clock()
                offset = 0
                last_update = 0.0
                while offset < entry.size:
                    count = min(SENDFILE_SLICE, entry.size - offset)
                    try:
                        sent = conn.sendfile(source, offset, count)
                    except (OSError, ValueError):
                        # sendfile() leaves the file position after what it did send;
                        # ValueError: the socket was closed under it (Ctrl-C)
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
        except FileChanged as exc:
            rec.fail(N_("not sent: {}").format(exc))
            test.note("file_changed", _row(rec), str(exc), warn=True)
            send_error_and_close(conn, N_("the file changed on the server; try again"))
        except socket.timeout:
            rec.stop_clock()
            rec.fail(N_("client stalled: nothing moved for {:g} s after {:,} bytes").format(self.config.timeout,
                                                                                            rec.bytes))
        except (EOFError, ConnectionError) as exc:
            rec.stop_clock()
            rec.fail(N_("connection lost after {:,} bytes: {}").format(rec.bytes, exc))
        except ProtocolError as exc:
            rec.stop_clock()
            rec.fail(N_("protocol error: {}").format(exc))
            send_error_and_close(conn, str(exc))
        except (OSError, ValueError) as exc:
            rec.stop_clock()
            rec.fail(N_("interrupted after {:,} bytes").format(rec.bytes) if test.stopping
                     else N_("send failed after {:,} bytes: {}").format(rec.bytes,
                                                                         getattr(exc, "strerror", None) or exc))
        if test.stopping and not rec.ok:
            rec.reason = N_("server interrupted ({})").format(rec.reason)
        test.finish_connection(rec)

    def close(self):
        """Stop listening (and drop the connections still waiting for HELLO)."""
        for pending in list(self._pending.values()):
            close_quietly(pending.sock)
        self._pending.clear()
        close_quietly(self.listener)


def _send_nowait(sock, message):
    """Best-effort single non-blocking send of one short line (never blocks the accept loop)."""
    try:
        sock.setblocking(False)
        sock.send(message.encode())
    except (OSError, ValueError):
        pass


def _peek_nowait(conn):
    """True when the peer sent something or closed (without blocking); raises
    _LeftBeforeStart when it closed or the connection broke."""
    try:
        conn.settimeout(0.0)
        try:
            peek = conn.recv(1, socket.MSG_PEEK)
        finally:
            conn.settimeout(None)
    except (BlockingIOError, InterruptedError):
        return False
    except OSError as exc:
        raise _LeftBeforeStart(N_("connection lost: {}").format(exc))
    if not peek:
        raise _LeftBeforeStart(N_("client closed the connection before the start"))
    return True


class _LeftBeforeStart(Exception):
    """A client's place was given back before the data started."""


def build_parser():
    """The server's command line."""
    parser = server_parser("tcp/server.py", "TCP file-transfer server: sends a file from files/ to N clients "
                           "at once and verifies each copy with SHA-256.", DEFAULT_PORT)
    parser.add_argument("--max-pending", type=positive_int, default=DEFAULT_MAX_PENDING, metavar="N",
                        help="connections that may wait for their HELLO at once; beyond it the one that has "
                             "shown the least progress is dropped (default %(default)s)")
    return parser


def main(argv=None, input_fn=None):
    """Command-line entry point; returns the exit status."""
    args = build_parser().parse_args(argv)
    config = server_config_from_args(args)
    config.max_pending = args.max_pending
    return run_main(lambda: run_server_program(config, TCPFileServer, "TCP", input_fn=input_fn), "tcp/server.py")


if __name__ == "__main__":
    sys.exit(main())
