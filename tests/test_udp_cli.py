"""The UDP programs as real processes: 25 clients in raw and reliable mode,
ping mode, --help from anywhere, bad flags, port in use, the server killed
mid-transfer, Ctrl-C.

Run: python3 -m unittest tests.test_udp_cli -v
"""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests import procs  # noqa: E402
from transfer.paths import PROJECT_ROOT  # noqa: E402

UDP_SERVER = str(PROJECT_ROOT / "udp" / "server.py")
UDP_CLIENT = str(PROJECT_ROOT / "udp" / "client.py")


def wait_until(condition, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def tiny_filesystem(test, folder, size):
    """Mount a tmpfs of *size* on *folder* for the length of *test* (skips it if that fails)."""
    folder.mkdir()
    command = "mount -t tmpfs -o size={} tmpfs".format(size).split() + [str(folder)]
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    if result.returncode:
        test.skipTest("no tmpfs here ({})".format(result.stderr.strip()))
    test.addCleanup(subprocess.run, ["umount", "-l", str(folder)])
    return folder


class TwentyFiveClients(unittest.TestCase):
    """udp/server.py and udp/client.py unattended, 25 clients, raw and reliable."""

    def setUp(self):
        self.lab = procs.Lab(prefix="ftlab-test-", size=2 * 1024 * 1024 + 12345)
        self.addCleanup(self.lab.cleanup)

    def run_test(self, mode_flags, rate):
        server, port = procs.start_server(self.lab, "udp", clients=25,
                                            extra=["--quiet", "--rate", rate, "--timeout", "10"] + mode_flags)
        client = procs.run(procs.client_argv(self.lab, "udp", port, 25, ["--idle-timeout", "3"] + mode_flags),
                             timeout=120)
        code, out, err = procs.finish(server, 60)
        procs.no_traceback(self, client.stdout + client.stderr + out + err)
        self.assertEqual(client.returncode, 0, client.stdout[-3000:] + client.stderr[-2000:])
        self.assertEqual(code, 0, out + err)
        self.assertIn("25 of 25 verified", client.stdout)
        names = sorted(os.listdir(str(self.lab.received)))
        self.assertEqual(names, sorted("Cliente{}-Prueba-25.txt".format(k) for k in range(1, 26)))
        for name in names:
            self.assertEqual(procs.sha256_of(self.lab.received / name), self.lab.sha256)
        mode = "reliable" if mode_flags else "raw"
        pairs = {}
        for role in ("server", "client"):
            sidecars = self.lab.sidecars("udp", role)
            self.assertEqual(len(sidecars), 1, role)
            self.assertRegex(sidecars[0].name, r"^\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d-log\.jsonl$")
            self.assertTrue(sidecars[0].with_suffix(".txt").exists())
            records = self.lab.records("udp", role)
            test, summary = records[0], records[-1]
            self.assertEqual((test["record"], test["protocol"], test["mode"], test["role"]),
                             ("test", "udp", mode, role))
            self.assertEqual(test["file_sha256"], self.lab.sha256)
            self.assertEqual((summary["record"], summary["ok"], summary["verified"]), ("summary", True, 25))
            conns = [r for r in records if r["record"] == "connection"]
            self.assertEqual(sorted(r["client_id"] for r in conns), list(range(1, 26)))
            for rec in conns:
                self.assertTrue(rec["ok"], rec)
                self.assertEqual(rec["bytes"], self.lab.size)
                self.assertEqual(rec["sha256_received"], self.lab.sha256)
                self.assertNotEqual(rec["server_port"], port)  # the session's own port
                self.assertGreater(rec["time_ms"], 0)
                pairs.setdefault((rec["client_ip"], rec["client_port"], rec["server_port"]), []).append(role)
            if role == "server":
                self.assertEqual(len({r["server_port"] for r in conns}), 25)
                for rec in conns:
                    self.assertTrue(rec["client_report"]["ok"])
                    self.assertGreaterEqual(rec["datagrams_sent"], rec["datagrams_expected"])
            else:
                for rec in conns:
                    self.assertEqual(rec["missing"], 0)
                    self.assertEqual(rec["loss_pct"], 0.0)
        self.assertEqual(len(pairs), 25)
        self.assertTrue(all(sorted(v) == ["client", "server"] for v in pairs.values()), pairs)

    def test_25_clients_raw(self):
        self.run_test([], "4M")

    def test_25_clients_reliable(self):
        self.run_test(["--reliable"], "20M")


class Programs(unittest.TestCase):

    def setUp(self):
        self.lab = procs.Lab(prefix="ftlab-test-", size=4 * 1024 * 1024)
        self.addCleanup(self.lab.cleanup)

    def server_argv(self, *extra):
        return [procs.PYTHON, UDP_SERVER, "--bind", "127.0.0.1", "--files-dir", str(self.lab.files),
                "--logs-dir", str(self.lab.logs), "--no-create"] + list(extra)

    def test_help_from_anywhere_both_ways(self):
        with tempfile.TemporaryDirectory() as elsewhere:
            for argv, cwd in (([procs.PYTHON, UDP_SERVER, "--help"], elsewhere),
                              ([procs.PYTHON, UDP_CLIENT, "--help"], elsewhere),
                              ([procs.PYTHON, "-m", "udp.server", "--help"], str(PROJECT_ROOT)),
                              ([procs.PYTHON, "-m", "udp.client", "--help"], str(PROJECT_ROOT))):
                done = procs.run(argv, cwd=cwd, timeout=30)
                self.assertEqual(done.returncode, 0, done.stderr)
                for flag in ("--port", "--clients", "--reliable", "--idle-timeout", "--logs-dir"):
                    self.assertIn(flag, done.stdout)
                if "server" in argv[-2]:
                    for flag in ("--rate", "--chunk-size", "5002"):
                        self.assertIn(flag, done.stdout)
                else:
                    for flag in ("--ping", "--count", "--interval"):
                        self.assertIn(flag, done.stdout)

    def test_bad_flags_one_line_exit_2(self):
        for bad in (["--rate", "fast"], ["--chunk-size", "70000"], ["--chunk-size", "10"], ["--port", "-1"],
                    ["--idle-timeout", "0"], ["--clients", "0"]):
            done = procs.run(self.server_argv("--port", "0", "--file", "1", "--once", *bad), timeout=30)
            self.assertEqual(done.returncode, 2, bad)
            self.assertEqual(len(done.stderr.strip().splitlines()), 1, done.stderr)
            procs.no_traceback(self, done.stderr)
        for bad in (["--count", "0"], ["--interval", "x"], ["--idle-timeout", "-3"]):
            done = procs.run([procs.PYTHON, UDP_CLIENT, "--ping", *bad], timeout=30)
            self.assertEqual(done.returncode, 2, bad)
            self.assertEqual(len(done.stderr.strip().splitlines()), 1, done.stderr)

    def test_port_in_use(self):
        holder = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        holder.bind(("127.0.0.1", 0))
        self.addCleanup(holder.close)
        done = procs.run(self.server_argv("--port", str(holder.getsockname()[1]), "--file", "1", "--clients",
                                            "1", "--once"), timeout=30)
        self.assertEqual(done.returncode, 2)
        self.assertIn("already in use", done.stderr)
        self.assertEqual(len(done.stderr.strip().splitlines()), 1, done.stderr)

    def test_ping_mode(self):
        server = subprocess.Popen(self.server_argv("--port", "0", "--port-file", str(self.lab.root / "p")),
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(lambda: server.poll() is None and server.kill())
        self.assertTrue(wait_until(lambda: (self.lab.root / "p").exists() and
                                   (self.lab.root / "p").read_text().endswith("\n"), 20))
        port = (self.lab.root / "p").read_text().strip()
        done = procs.run([procs.PYTHON, UDP_CLIENT, "--ping", "--host", "127.0.0.1", "--port", port,
                            "--count", "3", "--interval", "0.2"], timeout=30)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertEqual(done.stdout.count("reply from 127.0.0.1:{}".format(port)), 3)
        self.assertIn("3 sent, 3 received, 0.0% loss", done.stdout)
        self.assertRegex(done.stdout, r"rtt min/avg/max = [0-9.]+/[0-9.]+/[0-9.]+ ms")
        server.stdin.write(b"q\n")  # the menu is still waiting: quit
        server.stdin.flush()
        code, out, err = procs.finish(server, 30)
        self.assertEqual(code, 0, err)
        # pings at the menu never print over the prompt: they go to the between-tests log, and one line
        # on exit says how many there were and where
        self.assertNotIn("ping from", out)
        self.assertIn("File to send (number or name, q to quit): ", out)
        self.assertRegex(out, r"between tests: 3 ping \(logged in .*-between-tests\.txt\)")
        side = sorted((self.lab.logs / "udp-server").glob("*-between-tests.txt"))
        self.assertEqual(len(side), 1)
        self.assertEqual(side[0].read_text().count("ping from 127.0.0.1:"), 3)
        # nobody there: exit 1, still a summary
        done = procs.run([procs.PYTHON, UDP_CLIENT, "--ping", "--host", "127.0.0.1", "--port", port,
                            "--count", "2", "--interval", "0.2"], timeout=30)
        self.assertEqual(done.returncode, 1)
        self.assertIn("2 sent, 0 received, 100.0% loss", done.stdout)

    def test_server_killed_mid_transfer(self):
        server, port = procs.start_server(self.lab, "udp", clients=2, extra=["--quiet", "--rate", "1M"])
        client = subprocess.Popen(procs.client_argv(self.lab, "udp", port, 2, ["--idle-timeout", "1.5"]),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # 4 MiB at 1 MB/s per client: the data flows for about 4 s; kill the server after the first second
        self.assertTrue(wait_until(lambda: any(p.name.endswith(".part") for p in self.lab.received.glob("*"))
                                   if self.lab.received.exists() else False, 30))
        time.sleep(1.0)
        server.kill()
        procs.finish(server, 30)
        code, out, err = procs.finish(client, 60)
        procs.no_traceback(self, out + err)
        self.assertEqual(code, 1, out + err)
        self.assertIn("no datagram from the server for 1.5 s", out)
        self.assertEqual([p for p in os.listdir(str(self.lab.received)) if not p.endswith(".part")], [])
        self.assertEqual([p for p in os.listdir(str(self.lab.received))], [])
        conns = [r for r in self.lab.records("udp", "client") if r["record"] == "connection"]
        self.assertEqual(len(conns), 2)
        for rec in conns:
            self.assertFalse(rec["ok"])
            self.assertGreater(rec["bytes"], 0)
            self.assertLess(rec["bytes"], self.lab.size)
            chunk = rec["chunk_size"] - 12
            self.assertEqual(rec["bytes"], (rec["datagrams_expected"] - rec["missing"]) * chunk)
            self.assertIn("{:,} of {:,} bytes".format(rec["bytes"], self.lab.size), rec["reason"])

    @unittest.skipUnless(sys.platform.startswith("linux") and hasattr(os, "geteuid") and os.geteuid() == 0,
                         "needs root on Linux to mount a small tmpfs")
    def test_disk_full_while_receiving(self):
        # two client processes share a 6 MiB disk: each one's free-space check (4 MiB) passes before
        # READY, then the disk fills while they receive
        small = tiny_filesystem(self, self.lab.root / "tiny", "6m")
        server, port = procs.start_server(self.lab, "udp", clients=2, extra=["--quiet", "--reliable",
                                                                             "--rate", "20M"])
        argv = procs.client_argv(self.lab, "udp", port, 1, ["--reliable"])
        argv[argv.index("--received-dir") + 1] = str(small)
        runs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
        done = [procs.finish(proc, 60) for proc in runs]
        code, out, err = procs.finish(server, 30)
        procs.no_traceback(self, "".join(o + e for _, o, e in done) + out + err)
        full = [o for status, o, _ in done if status == 1 and "disk full" in o]
        self.assertTrue(full, done)
        for name in os.listdir(str(small)):   # only a verified file, never a partial one
            self.assertFalse(name.endswith(".part"), name)
            self.assertEqual(procs.sha256_of(small / name), self.lab.sha256)
        self.assertEqual(code, 1)  # the server learns it at once from the client's ERROR
        reasons = [r["reason"] for r in self.lab.records("udp", "server") if r["record"] == "connection"]
        self.assertTrue(any("disk full" in reason for reason in reasons), reasons)

    @unittest.skipUnless(os.name == "posix", "needs POSIX signals")
    def test_ctrl_c_during_the_data_keeps_the_counts(self):
        # issue 11: after a client Ctrl-C the summary showed 0 datagrams and None although data had arrived
        server, port = procs.start_server(self.lab, "udp", clients=1, extra=["--rate", "1M"])
        client = subprocess.Popen(procs.client_argv(self.lab, "udp", port, 1), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        self.assertTrue(wait_until(lambda: any(p.name.endswith(".part") for p in self.lab.received.glob("*"))
                                   if self.lab.received.exists() else False, 30))
        time.sleep(1.0)   # about 1 MB arrives
        client.send_signal(signal.SIGINT)
        code, out, err = procs.finish(client, 30)
        server.kill()
        procs.finish(server, 30)
        procs.no_traceback(self, out + err)
        self.assertEqual(code, 130, err)
        rec = [r for r in self.lab.records("udp", "client") if r["record"] == "connection"][0]
        self.assertFalse(rec["ok"])
        self.assertGreater(rec["datagrams_received"], 0)
        self.assertGreater(rec["bytes"], 0)
        self.assertEqual(rec["bytes"], rec["bytes_received"])
        self.assertEqual(rec["missing"], rec["datagrams_expected"] - rec["datagrams_received"])
        self.assertIn(rec["io_path"], ("recv=gro", "recv=plain"))
        self.assertNotIn("None", out)
        self.assertIn("{:,}".format(rec["datagrams_received"]), out)

    @unittest.skipUnless(os.name == "posix", "needs POSIX signals")
    def test_ctrl_c_on_both_sides_writes_the_logs(self):
        server, port = procs.start_server(self.lab, "udp", clients=2, extra=["--quiet"])
        client = subprocess.Popen(procs.client_argv(self.lab, "udp", port, 1), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        # the client has said READY and waits for the second client of the test
        self.assertTrue(wait_until(lambda: self.lab.sidecars("udp", "client"), 20))
        time.sleep(0.5)
        for role, process in (("client", client), ("server", server)):
            process.send_signal(signal.SIGINT)
            code, out, err = procs.finish(process, 30)
            procs.no_traceback(self, out + err)
            self.assertEqual((role, code), (role, 130), err)
            last = self.lab.records("udp", role)[-1]
            self.assertEqual((last["record"], last["interrupted"]), ("summary", True), role)


if __name__ == "__main__":
    unittest.main()
