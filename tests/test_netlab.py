"""Tests for scripts/netlab.py: parsing and availability everywhere; the lab itself as root."""
from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from unittest import mock

from scripts import netlab
from scripts.netlab import (NetLab, NetLabError, NetLabUnavailable, lab_names, parse_delay,
                            parse_loss, parse_rate)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HAVE_LAB = (sys.platform == "linux" and hasattr(os, "geteuid") and os.geteuid() == 0
            and shutil.which("ip") is not None)
HAVE_TC = HAVE_LAB and shutil.which("tc") is not None
WHY_NOT = "netlab needs Linux, root and iproute2 (ip)"


def unique_prefix(tag):
    """A lab name no other test run uses (other engineers may run labs at the same time)."""
    return "ftt%s%d" % (tag, os.getpid() % 100000)


def namespaces():
    """Names from `ip netns list`."""
    out = subprocess.run(["ip", "netns", "list"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, timeout=10).stdout.decode()
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def run_cli(argv):
    """netlab.main(argv) -> (rc, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = netlab.main(argv)
        except SystemExit as exc:
            rc = exc.code
    return rc, out.getvalue(), err.getvalue()


class ParsingTests(unittest.TestCase):
    """Rates, delays, losses, names and addresses (no root needed)."""

    def test_rates(self):
        self.assertEqual(parse_rate("100mbit"), 100000000)
        self.assertEqual(parse_rate("1Gbit"), 10 ** 9)
        self.assertEqual(parse_rate("12.5mbps"), 100000000)
        self.assertEqual(parse_rate("500kbit"), 500000)
        for bad in ("fast", "", "100 furlongs", "1bit", "-5mbit"):
            with self.subTest(bad=bad), self.assertRaises(ValueError):
                parse_rate(bad)

    def test_delay_and_loss(self):
        self.assertAlmostEqual(parse_delay("10ms"), 0.010)
        self.assertAlmostEqual(parse_delay("250us"), 0.00025)
        self.assertAlmostEqual(parse_delay("1s"), 1.0)
        self.assertAlmostEqual(parse_delay("7"), 0.007)
        self.assertEqual(parse_loss("1%"), 1.0)
        self.assertEqual(parse_loss("0.5"), 0.5)
        for bad in ("soon", "-1ms", "2h", "100s"):
            with self.subTest(bad=bad), self.assertRaises(ValueError):
                parse_delay(bad)
        for bad in ("101%", "lots", "-1"):
            with self.subTest(bad=bad), self.assertRaises(ValueError):
                parse_loss(bad)

    def test_names_and_addresses(self):
        self.assertEqual(lab_names("ftlab"), ("ftlab-srv", "ftlab-cli"))
        for bad in ("", "1lab", "a b", "x" * 21, "../etc"):
            with self.subTest(bad=bad), self.assertRaises(ValueError):
                lab_names(bad)
        lab = NetLab(rate="100mbit", prefix="abcdefghijklmnopqrst")
        self.assertLessEqual(len(lab.server_if), 15)
        self.assertEqual((lab.server_addr, lab.client_addr), ("10.201.0.1", "10.201.0.2"))
        self.assertEqual(lab.burst, 62500)
        with self.assertRaises(ValueError):
            NetLab(server_addr="10.201.0.1", client_addr="10.202.0.2")
        with self.assertRaises(ValueError):
            NetLab(server_addr="10.201.0.1", client_addr="10.201.0.1")
        with self.assertRaises(ValueError):
            NetLab(server_addr="not-an-ip")
        self.assertEqual(lab.ns("server"), "abcdefghijklmnopqrst-srv")
        with self.assertRaises(ValueError):
            lab.ns("router")


class AvailabilityTests(unittest.TestCase):
    """NetLabUnavailable with one clear line (simulated, no root needed)."""

    def test_not_root(self):
        with mock.patch.object(netlab.os, "geteuid", return_value=1000), \
                mock.patch.object(netlab.shutil, "which", return_value="/usr/sbin/ip"), \
                mock.patch.object(netlab.sys, "platform", "linux"):
            with self.assertRaises(NetLabUnavailable) as ctx:
                NetLab(prefix="fttnoroot").up()
            self.assertIn("needs root", str(ctx.exception))
            rc, out, err = run_cli(["status", "--name", "fttnoroot"])
        self.assertEqual(rc, 2)
        self.assertEqual(len(err.strip().splitlines()), 1)
        self.assertIn("needs root", err)

    def test_no_ip_command(self):
        with mock.patch.dict(os.environ, {"PATH": os.path.join(ROOT, "no-such-dir")}), \
                mock.patch.object(netlab.sys, "platform", "linux"):
            with self.assertRaises(NetLabUnavailable) as ctx:
                with NetLab(prefix="fttnoip"):
                    self.fail("the block must not run")
            self.assertIn("iproute2", str(ctx.exception))
            rc, _, err = run_cli(["up", "--name", "fttnoip"])
        self.assertEqual(rc, 2)
        self.assertIn("iproute2", err)
        self.assertNotIn("Traceback", err)

    def test_cli_bad_arguments(self):
        rc, _, err = run_cli(["up", "--rate", "fast"])
        self.assertEqual(rc, 2)
        self.assertIn("bad rate", err)
        rc, _, err = run_cli(["up", "--name", "bad name"])
        self.assertEqual(rc, 2)
        self.assertIn("bad lab name", err)


@unittest.skipUnless(HAVE_LAB, WHY_NOT)
class LabTests(unittest.TestCase):
    """The real lab: namespaces, veth, tbf, connectivity, faults and cleanup."""

    def assertGone(self, prefix):
        left = set(lab_names(prefix)) & namespaces()
        self.assertEqual(left, set(), "namespaces left behind: %s" % left)

    def tearDown(self):
        for tag in ("a", "b", "c", "d", "e", "f", "g"):
            prefix = unique_prefix(tag)
            if set(lab_names(prefix)) & namespaces():
                netlab.teardown(prefix)

    @unittest.skipUnless(HAVE_TC, "tc (iproute2) is not installed")
    def test_echo_tbf_rate_and_cleanup(self):
        prefix = unique_prefix("a")
        with NetLab(rate="100mbit", prefix=prefix, quiet=True) as lab:
            self.assertTrue(lab.is_up)
            self.assertEqual({lab.server_ns, lab.client_ns} & namespaces(),
                             {lab.server_ns, lab.client_ns})
            qdiscs = lab.qdisc_show()
            self.assertEqual(qdiscs.count("tbf"), 2, qdiscs)
            self.assertIn("100Mbit", qdiscs)
            echo = netlab.tcp_echo(lab, size=5000, timeout=5)
            self.assertTrue(echo["ok"])
            self.assertEqual(echo["bytes"], 5000)
            res = netlab.measure_tcp_throughput(lab, 4 * 1000 * 1000, timeout=20)
            self.assertEqual(res["bytes"], 4 * 1000 * 1000)
            mbit = res["bits_per_s"] / 1e6
            sys.stderr.write("[tbf 100mbit: measured %.1f Mbit/s] " % mbit)
            self.assertGreater(mbit, 30)
            self.assertLess(mbit, 130)
        self.assertFalse(lab.is_up)
        self.assertGone(prefix)

    def test_cleanup_after_exception_and_ctrl_c(self):
        for tag, exc_type in (("b", RuntimeError), ("c", KeyboardInterrupt)):
            prefix = unique_prefix(tag)
            with self.subTest(exc=exc_type.__name__):
                with self.assertRaises(exc_type):
                    with NetLab(prefix=prefix, quiet=True) as lab:
                        sleeper = lab.popen("server", ["sleep", "30"])
                        raise exc_type("boom")
                self.assertIsNotNone(sleeper.poll(), "process inside the lab still runs")
                self.assertGone(prefix)

    def test_cleanup_on_sigterm(self):
        prefix = unique_prefix("d")
        code = ("import sys, time; sys.path.insert(0, %r)\n"
                "from scripts.netlab import NetLab\n"
                "with NetLab(prefix=%r, quiet=True) as lab:\n"
                "    print('up', flush=True)\n"
                "    time.sleep(30)\n" % (ROOT, prefix))
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
        try:
            self.assertEqual(proc.stdout.readline().strip(), b"up")
            self.assertTrue(set(lab_names(prefix)) <= namespaces())
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(timeout=10), 128 + signal.SIGTERM)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)
            proc.stdout.close()
        self.assertGone(prefix)

    def test_link_down_and_up(self):
        prefix = unique_prefix("e")
        with NetLab(rate="100mbit" if HAVE_TC else None, prefix=prefix, quiet=True) as lab:
            self.assertTrue(lab.link_is_up("server") and lab.link_is_up("client"))
            lab.link_down()
            self.assertFalse(lab.link_is_up("server"))
            t0 = time.monotonic()
            with self.assertRaises(NetLabError):
                netlab.tcp_echo(lab, timeout=1)
            self.assertLess(time.monotonic() - t0, 10)
            lab.link_up()
            self.assertTrue(lab.link_is_up("client"))
            self.assertTrue(netlab.tcp_echo(lab, timeout=5)["ok"])
            if HAVE_TC:
                self.assertEqual(lab.qdisc_show().count("tbf"), 2)   # shaping survives
        self.assertGone(prefix)

    def test_capture_inside_lab_sees_ip_fragments(self):
        from scripts.capture import Capture, CaptureUnavailable, find_capture_tool
        from scripts.pcap import summarize
        if find_capture_tool() is None:
            self.skipTest("no capture tool (tcpdump/dumpcap/tshark) installed")
        receiver = ("import socket, sys\n"
                    "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                    "s.bind((sys.argv[1], 5002)); s.settimeout(5)\n"
                    "print('ready', flush=True)\n"
                    "while True:\n"
                    "    d, a = s.recvfrom(65536); s.sendto(b'ack', a)\n")
        sender = ("import socket, sys\n"
                  "c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); c.settimeout(3)\n"
                  "for size in (100, 1473, 30000):\n"
                  "    c.sendto(b'x' * size, (sys.argv[1], 5002)); c.recv(16)\n")
        prefix = unique_prefix("c")
        tmp = self.make_tmpdir()
        with NetLab(prefix=prefix, quiet=True) as lab:
            rx = lab.popen("server", [sys.executable, "-c", receiver, lab.server_addr],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            self.addCleanup(rx.stdout.close)
            self.assertEqual(rx.stdout.readline().strip(), b"ready")
            cap = Capture(os.path.join(tmp, "veth.pcap"), interface=lab.server_if,
                          netns=lab.server_ns, proto="udp")
            try:
                cap.start()
            except CaptureUnavailable as exc:
                self.skipTest("capture not possible here: %s" % exc)
            try:
                lab.run("client", [sys.executable, "-c", sender, lab.server_addr],
                        timeout=15, check=True)
            finally:
                path = cap.stop()
        self.assertGone(prefix)
        row, = [r for r in summarize(path, ports=[5002]) if r["server_port"] == 5002]
        self.assertEqual(row["client_ip"], "10.201.0.2")
        self.assertEqual(row["c2s"]["datagrams"], 3)
        self.assertEqual(row["c2s"]["payload_bytes"], 100 + 1473 + 30000)
        self.assertEqual(row["c2s"]["fragments"], 2 + 21)     # 1500-byte MTU on the veth
        self.assertEqual(row["c2s"]["frames"], 1 + 2 + 21)
        self.assertEqual(row["s2c"]["datagrams"], 3)

    def make_tmpdir(self):
        tmp = tempfile.TemporaryDirectory(prefix="test_netlab_")
        self.addCleanup(tmp.cleanup)
        return tmp.name

    @unittest.skipUnless(HAVE_TC, "tc (iproute2) is not installed")
    def test_netem_detection(self):
        prefix = unique_prefix("f")
        logged = []
        with NetLab(rate="200mbit", delay="10ms", loss="0", prefix=prefix,
                    log=logged.append) as lab:
            self.assertIn("tbf", lab.qdisc_show())
            echo = netlab.tcp_echo(lab, timeout=5)
            self.assertTrue(echo["ok"])
            if lab.netem_available:
                self.assertIn("netem", lab.qdisc_show())
                self.assertGreaterEqual(echo["connect_ms"], 15.0)
            else:
                self.assertIs(lab.netem_available, False)
                self.assertEqual(len(logged), 1)
                self.assertIn("netem is not available on this kernel", logged[0])
                self.assertIn("rate-only shaping (tbf) still applies", logged[0])
                self.assertEqual(lab.warnings, [logged[0][len("netlab: "):]])
        self.assertGone(prefix)

    def test_existing_lab_refused_and_stale_cleanup(self):
        prefix = unique_prefix("g")
        with NetLab(prefix=prefix, quiet=True):
            with self.assertRaises(NetLabError) as ctx:
                NetLab(prefix=prefix, quiet=True).up()
            self.assertIn("already exists", str(ctx.exception))
        self.assertGone(prefix)
        # a stale half lab from a "crashed" run: only the server namespace
        subprocess.run(["ip", "netns", "add", lab_names(prefix)[0]], check=True, timeout=10)
        rc, out, _ = run_cli(["status", "--name", prefix])
        self.assertEqual(rc, 1)
        self.assertIn("missing", out)
        rc, out, _ = run_cli(["down", "--name", prefix])
        self.assertEqual(rc, 0)
        self.assertIn("removed", out)
        self.assertGone(prefix)

    def test_cli_up_run_status_down(self):
        prefix = unique_prefix("a")
        rc, out, err = run_cli(["up", "--name", prefix])
        try:
            self.assertEqual(rc, 0, err)
            self.assertIn("10.201.0.1", out)
            rc, out, _ = run_cli(["status", "--name", prefix])
            self.assertEqual(rc, 0)
            self.assertIn("10.201.0.2/24", out)
            cmd = [sys.executable, "scripts/netlab.py", "run", "client", "--name", prefix,
                   "--timeout", "10", "--", "ip", "-o", "-4", "addr", "show"]
            proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, timeout=30)
            self.assertEqual(proc.returncode, 0)
            self.assertIn(b"10.201.0.2/24", proc.stdout)
            proc = subprocess.run([sys.executable, "scripts/netlab.py", "run", "server",
                                   "--name", prefix, "--", "sh", "-c", "exit 3"],
                                  cwd=ROOT, timeout=30)
            self.assertEqual(proc.returncode, 3)
        finally:
            rc, out, _ = run_cli(["down", "--name", prefix])
        self.assertEqual(rc, 0)
        self.assertGone(prefix)
        rc, _, err = run_cli(["run", "server", "--name", prefix, "--", "true"])
        self.assertEqual(rc, 2)
        self.assertIn("not up", err)


if __name__ == "__main__":
    unittest.main()
