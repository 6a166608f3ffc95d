"""What travels in UDP datagrams: the binary header of a data datagram and
the control messages (one text line per datagram, the codec of
``transfer.messages``).  PROTOCOL.md ("UDP") describes both byte by byte.

A data datagram is ``HEADER`` (12 bytes) followed by the chunk's bytes::

    offset 0  1 byte   type     0xD1 (>= 0x80, so never the first byte of a control line)
    offset 1  1 byte   version  1
    offset 2  2 bytes  flags    bit 0 = resent (reliable mode); other bits 0
    offset 4  4 bytes  transfer random 32-bit id of the session (from FILE)
    offset 8  4 bytes  seq      chunk number; the data goes at offset seq * chunk
                                (all fields big-endian, struct "!BBHII")
"""

import array
import re
import socket
import struct
import sys

from transfer.errors import ProtocolError
from transfer.i18n import N_
from transfer.messages import (MAX_LINE, Busy, ErrorMessage, Field, FileOffer, FlagField, Hello, HexField,
                               IntField, Message, TextField, build_registry, decode)
from transfer.text import host_port

DATA_TYPE = 0xD1
VERSION = 1
FLAG_RESENT = 0x0001
HEADER = struct.Struct("!BBHII")

# consecutive seqs as an array of 32-bit unsigned ints in network order (the packed send path writes them
# into its headers, the GRO receive path compares its headers with those they make)
SEQ_TYPECODE = next((code for code in "IL" if array.array(code).itemsize == 4), None)
SEQ_ARRAYS = SEQ_TYPECODE is not None


def seq_array(first, count):
    """The seqs first .. first+count-1 as an array of 4-byte unsigned ints in network byte order
    (its type is SEQ_TYPECODE; needs SEQ_ARRAYS)."""
    seqs = array.array(SEQ_TYPECODE, range(first, first + count))
    if sys.byteorder == "little":
        seqs.byteswap()   # to network order
    return seqs


def seq_bytes(first, count):
    """The seqs first .. first+count-1 as 4-byte big-endian numbers, back to back (needs SEQ_ARRAYS)."""
    return seq_array(first, count).tobytes()


HEADER_SIZE = HEADER.size                 # 12
MAX_DATAGRAM = 65507                      # largest UDP payload over IPv4
MIN_DATAGRAM = HEADER_SIZE + 64
MAX_TRANSFER_ID = 2 ** 32 - 1
MAX_SEQ = 2 ** 32 - 1


def is_data(datagram):
    """True when *datagram* (bytes-like, non-empty) starts like a data datagram."""
    return len(datagram) > 0 and datagram[0] == DATA_TYPE


def chunk_count(size, chunk):
    """How many chunks of *chunk* data bytes carry *size* bytes."""
    return (size + chunk - 1) // chunk if size else 0


def chunk_length(seq, size, chunk):
    """Data bytes of chunk *seq* (the last one may be short)."""
    return min(chunk, size - seq * chunk)


def pack_data(transfer, seq, data, resent=False):
    """A whole data datagram (for tests and tools; the sender packs in place)."""
    return HEADER.pack(DATA_TYPE, VERSION, FLAG_RESENT if resent else 0, transfer, seq) + bytes(data)


# --- NACK ranges --------------------------------------------------------------------

RANGE_SEPARATOR = "_"   # unreserved in RFC 3986, so the codec leaves it as is


def format_ranges(ranges):
    """[(3, 7), (9, 9)] -> '3-7_9' (inclusive ranges)."""
    return RANGE_SEPARATOR.join(str(a) if a == b else "{}-{}".format(a, b) for a, b in ranges)


_RANGE = re.compile(r"([0-9]{1,10})(?:-([0-9]{1,10}))?\Z")


def parse_ranges(text, limit=MAX_SEQ):
    """'3-7_9' -> [(3, 7), (9, 9)]; '' -> [].  ProtocolError when malformed
    (ASCII digits only; a range is never expanded here)."""
    if not text:
        return []
    result = []
    for item in text.split(RANGE_SEPARATOR):
        match = _RANGE.match(item)
        if not match:
            raise ProtocolError(N_("bad range {!r}").format(item[:30]))
        a = int(match.group(1))
        b = int(match.group(2)) if match.group(2) is not None else a
        if a > b or b > limit:
            raise ProtocolError(N_("bad range {!r}").format(item[:30]))
        result.append((a, b))
    return result


def ranges_of(missing_seqs):
    """Sorted seqs -> inclusive (a, b) ranges."""
    ranges = []
    for seq in missing_seqs:
        if ranges and ranges[-1][1] == seq - 1:
            ranges[-1] = (ranges[-1][0], seq)
        else:
            ranges.append((seq, seq))
    return ranges


def split_ranges(ranges, budget):
    """Group ranges into texts of at most *budget* characters each."""
    texts, current = [], []
    length = 0
    for a, b in ranges:
        item = str(a) if a == b else "{}-{}".format(a, b)
        extra = len(item) + (1 if current else 0)
        if current and length + extra > budget:
            texts.append(RANGE_SEPARATOR.join(current))
            current, length = [], 0
            extra = len(item)
        current.append(item)
        length += extra
    if current:
        texts.append(RANGE_SEPARATOR.join(current))
    return texts


class RangesField(Field):
    """Inclusive chunk ranges, ``a-b_c_d-e`` (may be empty)."""

    def parse(self, text):
        return parse_ranges(text)

    def format(self, value):
        return value if isinstance(value, str) else format_ranges(value)


# --- control messages ------------------------------------------------------------------

def _transfer():
    return IntField("transfer", 0, MAX_TRANSFER_ID)


_TOKEN = re.compile(r"[0-9a-f]{40}\Z")
HELLO_PADDED = 1024   # every HELLO datagram is padded to this many bytes (see udp/validation.py)


class TokenField(Field):
    """An address token: 40 lowercase hex digits (udp/validation.py)."""

    def parse(self, text):
        if not _TOKEN.match(text):
            raise ProtocolError(N_("{} must be 40 lowercase hex digits").format(self.name))
        return text


class UdpHello(Hello):
    """client -> well-known port: ``HELLO id=<k> total=<n> mode=<raw|reliable> [token=<hex>] pad=<0...>``.

    ``token`` echoes the server's RETRY; ``pad`` makes the datagram HELLO_PADDED
    bytes long, so that the server's answers to an address it has not yet
    validated stay far below three times what it received."""
    FIELDS = Hello.FIELDS + (TextField("mode", 16, required=False, default="raw"),
                             TokenField("token", required=False), TextField("pad", MAX_LINE, required=False))
    PADDED = HELLO_PADDED

    @classmethod
    def padded(cls, **values):
        """The HELLO with ``pad`` filling the line to HELLO_PADDED bytes."""
        message = cls(pad="", **values)
        message.pad = "0" * max(0, cls.PADDED - len(message.encode()))
        return message


class Retry(Message):
    """well-known port -> client: ``RETRY token=<hex>``, the answer to a HELLO
    without a valid token; the client sends HELLO again with ``token=``."""
    VERB = "RETRY"
    FIELDS = (TokenField("token"),)


class UdpFileOffer(FileOffer):
    """session port -> client: the file, the chunk size (data bytes per datagram),
    the transfer id and the mode.  Its source port is the session's port."""
    FIELDS = FileOffer.FIELDS + (IntField("chunk", 1, MAX_DATAGRAM), _transfer(), TextField("mode", 16))


class UdpReady(Message):
    """client -> session: the person confirmed (repeated every second until START);
    ``rcvbuf``: the receive buffer the client's socket got (bytes; optional), which
    bounds the bursts the session sends it (udp/server.py ``pacing_burst``)."""
    VERB = "READY"
    FIELDS = (_transfer(), IntField("rcvbuf", 0, 2 ** 40, required=False))


class Wait(Message):
    """session -> client: READY noted; <ready> of <clients> are ready."""
    VERB = "WAIT"
    FIELDS = (_transfer(), IntField("ready"), IntField("clients"))


class Start(Message):
    """session -> client: data follows (the first data datagram also means start)."""
    VERB = "START"
    FIELDS = (_transfer(),)


class End(Message):
    """session -> client: every chunk was sent once; repeated until the client answers."""
    VERB = "END"
    FIELDS = (_transfer(), IntField("chunks"), IntField("bytes"))


class Nack(Message):
    """client -> session (reliable): chunks to resend and loss feedback for the rate.

    received = data datagrams received so far, lost = gaps found since the
    previous NACK; ranges may be empty (pure feedback).  Optional (old peers
    omit them): bytes = distinct payload bytes received so far, elapsed_us =
    microseconds from the first data datagram received to this NACK,
    highest = highest seq seen so far (the server's delivery-rate samples)."""
    VERB = "NACK"
    FIELDS = (_transfer(), IntField("received"), IntField("lost"), RangesField("ranges", required=False, default=""),
              IntField("bytes", required=False), IntField("elapsed_us", required=False),
              IntField("highest", 0, MAX_SEQ, required=False))


    def encode(self):
        """The wire line; the usual NACK (whole numbers, ranges as text of digits, '-' and '_') is
        formatted in one step, to the same bytes as ``Message.encode`` gives (a NACK goes out every
        few hundred microseconds at full speed)."""
        ranges = self.ranges if isinstance(self.ranges, str) else format_ranges(self.ranges or ())
        numbers = (self.transfer, self.received, self.lost)
        extra = (self.bytes, self.elapsed_us, self.highest)
        if all(type(value) is int for value in numbers) and _RANGES_TEXT.match(ranges):
            if all(type(value) is int for value in extra):
                line = _NACK_FULL % (numbers + (ranges,) + extra)
            elif extra == (None, None, None):
                line = _NACK_SHORT % (numbers + (ranges,))
            else:
                line = None
            if line is not None and len(line) <= MAX_LINE:
                return line.encode("ascii")
        return super().encode()


_NACK_FULL = "NACK transfer=%d received=%d lost=%d ranges=%s bytes=%d elapsed_us=%d highest=%d\n"
_NACK_SHORT = "NACK transfer=%d received=%d lost=%d ranges=%s\n"
_RANGES_TEXT = re.compile(r"[0-9_-]*\Z")
# the NACK lines the fast decoder takes (what Nack.encode writes); any other line goes to the generic codec
_NACK_LINE = re.compile(rb"NACK transfer=([0-9]{1,20}) received=([0-9]{1,20}) lost=([0-9]{1,20}) ranges=([0-9_-]*)"
                        rb"(?: bytes=([0-9]{1,20}) elapsed_us=([0-9]{1,20}) highest=([0-9]{1,20}))?\r?\n?\Z")
_INT_MAX = 2 ** 63 - 1


def _decode_nack(line):
    """The NACK in *line* when it has exactly the form ``Nack.encode`` writes, else None (then the
    generic codec decides, errors included).  Same checks, same result, a fraction of the time."""
    match = _NACK_LINE.match(line)
    if match is None:
        return None
    transfer, received, lost, ranges, nbytes, elapsed, highest = match.groups()
    transfer, received, lost = int(transfer), int(received), int(lost)
    if transfer > MAX_TRANSFER_ID or received > _INT_MAX or lost > _INT_MAX:
        return None
    if nbytes is not None:
        nbytes, elapsed, highest = int(nbytes), int(elapsed), int(highest)
        if nbytes > _INT_MAX or elapsed > _INT_MAX or highest > MAX_SEQ:
            return None
    message = Nack.__new__(Nack)
    message.transfer, message.received, message.lost = transfer, received, lost
    message.ranges = parse_ranges(ranges.decode("ascii")) if ranges else []
    message.bytes, message.elapsed_us, message.highest = nbytes, elapsed, highest
    return message


class Report(Message):
    """client -> session: the result; repeated until BYE (bounded)."""
    VERB = "REPORT"
    FIELDS = (_transfer(), IntField("bytes"), IntField("datagrams"), IntField("missing"), IntField("duplicates"),
              IntField("out_of_order"), HexField("sha256"), FlagField("ok"))


class UdpBye(Message):
    """session -> client: REPORT received; the server's verdict."""
    VERB = "BYE"
    FIELDS = (_transfer(), FlagField("ok"))


class Ping(Message):
    """anyone -> well-known port: echo request."""
    VERB = "PING"
    FIELDS = (IntField("seq", 0, MAX_TRANSFER_ID),)


class Pong(Message):
    """well-known port -> sender of PING: echo reply with the same seq."""
    VERB = "PONG"
    FIELDS = (IntField("seq", 0, MAX_TRANSFER_ID),)


UDP_MESSAGES = build_registry(UdpHello, Retry, UdpFileOffer, Busy, UdpReady, Wait, Start, End, Nack, Report, UdpBye,
                              ErrorMessage, Ping, Pong)

NACK_RANGES_BUDGET = MAX_LINE - len(Nack(transfer=MAX_TRANSFER_ID, received=10 ** 12, lost=10 ** 12,
                                         ranges="", bytes=10 ** 15, elapsed_us=10 ** 13,
                                         highest=MAX_SEQ).encode()) - 8


def decode_control(datagram):
    """A control datagram -> message (ProtocolError when it is not one)."""
    if len(datagram) > MAX_LINE:
        raise ProtocolError(N_("control datagram of {} bytes").format(len(datagram)))
    line = bytes(datagram)
    if line[:5] == b"NACK ":
        message = _decode_nack(line)
        if message is not None:
            return message
    return decode(line, UDP_MESSAGES)


def send_control(sock, message, address):
    """Send one control message; a network error is swallowed (UDP may lose it anyway)."""
    try:
        sock.sendto(message.encode(), address)
        return True
    except OSError:
        return False


# --- socket helpers ----------------------------------------------------------------------

def address_text(address):
    """('1.2.3.4', 5) -> '1.2.3.4:5'; IPv6 in brackets: '[::1]:5'."""
    return host_port(address[0], address[1])


BIG_BUFFER = 64 * 1024 * 1024


def raise_buffers(sock, wanted=BIG_BUFFER):
    """Ask for big SO_RCVBUF/SO_SNDBUF, stepping down until the OS accepts;
    returns (rcvbuf, sndbuf) granted, as read back."""
    granted = []
    for option in (socket.SO_RCVBUF, socket.SO_SNDBUF):
        size = wanted
        while size >= 64 * 1024:
            try:
                sock.setsockopt(socket.SOL_SOCKET, option, size)
            except OSError:
                size //= 2
                continue
            # Linux silently caps at rmem_max/wmem_max (then doubles): stop at the first success
            break
        granted.append(sock.getsockopt(socket.SOL_SOCKET, option))
    return tuple(granted)


IP_RECVERR = 11      # Linux: report ICMP errors (port unreachable ...) on an unconnected socket too
IPV6_RECVERR = 25


def report_icmp_errors(sock, on):
    """Linux: have ICMP errors (port or host unreachable) reported on this unconnected UDP socket's next
    receive (IP_RECVERR), so that a HELLO to a closed port fails at once; a no-op elsewhere."""
    if not sys.platform.startswith("linux"):
        return
    level, option = ((socket.IPPROTO_IPV6, IPV6_RECVERR) if sock.family == socket.AF_INET6
                     else (socket.IPPROTO_IP, IP_RECVERR))
    try:
        sock.setsockopt(level, option, 1 if on else 0)
    except OSError:
        pass


def ignore_connreset(sock):
    """Windows reports an ICMP port unreachable as an error on the next recvfrom
    of a UDP socket (WSAECONNRESET); turn that off where it exists."""
    ioctl = getattr(sock, "ioctl", None)
    code = getattr(socket, "SIO_UDP_CONNRESET", None)
    if ioctl is not None and code is not None:
        try:
            ioctl(code, False)
        except (OSError, ValueError):
            pass
