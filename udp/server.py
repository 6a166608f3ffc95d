"""UDP file-transfer server: a well-known port for HELLO and PING, and for
each client of a test its own socket (its own port) and thread that send the
file in numbered datagrams, paced, when every client of the test is READY.
Raw mode sends each chunk once; ``--reliable`` resends what the client NACKs.
Both pace at the delivery rate the client's feedback reports
(``udp.ratecontrol``), unless raw mode is given a fixed ``--rate``.

A session's data phase is one loop: the pacer (``udp.pacing.Pacer``) says
when and how much, recovery (``udp.recovery.Recovery``) which chunks, the
sender (``ChunkSender`` over ``udp.transport``) puts them on the wire; the
client's feedback goes the other way: recovery learns what is missing, the
rate controller sets the rate, the pacer follows.  Then END and REPORT.

Run ``python3 udp/server.py --help``.  The protocol is in PROTOCOL.md ("UDP").
"""

if __package__ in (None, ""):
    import os
    import sys
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import bisect
import collections
import hmac
import logging
import mmap
import os
import secrets
import select
import socket
import struct
import sys
import threading
import time

from transfer.cli import run_main
from transfer.config import server_config_from_args, server_parser
from transfer.errors import ProtocolError, UserError
from transfer.gate import TestGate
from transfer.i18n import N_, _, localize
from transfer.messages import Busy, ErrorMessage, printable
from transfer.records import ConnectionRecord
from transfer.server_app import TestOutcome, run_server_program, wait_for_test
from transfer.sidelog import SideLines
from transfer.status import progress_detail
from transfer.testlog import TestLog
from transfer.text import host_port
from udp.packets import (DATA_TYPE, FLAG_RESENT, HEADER, HEADER_SIZE, MAX_DATAGRAM, MIN_DATAGRAM, VERSION, End, Nack,  # noqa: F401
                         Ping, Pong, Report, Retry, Start, UdpBye, UdpFileOffer, UdpHello, UdpReady, Wait,
                         SEQ_ARRAYS, SEQ_TYPECODE, address_text, chunk_count, decode_control, ignore_connreset, is_data,
                         raise_buffers, seq_array, seq_bytes)
from udp.options import (DATAGRAMS_PER_SECOND, DEFAULT_CHUNK_SIZE, DEFAULT_IDLE_TIMEOUT, DEFAULT_PORT,  # noqa: F401
                         DEFAULT_TOTAL_RATE, HELLO_KEEPALIVE, RATE_CONTROLS, add_udp_flags, chunk_value, rate_value,
                         session_ports)
from udp.pacing import MIN_BURST, Pacer
from udp.ratecontrol import FeedbackSample, make_controller
from udp.recovery import Recovery
from udp.transport import DatagramSender
from udp.validation import BudgetTable, PerSourceRate, TokenIssuer

log = logging.getLogger(__name__)

END_FIRST_INTERVAL = 0.05           # END is repeated, doubling from 50 ms ...
END_MAX_INTERVAL = 1.0              # ... up to 1 s, until the client answers
READY_SILENCE = 15.0                # a READY client that stops repeating READY this long has left
HANDSHAKE_POLL = 0.1                # before the start: a session looks at its socket (or the gate) this often
LINGER = 1.5                        # after BYE the session answers repeated REPORTs this long
POLL_EVERY = 16                     # datagrams between two looks at the session socket (at least) ...
POLL_BYTES = 128 * 1024             # ... and bytes (1,472-byte datagrams: every other GSO batch) ...
POLL_INTERVAL = 0.02                # ... or this many seconds, whichever comes first (slow rates)
SILENCE_BACKOFF = 0.3               # nothing heard from the client this long while sending: halve the rate
ACK_SILENCE_LIMIT = 3.0             # nothing heard this long while sending: the session stops sending (issue 8)
UNACKED_LIMIT = 32 * 1024 * 1024    # new data sent beyond the highest seq the client reported, at most (bytes)
WAKE_EVERY = 0.0005                 # the pacer's waits gather at least this much sending (fewer wake-ups) ...
BIG_DATAGRAM = 16 * 1024            # ... and for datagrams this big, as many as the pacer's bucket holds (at least
#                                     udp.pacing.MIN_BURST): with 10 clients on loopback 0.5 ms woke once per
#                                     64,000-byte datagram, each wake-up a select(), the GIL handed between threads
#                                     and a pass of the loop (server CPU 1.22 -> 0.96 s/GB with 4). Not for small
#                                     datagrams: gathering 4 ms there made 10 raw clients at 1 Gbit/s bursty (118 ->
#                                     77-110 MB/s), and their GSO batches already carry up to 44 per call
BIG_BURST_MAX = 16                  # ... up to this many (one send batch) where the client's READY says its receive
BIG_BURST_SHARE = 4                 # buffer holds this many bursts, and the rate sends them within 20 ms
#                                     (udp.pacing.BIG_BURST_SECONDS): the bucket holds as many, and a wait gathers
#                                     them (10 clients x 250 MiB on loopback, 8 MiB buffers: 4 per wake -> 16 per
#                                     wake, server context switches 42-55k -> 14-16k, aggregate 598-655 -> 651-678
#                                     MB/s in 3 interleaved rounds; a stock 212,992-byte buffer keeps 4, as does
#                                     a slow rate: --rate 1M sends 4 at a time, not a second's worth)
SMALL_BURST = 16                    # small datagrams: a wait gathers this many where the rate sends them within 20 ms
#                                     (one GSO send, 23.5 KB of 1,472-byte datagrams): a session's pass of the loop
#                                     costs about 120 us of server CPU, so 10 raw sessions at 100 Mbit/s, which woke
#                                     for each datagram (1.2 MB/s each), took 41-64 s of server CPU for 100 MiB (now 14-17)
BLOCKED_WAIT = 0.005                # ... when that is reached, wait this long for feedback before looking again
WINDOW_PROBE = 0.25                 # ... and after this long with the window full, send one datagram beyond it
PACING_HEADROOM = 1.5               # reliable sessions with a send window pace at this multiple of the controller's
#                                     rate: the window bounds what is in flight, the pacing only spreads it, so a
#                                     session whose share grows (others finished, a busy receiver freed) sends more
#                                     at once instead of a probe round later; loss there costs a resend, not data
#                                     (10 clients x 100 MiB on loopback, 4 rounds: 550-641 -> 611-664 MB/s; 10 at
#                                     1 Gbit/s 117-119 -> 120-121; docs/UDP-LINKS.md). Raw mode, which cannot resend,
#                                     paces at the rate
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


def pacing_headroom(resend, control):
    """How far above the controller's rate a session paces: PACING_HEADROOM for a reliable session whose
    controller keeps a send window (that window then bounds what is in flight), else 1 (raw mode, which
    cannot resend what an overshoot loses; ``--rate-control aimd``, which has no window)."""
    return PACING_HEADROOM if resend and getattr(control, "window", None) is not None else 1.0


def pacing_burst(datagram, client_rcvbuf):
    """The most datagrams a session's pacer lets go at once, from what the client can hold (the pacer
    lowers it to what the rate sends within BIG_BURST_SECONDS, never below MIN_BURST; a wait gathers as
    many): SMALL_BURST for datagrams below BIG_DATAGRAM; for big ones MIN_BURST, or more, up to
    BIG_BURST_MAX, where the client's receive buffer (*client_rcvbuf* bytes, from its READY; None: not
    said) holds BIG_BURST_SHARE such bursts."""
    if datagram < BIG_DATAGRAM:
        return SMALL_BURST
    room = (client_rcvbuf or 0) // BIG_BURST_SHARE // max(1, datagram)
    return max(MIN_BURST, min(BIG_BURST_MAX, room))


def session_rate(config, clients, datagram):
    """A session's starting rate (bytes/s): --rate, or what a receiver absorbs at
    *datagram* bytes per datagram (DATAGRAMS_PER_SECOND), within the total budget,
    shared by the clients of the test."""
    if config.rate is not None:
        return config.rate
    return min(DEFAULT_TOTAL_RATE, datagram * DATAGRAMS_PER_SECOND) // max(1, clients)


def data_size(config):
    """File bytes per datagram (the chunk): --chunk-size minus the header."""
    return (config.chunk_size or DEFAULT_CHUNK_SIZE) - HEADER_SIZE


INFINITY = float("inf")
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
        raise UserError(_("cannot bind UDP {}: {}").format(host_port(bind, port), exc.strerror or exc))
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
        self.fd = None          # the file's descriptor (the senders' packed path reads with os.preadv)
        self.source = memoryview(b"")
        if entry.size:
            self._handle = entry.open()
            self.fd = self._handle.fileno()
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
            rec.extra["datagrams_sent"], rec.extra["resent_datagrams"]) if rec.ok
            else printable(localize(rec.reason), 80))
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
        self.side = SideLines(config.logs_dir, "udp", config.quiet)  # pings and strays: never over the menu
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
        self._print_side_summary()
        test_log.begin(test.mode, entry.name, entry.size, sha256, clients, {
            "chunk_size": test.chunk + HEADER_SIZE, "chunk_data": test.chunk, "chunks": test.chunks,
            "rate": test.rate, "rate_given": cfg.rate is not None,
            "adaptive_rate": test.mode == "reliable" or cfg.rate is None,
            "rate_control": "fixed" if cfg.rate is not None and test.mode == "raw" else
            ("delivery" if test.mode == "raw" else getattr(cfg, "rate_control", None) or RATE_CONTROLS[0]),
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
        else:
            self.side.add("ignored", address_text(peer), detail)

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
        if not self._ping_lines.allow("lines"):
            self._pings_not_shown += 1   # counted in self.pings; a flood draws no line per PING
            return
        more, self._pings_not_shown = self._pings_not_shown, 0
        self.side.add("ping", address_text(peer), N_("PING seq={}{}").format(
            ping.seq, N_(" ({} more not shown)").format(more) if more else ""),
            test.log if test is not None else None, test.board if test is not None else None)

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
        self._print_side_summary()
        self.side.close()

    def _print_side_summary(self):
        line = self.side.summary()
        if line and not self.config.quiet:
            self.out.write(line + "\n")
            self.out.flush()


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
        self.client_rcvbuf = None   # the receive buffer the client's READY says it has (bytes), if it says

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
                        raise _Left(N_("nothing from the client (READY or HELLO) for {:g} s after FILE "
                                       "(--hello-timeout)").format(self.cfg.hello_timeout))
                    elif now - began > self.cfg.handshake_timeout:
                        raise _Left(N_("no READY within {:g} s (--handshake-timeout)").format(
                            self.cfg.handshake_timeout))
                    continue
                last_heard = now
                if isinstance(message, UdpReady):
                    self.client_rcvbuf = message.rcvbuf
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
            test.log.add_event("left_before_start", self.peer_text,
                               N_("client {}: {}").format(self.record.client_id, exc))
            with test.lock:
                test.sessions.pop(self.peer, None)
            self._close()
            return False
        return True

    # -- sending: the send loop (pacer -> recovery -> sender), feedback (recovery -> rate control
    # -- -> pacer), then END and REPORT ---------------------------------------------------------
    def _sender(self):
        """The datagram sender of this session (``ChunkSender``): sends chunks by seq with their headers."""
        test = self.test
        return ChunkSender(self.sock, test.source, test.entry.size, self.chunk, self.transfer,
                           gather=not FORCE_COPY, gso=not getattr(self.cfg, "no_gso", False), fd=test.fd)

    def _progress(self, sent_bytes, force=False):
        now = time.monotonic()
        if force or now - self._last_status >= STATUS_EVERY:
            self._last_status = now
            self.test.board.update(self.row, "sending",
                                   progress_detail(sent_bytes, self.test.entry.size, self.record.elapsed()))

    def _send_raw(self):
        """Every chunk once, paced (raw mode never resends); then END until REPORT."""
        self._send_data(resend=False)

    def _send_reliable(self):
        """New chunks and NACKed chunks, paced by the rate controller; END when
        nothing is left to send; done when the client's REPORT arrives."""
        self._send_data(resend=True)

    def _rate_control(self, resend):
        """The controller for this session: raw + --rate: fixed; otherwise by --rate-control (raw: delivery)."""
        cfg, datagram = self.cfg, self.chunk + HEADER_SIZE
        start = session_rate(cfg, self.test.clients, datagram)
        if cfg.rate is not None and not resend:
            return make_controller("fixed", start, datagram)
        name = getattr(cfg, "rate_control", None) or RATE_CONTROLS[0] if resend else "delivery"
        # both modes keep the send window and probe gently: a reliable session's overshoot is not lost for
        # good, but each drop costs a NACK, a resend and (past a gap) a read-back of the file, so reliable
        # mode gains from the window as raw does (docs/UDP-LINKS.md: loopback 0.53-0.71x -> 0.80-0.85x
        # SHA-256 for one client; unshaped veth 0.35x -> 0.37-0.44x TCP)
        return make_controller(name, start, datagram, windowed=True, share=self.test.clients)

    def _send_data(self, resend):
        """The session's data phase, both modes: send while the pacer allows,
        serve feedback while it waits, END when everything was sent once and
        nothing waits to be resent, until the client's REPORT (or silence)."""
        test, rec = self.test, self.record
        self.sender = self._sender()
        self.control = self._rate_control(resend)
        self.recovery = Recovery(self.chunks, resend=resend)
        datagram = self.chunk + HEADER_SIZE
        now = time.perf_counter()
        self.headroom = pacing_headroom(resend, self.control)
        burst = pacing_burst(datagram, self.client_rcvbuf)
        self.pacer = Pacer(self.control.pacing_rate, datagram, now, headroom=self.headroom, big_burst=burst)
        self.heard = self.silence_cut = now      # the last message from the client / the last back-off for silence
        self.sample = None                       # the client's latest feedback (FeedbackSample)
        self.finished = False                    # REPORT or ERROR taken, or the session gave up
        self.bytes_new = 0                       # file bytes sent (each chunk counted once)
        self.bytes_total = 0                     # payload bytes on the wire, resends included
        self.datagrams = 0
        self.first_sent = self.last_sent = None
        self.batch_seqs, self.batch_times = [], []   # the first seq and send time of each batch of new chunks
        self.owd_min = None                      # the quickest delivery seen (client clock - our clock), s
        self.delivery_start = time.perf_counter()
        self._last_status = 0.0
        window = max(1, UNACKED_LIMIT // self.chunk)
        last_poll, polled_at, last_progress = 0.0, 0, 0.0
        poll_every = max(POLL_EVERY, POLL_BYTES // datagram)
        big = datagram >= BIG_DATAGRAM
        blocked_since = None                     # when the send window became full (None: it is not)
        probe = None                             # 1: the next send is one datagram past the full window
        rec.extra.update({"rate_control": self.control.NAME, "io_path": "send=" + self.sender.path,
                          "pacing_headroom": self.headroom, "pacing_burst": burst,
                          "client_rcvbuf": self.client_rcvbuf})
        pacer, recovery, control, sender = self.pacer, self.recovery, self.control, self.sender
        perf_counter = time.perf_counter
        wake_for = None                          # (pacing rate, sender batch) that wake_count was made for
        window_for = None                        # the controller's window that *window* was made from
        try:
            while not self.finished:
                if test.stopping:
                    rec.fail(N_("interrupted after {:,} bytes").format(self.bytes_new))
                    break
                now = perf_counter()
                if not recovery.has_work():
                    if self._end_and_wait():
                        break
                    continue
                quiet = now - self.heard
                if quiet >= ACK_SILENCE_LIMIT:
                    rec.fail(N_("the client stopped acknowledging: nothing heard for {:g} s while sending, stopped "
                             "after {:,} bytes").format(ACK_SILENCE_LIMIT, self.bytes_new))
                    test.log.add_event("silent_client", self.peer_text, rec.reason)
                    break
                if quiet >= SILENCE_BACKOFF and now - self.silence_cut >= SILENCE_BACKOFF:
                    self.silence_cut = now   # sending into silence (link down, receiver swamped): back off
                    pacer.set_rate(control.on_silence(now))
                # a wait gathers as many as the bucket holds at the current rate (pacing_burst); made again
                # only when the rate (or the sender's batch) changes
                max_batch = sender.max_batch
                if wake_for is None or wake_for[0] != pacer.rate or wake_for[1] != max_batch:
                    wake_for = (pacer.rate, max_batch)
                    wake_count = max(min(pacer.burst_datagrams, max_batch), pacer.batch_for(WAKE_EVERY, max_batch))
                at = pacer.next_send_time(now, wake_count)
                if control.window is not None and control.window != window_for:   # the controller's send window
                    window_for = control.window
                    window = max(1, min(UNACKED_LIMIT, window_for) // self.chunk)
                sample = self.sample
                if recovery.pending:
                    room = None         # resends answer the client's own NACK
                elif sample is None:
                    room = window - recovery.next_new    # nothing acknowledged yet
                elif sample.highest is None:
                    room = None
                else:
                    room = window + 1 - (recovery.next_new - sample.highest)
                blocked = room is not None and room <= 0
                if not blocked:
                    blocked_since = None
                elif blocked_since is None:
                    blocked_since = now
                elif now - blocked_since >= WINDOW_PROBE:
                    # the window has been full this long: what is in flight was lost (a link down, a whole
                    # window dropped), and the client, which got nothing new, has no news to send; one
                    # datagram beyond the window lets it report again (as TCP's retransmission timeout does)
                    blocked, blocked_since, probe = False, now, 1
                if blocked:
                    at = max(at, now + BLOCKED_WAIT)   # too far ahead of what the client acknowledged
                elif at > now:
                    pacer.waiting_until(at)            # a wait for the pacer (a late wake-up keeps its due)
                if at > now:
                    self._wait_feedback(at - now)      # the pacer's wait serves the feedback
                    last_poll, polled_at = perf_counter(), self.datagrams
                else:
                    # small datagrams: a batch stops at the window's edge, so that the sessions of a test keep
                    # in flight no more than their windows (ten 44-datagram GSO batches beyond ten windows
                    # came to 1.2 MB, above a 100 Mbit/s shaper's 687 KB queue)
                    self._send_batch(now, probe or (room if room is not None and not big else None))
                    probe = None
                    if self.datagrams - polled_at >= poll_every or now - last_poll >= POLL_INTERVAL:
                        last_poll, polled_at = now, self.datagrams
                        self._wait_feedback(0)
                if now - last_progress >= POLL_INTERVAL:
                    last_progress = now
                    self._progress_update()
        finally:
            self._send_summary()

    def _send_batch(self, now, most=None):
        """Send what the pacer allows now, at most one batch for the sender (GSO: about 64 KiB), at most
        *most* datagrams if given (the send loop gives the room left in the window for small datagrams;
        a batch of big ones may end past it: clipping those at the window's edge cost 10% with 10 clients
        on loopback)."""
        sender, pacer = self.sender, self.pacer
        limit = sender.max_batch
        allowed = pacer.allowance(now)
        count = limit if allowed == INFINITY else int(allowed // (self.chunk + HEADER_SIZE))
        if most and most < limit:
            limit = max(1, most)
        count = 1 if count < 1 else limit if count > limit else count
        seqs, resent = self.recovery.take(count, now)
        if not seqs:
            return
        if self.first_sent is None:
            self.record.start_clock()
            self.first_sent = now
        if not resent:
            self.batch_seqs.append(seqs[0])
            self.batch_times.append(now)
        wire = sender.send(seqs, FLAG_RESENT if resent else 0)
        self.last_sent = time.perf_counter()
        count = len(seqs)
        payload = wire - HEADER_SIZE * count
        self.datagrams += count
        self.bytes_total += payload
        if not resent:
            self.bytes_new += payload
        pacer.on_sent(wire, now)
        self.control.on_sent(wire, count, now)

    def _progress_update(self):
        rec = self.record
        rec.bytes = self.bytes_new
        rec.extra["datagrams_sent"] = self.datagrams
        rec.extra["resent_datagrams"] = self.recovery.resent
        self._progress(self.bytes_new)

    def _wait_feedback(self, timeout):
        """Serve the client's messages for up to *timeout* s (0: only those waiting)."""
        end = time.perf_counter() + timeout
        while not self.finished:
            message = self._receive(max(0.0, end - time.perf_counter()))
            if message is None:
                if time.perf_counter() >= end:
                    return
                continue
            self._on_message(message)
            timeout = 0
            end = time.perf_counter()   # after one message, only take the others already waiting

    def _on_message(self, message):
        """Feedback: recovery learns what is missing, the controller sets the rate, the pacer follows."""
        now = time.perf_counter()
        self.heard = now
        rec = self.record
        if isinstance(message, Nack):
            sample = FeedbackSample.from_nack(message)
            sample.queue_delay = self._queue_delay(sample)
            if self.sample is None or sample.received >= self.sample.received:
                self.sample = sample
            if message.ranges:
                self.recovery.on_nack(message.ranges, now)
            self.pacer.set_rate(self.control.on_feedback(sample, now))
        elif isinstance(message, Report):
            self._take_report(message)
            self.finished = True
        elif isinstance(message, ErrorMessage):
            rec.fail(N_("client gave up: {}").format(printable(message.reason, 80)))
            self.finished = True

    def _queue_delay(self, sample):
        """How much later than the quickest delivery seen seq *highest* reached the client (s), or None:
        the client's clock (from its first datagram) against the time we sent that seq."""
        if sample.highest is None or sample.elapsed_us is None or not self.batch_seqs:
            return None
        if self.sample is not None and self.sample.highest is not None and sample.highest <= self.sample.highest:
            return None   # nothing new arrived: the client's clock says nothing about the path
        i = bisect.bisect_right(self.batch_seqs, sample.highest) - 1
        if i < 0:
            return None
        owd = sample.elapsed_us / 1e6 - (self.batch_times[i] - self.first_sent)
        if self.owd_min is None or owd < self.owd_min:
            self.owd_min = owd
        return owd - self.owd_min

    def _poll_during_send(self):
        """Look at the session socket without waiting; the message that ended the sending, or None."""
        self._wait_feedback(0)
        return True if self.finished else None

    def _end_and_wait(self):
        """Repeat END (50 ms doubling to 1 s) until a REPORT (True), a NACK
        that gives us something to resend (False), or --idle-timeout of silence."""
        test, rec = self.test, self.record
        self._progress_update()
        if self.last_sent is not None:
            rec.stop_clock(self.last_sent)   # UDP server time: first datagram sent -> last sent (again if resends)
        end = End(transfer=self.transfer, chunks=self.chunks, bytes=test.entry.size)
        interval = END_FIRST_INTERVAL
        heard = time.perf_counter()
        test.board.update(self.row, "waiting", _("all sent, waiting for the client's REPORT"))
        silence = self.cfg.idle_timeout or self.cfg.timeout
        while not test.stopping:
            self._send(end)
            rec.extra["end_sent"] = rec.extra.get("end_sent", 0) + 1
            self._wait_feedback(interval)
            if self.finished:
                return True
            if self.heard > heard:
                heard = self.heard
            if self.recovery.has_work():
                self.heard = time.perf_counter()   # the client just spoke: resume sending
                return False
            if time.perf_counter() - heard > silence:
                rec.fail(N_("no REPORT from the client within {:g} s after the data").format(silence))
                return True
            interval = min(END_MAX_INTERVAL, interval * 2)
        rec.fail(N_("interrupted while waiting for the client's REPORT"))
        return True

    def _send_summary(self):
        """What the sending did, for the log and the summary (also after Ctrl-C or a failure)."""
        rec, recovery = self.record, self.recovery
        self._progress_update()
        extra = rec.extra
        chunks = self.chunks
        if self.last_sent is not None and rec.time_ms is None:
            rec.stop_clock(self.last_sent)
        elapsed = (self.last_sent - self.first_sent) if self.first_sent is not None else 0.0
        rate_sent = self.bytes_total / elapsed if elapsed > 0 else None
        received_rate = self.sample.delivery_rate() if self.sample is not None else None
        report = extra.get("client_report") or {}
        if received_rate is None and report and elapsed > 0:
            received_rate = report.get("bytes", 0) / elapsed   # an older client: no times in its feedback
        extra.update({
            "datagrams_sent": self.datagrams, "resent_datagrams": recovery.resent,
            "resent_pct": round(100.0 * recovery.resent / self.datagrams, 3) if self.datagrams else 0.0,
            "bytes_sent_total": self.bytes_total, "datagrams_resent": recovery.resent,
            "loss_before_recovery_pct": (round(100.0 * recovery.first_reports / chunks, 4) if chunks else 0.0)
            if recovery.resend else None,
            "rate_sent_bytes_per_s": round(rate_sent) if rate_sent else None,
            "rate_received_bytes_per_s": round(received_rate) if received_rate else None,
            "suggested_rate_bytes_per_s": None, "feedback_received": self.control.feedbacks,
            "pacing_late_bytes": round(self.pacer.late_credit),
            "io_path": "send=" + self.sender.path, "send_errors": self.sender.refused})
        extra.update(self.control.log_data())
        if extra.get("client_report") is not None:
            extra["delivery_ms"] = round((time.perf_counter() - self.delivery_start) * 1000.0, 3)
        if not recovery.resend and report and report.get("missing") and received_rate:
            suggested = extra["suggested_rate_bytes_per_s"] = suggest_rate(received_rate)
            rec.reason = N_("{}; raw UDP lost what the path could not carry: sent {} MB/s, the client received " \
                "{} MB/s; --rate {} would have delivered everything").format(
                    rec.reason, _mb(rate_sent), _mb(received_rate), rate_text(suggested))

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


def _mb(rate):
    return "-" if not rate else "{:,.1f}".format(rate / 1e6)


def rate_text(rate):
    """12000000 -> '12M', 1500000 -> '1500K' (a --rate value)."""
    rate = int(rate)
    if rate >= 10 ** 6 and rate % 10 ** 6 == 0:
        return "{}M".format(rate // 10 ** 6)
    if rate >= 10 ** 3 and rate % 10 ** 3 == 0:
        return "{}K".format(rate // 10 ** 3)
    return str(rate)


def suggest_rate(received_rate):
    """The --rate (bytes/s) to suggest after raw loss: 90% of what the client
    received per second, rounded down to two significant digits."""
    value = max(1.0, received_rate * 0.9)
    scale = 10 ** max(0, len(str(int(value))) - 2)
    return int(value // scale * scale)


_FLAGS = struct.Struct("!H")
SEQ_WINDOW = 4096          # the packed path makes the seqs of this many chunks at once (``_write_seqs``)
_PACKABLE = hasattr(os, "preadv") and SEQ_ARRAYS


class ChunkSender:
    """Sends chunks of the mapped file by seq, each datagram with its header,
    through ``udp.transport.DatagramSender``: batches of up to 64 KiB in one
    ``sendmsg`` with UDP GSO where the kernel takes it, else one gathered
    ``sendmsg`` per datagram (no copy in Python).  *gather* False (tests,
    FORCE_COPY) copies each chunk after its header into one buffer, as where
    there is no ``sendmsg``.  ``send`` returns the bytes handed to the kernel
    (headers included), counting a datagram the kernel refused as sent: it is
    lost, as on the wire (``refused`` counts them).

    The packed path (GSO, *fd* given, ``os.preadv``): a batch of consecutive
    chunks costs no Python object per datagram.  The batch lives in one
    buffer laid out as it goes on the wire (header, data, header, data ...):
    the constant header bytes are written once, the four seq bytes of every
    header by four strided slice assignments, the data by one ``os.preadv``
    of the file into the data slots, and the whole buffer goes in one
    ``sendmsg``.  ``packed`` counts the batches sent that way."""

    PLAIN_BATCH = 16     # datagrams per call to send() on the plain path (one system call each)

    def __init__(self, sock, source, size, chunk, transfer, gather=True, gso=True, fd=None):
        self.sock, self.source, self.size, self.chunk, self.transfer = sock, source, size, chunk, transfer
        self.gather = gather and getattr(sock, "sendmsg", None) is not None
        self.transport = DatagramSender(sock, chunk + HEADER_SIZE, gso=gso and self.gather)
        self.buffer = bytearray(HEADER_SIZE + chunk)
        self.view = memoryview(self.buffer)
        self._copy_errors = 0
        self.packed = 0
        self.fd = fd
        self._pbuf = None
        if fd is not None and self.transport.io_path == "gso" and _PACKABLE:
            self._pack_setup()

    def _pack_setup(self):
        """The packed batch buffer: every header's constant bytes written once; views of the data slots."""
        datagram = self.chunk + HEADER_SIZE
        count = self.transport.batch
        self._pbuf = bytearray(count * datagram)
        self._pview = memoryview(self._pbuf)
        head = HEADER.pack(DATA_TYPE, VERSION, 0, self.transfer, 0)
        for i in range(count):
            self._pview[i * datagram:i * datagram + HEADER_SIZE] = head
        self._slots = [self._pview[i * datagram + HEADER_SIZE:(i + 1) * datagram] for i in range(count)]
        self._pflags = 0
        self._pwire = [self._pview[:i * datagram] for i in range(count + 1)]   # the first i datagrams, whole
        # datagrams of a multiple of 4 bytes: the buffer seen as 4-byte words, so that the seqs of a batch go
        # into their headers (word 2 of each datagram) in one strided assignment from a window of seqs made
        # SEQ_WINDOW at a time (4.3 -> 0.7 us per batch of 44 against four byte-wise assignments)
        self._seq_words = self._pview.cast(SEQ_TYPECODE) if datagram % 4 == 0 else None
        self._seq_from, self._seq_window = 0, None

    @property
    def path(self):
        """"gso" or "plain"."""
        return self.transport.io_path

    @property
    def max_batch(self):
        """Datagrams one ``send`` may take."""
        return self.transport.batch if self.transport.batch > 1 else self.PLAIN_BATCH

    @property
    def refused(self):
        """Datagrams the kernel refused (lost)."""
        return self.transport.errors + self._copy_errors

    def send(self, seqs, flags=0):
        """Send chunks *seqs* (one datagram each) with *flags*; bytes handed over."""
        chunk, size, source, transfer = self.chunk, self.size, self.source, self.transfer
        pack = HEADER.pack
        total = 0
        if not self.gather:
            return self._send_copies(seqs, flags)
        count = len(seqs)
        if self._pbuf is not None and count > 1 and seqs[-1] - seqs[0] == count - 1 and \
                self.transport.io_path == "gso":
            batch = len(self._slots)
            done = 0
            while done < count:
                step = min(batch, count - done)
                sent = self._send_packed(seqs[done], step, flags) if step > 1 else 0
                if not sent:
                    break
                total += sent
                done += step
            if done == count:
                return total
            seqs = seqs[done:]
        headers, payloads = [], []
        for seq in seqs:
            offset = seq * chunk
            end = offset + chunk if size - offset > chunk else size
            headers.append(pack(DATA_TYPE, VERSION, flags, transfer, seq))
            payloads.append(source[offset:end])
            total += end - offset + HEADER_SIZE
        self.transport.send(headers, payloads)
        return total

    def _send_packed(self, first, count, flags):
        """Chunks first .. first+count-1 in one packed buffer, one ``sendmsg``;
        the bytes handed over, or 0 when the file did not give the expected
        bytes (the caller then sends them the ordinary way)."""
        chunk, datagram, buf = self.chunk, self.chunk + HEADER_SIZE, self._pbuf
        if flags != self._pflags:
            flag_bytes = _FLAGS.pack(flags)
            slots = len(buf[2::datagram])
            buf[2::datagram] = flag_bytes[:1] * slots
            buf[3::datagram] = flag_bytes[1:] * slots
            self._pflags = flags
        self._write_seqs(first, count, datagram)
        offset = first * chunk
        want = self.size - offset
        if want >= count * chunk:
            want = count * chunk
        elif want <= (count - 1) * chunk:
            return 0
        slots = self._slots
        try:
            got = os.preadv(self.fd, slots if count == len(slots) else slots[:count], offset)
        except OSError:
            got = -1
        if got != want:
            return 0
        wire = count * HEADER_SIZE + want
        self.transport.send_packed(self._pwire[count] if want == count * chunk else self._pview[:wire], count)
        self.packed += 1
        return wire

    def _write_seqs(self, first, count, datagram):
        """The seqs first .. first+count-1 into the headers of the packed buffer's first *count* datagrams."""
        words = self._seq_words
        if words is None:
            raw, buf, end = seq_bytes(first, count), self._pbuf, count * datagram
            buf[8:end:datagram] = raw[0::4]
            buf[9:end:datagram] = raw[1::4]
            buf[10:end:datagram] = raw[2::4]
            buf[11:end:datagram] = raw[3::4]
            return
        window, start = self._seq_window, self._seq_from
        if first < start:   # behind the window (resends): this batch's own
            seqs = memoryview(seq_array(first, count))
        else:
            if window is None or first + count > start + len(window):   # past it: the next window
                chunks = (self.size + self.chunk - 1) // self.chunk
                start = self._seq_from = first
                window = self._seq_window = memoryview(seq_array(first, max(count, min(SEQ_WINDOW, chunks - first))))
            seqs = window[first - start:first - start + count]
        step = datagram // 4
        words[2:count * step:step] = seqs

    def _send_copies(self, seqs, flags):
        chunk, size, source, buffer, view = self.chunk, self.size, self.source, self.buffer, self.view
        total = 0
        for seq in seqs:
            offset = seq * chunk
            length = size - offset if size - offset < chunk else chunk
            HEADER.pack_into(buffer, 0, DATA_TYPE, VERSION, flags, self.transfer, seq)
            view[HEADER_SIZE:HEADER_SIZE + length] = source[offset:offset + length]
            try:
                self.sock.send(view[:HEADER_SIZE + length])
            except OSError:
                self._copy_errors += 1   # ICMP, a stalled send, no buffers: lost, as on the wire
            total += length + HEADER_SIZE
        return total


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
    config.rate_control = args.rate_control
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
    (N_("MB/s sent/recv"), lambda rec: "{}/{}".format(_mb(rec.extra.get("rate_sent_bytes_per_s")),
                                                  _mb(rec.extra.get("rate_received_bytes_per_s")))),
    (N_("missing"), _report_column("missing")),
    (N_("port"), lambda rec: str(rec.server_port)),
)


if __name__ == "__main__":
    sys.exit(main())
