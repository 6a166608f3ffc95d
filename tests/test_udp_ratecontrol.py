"""The delivery-rate controller against a simulated bottleneck (no sockets, no clocks, no root).

``Bottleneck`` models one link: a FIFO queue of *queue* bytes in front of a server draining *capacity*
bytes/s, dropping what does not fit (tail drop, like tbf).  The sender paces at the controller's rate and
keeps at most the controller's send window beyond the highest seq the client reported (as
``udp.server.ServerSession`` does); the client reports every 32 datagrams or 50 ms (as
``udp.receiving`` does), with the queue delay worked out as the server does (``_queue_delay``).
"""

import collections
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from udp.ratecontrol import DeliveryRateControl, FeedbackSample, make_controller  # noqa: E402

DATAGRAM = 1472
PAYLOAD = DATAGRAM - 12


class Bottleneck:
    """A simulated path: pacer + send window -> tail-drop queue -> link -> client feedback -> controller."""

    def __init__(self, control, capacity, queue, step=0.0005, feedback_delay=0.0005):
        self.control, self.capacity, self.queue_limit = control, capacity, queue
        self.step, self.feedback_delay = step, feedback_delay
        self.now = 0.0
        self.tokens = DATAGRAM
        self.next_seq = 0
        self.queue = collections.deque()      # seqs waiting for the link
        self.link_credit = 0.0
        self.sent_at = {}                     # seq -> send time (for the queue delay)
        self.sent = self.dropped = 0          # datagrams
        # the client
        self.first_rx = None
        self.received = 0
        self.highest = -1
        self.lost_new = 0
        self.since_feedback = 0
        self.last_feedback = 0.0
        self.in_flight = collections.deque()  # (arrival time at the server, sample)
        # the server's view
        self.reported_highest = None
        self.owd_min = None
        self.max_queue = 0
        self.trace = []                       # (time, pacing rate, bytes delivered in the step)
        self.sender_share = 1.0               # the part of the pacing rate the sender manages (a busy CPU: less)

    def _window_allows(self):
        window = self.control.window
        if window is None:
            return True
        if self.reported_highest is None:
            return self.next_seq < max(1, window // PAYLOAD)
        return self.next_seq - self.reported_highest <= max(1, window // PAYLOAD)

    def run(self, seconds):
        end = self.now + seconds
        while self.now < end:
            self._tick()
        return self

    def _tick(self):
        now, control = self.now, self.control
        # the sender
        rate = control.pacing_rate
        self.tokens = min(self.tokens + rate * self.sender_share * self.step, max(4 * DATAGRAM, rate * 0.002))
        batch = 0
        while self.tokens >= DATAGRAM and self._window_allows():
            self.tokens -= DATAGRAM
            seq = self.next_seq
            self.next_seq += 1
            self.sent += 1
            batch += 1
            self.sent_at[seq] = now
            if (len(self.queue) + 1) * DATAGRAM <= self.queue_limit:
                self.queue.append(seq)
            else:
                self.dropped += 1
        if batch:
            control.on_sent(batch * DATAGRAM, batch, now)
        self.max_queue = max(self.max_queue, len(self.queue) * DATAGRAM)
        # the link and the client
        self.link_credit = min(self.link_credit + self.capacity * self.step, 64 * 1024)
        delivered = 0
        while self.queue and self.link_credit >= DATAGRAM:
            self.link_credit -= DATAGRAM
            seq = self.queue.popleft()
            delivered += PAYLOAD
            if self.first_rx is None:
                self.first_rx = now
            if seq > self.highest + 1:
                self.lost_new += seq - self.highest - 1
            self.highest = max(self.highest, seq)
            self.received += 1
            self.since_feedback += 1
            if self.since_feedback >= 32:
                self._feedback(now)
        if self.since_feedback and now - self.last_feedback >= 0.05:
            self._feedback(now)
        # the feedback reaching the server
        while self.in_flight and self.in_flight[0][0] <= now:
            _, sample = self.in_flight.popleft()
            if sample.highest in self.sent_at:
                owd = sample.elapsed_us / 1e6 - self.sent_at[sample.highest]
                self.owd_min = owd if self.owd_min is None else min(self.owd_min, owd)
                sample.queue_delay = owd - self.owd_min
            self.reported_highest = sample.highest
            control.on_feedback(sample, now)
        self.trace.append((now, rate, delivered))
        self.now = now + self.step

    def _feedback(self, now):
        elapsed_us = int((now - self.first_rx) * 1e6)
        # elapsed on the client's clock since its first datagram; the server compares it with its own
        # send times, so give the sample the absolute time (the same offset for every sample)
        sample = FeedbackSample(self.received, self.lost_new, self.received * PAYLOAD, elapsed_us, self.highest)
        sample.elapsed_us = int(now * 1e6)
        self.in_flight.append((now + self.feedback_delay, sample))
        self.lost_new = 0
        self.since_feedback = 0
        self.last_feedback = now

    def goodput(self, since=0.0):
        """Bytes/s delivered after *since* seconds."""
        steps = [d for t, _, d in self.trace if t >= since]
        return sum(steps) / (len(steps) * self.step) if steps else 0.0


MBIT100 = 12.5e6
TBF_QUEUE_100 = int(MBIT100 * 0.05)     # scripts/netlab.py: tbf latency 50 ms


class RawModeOnASlowLink(unittest.TestCase):
    """Raw mode never resends: what it sends above the bottleneck is lost data."""

    def test_default_start_loses_nothing_on_a_100mbit_link(self):
        # raw's default start: 100,000 datagrams/s = 147 MB/s, 12 x the link
        control = make_controller("delivery", 147.2e6, DATAGRAM, windowed=True)
        path = Bottleneck(control, MBIT100, TBF_QUEUE_100).run(2.0)
        self.assertEqual(path.dropped, 0)
        self.assertLessEqual(path.max_queue, TBF_QUEUE_100)
        self.assertGreater(path.goodput(0.5), 0.9 * MBIT100)

    def test_window_bounds_the_queue_whatever_the_rate(self):
        control = make_controller("delivery", 147.2e6, DATAGRAM, windowed=True)
        path = Bottleneck(control, MBIT100, 10 ** 9).run(2.0)   # an unbounded queue: see what it would hold
        self.assertLessEqual(path.max_queue, DeliveryRateControl.WINDOW_MIN + 32 * DATAGRAM)

    def test_reliable_mode_keeps_no_window(self):
        control = make_controller("delivery", 147.2e6, DATAGRAM)
        self.assertIsNone(control.window)
        path = Bottleneck(control, MBIT100, TBF_QUEUE_100).run(1.0)
        self.assertGreater(path.dropped, 0)      # the simulation can show loss: reliable resends it

    def test_window_follows_the_delivery_rate_not_the_first_burst(self):
        control = make_controller("delivery", 147.2e6, DATAGRAM, windowed=True)
        path = Bottleneck(control, 125e6, int(125e6 * 0.05)).run(1.0)
        self.assertEqual(path.dropped, 0)
        self.assertGreater(control.window, DeliveryRateControl.WINDOW_MIN)     # 20 ms at 1 Gbit/s = 2.5 MB
        self.assertLessEqual(control.window, int(0.02 * 1.3 * 125e6))
        self.assertGreater(path.goodput(0.3), 0.9 * 125e6)


class SharedWindow(unittest.TestCase):
    def test_sessions_of_a_test_split_the_window_floor(self):
        one = make_controller("delivery", 147.2e6 / 5, DATAGRAM, windowed=True, share=1)
        five = [make_controller("delivery", 147.2e6 / 5, DATAGRAM, windowed=True, share=5) for _ in range(5)]
        self.assertEqual(one.window, DeliveryRateControl.WINDOW_MIN)
        # five raw sessions filling their windows together still fit a 100 Mbit/s tbf queue (50 ms)
        self.assertLessEqual(sum(c.window for c in five), TBF_QUEUE_100)
        # ... and so do the first windows of ten sessions starting together (before any feedback)
        ten = [make_controller("delivery", 147.2e6 / 10, DATAGRAM, windowed=True, share=10) for _ in range(10)]
        self.assertLessEqual(sum(c.window for c in ten), TBF_QUEUE_100)
        # ... while each first window holds more than the 32 datagrams after which the client reports
        self.assertGreater(min(c.window for c in ten), 32 * DATAGRAM)


class StartUp(unittest.TestCase):
    def test_reaches_the_link_rate_in_bounded_rounds(self):
        # a start 50 x below a 1 Gbit/s link: doubling per 25 ms round, about 8 rounds
        control = make_controller("delivery", 2.5e6, DATAGRAM, windowed=True)
        path = Bottleneck(control, 125e6, int(125e6 * 0.05)).run(1.5)
        reached = [t for t, rate, _ in path.trace if rate >= 0.8 * 125e6]
        self.assertTrue(reached)
        self.assertLess(reached[0] / DeliveryRateControl.ROUND, 16)
        self.assertEqual(path.dropped, 0)


class QuickStartUp(unittest.TestCase):
    """A fast path (a receiver taking 550 MB/s, its 8 MiB socket buffer as the queue): the windowed start-up
    doubles as soon as a round's deliveries kept up over QUICK_SPAN, not once per 25 ms round."""

    FAST = 550e6

    def delivered_by(self, path, seconds):
        return sum(d for t, _, d in path.trace if t < seconds)

    def test_reaches_a_fast_receivers_rate_within_a_few_milliseconds(self):
        control = make_controller("delivery", 147.2e6, DATAGRAM, windowed=True)
        path = Bottleneck(control, self.FAST, 8 * 1024 * 1024, step=0.0001).run(0.03)
        # 147 MB/s for 30 ms would deliver 4.4 MB; one doubling per 25 ms round about 5.5 MB
        self.assertGreater(self.delivered_by(path, 0.03), 0.65 * self.FAST * 0.03)
        self.assertGreater(control.quick_rounds, 0)
        self.assertEqual(path.dropped, 0)

    def test_a_sender_held_back_by_its_window_does_not_raise_its_rate(self):
        # a 10 ms feedback delay: the 4 MiB window holds the sender back with no queue anywhere; everything
        # sent arrives, but the rate was not what held it back, so that is no reason to double the rate
        control = make_controller("delivery", 147.2e6, DATAGRAM, windowed=True)
        path = Bottleneck(control, self.FAST, 8 * 1024 * 1024, step=0.0001, feedback_delay=0.01).run(0.3)
        self.assertLess(max(rate for _, rate, _ in path.trace), 4 * self.FAST)
        self.assertEqual(path.dropped, 0)

    def test_a_slow_link_sees_no_quick_round(self):
        control = make_controller("delivery", 147.2e6, DATAGRAM, windowed=True)
        path = Bottleneck(control, MBIT100, TBF_QUEUE_100).run(0.5)
        self.assertEqual(control.quick_rounds, 0)
        self.assertEqual(path.dropped, 0)


class RawRecovers(unittest.TestCase):
    def test_a_receiver_stall_during_start_up_is_undone(self):
        # the path takes a tenth of its rate for 25 ms (a receiver descheduled) while start-up grows
        control = make_controller("delivery", 30e6, DATAGRAM, windowed=True)
        path = Bottleneck(control, 125e6, int(125e6 * 0.05))
        path.run(0.03)
        path.capacity = 12.5e6
        path.run(0.025)
        path.capacity = 125e6
        since = path.now
        path.run(0.6)
        self.assertEqual(path.dropped, 0)
        self.assertGreater(path.goodput(since), 0.8 * 125e6)
        late = [rate for t, rate, _ in path.trace if t > since + 0.4]
        self.assertGreater(min(late), 0.8 * 125e6)


class BusySender(unittest.TestCase):
    def test_a_sender_that_cannot_keep_up_keeps_its_estimate(self):
        # ten sessions' threads on two cores: a session manages only part of its pacing rate (its waits wake
        # late); all of that arrives, which says nothing about the path (BBR's app-limited samples)
        control = make_controller("delivery", 5e6, DATAGRAM, windowed=True, share=10)
        path = Bottleneck(control, MBIT100, TBF_QUEUE_100).run(2.0)
        found = control.bw
        self.assertGreater(found, 0.8 * MBIT100)
        path.sender_share = 0.7
        path.run(5.0)
        self.assertGreater(control.bw, 0.9 * found)
        self.assertGreater(control.pacing_rate, 0.8 * found)
        self.assertGreater(control.app_limited_samples, 0)
        # once the sender keeps up again, the path's rate is there at once, and nothing is dropped
        path.sender_share = 1.0
        since = path.now
        path.run(1.0)
        self.assertGreater(path.goodput(since), 0.85 * MBIT100)
        self.assertEqual(path.dropped, 0)


class ReliableStillProbes(unittest.TestCase):
    def test_probes_above_the_estimate(self):
        control = make_controller("delivery", 147.2e6, DATAGRAM)
        path = Bottleneck(control, MBIT100, TBF_QUEUE_100).run(3.0)
        late = [rate for t, rate, _ in path.trace if t > 1.0]
        self.assertGreater(max(late), 1.15 * MBIT100)           # gain 1.25 rounds
        self.assertGreater(path.goodput(1.0), 0.9 * MBIT100)
        self.assertLess(path.dropped, 0.05 * path.sent)          # resent <= 5% on this link

    def test_raw_probes_gently(self):
        control = make_controller("delivery", 147.2e6, DATAGRAM, windowed=True)
        path = Bottleneck(control, MBIT100, TBF_QUEUE_100).run(3.0)
        late = [rate for t, rate, _ in path.trace if t > 1.0]
        self.assertLess(max(late), 1.2 * MBIT100)


if __name__ == "__main__":
    unittest.main()


class SessionsUseTheWindow(unittest.TestCase):
    """udp/server.py ServerSession._rate_control: which controller each kind of session gets."""

    def control(self, resend, rate=None, rate_control=None, clients=2):
        from types import SimpleNamespace
        from udp.server import ServerSession
        session = SimpleNamespace(cfg=SimpleNamespace(rate=rate, rate_control=rate_control, total_rate=None),
                                  chunk=PAYLOAD, test=SimpleNamespace(clients=clients))
        return ServerSession._rate_control(session, resend)

    def test_reliable_and_raw_sessions_keep_a_send_window(self):
        for resend in (True, False):
            control = self.control(resend)
            self.assertIsInstance(control, DeliveryRateControl)
            self.assertTrue(control.windowed, resend)
            self.assertIsNotNone(control.window, resend)

    def test_only_reliable_sessions_with_a_window_pace_above_the_controller(self):
        from udp.server import PACING_HEADROOM, pacing_headroom
        self.assertGreater(PACING_HEADROOM, 1.0)
        self.assertEqual(pacing_headroom(True, self.control(True)), PACING_HEADROOM)
        self.assertEqual(pacing_headroom(False, self.control(False)), 1.0)          # raw cannot resend
        self.assertEqual(pacing_headroom(True, self.control(True, rate_control="aimd")), 1.0)   # no window

    def test_bursts_of_big_datagrams_follow_the_clients_receive_buffer(self):
        from udp.pacing import MIN_BURST
        from udp.server import BIG_BURST_MAX, SMALL_BURST, ChunkSender, pacing_burst
        big = 64012
        self.assertEqual(pacing_burst(1472, 8 * 1024 * 1024), SMALL_BURST)      # small datagrams: one GSO send
        self.assertEqual(pacing_burst(big, None), MIN_BURST)                   # a READY that does not say
        self.assertEqual(pacing_burst(big, 2 * 212992), MIN_BURST)             # a stock buffer (read back doubled)
        self.assertEqual(pacing_burst(big, 2 * 1024 * 1024), 8)                # a quarter of 2 MiB: 8 datagrams
        self.assertEqual(pacing_burst(big, 8 * 1024 * 1024), BIG_BURST_MAX)    # at most one send batch ...
        self.assertEqual(pacing_burst(big, 2 ** 40), BIG_BURST_MAX)            # ... whatever the client says
        self.assertLessEqual(BIG_BURST_MAX, ChunkSender.PLAIN_BATCH)

    def test_raw_with_a_rate_is_fixed_and_aimd_has_no_window(self):
        self.assertIsNone(self.control(False, rate=10 ** 7).window)
        self.assertIsNone(self.control(True, rate_control="aimd").window)
