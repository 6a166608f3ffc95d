"""Datagram I/O for UDP sessions: one sender and one receiver object that hide
whether the kernel batches datagrams (Linux UDP GSO/GRO) or each datagram
costs its own system call (the plain path, everywhere else).

Sender (``DatagramSender``).  ``send(headers, payloads)`` sends consecutive
datagrams, each its own header followed by its payload.  With GSO ("generic
segmentation offload", Linux 4.18+) up to 64 KiB of them go to the kernel in
one ``sendmsg`` carrying a ``UDP_SEGMENT`` control message (level
``IPPROTO_UDP`` = 17, type 103, a native ``u16``: the size of every datagram
but the last, which may be shorter); the kernel cuts the buffer into ordinary
UDP datagrams, so the receiver cannot tell.  The plain path sends one
datagram per call (``sendmsg`` gathers header and payload without a copy
where it exists; Windows copies them into one buffer).

Receiver (``DatagramReceiver``).  With GRO ("generic receive offload",
``setsockopt(IPPROTO_UDP, 104 /* UDP_GRO */, 1)``, Linux 5.0+) one
``recvmsg_into`` may return several datagrams of one source glued together;
a ``UDP_GRO`` control message gives their size (every one but the last has
exactly that size).  ``recv_batch(into, timeout)`` returns them as separate
memoryviews of *into*.  The plain path returns one datagram per call
(``recvfrom_into``, which Windows has too; a datagram that fills the whole
buffer counts as cut).

Python 3.8 lacks the constants; the numbers are the kernel's ABI.  Each
object falls back to the plain path on its first refusal (old kernel, a
device without checksum offload, macOS, Windows) and says which path ran in
``io_path`` ("gso", "gro" or "plain"); ``fallback`` says why it fell back.
"""

import errno
import logging
import socket
import struct
import sys

log = logging.getLogger(__name__)

SOL_UDP = getattr(socket, "SOL_UDP", 17)              # IPPROTO_UDP
UDP_SEGMENT = getattr(socket, "UDP_SEGMENT", 103)     # Linux 4.18
UDP_GRO = getattr(socket, "UDP_GRO", 104)             # Linux 5.0
MAX_GSO_BYTES = 65507          # one GSO send is one UDP "super datagram": at most 65,535 - 20 - 8 bytes
MAX_GSO_SEGMENTS = 64          # the kernel's UDP_MAX_SEGMENTS (raised to 128 in Linux 6.9; 64 is safe)
MIN_RECEIVE_BUFFER = 65536     # *into* must hold a whole GRO batch (up to 64 KiB) plus one byte
MSG_TRUNC = int(getattr(socket, "MSG_TRUNC", 0x20))   # a plain int: ``flags & socket.MSG_TRUNC`` builds an
#                                                       enum.IntFlag each time (1.4 us on 3.11, 3.7 us on 3.8),
#                                                       once per receive on the hot path
WSAEMSGSIZE = 10040            # Windows: the datagram did not fit the buffer
LINUX = sys.platform.startswith("linux")

# errors that mean "this kernel/device/OS does not do GSO here": fall back to the plain path
GSO_REFUSALS = frozenset(code for code in (
    errno.EIO,            # the device has no checksum offload (the kernel cannot segment)
    errno.EINVAL,         # segment + headers above the path MTU, too many segments, checksums off
    errno.EMSGSIZE,
    errno.ENOPROTOOPT,    # a kernel before 4.18
    getattr(errno, "EOPNOTSUPP", None),
    getattr(errno, "ENOTSUP", None),
) if code is not None)

_U16 = struct.Struct("=H")
_INT = struct.Struct("=i")


def _gro_space():
    """Ancillary buffer size for one int cmsg (0 where CMSG_SPACE is missing)."""
    space = getattr(socket, "CMSG_SPACE", None)
    return space(_INT.size) if space is not None else 0


class DatagramSender:
    """Sends data datagrams of at most *segment_size* bytes (header included)
    on *sock*, batched with UDP GSO where the kernel takes it.

    *address* is the destination for an unconnected socket (None: the socket
    is connected).  *gso* False forces the plain path (tests, a ``--no-gso``
    flag).  ``batch`` is how many datagrams one ``send`` call may hand to the
    kernel at once (1 on the plain path): callers gather that many.

    Counters: ``calls`` (system calls made), ``datagrams`` and ``bytes``
    (accepted by the kernel, headers included), ``errors`` (datagrams lost to
    a send error: ICMP unreachable, no buffer space, a full socket).
    """

    def __init__(self, sock, segment_size, address=None, gso=True):
        self.sock = sock
        self.segment_size = segment_size
        self.address = address
        self.calls = self.datagrams = self.bytes = self.errors = 0
        self.fallback = None     # why GSO is not used (None while it is)
        self._sendmsg = getattr(sock, "sendmsg", None)
        self._copy = None        # the plain path's buffer where there is no sendmsg (Windows)
        self.batch = min(MAX_GSO_SEGMENTS, MAX_GSO_BYTES // segment_size) if segment_size > 0 else 1
        reason = None
        if not gso:
            reason = "disabled"
        elif not LINUX or self._sendmsg is None:
            reason = "not Linux" if not LINUX else "no sendmsg"
        elif self.batch < 2:
            reason = "datagrams too big to batch"
        else:
            try:
                sock.getsockopt(SOL_UDP, UDP_SEGMENT)   # a kernel before 4.18 answers ENOPROTOOPT
            except OSError as exc:
                reason = "kernel: {}".format(exc.strerror or exc)
        if reason is not None:
            self._to_plain(reason, quiet=True)
        else:
            self.io_path = "gso"
            self._segment_cmsg = [(SOL_UDP, UDP_SEGMENT, _U16.pack(segment_size))]

    def _to_plain(self, reason, quiet=False):
        self.io_path = "plain"
        self.fallback = reason
        self.batch = 1
        if not quiet:
            log.info("UDP GSO refused (%s): sending one datagram per call", reason)

    def send(self, headers, payloads):
        """Send datagram i = ``headers[i] + payloads[i]`` for each i, in order.

        Every datagram but the last must be exactly ``segment_size`` bytes
        (a shorter one ends a GSO batch early: still correct, just less
        batched).  Returns how many datagrams the kernel accepted; a datagram
        refused by the network (ICMP unreachable, no buffer space) is lost, as
        on the wire, and counted in ``errors``."""
        count = len(headers)
        if self.io_path == "plain":
            return self._send_plain(headers, payloads, 0, count)
        sent = 0
        start = 0
        size = self.segment_size
        while start < count:
            end = start
            limit = min(count, start + self.batch)
            # a batch: full-size datagrams, the last of them may be short
            while end < limit:
                length = len(headers[end]) + len(payloads[end])
                end += 1
                if length != size:
                    if length > size:
                        raise ValueError("datagram of {} bytes above the segment size {}".format(length, size))
                    break
            if end - start == 1 or self.io_path == "plain":
                sent += self._send_plain(headers, payloads, start, end)
            else:
                sent += self._send_gso(headers, payloads, start, end)
            start = end
        return sent

    def send_packed(self, view, count):
        """Send *count* consecutive datagrams packed in the bytes-like *view*:
        each ``segment_size`` bytes (header included), the last one possibly
        shorter (``len(view)`` says where it ends).  With GSO that is one
        ``sendmsg`` of one buffer: no Python object per datagram.  Returns how
        many datagrams the kernel accepted (as ``send``)."""
        if count <= 0:
            return 0
        size = self.segment_size
        if self.io_path == "gso" and count > 1:
            if count > self.batch or len(view) > size * count or len(view) <= size * (count - 1):
                raise ValueError("{} bytes are not {} datagrams of at most {} bytes".format(len(view), count, size))
            try:
                if self.address is None:
                    self._sendmsg((view,), self._segment_cmsg)
                else:
                    self._sendmsg((view,), self._segment_cmsg, 0, self.address)
            except OSError as exc:
                if getattr(exc, "errno", None) not in GSO_REFUSALS:
                    self.calls += 1
                    self.errors += count
                    return 0
                self._to_plain("{} ({})".format(errno.errorcode.get(exc.errno, exc.errno), exc.strerror or exc))
            else:
                self.calls += 1
                self.datagrams += count
                self.bytes += len(view)
                return count
        empty = b""
        headers = [view[i * size:(i + 1) * size] for i in range(count)]
        return self._send_plain(headers, [empty] * count, 0, count)

    def _send_gso(self, headers, payloads, start, end):
        buffers = []
        total = 0
        for i in range(start, end):
            buffers.append(headers[i])
            buffers.append(payloads[i])
            total += len(headers[i]) + len(payloads[i])
        try:
            if self.address is None:
                self._sendmsg(buffers, self._segment_cmsg)
            else:
                self._sendmsg(buffers, self._segment_cmsg, 0, self.address)
        except OSError as exc:
            if getattr(exc, "errno", None) in GSO_REFUSALS:
                self._to_plain("{} ({})".format(errno.errorcode.get(exc.errno, exc.errno), exc.strerror or exc))
                return self._send_plain(headers, payloads, start, end)
            self.calls += 1
            self.errors += end - start
            return 0
        self.calls += 1
        self.datagrams += end - start
        self.bytes += total
        return end - start

    def _send_plain(self, headers, payloads, start, end):
        sent = 0
        sock, address, sendmsg = self.sock, self.address, self._sendmsg
        for i in range(start, end):
            header, payload = headers[i], payloads[i]
            length = len(header) + len(payload)
            self.calls += 1
            try:
                if sendmsg is not None:
                    if address is None:
                        sendmsg((header, payload))
                    else:
                        sendmsg((header, payload), (), 0, address)
                else:
                    if self._copy is None or len(self._copy) < length:
                        self._copy = bytearray(max(length, self.segment_size))
                    view = memoryview(self._copy)
                    view[:len(header)] = header
                    view[len(header):length] = payload
                    if address is None:
                        sock.send(view[:length])
                    else:
                        sock.sendto(view[:length], address)
            except OSError:
                self.errors += 1
                continue
            sent += 1
            self.bytes += length
        self.datagrams += sent
        return sent


class DatagramReceiver:
    """Receives datagrams from *sock*, several per system call with UDP GRO
    where the kernel allows it.

    *gro* False forces the plain path.  Counters: ``calls``, ``datagrams``,
    ``truncated`` (datagrams dropped because they did not fit *into*: a
    datagram longer than the buffer is never returned cut short).
    """

    def __init__(self, sock, gro=True):
        self.sock = sock
        self.calls = self.datagrams = self.truncated = 0
        self.fallback = None
        self._recvmsg_into = getattr(sock, "recvmsg_into", None)
        self._timeout = -1.0
        self._anc = 0
        reason = None
        if not gro:
            reason = "disabled"
        elif not LINUX or self._recvmsg_into is None:
            reason = "not Linux" if not LINUX else "no recvmsg"
        elif not _gro_space():
            reason = "no CMSG_SPACE"
        else:
            try:
                sock.setsockopt(SOL_UDP, UDP_GRO, 1)
            except OSError as exc:   # a kernel before 5.0
                reason = "kernel: {}".format(exc.strerror or exc)
        if reason is None:
            self.io_path = "gro"
            self._anc = _gro_space()
        else:
            self.io_path = "plain"
            self.fallback = reason
            # one datagram per call: recvfrom_into is enough (and cheaper); *into* holds more than any
            # datagram, so a full buffer means one was cut
            self._recvmsg_into = None
        # recv_parts: one datagram scattered over several buffers (header, data, ...): plain path, Unix
        self.can_scatter = self.io_path == "plain" and hasattr(sock, "recvmsg_into")

    def recv_batch(self, into, timeout):
        """Wait up to *timeout* seconds (None: the socket's own) for datagrams.

        Returns (datagrams, source): a list of memoryviews of *into* (one
        per datagram, in arrival order; several only with GRO) and the
        sender's address; ([], None) on timeout or when a network error (an
        ICMP unreachable reported on this socket) ended the wait.  *into*
        should have at least ``MIN_RECEIVE_BUFFER`` bytes: with GRO a smaller
        buffer loses the datagrams that do not fit."""
        sock = self.sock
        if timeout is not None and timeout != self._timeout:
            sock.settimeout(max(timeout, 0.0001))
            self._timeout = timeout
        view = into if isinstance(into, memoryview) else memoryview(into)
        segment = 0
        try:
            if self._recvmsg_into is not None:
                count, ancdata, flags, source = self._recvmsg_into((view,), self._anc)
                if flags & MSG_TRUNC:
                    self.calls += 1
                    self.truncated += 1
                    return [], None
                for level, kind, data in ancdata:
                    if level == SOL_UDP and kind == UDP_GRO and len(data) >= _INT.size:
                        segment = _INT.unpack_from(data)[0]
            else:
                count, source = sock.recvfrom_into(view)
                if count == len(view):   # no MSG_TRUNC here: a full buffer may have been cut
                    self.calls += 1
                    self.truncated += 1
                    return [], None
        except socket.timeout:
            return [], None
        except OSError as exc:
            if getattr(exc, "winerror", None) == WSAEMSGSIZE:
                self.calls += 1
                self.truncated += 1
                return [], None
            if isinstance(exc, (ConnectionResetError, ConnectionRefusedError)):
                return [], None
            raise
        self.calls += 1
        if segment <= 0 or segment >= count:
            self.datagrams += 1
            return [view[:count]], source
        datagrams = [view[offset:min(offset + segment, count)] for offset in range(0, count, segment)]
        self.datagrams += len(datagrams)
        return datagrams, source

    def recv_scattered(self, buffers, timeout):
        """The GRO path's zero-copy receive (only where ``io_path`` is "gro"):
        what one ``recvmsg_into`` returns (one datagram, or several glued
        together) spread over *buffers* in order.  Returns (bytes, segment,
        source): *segment* is the size of every datagram but the last (0
        when the kernel gave one datagram, no ``UDP_GRO`` message); (-1, 0,
        None) on timeout, a network error, or what did not fit *buffers*
        (counted in ``truncated``)."""
        sock = self.sock
        if timeout is not None and timeout != self._timeout:
            sock.settimeout(max(timeout, 0.0001))
            self._timeout = timeout
        try:
            count, ancdata, flags, source = self._recvmsg_into(buffers, self._anc)
        except socket.timeout:
            return -1, 0, None
        except (ConnectionResetError, ConnectionRefusedError):
            return -1, 0, None
        self.calls += 1
        if flags & MSG_TRUNC:
            self.truncated += 1
            return -1, 0, None
        segment = 0
        for level, kind, data in ancdata:
            if level == SOL_UDP and kind == UDP_GRO and len(data) >= _INT.size:
                segment = _INT.unpack_from(data)[0]
        if segment <= 0 or segment >= count:
            segment = 0
            self.datagrams += 1
        else:
            self.datagrams += (count + segment - 1) // segment
        return count, segment, source

    def recv_parts(self, buffers, timeout):
        """The plain path's zero-copy receive (only where ``can_scatter``):
        one datagram spread over *buffers* in order (a header buffer, the
        place its data belongs, a spill buffer).  Returns (bytes, source), or
        (-1, None) on timeout or a network error; a datagram longer than all
        *buffers* together is dropped and counted in ``truncated``."""
        sock = self.sock
        if timeout is not None and timeout != self._timeout:
            sock.settimeout(max(timeout, 0.0001))
            self._timeout = timeout
        try:
            count, _, flags, source = sock.recvmsg_into(buffers)
        except socket.timeout:
            return -1, None
        except (ConnectionResetError, ConnectionRefusedError):
            return -1, None
        self.calls += 1
        if flags & MSG_TRUNC:
            self.truncated += 1
            return -1, None
        self.datagrams += 1
        return count, source


def io_path_text(sender=None, receiver=None):
    """The log's ``io_path`` field: 'send=gso recv=plain' (either part may be absent)."""
    parts = []
    if sender is not None:
        parts.append("send=" + sender.io_path)
    if receiver is not None:
        parts.append("recv=" + receiver.io_path)
    return " ".join(parts)
