"""Rate controllers for the UDP server, behind one small interface.

A controller is told what was sent (``on_sent``), what the client reported
(``on_feedback(sample, now)``, from each NACK) and when the client has gone
quiet (``on_silence(now)``); the session paces at ``pacing_rate``.
``log_data()`` gives the counters for the connection log.  Every call takes
*now* (seconds, any monotonic clock): no sockets, no sleeping, unit-tested
as is (the shape of aioquic's congestion control).

Controllers, by name (``make_controller``):

- ``delivery`` (default): pace at the delivery rate the client measures
  (distinct bytes received over its own clock), BBR-style (Cardwell et al.,
  ACM Queue 2016): a start-up that raises the rate by 25% each round while
  what arrives keeps up with what is sent (the start is already an
  informed guess: the --rate or a receiver's datagram budget) up to 1.5 x
  where it started; a probe that arrives in full starts it again from there, then cycles of pacing gains
  (1.25, 0.75, 1 x 6) around the highest delivery rate of the last second.
  A standing queue (the client's clock shows seq *highest* arriving more
  than QUEUE_TARGET later than the quickest delivery seen) means the
  estimate is too high: drain and restart it from what arrived.
  Loss is a secondary signal: a round with more than LOSS_THRESHOLD of its
  datagrams lost forgets the older, higher samples (the estimate drops to
  that round's delivery rate, by at most 30%) and drains.  The floor (FLOOR) is
  far below any real link.  A sample taken while the session sent less
  than KEEP_UP of what its pacing rate allowed (app-limited, in BBR's words:
  its thread woke late, or it had little left to send) may raise the
  estimate, never lower it.
  The windowed variant (``windowed=True``; made for raw mode, which cannot
  resend, so what a queue drops is lost) keeps
  a send window (``window``: bytes in flight beyond the seq the client last
  reported, 20 ms of the measured delivery rate, 256 KiB (split between the
  sessions of a test, at least 40 datagrams) to 4 MiB) that the
  session enforces, so an overshoot queues at most that much, whatever the
  pacing rate; a round in which the window filled counts as a standing queue.
  Its start-up therefore doubles the rate per round with no cap (a queue ends it,
  bringing the rate down to what arrived, at most to half the best sample); a
  round ends as soon as its deliveries over QUICK_SPAN (4 ms of the client's
  clock) kept up with what was sent at the rate, so a fast path is found in
  a few milliseconds rather than a few 25 ms rounds (``_quick_round``); and
  it probes gently (gains 1.1, 0.9, 1, 1: every 100 ms) and restarts start-up
  only when a probe showed the delivery rate grow by 5%.
  The server uses this windowed variant for reliable sessions too: there a
  drop is not lost for good, but it costs a NACK, a resend and, past a gap,
  a read-back of the file, and the window's quicker start-up matters on a
  short transfer (docs/UDP-LINKS.md has the figures).  ``windowed=False`` (no
  window, start-up by 25% per round up to 1.5 x, gains 1.25/0.75) is kept
  for the simulations that compare the two.
- ``aimd``: the older loss-driven controller (``udp.pacing.AdaptiveRate``).
- ``fixed``: a constant rate (raw mode with ``--rate``).
"""

import collections

from udp.pacing import AdaptiveRate

FEEDBACK_FIELDS = ("received", "lost", "bytes", "elapsed_us", "highest", "queue_delay")


class FeedbackSample:
    """What one NACK says: *received* datagrams so far, *lost* gaps since the
    previous NACK, and (newer clients) *bytes* of distinct payload received,
    *elapsed_us* since the first data datagram, *highest* seq seen.
    *queue_delay* (seconds, set by the sender, None when unknown): how much
    longer than the shortest seen the path took to deliver seq *highest*
    (the client's clock against the time we sent it), i.e. the queue
    standing in front of the receiver (link queue, socket buffer)."""

    __slots__ = FEEDBACK_FIELDS

    def __init__(self, received=0, lost=0, bytes=None, elapsed_us=None, highest=None, queue_delay=None):
        self.received, self.lost = received, lost
        self.bytes, self.elapsed_us, self.highest = bytes, elapsed_us, highest
        self.queue_delay = queue_delay

    @classmethod
    def from_nack(cls, nack):
        """The sample carried by a ``udp.packets.Nack``."""
        return cls(nack.received, nack.lost, getattr(nack, "bytes", None), getattr(nack, "elapsed_us", None),
                   getattr(nack, "highest", None))

    def delivery_rate(self):
        """Bytes/s received over the client's clock so far, or None when unknown."""
        if self.bytes is None or not self.elapsed_us:
            return None
        return self.bytes * 1e6 / self.elapsed_us


class RateControl:
    """The interface (and a constant rate).  Subclasses override what they use."""

    NAME = "fixed"

    def __init__(self, start, datagram_size=1472):
        self.start = float(start or 0)
        self.pacing_rate = self.start
        self.datagram_size = datagram_size
        self.bytes_sent = 0
        self.datagrams_sent = 0
        self.feedbacks = 0
        self.silences = 0
        self.window = None      # bytes that may be in flight beyond the client's report (None: the session's)

    def on_sent(self, nbytes, datagrams, now):
        """*datagrams* datagrams carrying *nbytes* bytes went out at *now*."""
        self.bytes_sent += nbytes
        self.datagrams_sent += datagrams

    def on_feedback(self, sample, now):
        """A NACK arrived (a ``FeedbackSample``); returns the pacing rate."""
        self.feedbacks += 1
        return self.pacing_rate

    def on_silence(self, now):
        """Nothing heard from the client for a while although data is going out."""
        self.silences += 1
        return self.pacing_rate

    def log_data(self):
        """Counters for the connection log."""
        return {"rate_control": self.NAME, "rate_start": round(self.start), "rate_final": round(self.pacing_rate),
                "rate_silences": self.silences}


class AimdControl(RateControl):
    """Today's AIMD (``udp.pacing.AdaptiveRate``) behind the interface."""

    NAME = "aimd"
    BLACKOUT_DATAGRAMS = 8   # a NACK with nothing new received although this many datagrams ...
    BLACKOUT_SECONDS = 0.1   # ... and this much time went by since the count last grew = heavy loss

    def __init__(self, start, datagram_size=1472):
        super().__init__(start, datagram_size)
        self.aimd = AdaptiveRate(start)
        self.pacing_rate = self.aimd.rate
        self.received = 0
        self.progress_sent = 0
        self.progress_at = None

    def on_feedback(self, sample, now):
        self.feedbacks += 1
        if self.progress_at is None:
            self.progress_at = now
        if sample.received > self.received:
            delta = sample.received - self.received
            self.received = sample.received
            self.progress_sent, self.progress_at = self.datagrams_sent, now
            self.pacing_rate = self.aimd.feedback(delta, sample.lost, now)
        elif sample.received == self.received:
            # nothing new arrived: if we kept sending meanwhile, every datagram was lost
            blackout = (self.datagrams_sent - self.progress_sent >= self.BLACKOUT_DATAGRAMS
                        and now - self.progress_at >= self.BLACKOUT_SECONDS)
            self.pacing_rate = self.aimd.feedback(0, sample.lost, now, blackout=blackout)
        return self.pacing_rate

    def on_silence(self, now):
        self.silences += 1
        self.pacing_rate = self.aimd.silence(now)
        return self.pacing_rate

    def log_data(self):
        data = super().log_data()
        data.update(self.aimd.summary())
        data["rate_blackouts"], data["rate_silences"] = self.aimd.blackouts, self.aimd.silences
        return data


class DeliveryRateControl(RateControl):
    """Pace at the measured delivery rate, probing above it (see the module docstring)."""

    NAME = "delivery"
    ROUND = 0.025                 # seconds: one round (start-up step, one gain phase)
    STARTUP_GROWTH = 1.25         # start-up: the rate grows by this per round while the client keeps up ...
    KEEP_UP = 0.9                 # ... i.e. receives at least this fraction of the rate we paced at
    STARTUP_CAP = 1.5             # ... or until it reaches 1.5 x the starting rate
    STARTUP_PATIENCE = 3          # ... and ends after this many rounds without growth (or at the first loss)
    OVERSHOOT = 0.5               # start-up: a sample under this fraction of the rate brings the rate down to it
    GAINS = (1.25, 0.75, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0)   # probe, drain, cruise (one round each)
    DRAIN_GAIN = 0.75             # the round after start-up: empty the queue start-up built
    BW_WINDOW = 1.0               # seconds: the delivery-rate estimate is the highest sample this recent
    SAMPLE_SPAN = 0.02            # seconds of the client's clock one delivery sample spans at least
    FIRST_SPAN = 0.002            # ... except the first samples (from the first datagram on)
    LOSS_THRESHOLD = 0.05         # a round losing more than this fraction of its datagrams ...
    LOSS_BETA = 0.7               # ... lowers the estimate to its own delivery rate, by at most 30% per round
    SILENCE_CUT = 0.5             # silence halves the rate
    QUEUE_TARGET = 0.015          # seconds: a round whose smallest queue delay is above this has a standing
    #                               queue (we pace above the path's rate): drain, and restart the estimate
    QUEUE_BYTES = 2 * 1024 * 1024   # ... or above this many bytes at the estimated rate (at least QUEUE_MIN)
    QUEUE_MIN = 0.002
    QUEUE_BETA = 0.9
    FLOOR = 250 * 1000            # bytes/s: far below any real link (<= 1 MB/s)
    CEILING = 4e9
    # Raw mode cannot resend, so what a queue drops is lost for good.  The windowed variant (made for raw
    # mode, used for both) therefore probes gently and keeps at most a window of data beyond what the client
    # has reported receiving (its ``highest`` seq):
    # WINDOW_SECONDS of the delivery-rate estimate, at least WINDOW_MIN (split between the sessions of a
    # test, but at least MIN_DATAGRAMS), at most WINDOW_MAX.  Whatever the pacing rate, the queue
    # in front of the receiver (a link's queue, the receiver's socket buffer while it is descheduled) then
    # never holds more than the window: 256 KiB = 21 ms of a 100 Mbit/s link, whose tbf queue here holds
    # 50 ms; 4 MiB = half the 8 MiB socket buffer a receiver gets on Linux.
    WINDOWED_GAINS = (1.1, 0.9, 1.0, 1.0)   # a shorter cycle: a cut too deep (a receiver's stall) is undone sooner
    WINDOWED_GROWN = 1.05         # a probe restarts start-up only when delivery grew this much
    WINDOWED_STARTUP_GROWTH = 2.0  # start-up doubles the rate per round, with no cap: the send window
    #                               bounds what an overshoot queues, the queue (or a full window) ends it
    WINDOW_SECONDS = 0.02
    WINDOW_MIN = 256 * 1024
    WINDOW_MAX = 4 * 1024 * 1024
    FEEDBACK_DATAGRAMS = 32
    MIN_DATAGRAMS = 40
    WINDOW_FULL = 0.75            # in flight beyond the client's report, this fraction of the window = full
    QUICK_SPAN = 0.004            # windowed start-up: a round whose deliveries over this much of the client's
    QUICK_DATAGRAMS = 64          # clock (and this many datagrams) kept up with the rate ends at once (_quick_round)

    def __init__(self, start, datagram_size=1472, windowed=False, share=1):
        super().__init__(start, datagram_size)
        self.windowed = bool(windowed)
        self.share = max(1, int(share or 1))    # sessions sharing the path (WINDOW_MIN is split)
        if self.windowed:
            self.GAINS = self.WINDOWED_GAINS
        self.pacing_rate = max(self.FLOOR, self.start or self.CEILING)
        self.mode = "startup"
        self.round_start = None
        self.round_rate = self.pacing_rate      # the rate paced at during the current round
        self.round_lost = 0
        self.round_received = 0
        self.round_queue = None                 # the smallest queue delay reported during the round
        self.round_sent = 0                     # bytes_sent when the round began
        self.round_window_full = False          # the send window was (nearly) full during the round
        self.window_rounds = 0
        self.queue_rounds = 0
        self.overshoots = 0
        self.prev_received = 0
        self.phase = 0
        self.history = collections.deque()      # (client seconds, bytes) of recent feedback
        self.samples = collections.deque()      # (now, rate): decreasing rates (sliding maximum)
        self.bw = None                          # the delivery-rate estimate (max of recent samples)
        self.last_sample = None
        self.startup_rounds = 0
        self.startup_grown = 0
        self.startup_base = self.pacing_rate
        self.restarts = 0
        self.loss_rounds = 0
        self.lowest = self.highest = self.pacing_rate
        self.last_delivery = None               # bytes/s over the whole transfer so far (client's clock)
        self.span_rate = None                   # the highest recent sample over a full SAMPLE_SPAN (bytes/s)
        self.span_samples = collections.deque() # (now, rate): decreasing full-span rates (sliding maximum)
        self.round_base = None                  # (client seconds, bytes) of the feedback that began the round
        self.quick_rate = None                  # the best delivery rate of a round ended by _quick_round
        self.quick_rounds = 0
        self.window = self.send_window() if self.windowed else None
        self.window_max = self.window
        self.paced_bytes = 0.0                  # what the pacing rate allowed so far (bytes; see _account)
        self.accounted_at = None
        self.send_history = collections.deque() # (now, bytes_sent, paced_bytes) at recent feedback
        self.app_limited = False                # the latest feedback came while we sent below the pacing rate
        self.app_limited_samples = 0

    def send_window(self):
        """The windowed variant: the bytes that may be in flight beyond what the client reported receiving
        (see WINDOW_SECONDS); otherwise None (the session's own limit applies)."""
        if not self.windowed:
            return None
        # at least MIN_DATAGRAMS, a few more than the client receives between two reports (FEEDBACK_DATAGRAMS):
        # no more, since the sessions of a test start together and their windows land in the same queue
        window = max(self.WINDOW_MIN // self.share, self.MIN_DATAGRAMS * self.datagram_size)
        if self.span_rate:
            # the highest full-span sample of the last second: a cut in the pacing rate (a receiver's
            # stall) does not shrink the window, which would then fill with the feedback's own delay
            window = max(window, self.span_rate * self.WINDOW_SECONDS)
        if self.quick_rate and self.mode == "startup":
            window = max(window, self.quick_rate * self.WINDOW_SECONDS)   # during start-up (no full span needed)
        return int(min(self.WINDOW_MAX, window))

    # -- delivery samples ---------------------------------------------------------------
    def _sample(self, sample, now):
        """A delivery-rate sample (bytes/s) from this feedback, or None."""
        if sample.bytes is None or sample.elapsed_us is None:
            # an older client: count datagrams on our own clock
            t, b = now, sample.received * float(self.datagram_size)
        else:
            t, b = sample.elapsed_us / 1e6, float(sample.bytes)
        history = self.history
        if history and t < history[-1][0]:
            return None   # out of order (an older NACK arriving late)
        history.append((t, b))
        base = None
        while len(history) > 1 and t - history[1][0] >= self.SAMPLE_SPAN:
            history.popleft()
        if t - history[0][0] >= self.SAMPLE_SPAN:
            base = history[0]
            if t > base[0]:
                # a full-span sample: what the window may trust (the first, shorter ones are inflated by
                # a shaper's burst or a queue emptying at line rate)
                self._span_sample((b - base[1]) / (t - base[0]), now)
        elif sample.elapsed_us is not None and t >= self.FIRST_SPAN and len(history) <= 3:
            base = (0.0, 0.0)   # the first samples: since the first datagram
        if base is None or t <= base[0]:
            return None
        return (b - base[1]) / (t - base[0])

    def _span_sample(self, rate, now):
        if self.app_limited and self.span_rate is not None and rate < self.span_rate:
            return   # app-limited (_check_app_limited): it says nothing about the path
        self.span_rate = self._slide(self.span_samples, rate, now)

    def _account(self, now):
        """Add what the pacing rate allowed since the last call to ``paced_bytes``."""
        if self.accounted_at is not None and now > self.accounted_at:
            self.paced_bytes += self.pacing_rate * (now - self.accounted_at)
        if self.accounted_at is None or now > self.accounted_at:
            self.accounted_at = now

    def _check_app_limited(self, now, window_full):
        """BBR's app-limited rule: over the last SAMPLE_SPAN (our clock), did we send less than KEEP_UP of
        what the pacing rate allowed, with the send window not full (*window_full*: it is)?  Then this
        feedback's delivery samples measure the sender (a thread late to wake on a busy CPU, little left
        to send), not the path, and may raise the estimate but never lower it (``app_limited``):
        otherwise a session that cannot keep up with its own pacing sees what it managed to send arrive,
        lowers its rate to that, then manages less again (10 raw sessions at 1 Gbit/s: one session's
        estimate sank from 4.5 to 2.2 MB/s in 10 s, docs/UDP-LINKS.md)."""
        sends = self.send_history
        sends.append((now, self.bytes_sent, self.paced_bytes))
        while len(sends) > 2 and now - sends[1][0] >= self.SAMPLE_SPAN:
            sends.popleft()
        then, sent_then, paced_then = sends[0]
        paced = self.paced_bytes - paced_then
        limited = (now - then >= self.SAMPLE_SPAN and paced > 0 and not window_full
                   and self.bytes_sent - sent_then < self.KEEP_UP * paced)
        if limited:
            self.app_limited_samples += 1
        return limited

    def _slide(self, samples, rate, now):
        """Add *rate* to the sliding maximum *samples* (BW_WINDOW seconds); returns the maximum."""
        while samples and samples[-1][1] <= rate:
            samples.pop()
        samples.append((now, rate))
        while now - samples[0][0] > self.BW_WINDOW:
            samples.popleft()
        return samples[0][1]

    def _add_sample(self, rate, now):
        self.bw = self._slide(self.samples, rate, now)
        self.last_sample = rate

    def _forget_older(self, rate, now):
        """Loss: the older, higher samples no longer hold."""
        self.samples.clear()
        self._add_sample(rate, now)

    # -- the interface ------------------------------------------------------------------------
    def on_sent(self, nbytes, datagrams, now):
        self._account(now)
        super().on_sent(nbytes, datagrams, now)
        if self.round_start is None:
            self._new_round(now)
            self.round_sent = self.bytes_sent - nbytes

    def on_feedback(self, sample, now):
        self.feedbacks += 1
        self._account(now)
        window_full = bool(self.windowed and self.window and sample.highest is not None and (
            self.datagrams_sent - 1 - sample.highest) * self.datagram_size >= self.WINDOW_FULL * self.window)
        if window_full:
            self.round_window_full = True
        self.app_limited = self._check_app_limited(now, window_full)
        delivered = sample.delivery_rate()
        if delivered is not None:
            self.last_delivery = delivered
        rate = self._sample(sample, now)
        if rate is not None:
            if self.app_limited and self.bw is not None and rate < self.bw:
                self.last_sample = rate   # the latest measurement, not the path's rate (_check_app_limited)
            else:
                self._add_sample(rate, now)
        self.round_lost += sample.lost
        if sample.queue_delay is not None:
            self.round_queue = sample.queue_delay if self.round_queue is None else \
                min(self.round_queue, sample.queue_delay)
        if sample.received > self.prev_received:
            self.round_received += sample.received - self.prev_received
            self.prev_received = sample.received
        if self.round_start is None:
            self._new_round(now)
        if (self.mode == "startup" and rate is not None and now - self.round_start >= self.FIRST_SPAN
                and rate < self.OVERSHOOT * self.round_rate and self._sent_rate(now) >= self.KEEP_UP * self.round_rate):
            # far above what arrives: come down to it now (a queue may hide the loss for a while), and
            # go on with start-up from there
            # (at most to half the best recent sample: one low sample may be a receiver's short stall)
            self.overshoots += 1
            self._set(max(rate, self.OVERSHOOT * self.bw))
            self._new_round(now)
        elif self._quick_round(sample, now):
            pass   # this round kept up: the next began at once, at twice the rate
        elif now - self.round_start >= self.ROUND and self.bw is not None:
            self._end_round(now)
        if self.round_base is None and sample.bytes is not None and sample.elapsed_us is not None:
            self.round_base = (sample.elapsed_us / 1e6, float(sample.bytes))
        if self.windowed:
            self.window = self.send_window()
            self.window_max = max(self.window_max, self.window)
        return self.pacing_rate

    def _quick_round(self, sample, now):
        """The windowed start-up on a fast path: once the deliveries of this round (the client's clock,
        from the feedback that began it) span QUICK_SPAN and QUICK_DATAGRAMS and kept up with what was
        sent, with nothing lost and no queue: if we sent at the rate, the round ends now, not after
        ROUND, and the rate doubles; either way the window may hold WINDOW_SECONDS of what arrived
        (TCP's slow start grows its window on the same evidence).  Without it a one-client transfer
        through the unshaped lab spent its first 50-65 ms of about 200 below 350 MB/s
        (docs/UDP-LINKS.md).  A slow link never keeps up with the starting rate, so nothing changes
        there.  True if the round ended."""
        base = self.round_base
        if not self.windowed or self.mode != "startup" or base is None or sample.bytes is None or \
                sample.elapsed_us is None:
            return False
        span = sample.elapsed_us / 1e6 - base[0]
        delivered = sample.bytes - base[1]
        if span < self.QUICK_SPAN or delivered < self.QUICK_DATAGRAMS * self.datagram_size:
            return False
        rate = delivered / span
        sent = self._sent_rate(now)
        if rate < self.KEEP_UP * sent or self.round_lost or \
                (sample.queue_delay is not None and sample.queue_delay > self.QUEUE_MIN):
            return False   # less arrived than went out, or it waited in a queue
        if sent < self.KEEP_UP * self.round_rate:
            if self.round_window_full and rate > (self.quick_rate or 0.0):
                self.quick_rate = rate   # the window held us back and what went out arrived: it may grow
            return False   # (the rate stays: it was not what held us back)
        self.quick_rate = max(self.quick_rate or 0.0, rate)
        self.quick_rounds += 1
        self.startup_rounds += 1
        self.startup_grown = self.startup_rounds
        self._add_sample(rate, now)
        self._set(max(self.round_rate, rate) * self.WINDOWED_STARTUP_GROWTH)
        self._new_round(now)
        return True

    def _sent_rate(self, now):
        """What we really sent per second during this round (at most the pacing rate): less when
        there was little to send (the end of a transfer), so what arrives is not held against the path."""
        elapsed = now - self.round_start if self.round_start is not None else 0.0
        if elapsed <= 0:
            return self.round_rate
        return min(self.round_rate, (self.bytes_sent - self.round_sent) / elapsed)

    def _new_round(self, now):
        self.round_start = now
        self.round_lost = self.round_received = 0
        self.round_queue = None
        self.round_sent = self.bytes_sent
        self.round_window_full = False
        self.round_bw = self.bw
        self.round_base = None

    def queue_target(self):
        """Seconds of standing queue that count as too much: QUEUE_TARGET, or less at high rates so the
        queue stays under QUEUE_BYTES (a receiver's socket buffer is a few MiB)."""
        if not self.bw:
            return self.QUEUE_TARGET
        return min(self.QUEUE_TARGET, max(self.QUEUE_MIN, self.QUEUE_BYTES / self.bw))

    def _end_round(self, now):
        total = self.round_lost + self.round_received
        lossy = total > 0 and self.round_lost > self.LOSS_THRESHOLD * total
        queued = self.round_queue is not None and self.round_queue > self.queue_target()
        if self.round_window_full and not queued and self.round_queue is not None and \
                self.round_queue >= self.QUEUE_MIN:
            # windowed: the send window filled and what we sent waits in a queue (or in the receiver's buffer):
            # the path takes less than the pacing rate; that counts as a standing queue (a full window
            # with no queue is only the feedback's own delay)
            queued = True
            self.window_rounds += 1
        latest = self.last_sample if self.last_sample is not None else self.bw
        sent_rate = self._sent_rate(now)
        app_limited = sent_rate < self.KEEP_UP * self.round_rate
        if queued:
            self.queue_rounds += 1
        if self.mode == "startup" and queued and not lossy:
            # what we send waits in a queue: the path's rate is what arrives
            self.mode = "probe"
            self.phase = 1
            if self.windowed:
                # (windowed: at most down to half the best sample, as for an overshoot: the queue may be a
                # receiver's short stall, and the send window bounds what a rate too high can queue)
                latest = max(latest, self.OVERSHOOT * self.bw)
            self._forget_older(latest, now)
            self._set(latest * self.GAINS[1])
        elif self.mode == "startup" and app_limited and not lossy:
            pass   # we had less to send than the rate allowed: nothing learnt about the path
        elif self.mode == "startup":
            self.startup_rounds += 1
            if latest >= self.KEEP_UP * self.round_rate:
                self.startup_grown = self.startup_rounds
            if not self.windowed and not lossy and latest >= self.KEEP_UP * self.round_rate and \
                    self.round_rate * self.STARTUP_GROWTH > self.STARTUP_CAP * self.startup_base:
                # as far as start-up goes: the start is an informed guess (--rate, or a receiver's measured
                # budget); above it, the probing cycles find more, 25% at a time
                self.mode = "probe"
                self.phase = len(self.GAINS) - 1
                self._set(self.bw * self.GAINS[0])     # probe at once: if that arrives too, start-up again
                self.phase = 0
            elif not lossy and latest >= self.KEEP_UP * self.round_rate:
                growth = self.WINDOWED_STARTUP_GROWTH if self.windowed else self.STARTUP_GROWTH
                self._set(max(self.round_rate, latest) * growth)
            elif not lossy and self.startup_rounds - self.startup_grown < self.STARTUP_PATIENCE:
                pass   # less arrived than was sent, but nothing lost: a queue filling (or a slow start): wait
            else:
                # the path (or the receiver) took less than we sent: that is its rate
                self.mode = "probe"
                self.phase = len(self.GAINS) - 1   # next round: the probe ... after a drain
                if lossy:
                    self.loss_rounds += 1
                    self._forget_older(max(latest, self.LOSS_BETA * self.bw), now)
                self._set(min(self.bw, latest) * self.DRAIN_GAIN)
        else:
            if lossy:
                self.loss_rounds += 1
                self._forget_older(max(latest, self.LOSS_BETA * self.bw), now)
                self.phase = 1   # drain next
                self._set(self.bw * self.GAINS[1])
            elif queued:
                # a standing queue: the estimate is above the path's rate (noisy samples); what arrived
                # while the queue stood is the path's rate: start again from it (at most 10% lower), draining
                self._forget_older(max(min(self.bw, latest), self.QUEUE_BETA * self.bw), now)
                self.phase = 1
                self._set(self.bw * self.GAINS[1])
            elif self.phase == 0 and not app_limited and latest >= self.KEEP_UP * self.round_rate and \
                    (not self.windowed or latest >= self.WINDOWED_GROWN * self.round_bw):
                # the probe arrived in full: the path has room above the estimate: start-up again from here
                self.mode = "startup"
                self.startup_base = self.round_rate
                self.startup_grown = self.startup_rounds
                self.restarts += 1
                self._set(self.round_rate * self.STARTUP_GROWTH)
            else:
                self.phase = (self.phase + 1) % len(self.GAINS)
                self._set(self.bw * self.GAINS[self.phase])
        self._new_round(now)

    def _set(self, rate):
        self.pacing_rate = min(self.CEILING, max(self.FLOOR, rate))
        self.round_rate = self.pacing_rate
        self.lowest = min(self.lowest, self.pacing_rate)
        self.highest = max(self.highest, self.pacing_rate)

    def on_silence(self, now):
        self._account(now)
        self.silences += 1
        self.mode = "probe" if self.mode == "startup" else self.mode
        self.samples.clear()
        self.bw = None
        self._set(self.pacing_rate * self.SILENCE_CUT)
        self._new_round(now)
        return self.pacing_rate

    def log_data(self):
        data = super().log_data()
        data.update({"rate_min": round(self.lowest), "rate_max": round(self.highest),
                     "rate_estimate": round(self.bw) if self.bw is not None else None,
                     "rate_startup_rounds": self.startup_rounds, "rate_loss_rounds": self.loss_rounds,
                     "rate_queue_rounds": self.queue_rounds, "rate_overshoots": self.overshoots,
                     "rate_startup_restarts": self.restarts,
                     "rate_app_limited_samples": self.app_limited_samples, "rate_quick_rounds": self.quick_rounds})
        if self.windowed:
            data["rate_window_max"] = self.window_max
            data["rate_window_rounds"] = self.window_rounds
        return data


CONTROLLERS = {cls.NAME: cls for cls in (DeliveryRateControl, AimdControl, RateControl)}


def make_controller(name, start, datagram_size=1472, windowed=False, share=1):
    """The controller called *name* ('delivery', 'aimd', 'fixed'), starting at *start* bytes/s;
    *windowed*: the windowed variant, made for raw mode and used by the server for both modes (``delivery``
    then probes gently and keeps a send window, whose floor is split between the *share* sessions of
    a test)."""
    try:
        cls = CONTROLLERS[name]
    except KeyError:
        raise ValueError("unknown rate control {!r} (choose from {})".format(name, ", ".join(sorted(CONTROLLERS))))
    if cls is DeliveryRateControl:
        return cls(start, datagram_size, windowed=windowed, share=share)
    return cls(start, datagram_size)
