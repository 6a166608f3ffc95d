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
import queue
import socket
import sys
import threading
import time

from transfer.cli import run_main
from transfer.client_app import ask_missing_settings, failure_reason, print_client_summary, run_client
from transfer.config import client_config_from_args, client_parser, positive_int, seconds
from transfer.errors import ProtocolError, TransferFailed
from transfer.hashing import BackgroundWorker
from transfer.i18n import N_, _, localize
from transfer.incoming import IncomingFile
from transfer.messages import MAX_LINE, Busy, ErrorMessage, printable
from transfer.paths import received_file_name
from transfer.prompts import Prompter
from transfer.records import ConnectionRecord
from transfer.status import progress_detail
from udp.packets import (DATA_TYPE, FLAG_RESENT, HEADER, HEADER_SIZE, NACK_RANGES_BUDGET,
                         VERSION, End, Nack,
                         Report, Retry, Start, UdpBye, UdpFileOffer, UdpHello, UdpReady, Wait, address_text,
                         chunk_count, decode_control, format_ranges, ignore_connreset, raise_buffers, ranges_of,
                         send_control, split_ranges)
from udp.ping import run_ping
from udp.server import DEFAULT_IDLE_TIMEOUT, DEFAULT_PORT, HELLO_KEEPALIVE, add_udp_flags
from udp.validation import check_offer
from udp.packets import report_icmp_errors  # noqa: E402 (kept apart: merges)

ZERO_SHA256 = "0" * 64
FIRST_INTERVAL = 0.25            # HELLO and READY are repeated, the interval doubling ...
HELLO_MAX_INTERVAL = 2.0         # ... up to 2 s for HELLO (once the server has answered) ...
FIRST_HELLO_MAX_INTERVAL = 1.0   # ... up to 1 s before any answer (0.25, 0.5, 1, 1, ...)
NO_ANSWER_TIMEOUT = 10.0         # nothing at all from the server this long: give up (or --handshake-timeout)
READY_REPEAT = 1.0               # ... up to 1 s for READY (the server drops a READY client silent for 15 s)
FEEDBACK_INTERVAL = 0.02         # reliable: a NACK (feedback) at most this often during the data
QUIET_NACK = 0.15                # reliable: no datagram for this long -> NACK everything missing
MAX_NACKS_PER_ROUND = 64         # NACK datagrams of one full round (the rest in the next round)
REPORT_TRIES = 10                # REPORT is sent up to this many times until BYE ...
REPORT_INTERVAL = 0.3            # ... this far apart
RECV_BUFFER = 65536              # bigger than any datagram: an oversized one is seen, not truncated
BATCH_BYTES = 1024 * 1024        # in-sequence chunks are gathered this much at a time, then written and hashed
BATCH_BUFFERS = 16               # batches that may wait for the writer (fewer with many clients)
FEEDBACK_EVERY = 32              # reliable: housekeeping (NACK feedback) at least every this many datagrams
BUFFER_WAIT = 0.05               # a receiver waits this long at most for a free batch buffer, then drops data
MSG_TRUNC = getattr(socket, "MSG_TRUNC", 0x20)
FORCE_STAGING = False           # tests set it to run the portable receive path (no recvmsg_into) on Linux


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
        self._writer = None
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
            self._state("connecting", "{}:{}".format(self.config.host, self.config.port))
            self._open_and_hello()
            self.handshake_done.set()
            self._wait_for_go()
            final = os.path.join(self.config.received_dir, received_file_name(rec.client_id, self.clients))
            incoming = IncomingFile(final, self.offer.size, self.offer.sha256)
            # buffers are allocated before READY: at 700 MB/s the socket buffer fills in about 10 ms
            batch_bytes, buffers = batch_plan(self.clients)
            slots = max(1, min(batch_bytes // self.offer.chunk, chunk_count(self.offer.size, self.offer.chunk)))
            self._writer = BatchWriter(incoming, self.offer.chunk, slots, buffers)
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
                if self._writer is not None:
                    self._writer.abandon()
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
        if not self._exchange(UdpReady(transfer=self.offer.transfer), self.session, self.config.handshake_timeout,
                              READY_REPEAT, answer, N_("cancelled while waiting for the other clients")):
            raise TransferFailed(N_("the transfer did not start within {:g} s").format(self.config.handshake_timeout))

    # -- the data ---------------------------------------------------------------------------------
    def _receive(self, incoming):
        """Place datagrams until every chunk is in, or END (raw) / silence ends it.

        Datagrams that continue the sequence are received straight into the
        next slot of a 1 MiB batch buffer (``recvmsg_into`` scatters the header
        and the data; elsewhere the data is copied from a staging buffer), and
        the batch is written and hashed in one piece; any other chunk is
        written at its own offset at once."""
        rec, offer = self.record, self.offer
        extra = rec.extra
        reliable = self.mode == "reliable"
        size, chunk, transfer = offer.size, offer.chunk, offer.transfer
        chunks = chunk_count(size, chunk)
        last_seq = chunks - 1
        last_len = size - last_seq * chunk if chunks else 0
        have = bytearray(chunks)
        self._have = have
        writer = self._writer
        slots = writer.slots
        stall = self.config.timeout
        buffer = writer.take(stall)
        if buffer is None:
            raise TransferFailed(N_("writing the received file stalled for {:g} s").format(stall))
        slot_views = buffer[1]
        spare_slots = [memoryview(bytearray(chunk))]  # receives (and drops) data while no batch buffer is free
        starved_since = None  # monotonic time since when no batch buffer was free
        dropped = 0           # data datagrams dropped because the writer was behind (NACKed like lost ones)
        header = bytearray(HEADER_SIZE)
        overflow = bytearray(MAX_LINE)   # a control line longer than a (small) chunk still fits
        scatter = [memoryview(header), None, memoryview(overflow)]
        stage, stage_view = self._buffer, self._view
        sock = self.sock
        use_msg = hasattr(sock, "recvmsg_into") and not FORCE_STAGING
        recvmsg_into = getattr(sock, "recvmsg_into", None)
        recvfrom_into = sock.recvfrom_into
        session = self.session
        unpack_from = HEADER.unpack_from
        perf = time.perf_counter
        got = datagrams = duplicates = out_of_order = ignored = resent = gaps = 0
        first_gap = None      # the first chunk found missing when a later one arrived
        highest = -1
        new_lost = 0          # reliable: gaps seen since the last NACK
        gap_from = 0          # reliable: first seq not yet NACKed as a fresh gap
        base = 0              # the seq that belongs in slot 0 of the batch
        filled = 0            # slots of the batch holding data not yet written
        sock.settimeout(FEEDBACK_INTERVAL if reliable else 0.25)
        last_rx = None        # perf_counter of the last data datagram
        last_heard = time.monotonic()
        next_feedback = 0.0
        last_full_nack = 0.0
        last_status = 0.0
        end_seen = False
        end_round = False     # reliable: END arrived, NACK everything missing
        self._state("receiving", progress_detail(0, size, 0))
        first = self._first
        while got < chunks:
            if buffer is None:
                # the writer was behind: take a batch buffer back as soon as one is free (never wait here:
                # a receiver that stops reading overflows its socket and misses the server's END too)
                buffer = writer.poll()
                if buffer is not None:
                    slot_views, starved_since = buffer[1], None
                elif time.monotonic() - starved_since > stall:
                    raise TransferFailed(N_("writing the received file stalled for {:g} s").format(stall))
            # -- one datagram: count, source, truncated; header in `header`, data in slot `filled`
            staged = True
            try:
                if first is not None:
                    count, source = len(first[0]), first[1]
                    stage[:count] = first[0]
                    first = None
                elif use_msg:
                    scatter[1] = slot_views[filled]
                    count, _, msg_flags, source = recvmsg_into(scatter)
                    staged = False
                else:
                    count, source = recvfrom_into(stage)
            except (socket.timeout, ConnectionResetError):
                count = -1
            if staged and count >= HEADER_SIZE:
                # the portable path: header and data are copied out of the staging buffer
                header[:] = stage_view[:HEADER_SIZE]
                if count <= HEADER_SIZE + chunk:
                    slot_views[filled][:count - HEADER_SIZE] = stage_view[HEADER_SIZE:count]
            # a data datagram longer than a chunk (the kernel cut it, or it spilled into `overflow`)
            truncated = count > HEADER_SIZE + chunk and header[0] == DATA_TYPE or (not staged and msg_flags & MSG_TRUNC)
            if count >= 0:
                if source != session or truncated or not count:
                    ignored += 1
                    if time.monotonic() - last_heard > self.idle_timeout:
                        break  # nothing from the session for that long (a flood of strangers is no answer)
                    continue
                last_heard = time.monotonic()
                if count >= HEADER_SIZE and header[0] == DATA_TYPE:
                    kind, version, flags, tid, seq = unpack_from(header)
                    length = count - HEADER_SIZE
                    if version != VERSION or tid != transfer or seq > last_seq or \
                            length != (chunk if seq != last_seq else last_len):
                        ignored += 1
                        continue
                    datagrams += 1
                    last_rx = perf()
                    if flags & FLAG_RESENT:
                        resent += 1
                    if not rec.started:
                        rec.start_clock()
                    if have[seq]:
                        duplicates += 1
                        continue
                    if buffer is None:
                        # no free batch buffer (the writer and hasher are behind): drop it; it becomes a gap
                        # like a datagram the kernel dropped, so it is NACKed and the server's rate adapts
                        dropped += 1
                        continue
                    have[seq] = 1
                    got += 1
                    if seq < highest:
                        out_of_order += 1
                    else:
                        if seq > highest + 1:
                            new_lost += seq - highest - 1
                            gaps += seq - highest - 1
                            if first_gap is None:
                                first_gap = highest + 1
                        highest = seq
                    if seq == base + filled and filled + 1 < slots and seq != last_seq:
                        filled += 1
                        if not reliable or filled % FEEDBACK_EVERY:
                            continue  # the batch fills up: nothing else to do for this datagram
                        # reliable, small datagrams: a batch takes long to fill, so every FEEDBACK_EVERY
                        # datagrams go on to the housekeeping (feedback on time) without cutting the batch
                    else:
                        if seq == base + filled:
                            filled += 1
                            writer.submit(buffer, ((base * chunk, 0, (filled - 1) * chunk + length),))
                        else:
                            # out of sequence: write the batch so far, then this chunk from its slot
                            writes = [(base * chunk, 0, filled * chunk)] if filled else []
                            writes.append((seq * chunk, filled * chunk, length))
                            writer.submit(buffer, writes)
                        buffer = writer.take(BUFFER_WAIT)
                        if buffer is None:
                            slot_views, starved_since = spare_slots, time.monotonic()
                        else:
                            slot_views = buffer[1]
                        base, filled = seq + 1, 0
                else:
                    if staged:
                        data = bytes(stage_view[:count])
                    else:
                        data = (bytes(header[:count]) + bytes(slot_views[filled][:max(0, count - HEADER_SIZE)])
                                + bytes(overflow[:max(0, count - HEADER_SIZE - chunk)]))
                    message = self._control_from(data, source, (session,))
                    if isinstance(message, End):
                        end_seen = True
                        extra["end_received"] = extra.get("end_received", 0) + 1
                        if not reliable:
                            break
                        end_round = True      # the server has nothing queued: ask for all that is missing
                        last_full_nack = 0.0
                        next_feedback = 0.0
                    elif isinstance(message, ErrorMessage):
                        raise TransferFailed(N_("server error after {:,} bytes: {}").format(
                            got * chunk, printable(message.reason)))
            elif filled:
                # quiet: write what the batch holds so the hash keeps up
                writer.submit(buffer, ((base * chunk, 0, filled * chunk),))
                buffer = writer.take(BUFFER_WAIT)
                if buffer is None:
                    slot_views, starved_since = spare_slots, time.monotonic()
                else:
                    slot_views = buffer[1]
                base, filled = base + filled, 0
            # -- housekeeping (after a batch, an out-of-sequence chunk, a control message, a timeout)
            now = time.monotonic()
            rec.bytes = got * chunk if got < chunks else size
            writer.check()
            if reliable and now >= next_feedback and (rec.started or end_seen):
                next_feedback = now + FEEDBACK_INTERVAL
                quiet = last_rx is None or perf() - last_rx >= QUIET_NACK
                if (end_round or quiet) and now - last_full_nack >= QUIET_NACK:
                    # a full round: after END everything missing; when merely quiet, only below the
                    # highest chunk seen (what lies above may still be on its way)
                    last_full_nack = now
                    extra["nack_rounds"] += 1
                    self._nack(0, chunks if end_round or end_seen else highest + 1, datagrams, new_lost)
                    end_round = False
                    gap_from = highest + 1
                    new_lost = 0
                elif highest >= gap_from:
                    self._nack(gap_from, highest, datagrams, new_lost)
                    gap_from = highest + 1
                    new_lost = 0
            if now - last_status >= 0.25:
                last_status = now
                self._state("receiving", progress_detail(rec.bytes, size, rec.elapsed()))
            if count < 0 and now - last_heard > self.idle_timeout:
                # silence means an empty socket: time spent away from it (a busy writer, a thread
                # that waited for the CPU) is not the server's silence
                break
        if filled:
            writer.submit(buffer, ((base * chunk, 0, filled * chunk),))
        writer.close()
        extra.update({"gaps_seen": gaps, "first_gap_seq": first_gap, "dropped_writer_behind": dropped})
        extra.update({"datagrams_received": datagrams, "duplicates": duplicates, "out_of_order": out_of_order,
                      "resent_datagrams": resent, "missing": chunks - got,
                      "loss_pct": round(100.0 * (chunks - got) / chunks, 4) if chunks else 0.0})
        extra["ignored_datagrams"] += ignored
        rec.bytes = size if got == chunks else sum_bytes(have, chunk, size)
        extra["bytes_received"] = rec.bytes
        if got < chunks:
            extra["missing_ranges"] = missing_text(have)
        if last_rx is not None:
            rec.stop_clock(last_rx)  # UDP client time: first datagram received -> last received
        # what ended it: every chunk, END (raw), or silence; the REPORT is tried less after silence
        self._silent = got < chunks and time.monotonic() - last_heard > self.idle_timeout
        self._ended_by_end = got < chunks and not self._silent and end_seen

    def _nack(self, low, high, datagrams, lost):
        """NACK the missing chunks in [low, high) (several datagrams if needed)."""
        have = self._have
        missing = []
        seq = have.find(0, low, max(low, high))
        while seq >= 0:
            missing.append(seq)
            seq = have.find(0, seq + 1, high)
        texts = split_ranges(ranges_of(missing), NACK_RANGES_BUDGET) or [""]
        for text in texts[:MAX_NACKS_PER_ROUND]:
            send_control(self.sock, Nack(transfer=self.offer.transfer, received=datagrams, lost=lost, ranges=text),
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


class BatchWriter:
    """Hands filled batch buffers to a writer thread that places them in the
    IncomingFile (``write_at``), so a slow page-cache write never stalls the
    socket.  The hasher reads the buffers themselves (no copy); a buffer goes
    back to the small pool once every piece of it is written and hashed."""

    def __init__(self, incoming, chunk, slots, count):
        self.incoming = incoming
        self.slots = slots
        self._pool = queue.Queue()
        self._lock = threading.Lock()
        for _ in range(count):
            view = memoryview(bytearray(slots * chunk))
            view[::4096] = bytes(len(view[::4096]))  # touch every page now, not while datagrams arrive
            self._pool.put((view, [view[i * chunk:(i + 1) * chunk] for i in range(slots)]))
        self._worker = BackgroundWorker(self._write, "udp-writer", max_pending=count)

    def _write(self, item):
        view, slots, writes = item
        remaining = [len(writes)]

        def done(_data):
            with self._lock:
                remaining[0] -= 1
                last = not remaining[0]
            if last:
                self._pool.put((view, slots))
        for offset, start, length in writes:
            self.incoming.write_at(offset, view[start:start + length], done)

    def take(self, timeout):
        """A free (view, slot views) buffer, or None if none frees up within
        *timeout* s; TransferFailed if writing failed."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self._pool.get(timeout=max(0.0, min(0.1, deadline - time.monotonic())))
            except queue.Empty:
                self.check()
                if time.monotonic() >= deadline:
                    return None

    def poll(self):
        """A free buffer at once, or None; TransferFailed if writing failed."""
        try:
            return self._pool.get_nowait()
        except queue.Empty:
            self.check()
            return None

    def submit(self, buffer, writes):
        """Queue *writes* [(file offset, start in buffer, length)] of *buffer*."""
        self._worker.submit((buffer[0], buffer[1], writes))

    def check(self):
        """Raise the writer's error (disk full ...) if it had one."""
        error = self._worker.error
        if error is not None:
            raise error if isinstance(error, TransferFailed) else TransferFailed(
                N_("cannot write the received file: {!r}").format(error))

    def abandon(self):
        """Stop the writer thread without caring about its result."""
        self._worker.close(5.0)

    def close(self, timeout=60.0):
        """Wait until everything queued is written; raise its error if any."""
        if not self._worker.close(timeout):
            raise TransferFailed(N_("writing the received file stalled"))
        self.check()


def batch_plan(clients):
    """(batch bytes, batch buffers) per client: 16 x 1 MiB for a few clients, less for many."""
    if clients <= 10:
        return BATCH_BYTES, BATCH_BUFFERS
    return BATCH_BYTES // 4, max(3, 64 // clients)


def missing_text(have, limit=4000):
    """The chunks still missing as 'a-b_c' ranges (cut at *limit* characters, then '...')."""
    missing = []
    seq = have.find(0)
    while seq >= 0:
        missing.append(seq)
        seq = have.find(0, seq + 1)
    text = format_ranges(ranges_of(missing))
    return text if len(text) <= limit else text[:limit] + "..."


def sum_bytes(have, chunk, size):
    """Distinct bytes received, from the chunk bitmap."""
    count = have.count(1)
    if count and have[-1]:
        return (count - 1) * chunk + (size - (len(have) - 1) * chunk)
    return count * chunk


def udp_run_client(config, prompter=None):
    """Run the clients of one test in-process; returns a ClientRunResult."""
    mode = "reliable" if config.reliable else "raw"
    return run_client(config, UDPClientSession, "udp", mode,
                      settings={"timeout": config.timeout, "handshake_timeout": config.handshake_timeout,
                                "idle_timeout": config.idle_timeout or DEFAULT_IDLE_TIMEOUT, "reliable":
                                config.reliable, "server": "{}:{}".format(config.host, config.port)},
                      prompter=prompter)


def handshake_failure(result):
    """The one reason every client failed for before any FILE (no server, refused, BUSY), or None:
    said once in full, since the table and the status lines cut it short."""
    reasons = {rec.reason for rec in result.records}
    if len(reasons) != 1 or any(rec.ok or rec.extra.get("transfer_id") is not None for rec in result.records):
        return None
    reason = reasons.pop()
    return reason or None


CLIENT_COLUMNS = (
    (N_("datagrams"), lambda rec: str(rec.extra.get("datagrams_received", "-"))),
    (N_("missing"), lambda rec: str(rec.extra.get("missing", "-"))),
    (N_("dup"), lambda rec: str(rec.extra.get("duplicates", "-"))),
    (N_("resent"), lambda rec: str(rec.extra.get("resent_datagrams", "-"))),
    (N_("port"), lambda rec: str(rec.server_port)),
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
            sys.stderr.write(_("udp/client.py: {}\n").format(line))
        return result.exit_status
    return run_main(body, "udp/client.py", eof_status=1)


if __name__ == "__main__":
    sys.exit(main())
