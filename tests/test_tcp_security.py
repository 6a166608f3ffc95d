"""Issue 8 (TCP and shared parts): hostile TCP peers, lying servers, files
that change under the server.  Each test fails on commit 04716cf.

* places: HELLO then a reset gives the place back; a failed Thread.start()
  does not kill the accept loop;
* deadlines: a HELLO line or a READY line trickled byte by byte, and a FILE
  line trickled to the client, end at the deadline, not an idle timer;
* ceilings: idle connections cost no thread and are capped (--max-pending,
  the idlest shed); out of file descriptors, accept() backs off and a real
  client still gets in; fds above 1024 work (no select());
* Ctrl-C on the server during a transfer: no traceback, every client
  recorded with its time;
* files: a listed file swapped for a symlink is never sent; a name that is
  not UTF-8 is listed escaped and sent, under a strict UTF-8 stdout;
* the client: the READY prompt escapes the server's file name; a size larger
  than the free disk space is refused before READY;
* logs: events are capped per kind and counted in the summary.

Figures the tests measure are printed to stderr ("figure: ...") for
docs/SECURITY.md.  Run: python3 -m unittest tests.test_tcp_security -v
"""

import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import unittest
from unittest import mock

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests import procs  # noqa: E402
from tests.test_hostile import (GOOD, FakeServer, ServerThread, client_config,  # noqa: E402
                                offer_line, run_client_thread)
from transfer.catalog import FileEntry  # noqa: E402
from transfer.messages import LineReader  # noqa: E402

FILE_SIZE = 2 * 1024 * 1024 + 11
LAUNCH_WITH_NOFILE = ("import os, resource, sys; n = int(sys.argv[1]); "
                      "resource.setrlimit(resource.RLIMIT_NOFILE, (n, resource.getrlimit(resource.RLIMIT_NOFILE)[1])); "
                      "os.execv(sys.executable, [sys.executable] + sys.argv[2:])")


def figure(text):
    sys.stderr.write("\n  figure: {}\n".format(text))


def start_tcp_server(lab, clients, extra=(), nofile=None, env=None, stdin_pipe=False, quiet=True, once=True,
                     file="data.bin", name="server"):
    """tcp/server.py as a process on 127.0.0.1 port 0 (optionally with a lower fd limit); (Proc, port)."""
    port_file = lab.root / "{}.port".format(name)
    argv = [procs.program("tcp", "server"), "--bind", "127.0.0.1", "--port", "0", "--port-file", str(port_file),
            "--no-create", "--files-dir", str(lab.files), "--logs-dir", str(lab.logs)]
    argv += (["--quiet"] if quiet else []) + (["--once"] if once else [])
    if file is not None:
        argv += ["--file", file]
    if clients is not None:
        argv += ["--clients", str(clients)]
    argv += list(extra)
    argv = ([procs.PYTHON, "-c", LAUNCH_WITH_NOFILE, str(nofile)] if nofile else [procs.PYTHON]) + argv
    proc = procs.Proc(argv, lab.root, name, stdin_pipe=stdin_pipe, env=env)

    def port():
        try:
            text = port_file.read_text()
        except OSError:
            return None
        return int(text) if text.endswith("\n") and text.strip().isdigit() else None
    procs.wait_for(lambda: port() or proc.popen.poll() is not None, 30)
    if not port():
        proc.stop()
        raise AssertionError("server did not start: {!r}".format(proc.stderr()[-800:]))
    return proc, port()


_HELP = []


def max_pending(count):
    """``--max-pending N`` for the server (nothing on a server without the flag, so the
    same test shows what an uncapped server does)."""
    if not _HELP:
        _HELP.append(subprocess.run([procs.PYTHON, procs.program("tcp", "server"), "--help"],
                                    stdout=subprocess.PIPE, timeout=30).stdout)
    return ["--max-pending", str(count)] if b"--max-pending" in _HELP[0] else []


def connect(port, timeout=10):
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def closed_by_peer(sock, timeout):
    """True if the peer closes (or resets) *sock* within *timeout* s (bytes it sends are read and ignored)."""
    sock.settimeout(0.2)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if not sock.recv(4096):
                return True
        except socket.timeout:
            continue
        except OSError:
            return True
    return False


def summaries(lab, role="server"):
    found = []
    for log in lab.logs_of("tcp", role):
        found.extend(procs.records_of(log, "summary"))
    return found


def connections(lab, role="server"):
    found = []
    for log in lab.logs_of("tcp", role):
        found.extend(procs.records_of(log, "connection"))
    return found


def event_total(lab, kind):
    return sum(s.get("events", {}).get(kind, 0) for s in summaries(lab))


class ServerLab(unittest.TestCase):
    """A lab with a small generated data.bin."""

    def setUp(self):
        self.lab = procs.Lab(prefix="tcpsec-")
        self.addCleanup(self.lab.close)
        self.path = self.lab.make_file("data.bin", FILE_SIZE)
        self.sha = procs.sha256_of(self.path)
        self.procs = []

    def server(self, clients, extra=(), **kw):
        proc, port = start_tcp_server(self.lab, clients, extra, **kw)
        self.addCleanup(proc.stop)
        return proc, port

    def clients_verify(self, port, clients, timeout=60, name="client", test_clients=None):
        """*clients* in one client run, of a test of *test_clients* (default the same): the
        received name's n is the server's count (Cliente<k>-Prueba-<n>)."""
        recv = self.lab.root / "recv-{}".format(name)
        status, out, err = procs.run_client(self.lab, "tcp", port, clients, recv=recv, name=name,
                                            extra=["--timeout", "10", "--handshake-timeout", "30"],
                                            timeout=timeout)
        self.assertEqual(status, 0, (out[-600:], err[-600:]))
        for k in range(1, clients + 1):
            name = "Cliente{}-Prueba-{}.txt".format(k, test_clients or clients)
            self.assertEqual(procs.sha256_of(recv / name), self.sha)

    def assert_no_traceback(self, proc):
        err = proc.stderr()
        self.assertNotIn(b"Traceback", err, err[-1500:])
        self.assertNotIn(b"ValueError", err, err[-1500:])


class Places(ServerLab):

    def test_hello_then_reset_gives_the_place_back(self):
        server, port = self.server(2, ["--hello-timeout", "10"])
        linger = struct.pack("ii", 1, 0)
        for _ in range(60):
            sock = connect(port)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            sock.sendall(b"HELLO id=1 total=2\n")
            sock.close()  # RST right behind the HELLO
        time.sleep(0.5)
        self.clients_verify(port, 2)
        self.assertEqual(server.wait(30), 0)
        self.assert_no_traceback(server)
        figure("60 HELLO+reset connections against a 2-place test: the 2 real clients verified")

    def test_failed_thread_start_does_not_stop_the_accept_loop(self):
        entry = FileEntry(self.path)
        original = threading.Thread
        failures = [3]

        class Flaky(original):
            def start(self):
                if self.name.startswith("conn-") and failures[0] > 0:
                    failures[0] -= 1
                    raise RuntimeError("can't start new thread")
                return super().start()

        with mock.patch("threading.Thread", Flaky):
            server = ServerThread(self.lab, [(entry, 1)], hello_timeout=5.0)
            self.addCleanup(server.close)
            results = []
            for attempt in range(4):
                recv = self.lab.root / "recv-{}".format(attempt)
                run_client_thread(client_config(self.lab, server.port, recv=recv, handshake_timeout=5.0,
                                                timeout=5.0), results).join(60)
        self.assertEqual(len(results), 4)
        self.assertEqual([r.ok for r in results], [False, False, False, True],
                         [r.records[0].reason for r in results])
        self.assertIn("server error", results[0].records[0].reason)
        self.assertTrue(server.join(30))
        self.assertTrue(server.outcomes and server.outcomes[0].ok)
        self.assertEqual(event_total(self.lab, "thread_failed"), 3)


class Deadlines(ServerLab):

    def test_trickled_hello_lines_end_at_the_deadline(self):
        entry = FileEntry(self.path)
        server = ServerThread(self.lab, [(entry, 1)], hello_timeout=2.0)
        self.addCleanup(server.close)
        socks = [connect(server.port) for _ in range(20)]
        closed_at = {}
        start = time.monotonic()
        try:
            while len(closed_at) < len(socks) and time.monotonic() - start < 12:
                for i, sock in enumerate(socks):
                    if i in closed_at:
                        continue
                    try:
                        sock.sendall(b"A")   # one byte every 0.3 s: an idle timer of 2 s never fires
                        sock.settimeout(0.0)
                        if sock.recv(4096) == b"":
                            closed_at[i] = time.monotonic() - start
                    except (BlockingIOError, socket.timeout):
                        pass
                    except OSError:
                        closed_at[i] = time.monotonic() - start
                time.sleep(0.3)
        finally:
            for sock in socks:
                sock.close()
        self.assertEqual(len(closed_at), 20, "trickling connections still open after 12 s")
        figure("20 connections trickling 1 byte/0.3 s, --hello-timeout 2: all closed after {:.1f}-{:.1f} s".format(
            min(closed_at.values()), max(closed_at.values())))
        self.clients_verify(server.port, 1)

    def test_ready_followed_by_spaces_ends_at_the_handshake_deadline(self):
        entry = FileEntry(self.path)
        server = ServerThread(self.lab, [(entry, 1)], handshake_timeout=2.0)
        self.addCleanup(server.close)
        sock = connect(server.port)
        self.addCleanup(sock.close)
        sock.sendall(b"HELLO id=1 total=1\n")
        reader = LineReader(sock)
        self.assertTrue(reader.read_line().startswith(b"FILE "))
        sock.sendall(b"READY")
        start = time.monotonic()
        closed = None
        while time.monotonic() - start < 12:
            try:
                sock.sendall(b" ")
            except OSError:
                closed = time.monotonic() - start
                break
            if closed_by_peer(sock, 0.3):
                closed = time.monotonic() - start
                break
        self.assertIsNotNone(closed, "READY + spaces kept the place for 12 s with --handshake-timeout 2")
        figure("READY followed by a space every 0.3 s, --handshake-timeout 2: closed after {:.1f} s".format(closed))
        # the place came back: a real client takes it
        results = []
        run_client_thread(client_config(self.lab, server.port), results).join(60)
        self.assertTrue(results and results[0].ok, results and results[0].records[0].reason)
        self.assertTrue(server.join(30))

    def test_client_gives_up_on_a_trickled_file_line_at_its_deadline(self):
        def script(conn, reader):
            for byte in offer_line():
                conn.sendall(bytes([byte]))
                time.sleep(0.25)   # the whole line would take about 30 s
        fake = FakeServer(script)
        self.addCleanup(fake.close)
        start = time.monotonic()
        status, out, err = procs.run_client(self.lab, "tcp", fake.port, 1,
                                            extra=["--timeout", "3", "--handshake-timeout", "2"], timeout=15)
        took = time.monotonic() - start
        self.assertEqual(status, 1, "client still waiting for the trickled FILE line after 15 s")
        conn = connections(self.lab, "client")[0]
        self.assertIn("timed out", conn["reason"])
        figure("client --handshake-timeout 2 against a FILE line trickled 1 byte/0.25 s: gave up, "
               "process ended after {:.1f} s".format(took))


class Ceilings(ServerLab):

    @unittest.skipUnless(procs.have_proc(), "needs /proc")
    def test_idle_connections_cost_no_thread_and_the_idlest_are_shed(self):
        server, port = self.server(1, max_pending(50) + ["--hello-timeout", "120"])
        base = procs.proc_status(server.pid)["Threads"]
        idle = []
        self.addCleanup(lambda: [s.close() for s in idle])
        for _ in range(300):
            idle.append(connect(port))
        procs.wait_for(lambda: procs.proc_status(server.pid)["fds"] < 120, 20)
        threads = procs.proc_status(server.pid)["Threads"]
        fds = procs.proc_status(server.pid)["fds"]
        self.assertLessEqual(threads, base + 2, "idle connections cost threads")
        self.assertLess(fds, 120, "more than --max-pending idle connections kept open")
        self.clients_verify(port, 1, timeout=30)
        self.assertEqual(server.wait(30), 0)
        self.assert_no_traceback(server)
        self.assertGreaterEqual(event_total(self.lab, "shed"), 250)
        figure("300 idle connections, --max-pending 50: server threads {} (before: {}), open fds {}; "
               "{} shed; the real client verified".format(threads, base, fds, event_total(self.lab, "shed")))

    def test_out_of_file_descriptors_backs_off_and_a_real_client_gets_in(self):
        server, port = self.server(1, max_pending(1000) + ["--hello-timeout", "120"], nofile=64)
        idle = []
        self.addCleanup(lambda: [s.close() for s in idle])
        for _ in range(150):
            idle.append(connect(port))
        time.sleep(1.0)
        self.clients_verify(port, 1, timeout=40)
        self.assertEqual(server.wait(30), 0)
        self.assert_no_traceback(server)
        lines = server.stderr().count(b"accept failed")
        self.assertLessEqual(lines, 1, server.stderr()[-1000:])
        self.assertGreaterEqual(event_total(self.lab, "accept_failed"), 1)
        figure("fd limit 64, 150 idle connections: {} accept failure(s) counted, {} stderr line(s); "
               "the real client verified".format(event_total(self.lab, "accept_failed"), lines))

    def test_descriptors_above_1024_are_served(self):
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard != resource.RLIM_INFINITY and hard < 2600:
            self.skipTest("fd hard limit {} < 2600".format(hard))
        if soft != resource.RLIM_INFINITY and soft < 2600:
            resource.setrlimit(resource.RLIMIT_NOFILE, (2600, hard))
            self.addCleanup(resource.setrlimit, resource.RLIMIT_NOFILE, (soft, hard))
        server, port = self.server(2, max_pending(2000) + ["--hello-timeout", "120"], nofile=2600)
        idle = []
        self.addCleanup(lambda: [s.close() for s in idle])
        for _ in range(1100):
            idle.append(connect(port))
        time.sleep(0.5)
        # the first client waits (its fd above 1024) while the second comes a second later
        first = procs.start_client(self.lab, "tcp", port, 1, recv=self.lab.root / "recv-first", name="first",
                                   extra=["--timeout", "10", "--handshake-timeout", "30"])
        self.addCleanup(first.stop)
        time.sleep(1.0)
        self.clients_verify(port, 1, timeout=40, test_clients=2)
        self.assertEqual(first.wait(30), 0, first.stdout()[-600:])
        self.assertEqual(server.wait(30), 0)
        self.assert_no_traceback(server)
        figure("1,100 idle connections (the real client's fd above 1024): the real client verified")


class Interrupt(ServerLab):

    def test_ctrl_c_during_a_transfer(self):
        self.lab.make_file("big.bin", 16 * 1024 * 1024)
        server, port = self.server(2, ["--timeout", "60"], file="big.bin")
        stalled = []
        for k in (1, 2):
            sock = connect(port)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.sendall("HELLO id={} total=2\n".format(k).encode())
            stalled.append((sock, LineReader(sock)))
        self.addCleanup(lambda: [s.close() for s, _ in stalled])
        for sock, reader in stalled:
            self.assertTrue(reader.read_line().startswith(b"FILE "))
            sock.sendall(b"READY\n")
        for sock, reader in stalled:
            self.assertTrue(reader.read_line().startswith(b"DATA "))   # then read nothing: sendfile blocks
        time.sleep(0.5)
        server.signal(signal.SIGINT)
        self.assertEqual(server.wait(20), 130)
        self.assert_no_traceback(server)
        records = connections(self.lab)
        self.assertEqual(len(records), 2, records)
        for rec in records:
            self.assertFalse(rec["ok"])
            self.assertIn("interrupted", rec["reason"])
            self.assertIsNotNone(rec["time_ms"])
            self.assertGreater(rec["bytes"], 0)
        self.assertTrue(summaries(self.lab)[0]["interrupted"])
        figure("Ctrl-C with 2 clients stalled inside sendfile: exit 130, no traceback, 2 records "
               "({})".format("; ".join("{:,} bytes, {:.0f} ms".format(r["bytes"], r["time_ms"]) for r in records)))


    def test_abort_never_closes_a_socket_under_a_sending_thread(self):
        # the race behind "ValueError: Invalid file descriptor: -1": abort() closed the socket
        # while a thread was between two sendfile() calls; now it only shuts it down
        from tcp.server import TCPTest
        from transfer.status import StatusBoard
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        self.addCleanup(listener.close)
        peer = connect(listener.getsockname()[1])
        self.addCleanup(peer.close)
        conn, _ = listener.accept()
        self.addCleanup(conn.close)
        test = TCPTest(FileEntry(self.path), 1, None, StatusBoard("t", quiet=True))
        test.track(conn)
        test.abort()
        self.assertNotEqual(conn.fileno(), -1, "abort() closed the socket under its thread")
        with open(str(self.path), "rb") as source:
            with self.assertRaises(OSError):
                conn.sendfile(source, 0, 1 << 20)   # the sending thread sees an OSError, not ValueError


class Files(ServerLab):

    def test_a_listed_file_swapped_for_a_symlink_is_not_sent(self):
        secret = self.lab.root / "secret.bin"
        secret.write_bytes(b"SECRET!!" * (FILE_SIZE // 8) + b"S" * (FILE_SIZE % 8))
        entry = FileEntry(self.path)
        self.assertTrue(entry.sha256)
        server = ServerThread(self.lab, [(entry, 1)])
        self.addCleanup(server.close)
        os.unlink(str(self.path))
        os.symlink(str(secret), str(self.path))   # same name, same size, outside files/
        sock = connect(server.port)
        self.addCleanup(sock.close)
        sock.sendall(b"HELLO id=1 total=1\nREADY\n")
        data = b""
        sock.settimeout(10)
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        except OSError:
            pass
        self.assertNotIn(b"SECRET!!", data)
        self.assertIn(b"ERROR ", data)
        self.assertTrue(server.join(30))
        reason = connections(self.lab)[0]["reason"]
        self.assertIn("symbolic link", reason)
        figure("listed file swapped for a symlink: 0 bytes of the link's target sent ({})".format(reason))

    def test_a_name_that_is_not_utf8_is_listed_escaped_and_sent(self):
        os.unlink(str(self.path))
        odd = os.path.join(os.fsencode(str(self.lab.files)), b"caf\xe9-\x1b[2J.bin")
        with open(odd, "wb") as handle:
            handle.write(GOOD)
        env = procs.child_env()
        env["PYTHONIOENCODING"] = "utf-8:strict"
        env["LC_ALL"] = "C.UTF-8"
        server, port = self.server(None, file=None, stdin_pipe=True, quiet=False, env=env)
        server.send("1\n2\n")
        recv = self.lab.root / "recv"
        procs.wait_for(lambda: b"Waiting for" in server.stdout() or server.popen.poll() is not None, 20)
        status, out, err = procs.run_client(self.lab, "tcp", port, 2, recv=recv, timeout=60)
        self.assertEqual(status, 0, err[-800:])
        self.assertEqual(server.wait(30), 0, server.stderr()[-800:])
        self.assert_no_traceback(server)
        shown = server.stdout()
        self.assertTrue(b"caf\\udce9-\\x1b[2J.bin" in shown or b"caf\\xe9-\\x1b[2J.bin" in shown, shown)
        self.assertNotIn(b"\x1b", shown)
        for k in (1, 2):
            self.assertEqual((recv / "Cliente{}-Prueba-2.txt".format(k)).read_bytes(), GOOD)
        conn = connections(self.lab, "client")[0]
        self.assertTrue(conn["file_name"].startswith("caf"))


class LyingServer(unittest.TestCase):
    """The real client against a fake server (tests.test_hostile.FakeServer)."""

    def setUp(self):
        self.lab = procs.Lab(prefix="tcpsec-cli-")
        self.addCleanup(self.lab.close)

    def test_ready_prompt_escapes_the_file_name(self):
        name = b"%1B%5D0%3Bowned%07%1B%5B2J%0Devil.txt"   # ESC ]0;owned BEL, ESC[2J, CR

        def script(conn, reader):
            conn.sendall(offer_line(name=name))
            reader.read_line()
        fake = FakeServer(script)
        self.addCleanup(fake.close)
        argv = [a for a in procs.client_argv(self.lab, "tcp", fake.port, 1) if a != "--yes"]
        done = subprocess.run(argv + ["--timeout", "5", "--handshake-timeout", "10"], input=b"\n",
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, env=procs.child_env())
        shown = done.stdout + done.stderr
        self.assertIn(b"Press Enter", shown)
        for raw in (b"\x1b", b"\x07", b"\r"):
            self.assertNotIn(raw, shown)
        self.assertIn(b"\\x1b]0;owned\\x07\\x1b[2J\\revil.txt", shown)

    def test_a_size_beyond_the_free_space_is_refused_before_ready(self):
        seen = []

        def script(conn, reader):
            conn.sendall(offer_line(size=10 ** 17))
            conn.settimeout(10)
            try:
                seen.append(reader.read_line())
            except (OSError, EOFError) as exc:
                seen.append(repr(exc))
            conn.sendall(b"DATA size=100000000000000000\n" + GOOD)
        fake = FakeServer(script)
        self.addCleanup(fake.close)
        status, out, err = procs.run_client(self.lab, "tcp", fake.port, 1,
                                            extra=["--timeout", "3", "--handshake-timeout", "10"], timeout=60)
        fake.close()
        self.assertEqual(status, 1)
        self.assertNotIn(b"READY\n", b"".join(s for s in seen if isinstance(s, bytes)))
        self.assertIn(b"not enough free space", err)
        self.assertNotIn(b"Traceback", err)
        conn = connections(self.lab, "client")[0]
        self.assertIn("not enough free space", conn["reason"])
        self.assertEqual(os.listdir(str(self.lab.recv)), [])


class SharedParts(unittest.TestCase):
    """Unit tests of the shared pieces (transfer/)."""

    def test_the_shared_ready_prompt_escapes_the_name_for_any_protocol(self):
        # udp/client.py asks through the same transfer.client_app.run_client as tcp/client.py
        import io
        from transfer.client_app import run_client
        from transfer.config import ClientConfig
        from transfer.prompts import Prompter
        from transfer.records import ConnectionRecord

        class Offer:
            name = "\x1b]0;owned\x07\x1b[2J\revil.txt"
            size = 1000
            sha256 = "0" * 64
            clients = 1

        class Session:
            def __init__(self, config, client_id, clients, board, go, cancel):
                self.record = ConnectionRecord(client_id)
                self.offer = Offer()
                self.handshake_done = threading.Event()
                self.handshake_done.set()
                self.go, self.cancel = go, cancel

            def run(self):
                self.go.wait(10)
                self.record.state = "failed"
                self.record.fail("cancelled before READY")

            def abort(self):
                pass

        with procs.Lab(prefix="tcpsec-prompt-") as lab:
            out = io.StringIO()
            config = ClientConfig(host="127.0.0.1", port=9, clients=1, received_dir=str(lab.recv),
                                  logs_dir=str(lab.logs), quiet=True)
            result = run_client(config, Session, "udp", "raw", prompter=Prompter(input_fn=lambda: "q", output=out))
        self.assertTrue(result.cancelled)
        shown = out.getvalue()
        self.assertIn("Press Enter", shown)
        for raw in ("\x1b", "\x07", "\r"):
            self.assertNotIn(raw, shown)

    def test_event_lines_are_capped_per_kind_and_counted(self):
        from transfer.testlog import TestLog
        with procs.Lab(prefix="tcpsec-log-") as lab:
            log = TestLog(str(lab.logs), "tcp", "server", event_lines=5)
            log.begin("stream", "f", 1, "0" * 64, 1)
            for i in range(1000):
                log.event("busy", "1.2.3.4:{}".format(i), "test full")
            log.event("timeout", "5.6.7.8:1", "no HELLO")
            log.close()
            records = lab.logs_of("tcp", "server")[0]
            events = procs.records_of(records, "event")
            self.assertEqual(len(events), 6)
            summary = procs.records_of(records, "summary")[0]
            self.assertEqual(summary["events"], {"busy": 1000, "timeout": 1})
            self.assertEqual(summary["events_suppressed"], {"busy": 995})
            text = log.path.read_text()
            self.assertIn("busy 1,000 (995 not logged one by one)", text)
            self.assertLess(len(text), 4000)

    def test_line_reader_deadline_is_not_extended_by_trickling_bytes(self):
        from transfer.deadline import Deadline
        left, right = socket.socketpair()
        self.addCleanup(left.close)
        self.addCleanup(right.close)
        stop = threading.Event()

        def trickle():
            while not stop.is_set():
                try:
                    right.sendall(b"x")
                except OSError:
                    return
                time.sleep(0.05)
        thread = threading.Thread(target=trickle, daemon=True)
        thread.start()
        self.addCleanup(stop.set)
        reader = LineReader(left)
        start = time.monotonic()
        with self.assertRaises(socket.timeout):
            reader.read_line(deadline=Deadline(0.5))
        self.assertLess(time.monotonic() - start, 10)   # bounded: the trickle alone would last ~50 s

    def test_display_escapes_every_control_character(self):
        from transfer.text import display
        shown = display("a\x1b]0;t\x07\x1b[2J\rb\u202e\u00e9" + os.fsdecode(b"\xe9"))
        prefix = "a\\x1b]0;t\\x07\\x1b[2J\\rb\\u202e\u00e9"
        self.assertTrue(shown.startswith(prefix), shown)
        self.assertIn(shown[len(prefix):], ("\\udce9", "\\xe9"))   # a byte that is not UTF-8: escaped either way

    def test_free_space_problem(self):
        from transfer.diskspace import free_space_problem
        self.assertIsNone(free_space_problem(os.path.join(os.getcwd(), "not", "yet"), 1000))
        self.assertIn("not enough free space", free_space_problem(os.getcwd(), 10 ** 18))

    def test_entry_open_refuses_a_link_and_a_changed_file(self):
        from transfer.catalog import FileChanged
        with procs.Lab(prefix="tcpsec-open-") as lab:
            path = lab.make_file("a.bin", 1000)
            entry = FileEntry(path)
            with entry.open() as handle:
                self.assertEqual(len(handle.read()), 1000)
            other = lab.root / "other.bin"
            other.write_bytes(b"x" * 1000)
            os.replace(str(other), str(path))          # same size, another inode
            with self.assertRaises(FileChanged):
                entry.open()
            entry = FileEntry(path)
            os.unlink(str(path))
            os.symlink(str(lab.root / "tcpsec.missing"), str(path))
            with self.assertRaises(FileChanged):
                entry.open()


if __name__ == "__main__":
    unittest.main()
