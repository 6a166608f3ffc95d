"""Sending-rate control for the UDP server.

``TokenBucket`` paces one sender at a rate in bytes per second: it sleeps in
small slices when the bucket is empty (never a busy-wait, which would starve
the receiving threads on the same machine).  ``AdaptiveRate`` is the reliable
mode's controller: the client's NACK feedback says how many datagrams
arrived and how many gaps appeared; a lossy interval cuts the rate
(multiplicative decrease, at most once per ``HOLD`` seconds); a clean one
raises it, by 15% until the first loss or 1.5 x the starting rate (slow
start, to find the capacity quickly), by a fixed step after that (additive
increase).
"""

import time

MIN_SLEEP = 0.0001          # sleep at least 100 us (Linux granularity is ~50-100 us)
BURST_SECONDS = 0.002       # the bucket holds 2 ms of sending
MIN_BURST = 4               # ... and at least this many datagrams


class TokenBucket:
    """Paces sends to *rate* bytes/s (0 or None = unpaced)."""

    def __init__(self, rate, datagram_size):
        self.datagram_size = datagram_size
        self.rate = 0.0
        self.burst = 0.0
        self.set_rate(rate)
        self.tokens = self.burst
        self.last = time.perf_counter()
        self.sleeps = 0

    def set_rate(self, rate):
        """Change the rate (bytes/s); the bucket depth follows it."""
        self.rate = float(rate or 0)
        self.burst = max(MIN_BURST * self.datagram_size, self.rate * BURST_SECONDS)

    def take(self, size):
        """Wait until *size* bytes may be sent, then spend them."""
        if self.rate <= 0:
            return
        while True:
            now = time.perf_counter()
            tokens = self.tokens + (now - self.last) * self.rate
            self.last = now
            self.tokens = tokens if tokens < self.burst else self.burst
            if self.tokens >= size:
                self.tokens -= size
                return
            wait = (size - self.tokens) / self.rate
            self.sleeps += 1
            time.sleep(wait if wait > MIN_SLEEP else MIN_SLEEP)


class AdaptiveRate:
    """AIMD rate for reliable mode, driven by the client's loss feedback."""

    LOSS_THRESHOLD = 0.01    # a feedback interval with more than 1% gaps counts as congestion
    DECREASE = 0.75          # multiplicative decrease ...
    MAX_CUT = 0.5            # ... or by the fraction lost, down to half, when the loss is heavier
    HOLD = 0.06              # seconds after a decrease during which more loss is the same event
    STEP_FRACTION = 0.04     # additive increase per clean feedback, as a fraction of the start rate
    SLOW_START = 1.15        # multiplicative increase per clean feedback until the first loss ...
    SLOW_START_CAP = 1.5     # ... or until the rate reaches 1.5 x the start (the start is a measured estimate)
    FLOOR_FRACTION = 1 / 16  # the rate never falls below start / 16 (and 1 MB/s)
    CEILING = 4e9            # bytes/s

    def __init__(self, start, ceiling=None):
        self.start = float(start)
        self.rate = self.start
        self.floor = max(1e6, self.start * self.FLOOR_FRACTION)
        self.ceiling = max(self.start, ceiling or self.CEILING)
        self.step = max(1e5, self.start * self.STEP_FRACTION)
        self.last_decrease = 0.0
        self.decreases = 0
        self.increases = 0
        self.lowest = self.rate
        self.highest = self.rate
        self.slow_start = True

    def feedback(self, received, lost, now=None):
        """*received* datagrams arrived and *lost* gaps appeared since the last
        feedback; returns the new rate."""
        now = time.monotonic() if now is None else now
        total = received + lost
        if lost and lost > self.LOSS_THRESHOLD * total:
            self.slow_start = False
            if now - self.last_decrease >= self.HOLD:
                # cut by 25%, or by the fraction lost when that is more (at most by half)
                factor = max(self.MAX_CUT, min(self.DECREASE, 1.0 - lost / total))
                self.rate = max(self.floor, self.rate * factor)
                self.last_decrease = now
                self.decreases += 1
                self.lowest = min(self.lowest, self.rate)
        elif received and now - self.last_decrease >= self.HOLD:
            if self.slow_start and self.rate * self.SLOW_START > self.start * self.SLOW_START_CAP:
                self.slow_start = False
            grown = self.rate * self.SLOW_START if self.slow_start else self.rate + self.step
            self.rate = min(self.ceiling, grown)
            self.increases += 1
            self.highest = max(self.highest, self.rate)
        return self.rate

    def summary(self):
        """Counters for the log."""
        return {"rate_start": round(self.start), "rate_final": round(self.rate), "rate_min": round(self.lowest),
                "rate_max": round(self.highest), "rate_decreases": self.decreases}
