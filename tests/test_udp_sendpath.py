"""The UDP server's send path with real sockets on loopback: log fields, a
client that stops acknowledging (issue 8), the summary after a server
Ctrl-C (issue 11)."""

import os
import socket
import sys
import tempfile
import threading
import time
import unittest
from unittest import mock

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.test_udp_transfer import UDPHarness  # noqa: E402
from tests.udp_relay import UDPRelay  # noqa: E402
from udp import server as udp_server  # noqa: E402
from udp.packets import pack_data  # noqa: E402

LOG_FIELDS = ("bytes_sent_total", "datagrams_resent", "loss_before_recovery_pct", "rate_sent_bytes_per_s",
              "rate_received_bytes_per_s", "suggested_rate_bytes_per_s", "io_path", "rate_control")


class PackedBatches(unittest.TestCase):
    """ChunkSender's packed path (GSO + os.preadv): one buffer per batch, the same datagrams on the
    wire as the per-datagram path, for fresh and resent chunks, the short last chunk, and when the
    file does not give what it should (then the ordinary path sends them)."""

    CHUNK = 1460

    def setUp(self):
        self.data = os.urandom(self.CHUNK * 100 + 77)
        handle = tempfile.TemporaryFile()
        self.addCleanup(handle.close)
        handle.write(self.data)
        handle.flush()
        self.fd = handle.fileno()
        self.rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(self.rx.close)
        self.rx.bind(("127.0.0.1", 0))
        self.rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        self.rx.settimeout(0.5)
        self.tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(self.tx.close)
        self.tx.connect(self.rx.getsockname())

    def sender(self):
        sender = udp_server.ChunkSender(self.tx, memoryview(self.data), len(self.data), self.CHUNK, 4321,
                                        fd=self.fd)
        if sender._pbuf is None:
            self.skipTest("no packed path here (GSO or os.preadv missing)")
        return sender

    def expected(self, seq, resent=False):
        return pack_data(4321, seq, self.data[seq * self.CHUNK:(seq + 1) * self.CHUNK], resent=resent)

    def received(self):
        got = []
        try:
            while True:
                got.append(self.rx.recv(70000))
        except socket.timeout:
            return got

    def test_same_datagrams_as_one_by_one(self):
        sender = self.sender()
        chunks = (len(self.data) + self.CHUNK - 1) // self.CHUNK
        expected = []
        for first in range(0, 50, 25):
            seqs = list(range(first, first + 25))
            self.assertEqual(sender.send(seqs), 25 * (self.CHUNK + 12))
            expected += [self.expected(seq) for seq in seqs]
        sender.send([3, 4, 5], udp_server.FLAG_RESENT)                 # resends: the flag in every header
        expected += [self.expected(seq, True) for seq in (3, 4, 5)]
        sender.send(list(range(50, chunks)))                            # fresh again, the short last chunk
        expected += [self.expected(seq) for seq in range(50, chunks)]
        sender.send([7, 9])                                             # not consecutive: one by one
        expected += [self.expected(seq) for seq in (7, 9)]
        self.assertEqual(self.received(), expected)
        self.assertEqual(sender.packed, 5)   # 25 + 25, 3 resent, 44 + 7 (a batch holds 44)

    def test_seq_windows_and_resends_behind_them(self):
        # the seqs come from windows of SEQ_WINDOW (here 30): batches that cross one, a resend behind
        # it, a batch past the file's last window; the same datagrams as one by one
        with mock.patch.object(udp_server, "SEQ_WINDOW", 30):
            sender = self.sender()
            chunks = (len(self.data) + self.CHUNK - 1) // self.CHUNK
            expected = []
            for seqs, flags in ((range(0, 20), 0), (range(20, 44), 0), (range(2, 9), udp_server.FLAG_RESENT),
                                (range(44, 88), 0), (range(30, 32), udp_server.FLAG_RESENT), (range(88, chunks), 0)):
                sender.send(list(seqs), flags)
                expected += [self.expected(seq, bool(flags)) for seq in seqs]
            self.assertEqual(self.received(), expected)
            self.assertEqual(sender.packed, 6)
            self.assertEqual(sender._seq_words is None, (self.CHUNK + 12) % 4 != 0)

    def test_a_file_that_does_not_give_its_bytes_falls_back(self):
        sender = self.sender()
        with mock.patch.object(udp_server.os, "preadv", side_effect=OSError(5, "I/O error")):
            sender.send(list(range(0, 10)))
        with mock.patch.object(udp_server.os, "preadv", return_value=10):    # a short read
            sender.send(list(range(10, 20)))
        self.assertEqual(self.received(), [self.expected(seq) for seq in range(20)])
        self.assertEqual(sender.packed, 0)


class PackedBatchesOddSize(PackedBatches):
    """The same with datagrams that are not a whole number of 4-byte words (1,473 bytes): the seqs go
    into the headers byte by byte."""

    CHUNK = 1461


class SendPathLogs(UDPHarness, unittest.TestCase):

    def setUp(self):
        self.make_lab()

    def server_records(self):
        return [r for r in self.sidecar("server") if r["record"] == "connection"]

    def test_log_fields_raw(self):
        server = self.start_server(1)
        result = self.run_clients(server.port, 1)
        self.wait_server()
        self.assert_all_verified(result, 1)
        rec = self.server_records()[0]
        for key in LOG_FIELDS:
            self.assertIn(key, rec)
        self.assertEqual(rec["rate_control"], "delivery")      # raw without --rate follows the feedback
        self.assertEqual(rec["pacing_headroom"], 1.0)            # raw paces at the controller's rate
        client = [r for r in self.sidecar("client") if r["record"] == "connection"][0]
        self.assertEqual(rec["client_rcvbuf"], client["so_rcvbuf"])   # READY said it
        self.assertEqual(rec["pacing_burst"], udp_server.pacing_burst(rec["chunk_size"], client["so_rcvbuf"]))
        self.assertEqual(rec["datagrams_resent"], 0)            # raw never resends
        self.assertIsNone(rec["loss_before_recovery_pct"])
        self.assertIsNone(rec["suggested_rate_bytes_per_s"])    # everything arrived
        self.assertEqual(rec["bytes_sent_total"], self.SIZE)
        self.assertTrue(rec["io_path"].startswith("send="))
        self.assertGreater(rec["rate_sent_bytes_per_s"], 0)
        self.assertGreater(rec["rate_received_bytes_per_s"], 0)
        self.assertGreater(rec["feedback_received"], 0)         # the client's raw feedback reached us

    def test_log_fields_reliable_counts_resends_on_the_wire(self):
        server = self.start_server(1, reliable=True)
        relay = UDPRelay(("127.0.0.1", server.port), drop_seqs={3, 4, 5}, seed=3)
        self.addCleanup(relay.close)
        result = self.run_clients(relay.port, 1, reliable=True)
        self.wait_server()
        self.assertTrue(result.ok, [r.reason for r in result.records])
        rec = self.server_records()[0]
        for key in LOG_FIELDS:
            self.assertIn(key, rec)
        self.assertEqual(rec["rate_control"], "delivery")
        self.assertEqual(rec["pacing_headroom"], udp_server.PACING_HEADROOM)   # the window bounds the rest
        self.assertGreaterEqual(rec["datagrams_resent"], 3)
        chunk = rec["chunk_size"] - 12
        self.assertGreaterEqual(rec["bytes_sent_total"], self.SIZE + 3 * chunk)   # what went on the wire
        self.assertEqual(rec["bytes"], self.SIZE)
        self.assertGreater(rec["loss_before_recovery_pct"], 0)

    def test_raw_loss_says_the_rates_and_suggests_a_rate(self):
        server = self.start_server(1)
        relay = UDPRelay(("127.0.0.1", server.port), drop_seqs={5, 6, 7}, seed=4)
        self.addCleanup(relay.close)
        result = self.run_clients(relay.port, 1, idle_timeout=1.0)
        outcome = self.wait_server()
        self.assertFalse(result.ok)
        rec = self.server_records()[0]
        self.assertEqual(rec["datagrams_resent"], 0)                 # raw stays raw
        suggested = rec["suggested_rate_bytes_per_s"]
        self.assertGreater(suggested, 0)
        self.assertLessEqual(suggested, rec["rate_received_bytes_per_s"])
        self.assertIn("--rate {}".format(udp_server.rate_text(suggested)), rec["reason"])
        self.assertIn("the client received", outcome.records[0].reason)

    def test_aimd_by_name(self):
        server = self.start_server(1, reliable=True)
        server.config.rate_control = "aimd"    # --rate-control aimd
        result = self.run_clients(server.port, 1, reliable=True)
        self.wait_server()
        self.assert_all_verified(result, 1)
        self.assertEqual(self.server_records()[0]["rate_control"], "aimd")

    def test_client_that_stops_acknowledging_stops_being_sent_to(self):
        # issue 8: every NACK (the feedback) is lost on the way to the server: the session sends at most
        # UNACKED_LIMIT bytes of data, then gives up after ACK_SILENCE_LIMIT seconds of silence
        self.make_lab(size=8 * 1024 * 1024)
        limit = 256 * 1024
        with mock.patch.object(udp_server, "UNACKED_LIMIT", limit), \
                mock.patch.object(udp_server, "ACK_SILENCE_LIMIT", 1.0):
            server = self.start_server(1)
            relay = UDPRelay(("127.0.0.1", server.port), drop_verbs={"NACK": None}, seed=5)
            self.addCleanup(relay.close)
            self.run_clients(relay.port, 1, idle_timeout=1.0)
            outcome = self.wait_server()
        self.assertFalse(outcome.ok)
        rec = self.server_records()[0]
        self.assertIn("stopped acknowledging", rec["reason"])
        chunk = rec["chunk_size"]
        self.assertLessEqual(rec["bytes_sent_total"], limit + 64 * chunk)
        self.assertGreater(rec["datagrams_sent"], 0)

    def test_a_session_keeps_at_most_its_send_window_in_flight(self):
        # README "UDP on real links": without feedback a session (raw or reliable, default rate) never has
        # more than the controller's send window (plus the batch that crossed it, and one datagram per
        # 0.25 s of a full window, the probe) beyond what the client reported: here nothing was reported
        for reliable in (False, True):
            with self.subTest(reliable=reliable):
                self.make_lab(size=16 * 1024 * 1024)
                with mock.patch.object(udp_server, "ACK_SILENCE_LIMIT", 1.0):
                    server = self.start_server(1, reliable=reliable)
                    relay = UDPRelay(("127.0.0.1", server.port), drop_verbs={"NACK": None}, seed=7)
                    self.addCleanup(relay.close)
                    self.run_clients(relay.port, 1, reliable=reliable, idle_timeout=1.0)
                    self.wait_server()
                rec = self.server_records()[0]
                window = rec["rate_window_max"]
                self.assertIsNotNone(window)
                self.assertLess(window, 16 * 1024 * 1024 // 2)
                batch = udp_server.ChunkSender.PLAIN_BATCH * rec["chunk_size"]   # >= a GSO batch (64 KiB)
                probes = int(1.0 / udp_server.WINDOW_PROBE) + 1                    # during the 1 s of silence
                bound = window + batch + probes * rec["chunk_size"]
                self.assertLessEqual(rec["bytes"], bound)          # new data, each chunk once
                if not reliable:
                    self.assertLessEqual(rec["bytes_sent_total"], bound)
                self.assertLess(bound, 16 * 1024 * 1024 // 2)
                self.assertGreater(rec["datagrams_sent"], 0)

    def test_small_datagrams_stop_at_the_windows_edge(self):
        # 1,472-byte datagrams (a 1,500-byte MTU): a batch stops at the send window's edge, so the sessions
        # of a test keep no more than their windows in flight (a shaper's queue holds about that much)
        self.make_lab(size=4 * 1024 * 1024)
        with mock.patch.object(udp_server, "ACK_SILENCE_LIMIT", 1.0):
            server = self.start_server(1, chunk_size=1472)
            relay = UDPRelay(("127.0.0.1", server.port), drop_verbs={"NACK": None}, seed=8)
            self.addCleanup(relay.close)
            self.run_clients(relay.port, 1, idle_timeout=1.0)
            self.wait_server()
        rec = self.server_records()[0]
        self.assertEqual(rec["chunk_size"], 1472)
        payload = rec["chunk_size"] - udp_server.HEADER_SIZE
        window = rec["rate_window_max"] // payload        # datagrams (the session counts the window so)
        probes = int(1.0 / udp_server.WINDOW_PROBE) + 1
        self.assertGreater(rec["datagrams_sent"], 0)
        self.assertLessEqual(rec["datagrams_sent"], window + 1 + probes)


class ServerInterrupt(UDPHarness, unittest.TestCase):
    """issue 11: after a server Ctrl-C the summary shows what was sent, and its bytes agree with the reason."""

    def test_summary_after_interrupt(self):
        self.make_lab(size=8 * 1024 * 1024)
        server = self.start_server(1, rate=2 * 1000 * 1000)    # 2 MB/s: about 4 s for the file
        done = threading.Event()

        def client():
            try:
                self.run_clients(server.port, 1, idle_timeout=1.0)
            finally:
                done.set()
        thread = threading.Thread(target=client, daemon=True)
        thread.start()
        test = server.current_test
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            sessions = list(test.sessions.values())
            if sessions and (sessions[0].record.bytes or 0) > 256 * 1024:
                break
            time.sleep(0.02)
        self.assertFalse(done.is_set(), "the transfer ended before the interrupt")
        test.abort()                                            # what Ctrl-C does to the running test
        outcome = self.wait_server()
        done.wait(15)
        rec = outcome.records[0]
        self.assertFalse(rec.ok, (rec.reason, rec.bytes, rec.extra))
        self.assertIn("interrupted", rec.reason)
        self.assertGreater(rec.extra["datagrams_sent"], 0)     # not "sent 0"
        self.assertGreater(rec.bytes, 0)
        self.assertIn("{:,} bytes".format(rec.bytes), rec.reason)   # the bytes column agrees with the reason
        self.assertEqual(rec.extra["bytes_sent_total"], rec.bytes)


if __name__ == "__main__":
    unittest.main()
