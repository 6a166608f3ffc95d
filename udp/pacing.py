"""Sending-rate control for the UDP server.

``Pacer`` answers "how much may I send now, and when may I send next" for a
rate in bytes per second; it never sleeps, so a batching sender (GSO) and
the session's wait for feedback decide how to spend the time.
``TokenBucket`` paces one sender at a rate in bytes per second: it sleeps in
small slices when the bucket is empty (never a busy-wait, which would starve
the receiving threads on the same machine).  ``AdaptiveRate`` is the reliable
mode's controller: the client's NACK feedback says how many datagrams
arrived and how many gaps appeared; a lossy interval cuts the rate
(multiplicative decrease, at most once per ``HOLD`` seconds); a clean one
raises it, by 15% until the first loss or 1.5 x the starting rate (slow
start, to find the capacity quickly), then by half the starting rate per
second (additive increase, in proportion to the time the feedback covers).
A feedback showing nothing received while the server kept sending (every
datagram lost, e.g. to fragment loss on a slow link) and silence from the
client both count as the heaviest loss (the rate is halved).
"""

import time

MIN_SLEEP = 0.0001          # sleep at least 100 us (Linux granularity is ~50-100 us)
BURST_SECONDS = 0.002       # the bucket holds 2 ms of sending
MIN_BURST = 4               # ... and at least this many datagrams
BIG_BURST_SECONDS = 0.02    # a session's *big_burst* (below) covers at most this much of the rate
LATE_SECONDS = 0.02         # a wait that woke late keeps what it was late for, up to this much of the rate ...
LATE_BYTES = 64 * 1024      # ... and this many bytes (one GSO batch) beyond the bucket


class Pacer:
    """A token bucket that never sleeps: ``next_send_time(now)`` says when the
    next datagram may go, ``allowance(now)`` how many bytes may go at once,
    ``on_sent(nbytes, now)`` spends them.  Rate 0 (or None) = unpaced.

    The bucket holds BURST_SECONDS of the rate (at least MIN_BURST datagrams),
    so a sender may hand the kernel a batch of datagrams in one call;
    *big_burst* datagrams when they are sent within BIG_BURST_SECONDS at the
    rate (udp/server.py ``pacing_burst``: big datagrams, a receiver with room
    for them), so that a fast session wakes up less often while a slow one
    still spreads its datagrams.  ``burst_datagrams`` says how many the bucket
    holds.  *headroom*: the bucket fills at this multiple of every rate it is
    given (a reliable session inside its send window paces above its
    controller's rate; udp/server.py PACING_HEADROOM)."""

    def __init__(self, rate, datagram_size, now=0.0, burst_seconds=BURST_SECONDS, min_burst=MIN_BURST,
                 headroom=1.0, big_burst=0):
        self.datagram_size = max(1, int(datagram_size))
        self.burst_seconds = burst_seconds
        self.min_burst = min_burst
        self.big_burst = big_burst
        self.headroom = float(headroom)
        self.burst_datagrams = min_burst
        self.rate = 0.0
        self.burst = 0.0
        self.set_rate(rate)
        self.tokens = self.datagram_size * 1.0   # the first datagram goes at once, the rest follow the rate
        self.last = now
        self.due = None         # when the sender said it would be back (``waiting_until``)
        self.late_credit = 0.0  # bytes kept beyond the bucket for waits that woke late (for the log)

    def set_rate(self, rate):
        """Change the rate (bytes/s; the bucket fills at *headroom* times it); the bucket depth follows it."""
        self.rate = float(rate or 0) * self.headroom
        big = min(self.big_burst, int(self.rate * BIG_BURST_SECONDS / self.datagram_size))
        self.burst = max(self.min_burst, big) * self.datagram_size
        self.burst = max(self.burst, self.rate * self.burst_seconds)
        self.burst_datagrams = int(self.burst // self.datagram_size)

    def _fill(self, now):
        due, self.due = self.due, None
        if now > self.last:
            if due is not None and self.last < due < now:
                # the sender woke late (other threads held the CPU or the GIL): the bucket fills as if it
                # had woken on time, and what the lateness was worth is kept too, up to LATE_SECONDS of the
                # rate and LATE_BYTES beyond the bucket; without this, ten sessions on two cores sent
                # 0.63-0.91 of their pacing rates (docs/UDP-LINKS.md)
                tokens = min(self.burst, self.tokens + (due - self.last) * self.rate)
                late = min(LATE_SECONDS * self.rate, LATE_BYTES)
                self.tokens = min(self.burst + late, tokens + (now - due) * self.rate)
                self.late_credit += max(0.0, self.tokens - self.burst)
            else:
                tokens = self.tokens + (now - self.last) * self.rate
                self.tokens = tokens if tokens < self.burst else self.burst
        self.last = now if now > self.last else self.last

    def waiting_until(self, at):
        """The sender waits for the bucket until *at* (from ``next_send_time``): if it wakes later, the
        bucket keeps what the lateness was worth (see LATE_SECONDS).  A wait for anything else (the
        send window) must not say so."""
        self.due = at if self.rate > 0 else None

    def allowance(self, now):
        """Bytes that may be sent at *now* (unpaced: unlimited)."""
        if self.rate <= 0:
            return float("inf")
        self._fill(now)
        return self.tokens

    def next_send_time(self, now, count=1):
        """When *count* more datagrams (at most the bucket's depth) may be sent: *now*, or a later time.
        A sender that waits for a few at a time wakes up less often (fewer system calls)."""
        if self.rate <= 0:
            return now
        self._fill(now)
        need = min(self.burst, count * self.datagram_size)
        if self.tokens >= need:
            return now
        return now + (need - self.tokens) / self.rate

    def batch_for(self, seconds, limit):
        """How many datagrams go out in *seconds* at the current rate (1 to *limit*)."""
        if self.rate <= 0:
            return limit
        return max(1, min(limit, int(self.rate * seconds / self.datagram_size)))

    def on_sent(self, nbytes, now):
        """*nbytes* went out at *now*: spend them (the bucket may go below zero after a big batch)."""
        if self.rate <= 0:
            return
        self._fill(now)
        self.tokens -= nbytes


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
    INCREASE_PER_SECOND = 0.5  # additive increase: this fraction of the start rate per second of clean feedback
    MAX_STEP_SECONDS = 0.1   # ... counting at most this much time per feedback
    SLOW_START = 1.15        # multiplicative increase per clean feedback until the first loss ...
    SLOW_START_CAP = 1.5     # ... or until the rate reaches 1.5 x the start (the start is a measured estimate)
    FLOOR_FRACTION = 1 / 16  # the rate never falls below start / 16 (and 1 MB/s)
    CEILING = 4e9            # bytes/s

    def __init__(self, start, ceiling=None):
        self.start = float(start)
        self.rate = self.start
        self.floor = max(1e6, self.start * self.FLOOR_FRACTION)
        self.ceiling = max(self.start, ceiling or self.CEILING)
        self.step = max(1e5, self.start * self.INCREASE_PER_SECOND)   # bytes/s gained per second
        self.last_decrease = 0.0
        self.last_feedback = None
        self.decreases = 0
        self.blackouts = 0
        self.silences = 0
        self.increases = 0
        self.lowest = self.rate
        self.highest = self.rate
        self.slow_start = True

    def _cut(self, factor, now):
        self.slow_start = False
        if now - self.last_decrease >= self.HOLD:
            self.rate = max(self.floor, self.rate * factor)
            self.last_decrease = now
            self.decreases += 1
            self.lowest = min(self.lowest, self.rate)
            return True
        return False

    def feedback(self, received, lost, now=None, blackout=False):
        """*received* datagrams arrived and *lost* gaps appeared since the last
        feedback; *blackout*: the client received nothing new although the
        server kept sending (every datagram lost: counts as the heaviest
        loss, since no gap can show it); returns the new rate."""
        now = time.monotonic() if now is None else now
        elapsed = self.MAX_STEP_SECONDS if self.last_feedback is None else \
            max(0.0, min(self.MAX_STEP_SECONDS, now - self.last_feedback))
        self.last_feedback = now
        total = received + lost
        if blackout:
            if self._cut(self.MAX_CUT, now):
                self.blackouts += 1
        elif lost and lost > self.LOSS_THRESHOLD * total:
            # cut by 25%, or by the fraction lost when that is more (at most by half)
            self._cut(max(self.MAX_CUT, min(self.DECREASE, 1.0 - lost / total)), now)
        elif received and now - self.last_decrease >= self.HOLD:
            if self.slow_start and self.rate * self.SLOW_START > self.start * self.SLOW_START_CAP:
                self.slow_start = False
            # additive increase in proportion to the time covered (the feedback comes every ~20 ms
            # while data flows, less often when the receiver is busy)
            grown = self.rate * self.SLOW_START if self.slow_start else self.rate + self.step * elapsed
            self.rate = min(self.ceiling, grown)
            self.increases += 1
            self.highest = max(self.highest, self.rate)
        return self.rate

    def silence(self, now=None):
        """The client has not been heard for a while although we keep sending
        (link down, receiver swamped): halve the rate; returns it."""
        now = time.monotonic() if now is None else now
        if self._cut(self.MAX_CUT, now):
            self.silences += 1
        return self.rate

    def summary(self):
        """Counters for the log."""
        return {"rate_start": round(self.start), "rate_final": round(self.rate), "rate_min": round(self.lowest),
                "rate_max": round(self.highest), "rate_decreases": self.decreases}
