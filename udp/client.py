"""UDP file-transfer client: starts N clients (a thread and a socket each)
that say HELLO to the server's well-known port, learn their session port from
the FILE answer, confirm READY once for all, place each numbered datagram at
its offset, and save ``ArchivosRecibidos/Cliente<k>-Prueba-<n>.txt`` only when
every chunk arrived and the SHA-256 matches.  ``--reliable`` asks for missing
chunks (NACK) until the file is complete; ``--ping`` is a UDP echo client.

Run ``python3 udp/client.py --help``.  The protocol is in PROTOCOL.md ("UDP").
"""

if __package__ in (None, ""):
    import os
    import sys
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import os
import socket
import sys
import threading
import time

from transfer.cli import run_main
from transfer.client_app import (ask_missing_settings, failure_reason, print_client_summary, received_path,
                                 run_client)
from transfer.config import client_config_from_args, client_parser, positive_int, seconds
from transfer.errors import ProtocolError, TransferFailed
from transfer.incoming import IncomingFile
from transfer.messages import Busy, ErrorMessage, printable
from transfer.prompts import Prompter
from transfer.records import ConnectionRecord
from transfer.status import progress_detail
from transfer.text import host_port
from udp.packets import (DATA_TYPE, FLAG_RESENT, HEADER, HEADER_SIZE, MAX_DATAGRAM, MAX_SEQ,  # noqa: F401
                         NACK_RANGES_BUDGET, VERSION, End, Nack, Report, Retry, Start, UdpBye, UdpFileOffer, UdpHello,
                         UdpReady, Wait, address_text, chunk_count, decode_control, format_ranges, ignore_connreset,
                         raise_buffers, ranges_of, send_control, split_ranges)
from udp.ping import run_ping
from udp.receiving import BATCH_BYTES, SCATTER_MIN, ChunkStore, Reception
from udp.server import DEFAULT_IDLE_TIMEOUT, DEFAULT_PORT, HELLO_KEEPALIVE, add_udp_flags
from udp.transport import SOL_UDP, UDP_GRO, DatagramReceiver, io_path_text
from udp.validation import check_offer
from udp.packets import report_icmp_errors  # noqa: E402 (kept apart: merges)
from transfer.i18n import N_, _, localize

ZERO_SHA256 = "0" * 64
FIRST_INTERVAL = 0.25            # HELLO and READY are repeated, the interval doubling ...
HELLO_MAX_INTERVAL = 2.0         # ... up to 2 s for HELLO (once the server has answered) ...
FIRST_HELLO_MAX_INTERVAL = 1.0   # ... up to 1 s before any answer (0.25, 0.5, 1, 1, ...)
NO_ANSWER_TIMEOUT = 10.0         # nothing at all from the server this long: give up (or --handshake-timeout)
READY_REPEAT = 1.0               # ... up to 1 s for READY (the server drops a READY client silent for 15 s)
MAX_NACKS_PER_ROUND = 64         # NACK datagrams of one full round (the rest in the next round)
REPORT_TRIES = 10                # REPORT is sent up to this many times until BYE ...
REPORT_INTERVAL = 0.3            # ... this far apart
RECV_BUFFER = 65536              # bigger than any datagram: an oversized one is seen, not truncated
BATCH_BUFFERS = 16               # batch buffers of a client with a writer thread (at most; see make_store)


def resolve(host, port):
    """(family, address) of the server; TransferFailed when the name is unknown."""
    try:
        infos = socket.getaddrinfo(host, port, 0, socket.SOCK_DGRAM)
    except socket.gaierror as exc:
        raise TransferFailed(N_("cannot resolve {!r}: {}").format(host, exc.strerror or exc))
    family, _, _, _, address = infos[0]
    return family, address


def local_address(family, remote, port):
    """(our IP as the peer sees it, *port*): from a connected scratch socket (nothing is sent)."""
    probe = socket.socket(family, socket.SOCK_DGRAM)
    try:
        probe.connect(remote)
        return probe.getsockname()[0], port
    except OSError:
        return None, port
    finally:
        probe.close()


class UDPClientSession:
    """One client: its socket, its file, its counters (a thread runs ``run``)."""

    def __init__(self, config, client_id, clients, board, go, cancel):
        self.config, self.clients, self.board, self.go, self.cancel = config, clients, board, go, cancel
        self.mode = "reliable" if config.reliable else "raw"
        self.idle_timeout = config.idle_timeout or DEFAULT_IDLE_TIMEOUT
        self.record = ConnectionRecord(client_id)
        self.record.extra.update({
            "chunk_size": None, "datagrams_expected": None, "datagrams_received": 0, "bytes_received": 0,
            "missing": None, "duplicates": 0, "out_of_order": 0, "loss_pct": None, "resent_datagrams": 0,
            "ignored_datagrams": 0, "nack_datagrams": 0, "nack_rounds": 0, "server_verdict": None})
        self.offer = None
        self.handshake_done = threading.Event()
        self.sock = None
        self.server = None       # the well-known address
        self.session = None      # the session's address (source of FILE)
        self.row = _("client {}").format(client_id)
        self._buffer = bytearray(RECV_BUFFER)
        self._view = memoryview(self._buffer)
        self._aborted = False
        self._store = None
        self._reception = None     # the data phase (udp/receiving.py), once it began
        self._first = None         # a data datagram that arrived before START
        self._silent = False       # the transfer ended on --idle-timeout
        self._ended_by_end = False  # ... or on END with chunks missing (raw)
        self._hello = None          # the latest HELLO (padded, with the server's token once it came)
        self._icmp_fatal = False    # during the handshake an ICMP error ends the client at once

    def _state(self, state, detail=""):
        self.record.state = state
        self.board.update(self.row, state, detail)

    def abort(self):
        """Tell the session we are leaving (Ctrl-C: the server stops sending and logs it at once,
        instead of waiting for a REPORT), then close the socket from another thread."""
        self._aborted = True
        sock, session = self.sock, self.session
        if sock is not None and session is not None and self.record.extra["server_verdict"] is None:
            send_control(sock, ErrorMessage(reason=N_("client interrupted (Ctrl-C)")), session)
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass

    # -- the thread -------------------------------------------------------------------------
    def run(self):
        """The thread body: never raises; the record says what happened."""
        rec = self.record
        incoming = None
        try:
            self._state("connecting", host_port(self.config.host, self.config.port))
            self._open_and_hello()
            self.handshake_done.set()
            self._wait_for_go()
            final = received_path(self.config, rec.client_id, self.offer)
            worker, hasher = receive_threads(self.config)
            incoming = IncomingFile(final, self.offer.size, self.offer.sha256, threaded=hasher)
            # buffers are allocated before READY: at 700 MB/s the socket buffer fills in about 10 ms
            self._store = make_store(incoming, self.offer, worker, self.config.timeout, self.clients)
            rec.extra["receive_threads"] = 1 + worker + hasher
            self._ready()
            self._receive(incoming)
            self._finish(incoming)
        except Exception as exc:  # every failure, a bug included, ends only this client
            rec.fail(failure_reason(exc, rec, self._aborted or self.cancel.is_set()))
        finally:
            self.handshake_done.set()
            if not rec.ok:
                if rec.started and rec.time_ms is None:
                    rec.stop_clock()
                if self._store is not None:
                    self._store.abandon()
                if incoming is not None:
                    kept = incoming.discard(keep_partial=self.config.keep_partial)
                    rec.partial_as = str(kept) if kept else None
                if self.session is not None and self.sock is not None and not self._aborted \
                        and rec.extra["server_verdict"] is None:
                    # no REPORT went out (cancelled, disk full, ...): tell the session, once, why
                    send_control(self.sock, ErrorMessage(reason=rec.reason[:200]), self.session)
                self._state("failed", printable(localize(rec.reason), 80))
            if self.sock is not None:
                try:
                    self.sock.close()
                except OSError:
                    pass

    # -- handshake ------------------------------------------------------------------------------
    def _next(self, timeout):
        """(datagram view, source) of the next datagram, or (None, None) after *timeout*."""
        self.sock.settimeout(max(timeout, 0.001))
        try:
            count, source = self.sock.recvfrom_into(self._buffer)
        except socket.timeout:
            return None, None
        except OSError as exc:
            # an ICMP error of an earlier send: ECONNREFUSED (Linux, IP_RECVERR), WSAECONNRESET (Windows)
            if self._icmp_fatal and not self._aborted:
                raise self._no_server(exc)
            if isinstance(exc, (ConnectionResetError, ConnectionRefusedError)):
                return None, None
            raise
        return self._view[:count], source

    def _no_server(self, exc=None):
        """The one line for 'nobody answers at the server's address' (an ICMP error or silence)."""
        cfg = self.config
        where = address_text((cfg.host, cfg.port))
        if exc is not None and self.record.extra.get("server_answered"):
            return TransferFailed(N_("the UDP server at {} stopped answering: {}").format(
                where, (exc.strerror or str(exc)).lower()))
        detail = ""
        if isinstance(exc, (ConnectionRefusedError, ConnectionResetError)):
            detail = N_(": connection refused (ICMP port unreachable)")
        elif exc is not None:
            detail = ": {}".format(exc.strerror or exc)
        return TransferFailed(N_("no UDP server answered at {}{} (is udp/server.py running there? is UDP {} "
                              "open?)").format(where, detail, cfg.port))

    def _send_strict(self, message, destination):
        """Send during the handshake: an error (network unreachable, an ICMP error reported on the
        send) ends the client at once with one line instead of being swallowed."""
        try:
            self.sock.sendto(message.encode(), destination)
        except (BlockingIOError, InterruptedError):
            pass   # out of buffer space for a moment: as if lost
        except OSError as exc:
            if self._aborted:
                raise TransferFailed(N_("cancelled before the server answered"))
            raise self._no_server(exc)

    def _control_from(self, datagram, source, allowed):
        """Decode a control datagram from one of *allowed* addresses (else None, counted)."""
        if source not in allowed or not len(datagram) or datagram[0] == DATA_TYPE:
            self.record.extra["ignored_datagrams"] += 1
            return None
        try:
            return decode_control(datagram)
        except ProtocolError:
            self.record.extra["ignored_datagrams"] += 1
            return None

    def _open_and_hello(self):
        """HELLO (padded) until the server's RETRY, HELLO with its token until FILE (PROTOCOL.md, "Address
        validation").  No answer at all within NO_ANSWER_TIMEOUT (10 s), or an ICMP error, ends it at once;
        once the server has answered, --handshake-timeout bounds the wait for a test to take us."""
        cfg = self.config
        family, self.server = resolve(cfg.host, cfg.port)
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", 0))
        report_icmp_errors(self.sock, True)   # Windows reports them by default: ignore_connreset comes after FILE
        self._icmp_fatal = True
        rcvbuf, sndbuf = raise_buffers(self.sock)
        self.record.extra["so_rcvbuf"] = rcvbuf
        self.record.extra["so_sndbuf"] = sndbuf
        self.record.extra["server_answered"] = False
        server_ip = self.server[0]
        token = [None]

        def answer(datagram, source):
            if source[0] != server_ip:
                self.record.extra["ignored_datagrams"] += 1
                return None
            message = self._control_from(datagram, source, (source,))
            if message is not None:
                self.record.extra["server_answered"] = True
            if isinstance(message, Retry) and source == self.server:
                if message.token == token[0]:
                    return None  # a repeat of the RETRY we answered already
                token[0] = message.token
                return "retry"
            if isinstance(message, UdpFileOffer):
                self._take_offer(message, source)
                return True
            if isinstance(message, Busy) and source == self.server:
                raise TransferFailed(N_("server is busy: {}").format(printable(message.reason)))
            if isinstance(message, ErrorMessage):
                raise TransferFailed(N_("server error: {}").format(printable(message.reason)))
            return None
        began = time.monotonic()
        while True:
            self._hello = UdpHello.padded(id=self.record.client_id, total=self.clients, mode=self.mode,
                                          token=token[0])
            if token[0] is None:
                until, max_interval = began + min(NO_ANSWER_TIMEOUT, cfg.handshake_timeout), FIRST_HELLO_MAX_INTERVAL
            else:
                until, max_interval = began + cfg.handshake_timeout, HELLO_MAX_INTERVAL
            result = self._exchange(self._hello, self.server, until - time.monotonic(), max_interval, answer,
                                    N_("cancelled before the server answered"), send=self._send_strict)
            if result is True:
                break
            if result == "retry":
                self._state("connecting", _("the server answered; joining the test"))
                continue
            if not self.record.extra["server_answered"]:
                raise self._no_server()
            raise TransferFailed(N_("the UDP server at {} answers, but no test took this client within {:g} s "
                                 "(--handshake-timeout): is a test waiting for clients?").format(
                                     address_text((cfg.host, cfg.port)), cfg.handshake_timeout))
        self._icmp_fatal = False
        report_icmp_errors(self.sock, False)
        ignore_connreset(self.sock)

    def _exchange(self, message, destination, seconds, max_interval, answer, cancelled=None, tries=None,
                  first_interval=FIRST_INTERVAL, send=None):
        """Send *message* (with ``send(message, destination)``, default: errors
        swallowed) and wait until ``answer(datagram, source)`` returns
        something; repeat it (intervals doubling up to *max_interval*) for at
        most *seconds* and *tries* sends.  Returns the answer or None."""
        deadline = time.monotonic() + seconds
        interval = first_interval
        sent = 0
        while time.monotonic() < deadline and (tries is None or sent < tries):
            if cancelled and self.cancel.is_set():
                raise TransferFailed(cancelled)
            if send is not None:
                send(message, destination)
            else:
                send_control(self.sock, message, destination)
            sent += 1
            until = min(deadline, time.monotonic() + interval)
            interval = min(max_interval, interval * 2)
            while True:
                left = until - time.monotonic()
                if left <= 0:
                    break
                datagram, source = self._next(left)
                if datagram is not None:
                    result = answer(datagram, source)
                    if result is not None:
                        return result
        return None

    def _take_offer(self, offer, source):
        if offer.mode != self.mode:
            raise TransferFailed(N_("server runs {} mode").format(printable(offer.mode, 20)))
        try:
            check_offer(offer.size, offer.chunk)   # before anything is sized from them
        except ProtocolError as exc:
            raise TransferFailed(N_("server announced an impossible transfer: {}").format(exc))
        self.offer = offer
        self.session = source
        rec = self.record
        rec.sha256_expected = offer.sha256
        rec.extra["file_name"] = offer.name
        rec.extra["transfer_id"] = offer.transfer
        rec.extra["chunk_size"] = offer.chunk + HEADER_SIZE
        rec.extra["datagrams_expected"] = chunk_count(offer.size, offer.chunk)
        family = self.sock.family
        rec.set_addresses(local_address(family, source, self.sock.getsockname()[1]), source, "client")
        self._state("connected", _("file {} ({:,} bytes), test of {} client(s), session port {}").format(
            printable(offer.name, 60), offer.size, offer.clients, source[1]))

    def _wait_for_go(self):
        """Wait for the go (every client has its FILE; the user confirmed), repeating HELLO
        meanwhile (idempotent) so the session knows we are still here (--hello-timeout)."""
        while not self.go.wait(HELLO_KEEPALIVE):
            send_control(self.sock, self._hello, self.server)   # carries our token: the session knows it
        if self.cancel.is_set():
            raise TransferFailed(N_("cancelled before READY"))

    def _ready(self):
        """Send READY (repeated) until START or the first data datagram."""
        self._state("ready", _("waiting for the other clients"))

        def answer(datagram, source):
            if source == self.session and len(datagram) and datagram[0] == DATA_TYPE:
                self._first = (bytes(datagram), source)  # the data began (START was lost)
                return True
            message = self._control_from(datagram, source, (self.session,))
            if isinstance(message, Start):
                return True
            if isinstance(message, Wait):
                self._state("ready", _("{}/{} clients ready").format(message.ready, message.clients))
            elif isinstance(message, ErrorMessage):
                raise TransferFailed(N_("server error: {}").format(printable(message.reason)))
            return None
        ready = UdpReady(transfer=self.offer.transfer, rcvbuf=self.record.extra.get("so_rcvbuf") or None)
        if not self._exchange(ready, self.session, self.config.handshake_timeout,
                              READY_REPEAT, answer, N_("cancelled while waiting for the other clients")):
            raise TransferFailed(N_("the transfer did not start within {:g} s").format(self.config.handshake_timeout))

    # -- the data ---------------------------------------------------------------------------------
    def _receive(self, incoming):
        """Place datagrams until every chunk is in, or END (raw) / silence ends
        it (udp/receiving.py ``Reception``); the record gets the counts even
        when it fails or is interrupted."""
        # GRO for small datagrams (several per receive); big ones are received in place instead
        receiver = DatagramReceiver(self.sock, gro=self.config.extra.get("udp_gro", True)
                                    and self.offer.chunk < SCATTER_MIN)
        self.record.extra["io_path"] = io_path_text(receiver=receiver)
        offer = self.offer
        size = offer.size
        reception = Reception(
            receiver, self.session, offer, self._store, self.mode == "reliable", self.idle_timeout,
            send_nack=self._nack, start_clock=self.record.start_clock, first=self._first,
            on_status=lambda got: self._state("receiving", progress_detail(got, size, self.record.elapsed())))
        self._first = None
        self._reception = reception
        self._state("receiving", progress_detail(0, size, 0))
        try:
            reception.run()
            self._store.close()
        finally:
            self._take_counts(reception, receiver)
            stop_gro(self.sock, receiver)

    def _take_counts(self, reception, receiver):
        """Copy the data phase's counters into the record (also after a failure or Ctrl-C)."""
        rec, extra = self.record, self.record.extra
        missing = reception.ranges.missing_count
        chunks = reception.chunks
        extra.update({
            "datagrams_received": reception.datagrams, "duplicates": reception.duplicates,
            "out_of_order": reception.out_of_order, "resent_datagrams": reception.resent, "missing": missing,
            "loss_pct": round(100.0 * missing / chunks, 4) if chunks else 0.0, "gaps_seen": reception.gaps,
            "first_gap_seq": reception.first_gap, "bytes_received": reception.bytes,
            "end_received": reception.end_count, "nack_rounds": reception.nack_rounds,
            "feedback_sent": reception.feedbacks, "receive_calls": receiver.calls,
            "datagrams_per_call": round(receiver.datagrams / receiver.calls, 2) if receiver.calls else 0.0,
            "receives_in_place": reception.gro_fast})   # GRO receives taken whole where they belong (no copy)
        extra["ignored_datagrams"] += reception.ignored + receiver.truncated
        rec.bytes = reception.bytes
        if missing:
            extra["missing_ranges"] = reception.ranges.missing_text()
        if reception.last_rx is not None and rec.time_ms is None:
            rec.stop_clock(reception.last_rx)  # UDP client time: first datagram received -> last received
        # what ended it: every chunk, END (raw), or silence; the REPORT is tried less after silence
        self._silent = reception.silent
        self._ended_by_end = bool(missing) and not reception.silent and reception.end_seen

    def _nack(self, missing, lost, progress):
        """Send feedback: one NACK with the progress fields (received, bytes,
        elapsed_us, highest) and *lost* (gaps since the last one), carrying
        the inclusive (a, b) *missing* ranges; several NACKs (at most
        MAX_NACKS_PER_ROUND) when the ranges do not fit one line."""
        texts = []
        current, length = [], 0
        for a, b in missing:
            item = str(a) if a == b else "{}-{}".format(a, b)
            if current and length + len(item) + 1 > NACK_RANGES_BUDGET:
                texts.append("_".join(current))
                current, length = [], 0
                if len(texts) == MAX_NACKS_PER_ROUND:
                    break
            current.append(item)
            length += len(item) + 1
        if current and len(texts) < MAX_NACKS_PER_ROUND:
            texts.append("_".join(current))
        for text in texts or [""]:
            send_control(self.sock, Nack(transfer=self.offer.transfer, lost=lost, ranges=text, **progress),
                         self.session)
            self.record.extra["nack_datagrams"] += 1
            lost = 0

    # -- the end -------------------------------------------------------------------------------------
    def _finish(self, incoming):
        """Verify, REPORT (repeated until BYE), keep the file only if complete and verified."""
        rec, offer = self.record, self.offer
        missing = rec.extra["missing"]
        reason = None
        received = None
        if missing:
            received = incoming.digest() if incoming.hashed else None
            how = N_("END received") if self._ended_by_end else N_("no datagram from the server for {:g} s").format(
                self.idle_timeout)
            reason = N_("{}: {:,} of {:,} bytes, {:,} of {:,} chunks missing").format(
                how, rec.bytes, offer.size, missing, rec.extra["datagrams_expected"])
        else:
            try:
                received = incoming.finish()
            except TransferFailed as exc:
                reason = str(exc)
                received = incoming.digest()
        rec.sha256_received = received
        ok = reason is None
        if not ok:
            incoming.discard(keep_partial=self.config.keep_partial)
        report = Report(transfer=offer.transfer, bytes=rec.bytes, datagrams=rec.extra["datagrams_received"],
                        missing=missing, duplicates=rec.extra["duplicates"],
                        out_of_order=rec.extra["out_of_order"], sha256=received or ZERO_SHA256, ok=ok)
        rec.extra["server_verdict"] = self._report(report, tries=2 if self._silent else REPORT_TRIES)
        if not ok:
            raise TransferFailed(reason)
        rec.ok = True
        if self.mode == "reliable":
            rec.extra["delivery_ms"] = round(rec.elapsed() * 1000.0, 3)  # first datagram -> verified
        rec.saved_as = str(incoming.final_path)
        self._state("verified", _("{:,} bytes in {:.3f} s").format(rec.bytes, (rec.time_ms or 0) / 1000))

    def _report(self, report, tries):
        """Send REPORT until BYE; the server's verdict or 'no BYE'."""
        def answer(datagram, source):
            if source != self.session or not len(datagram) or datagram[0] == DATA_TYPE:
                return None  # late data: not counted as ignored
            message = self._control_from(datagram, source, (self.session,))
            if isinstance(message, UdpBye):
                return N_("ok") if message.ok else N_("not ok")
            return None
        return self._exchange(report, self.session, tries * REPORT_INTERVAL + 1, REPORT_INTERVAL, answer,
                              tries=tries, first_interval=REPORT_INTERVAL) or N_("no BYE")


def receive_threads(config):
    """(writer thread?, hasher thread?) for each client's file.

    Two threads per client: the receiving thread hands full 1 MiB runs to
    one writer thread that writes and hashes them, so the socket is read
    again at once (UDP has no flow control: a receiver that stops reading
    loses datagrams).  One client used to get a third thread, for hashing
    alone; two did better once the receive itself got cheap (GRO, in-place
    receives; interleaved A/B series, medians: through the netlab's unshaped
    link 0.49x against 0.46x TCP, and earlier the same day 0.48x against
    0.46x; a third series, with the LIFO buffer pool too, 0.49x against
    0.49x; on loopback, 250 MiB, 1.13 against 1.03 of scripts/refudp.py).  One
    thread doing everything was the slowest for 1 client and no faster for
    10.  ``config.extra["udp_threads"]`` (1, 2 or 3) chooses."""
    threads = config.extra.get("udp_threads") or 2
    return threads >= 2, threads >= 3


def make_store(incoming, offer, worker, stall, clients):
    """The ChunkStore for *offer* (one chunk per batch at least): with a
    writer thread 16 batches of 1 MiB for up to 4 clients, fewer for more
    (10 clients: 6 each), smaller above 10 (25 clients: 3 of 256 KiB each),
    so the buffers of a run stay within 64 MiB in all; 2 batches when the
    receiving thread writes.  (10 clients had 16 each, 160 MiB touched page
    by page at the start; 6 measured no slower on loopback.)"""
    if clients <= 10:
        batch_bytes, buffers = BATCH_BYTES, max(4, min(BATCH_BUFFERS, 64 // max(1, clients)))
    else:
        batch_bytes, buffers = BATCH_BYTES // 4, max(3, 64 // clients)
    chunks = chunk_count(offer.size, offer.chunk)
    slots = max(1, min(batch_bytes // offer.chunk, chunks))
    return ChunkStore(incoming, offer.chunk, slots, buffers if worker else 2, stall, worker=worker)


def stop_gro(sock, receiver):
    """After the data: GRO off again, so the REPORT/BYE exchange sees one datagram per receive."""
    if receiver.io_path == "gro":
        try:
            sock.setsockopt(SOL_UDP, UDP_GRO, 0)
        except OSError:
            pass


def udp_run_client(config, prompter=None):
    """Run the clients of one test in-process; returns a ClientRunResult."""
    mode = "reliable" if config.reliable else "raw"
    return run_client(config, UDPClientSession, "udp", mode,
                      settings={"timeout": config.timeout, "handshake_timeout": config.handshake_timeout,
                                "idle_timeout": config.idle_timeout or DEFAULT_IDLE_TIMEOUT, "reliable":
                                config.reliable, "server": host_port(config.host, config.port)},
                      prompter=prompter)


def _count(key):
    """A summary column: the record's count, or '-' when there is none (the client never got that far)."""
    def value(rec):
        number = rec.extra.get(key)
        return "-" if number is None else _("{:,}").format(number)  # the language's digits
    return value


def handshake_failure(result):
    """The one reason every client failed for before any FILE (no server, refused, BUSY), or None:
    said once in full, since the table and the status lines cut it short."""
    reasons = {rec.reason for rec in result.records}
    if len(reasons) != 1 or any(rec.ok or rec.extra.get("transfer_id") is not None for rec in result.records):
        return None
    reason = reasons.pop()
    return reason or None


CLIENT_COLUMNS = (
    (N_("datagrams"), _count("datagrams_received")),
    (N_("missing"), _count("missing")),
    (N_("dup"), _count("duplicates")),
    (N_("resent"), _count("resent_datagrams")),
    (N_("port"), lambda rec: "-" if rec.server_port is None else str(rec.server_port)),
)


def build_parser():
    """The client's command line: the common flags plus the UDP ones."""
    parser = client_parser("udp/client.py", N_("UDP file-transfer client: starts N clients that receive the "
                                               "server's file in numbered datagrams and verify it with SHA-256; "
                                               "--ping is a UDP echo client."), DEFAULT_PORT)
    add_udp_flags(parser, "client")
    parser.add_argument("--ping", action="store_true",
                        help="send PINGs to the server's port and print each reply's round-trip time")
    parser.add_argument("--count", type=positive_int, default=4, metavar="N",
                        help="with --ping: how many PINGs (default %(default)s)")
    parser.add_argument("--interval", type=seconds, default=1.0, metavar="S",
                        help="with --ping: seconds between PINGs, and how long to wait for each reply "
                             "(default %(default)s)")
    return parser


def main(argv=None, input_fn=None):
    """Command-line entry point; returns the exit status (0 only if every client verified)."""
    args = build_parser().parse_args(argv)
    config = client_config_from_args(args)
    config.reliable = args.reliable
    config.idle_timeout = args.idle_timeout

    def body():
        prompter = Prompter(input_fn=input_fn)
        if args.ping:
            if not config.host:
                config.host = prompter.ask_text(_("Server address"), "127.0.0.1")
            return run_ping(config.host, config.port, args.count, args.interval)
        ask_missing_settings(config, prompter, DEFAULT_PORT)
        result = udp_run_client(config, prompter)
        print_client_summary(result, CLIENT_COLUMNS)
        line = handshake_failure(result)
        if line:
            sys.stderr.write(_("udp/client.py: {}\n").format(localize(line)))
        return result.exit_status
    return run_main(body, "udp/client.py", eof_status=1)


if __name__ == "__main__":
    sys.exit(main())
