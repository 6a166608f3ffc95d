"""Text for people: strings from the wire or the disk made safe to print, and
addresses written the way people type them.

``display`` escapes what could move the cursor, clear the screen, retitle the
window or reorder the line (control characters, DEL, C1 controls, bidi and
other format characters, line separators) and leaves everything else alone:
quotes, backslashes and accented letters print as they are.
"""

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(char):
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    if code <= 0xFF:
        return "\\x{:02x}".format(code)
    if code <= 0xFFFF:
        return "\\u{:04x}".format(code)
    return "\\U{:08x}".format(code)


def display(text, limit=200):
    """*text* (any object; bytes are decoded as UTF-8 with replacement) safe to
    print on one line: non-printable characters become ``\\n``, ``\\x1b``,
    ``\\u202e``...; ordinary text, quotes included, is unchanged.  Text longer
    than *limit* characters is cut and ends with ``...``."""
    if isinstance(text, (bytes, bytearray, memoryview)):
        text = bytes(text).decode("utf-8", errors="replace")
    text = str(text)
    cut = limit is not None and len(text) > limit
    if cut:
        text = text[:limit]
    if not text.isprintable():
        text = "".join(c if c.isprintable() else _escape(c) for c in text)
    return text + "..." if cut else text


def quoted(text, limit=200):
    """``display(text)`` between single quotes: for a name or reason from a peer
    inside a sentence (``file 'x.txt'``)."""
    return "'{}'".format(display(text, limit))


def host_port(host, port):
    """``1.2.3.4:5001``; an IPv6 address in brackets, ``[::1]:5001``; ``?``
    when *host* is None.  The host is escaped with ``display`` (it may come
    from a command line or a peer)."""
    if host is None:
        return "?"
    host = display(host, 100)
    if ":" in host and not host.startswith("["):
        return "[{}]:{}".format(host, port)
    return "{}:{}".format(host, port)


def address_text(address):
    """``host_port`` of a socket address tuple (IPv4 or IPv6)."""
    return host_port(address[0], address[1])
