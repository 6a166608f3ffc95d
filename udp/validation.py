"""Address validation for the UDP server's well-known port (RFC 9000 section 8,
as QUIC does it), as plain data with no sockets.

A UDP server answers whatever source address a datagram claims.  A host that
can forge source addresses could otherwise make the server send to a machine
that never asked (reflection), more than it was sent (amplification).  So:

* ``TokenIssuer`` makes and checks **tokens**: ``RETRY token=`` is the answer to a
  HELLO without a valid token, and only a HELLO that echoes it takes a place of
  a test.  A token is bound to the client's address and port and to a time
  window, with an HMAC under a key from ``secrets``: it can only be echoed by
  whoever reads datagrams at that address.  Nothing is stored per token.
* ``AddressBudget`` is the anti-amplification limit: until an address is
  validated, the server sends it at most ``FACTOR`` (3) times the bytes it
  received from it.  ``BudgetTable`` keeps one per (ip, port), bounded.
* ``PerSourceRate`` limits answers (PONG) per source IP.
* ``check_offer`` is the client's side: the FILE's ``size`` and ``chunk`` are
  checked against sane limits before anything is allocated from them.

Token layout (40 lowercase hex characters)::

    hex 0-7    window   uint32, floor(unix time / WINDOW), big-endian
    hex 8-39   mac      first 16 bytes of HMAC-SHA256(key, "udp-token|1|<ip>|<port>|<window>")

A token is accepted in its own window and the next one (30 to 60 s).
"""

import collections
import hashlib
import hmac
import secrets
import struct
import threading
import time

from transfer.errors import ProtocolError
from transfer.i18n import N_
from udp.packets import HELLO_PADDED, HEADER_SIZE, MAX_DATAGRAM, MIN_DATAGRAM  # noqa: F401 (HELLO_PADDED: re-exported)

FACTOR = 3                      # RFC 9000 8.1: at most three times the bytes received before validation
WINDOW = 30                     # seconds per token window; a token lives 1 to 2 windows
MAC_BYTES = 16                  # 128 bits of HMAC in every token
TOKEN_HEX = 8 + 2 * MAC_BYTES   # 40
MAX_BUDGETS = 4096              # addresses whose budget is remembered (oldest forgotten first)

MIN_CHUNK = MIN_DATAGRAM - HEADER_SIZE   # data bytes per datagram a client accepts in FILE (64) ...
MAX_CHUNK = MAX_DATAGRAM - HEADER_SIZE   # ... up to the largest UDP payload minus the header (65,495)
MAX_CHUNKS = 2 ** 26            # chunks per file a client accepts (4 TB at the default chunk)


def _mac(key, address, window):
    text = "udp-token|1|{}|{}|{}".format(address[0], address[1], window).encode("ascii", "backslashreplace")
    return hmac.new(key, text, hashlib.sha256).digest()[:MAC_BYTES]


class TokenIssuer:
    """Issues and checks address tokens (stateless: an HMAC under a random key)."""

    def __init__(self, key=None, window=WINDOW, clock=time.time):
        self._key = key if key is not None else secrets.token_bytes(32)
        self.window = window
        self._clock = clock

    def _window(self, now):
        return int((self._clock() if now is None else now) // self.window) & 0xFFFFFFFF

    def token_for(self, address, now=None):
        """The token for *address* (ip, port, ...) in the current window."""
        window = self._window(now)
        return (struct.pack("!I", window) + _mac(self._key, address, window)).hex()

    def check(self, token, address, now=None):
        """True if *token* was issued for *address* in this window or the previous one."""
        if not isinstance(token, str) or len(token) != TOKEN_HEX:
            return False
        try:
            raw = bytes.fromhex(token)
        except ValueError:
            return False
        window = struct.unpack("!I", raw[:4])[0]
        current = self._window(now)
        if (current - window) & 0xFFFFFFFF > 1:
            return False
        return hmac.compare_digest(raw[4:], _mac(self._key, address, window))


class AddressBudget:
    """Bytes received from and sent to one address; ``can_send`` is the
    anti-amplification rule (validated, or sent + n <= FACTOR x received)."""

    __slots__ = ("received", "sent", "validated", "refused")

    def __init__(self):
        self.received = 0
        self.sent = 0
        self.validated = False
        self.refused = 0

    def on_received(self, n):
        """*n* bytes arrived from the address."""
        self.received += n

    def on_sent(self, n):
        """*n* bytes were sent to the address."""
        self.sent += n

    def can_send(self, n):
        """May *n* more bytes go to the address now?"""
        return self.validated or self.sent + n <= FACTOR * self.received

    def validate(self):
        """The address echoed a token: no limit from now on."""
        self.validated = True


class BudgetTable:
    """One ``AddressBudget`` per (ip, port), at most *limit* of them (least
    recently used forgotten first: a forgotten address starts again from zero
    received, so the 3x rule still holds over each budget's life)."""

    def __init__(self, limit=MAX_BUDGETS):
        self.limit = limit
        self._budgets = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, address):
        """The budget of *address* (created empty)."""
        key = (address[0], address[1])
        with self._lock:
            budget = self._budgets.pop(key, None)
            if budget is None:
                budget = AddressBudget()
                while len(self._budgets) >= self.limit:
                    self._budgets.popitem(last=False)
            self._budgets[key] = budget
            return budget

    def __len__(self):
        return len(self._budgets)


class PerSourceRate:
    """A token bucket per source key (e.g. the IP): *rate* answers per second,
    *burst* at once; remembers at most *limit* sources."""

    def __init__(self, rate=2.0, burst=5, limit=MAX_BUDGETS, clock=time.monotonic):
        self.rate, self.burst, self.limit = rate, burst, limit
        self._clock = clock
        self._buckets = collections.OrderedDict()
        self._lock = threading.Lock()

    def allow(self, key, now=None):
        """True if *key* may have one more answer now (and takes it)."""
        now = self._clock() if now is None else now
        with self._lock:
            tokens, last = self._buckets.pop(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            while len(self._buckets) >= self.limit:
                self._buckets.popitem(last=False)
            self._buckets[key] = (tokens, now)
            return allowed


def check_offer(size, chunk):
    """Raise ProtocolError unless a FILE's *size* and *chunk* (data bytes per
    datagram) are within what a client will allocate for."""
    if not MIN_CHUNK <= chunk <= MAX_CHUNK:
        raise ProtocolError(N_("server announced chunks of {:,} bytes (accepted: {:,} to {:,})").format(
            chunk, MIN_CHUNK, MAX_CHUNK))
    chunks = (size + chunk - 1) // chunk
    if size < 0 or chunks > MAX_CHUNKS:
        raise ProtocolError(N_("server announced {:,} bytes in {:,} chunks of {:,} (at most {:,} chunks)").format(
            size, chunks, chunk, MAX_CHUNKS))
