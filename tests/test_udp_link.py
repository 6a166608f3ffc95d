"""The UDP server's send path without sockets: pacer, recovery, rate control."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from udp.pacing import Pacer  # noqa: E402
from udp.ratecontrol import (AimdControl, DeliveryRateControl, FeedbackSample, RateControl,  # noqa: E402
                             make_controller)
from udp.recovery import IntervalSet, Recovery  # noqa: E402

DATAGRAM = 1472


def simulate(control, capacity, seconds=3.0, step=0.005, datagram=DATAGRAM, state=None):
    """Drive *control* over a link of *capacity* bytes/s (what is paced above it is lost);
    returns the list of (time, pacing rate, delivered bytes/s in the step).  *state*: a dict
    to continue an earlier run from."""
    state = state if state is not None else {}
    now, received, lost_total, delivered = state.get("at", (0.0, 0, 0, 0.0))
    end = now + seconds
    trace = []
    while now < end:
        rate = control.pacing_rate
        sent = rate * step
        got = min(sent, capacity * step)
        control.on_sent(int(sent), max(1, int(sent // datagram)), now)
        delivered += got
        new = int(got // datagram)
        lost = int((sent - got) // datagram)
        received += new
        lost_total += lost
        now += step
        control.on_feedback(FeedbackSample(received, lost, int(delivered), int(now * 1e6), received), now)
        trace.append((now, rate, got / step))
    state["at"] = (now, received, lost_total, delivered)
    return trace


class PacerTests(unittest.TestCase):
    def test_unpaced_never_waits(self):
        pacer = Pacer(0, DATAGRAM, now=10.0)
        self.assertEqual(pacer.next_send_time(10.0), 10.0)
        pacer.on_sent(10 ** 9, 10.0)
        self.assertEqual(pacer.next_send_time(10.0), 10.0)
        self.assertEqual(pacer.allowance(10.0), float("inf"))

    def test_answers_when_without_sleeping(self):
        pacer = Pacer(1000000, 1000, now=0.0)    # 1 MB/s, 1,000-byte datagrams: one per ms
        self.assertEqual(pacer.next_send_time(0.0), 0.0)   # the first datagram goes at once
        pacer.on_sent(1000, 0.0)
        self.assertAlmostEqual(pacer.next_send_time(0.0), 0.001)
        self.assertEqual(pacer.next_send_time(0.001), 0.001)
        # the bucket holds at most a few datagrams: after a long pause, no big burst
        self.assertLessEqual(pacer.allowance(100.0), pacer.burst)
        self.assertGreaterEqual(pacer.burst, 4 * 1000)

    def test_a_big_burst_covers_at_most_20_ms_of_the_rate(self):
        # big datagrams to a client with room: up to big_burst at once when the rate sends them within
        # BIG_BURST_SECONDS; a slow rate keeps MIN_BURST (--rate 1M: 4 datagrams, not a second's worth)
        from udp.pacing import BIG_BURST_SECONDS, MIN_BURST
        big = 64012
        fast = Pacer(150e6, big, now=0.0, big_burst=16)     # 20 ms = 47 datagrams: the cap
        self.assertEqual(fast.burst_datagrams, 16)
        self.assertGreaterEqual(fast.burst, 16 * big)
        slow = Pacer(1e6, big, now=0.0, big_burst=16)
        self.assertEqual(slow.burst_datagrams, MIN_BURST)
        self.assertEqual(slow.burst, MIN_BURST * big)
        slow.on_sent(big, 0.0)
        self.assertAlmostEqual(slow.next_send_time(0.0, 16), MIN_BURST * big / 1e6)   # waits for 4, not 16
        middle = Pacer(30e6, big, now=0.0, big_burst=16)
        self.assertEqual(middle.burst_datagrams, int(30e6 * BIG_BURST_SECONDS / big))   # 9
        middle.set_rate(150e6)                               # the controller's rate moves: the burst follows
        self.assertEqual(middle.burst_datagrams, 16)
        self.assertEqual(Pacer(150e6, big, now=0.0).burst_datagrams, int(150e6 * 0.002 / big))   # no big_burst
        self.assertEqual(Pacer(150e6, big, now=0.0, headroom=1.5, big_burst=8).burst_datagrams, 8)

    def test_a_wait_that_wakes_late_keeps_what_it_was_late_for(self):
        # ten sessions' threads on two cores wake late; the bucket (2 ms, here 4 datagrams) alone would
        # throw away what the lateness was worth
        from udp.pacing import LATE_BYTES, LATE_SECONDS
        def drained():
            pacer = Pacer(1e6, 1000, now=0.0)          # 1 MB/s, 1,000-byte datagrams: the bucket holds 4
            pacer.on_sent(pacer.allowance(0.0), 0.0)
            return pacer
        pacer = drained()
        at = pacer.next_send_time(0.0, 4)
        self.assertAlmostEqual(at, 0.004)
        pacer.waiting_until(at)
        self.assertAlmostEqual(pacer.allowance(0.010), 4000 + 6000)    # 6 ms late: 6 datagrams more
        self.assertAlmostEqual(pacer.late_credit, 6000)
        self.assertAlmostEqual(pacer.allowance(0.020), 4000)           # the credit is spent once: the bucket again
        # a wait that was not for the pacer (the send window was full) gets the bucket only
        pacer = drained()
        self.assertAlmostEqual(pacer.allowance(0.010), 4000)
        # at most LATE_SECONDS of the rate (and LATE_BYTES), however late
        pacer = drained()
        pacer.waiting_until(pacer.next_send_time(0.0, 4))
        self.assertAlmostEqual(pacer.allowance(5.0), 4000 + min(LATE_SECONDS * 1e6, LATE_BYTES))
        fast = Pacer(100e6, 1000, now=0.0)
        fast.on_sent(fast.allowance(0.0), 0.0)
        fast.waiting_until(fast.next_send_time(0.0, 4))
        self.assertAlmostEqual(fast.allowance(5.0), fast.burst + LATE_BYTES)

    def test_headroom_paces_above_every_rate_given(self):
        pacer = Pacer(1000000, 1000, now=0.0, headroom=1.5)
        pacer.on_sent(1000, 0.0)
        self.assertAlmostEqual(pacer.next_send_time(0.0), 1000 / 1.5e6)
        pacer.set_rate(2000000)                       # a new rate from the controller: 1.5 x it too
        self.assertAlmostEqual(pacer.rate, 3e6)

    def test_batch_spends_and_waits_longer(self):
        pacer = Pacer(1000000, 1000, now=0.0)
        pacer.on_sent(5000, 0.0)   # a batch of five went out
        self.assertAlmostEqual(pacer.next_send_time(0.0), 0.005)

    def test_set_rate_changes_the_wait(self):
        pacer = Pacer(1000000, 1000, now=0.0)
        pacer.on_sent(1000, 0.0)
        pacer.set_rate(2000000)
        self.assertAlmostEqual(pacer.next_send_time(0.0), 0.0005)


class IntervalSetTests(unittest.TestCase):
    def test_add_counts_only_new_values(self):
        s = IntervalSet()
        self.assertEqual(s.add(10, 19), 10)
        self.assertEqual(s.add(15, 24), 5)
        self.assertEqual(s.add(0, 4), 5)
        self.assertEqual(s.add(5, 9), 5)          # joins both neighbours
        self.assertEqual(s.ranges(), [(0, 24)])
        self.assertEqual(s.add(0, 24), 0)
        self.assertEqual(len(s), 25)

    def test_remove_missing_and_pop(self):
        s = IntervalSet()
        s.add(0, 99)
        self.assertEqual(s.remove(10, 19), 10)
        self.assertEqual(s.ranges(), [(0, 9), (20, 99)])
        self.assertEqual(s.missing(5, 25), [(10, 19)])
        self.assertNotIn(15, s)
        self.assertIn(20, s)
        self.assertEqual(s.pop_front(12), list(range(0, 10)) + [20, 21])
        self.assertEqual(s.ranges(), [(22, 99)])
        self.assertEqual(len(s), 78)


class RecoveryTests(unittest.TestCase):
    def test_new_chunks_in_order_then_done(self):
        rec = Recovery(10)
        self.assertEqual(rec.take(4, 0.0), ([0, 1, 2, 3], False))
        self.assertEqual(rec.take(100, 0.0), ([4, 5, 6, 7, 8, 9], False))
        self.assertTrue(rec.done())

    def test_nack_clamped_to_what_was_sent_and_resends_first(self):
        rec = Recovery(100)
        rec.take(10, 0.0)
        self.assertEqual(rec.on_nack([(3, 4), (8, 4294967295)], 0.0), 4)   # 3, 4, 8, 9: never beyond 9
        self.assertEqual(rec.take(10, 0.0), ([3, 4, 8, 9], True))
        self.assertEqual(rec.take(2, 0.0), ([10, 11], False))
        self.assertEqual(rec.first_reports, 4)

    def test_hostile_nack_costs_nothing_new(self):
        # issue 8 section 3: a NACK repeating 0-4294967295 72 times.  The missing chunks are ranges,
        # so this is a handful of operations (a walk over every chunk would not finish here).
        rec = Recovery(2 ** 32 - 1)
        rec.next_new = 2 ** 32 - 1          # as if every chunk had been sent once
        hostile = [(0, 4294967295)] * 72
        self.assertEqual(rec.on_nack(hostile, 0.0), 2 ** 32 - 1)
        self.assertEqual(rec.pending.ranges(), [(0, 2 ** 32 - 2)])
        self.assertEqual(rec.on_nack(hostile, 0.0), 0)      # the same again: nothing new
        self.assertEqual(rec.first_reports, 2 ** 32 - 1)

    def test_just_resent_chunks_are_not_queued_again(self):
        rec = Recovery(100, holdoff=0.1)
        rec.take(50, 0.0)
        rec.on_nack([(10, 19)], 0.0)
        rec.take(10, 1.0)                     # resent at t = 1.0
        self.assertEqual(rec.on_nack([(10, 19)], 1.05), 0)    # too soon: the client can't have them yet
        self.assertEqual(rec.on_nack([(10, 19)], 1.2), 10)    # still missing later: resend
        self.assertEqual(rec.first_reports, 10)
        self.assertEqual(rec.resent, 10)

    def test_raw_mode_ignores_ranges(self):
        rec = Recovery(10, resend=False)
        rec.take(10, 0.0)
        self.assertEqual(rec.on_nack([(0, 9)], 0.0), 0)
        self.assertTrue(rec.done())


class RateControlTests(unittest.TestCase):
    def test_by_name(self):
        self.assertIsInstance(make_controller("delivery", 1e6), DeliveryRateControl)
        self.assertIsInstance(make_controller("aimd", 1e6), AimdControl)
        self.assertEqual(type(make_controller("fixed", 1e6)), RateControl)
        with self.assertRaises(ValueError):
            make_controller("nope", 1e6)
        for name in ("delivery", "aimd", "fixed"):
            data = make_controller(name, 5e6).log_data()
            self.assertEqual(data["rate_control"], name)

    def test_fixed_rate_stays(self):
        control = make_controller("fixed", 5e6)
        simulate(control, 1e6, seconds=0.5)
        self.assertEqual(control.pacing_rate, 5e6)

    def test_delivery_drops_fast_to_a_slow_link(self):
        # start at 147 MB/s (a datagram budget) on a 12.5 MB/s link (100 Mbit/s)
        control = DeliveryRateControl(147e6)
        trace = simulate(control, 12.5e6, seconds=3.0)
        early = [rate for t, rate, _ in trace if t <= 0.05]
        self.assertLess(min(early), 20e6)                   # within 50 ms near the link's rate
        late = [rate for t, rate, _ in trace if t > 1.0]
        mean = sum(late) / len(late)
        self.assertGreater(mean, 0.9 * 12.5e6)
        self.assertLess(mean, 1.15 * 12.5e6)
        sent = sum(rate for _, rate, _ in trace)
        delivered = sum(got for _, _, got in trace)
        self.assertLess(1 - delivered / sent, 0.10)         # little of what was sent is wasted

    def test_delivery_ramps_up_from_a_low_start(self):
        # start-up grows 25% per 25 ms round while everything arrives: 40x in about 0.4 s
        control = DeliveryRateControl(2e6)
        trace = simulate(control, 80e6, seconds=1.0)
        reached = [t for t, rate, _ in trace if rate >= 0.7 * 80e6]
        self.assertTrue(reached)
        self.assertLess(reached[0], 0.6)

    def test_delivery_floor_is_far_below_any_link(self):
        control = DeliveryRateControl(100e6)
        trace = simulate(control, 0.3e6, seconds=3.0)
        self.assertLessEqual(DeliveryRateControl.FLOOR, 1e6)
        late = [rate for t, rate, _ in trace if t > 2.0]
        self.assertLess(max(late), 1e6)

    def test_delivery_follows_a_drop_in_capacity(self):
        control, state = DeliveryRateControl(100e6), {}
        simulate(control, 100e6, seconds=1.0, state=state)
        trace = simulate(control, 10e6, seconds=1.0, state=state)
        late = [rate for t, rate, _ in trace if t > 1.5]
        self.assertLess(sum(late) / len(late), 1.3 * 10e6)

    def test_little_to_send_is_not_a_slow_path(self):
        # the end of a transfer: only a few resends go out, so little arrives; the rate must not collapse
        # (also right at the start: a small file, or a session with little to send)
        control = DeliveryRateControl(100e6)
        before = control.pacing_rate
        now, received, delivered = 0.0, 0, 0
        for _ in range(100):
            now += 0.005
            control.on_sent(1472, 1, now)           # one datagram per 5 ms
            received += 1
            delivered += 1460
            control.on_feedback(FeedbackSample(received, 0, int(delivered), int(now * 1e6), received), now)
        self.assertGreater(control.pacing_rate, 0.5 * before)

    def test_one_stalled_sample_does_not_collapse_start_up(self):
        control = DeliveryRateControl(200e6)
        now, delivered, received = 0.0, 0, 0
        for step in range(40):
            control.on_sent(int(control.pacing_rate * 0.005), 10, now)
            now += 0.005
            got = 0.01e6 * 0.005 if 20 <= step < 25 else min(control.pacing_rate, 300e6) * 0.005   # a 25 ms stall
            delivered += got
            received += int(got // DATAGRAM)
            control.on_feedback(FeedbackSample(received, 0, int(delivered), int(now * 1e6), received), now)
            self.assertGreater(control.pacing_rate, 50e6, step)

    def test_silence_halves(self):
        for name in ("delivery", "aimd"):
            control = make_controller(name, 100e6)
            before = control.pacing_rate
            self.assertLessEqual(control.on_silence(1.0), before * 0.5 + 1)

    def test_older_client_without_times(self):
        control = DeliveryRateControl(50e6)
        now, received = 0.0, 0
        for _ in range(200):
            control.on_sent(int(control.pacing_rate * 0.005), 1, now)
            now += 0.005
            received += int(10e6 * 0.005 / DATAGRAM)
            control.on_feedback(FeedbackSample(received, 0), now)
        self.assertLess(control.pacing_rate, 20e6)
        self.assertGreater(control.pacing_rate, 5e6)


if __name__ == "__main__":
    unittest.main()


class NetlabLinksTable(unittest.TestCase):
    """scripts/benchmark.py --netlab LINKS: the links are parsed and the comparison table built from logs."""

    def test_parse_links(self):
        from scripts import benchmark
        self.assertEqual(benchmark.parse_links("100mbit, 1gbit,unshaped,100mbit"), ["100mbit", "1gbit", "unshaped"])
        with self.assertRaises(benchmark.BenchmarkError):
            benchmark.parse_links("fast")
        self.assertEqual(benchmark.parse_netem("10ms,1%"), ("10ms", "1%"))

    def test_table_from_logs(self):
        import json
        import shutil
        import tempfile
        from pathlib import Path
        from scripts import benchmark
        root = Path(tempfile.mkdtemp(prefix="links-"))
        self.addCleanup(shutil.rmtree, str(root), True)

        def write(folder, name, records):
            path = root / folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("".join(json.dumps(r) + "\n" for r in records))
        for i, rate in enumerate((12e6, 11e6, 13e6)):
            write("tcp-client", "t{}.jsonl".format(i), [
                {"record": "test", "mode": "stream", "file_name": "100MB.txt", "clients": 1},
                {"record": "connection", "ok": True},
                {"record": "summary", "aggregate_rate_bytes_per_s": rate}])
            write("udp-client", "u{}.jsonl".format(i), [
                {"record": "test", "mode": "raw", "file_name": "100MB.txt", "clients": 1},
                {"record": "connection", "ok": False, "loss_pct": 0.2},
                {"record": "summary", "aggregate_rate_bytes_per_s": rate * 0.98}])
            write("udp-server", "s{}.jsonl".format(i), [
                {"record": "test", "mode": "raw", "file_name": "100MB.txt", "clients": 1},
                {"record": "connection", "datagrams_sent": 1000, "resent_datagrams": 0,
                 "rate_sent_bytes_per_s": 12e6, "rate_received_bytes_per_s": 11.9e6,
                 "suggested_rate_bytes_per_s": 10e6, "io_path": "send=gso"}])
        rows = benchmark.link_rows(root)
        by = {r["protocol"]: r for r in rows}
        self.assertEqual(by["tcp"]["goodput"], 12e6)
        self.assertEqual(by["udp-raw"]["verified"], "0/3")
        self.assertEqual(by["udp-raw"]["suggested"], 10e6)
        text = benchmark.links_markdown([("100mbit", rows)])
        self.assertIn("| 100mbit | udp-raw 100MB.txt | 1 | 3 | 11.8 | 0.98 | 0/3 | 0.20 | - | 12.0 / 11.9 | 10M | send=gso |",
                      text)


class PacerBatchTests(unittest.TestCase):
    def test_waits_for_a_batch(self):
        pacer = Pacer(1000000, 1000, now=0.0)
        pacer.on_sent(1000, 0.0)
        self.assertEqual(pacer.batch_for(0.004, 16), 4)
        self.assertAlmostEqual(pacer.next_send_time(0.0, 4), 0.004)
        self.assertEqual(pacer.batch_for(10.0, 16), 16)
        # never more than the bucket holds
        self.assertLessEqual(pacer.next_send_time(0.0, 1000), 0.0 + pacer.burst / 1e6 + 1e-9)


class PacerStartsEmpty(unittest.TestCase):
    """issue 11: raw UDP reported 1,901-2,255 MB/s for small files at 700 MB/s pacing: the old bucket
    started full (2 ms of sending). The pacer starts with one datagram."""

    def test_small_file_goes_at_the_rate(self):
        rate, datagram, size = 700e6, 64012, 2 * 1024 * 1024
        pacer = Pacer(rate, datagram, now=0.0)
        now, sent, first = 0.0, 0, None
        while sent < size:
            now = pacer.next_send_time(now, pacer.batch_for(0.0005, 16))
            count = max(1, min(16, int(pacer.allowance(now) // datagram)))
            first = now if first is None else first
            pacer.on_sent(count * datagram, now)
            sent += count * datagram
        self.assertLess(sent / max(now - first, 1e-9), 1.3 * rate)
