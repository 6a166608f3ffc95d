"""Control messages: one line of ASCII, ``VERB key=value ...\\n``, at most
1024 bytes with the newline.  Values are percent-encoded (RFC 3986) when they
hold anything outside ``A-Za-z0-9._~-``.  Unknown keys are ignored; a missing
or malformed required key is a ProtocolError.

Each message type is a class with ``encode()``; ``decode(line, registry)``
turns a line into an instance of the registered class for its verb.  TCP uses
``TCP_MESSAGES``; the UDP programs register their own set on the same base.
"""

import re
import socket
import urllib.parse

from transfer.errors import ProtocolError
from transfer.i18n import N_
from transfer.text import quoted

MAX_LINE = 1024

_VERB = re.compile(rb"[A-Z][A-Z0-9_]{0,31}\Z")
_KEY = re.compile(rb"[a-z][a-z0-9_]{0,31}\Z")
_VALUE = re.compile(rb"(?:[A-Za-z0-9._~\-]|%[0-9A-Fa-f]{2})*\Z")
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")


def quote(value):
    """Percent-encode *value* (str) for the wire; unreserved characters stay."""
    # surrogateescape: a file name that is not valid UTF-8 (os.listdir gives
    # its odd bytes as surrogates) goes out as its own bytes, percent-encoded
    return urllib.parse.quote(str(value), safe="", errors="surrogateescape")


def unquote(value):
    """Decode a wire value (bytes) to str; malformed escapes raise ProtocolError."""
    if not _VALUE.match(value):
        raise ProtocolError(N_("malformed value {!r}").format(value[:40]))
    return urllib.parse.unquote_to_bytes(value).decode("utf-8", errors="replace")


def printable(text, limit=200):
    """*text* safe to print or log, between single quotes: control and terminal
    characters escaped, ordinary text and quotes unchanged (transfer.text.quoted)."""
    return quoted(text, limit)


# --- field kinds -------------------------------------------------------------

class Field:
    """A required (or optional) key of a message, with its parser."""

    def __init__(self, name, required=True, default=None):
        self.name = name
        self.required = required
        self.default = default

    def parse(self, text):
        """Turn the decoded string into the field's value."""
        return text

    def format(self, value):
        """Turn a value into the string to encode."""
        return str(value)


class IntField(Field):
    """A decimal integer within [low, high]."""

    def __init__(self, name, low=0, high=2 ** 63 - 1, **kw):
        super().__init__(name, **kw)
        self.low, self.high = low, high

    def parse(self, text):
        if not (text.isascii() and text.isdigit()) or len(text) > 20:  # "²".isdigit() is True
            raise ProtocolError(N_("{} must be a whole number, got {}").format(self.name, printable(text, 30)))
        value = int(text)
        if not self.low <= value <= self.high:
            raise ProtocolError(N_("{}={} is out of range {}..{}").format(self.name, value, self.low, self.high))
        return value


class FlagField(IntField):
    """0 or 1, as a bool."""

    def __init__(self, name, **kw):
        super().__init__(name, 0, 1, **kw)

    def parse(self, text):
        return bool(super().parse(text))

    def format(self, value):
        return "1" if value else "0"


class HexField(Field):
    """A SHA-256 value: 64 lowercase hex digits."""

    def parse(self, text):
        if not _HEX64.match(text):
            raise ProtocolError(N_("{} must be 64 lowercase hex digits").format(self.name))
        return text


class TextField(Field):
    """Free text up to *max_length* characters (escaped when printed)."""

    def __init__(self, name, max_length=255, **kw):
        super().__init__(name, **kw)
        self.max_length = max_length

    def parse(self, text):
        if len(text) > self.max_length:
            raise ProtocolError(N_("{} is longer than {} characters").format(self.name, self.max_length))
        return text


# --- messages ------------------------------------------------------------------

class Message:
    """Base class: subclasses set VERB and FIELDS."""

    VERB = ""
    FIELDS = ()

    def __init__(self, **values):
        for field in self.FIELDS:
            if field.name in values:
                setattr(self, field.name, values.pop(field.name))
            elif field.required:
                raise TypeError("{} needs {}".format(self.VERB, field.name))
            else:
                setattr(self, field.name, field.default)
        if values:
            raise TypeError("{} has no field {}".format(self.VERB, ", ".join(values)))

    def encode(self):
        """The message as one wire line (bytes, ending in a newline)."""
        parts = [self.VERB]
        for field in self.FIELDS:
            value = getattr(self, field.name)
            if value is None:
                continue
            parts.append("{}={}".format(field.name, quote(field.format(value))))
        line = (" ".join(parts) + "\n").encode("ascii")
        if len(line) > MAX_LINE:
            raise ValueError("{} line is {} bytes, over {}".format(self.VERB, len(line), MAX_LINE))
        return line

    @classmethod
    def from_fields(cls, fields):
        """Build the message from decoded key -> str fields (unknown keys ignored)."""
        values = {}
        for field in cls.FIELDS:
            if field.name in fields:
                values[field.name] = field.parse(fields[field.name])
            elif field.required:
                raise ProtocolError(N_("{} is missing {}").format(cls.VERB, field.name))
        return cls(**values)

    def __eq__(self, other):
        return type(self) is type(other) and vars(self) == vars(other)

    def __repr__(self):
        return "{}({})".format(type(self).__name__, ", ".join(
            "{}={!r}".format(f.name, getattr(self, f.name)) for f in self.FIELDS))


def build_registry(*classes):
    """verb -> class, for decode()."""
    return {cls.VERB: cls for cls in classes}


def split_line(line):
    """Check a raw line and split it into (verb bytes, {key: decoded str})."""
    if len(line) > MAX_LINE:
        raise ProtocolError(N_("line longer than {} bytes").format(MAX_LINE))
    if line.endswith(b"\n"):
        line = line[:-1]
    if line.endswith(b"\r"):
        line = line[:-1]
    if not line:
        raise ProtocolError(N_("empty line"))
    try:
        line.decode("ascii")
    except UnicodeDecodeError:
        raise ProtocolError(N_("line is not ASCII"))
    parts = line.split(b" ")
    verb = parts[0]
    if not _VERB.match(verb):
        raise ProtocolError(N_("bad verb {}").format(printable(verb.decode("ascii"), 40)))
    fields = {}
    for part in parts[1:]:
        if not part:
            continue
        key, sep, value = part.partition(b"=")
        if not sep or not _KEY.match(key):
            raise ProtocolError(N_("bad field {}").format(printable(part.decode("ascii"), 40)))
        fields[key.decode("ascii")] = unquote(value)
    return verb.decode("ascii"), fields


def decode(line, registry):
    """Parse one line into a message of a class in *registry* (ProtocolError otherwise)."""
    verb, fields = split_line(line)
    cls = registry.get(verb)
    if cls is None:
        raise ProtocolError(N_("unknown verb {}").format(printable(verb, 40)))
    return cls.from_fields(fields)


# --- the TCP protocol's messages ----------------------------------------------------

MAX_CLIENT_ID = 100000


class Hello(Message):
    """client -> server: ``HELLO id=<k> total=<n>``."""
    VERB = "HELLO"
    FIELDS = (IntField("id", 1, MAX_CLIENT_ID), IntField("total", 1, MAX_CLIENT_ID))


class FileOffer(Message):
    """server -> client: the file of this test and how many clients it waits for."""
    VERB = "FILE"
    FIELDS = (TextField("name"), IntField("size"), HexField("sha256"), IntField("clients", 1, MAX_CLIENT_ID))


class Busy(Message):
    """server -> client: no room in this test; the server closes."""
    VERB = "BUSY"
    FIELDS = (TextField("reason"),)


class Ready(Message):
    """client -> server: the person confirmed; send when everyone is ready."""
    VERB = "READY"
    FIELDS = ()


class DataHeader(Message):
    """server -> client: exactly *size* bytes of file data follow this line."""
    VERB = "DATA"
    FIELDS = (IntField("size"),)


class Done(Message):
    """client -> server: what arrived and whether it verified."""
    VERB = "DONE"
    FIELDS = (IntField("bytes"), HexField("sha256"), FlagField("ok"))


class Bye(Message):
    """server -> client: the server's verdict; both close."""
    VERB = "BYE"
    FIELDS = (FlagField("ok"),)


class ErrorMessage(Message):
    """either side: something went wrong; the sender closes."""
    VERB = "ERROR"
    FIELDS = (TextField("reason"),)


TCP_MESSAGES = build_registry(Hello, FileOffer, Busy, Ready, DataHeader, Done, Bye, ErrorMessage)


class LineReader:
    """Reads control lines from a stream socket, at most MAX_LINE bytes each.

    Bytes received past a line stay buffered; ``take_buffered()`` hands them
    to whoever reads the data that follows (after ``DATA``).  A closed
    connection raises EOFError; a line too long raises ProtocolError.
    """

    def __init__(self, sock):
        self.sock = sock
        self._buffer = bytearray()

    def read_line(self, deadline=None):
        """The next line, newline included.  With a *deadline*
        (transfer.deadline.Deadline) the whole line must arrive before it
        (``socket.timeout`` otherwise), however the bytes trickle in;
        without one each recv() uses the socket's own timeout."""
        while True:
            end = self._buffer.find(b"\n", 0, MAX_LINE)
            if end >= 0:
                line = bytes(self._buffer[:end + 1])
                del self._buffer[:end + 1]
                return line
            if len(self._buffer) >= MAX_LINE:
                raise ProtocolError(N_("line longer than {} bytes").format(MAX_LINE))
            if deadline is not None:
                deadline.arm(self.sock)
            chunk = self.sock.recv(4096)
            if not chunk:
                if self._buffer:
                    raise EOFError(N_("connection closed in the middle of a line"))
                raise EOFError(N_("connection closed by the peer"))
            self._buffer += chunk

    def read_message(self, registry=TCP_MESSAGES, deadline=None):
        """The next line decoded with *registry* (*deadline* as in read_line)."""
        return decode(self.read_line(deadline), registry)

    def feed(self, data):
        """Add bytes received elsewhere (the server's HELLO phase reads
        without a thread, then hands the rest to a reader)."""
        self._buffer += data

    def take_buffered(self):
        """Bytes already received after the last line (and forget them)."""
        data = bytes(self._buffer)
        self._buffer.clear()
        return data


def send_message(sock, message):
    """Send one message with sendall (never a partial write)."""
    sock.sendall(message.encode())


def send_error_and_close(sock, reason):
    """Best-effort ``ERROR reason=...`` then close; never raises."""
    try:
        sock.settimeout(1.0)
        sock.sendall(ErrorMessage(reason=str(reason)[:200]).encode())
    except (OSError, ValueError):
        pass
    finally:
        close_quietly(sock)


def close_quietly(sock):
    """Shut down and close a socket, ignoring errors."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass
