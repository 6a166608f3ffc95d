"""The TCP programs end to end (real processes) and every fault of issue 2."""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from tests import procs
from transfer.config import ClientConfig, ServerConfig
from transfer.catalog import list_files
from transfer.messages import TCP_MESSAGES, LineReader, decode, send_message, FileOffer, DataHeader
from transfer.paths import PROJECT_ROOT
from transfer.status import StatusBoard
from tcp.client import tcp_run_client
from tcp.server import TCPFileServer


class EndToEndProcesses(unittest.TestCase):
    """The real tcp/server.py and tcp/client.py, unattended, 25 clients."""

    def setUp(self):
        self.lab = procs.Lab(prefix="ftlab-test-", size=2 * 1024 * 1024 + 12345)

    def tearDown(self):
        self.lab.cleanup()

    def test_25_clients_receive_verify_and_log(self):
        server, port = procs.start_server(self.lab, "tcp", clients=25, quiet=False)
        client = procs.run(procs.client_argv(self.lab, "tcp", port, 25), timeout=120)
        code, out, err = procs.finish(server, 60)
        self.assertEqual(client.returncode, 0, client.stdout + client.stderr)
        self.assertEqual(code, 0, out + err)
        procs.no_traceback(self, client.stderr + err)
        names = sorted(os.listdir(str(self.lab.received)))
        self.assertEqual(names, sorted("Cliente{}-Prueba-25.txt".format(k) for k in range(1, 26)))
        for name in names:
            self.assertEqual(procs.sha256_of(self.lab.received / name), self.lab.sha256)
        self.assertIn("25 of 25 verified", client.stdout)
        self.assertIn("log:", client.stdout)
        # both logs and their machine-readable records
        for role in ("server", "client"):
            sidecars = self.lab.sidecars("tcp", role)
            self.assertEqual(len(sidecars), 1, role)
            text_log = sidecars[0].with_suffix(".txt")
            self.assertRegex(text_log.name, r"^\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d-log\.txt$")
            self.assertIn("small.txt", text_log.read_text())
            records = self.lab.records("tcp", role)
            self.assertEqual(records[0]["record"], "test")
            self.assertEqual(records[0]["file_size"], self.lab.size)
            self.assertEqual(records[0]["file_sha256"], self.lab.sha256)
            conns = [r for r in records if r["record"] == "connection"]
            self.assertEqual(len(conns), 25)
            for rec in conns:
                self.assertTrue(rec["ok"], rec)
                self.assertEqual(rec["bytes"], self.lab.size)
                self.assertEqual(rec["sha256_received"], self.lab.sha256)
                self.assertGreater(rec["time_ms"], 0)
                self.assertGreater(rec["rate_bytes_per_s"], 0)
                self.assertEqual(rec["server_port"], port)
            self.assertEqual(sorted(r["client_id"] for r in conns), list(range(1, 26)))
            self.assertTrue(records[-1]["ok"])
            self.assertEqual(records[-1]["verified"], 25)
        # the two sides pair up by client address and port
        server_ports = {r["client_port"] for r in self.lab.records("tcp", "server") if r["record"] == "connection"}
        client_ports = {r["client_port"] for r in self.lab.records("tcp", "client") if r["record"] == "connection"}
        self.assertEqual(server_ports, client_ports)

    def test_both_ways_of_starting_work_from_any_directory(self):
        with tempfile.TemporaryDirectory() as elsewhere:
            for argv in ([sys.executable, str(PROJECT_ROOT / "tcp" / "server.py"), "--help"],
                         [sys.executable, "-m", "tcp.client", "--help"]):
                env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT))
                cwd = elsewhere if "-m" not in argv else str(PROJECT_ROOT)
                done = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      universal_newlines=True, timeout=30)
                self.assertEqual(done.returncode, 0, done.stderr)
                for flag in ("--port", "--clients", "--logs-dir", "--quiet"):
                    self.assertIn(flag, done.stdout)


class InProcess(unittest.TestCase):
    """Faults driven against the in-process server core (port 0, 127.0.0.1)."""

    def setUp(self):
        self.lab = procs.Lab(prefix="ftlab-test-", size=24 * 1024 * 1024)
        self.entry = list_files(self.lab.files)[0]

    def tearDown(self):
        self.lab.cleanup()

    def start_server(self, clients, **settings):
        config = ServerConfig(bind="127.0.0.1", port=0, logs_dir=str(self.lab.logs), files_dir=str(self.lab.files),
                              quiet=True, **settings)
        server = TCPFileServer(config)
        outcome = {}

        def serve():
            outcome["result"] = server.run_test(self.entry, clients, StatusBoard("t", quiet=True))
        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        self.addCleanup(server.close)
        return server, thread, outcome

    def client_config(self, port, clients, **settings):
        return ClientConfig(host="127.0.0.1", port=port, clients=clients, assume_yes=True, quiet=True,
                            received_dir=str(self.lab.received), logs_dir=str(self.lab.logs), **settings)

    def raw_client(self, port, client_id=1, total=1):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.addCleanup(sock.close)
        sock.sendall("HELLO id={} total={}\n".format(client_id, total).encode())
        reader = LineReader(sock)
        offer = decode(reader.read_line(), TCP_MESSAGES)
        return sock, reader, offer

    def test_client_that_disconnects_mid_transfer_fails_alone(self):
        server, thread, outcome = self.start_server(3, timeout=5)
        quitter, reader, _ = self.raw_client(server.port, 3, 3)
        results = {}
        runner = threading.Thread(target=lambda: results.setdefault("r", tcp_run_client(
            self.client_config(server.port, 2))), daemon=True)
        runner.start()
        quitter.sendall(b"READY\n")
        self.assertIsInstance(reader.read_message(), DataHeader)
        quitter.recv(65536)
        quitter.close()
        runner.join(60)
        thread.join(60)
        self.assertTrue(results["r"].ok)
        records = outcome["result"].records
        self.assertEqual(len(records), 3)
        failed = [r for r in records if not r.ok]
        self.assertEqual([r.client_id for r in failed], [3])
        self.assertRegex(failed[0].reason, "connection lost|reset|broken|closed|stalled")
        logged = [r for r in self.lab.records("tcp", "server") if r["record"] == "connection" and not r["ok"]]
        self.assertEqual(len(logged), 1)

    def test_stalled_client_is_dropped_after_timeout_and_others_finish(self):
        server, thread, outcome = self.start_server(2, timeout=1.5)
        staller = socket.socket()
        staller.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        staller.settimeout(10)
        staller.connect(("127.0.0.1", server.port))
        self.addCleanup(staller.close)
        staller.sendall(b"HELLO id=2 total=2\n")
        staller.recv(200)
        staller.sendall(b"READY\n")
        result = tcp_run_client(self.client_config(server.port, 1))
        thread.join(60)
        self.assertTrue(result.ok)
        stalled = [r for r in outcome["result"].records if not r.ok]
        self.assertEqual(len(stalled), 1)
        self.assertIn("stalled", stalled[0].reason)
        self.assertLess(stalled[0].bytes, self.lab.size)

    def test_garbage_long_lines_wrong_verbs_and_silence_are_answered_and_logged(self):
        server, thread, outcome = self.start_server(1, hello_timeout=1.0)
        answers = []
        for payload in (b"\x00\x01garbage\xff\n", b"HELLO " + b"x" * 2000 + b"\n", b"READY\n", b"hello id=1\n"):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            sock.sendall(payload)
            answers.append(_read_all(sock))
            sock.close()
        silent = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        answers.append(_read_all(silent))  # the server times it out
        silent.close()
        for answer in answers:
            self.assertTrue(answer.startswith(b"ERROR reason="), answer)
        result = tcp_run_client(self.client_config(server.port, 1))
        thread.join(60)
        self.assertTrue(result.ok)
        self.assertTrue(outcome["result"].ok)
        events = [r for r in self.lab.records("tcp", "server") if r["record"] == "event"]
        kinds = [e["kind"] for e in events]
        self.assertEqual(kinds.count("protocol_error"), 4, events)
        self.assertEqual(kinds.count("timeout"), 1, events)
        for event in events:
            self.assertNotIn("\x00", event["detail"])

    def test_connections_beyond_the_test_get_busy_and_are_logged(self):
        server, thread, outcome = self.start_server(1)
        first, reader, offer = self.raw_client(server.port, 1, 1)
        extra = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        extra.sendall(b"HELLO id=2 total=2\n")
        self.assertTrue(_read_all(extra).startswith(b"BUSY reason="))
        extra.close()
        first.sendall(b"READY\n")
        header = reader.read_message()
        remaining = header.size - len(reader.take_buffered())
        while remaining:
            remaining -= len(first.recv(min(remaining, 1 << 20)))
        first.sendall("DONE bytes={} sha256={} ok=1\n".format(offer.size, offer.sha256).encode())
        self.assertEqual(reader.read_line(), b"BYE ok=1\n")
        thread.join(30)
        self.assertTrue(outcome["result"].ok)
        kinds = [r["kind"] for r in self.lab.records("tcp", "server") if r["record"] == "event"]
        self.assertIn("busy", kinds)

    def test_server_closing_mid_transfer_leaves_no_final_file(self):
        listener = procs.tcp_listener(self)

        def fake_server():
            conn, _ = listener.accept()
            with conn:
                LineReader(conn).read_line()
                send_message(conn, FileOffer(name="f.txt", size=1000000, sha256="a" * 64, clients=1))
                conn.recv(100)
                send_message(conn, DataHeader(size=1000000))
                conn.sendall(b"x" * 300000)
        threading.Thread(target=fake_server, daemon=True).start()
        result = tcp_run_client(self.client_config(listener.getsockname()[1], 1, timeout=5))
        self.assertFalse(result.ok)
        rec = result.records[0]
        self.assertEqual(rec.bytes, 300000)
        self.assertIn("300,000", rec.reason)
        self.assertFalse(self.lab.received.exists() and os.listdir(str(self.lab.received)))
        logged = [r for r in self.lab.records("tcp", "client") if r["record"] == "connection"][0]
        self.assertFalse(logged["ok"])
        self.assertEqual(logged["bytes"], 300000)


def _read_all(sock, limit=4096):
    sock.settimeout(10)
    data = b""
    while len(data) < limit:
        try:
            chunk = sock.recv(limit)
        except (ConnectionResetError, socket.timeout):
            break
        if not chunk:
            break
        data += chunk
    return data


class CommandLineFaults(unittest.TestCase):
    """Bad input and environment problems at the CLI: one line, non-zero exit, no traceback."""

    def setUp(self):
        self.lab = procs.Lab(prefix="ftlab-test-", size=64 * 1024)

    def tearDown(self):
        self.lab.cleanup()

    def server_argv(self, *extra):
        return [procs.PYTHON, str(PROJECT_ROOT / "tcp" / "server.py"), "--bind", "127.0.0.1",
                "--files-dir", str(self.lab.files), "--logs-dir", str(self.lab.logs), "--no-create"] + list(extra)

    def test_unreachable_server(self):
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()  # nothing listens there now
        done = procs.run(procs.client_argv(self.lab, "tcp", port, 3), timeout=60)
        self.assertEqual(done.returncode, 1)
        procs.no_traceback(self, done.stdout + done.stderr)
        self.assertEqual(done.stdout.count("connection refused"), 3)
        self.assertIn("0 of 3 verified", done.stdout)

    def test_port_in_use(self):
        holder = socket.socket()
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        self.addCleanup(holder.close)
        done = procs.run(self.server_argv("--port", str(holder.getsockname()[1]), "--file", "1",
                                            "--clients", "1", "--once"), timeout=30)
        self.assertEqual(done.returncode, 2)
        self.assertIn("already in use", done.stderr)
        self.assertEqual(len(done.stderr.strip().splitlines()), 1, done.stderr)

    def test_missing_files_folder_and_bad_file(self):
        done = procs.run(self.server_argv("--files-dir", str(self.lab.root / "nope"), "--port", "0", "--once"))
        self.assertEqual(done.returncode, 2)
        self.assertIn("does not exist", done.stderr)
        done = procs.run(self.server_argv("--port", "0", "--file", "../etc/passwd", "--clients", "1", "--once"))
        self.assertEqual(done.returncode, 2)
        self.assertIn("no file", done.stderr)
        for bad in (["--clients", "0"], ["--port", "70000"], ["--clients", "30"]):
            done = procs.run(self.server_argv("--port", "0", "--file", "1", "--once", *bad))
            self.assertEqual(done.returncode, 2, bad)
            procs.no_traceback(self, done.stderr)

    def test_prompts_reask_and_end_of_input_exits_cleanly(self):
        # the menu gets a bad answer, then a good one, the count a bad one, then input ends
        done = procs.run(self.server_argv("--port", "0"), stdin_text="9\nsmall.txt\nmany\n", timeout=30)
        procs.no_traceback(self, done.stdout + done.stderr)
        self.assertEqual(done.returncode, 0)
        self.assertIn("no file '9'", done.stdout)
        self.assertIn("please type a whole number", done.stdout)
        self.assertIn("input ended", done.stderr)
        client = procs.run([procs.PYTHON, str(PROJECT_ROOT / "tcp" / "client.py"), "--logs-dir",
                              str(self.lab.logs)], stdin_text="\nxyz\n", timeout=30)
        procs.no_traceback(self, client.stdout + client.stderr)
        self.assertEqual(client.returncode, 1)
        self.assertIn("please type a whole number", client.stdout)

    @unittest.skipUnless(hasattr(signal, "SIGINT") and os.name == "posix", "needs POSIX signals")
    def test_ctrl_c_on_both_sides_writes_the_logs(self):
        server, port = procs.start_server(self.lab, "tcp", clients=2, quiet=False)
        client = subprocess.Popen(procs.client_argv(self.lab, "tcp", port, 1), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        _wait_for(lambda: self.lab.sidecars("tcp", "client"), 20)
        time.sleep(0.5)  # the client is connected and waits for the second client of the test
        client.send_signal(signal.SIGINT)
        code, out, err = procs.finish(client, 30)
        self.assertEqual(code, 130, err)
        procs.no_traceback(self, out + err)
        server.send_signal(signal.SIGINT)
        code, out, err = procs.finish(server, 30)
        self.assertEqual(code, 130, err)
        procs.no_traceback(self, out + err)
        for role in ("client", "server"):
            summary = self.lab.records("tcp", role)[-1]
            self.assertEqual(summary["record"], "summary", role)
            self.assertTrue(summary["interrupted"], role)

    @unittest.skipUnless(sys.platform.startswith("linux") and hasattr(os, "geteuid") and os.geteuid() == 0,
                         "needs root on Linux to mount a small tmpfs")
    def test_disk_full_while_receiving(self):
        small = self.lab.root / "tiny"
        small.mkdir()
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(small)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if mounted.returncode != 0:
            self.skipTest("cannot mount a tmpfs here: " + mounted.stderr.decode(errors="replace").strip())
        self.addCleanup(subprocess.run, ["umount", "-l", str(small)])
        lab = procs.Lab(prefix="ftlab-test-", size=2 * 1024 * 1024)
        self.addCleanup(lab.cleanup)
        # two client processes share a 3 MiB disk: each one's free-space check (2 MiB) passes
        # before READY, then the disk fills while they receive
        server, port = procs.start_server(lab, "tcp", clients=2, quiet=False)
        argv = procs.client_argv(lab, "tcp", port, 1)
        argv[argv.index("--received-dir") + 1] = str(small)
        runs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
        done = [procs.finish(proc, 60) for proc in runs]
        procs.finish(server, 30)
        self.assertIn(1, [status for status, _, _ in done])
        self.assertTrue(any("disk full" in out for status, out, _ in done if status == 1), done)
        for _status, out, err in done:
            procs.no_traceback(self, out + err)
        for name in os.listdir(str(small)):   # only a verified file, never a partial one
            self.assertFalse(name.endswith(".part"), name)
            self.assertEqual(procs.sha256_of(small / name), lab.sha256)


def _wait_for(condition, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    raise AssertionError("condition not met in {} s".format(timeout))


if __name__ == "__main__":
    unittest.main()
