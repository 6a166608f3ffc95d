"""Tests for scripts/capture.py: missing tool, fake tools, filters, and a real capture."""
from __future__ import annotations

import contextlib
import io
import os
import socket
import sys
import tempfile
import time
import unittest
from unittest import mock

from scripts import capture
from scripts.capture import Capture, CaptureUnavailable, capture_filter, find_capture_tool

FAKE_READY = r'''
import signal, struct, sys, time
out = sys.argv[sys.argv.index("-w") + 1]
sys.stderr.write("tcpdump: listening on lo, link-type EN10MB (Ethernet), snapshot length 128 bytes\n")
sys.stderr.flush()
def stop(signum, frame):
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 128, 1))
    sys.stderr.write("0 packets captured\n7 packets received by filter\n2 packets dropped by kernel\n")
    sys.exit(0)
signal.signal(signal.SIGINT, stop)
for _ in range(300):
    time.sleep(0.1)
'''

FAKE_DENIED = r'''
import sys
sys.stderr.write("tcpdump: lo: You don't have permission to perform this capture on that device\n")
sys.stderr.write("(socket: Operation not permitted)\n")
sys.exit(1)
'''

FAKE_NO_DEVICE = r'''
import sys
sys.stderr.write("tcpdump: nosuch0: No such device exists\n(No such device exists)\n")
sys.exit(1)
'''

FAKE_SILENT = r'''
import time
for _ in range(300):
    time.sleep(0.1)
'''

FAKE_STUBBORN = r'''
import signal, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
sys.stderr.write("listening on lo\n")
sys.stderr.flush()
for _ in range(300):
    time.sleep(0.1)
'''


class FakeToolTests(unittest.TestCase):
    """Capture's life cycle against fake tools placed first in PATH (no root needed)."""

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="test_capture_")
        self.tmp = self._tmp.name
        self.bin = os.path.join(self.tmp, "bin")
        os.mkdir(self.bin)
        patcher = mock.patch.dict(os.environ, {"PATH": self.bin})
        patcher.start()
        self.addCleanup(patcher.stop)

    def tearDown(self):
        self._tmp.cleanup()

    def install(self, name, body):
        path = os.path.join(self.bin, name)
        with open(path, "w") as f:
            f.write("#!%s\n%s" % (sys.executable, body))
        os.chmod(path, 0o755)
        return path

    def out(self, name="c.pcap"):
        return os.path.join(self.tmp, "caps", name)

    def assertOneSentence(self, exc, *fragments):
        text = str(exc)
        self.assertNotIn("\n", text)
        for fragment in fragments:
            self.assertIn(fragment, text)

    def test_no_tool_in_path(self):
        self.assertIsNone(find_capture_tool())
        with self.assertRaises(CaptureUnavailable) as ctx:
            with Capture(self.out(), ports=[5001]):
                self.fail("the block must not run")
        self.assertOneSentence(ctx.exception, "install tcpdump")

    def test_preference_order(self):
        self.install("tshark", FAKE_SILENT)
        self.assertEqual(os.path.basename(find_capture_tool()), "tshark")
        self.install("dumpcap", FAKE_SILENT)
        self.assertEqual(os.path.basename(find_capture_tool()), "dumpcap")
        self.install("tcpdump", FAKE_SILENT)
        self.assertEqual(os.path.basename(find_capture_tool()), "tcpdump")

    def test_permission_denied(self):
        self.install("tcpdump", FAKE_DENIED)
        with self.assertRaises(CaptureUnavailable) as ctx:
            Capture(self.out(), ports=[5001]).start()
        self.assertOneSentence(ctx.exception, "root or CAP_NET_RAW")

    def test_no_such_interface(self):
        self.install("tcpdump", FAKE_NO_DEVICE)
        with self.assertRaises(CaptureUnavailable) as ctx:
            Capture(self.out(), interface="nosuch0").start()
        self.assertOneSentence(ctx.exception, "nosuch0 does not exist")

    def test_start_timeout_kills_the_tool(self):
        self.install("tcpdump", FAKE_SILENT)
        cap = Capture(self.out(), start_timeout=0.5)
        t0 = time.monotonic()
        with self.assertRaises(CaptureUnavailable) as ctx:
            cap.start()
        self.assertLess(time.monotonic() - t0, 5)
        self.assertOneSentence(ctx.exception, "within 0.5 s")
        self.assertIsNotNone(cap._proc.poll())

    def test_ready_then_stop_with_sigint(self):
        self.install("tcpdump", FAKE_READY)
        with Capture(self.out(), ports=[5001, 5003], snaplen=96) as cap:
            self.assertTrue(cap.running)
            self.assertEqual(cap.tool, "tcpdump")
            self.assertIn("tcp and (port 5001 or port 5003)", cap.command)
            self.assertIn("96", cap.command)
        self.assertFalse(cap.running)
        self.assertEqual(cap.returncode, 0)
        self.assertEqual(cap.stats, {"captured": 0, "received": 7, "dropped": 2})
        self.assertEqual(cap.stop(), self.out())          # idempotent
        from scripts.pcap import analyze
        self.assertEqual(analyze(cap.path)["totals"]["frames"], 0)

    def test_stubborn_tool_is_killed(self):
        self.install("tcpdump", FAKE_STUBBORN)
        cap = Capture(self.out(), stop_timeout=0.3, settle=0)
        cap.start()
        t0 = time.monotonic()
        cap.stop()
        self.assertLess(time.monotonic() - t0, 8)
        self.assertFalse(cap.running)

    def test_dumpcap_and_tshark_command_lines(self):
        self.install("dumpcap", FAKE_READY.replace("tcpdump: listening on", "Capturing on"))
        with Capture(self.out("d.pcap"), proto="udp", host="127.0.0.1") as cap:
            self.assertEqual(cap.tool, "dumpcap")
            self.assertIn("-P", cap.command)
        self.assertTrue(os.path.exists(cap.path))
        tshark = self.install("tshark", FAKE_READY.replace("tcpdump: listening on", "Capturing on"))
        with Capture(self.out("t.pcap"), ports=[5001], tool=tshark) as cap:
            self.assertEqual(cap.tool, "tshark")
            self.assertEqual(cap.command[cap.command.index("-F") + 1], "pcap")
        self.assertEqual(cap.returncode, 0)

    def test_cli_without_tool(self):
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            rc = capture.main([self.out(), "--seconds", "1"])
        self.assertEqual(rc, 2)
        self.assertEqual(len(err.getvalue().strip().splitlines()), 1)
        self.assertIn("install tcpdump", err.getvalue())


class FilterTests(unittest.TestCase):
    """BPF filter construction and argument checks."""

    def test_filters(self):
        self.assertEqual(capture_filter([5001]), "tcp and (port 5001)")
        self.assertEqual(capture_filter(), "tcp")
        self.assertEqual(capture_filter(proto="udp", host="127.0.0.1"),
                         "host 127.0.0.1 and (udp or (ip6 and ip6[6] == 44))")
        self.assertEqual(capture_filter([5001], proto="both"),
                         "(tcp and (port 5001)) or (udp or (ip6 and ip6[6] == 44))")
        self.assertEqual(capture_filter(proto="tcp", host="::1"), "host ::1 and (tcp)")

    def test_bad_arguments(self):
        for kwargs in ({"ports": [0]}, {"ports": ["5001"]}, {"ports": [70000]},
                       {"proto": "icmp"}, {"host": "localhost"}, {"host": "1.2.3.4 or tcp"}):
            with self.subTest(**kwargs), self.assertRaises(ValueError):
                capture_filter(**kwargs)
        with self.assertRaises(ValueError):
            Capture("x.pcap", snaplen=10)
        with self.assertRaises(ValueError):
            Capture("x.pcap", interface="lo; rm -rf /")


class RealCaptureTests(unittest.TestCase):
    """A real UDP capture on 127.0.0.1 (needs tcpdump/dumpcap/tshark and root or CAP_NET_RAW)."""

    def test_udp_datagrams_on_loopback(self):
        if find_capture_tool() is None:
            self.skipTest("no capture tool (tcpdump/dumpcap/tshark) installed")
        tmp = tempfile.TemporaryDirectory(prefix="test_capture_real_")
        self.addCleanup(tmp.cleanup)
        rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rx.bind(("127.0.0.1", 0))
        rx.settimeout(5)
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        tx.bind(("127.0.0.1", 0))
        self.addCleanup(rx.close)
        self.addCleanup(tx.close)
        port = rx.getsockname()[1]
        sizes = [100, 1400, 30000]
        try:
            cap = Capture(os.path.join(tmp.name, "udp.pcap"), proto="udp", host="127.0.0.1")
            cap.start()
        except CaptureUnavailable as exc:
            self.skipTest("capture not possible here: %s" % exc)
        try:
            for size in sizes:
                tx.sendto(b"u" * size, ("127.0.0.1", port))
                self.assertEqual(len(rx.recv(65536)), size)
        finally:
            path = cap.stop()
        self.assertEqual(cap.returncode, 0)
        self.assertIn("captured", cap.stats)
        from scripts.pcap import summarize
        rows = [r for r in summarize(path, ports=[port]) if r["server_port"] == port]
        self.assertEqual(len(rows), 1)
        row = rows[0]
        self.assertEqual(row["client_port"], tx.getsockname()[1])
        self.assertEqual(row["c2s"]["datagrams"], 3)
        self.assertEqual(row["c2s"]["payload_bytes"], sum(sizes))
        self.assertEqual(row["c2s"]["wire_bytes"], sum(sizes) + 3 * (14 + 20 + 8))


if __name__ == "__main__":
    unittest.main()
