"""Per-connection results, shared by servers, clients, logs and reports.

Field names and meanings are the machine-readable log's (README.md, "Logs")."""

import time

from transfer.text import host_port


class ConnectionRecord:
    """What happened on one connection of a test (either side).

    Times are wall-clock epochs for the first and last byte of the lab's
    interval plus a monotonic duration in milliseconds; ``extra`` holds the
    protocol's own counters (UDP datagram counts and the like).
    """

    BASE_FIELDS = (
        "client_id", "client_ip", "client_port", "server_ip", "server_port", "bytes", "ok", "reason",
        "sha256_expected", "sha256_received", "time_ms", "rate_bytes_per_s", "first_byte_epoch",
        "last_byte_epoch", "saved_as", "partial_as",
    )

    def __init__(self, client_id=None):
        self.client_id = client_id
        self.client_ip = None
        self.client_port = None
        self.server_ip = None
        self.server_port = None
        self.bytes = 0
        self.ok = False
        self.reason = ""
        self.sha256_expected = None
        self.sha256_received = None
        self.time_ms = None
        self.rate_bytes_per_s = None
        self.first_byte_epoch = None
        self.last_byte_epoch = None
        self.saved_as = None
        self.partial_as = None
        self.extra = {}
        self.state = "connecting"
        self._start_monotonic = None

    def set_addresses(self, local, remote, role):
        """Fill the client/server address fields from a socket's two ends."""
        client, server = (local, remote) if role == "client" else (remote, local)
        if client:
            self.client_ip, self.client_port = client[0], int(client[1])
        if server:
            self.server_ip, self.server_port = server[0], int(server[1])

    def start_clock(self):
        """Mark the first byte of the timed interval (idempotent)."""
        if self._start_monotonic is None:
            self._start_monotonic = time.perf_counter()
            self.first_byte_epoch = time.time()

    @property
    def started(self):
        """True once start_clock() ran."""
        return self._start_monotonic is not None

    def stop_clock(self, at=None):
        """Mark the end of the timed interval and compute time and rate.

        *at* is a ``time.perf_counter()`` value when the interval ended
        earlier than now (UDP: the last datagram sent or received)."""
        if self._start_monotonic is None:
            return
        elapsed = (time.perf_counter() if at is None else at) - self._start_monotonic
        self.last_byte_epoch = self.first_byte_epoch + elapsed
        self.time_ms = elapsed * 1000.0
        self.rate_bytes_per_s = self.bytes / elapsed if elapsed > 0 else None

    def elapsed(self):
        """Seconds since start_clock() (0 before it)."""
        if self._start_monotonic is None:
            return 0.0
        return time.perf_counter() - self._start_monotonic

    def fail(self, reason):
        """Mark failed with *reason* (the first reason wins)."""
        self.ok = False
        if not self.reason:
            self.reason = str(reason)

    def to_dict(self):
        """The JSON object for the log's sidecar."""
        data = {name: getattr(self, name) for name in self.BASE_FIELDS}
        data["record"] = "connection"
        data.update(self.extra)
        return data

    @property
    def client_address(self):
        """'ip:port' of the client side, or '?'."""
        return _address(self.client_ip, self.client_port)

    @property
    def server_address(self):
        """'ip:port' of the server side, or '?'."""
        return _address(self.server_ip, self.server_port)


def _address(ip, port):
    return host_port(ip, port)


def aggregate(records):
    """(total bytes, aggregate bytes/s over the union interval or None)."""
    total = sum(r.bytes for r in records)
    starts = [r.first_byte_epoch for r in records if r.first_byte_epoch is not None]
    ends = [r.last_byte_epoch for r in records if r.last_byte_epoch is not None]
    if not starts or not ends:
        return total, None
    span = max(ends) - min(starts)
    return total, (total / span if span > 0 else None)
