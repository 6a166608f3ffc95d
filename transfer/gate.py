"""The server's rule for starting a test: the chosen number of clients are
connected and every one of them has sent READY; then all start at once."""

import threading


class TestGate:
    """Counts the clients of one test and releases them together.

    ``join()`` takes a place (False when the test is full or has started);
    ``ready()`` marks that place ready; ``leave()`` gives it back if the
    connection drops before the start.  ``started`` is set when every place
    is taken and ready; ``cancelled`` when the test is abandoned.
    """

    def __init__(self, expected):
        self.expected = expected
        self.joined = 0
        self.ready_count = 0
        self.started = threading.Event()
        self.cancelled = threading.Event()
        self._lock = threading.Lock()

    def join(self):
        """Take a place; False if the test is full, started or cancelled."""
        with self._lock:
            if self.started.is_set() or self.cancelled.is_set() or self.joined >= self.expected:
                return False
            self.joined += 1
            return True

    def ready(self):
        """Mark one joined place as ready; starts the test when it is the last."""
        with self._lock:
            self.ready_count += 1
            if self.ready_count == self.expected and self.joined == self.expected:
                self.started.set()

    def leave(self, was_ready):
        """Give a place back (a connection that dropped before the start)."""
        with self._lock:
            if self.started.is_set():
                return
            self.joined -= 1
            if was_ready:
                self.ready_count -= 1

    def cancel(self):
        """Abandon the test: waiting connections stop waiting."""
        self.cancelled.set()

    def wait_start(self, timeout):
        """Wait up to *timeout* s; True if started, False if not (yet) or cancelled."""
        self.started.wait(timeout)
        return self.started.is_set() and not self.cancelled.is_set()
