"""UDP transfers in-process: the server object in a thread, the clients through
``udp_run_client``.  Raw and reliable mode, bad datagrams, BUSY, mode
mismatch, ping between tests.  Everything on 127.0.0.1, ports chosen by the OS,
small generated files, every wait bounded.

Run: python3 -m unittest tests.test_udp_transfer -v
"""

import io
import json
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.udp_relay import UDPRelay  # noqa: E402
from transfer import catalog  # noqa: E402
from transfer.config import ClientConfig, ServerConfig  # noqa: E402
from transfer.hashing import sha256_file  # noqa: E402
from transfer.status import StatusBoard  # noqa: E402
from udp import server as udp_server  # noqa: E402
from udp.client import receive_threads, udp_run_client  # noqa: E402
from udp.packets import Ping, Pong, decode_control  # noqa: E402
from udp.ping import run_ping  # noqa: E402
from udp.server import UDPFileServer  # noqa: E402

MiB = 1024 * 1024


class UDPHarness:
    """Temporary folders, one generated file, an in-process server running one
    test in a thread, and in-process clients (mixed into TestCase classes)."""

    FILE = "data.txt"
    SIZE = 2 * MiB + 12345

    def make_lab(self, size=None):
        self.root = Path(tempfile.mkdtemp(prefix="udp-test-"))
        self.addCleanup(shutil.rmtree, str(self.root), True)
        self.files = self.root / "files"
        self.logs = self.root / "logs"
        self.received = self.root / "recv"
        catalog.generate_file(self.files / self.FILE, size if size is not None else self.SIZE)
        self.sha256 = sha256_file(self.files / self.FILE)

    def start_server(self, clients, **settings):
        """A UDPFileServer on 127.0.0.1:0 running one test of *clients* in a thread."""
        options = dict(bind="127.0.0.1", port=0, files_dir=str(self.files), logs_dir=str(self.logs), quiet=True,
                       timeout=5.0, handshake_timeout=20.0, create_files=False)
        options.update(settings)
        self.server_out = io.StringIO()
        server = UDPFileServer(ServerConfig(**options), out=self.server_out)
        self.addCleanup(server.close)
        entry = catalog.select_file(catalog.list_files(self.files), self.FILE)
        self.outcome = None

        def run():
            self.outcome = server.run_test(entry, clients, StatusBoard("test", quiet=True))
        self.server_thread = threading.Thread(target=run, daemon=True)
        self.server_thread.start()
        deadline = time.monotonic() + 10
        while server.current_test is None and time.monotonic() < deadline:
            time.sleep(0.01)
        return server

    def wait_server(self, timeout=30.0):
        self.server_thread.join(timeout)
        self.assertFalse(self.server_thread.is_alive(), "the server test did not end")
        return self.outcome

    def run_clients(self, port, clients, **settings):
        options = dict(host="127.0.0.1", port=port, clients=clients, assume_yes=True,
                       received_dir=str(self.received), logs_dir=str(self.logs), quiet=True, timeout=5.0,
                       handshake_timeout=20.0, idle_timeout=2.0)
        options.update(settings)
        return udp_run_client(ClientConfig(**options))

    def sidecar(self, role):
        paths = sorted((self.logs / "udp-{}".format(role)).glob("*-log*.jsonl"))
        self.assertTrue(paths, "no {} log".format(role))
        with open(str(paths[-1]), encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]

    def final_files(self):
        if not self.received.exists():
            return []
        return sorted(p.name for p in self.received.iterdir() if not p.name.endswith(".part"))

    def assert_all_verified(self, result, clients):
        reasons = [r.reason for r in result.records if not r.ok]
        self.assertTrue(result.ok, reasons)
        self.assertEqual(self.final_files(), sorted("Cliente{}-Prueba-{}.txt".format(k, clients)
                                                    for k in range(1, clients + 1)))
        for name in self.final_files():
            self.assertEqual(sha256_file(self.received / name), self.sha256)
        self.assertEqual(list(self.received.glob("*.part")), [])


class RawAndReliable(UDPHarness, unittest.TestCase):

    def setUp(self):
        self.make_lab()

    def check_logs(self, mode, clients):
        server = self.sidecar("server")
        client = self.sidecar("client")
        for log, role in ((server, "server"), (client, "client")):
            self.assertEqual(log[0]["record"], "test")
            self.assertEqual((log[0]["protocol"], log[0]["mode"], log[0]["role"]), ("udp", mode, role))
            self.assertEqual(log[-1]["record"], "summary")
            self.assertTrue(log[-1]["ok"])
            self.assertEqual(log[-1]["verified"], clients)
        self.assertEqual(server[0]["file_sha256"], self.sha256)
        self.assertIn("so_rcvbuf", server[0]["settings"])
        server_conns = {(c["client_ip"], c["client_port"]): c for c in server if c["record"] == "connection"}
        client_conns = [c for c in client if c["record"] == "connection"]
        self.assertEqual(len(server_conns), clients)
        self.assertEqual(len(client_conns), clients)
        ports = set()
        for conn in client_conns:
            peer = server_conns[(conn["client_ip"], conn["client_port"])]  # the pairing rule
            self.assertEqual(peer["server_port"], conn["server_port"])
            ports.add(conn["server_port"])
            for key in ("chunk_size", "datagrams_expected", "datagrams_received", "missing", "duplicates",
                        "out_of_order", "loss_pct", "resent_datagrams", "ignored_datagrams"):
                self.assertIn(key, conn)
            self.assertEqual(conn["missing"], 0)
            self.assertEqual(conn["sha256_received"], self.sha256)
            self.assertEqual(peer["client_report"]["sha256"], self.sha256)
            self.assertTrue(peer["client_report"]["ok"])
            self.assertGreaterEqual(peer["datagrams_sent"], conn["datagrams_expected"])
            if mode == "reliable":
                self.assertIn("delivery_ms", peer)
        self.assertEqual(len(ports), clients, "each client has its own server port")

    def test_raw_three_clients(self):
        server = self.start_server(3)
        result = self.run_clients(server.port, 3)
        outcome = self.wait_server()
        self.assert_all_verified(result, 3)
        self.assertTrue(outcome.ok)
        self.check_logs("raw", 3)

    def test_reliable_three_clients(self):
        server = self.start_server(3, reliable=True)
        result = self.run_clients(server.port, 3, reliable=True)
        self.wait_server()
        self.assert_all_verified(result, 3)
        self.check_logs("reliable", 3)

    def test_small_chunks_and_tiny_and_empty_files(self):
        for size in (0, 1, 500, 64 * 1000 + 7):
            with self.subTest(size=size):
                shutil.rmtree(str(self.root))
                self.make_lab(size)
                server = self.start_server(1, chunk_size=76, reliable=True)  # the smallest: 64 data bytes
                result = self.run_clients(server.port, 1, reliable=True)
                self.wait_server()
                self.assert_all_verified(result, 1)

    def test_session_ports_from_a_range(self):
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        probe.bind(("127.0.0.1", 0))
        low = probe.getsockname()[1]
        probe.close()
        server = self.start_server(2, reliable=True)
        server.config.session_ports = (low, low + 40)  # what --session-ports LOW-HIGH sets
        result = self.run_clients(server.port, 2, reliable=True)
        self.wait_server()
        self.assert_all_verified(result, 2)
        for rec in result.records:
            self.assertTrue(low <= rec.server_port <= low + 40, rec.server_port)

    def test_unpaced_raw_counts_whatever_it_lost(self):
        server = self.start_server(2, rate=0, chunk_size=8192)
        result = self.run_clients(server.port, 2)
        self.wait_server()
        for rec in result.records:
            expected = rec.extra["datagrams_expected"]
            self.assertEqual(rec.extra["datagrams_received"] - rec.extra["duplicates"] + rec.extra["missing"],
                             expected)
            self.assertEqual(rec.ok, rec.extra["missing"] == 0)
        self.assertEqual(len(self.final_files()), sum(1 for r in result.records if r.ok))


class PortablePaths(UDPHarness, unittest.TestCase):
    """The send and receive paths used where sendmsg/recvmsg_into do not exist (Windows)."""

    def setUp(self):
        self.make_lab()
        for module, name in ((udp_server, "FORCE_COPY"),):
            self.addCleanup(setattr, module, name, getattr(module, name))
            setattr(module, name, True)

    def test_copying_sender_and_staging_receiver(self):
        server = self.start_server(2, reliable=True, rate=8 * 1000 * 1000, chunk_size=16384)
        relay = UDPRelay(("127.0.0.1", server.port), loss=0.05, reorder=0.05, inject_garbage=True, seed=3)
        self.addCleanup(relay.close)
        # the client's plain receive path (no GRO), receiving, writing and hashing in one thread
        result = self.run_clients(relay.port, 2, reliable=True, idle_timeout=5.0,
                                  extra={"udp_gro": False, "udp_threads": 1})
        self.wait_server()
        self.assert_all_verified(result, 2)
        for rec in result.records:
            self.assertGreaterEqual(rec.extra["ignored_datagrams"], UDPRelay.GARBAGE)
            self.assertEqual(rec.extra["io_path"], "recv=plain")
            self.assertEqual(rec.extra["receive_threads"], 1)


class ReceiveThreads(unittest.TestCase):

    def test_two_threads_per_client_unless_asked(self):
        # receiving + writing/hashing (one client too: a third thread for the hash alone measured slower)
        self.assertEqual(receive_threads(ClientConfig()), (True, False))
        for threads, expected in ((1, (False, False)), (2, (True, False)), (3, (True, True))):
            self.assertEqual(receive_threads(ClientConfig(extra={"udp_threads": threads})), expected)


class BadInput(UDPHarness, unittest.TestCase):

    def setUp(self):
        self.make_lab()

    def test_bad_datagrams_are_ignored_and_counted(self):
        server = self.start_server(2)
        relay = UDPRelay(("127.0.0.1", server.port), inject_garbage=True)
        self.addCleanup(relay.close)
        junk = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(junk.close)
        for datagram in (b"\xd1\x01\x00\x00", b"READY transfer=1\n", b"NOT A MESSAGE\n", b"\xff" * 3000, b"x"):
            junk.sendto(datagram, ("127.0.0.1", server.port))
        result = self.run_clients(relay.port, 2)
        self.wait_server()
        self.assert_all_verified(result, 2)
        for rec in result.records:
            self.assertGreaterEqual(rec.extra["ignored_datagrams"], UDPRelay.GARBAGE)
        for rec in self.outcome.records:
            self.assertGreaterEqual(rec.extra["ignored_datagrams"], UDPRelay.GARBAGE_UP)
        self.assertGreaterEqual(server.ignored, 5)
        events = [r for r in self.sidecar("server") if r["record"] == "event" and r["kind"] == "ignored"]
        self.assertGreaterEqual(len(events), 1)

    def test_extra_client_gets_busy(self):
        server = self.start_server(1, reliable=True)
        result = self.run_clients(server.port, 1, reliable=True)
        self.wait_server()
        self.assert_all_verified(result, 1)
        # a test that waits for 1 client, knocked on by 2: one gets the file, the other BUSY
        shutil.rmtree(str(self.received))
        server2 = self.start_server(1, reliable=True)
        result = self.run_clients(server2.port, 2, reliable=True)
        self.wait_server()
        reasons = sorted(r.reason for r in result.records)
        self.assertEqual(sum(1 for r in result.records if r.ok), 1, reasons)
        self.assertIn("busy", reasons[-1])
        self.assertEqual(len(self.final_files()), 1)

    def test_mode_mismatch_is_a_clear_error(self):
        server = self.start_server(1, reliable=True, test_timeout=8.0)
        result = self.run_clients(server.port, 1, handshake_timeout=3.0)
        self.assertFalse(result.ok)
        self.assertIn("reliable", result.records[0].reason)
        self.assertEqual(self.final_files(), [])
        server.close()
        self.wait_server()

    def test_silent_client_after_file_frees_its_place_after_the_hello_timeout(self):
        server = self.start_server(1, hello_timeout=1.0)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(sock.close)
        sock.settimeout(5)
        sock.sendto(b"HELLO id=1 total=1 mode=raw pad=" + b"0" * 991 + b"\n", ("127.0.0.1", server.port))
        data, _ = sock.recvfrom(2048)
        self.assertTrue(data.startswith(b"RETRY token="))  # address validation first (PROTOCOL.md)
        sock.sendto(b"HELLO id=1 total=1 mode=raw token=" + data.split(b"=")[1].strip() + b"\n",
                    ("127.0.0.1", server.port))
        data, _ = sock.recvfrom(2048)
        self.assertTrue(data.startswith(b"FILE "))
        time.sleep(1.6)  # then silence: no READY, no HELLO
        result = self.run_clients(server.port, 1)  # the place was given back
        self.wait_server()
        self.assert_all_verified(result, 1)
        left = [r for r in self.sidecar("server") if r["record"] == "event" and r["kind"] == "left_before_start"]
        self.assertEqual(len(left), 1)
        self.assertIn("--hello-timeout", left[0]["detail"])

    def test_client_waiting_for_its_user_keeps_its_place(self):
        server = self.start_server(2, hello_timeout=2.0)

        class SlowUser:
            def confirm(self, _text):
                time.sleep(3.5)  # longer than --hello-timeout: the clients repeat HELLO meanwhile
                return True
        config = ClientConfig(host="127.0.0.1", port=server.port, clients=2, assume_yes=False,
                              received_dir=str(self.received), logs_dir=str(self.logs), quiet=True, timeout=5.0,
                              handshake_timeout=20.0, idle_timeout=2.0)
        result = udp_run_client(config, prompter=SlowUser())
        self.wait_server()
        self.assert_all_verified(result, 2)

    def test_no_server_ends_after_the_handshake_timeout(self):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()  # nobody listens there now
        result = self.run_clients(port, 2, handshake_timeout=1.0)
        self.assertFalse(result.ok)
        for rec in result.records:
            self.assertIn("no UDP server answered at 127.0.0.1:{}".format(port), rec.reason)
        self.assertEqual(self.final_files(), [])


class PingWhileIdle(UDPHarness, unittest.TestCase):

    def setUp(self):
        self.make_lab()

    def test_ping_between_tests(self):
        server = UDPFileServer(ServerConfig(bind="127.0.0.1", port=0, files_dir=str(self.files),
                                            logs_dir=str(self.logs), create_files=False), out=io.StringIO())
        self.addCleanup(server.close)
        out = io.StringIO()
        status = run_ping("127.0.0.1", server.port, 3, 0.2, out=out)
        self.assertEqual(status, 0, out.getvalue())
        text = out.getvalue()
        self.assertEqual(text.count("reply from"), 3)
        self.assertIn("3 sent, 3 received, 0.0% loss", text)
        self.assertIn("rtt min/avg/max", text)
        self.assertEqual(server.pings, 3)
        # between tests: nothing printed (the menu prompt stays intact), all in the between-tests log
        self.assertNotIn("ping from", server.out.getvalue())
        logged = lambda: server.side.path is not None and server.side.path.read_text().count("ping from 127.0.0.1:")  # noqa
        deadline = time.monotonic() + 5  # the line is written just after the PONG went out
        while logged() != 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertEqual(logged(), 3)
        self.assertIn("between tests: 3 ping", server.side.summary())

    def test_pong_is_the_same_seq(self):
        server = UDPFileServer(ServerConfig(bind="127.0.0.1", port=0, files_dir=str(self.files),
                                            logs_dir=str(self.logs), create_files=False, quiet=True))
        self.addCleanup(server.close)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(sock.close)
        sock.settimeout(5)
        sock.sendto(Ping(seq=77).encode(), ("127.0.0.1", server.port))
        data, source = sock.recvfrom(2048)
        self.assertEqual(decode_control(data), Pong(seq=77))
        self.assertEqual(source[1], server.port)

    def test_ping_nobody_fails(self):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()
        out = io.StringIO()
        self.assertEqual(run_ping("127.0.0.1", port, 2, 0.1, out=out), 1)
        self.assertIn("2 sent, 0 received, 100.0% loss", out.getvalue())


if __name__ == "__main__":
    unittest.main()
