"""Deadlines: a fixed moment by which a whole phase must be over.

A socket timeout restarts with every byte, so a peer that trickles one byte
at a time never trips it.  A ``Deadline`` is set once, when the phase
starts, and every blocking call of that phase waits only for what is left
of it (``LineReader.read_line(deadline=...)`` uses it that way; so does the
TCP server's HELLO phase).  Both TCP programs use it.
"""

import socket
import time
from transfer.i18n import N_


class Deadline:
    """The moment *seconds* from now (``time.monotonic``); None means never.

    ``remaining()`` is what is left (never negative); ``expired()`` says it
    has passed; ``arm(sock)`` sets the socket's timeout to what is left, or
    raises ``socket.timeout`` when nothing is.
    """

    __slots__ = ("seconds", "at", "_clock")

    def __init__(self, seconds, clock=time.monotonic):
        self._clock = clock
        self.seconds = seconds
        self.at = None if seconds is None else clock() + seconds

    def remaining(self):
        """Seconds left (0.0 once passed; None when there is no deadline)."""
        if self.at is None:
            return None
        return max(0.0, self.at - self._clock())

    def expired(self):
        """True once the deadline has passed."""
        return self.at is not None and self._clock() >= self.at

    def arm(self, sock):
        """Give *sock* a timeout of what is left; ``socket.timeout`` if nothing is."""
        left = self.remaining()
        if left is not None and left <= 0:
            raise socket.timeout(N_("deadline of {:g} s passed").format(self.seconds))
        sock.settimeout(left)

    def __repr__(self):
        return "Deadline({!r}, remaining={!r})".format(self.seconds, self.remaining())
