"""Hostile peers against the real programs.

* A live TCP server (in-process TCPFileServer in a thread) gets 1,000
  malformed connections while a real test runs: the real clients verify,
  the server keeps serving, every bad connection is answered or closed and
  logged as an event.
* 200 idle connections that never say HELLO (slowloris) with
  ``hello_timeout`` 2 s: a real test is still served; each idle one is
  timed out and logged.
* 10,000 junk UDP datagrams at the UDP server's well-known port during a
  real reliable UDP test (when udp/ exists).
* A malicious fake TCP server (threads, in this file) against the real
  client process: path traversal and terminal control characters in the
  file name, short data, data past the size, a wrong hash, bad FILE and
  DATA lines.  The client writes only ``Cliente<k>-Prueba-<n>.txt`` in its
  received folder, prints and logs names escaped, and reports failures
  (exit 1, ok=false with reasons, no file under the final name).

Run: python3 -m unittest tests.test_hostile -v
"""

import hashlib
import logging
import os
import random
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests import procs  # noqa: E402
from transfer.catalog import FileEntry  # noqa: E402
from transfer.config import ClientConfig, ServerConfig  # noqa: E402
from transfer.messages import LineReader  # noqa: E402
from transfer.status import StatusBoard  # noqa: E402
from transfer.testlog import EVENT_LINES_PER_KIND  # noqa: E402
from tcp.client import tcp_run_client  # noqa: E402
from tcp.server import TCPFileServer  # noqa: E402

FILE_SIZE = 3 * 1024 * 1024 + 17
FLOOD_CONNECTIONS = 1000
FLOOD_THREADS = 8
IDLE_CONNECTIONS = 200
UDP_JUNK = 10000


class ServerThread:
    """A TCPFileServer running the given tests one after another in a thread."""

    def __init__(self, lab, tests, **settings):
        values = dict(bind="127.0.0.1", port=0, files_dir=str(lab.files), logs_dir=str(lab.logs), quiet=True,
                      timeout=10.0, handshake_timeout=60.0, hello_timeout=5.0, create_files=False)
        values.update(settings)
        self.config = ServerConfig(**values)
        self.server = TCPFileServer(self.config)
        self.port = self.server.port
        self.outcomes = []
        self.errors = []
        self.thread = threading.Thread(target=self._run, args=(tests,), name="test-server", daemon=True)
        self.thread.start()

    def _run(self, tests):
        try:
            for entry, clients in tests:
                board = StatusBoard("hostile", quiet=True)
                self.outcomes.append(self.server.run_test(entry, clients, board))
        except Exception as exc:  # pragma: no cover - reported by the test
            self.errors.append(exc)

    def join(self, timeout):
        self.thread.join(timeout)
        return not self.thread.is_alive()

    def close(self):
        self.server.close()


class CapturedErrors(logging.Handler):
    """Collects ERROR records of the server's logger (internal errors)."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.records = []

    def emit(self, record):
        self.records.append(record)


def client_config(lab, port, clients=1, recv=None, **extra):
    values = dict(host="127.0.0.1", port=port, clients=clients, assume_yes=True,
                  received_dir=str(recv or lab.recv), logs_dir=str(lab.logs), quiet=True, timeout=10.0,
                  handshake_timeout=60.0)
    values.update(extra)
    return ClientConfig(**values)


def run_client_thread(config, results):
    thread = threading.Thread(target=lambda: results.append(tcp_run_client(config)), daemon=True)
    thread.start()
    return thread


def malformed_payload(i, rng):
    """(payload bytes, close right after sending?) for flood connection *i*."""
    kind = i % 14
    if kind == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randint(1, 200))) + b"\n", False
    if kind == 1:
        return b"A" * 5000, False                           # long line, no newline
    if kind == 2:
        return b"HELLO id=1 total=1 x=" + b"y" * 100000 + b"\n", False
    if kind == 3:
        return b"READY\n", False                            # wrong verb for the state
    if kind == 4:
        return b"DONE bytes=1 sha256=" + b"0" * 64 + b" ok=1\n", False
    if kind == 5:
        return b"FOO bar=1\n", False
    if kind == 6:
        return b"hello id=1 total=1\n", False
    if kind == 7:
        return "HELLO id=1 total=1 name=\u00e9\u20ac\n".encode("utf-8"), False   # not ASCII
    if kind == 8:
        return b"HELLO id=1 tot", True                      # half a line, then close
    if kind == 9:
        return b"HELLO id=%C2%B2 total=1\n", False          # a unicode digit
    if kind == 10:
        return b"HELLO id=999999999999 total=1\n", False
    if kind == 11:
        return b"", True                                    # connect and close
    if kind == 12:
        return b"\x1b[2J\x07\rHELLO\r\n", False            # terminal control characters
    return b"\n", False


def flood_one(port, payload, close_now, stats, lock):
    """One malformed connection; returns what the server did (answer / close / nothing)."""
    outcome = "none"
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    except OSError:
        with lock:
            stats["connect_failed"] = stats.get("connect_failed", 0) + 1
        return
    try:
        sock.settimeout(10)
        if payload:
            try:
                sock.sendall(payload)
            except OSError:
                outcome = "reset"
        if not close_now and outcome == "none":
            data = b""
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and len(data) < 4096:
                try:
                    chunk = sock.recv(4096)
                except socket.timeout:
                    outcome = "no answer"
                    break
                except OSError:
                    outcome = "reset" if not data else "error line"
                    break
                if not chunk:
                    outcome = "error line" if data.startswith(b"ERROR ") else "closed"
                    break
                data += chunk
        elif close_now:
            outcome = "closed by us"
    finally:
        sock.close()
    with lock:
        stats[outcome] = stats.get(outcome, 0) + 1


class HostileTCPServer(unittest.TestCase):

    def setUp(self):
        self.lab = procs.Lab(prefix="hostile-")
        self.addCleanup(self.lab.close)
        self.path = self.lab.make_file("data.bin", FILE_SIZE)
        self.entry = FileEntry(self.path)
        self.sha = procs.sha256_of(self.path)
        self.errors = CapturedErrors()
        logging.getLogger("tcp.server").addHandler(self.errors)
        self.addCleanup(logging.getLogger("tcp.server").removeHandler, self.errors)

    def verified(self, result, recv, clients=1, test_clients=None):
        """*clients* started by this client run, in a test of *test_clients* (the name's n)."""
        self.assertTrue(result.ok, [r.reason for r in result.records])
        for k in range(1, clients + 1):
            name = "Cliente{}-Prueba-{}.txt".format(k, test_clients or clients)
            self.assertEqual(procs.sha256_of(os.path.join(str(recv), name)), self.sha)

    def events(self):
        found = []
        for log in self.lab.logs_of("tcp", "server"):
            found.extend(procs.records_of(log, "event"))
        return found

    def event_totals(self, *kinds):
        """Events of *kinds* counted in the servers' summaries (logged one by one or not)."""
        total = 0
        for log in self.lab.logs_of("tcp", "server"):
            for summary in procs.records_of(log, "summary"):
                total += sum(summary.get("events", {}).get(kind, 0) for kind in kinds)
        return total

    def test_malformed_connections_during_a_test(self):
        server = ServerThread(self.lab, [(self.entry, 2), (self.entry, 1)], hello_timeout=5.0)
        self.addCleanup(server.close)
        rng = random.Random(0xBAD)
        payloads = [malformed_payload(i, rng) for i in range(FLOOD_CONNECTIONS)]
        stats, lock = {}, threading.Lock()
        next_index = [0]
        recv = [self.lab.root / "recv-a", self.lab.root / "recv-b", self.lab.root / "recv-c"]
        results = [[], [], []]
        started = {}

        def worker():
            while True:
                with lock:
                    i = next_index[0]
                    next_index[0] += 1
                    # the real clients of test 1 join during the flood: one early, one midway
                    if i == FLOOD_CONNECTIONS // 10:
                        started[0] = run_client_thread(client_config(self.lab, server.port, recv=recv[0]),
                                                       results[0])
                    if i == FLOOD_CONNECTIONS // 2:
                        started[1] = run_client_thread(client_config(self.lab, server.port, recv=recv[1]),
                                                       results[1])
                if i >= FLOOD_CONNECTIONS:
                    return
                flood_one(server.port, payloads[i][0], payloads[i][1], stats, lock)

        workers = [threading.Thread(target=worker, daemon=True) for _ in range(FLOOD_THREADS)]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join(180)
            self.assertFalse(thread.is_alive(), "flood connections hang")
        for key in (0, 1):
            started[key].join(60)
            self.assertFalse(started[key].is_alive())
        # after the flood the server still serves a new test
        run_client_thread(client_config(self.lab, server.port, recv=recv[2]), results[2]).join(60)
        self.assertTrue(server.join(30), "server thread did not finish its two tests")
        self.assertEqual(server.errors, [])
        for k in range(3):
            self.assertEqual(len(results[k]), 1)
            self.verified(results[k][0], recv[k], test_clients=(2, 2, 1)[k])
        self.assertTrue(all(outcome.ok for outcome in server.outcomes))
        handled = sum(stats.values())
        self.assertEqual(handled, FLOOD_CONNECTIONS, stats)
        self.assertEqual(stats.get("connect_failed", 0), 0, stats)
        self.assertEqual(stats.get("no answer", 0), 0, stats)
        # every bad connection is an event in a server log (a few that straddle the
        # end of test 1 are handled after its log closed; allow for those)
        events = self.event_totals("protocol_error", "timeout")
        self.assertGreaterEqual(events, FLOOD_CONNECTIONS - 50, stats)
        # ... counted, but written one by one only up to the cap per kind and test
        for log in self.lab.logs_of("tcp", "server"):
            kinds = [e["kind"] for e in procs.records_of(log, "event")]
            for kind in set(kinds):
                self.assertLessEqual(kinds.count(kind), EVENT_LINES_PER_KIND, kind)
        self.assertEqual(self.errors.records, [], "internal errors logged by the server")
        for path in (self.lab.logs / "tcp-server").iterdir():
            self.assertNotIn(b"\x1b", path.read_bytes(), path)
            self.assertNotIn(b"\x07", path.read_bytes(), path)
        sys.stderr.write("\n  flood outcomes {}; server events {}\n".format(stats, events))

    def test_idle_connections_are_timed_out(self):
        server = ServerThread(self.lab, [(self.entry, 2)], hello_timeout=2.0)
        self.addCleanup(server.close)
        idle = []
        try:
            for _ in range(IDLE_CONNECTIONS):
                idle.append(socket.create_connection(("127.0.0.1", server.port), timeout=10))
            results = [[], []]
            recv = [self.lab.root / "recv-a", self.lab.root / "recv-b"]
            first = run_client_thread(client_config(self.lab, server.port, recv=recv[0]), results[0])
            # each idle connection gets ERROR and a close within the hello timeout (bounded wait)
            answered = 0
            for sock in idle:
                sock.settimeout(15)
                data = b""
                try:
                    while True:
                        chunk = sock.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                except OSError:
                    pass
                if data.startswith(b"ERROR "):
                    answered += 1
            self.assertEqual(answered, IDLE_CONNECTIONS)
            # the test is still waiting for its second client: it comes now
            second = run_client_thread(client_config(self.lab, server.port, recv=recv[1]), results[1])
            first.join(60)
            second.join(60)
            self.assertTrue(server.join(30))
        finally:
            for sock in idle:
                sock.close()
        self.verified(results[0][0], recv[0], test_clients=2)
        self.verified(results[1][0], recv[1], test_clients=2)
        timeouts = [e for e in self.events() if e["kind"] == "timeout"]
        self.assertEqual(self.event_totals("timeout"), IDLE_CONNECTIONS)
        self.assertEqual(len(timeouts), EVENT_LINES_PER_KIND)  # the rest only counted
        self.assertTrue(all("HELLO" in e["detail"] for e in timeouts))
        self.assertEqual(self.errors.records, [])


# -- a malicious TCP server against the real client process ---------------------------

GOOD = b"".join(b"line %05d of the good file\n" % i for i in range(4000))
GOOD_SHA = hashlib.sha256(GOOD).hexdigest()


def offer_line(name=b"good.txt", size=len(GOOD), sha=GOOD_SHA.encode(), clients=b"1"):
    if isinstance(size, int):
        size = str(size).encode()
    return b"FILE name=" + name + b" size=" + size + b" sha256=" + sha + b" clients=" + clients + b"\n"


class FakeServer:
    """Accepts one connection and plays *script(sock, reader)* on it."""

    def __init__(self, script):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(4)
        self.listener.settimeout(30)
        self.port = self.listener.getsockname()[1]
        self.script = script
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            conn, _ = self.listener.accept()
        except OSError as exc:
            self.error = exc
            return
        conn.settimeout(15)
        try:
            reader = LineReader(conn)
            hello = reader.read_line()
            assert hello.startswith(b"HELLO "), hello
            self.script(conn, reader)
        except Exception as exc:  # the client may close first: fine
            self.error = exc
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def close(self):
        self.thread.join(20)
        self.listener.close()


def expect_ready(reader):
    line = reader.read_line()
    assert line == b"READY\n", line


def script_offer_and_data(name=b"good.txt", size=len(GOOD), sha=GOOD_SHA.encode(), data=GOOD, data_size=None,
                          after=b"", close_early=False):
    def script(conn, reader):
        conn.sendall(offer_line(name, size, sha))
        expect_ready(reader)
        conn.sendall(b"DATA size=" + str(size if data_size is None else data_size).encode() + b"\n")
        conn.sendall(data + after)
        if close_early:
            return
        conn.settimeout(10)
        line = reader.read_line()
        assert line.startswith(b"DONE "), line
        conn.sendall(b"BYE ok=1\n")
    return script


def script_send(*lines):
    def script(conn, reader):
        for line in lines:
            conn.sendall(line)
        time.sleep(0.2)
    return script


class MaliciousServer(unittest.TestCase):
    """The real tcp/client.py against a lying server."""

    def setUp(self):
        self.lab = procs.Lab(prefix="evilsrv-")
        self.addCleanup(self.lab.close)
        # received files go two levels down, so ../../x would land in the lab root
        self.recv = self.lab.root / "deep" / "er" / "recv"
        self.recv.mkdir(parents=True)

    def run_client_against(self, script):
        fake = FakeServer(script)
        self.addCleanup(fake.close)
        status, out, err = procs.run_client(self.lab, "tcp", fake.port, 1, recv=self.recv,
                                            extra=["--timeout", "3", "--handshake-timeout", "5"], timeout=60)
        fake.close()
        self.assertIsNotNone(status, "client hung")
        logs = self.lab.logs_of("tcp", "client")
        self.assertTrue(logs, "client wrote no log")
        log = logs[-1]
        conns = procs.records_of(log, "connection")
        self.assertEqual(len(conns), 1)
        text_logs = [p.read_bytes() for p in (self.lab.logs / "tcp-client").iterdir()]  # .txt and .jsonl
        for blob in [out, err] + text_logs:
            for raw in (b"\x1b", b"\x07", b"\r"):
                self.assertNotIn(raw, blob, "raw control byte in output or log")
        return status, out, err, conns[0], log

    def assert_only_received_names(self, allowed):
        """Only the expected files exist in the whole lab (logs and process output aside)."""
        files = [p for p in self.lab.tree() if not p.startswith("logs" + os.sep)
                 and not p.startswith("client.")]
        expected = sorted(os.path.join("deep", "er", "recv", name) for name in allowed)
        self.assertEqual(files, expected)

    def assert_failed(self, status, conn, log, reason_part):
        self.assertEqual(status, 1)
        self.assertFalse(conn["ok"])
        self.assertIn(reason_part, conn["reason"])
        self.assertIsNone(conn["saved_as"])
        self.assertFalse(procs.records_of(log, "summary")[0]["ok"])
        self.assert_only_received_names([])

    def test_path_traversal_name(self):
        status, out, err, conn, _ = self.run_client_against(script_offer_and_data(name=b"..%2F..%2Fx"))
        self.assertEqual(status, 0, err)
        self.assertTrue(conn["ok"])
        self.assertEqual(conn["saved_as"], str(self.recv / "Cliente1-Prueba-1.txt"))
        self.assert_only_received_names(["Cliente1-Prueba-1.txt"])
        self.assertEqual((self.recv / "Cliente1-Prueba-1.txt").read_bytes(), GOOD)

    def test_absolute_path_name(self):
        status, _, err, conn, _ = self.run_client_against(script_offer_and_data(name=b"%2Fetc%2Fpasswd"))
        self.assertEqual(status, 0, err)
        self.assert_only_received_names(["Cliente1-Prueba-1.txt"])

    def test_terminal_control_characters_in_name(self):
        name = b"%1B%5B2J%0Dclear%07%1B%5D0%3Btitle%07.txt"
        status, out, err, conn, log = self.run_client_against(script_offer_and_data(name=name))
        self.assertEqual(status, 0, err)
        self.assert_only_received_names(["Cliente1-Prueba-1.txt"])
        shown = out + err
        self.assertTrue(b"\\x1b" in shown or b"clear" not in shown)   # shown escaped, if shown at all

    def test_short_data_then_close(self):
        status, _, _, conn, log = self.run_client_against(
            script_offer_and_data(size=len(GOOD) + 5000, data=GOOD, close_early=True))
        self.assert_failed(status, conn, log, "closed the connection")
        self.assertEqual(conn["bytes"], len(GOOD))
        self.assertIsNone(conn["partial_as"])

    def test_data_beyond_size(self):
        # the client reads exactly size bytes: nothing past it reaches a file
        status, _, _, conn, _ = self.run_client_against(
            script_offer_and_data(after=b"EXTRA BYTES PAST THE END" * 100))
        self.assertIn(status, (0, 1))
        self.assertEqual(conn["bytes"], len(GOOD))
        for path in self.recv.iterdir():
            self.assertEqual(path.read_bytes(), GOOD)
        if status == 0:
            self.assert_only_received_names(["Cliente1-Prueba-1.txt"])
        else:
            self.assertFalse(conn["ok"])
            self.assert_only_received_names([])

    def test_wrong_hash(self):
        status, _, _, conn, log = self.run_client_against(script_offer_and_data(sha=b"0" * 64))
        self.assert_failed(status, conn, log, "SHA-256 mismatch")
        self.assertEqual(conn["bytes"], len(GOOD))

    def test_data_size_differs_from_file_size(self):
        status, _, _, conn, log = self.run_client_against(
            script_offer_and_data(data_size=len(GOOD) * 2, close_early=True))
        self.assert_failed(status, conn, log, "DATA size")

    def test_huge_size_then_close(self):
        # refused before READY: more than the disk holds (tests.test_tcp_security checks no READY went out)
        status, _, _, conn, log = self.run_client_against(
            script_offer_and_data(size=10 ** 18, data=GOOD, close_early=True))
        self.assert_failed(status, conn, log, "not enough free space")
        self.assertEqual(conn["bytes"], 0)

    def test_bad_file_lines(self):
        bad = [
            b"FILE name=x size=-1 sha256=" + GOOD_SHA.encode() + b" clients=1\n",
            b"FILE name=x size=" + b"9" * 40 + b" sha256=" + GOOD_SHA.encode() + b" clients=1\n",
            b"FILE name=x size=10 sha256=xyz clients=1\n",
            b"FILE name=" + b"n" * 3000 + b"\n",
            b"FILE name=\xff\xfe size=1 sha256=" + GOOD_SHA.encode() + b" clients=1\n",
            b"FILE name=x size=%C2%B2 sha256=" + GOOD_SHA.encode() + b" clients=1\n",
            b"\x1b[2J\x07 garbage\n",
            b"DATA size=10\n",
        ]
        for line in bad:
            with self.subTest(line=line[:40]):
                status, _, _, conn, log = self.run_client_against(script_send(line))
                self.assert_failed(status, conn, log, "protocol error")

    def test_error_and_busy_with_control_characters(self):
        for line in (b"ERROR reason=%1B%5B2J%07boom\n", b"BUSY reason=%1B%5B31mfull%0D\n"):
            with self.subTest(line=line[:20]):
                status, _, _, conn, log = self.run_client_against(script_send(line))
                self.assert_failed(status, conn, log, "server")

    def test_server_silent_after_hello(self):
        status, _, _, conn, log = self.run_client_against(script_send())
        self.assertEqual(status, 1)
        self.assertFalse(conn["ok"])
        self.assert_only_received_names([])


# -- junk at the UDP server ---------------------------------------------------------------

@unittest.skipUnless(procs.have_udp(), procs.UDP_SKIP)
class HostileUDP(unittest.TestCase):

    def test_junk_datagrams_during_a_reliable_test(self):
        lab = procs.Lab(prefix="udpjunk-")
        self.addCleanup(lab.close)
        path = lab.make_file("data.bin", 4 * 1024 * 1024)
        sha = procs.sha256_of(path)
        server, port = procs.start_server(lab, "udp", file="data.bin", clients=2,
                                          extra=["--reliable", "--timeout", "10", "--hello-timeout", "5",
                                                 "--rate", "8M"])
        self.addCleanup(server.stop)
        client = procs.start_client(lab, "udp", port, 2, extra=["--reliable", "--timeout", "10"])
        self.addCleanup(client.stop)
        rng = random.Random(0x0DD)
        junk = [
            lambda: bytes(rng.randrange(256) for _ in range(rng.randint(0, 1400))),
            lambda: b"HELLO id=%C2%B2 total=1\n",
            lambda: b"NACK transfer=1 received=0 lost=0 ranges=0-4294967295\n",
            lambda: b"HELLO id=1 total=1 mode=" + b"x" * 2000 + b"\n",
            lambda: b"\xd1\x01\x00\x00" + os.urandom(8) + b"junk data",
            lambda: b"REPORT transfer=1\n",
            lambda: b"PING seq=99999999999999\n",
            lambda: b"\x1b[2J\x07\r\n",
        ]
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(sock.close)
        for i in range(UDP_JUNK):
            try:
                sock.sendto(junk[i % len(junk)](), ("127.0.0.1", port))
            except OSError:
                pass
            if i % 200 == 0:
                time.sleep(0.02)  # spread over about a second, across the handshake and the data
        self.assertEqual(client.wait(120), 0, client.stderr()[-2000:])
        self.assertEqual(server.wait(60), 0, server.stderr()[-2000:])
        for k in (1, 2):
            self.assertEqual(procs.sha256_of(lab.recv / "Cliente{}-Prueba-2.txt".format(k)), sha)
        # the junk is logged escaped, and the log does not grow with every datagram
        for path in (lab.logs / "udp-server").iterdir():
            blob = path.read_bytes()
            self.assertNotIn(b"\x1b", blob)
            self.assertNotIn(b"\x07", blob)
        log = lab.logs_of("udp", "server")[0]
        self.assertTrue(procs.records_of(log, "summary")[0]["ok"])
        self.assertLess(len(procs.records_of(log, "event")), UDP_JUNK // 10)


if __name__ == "__main__":
    unittest.main()
