"""UDP file-transfer server: a well-known port for HELLO and PING, and for
each client of a test its own socket (its own port) and thread that send the
file in numbered datagrams, paced, when every client of the test is READY.
Raw mode sends each chunk once; ``--reliable`` resends what the client NACKs
and adapts the rate to the loss the client reports.

Run ``python3 udp/server.py --help``.  The protocol is in PROTOCOL.md ("UDP").
"""

if __package__ in (None, ""):
    import os
    import sys
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import argparse
import collections
import hmac
import logging
import mmap
import secrets
import select
import socket
import sys
import threading
import time

from transfer.cli import run_main
from transfer.config import seconds, server_config_from_args, server_parser
from transfer.errors import ProtocolError, UserError
from transfer.gate import TestGate
from transfer.i18n import N_, _, localize
from transfer.messages import Busy, ErrorMessage, printable
from transfer.records import ConnectionRecord
from transfer.server_app import TestOutcome, run_server_program, wait_for_test
from transfer.status import progress_detail
from transfer.testlog import TestLog
from transfer.units import parse_size
from udp.packets import (DATA_TYPE, FLAG_RESENT, HEADER, HEADER_SIZE, MAX_DATAGRAM, MIN_DATAGRAM, VERSION, End, Nack,
                         Ping, Pong, Report, Retry, Start, UdpBye, UdpFileOffer, UdpHello, UdpReady, Wait,
                         address_text, chunk_count, decode_control, ignore_connreset, is_data, raise_buffers)
from udp.validation import BudgetTable, PerSourceRate, TokenIssuer
from udp.pacing import AdaptiveRate, TokenBucket

log = logging.getLogger(__name__)

DEFAULT_PORT = 5002
DEFAULT_CHUNK_SIZE = 64000          # datagram payload (header + data), chosen by measurement (PROTOCOL.md)
DEFAULT_TOTAL_RATE = 700 * 1000 * 1000  # bytes/s shared by the clients of a test when --rate is not given
DEFAULT_IDLE_TIMEOUT = 5.0          # client: silence that ends a transfer
END_FIRST_INTERVAL = 0.05           # END is repeated, doubling from 50 ms ...
END_MAX_INTERVAL = 1.0              # ... up to 1 s, until the client answers
HELLO_KEEPALIVE = 1.0               # a client waiting to send READY repeats HELLO this often (--hello-timeout)
READY_SILENCE = 15.0                # a READY client that stops repeating READY this long has left
HANDSHAKE_POLL = 0.1                # before the start: a session looks at its socket (or the gate) this often
LINGER = 1.5                        # after BYE the session answers repeated REPORTs this long
POLL_EVERY = 16                     # datagrams between two looks at the session socket ...
POLL_INTERVAL = 0.02                # ... or this many seconds, whichever comes first (slow rates)
BLACKOUT_DATAGRAMS = 8              # reliable: a NACK with nothing new received although this many datagrams ...
BLACKOUT_SECONDS = 0.1              # ... and this much time went by since the count last grew = heavy loss
SILENCE_BACKOFF = 0.3               # reliable: nothing heard from the client this long while sending: halve the rate
STATUS_EVERY = 0.25
FORCE_COPY = False                  # tests set it to run the portable send path (no sendmsg) on Linux
EVENTS_LOGGED = 20                  # ignored datagrams logged one by one per test; then only counted
PONG_RATE, PONG_BURST = 10.0, 10    # PONGs per second (and at once) per source IP
PING_LINES_RATE = 1.0               # "ping from" lines printed per second at most (then counted) ...
PING_LINES_BURST = 5                # ... after a burst of this many


def default_rate(config, clients):
    """Bytes/s per client: --rate, or the measured total budget shared by the clients."""
    if config.rate is not None:
        return config.rate
    return DEFAULT_TOTAL_RATE // max(1, clients)


def data_size(config):
    """File bytes per datagram (the chunk): --chunk-size minus the header."""
    return (config.chunk_size or DEFAULT_CHUNK_SIZE) - HEADER_SIZE


IP_MTU = getattr(socket, "IP_MTU", 14)   # Linux getsockopt: the path MTU of a connected socket
IP_UDP_HEADERS = 28                      # IPv4 (20) + UDP (8)


def path_mtu(sock):
    """The path MTU of the connected UDP socket *sock*, or None where the OS doesn't say."""
    if not sys.platform.startswith("linux") or sock.family != socket.AF_INET:
        return None
    try:
        return sock.getsockopt(socket.IPPROTO_IP, IP_MTU)
    except OSError:
        return None


def session_chunk(config, sock):
    """File bytes per datagram for one client: --chunk-size when given; otherwise
    the default, shrunk to fit the path MTU when the route to the client has a
    smaller one (an Ethernet LAN: 1500).  A datagram bigger than the MTU is cut
    into IP fragments, the loss of any one loses the datagram, and on a
    congested link the kernel's reassembly memory fills with incomplete
    datagrams (held 30 s) until no large datagram gets through at all."""
    if config.chunk_size:
        return config.chunk_size - HEADER_SIZE
    mtu = path_mtu(sock)
    if mtu and mtu - IP_UDP_HEADERS < DEFAULT_CHUNK_SIZE:
        return max(MIN_DATAGRAM, mtu - IP_UDP_HEADERS) - HEADER_SIZE
    return DEFAULT_CHUNK_SIZE - HEADER_SIZE


def bind_udp(bind, port, shared=False):
    """A UDP socket bound to (*bind*, *port*); UserError if it can't be had.  *shared*: with
    SO_REUSEPORT, so that the sessions of --single-port can bind the well-known port too."""
    family = socket.AF_INET6 if ":" in bind else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        if shared:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((bind, port))
    except OSError as exc:
        sock.close()
        if getattr(exc, "errno", None) in (98, 48, 10048):
            raise UserError(_("UDP port {} is already in use on {} (choose another with --port)").format(port, bind))
        raise UserError(_("cannot bind UDP {}:{}: {}").format(bind, port, exc.strerror or exc))
    ignore_connreset(sock)
    return sock


class SharedPort(tuple):
    """--single-port: the sessions bind the well-known port itself (SO_REUSEPORT) and connect() to
    their client; Linux delivers a connected socket's datagrams to it and the rest to the listener."""

    def __new__(cls, port):
        return super().__new__(cls, (port, port))


def shared_port_supported():
    """True where --single-port can work (SO_REUSEPORT on Linux)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def bind_session_socket(bind, ports=None):
    """A session socket on (*bind*, port 0), or on the first free port of the
    range *ports* = (low, high) (--session-ports, for firewalls), or on the well-known port
    itself (--single-port: *ports* is a SharedPort).  OSError if none is free."""
    if isinstance(ports, SharedPort):
        return bind_udp(bind, ports[0], shared=True)
    if not ports:
        return bind_udp(bind, 0)
    low, high = ports
    for port in range(low, high + 1):
        try:
            return bind_udp(bind, port)
        except UserError:
            continue
    raise OSError(N_("no free port in --session-ports {}-{}").format(low, high))


def session_ports(text):
    """argparse type: 'LOW-HIGH' (1024..65535), the ports session sockets may use."""
    low, sep, high = str(text).partition("-")
    if not (low.isdigit() and high.isdigit() and sep) or not 1 <= int(low) <= int(high) <= 65535:
        raise argparse.ArgumentTypeError(_("expected a port range LOW-HIGH such as 5003-5102, got {!r}").format(text))
    return int(low), int(high)


class UDPTest:
    """One running test: gate, log, records, sessions by client address."""

    def __init__(self, server, entry, clients, log_file, board):
        self.server, self.config = server, server.config
        self.entry, self.clients, self.log, self.board = entry, clients, log_file, board
        self.gate = TestGate(clients)
        self.records = []
        self.sessions = {}
        self.finished = threading.Event()
        self.lock = threading.Lock()
        self.stopping = False
        self.accepting = True
        self.ignored = 0          # datagrams ignored on the well-known port during this test
        self.mode = "reliable" if self.config.reliable else "raw"
        self.chunk = data_size(self.config)
        self.chunks = chunk_count(entry.size, self.chunk)
        self.rate = default_rate(self.config, clients)
        self._handle = None
        self._map = None
        self.source = memoryview(b"")
        if entry.size:
            self._handle = entry.open()
            self._map = mmap.mmap(self._handle.fileno(), 0, access=mmap.ACCESS_READ)
            advice = getattr(mmap, "MADV_SEQUENTIAL", None)  # Linux (3.8+): read ahead, fewer page faults
            if advice is not None and hasattr(self._map, "madvise"):
                try:
                    self._map.madvise(advice)
                except OSError:
                    pass
            self.source = memoryview(self._map)

    def finish_connection(self, rec):
        """A session that took part ended: log it; the test ends with the last one."""
        rec.state = "verified" if rec.ok else "failed"
        self.log.add_connection(rec)
        with self.lock:
            self.records.append(rec)
            last = len(self.records) >= self.clients
        self.board.update(_row(rec), rec.state, _("{} datagrams sent, {} resent").format(
            rec.extra["datagrams_sent"], rec.extra["resent_datagrams"]) if rec.ok else printable(localize(rec.reason), 80))
        if last:
            self.finished.set()

    def abort(self):
        """Stop the test: wake the waiters, stop every session."""
        self.stopping = True
        self.gate.cancel()

    def release(self):
        """Unmap the file (once every session is done with it)."""
        try:
            self.source.release()
        except (AttributeError, ValueError, BufferError):
            return  # a session still uses it: leave it to the garbage collector
        if self._map is not None:
            self._map.close()
        if self._handle is not None:
            self._handle.close()


def _row(rec):
    return _("client {}").format(rec.client_id) if rec.client_id is not None else rec.client_address


class UDPFileServer:
    """The well-known port (HELLO, PING) and the tests run on it (see ``run_test``)."""

    def __init__(self, config, out=None):
        self.config = config
        self.out = out or sys.stdout
        if getattr(config, "single_port", False):
            if not shared_port_supported():
                raise UserError(_("--single-port needs SO_REUSEPORT (Linux)"))
            bind_udp(config.bind, config.port).close()   # in use by anyone (even a shared socket): say so
            self.sock = bind_udp(config.bind, config.port, shared=True)
            config.session_ports = SharedPort(self.sock.getsockname()[1])
        else:
            self.sock = bind_udp(config.bind, config.port)
        self.port = self.sock.getsockname()[1]
        self.buffers = raise_buffers(self.sock, 4 * 1024 * 1024)
        self.sock.settimeout(0.2)
        self.ignored = 0
        self.pings = 0
        self.pongs = 0
        # address validation (udp/validation.py): tokens, the 3x budget per address, PONGs per source
        self.tokens = TokenIssuer()
        self.budgets = BudgetTable()
        self.pong_rate = PerSourceRate(PONG_RATE, PONG_BURST)
        self._ping_lines = PerSourceRate(PING_LINES_RATE, PING_LINES_BURST)
        self._pings_not_shown = 0
        self.counts = collections.Counter()   # hello_without_token, bad_token, retry_sent, refused_by_budget, ...
        self._events = collections.Counter()  # events of the current test by kind (a cap per kind)
        self._test = None
        self._closed = threading.Event()
        self._listener = threading.Thread(target=self._listen, name="udp-listener", daemon=True)
        self._listener.start()

    @property
    def current_test(self):
        """The test waiting for or serving clients, or None between tests."""
        return self._test

    # -- one test -----------------------------------------------------------------
    def run_test(self, entry, clients, board):
        """Serve *entry* to *clients* clients; returns a TestOutcome (Ctrl-C: interrupted)."""
        cfg = self.config
        sha256 = entry.sha256  # once per file; every session reuses it
        test_log = TestLog(cfg.logs_dir, "udp", "server")
        probe = bind_udp(cfg.bind, 0)
        rcvbuf, sndbuf = raise_buffers(probe)
        probe.close()
        test = UDPTest(self, entry, clients, test_log, board)
        test_log.begin(test.mode, entry.name, entry.size, sha256, clients, {
            "chunk_size": test.chunk + HEADER_SIZE, "chunk_data": test.chunk, "chunks": test.chunks,
            "rate": test.rate, "rate_given": cfg.rate is not None, "adaptive_rate": test.mode == "reliable",
            "timeout": cfg.timeout, "handshake_timeout": cfg.handshake_timeout,
            "bind": cfg.bind, "port": self.port, "so_rcvbuf": rcvbuf, "so_sndbuf": sndbuf})
        self._events = collections.Counter()
        counts_before = collections.Counter(self.counts)
        self._test = test
        board.start()
        interrupted = True   # until the wait returns normally (any exception counts as interrupted)
        try:
            interrupted = wait_for_test(test.finished, cfg.test_timeout, test_log)
        finally:
            test.accepting = False
            self._test = None
            if interrupted or not test.finished.is_set():
                test.abort()
            self._collect_unfinished(test)
            if test.ignored:
                test_log.add_event("ignored", "-", N_("{} datagram(s) ignored on the well-known port during this "
                                   "test (the first {} are logged above)").format(test.ignored, EVENTS_LOGGED))
            self._close_events(test_log, counts_before)
            board.stop()
            test_log.close(interrupted=interrupted)
            test.release()
        ok = not interrupted and len(test.records) == clients and all(r.ok for r in test.records)
        return TestOutcome(list(test.records), test_log.path, ok, interrupted)

    def _collect_unfinished(self, test):
        end = time.monotonic() + 5.0
        while time.monotonic() < end:
            with test.lock:
                sessions = list(test.sessions.values())
            if all(not s.thread.is_alive() or s.logged for s in sessions):
                break
            time.sleep(0.05)

    # -- the well-known port ----------------------------------------------------------
    def _listen(self):
        buffer = bytearray(MAX_DATAGRAM + 1)
        while not self._closed.is_set():
            try:
                count, peer = self.sock.recvfrom_into(buffer)
            except socket.timeout:
                continue
            except OSError:
                if self._closed.is_set():
                    return
                time.sleep(0.01)
                continue
            try:
                self._dispatch(bytes(buffer[:count]), peer)
            except Exception:  # one bad datagram never stops the listener
                log.exception("datagram from %s", peer)

    def _ignore(self, peer, detail):
        self.ignored += 1
        test = self._test
        if test is not None:
            test.ignored += 1
            if test.ignored <= EVENTS_LOGGED:
                test.log.add_event("ignored", address_text(peer), detail)

    def _event(self, test, kind, peer, detail):
        """An event of the test's log, at most EVENTS_LOGGED per kind (the rest counted for the close);
        ``TestLog.event`` does the capping where it exists."""
        event = getattr(test.log, "event", None)
        if event is not None:
            event(kind, address_text(peer), detail)
            return
        self._events[kind] += 1
        if self._events[kind] <= EVENTS_LOGGED:
            test.log.add_event(kind, address_text(peer), detail)

    def _close_events(self, test_log, counts_before):
        """At the end of a test: how many events went unlogged, and what address validation did."""
        for kind, count in sorted(self._events.items()):
            if count > EVENTS_LOGGED:
                test_log.add_event(kind, "-", N_("{} {} event(s) in this test; the first {} are logged above").format(
                    count, kind, EVENTS_LOGGED))
        counts = {k: v - counts_before.get(k, 0) for k, v in self.counts.items() if v - counts_before.get(k, 0)}
        if counts:
            test_log.add_event("address_validation", "-", " ".join(
                "{}={}".format(k, v) for k, v in sorted(counts.items())))

    def _send_to(self, message, peer, budget):
        """Send *message* from the well-known port if *peer*'s budget allows it (anti-amplification)."""
        data = message.encode()
        if not budget.can_send(len(data)):
            budget.refused += 1
            self.counts["refused_by_budget"] += 1
            return False
        try:
            self.sock.sendto(data, peer)
        except OSError:
            return False
        budget.on_sent(len(data))
        return True

    def _dispatch(self, datagram, peer):
        budget = self.budgets.get(peer)
        budget.on_received(len(datagram))
        if not datagram or is_data(datagram):
            self._ignore(peer, N_("data datagram on the well-known port") if datagram else N_("empty datagram"))
            return
        try:
            message = decode_control(datagram)
        except ProtocolError as exc:
            self._ignore(peer, N_("bad datagram ({} bytes): {}").format(len(datagram), exc))
            return
        if isinstance(message, Ping):
            self._answer_ping(message, peer, budget)
        elif isinstance(message, UdpHello):
            self._hello(message, peer, budget, len(datagram))
        else:
            self._ignore(peer, N_("unexpected {} on the well-known port").format(message.VERB))

    def _answer_ping(self, ping, peer, budget):
        self.pings += 1
        if not self.pong_rate.allow(peer[0]):
            self.counts["pong_limited"] += 1
            return
        if not self._send_to(Pong(seq=ping.seq), peer, budget):
            return
        self.pongs += 1
        test = self._test
        if test is not None:
            self._event(test, "ping", peer, N_("PING seq={}").format(ping.seq))
        if not self.config.quiet:
            if not self._ping_lines.allow("stdout"):
                self._pings_not_shown += 1
                return
            more = self._pings_not_shown
            self._pings_not_shown = 0
            self.out.write(_("ping from {} seq={}{}\n").format(address_text(peer), ping.seq,
                                                           _(" ({} more not shown)").format(more) if more else ""))
            self.out.flush()

    def _hello(self, hello, peer, budget, size):
        """HELLO (a datagram of *size* bytes) on the well-known port.  Without a valid token
        (RFC 9000 8.1) it gets only a RETRY, if padded to HELLO_PADDED bytes and within the 3x
        budget: no place, no session, no log line."""
        test = self._test
        session = None
        if test is not None:
            with test.lock:
                session = test.sessions.get(peer)
        known = session is not None and hello.token is not None and hmac.compare_digest(hello.token, session.token)
        if not known and not self.tokens.check(hello.token, peer):
            self.counts["bad_token" if hello.token else "hello_without_token"] += 1
            if size < UdpHello.PADDED:
                self.counts["hello_not_padded"] += 1   # as QUIC drops short Initials: no answer at all
                return
            if self._send_to(Retry(token=self.tokens.token_for(peer)), peer, budget):
                self.counts["retry_sent"] += 1
            return
        budget.validate()   # the address read our token: it asked for what follows
        if session is not None:
            session.heard = time.monotonic()  # the client is still there (a keepalive while it waits to be READY)
            session.offer()  # its FILE was lost: send it again
            return
        if test is None or not test.accepting:
            self._ignore(peer, N_("HELLO id={} while no test waits for clients").format(hello.id))
            return
        if hello.mode != test.mode:
            self._send_to(ErrorMessage(reason=N_("the server runs {} mode: {} the client's --reliable").format(
                test.mode, "add" if test.mode == "reliable" else "remove")), peer, budget)
            self._event(test, "protocol_error", peer, N_("HELLO mode={} on a {} server").format(
                printable(hello.mode, 20), test.mode))
            return
        if not test.gate.join():
            self._event(test, "busy", peer, N_("HELLO id={} total={}: test full or running").format(
                hello.id, hello.total))
            self._send_to(Busy(reason=N_("this test already has its {} client(s)").format(test.clients)), peer, budget)
            return
        try:
            session = ServerSession(test, hello, peer)
        except OSError as exc:
            test.gate.leave(False)
            test.log.add_event("error", address_text(peer), N_("cannot open a session socket: {}").format(exc))
            self._send_to(ErrorMessage(reason=N_("server cannot open a session socket")), peer, budget)
            return
        session.token = hello.token   # its later HELLOs (keepalives) carry it, however old it gets
        with test.lock:
            test.sessions[peer] = session
        session.start()

    def close(self):
        """Stop the listener and close the well-known port."""
        self._closed.set()
        test = self._test
        if test is not None:
            test.abort()
        try:
            self.sock.close()
        except OSError:
            pass
        self._listener.join(1.0)


class _Left(Exception):
    """A client's place was given back before the data started."""


class ServerSession:
    """One client of a test: its socket (its own port), thread and record."""

    def __init__(self, test, hello, peer):
        self.test = test
        self.cfg = test.config
        self.peer = peer
        self.peer_text = address_text(peer)
        self.transfer = secrets.randbits(32)   # unpredictable (Python's random is not)
        self.sock = bind_session_socket(self.cfg.bind, getattr(self.cfg, "session_ports", None))
        self.rcvbuf, self.sndbuf = raise_buffers(self.sock)
        self.sock.connect(peer)  # the kernel keeps other senders out; getsockname() gives our real address
        self.sock.settimeout(1.0)  # waits go through select(); this only bounds a blocked send
        self.chunk = session_chunk(self.cfg, self.sock)
        self.chunks = chunk_count(test.entry.size, self.chunk)
        rec = ConnectionRecord(hello.id)
        rec.set_addresses(self.sock.getsockname(), peer, "server")
        rec.sha256_expected = test.entry.sha256
        rec.extra.update({
            "clients_announced": hello.total, "transfer_id": self.transfer,
            "chunk_size": self.chunk + HEADER_SIZE, "datagrams_expected": self.chunks, "datagrams_sent": 0,
            "resent_datagrams": 0, "control_sent": 0, "control_received": 0, "ignored_datagrams": 0,
            "so_rcvbuf": self.rcvbuf, "so_sndbuf": self.sndbuf, "rate_bytes_per_s_set": test.rate,
            "client_report": None})
        self.record = rec
        self.row = _row(rec)
        self.logged = False
        self.heard = time.monotonic()  # the last HELLO from this client (the listener updates it)
        self.thread = threading.Thread(target=self.run, name="udp-session-{}".format(peer[1]), daemon=True)
        self._recv = bytearray(2048)

    def start(self):
        """Send FILE and start the thread."""
        self.offer()
        self.test.board.update(self.row, "connected", self.peer_text)
        self.thread.start()

    def offer(self):
        """(Re)send FILE from the session socket: the client learns our port from it."""
        entry = self.test.entry
        self._send(UdpFileOffer(name=entry.name, size=entry.size, sha256=entry.sha256, clients=self.test.clients,
                                chunk=self.chunk, transfer=self.transfer, mode=self.test.mode))

    def _send(self, message):
        try:
            self.sock.send(message.encode())
            self.record.extra["control_sent"] += 1
        except OSError:
            pass

    def _receive(self, timeout):
        """The next control message from the client, or None after *timeout* s."""
        try:
            readable, _, _ = select.select([self.sock], [], [], timeout)
            if not readable:
                return None
            count = self.sock.recv_into(self._recv)
        except (socket.timeout, BlockingIOError, ValueError):
            return None
        except OSError:   # e.g. ICMP port unreachable: the client's socket is gone
            time.sleep(min(timeout, 0.05))
            return None
        data = self._recv[:count]
        if count >= len(self._recv) or is_data(data):
            self.record.extra["ignored_datagrams"] += 1
            return None
        try:
            message = decode_control(data)
        except ProtocolError as exc:
            self.record.extra["ignored_datagrams"] += 1
            if self.record.extra["ignored_datagrams"] <= EVENTS_LOGGED:
                self.test.log.add_event("protocol_error", self.peer_text, N_("ignored: {}").format(exc))
            return None
        if getattr(message, "transfer", self.transfer) != self.transfer:
            self.record.extra["ignored_datagrams"] += 1
            return None
        self.record.extra["control_received"] += 1
        return message

    # -- the thread ------------------------------------------------------------------------
    def run(self):
        """Handshake, transfer, verdict; never raises."""
        test, rec = self.test, self.record
        try:
            if not self._handshake():
                return
            self._send(Start(transfer=self.transfer))
            if test.mode == "reliable":
                self._send_reliable()
            else:
                self._send_raw()
        except Exception as exc:  # a bug in one session must not stop the others
            log.exception("session %s", self.peer_text)
            rec.fail(N_("internal error: {!r}").format(exc))
        if test.stopping and not rec.ok:
            rec.reason = N_("server interrupted ({})").format(rec.reason or "stopped")
        if rec.started and rec.time_ms is None:
            rec.stop_clock()
        test.finish_connection(rec)
        self.logged = True
        if rec.extra["client_report"] is not None:
            self._linger()
        self._close()

    def _close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def _handshake(self):
        """FILE was sent; wait for READY, then for the others.  False if the client left."""
        test = self.test
        ready = False
        last_heard = began = time.monotonic()
        try:
            while not test.gate.started.is_set():
                if test.stopping or test.gate.cancelled.is_set():
                    raise _Left(N_("test cancelled"))
                if ready:
                    # wait on the gate itself, so every session starts the moment the last client is READY
                    # (not up to a poll interval later); then look at the socket without waiting
                    if test.gate.started.wait(HANDSHAKE_POLL):
                        break
                    message = self._receive(0)
                else:
                    message = self._receive(HANDSHAKE_POLL)
                now = time.monotonic()
                if message is None:
                    if ready:
                        if now - last_heard > READY_SILENCE:
                            raise _Left(N_("client silent for {:g} s after READY").format(READY_SILENCE))
                    elif now - max(last_heard, self.heard) > self.cfg.hello_timeout:
                        # a client that waits (for its user, for its other clients) repeats HELLO meanwhile
                        raise _Left(N_("nothing from the client (READY or HELLO) for {:g} s after FILE (--hello-timeout)")
                                    .format(self.cfg.hello_timeout))
                    elif now - began > self.cfg.handshake_timeout:
                        raise _Left(N_("no READY within {:g} s (--handshake-timeout)").format(self.cfg.handshake_timeout))
                    continue
                last_heard = now
                if isinstance(message, UdpReady):
                    if not ready:
                        ready = True
                        test.gate.ready()
                        test.board.update(self.row, "ready", _("{}/{} ready").format(test.gate.ready_count,
                                                                                   test.clients))
                    if test.gate.started.is_set():
                        break
                    self._send(Wait(transfer=self.transfer, ready=test.gate.ready_count, clients=test.clients))
                elif isinstance(message, ErrorMessage):
                    raise _Left(N_("client gave up: {}").format(printable(message.reason, 80)))
                elif isinstance(message, UdpHello) and not ready:
                    self.offer()   # --single-port: the client's HELLOs reach the session; its FILE was lost
        except _Left as exc:
            test.gate.leave(ready)
            test.board.update(self.row, "left", printable(localize(str(exc)), 60))
            test.log.add_event("left_before_start", self.peer_text, N_("client {}: {}").format(self.record.client_id, exc))
            with test.lock:
                test.sessions.pop(self.peer, None)
            self._close()
            return False
        return True

    # -- sending -------------------------------------------------------------------------------
    def _sender(self):
        """A function send(seq, flags) that sends chunk *seq* with its header.

        Where the socket has ``sendmsg`` (Unix), the header and the file's
        pages (mapped) go out in one gathered system call, with no copy in
        Python; elsewhere the chunk is copied after the header in a buffer."""
        test = self.test
        chunk, size, source, transfer = self.chunk, test.entry.size, test.source, self.transfer
        buffer = bytearray(HEADER_SIZE + chunk)
        view = memoryview(buffer)
        header = view[:HEADER_SIZE]
        pack_into = HEADER.pack_into
        sendmsg = getattr(self.sock, "sendmsg", None)
        send = self.sock.send
        gather = sendmsg is not None and not FORCE_COPY

        def send_chunk(seq, flags=0):
            offset = seq * chunk
            length = size - offset if size - offset < chunk else chunk
            pack_into(buffer, 0, DATA_TYPE, VERSION, flags, transfer, seq)
            try:
                if gather:
                    sendmsg((header, source[offset:offset + length]))
                else:
                    view[HEADER_SIZE:HEADER_SIZE + length] = source[offset:offset + length]
                    send(view[:HEADER_SIZE + length])
            except OSError:
                # the client's port is closed (ICMP), the send stalled, the network is unreachable
                # (link down) or out of buffers: that datagram is lost, as on the wire
                pass
            return length + HEADER_SIZE
        return send_chunk

    def _progress(self, sent_bytes, force=False):
        now = time.monotonic()
        if force or now - self._last_status >= STATUS_EVERY:
            self._last_status = now
            self.test.board.update(self.row, "sending",
                                   progress_detail(sent_bytes, self.test.entry.size, self.record.elapsed()))

    def _send_raw(self):
        """Every chunk once, paced; then END until REPORT."""
        test, rec = self.test, self.record
        send_chunk = self._sender()
        bucket = TokenBucket(test.rate, self.chunk + HEADER_SIZE)
        self._last_status = 0.0
        rec.start_clock()
        last_sent = time.perf_counter()
        sent_bytes = 0
        for seq in range(self.chunks):
            if test.stopping:
                rec.fail(N_("interrupted after {:,} bytes").format(sent_bytes))
                rec.stop_clock(last_sent)
                return
            bucket.take(self.chunk + HEADER_SIZE)
            sent_bytes += send_chunk(seq) - HEADER_SIZE
            last_sent = time.perf_counter()
            if seq % 64 == 63:
                rec.bytes = sent_bytes
                self._progress(sent_bytes)
                if self._poll_during_send() is not None:
                    return
        rec.bytes = sent_bytes
        rec.extra["datagrams_sent"] = self.chunks
        rec.stop_clock(last_sent)  # UDP server time: first datagram sent -> last sent
        self._end_and_wait(lambda message: None)

    def _poll_during_send(self):
        """Look at the session socket without waiting: an ERROR from the client stops the sending."""
        while True:
            message = self._receive(0)
            if message is None:
                return None
            if isinstance(message, ErrorMessage):
                self.record.fail(N_("client gave up: {}").format(printable(message.reason, 80)))
                return message
            if isinstance(message, Report):
                self._take_report(message)
                return message

    def _end_and_wait(self, on_message):
        """Repeat END (50 ms doubling to 1 s) until a REPORT, or *on_message* returns
        True (reliable: a NACK to serve), or --timeout of silence."""
        test, rec = self.test, self.record
        end = End(transfer=self.transfer, chunks=self.chunks, bytes=test.entry.size)
        interval = END_FIRST_INTERVAL
        heard = time.monotonic()
        self.test.board.update(self.row, "waiting", _("all sent, waiting for the client's REPORT"))
        while not test.stopping:
            self._send(end)
            rec.extra["end_sent"] = rec.extra.get("end_sent", 0) + 1
            wait_until = time.monotonic() + interval
            while True:
                left = wait_until - time.monotonic()
                if left <= 0:
                    break
                message = self._receive(left)
                if message is None:
                    continue
                heard = time.monotonic()
                if isinstance(message, Report):
                    self._take_report(message)
                    return True
                if isinstance(message, ErrorMessage):
                    rec.fail(N_("client gave up: {}").format(printable(message.reason, 80)))
                    return True
                if on_message(message):
                    return False
            silence = self.cfg.idle_timeout or self.cfg.timeout
            if time.monotonic() - heard > silence:
                rec.fail(N_("no REPORT from the client within {:g} s after the data").format(silence))
                return True
            interval = min(END_MAX_INTERVAL, interval * 2)
        rec.fail(N_("interrupted while waiting for the client's REPORT"))
        return True

    def _take_report(self, report):
        test, rec = self.test, self.record
        rec.extra["client_report"] = {
            "bytes": report.bytes, "datagrams": report.datagrams, "missing": report.missing,
            "duplicates": report.duplicates, "out_of_order": report.out_of_order, "sha256": report.sha256,
            "ok": report.ok}
        rec.sha256_received = report.sha256
        rec.ok = bool(report.ok and report.missing == 0 and report.sha256 == test.entry.sha256
                      and report.bytes == test.entry.size)
        if not rec.ok:
            rec.fail(N_("client reports {}: {:,} of {:,} bytes, {} chunk(s) missing, hash {}").format(
                N_("verified") if report.ok else N_("FAILED"), report.bytes, test.entry.size, report.missing,
                N_("matches") if report.sha256 == test.entry.sha256 else N_("differs")))
        expected = self.chunks
        rec.extra.update({"datagrams_received": report.datagrams, "duplicates": report.duplicates,
                          "out_of_order": report.out_of_order, "missing": report.missing})
        rec.extra["loss_pct"] = round(100.0 * report.missing / expected, 4) if expected else 0.0
        self._send(UdpBye(transfer=self.transfer, ok=rec.ok))

    def _linger(self):
        """Answer repeated REPORTs (our BYE was lost) for a short while."""
        end = time.monotonic() + LINGER
        while time.monotonic() < end and not self.test.stopping:
            message = self._receive(0.1)
            if isinstance(message, Report):
                self._send(UdpBye(transfer=self.transfer, ok=self.record.ok))

    def _send_reliable(self):
        """New chunks and NACKed chunks, paced by an AIMD rate; END when nothing is
        left to send; done when the client's REPORT arrives."""
        test, rec = self.test, self.record
        extra = rec.extra
        send_chunk = self._sender()
        datagram = self.chunk + HEADER_SIZE
        adaptive = AdaptiveRate(test.rate)
        bucket = TokenBucket(adaptive.rate, datagram)
        pending = collections.deque()
        queued = bytearray(self.chunks)
        now = time.monotonic()
        # received: the client's count in its latest NACK; progress_*: datagrams sent and time when that
        # count last grew; heard: the last message from the client; silence_cut: the last back-off for silence
        state = {"next": 0, "received": 0, "progress_sent": 0, "progress_at": now, "heard": now,
                 "silence_cut": now}
        self._last_status = 0.0
        delivery_start = time.perf_counter()
        last_sent = None
        sent_bytes = 0
        resent = 0
        datagrams = 0
        last_poll = time.monotonic()
        done = False

        def handle(message):
            """A control message during the transfer; True when there is something to send."""
            if isinstance(message, Nack):
                now = time.monotonic()
                state["heard"] = now
                if message.received > state["received"]:
                    delta = message.received - state["received"]
                    state["received"] = message.received
                    state["progress_sent"], state["progress_at"] = datagrams, now
                    bucket.set_rate(adaptive.feedback(delta, message.lost, now))
                elif message.received == state["received"]:
                    # nothing new arrived: if we kept sending meanwhile, every datagram was lost (a slow link
                    # losing a fragment of each, a swamped receiver): no gap can show that, so say it here
                    blackout = datagrams - state["progress_sent"] >= BLACKOUT_DATAGRAMS and \
                        now - state["progress_at"] >= BLACKOUT_SECONDS
                    bucket.set_rate(adaptive.feedback(0, message.lost, now, blackout=blackout))
                limit = state["next"]
                for low, high in message.ranges:
                    for seq in range(low, min(high, limit - 1) + 1):
                        if not queued[seq]:
                            queued[seq] = 1
                            pending.append(seq)
                return bool(pending)
            state["heard"] = time.monotonic()
            return False

        while not done:
            if test.stopping:
                rec.fail(N_("interrupted after {:,} bytes").format(sent_bytes))
                break
            if pending:
                seq = pending.popleft()
                queued[seq] = 0
                flags = FLAG_RESENT
                resent += 1
            elif state["next"] < self.chunks:
                seq = state["next"]
                state["next"] = seq + 1
                flags = 0
            else:
                extra["datagrams_sent"] = datagrams
                extra["resent_datagrams"] = resent
                done = self._end_and_wait(handle)
                continue
            bucket.take(datagram)
            if last_sent is None:
                rec.start_clock()
            length = send_chunk(seq, flags) - HEADER_SIZE
            last_sent = time.perf_counter()
            datagrams += 1
            if not flags:
                sent_bytes += length
            now = time.monotonic()
            if datagrams % POLL_EVERY == 0 or now - last_poll >= POLL_INTERVAL:
                last_poll = now
                if now - state["heard"] >= SILENCE_BACKOFF and now - state["silence_cut"] >= SILENCE_BACKOFF:
                    # sending into silence (link down, receiver swamped): back off until the client is heard
                    state["silence_cut"] = now
                    bucket.set_rate(adaptive.silence(now))
                rec.bytes = sent_bytes
                self._progress(sent_bytes)
                while True:
                    message = self._receive(0)
                    if message is None:
                        break
                    if isinstance(message, (Report, ErrorMessage)):
                        if isinstance(message, Report):
                            self._take_report(message)
                        else:
                            rec.fail(N_("client gave up: {}").format(printable(message.reason, 80)))
                        done = True
                        break
                    handle(message)
        rec.bytes = sent_bytes
        extra["datagrams_sent"] = datagrams
        extra["resent_datagrams"] = resent
        extra["resent_pct"] = round(100.0 * resent / self.chunks, 3) if self.chunks else 0.0
        extra.update(adaptive.summary())
        extra["rate_blackouts"], extra["rate_silences"] = adaptive.blackouts, adaptive.silences
        if last_sent is not None:
            rec.stop_clock(last_sent)  # first datagram sent -> last datagram sent
        if rec.extra["client_report"] is not None:
            extra["delivery_ms"] = round((time.perf_counter() - delivery_start) * 1000.0, 3)


def build_parser():
    """The server's command line: the common flags plus the UDP ones."""
    parser = server_parser(
        "udp/server.py", N_("UDP file-transfer server: sends a file from files/ to N clients at once in numbered "
                            "datagrams (each client gets its own server port) and collects each client's verdict."),
        DEFAULT_PORT)
    add_udp_flags(parser, "server")
    parser.add_argument("--single-port", action="store_true",
                        help="keep every client's traffic on the well-known port (the sessions share it, Linux "
                             "SO_REUSEPORT): for client firewalls (Windows) that drop answers from another port")
    hello = parser._option_string_actions.get("--hello-timeout")  # shared flag: say what it means for UDP
    if hello is not None:
        hello.help = N_("seconds a client's session waits after FILE for the client's next datagram (READY, or "
                        "the HELLO a waiting client repeats every {:g} s) before it frees the place (default "
                        "%(default)s)").format(HELLO_KEEPALIVE)
    return parser


def rate_value(text, low=0, high=None, what="--rate"):
    """argparse type: bytes (/s) with K/M/G suffixes (powers of 1000) within [low, high]."""
    try:
        value = parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc))
    if value < low or (high is not None and value > high):
        raise argparse.ArgumentTypeError(_("{} must be {} to {} bytes (header included), got {}").format(
            what, low, high, text))
    return value


def chunk_value(text):
    """argparse type: a datagram payload size within [MIN_DATAGRAM, 65507]."""
    return rate_value(text, MIN_DATAGRAM, MAX_DATAGRAM, "--chunk-size")


def add_udp_flags(parser, role):
    """--reliable, --rate, --chunk-size (server), --idle-timeout (both)."""
    if role == "server":
        parser.add_argument("--session-ports", type=session_ports, metavar="LOW-HIGH",
                            help="ports the per-client session sockets may use, e.g. 5003-5102 (one per client "
                                 "of a test), so a firewall can open just those; default: any free port")
    parser.add_argument("--reliable", action="store_true",
                        help="reliable mode (both sides): the client NACKs missing chunks, the server resends "
                             "them and adapts its rate to the loss; default is raw mode (each chunk sent once)")
    if role == "server":
        parser.add_argument("--rate", type=rate_value, metavar="R",
                            help="sending rate per client in bytes/s, K/M/G suffixes (powers of 1000); 0 = "
                                 "unpaced. Default: {:,} bytes/s shared by the clients of the test. In reliable "
                                 "mode this is the starting rate, which then adapts".format(DEFAULT_TOTAL_RATE))
        parser.add_argument("--chunk-size", type=chunk_value, default=None, metavar="N",
                            help="datagram payload in bytes, the {}-byte header included ({} to {}; default {}, "
                                 "or what fits one IP packet when the path to a client has a smaller MTU, "
                                 "e.g. 1472 on Ethernet)".format(HEADER_SIZE, MIN_DATAGRAM, MAX_DATAGRAM,
                                                                 DEFAULT_CHUNK_SIZE))
    if role == "server":
        parser.add_argument("--idle-timeout", type=seconds, metavar="S",
                            help="seconds of silence from a client after the data (no NACK, no REPORT) before "
                                 "its session is given up (default: --timeout)")
    else:
        parser.add_argument("--idle-timeout", type=seconds, default=DEFAULT_IDLE_TIMEOUT, metavar="S",
                            help="seconds without a datagram from the server that end a transfer: raw mode "
                                 "counts what is missing, reliable mode gives up (default %(default)s)")


def main(argv=None, input_fn=None):
    """Command-line entry point; returns the exit status."""
    args = build_parser().parse_args(argv)
    config = server_config_from_args(args)
    config.single_port = args.single_port
    config.reliable = args.reliable
    config.rate = args.rate
    config.chunk_size = args.chunk_size
    config.idle_timeout = args.idle_timeout
    config.session_ports = args.session_ports
    return run_main(lambda: run_server_program(config, UDPFileServer, "UDP", extra_columns=SERVER_COLUMNS,
                                               input_fn=input_fn), "udp/server.py")


def _report_column(key):
    def value(rec):
        report = rec.extra.get("client_report") or {}
        return "-" if key not in report else str(report[key])
    return value


SERVER_COLUMNS = (
    (N_("sent"), lambda rec: str(rec.extra.get("datagrams_sent", "-"))),
    (N_("resent"), lambda rec: str(rec.extra.get("resent_datagrams", "-"))),
    (N_("missing"), _report_column("missing")),
    (N_("port"), lambda rec: str(rec.server_port)),
)


if __name__ == "__main__":
    sys.exit(main())
