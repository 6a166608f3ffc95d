"""udp/packets.py and udp/pacing.py: the data header, the control messages,
NACK ranges, the token bucket and the AIMD rate.  No network.

Run: python3 -m unittest tests.test_udp_packets -v
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from transfer.errors import ProtocolError  # noqa: E402
from transfer.messages import MAX_LINE, Busy, ErrorMessage  # noqa: E402
from udp import packets  # noqa: E402
from udp.packets import (DATA_TYPE, HEADER, HEADER_SIZE, NACK_RANGES_BUDGET, End, Nack, Ping, Pong,  # noqa: E402
                         Report, Start, UdpBye, UdpFileOffer, UdpHello, UdpReady, Wait, chunk_count, chunk_length,
                         decode_control, format_ranges, is_data, pack_data, parse_ranges, ranges_of, split_ranges)
from udp.pacing import AdaptiveRate, TokenBucket  # noqa: E402

SHA = "ab" * 32


class Header(unittest.TestCase):

    def test_layout_byte_by_byte(self):
        datagram = pack_data(0x01020304, 0x0A0B0C0D, b"xyz", resent=True)
        self.assertEqual(HEADER_SIZE, 12)
        self.assertEqual(datagram[:12], bytes([0xD1, 0x01, 0x00, 0x01, 1, 2, 3, 4, 0x0A, 0x0B, 0x0C, 0x0D]))
        self.assertEqual(datagram[12:], b"xyz")
        self.assertEqual(HEADER.unpack_from(datagram), (DATA_TYPE, 1, 1, 0x01020304, 0x0A0B0C0D))

    def test_data_never_looks_like_control(self):
        self.assertTrue(is_data(pack_data(1, 2, b"")))
        for message in (UdpHello(id=1, total=1, mode="raw"), Ping(seq=1), ErrorMessage(reason="x")):
            self.assertFalse(is_data(message.encode()))
        self.assertFalse(is_data(b""))
        with self.assertRaises(ProtocolError):
            decode_control(pack_data(1, 2, b"abc"))

    def test_chunks(self):
        self.assertEqual(chunk_count(0, 10), 0)
        self.assertEqual(chunk_count(1, 10), 1)
        self.assertEqual(chunk_count(20, 10), 2)
        self.assertEqual(chunk_count(21, 10), 3)
        self.assertEqual(chunk_length(2, 21, 10), 1)
        self.assertEqual(chunk_length(0, 21, 10), 10)


class Messages(unittest.TestCase):

    def test_round_trips(self):
        for message in (
                UdpHello(id=3, total=25, mode="reliable"),
                UdpFileOffer(name="mi archivo.txt", size=123, sha256=SHA, clients=25, chunk=63988,
                             transfer=2 ** 32 - 1, mode="raw"),
                Busy(reason="full"), UdpReady(transfer=5), Wait(transfer=5, ready=2, clients=3), Start(transfer=5),
                End(transfer=5, chunks=10, bytes=1000), Nack(transfer=5, received=7, lost=2, ranges=[(1, 3), (9, 9)]),
                Report(transfer=5, bytes=10, datagrams=11, missing=0, duplicates=1, out_of_order=2, sha256=SHA,
                       ok=True),
                UdpBye(transfer=5, ok=False), ErrorMessage(reason="no"), Ping(seq=1), Pong(seq=1)):
            line = message.encode()
            self.assertLessEqual(len(line), MAX_LINE)
            self.assertEqual(decode_control(line), message if not isinstance(message, Nack) else
                             Nack(transfer=5, received=7, lost=2, ranges=[(1, 3), (9, 9)]))

    def test_ready_may_say_the_clients_receive_buffer(self):
        self.assertEqual(decode_control(UdpReady(transfer=5, rcvbuf=8388608).encode()).rcvbuf, 8388608)
        self.assertEqual(UdpReady(transfer=5).encode(), b"READY transfer=5\n")   # an older client's READY ...
        self.assertIsNone(decode_control(b"READY transfer=5\n").rcvbuf)             # ... still parses
        for bad in (b"READY transfer=5 rcvbuf=-1\n", b"READY transfer=5 rcvbuf=2000000000000\n"):
            with self.assertRaises(ProtocolError):
                decode_control(bad)

    def test_hello_without_mode_is_raw(self):
        self.assertEqual(decode_control(b"HELLO id=1 total=1\n").mode, "raw")

    def test_empty_nack_is_feedback(self):
        message = decode_control(Nack(transfer=1, received=5, lost=0, ranges="").encode())
        self.assertEqual(message.ranges, [])

    def test_malformed(self):
        for line in (b"NACK transfer=1 received=1 lost=0 ranges=5-2\n", b"NACK transfer=1 received=1 lost=0 ranges=a\n",
                     b"READY transfer=99999999999\n", b"PING\n", b"FILE name=x\n", b"\xff\xfe\n", b"x" * 2000,
                     b"REPORT transfer=1\n", b"WHAT\n"):
            with self.assertRaises(ProtocolError, msg=line[:40]):
                decode_control(line)


class Ranges(unittest.TestCase):

    def test_format_and_parse(self):
        self.assertEqual(format_ranges([(3, 7), (9, 9), (12, 20)]), "3-7_9_12-20")
        self.assertEqual(parse_ranges("3-7_9_12-20"), [(3, 7), (9, 9), (12, 20)])
        self.assertEqual(parse_ranges(""), [])
        self.assertEqual(ranges_of([1, 2, 3, 5, 7, 8]), [(1, 3), (5, 5), (7, 8)])
        for bad in ("1-", "-1", "1--2", "9-3", "1_", "x", "1-2-3", "99999999999"):
            with self.assertRaises(ProtocolError, msg=bad):
                parse_ranges(bad)

    def test_many_ranges_split_into_lines_that_fit(self):
        seqs = list(range(0, 200000, 2))  # 100,000 separate holes
        texts = split_ranges(ranges_of(seqs), NACK_RANGES_BUDGET)
        self.assertGreater(len(texts), 1)
        back = []
        for text in texts:
            line = Nack(transfer=2 ** 32 - 1, received=10 ** 12, lost=10 ** 12, ranges=text).encode()
            self.assertLessEqual(len(line), MAX_LINE)
            back.extend(decode_control(line).ranges)
        self.assertEqual([a for a, _ in back], seqs)


class Pacing(unittest.TestCase):

    def test_unpaced_never_sleeps(self):
        bucket = TokenBucket(0, 64000)
        for _ in range(1000):
            bucket.take(64000)
        self.assertEqual(bucket.sleeps, 0)

    def test_paced_bucket_sleeps_when_empty(self):
        bucket = TokenBucket(10 * 1000 * 1000, 10000)
        for _ in range(20):
            bucket.take(10000)
        self.assertGreater(bucket.sleeps, 0)

    def test_aimd(self):
        rate = AdaptiveRate(100e6)
        now = 100.0
        rate.feedback(100, 0, now)
        self.assertGreater(rate.rate, 100e6)
        high = rate.rate
        rate.feedback(90, 10, now + 1)
        self.assertAlmostEqual(rate.rate, high * AdaptiveRate.DECREASE)
        low = rate.rate
        rate.feedback(90, 10, now + 1.001)  # the same loss event: no second cut
        self.assertEqual(rate.rate, low)
        for step in range(200):
            rate.feedback(10, 90, now + 2 + step)
        self.assertEqual(rate.rate, rate.floor)
        for step in range(100000):
            rate.feedback(100, 0, now + 300 + step)
        self.assertEqual(rate.rate, rate.ceiling)
        self.assertEqual(set(rate.summary()), {"rate_start", "rate_final", "rate_min", "rate_max", "rate_decreases"})

    def test_nothing_received_or_nothing_heard_is_heavy_loss(self):
        rate = AdaptiveRate(100e6)
        rate.feedback(0, 0, 100.0)  # an interval with nothing at all: no change by itself
        self.assertEqual(rate.rate, 100e6)
        rate.feedback(0, 0, 100.1, blackout=True)  # ... but the server kept sending: every datagram lost
        self.assertAlmostEqual(rate.rate, 100e6 * AdaptiveRate.MAX_CUT)
        rate.silence(100.2)
        self.assertAlmostEqual(rate.rate, 100e6 * AdaptiveRate.MAX_CUT ** 2)
        self.assertEqual((rate.blackouts, rate.silences), (1, 1))

    def test_additive_increase_follows_time_not_feedback_count(self):
        fast, slow = AdaptiveRate(100e6), AdaptiveRate(100e6)
        for rate in (fast, slow):
            rate.feedback(90, 10, 100.0)  # the first loss ends the slow start
            rate.feedback(100, 0, 101.0)
        base = fast.rate
        self.assertEqual(slow.rate, base)
        for step in range(1, 51):
            fast.feedback(100, 0, 101.0 + step * 0.02)  # one second of 20 ms feedback
        for step in range(1, 11):
            slow.feedback(100, 0, 101.0 + step * 0.1)   # the same second in 100 ms feedback
        self.assertAlmostEqual(fast.rate, slow.rate, delta=base * 0.01)
        self.assertAlmostEqual(fast.rate - base, 100e6 * AdaptiveRate.INCREASE_PER_SECOND, delta=base * 0.01)


class Buffers(unittest.TestCase):

    def test_raise_buffers_reports_what_was_granted(self):
        import socket
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            rcv, snd = packets.raise_buffers(sock)
        finally:
            sock.close()
        self.assertGreater(rcv, 0)
        self.assertGreater(snd, 0)


if __name__ == "__main__":
    unittest.main()


class SessionChunkTests(unittest.TestCase):
    """The datagram size follows the path MTU unless --chunk-size says otherwise."""

    class FakeSocket:
        family = __import__("socket").AF_INET

        def __init__(self, mtu):
            self.mtu = mtu

        def getsockopt(self, level, option):
            if self.mtu is None:
                raise OSError("not connected")
            return self.mtu

    def chunk(self, mtu, chunk_size=None):
        from transfer.config import ServerConfig
        from udp import server
        original = server.sys.platform
        server.sys.platform = "linux"
        try:
            return server.session_chunk(ServerConfig(chunk_size=chunk_size), self.FakeSocket(mtu))
        finally:
            server.sys.platform = original

    def test_ethernet_path_gets_unfragmented_datagrams(self):
        from udp.packets import HEADER_SIZE
        self.assertEqual(self.chunk(1500) + HEADER_SIZE, 1472)   # 1500 - 20 IP - 8 UDP

    def test_loopback_and_unknown_paths_keep_the_default(self):
        from udp.server import DEFAULT_CHUNK_SIZE
        from udp.packets import HEADER_SIZE
        self.assertEqual(self.chunk(65535) + HEADER_SIZE, DEFAULT_CHUNK_SIZE)
        self.assertEqual(self.chunk(None) + HEADER_SIZE, DEFAULT_CHUNK_SIZE)

    def test_explicit_chunk_size_wins(self):
        from udp.packets import HEADER_SIZE
        self.assertEqual(self.chunk(1500, chunk_size=32000) + HEADER_SIZE, 32000)
