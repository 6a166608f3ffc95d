"""What a student sees in the first hour (issue 11): prompts that say their
default, received files named after the test the server announced, BUSY
clients reported as such, addresses and escaped text that read well, the
real files folder, side lines that never print over the menu, the Windows
fall-backs, cleaning the received folder, and README's promises."""

import io
import os
import re
import shutil
import socket
import sys
import tempfile
import unittest
from pathlib import Path
from unittest import mock

from tests import procs
from transfer import catalog, paths
from transfer.client_app import ClientRunResult, print_client_summary, received_path
from transfer.config import ClientConfig, ServerConfig
from transfer.messages import FileOffer, printable
from transfer.netinfo import listening_addresses
from transfer.prompts import Prompter
from transfer.records import ConnectionRecord
from transfer.server_app import choose_clients
from transfer.sidelog import SideLines
from transfer.status import ENABLE_VIRTUAL_TERMINAL_PROCESSING, StatusBoard, enable_vt_mode
from transfer.tables import is_busy, summary_table
from transfer.text import display, host_port

sys.path.insert(0, str(paths.PROJECT_ROOT))
from scripts import clean  # noqa: E402


def answers(*lines):
    """An input function that returns *lines* one after the other."""
    queue = list(lines)
    return lambda: queue.pop(0)


class Prompts(unittest.TestCase):

    def test_enter_at_the_client_count_prompt_is_the_default_it_names(self):
        out = io.StringIO()
        chosen = choose_clients(ServerConfig(), Prompter(input_fn=answers(""), output=out), None)
        self.assertEqual(chosen, 25)
        self.assertIn("How many clients does this test wait for? [1-25, default 25]: ", out.getvalue())

    def test_the_default_follows_max_clients(self):
        out = io.StringIO()
        chosen = choose_clients(ServerConfig(max_clients=5), Prompter(input_fn=answers(""), output=out), None)
        self.assertEqual(chosen, 5)
        self.assertIn("[1-5, default 5]", out.getvalue())


class Text(unittest.TestCase):

    def test_ordinary_text_is_unchanged(self):
        for text in ("client's file", 'say "hi"', "C:\\Users\\ana\\x.txt", "canción ñ ü"):
            self.assertEqual(display(text), text)
        self.assertEqual(printable("client's file"), "'client's file'")
        self.assertNotIn("\\'", printable("client's \"x\""))

    def test_controls_are_escaped(self):
        shown = display("a\x1b[2J\r\n\t\x07\x7f\x9b\u202e\u2028z")
        self.assertEqual(shown, "a\\x1b[2J\\r\\n\\t\\x07\\x7f\\x9b\\u202e\\u2028z")
        self.assertTrue(shown.isprintable())
        self.assertTrue(printable("\x1b]0;title\x07").isprintable())

    def test_long_text_is_cut(self):
        self.assertEqual(display("x" * 10, 4), "xxxx...")
        self.assertEqual(display(b"caf\xc3\xa9 \xff"), "café \ufffd")

    def test_the_summary_shows_reasons_without_backslashes(self):
        rec = ConnectionRecord(1)
        rec.fail("client gave up: {}".format(printable("the client's disk is full")))
        table = summary_table([rec])
        self.assertIn("FAILED: client gave up: 'the client's disk is full'", table)
        self.assertNotIn("\\'", table)

    def test_ipv6_addresses_in_brackets(self):
        self.assertEqual(host_port("::1", 5001), "[::1]:5001")
        self.assertEqual(host_port("fe80::1%eth0", 5001), "[fe80::1%eth0]:5001")
        self.assertEqual(host_port("192.168.0.15", 5001), "192.168.0.15:5001")
        self.assertEqual(host_port(None, 5001), "?")
        self.assertEqual(listening_addresses("::1", 5001), ["[::1]:5001"])
        rec = ConnectionRecord(1)
        rec.set_addresses(("::1", 40000, 0, 0), ("::1", 5001, 0, 0), "client")
        self.assertEqual((rec.client_address, rec.server_address), ("[::1]:40000", "[::1]:5001"))
        self.assertIn("[::1]:40000", summary_table([rec]))
        from udp.packets import address_text
        self.assertEqual(address_text(("::1", 5002, 0, 0)), "[::1]:5002")


class Naming(unittest.TestCase):

    def test_n_is_the_count_the_server_announced(self):
        offer = FileOffer(name="f.txt", size=1, sha256="0" * 64, clients=5)
        path = received_path(ClientConfig(received_dir="/r"), 8, offer)
        self.assertEqual(Path(path), Path("/r") / "Cliente8-Prueba-5.txt")

    def test_busy_records(self):
        busy = ConnectionRecord(6)
        busy.fail("server is busy: 'test full or running'")
        failed = ConnectionRecord(7)
        failed.fail("timed out waiting for the server")
        self.assertTrue(is_busy(busy))
        self.assertFalse(is_busy(failed))
        table = summary_table([busy, failed])
        self.assertRegex(table, r"6 .*BUSY: test full or running")
        self.assertIn("0 of 2 verified; 1 turned away with BUSY", table)


class MoreClientsThanTheTest(unittest.TestCase):
    """Server at --clients 5, client at --clients 8 --yes (issue 11), both protocols."""

    def check(self, protocol, extra=()):
        lab = procs.Lab(prefix="newcomer-", size=200 * 1024)
        self.addCleanup(lab.close)
        server, port = procs.start_server(lab, protocol, clients=5, extra=list(extra))
        self.addCleanup(server.stop)
        status, out, err = procs.run_client(lab, protocol, port, 8, extra=list(extra), timeout=90)
        self.assertEqual(status, 1, err[-2000:])   # 3 of the 8 did not get the file
        out = out.decode()
        self.assertEqual(procs.finish(server, 30)[0], 0)
        names = sorted(os.listdir(str(lab.recv)))
        self.assertEqual(len(names), 5, names)
        ks = set()
        for name in names:
            match = re.match(r"Cliente([0-9]+)-Prueba-5\.txt\Z", name)
            self.assertIsNotNone(match, name)
            ks.add(int(match.group(1)))
            self.assertEqual(procs.sha256_of(lab.recv / name), lab.sha256)
        self.assertEqual(len(ks), 5)
        self.assertTrue(ks <= set(range(1, 9)))
        self.assertIn("5 of 8 verified; 3 turned away with BUSY", out)
        self.assertEqual(len(re.findall(r"BUSY: this test already has its 5 client\(s\)", out)), 3, out)
        self.assertIn("3 client(s) turned away with BUSY", out)
        log = lab.logs_of(protocol, "client")[-1]
        conns = procs.records_of(log, "connection")
        self.assertEqual(sorted(c["client_id"] for c in conns if c.get("busy")),
                         sorted(set(range(1, 9)) - ks))
        # each saved file carries its own client's number (k stable: row, log and name agree)
        for conn in conns:
            if conn["ok"]:
                self.assertEqual(os.path.basename(conn["saved_as"]), "Cliente{}-Prueba-5.txt".format(conn["client_id"]))
        self.assertEqual(procs.records_of(log, "test")[0]["settings"]["test_clients"], 5)

    def test_tcp(self):
        self.check("tcp")

    @unittest.skipUnless(procs.have_udp(), procs.UDP_SKIP)
    def test_udp(self):
        self.check("udp", ["--timeout", "10"])


def _ipv6_loopback():
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


@unittest.skipUnless(_ipv6_loopback(), "no IPv6 loopback here")
class IPv6Processes(unittest.TestCase):

    def test_tcp_over_ipv6_prints_brackets(self):
        lab = procs.Lab(prefix="newcomer6-", size=64 * 1024)
        self.addCleanup(lab.close)
        argv = procs.server_argv(lab, "tcp", lab.file_name, 1, True, (), lab.root / "port", quiet=False)
        argv[argv.index("--bind") + 1] = "::1"
        server = procs.Proc(argv, lab.root, "server6")
        self.addCleanup(server.stop)
        port = procs.wait_port_file(lab.root / "port", server)
        argv = procs.client_argv(lab, "tcp", port, 1)
        argv[argv.index("--host") + 1] = "::1"
        done = procs.run(argv, timeout=60)
        self.assertEqual(done.returncode, 0, done.stderr)
        code, out, err = procs.finish(server, 30)
        self.assertEqual(code, 0)
        self.assertIn("[::1]:{}".format(port), out)
        self.assertRegex(done.stdout, r"\[::1\]:[0-9]+ +verified")
        self.assertIn("connecting - [::1]:{}".format(port), done.stderr)
        everything = done.stdout + done.stderr + out + err + "".join(
            path.read_text() for path in lab.logs.glob("*/*-log.txt"))
        self.assertNotRegex(everything, r"(?<!\[)::1:[0-9]")
        # nobody listening: the refusal names the address the same way
        done = procs.run(argv, timeout=60)
        self.assertEqual(done.returncode, 1)
        self.assertIn("connection refused by [::1]:{}".format(port), done.stdout + done.stderr)


class FilesFolder(unittest.TestCase):

    def test_created_message_names_the_real_folder(self):
        folder = Path(tempfile.mkdtemp(prefix="newcomer-files-"))
        self.addCleanup(lambda: shutil.rmtree(str(folder), ignore_errors=True))
        stream = io.StringIO()
        with mock.patch.dict(catalog.STANDARD_FILES, {"tiny.txt": (4096, None)}, clear=True):
            catalog.ensure_standard_files(folder / "elsewhere", stream=stream)
        shown = stream.getvalue()
        self.assertIn("created {} (4,096 bytes)".format(folder / "elsewhere" / "tiny.txt"), shown)
        self.assertNotIn("files/tiny.txt", shown)

    def test_inside_the_project_it_stays_short(self):
        self.assertEqual(paths.display_path(paths.FILES_DIR / "100MB.txt"), "files/100MB.txt")


class FakeBoard:
    def __init__(self):
        self.notes = []

    def note(self, line):
        self.notes.append(line)


class FakeLog:
    def __init__(self):
        self.events = []

    def add_event(self, kind, peer, detail):
        self.events.append((kind, peer, detail))


class SideLinesRouting(unittest.TestCase):

    def setUp(self):
        self.logs = Path(tempfile.mkdtemp(prefix="newcomer-side-"))
        self.addCleanup(lambda: shutil.rmtree(str(self.logs), ignore_errors=True))

    def test_during_a_test_an_event_and_a_line_above_the_table(self):
        side = SideLines(self.logs, "udp")
        board, log = FakeBoard(), FakeLog()
        side.add("ping", "[::1]:40000", "PING seq=1", log, board)
        self.assertEqual(log.events, [("ping", "[::1]:40000", "PING seq=1")])
        self.assertEqual(board.notes, ["ping from [::1]:40000: PING seq=1"])
        self.assertEqual(side.summary(), "")
        self.assertFalse((self.logs / "udp-server").exists())

    def test_between_tests_only_the_between_tests_log(self):
        side = SideLines(self.logs, "udp", max_lines=2)
        for seq in range(3):
            side.add("ping", "127.0.0.1:40000", "PING seq={}\x1b".format(seq))
        side.add("ignored", "127.0.0.1:40001", "HELLO id=1 while no test waits for clients")
        side.close()
        files = list((self.logs / "udp-server").glob("*-between-tests.txt"))
        self.assertEqual(len(files), 1)
        text = files[0].read_text()
        self.assertEqual(text.count("\n"), 2)          # capped at max_lines
        self.assertNotIn("\x1b", text)
        summary = side.summary()
        self.assertIn("between tests: 1 ignored, 3 ping (logged in ", summary)
        self.assertEqual(side.summary(), "")           # counts start again


@unittest.skipUnless(procs.have_udp(), procs.UDP_SKIP)
class PingsBetweenTestsProcess(unittest.TestCase):
    """The real udp/server.py at its menu: pings print nothing there; the next test starts with one line."""

    def test_summary_at_the_next_test(self):
        lab = procs.Lab(prefix="newcomer-ping-", size=64 * 1024)
        self.addCleanup(lab.close)
        # --file is the lab's file; the client count is asked (the menu comes back after the test)
        server, port = procs.start_server(lab, "udp", once=False, quiet=False, stdin_pipe=True)
        self.addCleanup(server.stop)
        ping = procs.run([procs.PYTHON, procs.program("udp", "client"), "--ping", "--host", "127.0.0.1",
                          "--port", str(port), "--count", "2", "--interval", "0.2"], timeout=30)
        self.assertEqual(ping.returncode, 0, ping.stdout + ping.stderr)
        self.assertTrue(procs.wait_for(lambda: list((lab.logs / "udp-server").glob("*-between-tests.txt")), 10))
        server.send("1\n")   # one client
        status, out, err = procs.run_client(lab, "udp", port, 1, extra=["--timeout", "10"], timeout=60)
        self.assertEqual(status, 0, err[-1500:])
        self.assertTrue(procs.wait_output(server, b"log: ", 1, timeout=30, stream="stdout"))
        server.send("q\n")
        code, out, _err = procs.finish(server, 30)
        self.assertEqual(code, 0)
        self.assertNotIn("ping from", out)
        before, _, after = out.partition("between tests: 2 ping (logged in ")
        self.assertIn("Waiting for 1 client(s)", before)    # printed when the next test starts
        self.assertNotIn("between tests", after)            # counted once


class FakeConsole:
    def __init__(self, mode, settable=True):
        self.mode, self.settable, self.set_to = mode, settable, None

    def handle(self, which):
        return which

    def get_mode(self, handle):
        return self.mode

    def set_mode(self, handle, mode):
        if self.settable:
            self.set_to = mode
        return self.settable


class Windows(unittest.TestCase):

    def test_vt_mode(self):
        self.assertTrue(enable_vt_mode(windows=False))
        console = FakeConsole(3)
        self.assertTrue(enable_vt_mode(windows=True, console=console))
        self.assertEqual(console.set_to, 3 | ENABLE_VIRTUAL_TERMINAL_PROCESSING)
        self.assertFalse(enable_vt_mode(windows=True, console=FakeConsole(3, settable=False)))  # before 1511
        self.assertFalse(enable_vt_mode(windows=True, console=FakeConsole(None)))              # not a console

    def test_board_falls_back_to_plain_lines(self):
        stream = io.StringIO()
        with mock.patch("transfer.status.enable_vt_mode", return_value=False):
            board = StatusBoard("t", stream=stream, interactive=True)
        self.assertFalse(board.interactive)
        board.update("client 1", "connected")
        board.start()
        board.stop()
        self.assertEqual(stream.getvalue(), "client 1: connected\n")
        self.assertNotIn("\x1b", stream.getvalue())

    def test_replace_is_retried_on_windows(self):
        calls, sleeps = [], []

        def flaky(source, target):
            calls.append((source, target))
            if len(calls) < 3:
                raise PermissionError(13, "The process cannot access the file")
        with mock.patch("os.replace", flaky):
            paths.replace_file("a.part", "a.txt", windows=True, sleep=sleeps.append)
        self.assertEqual(len(calls), 3)
        self.assertEqual(len(sleeps), 2)
        calls.clear()
        with mock.patch("os.replace", flaky):
            with self.assertRaises(PermissionError):
                paths.replace_file("a.part", "a.txt", windows=False, sleep=sleeps.append)
        self.assertEqual(len(calls), 1)

    def test_replace_gives_up_after_a_few_tries(self):
        def held(source, target):
            raise PermissionError(13, "held")
        sleeps = []
        with mock.patch("os.replace", held):
            with self.assertRaises(PermissionError):
                paths.replace_file("a.part", "a.txt", windows=True, sleep=sleeps.append)
        self.assertEqual(len(sleeps), paths.REPLACE_TRIES - 1)
        self.assertLess(sum(paths.REPLACE_DELAY * 2 ** i for i in range(len(sleeps))), 10)


class Cleaning(unittest.TestCase):

    def setUp(self):
        self.folder = Path(tempfile.mkdtemp(prefix="newcomer-clean-"))
        self.addCleanup(lambda: shutil.rmtree(str(self.folder), ignore_errors=True))
        for name, size in (("Cliente1-Prueba-5.txt", 1000), ("Cliente12-Prueba-25.txt", 2000),
                           ("Cliente2-Prueba-5.txt.k3_x9a.part", 500), ("notes.txt", 7),
                           ("Cliente3-Prueba-5.txt.bak", 9)):
            (self.folder / name).write_bytes(b"x" * size)
        (self.folder / "Cliente4-Prueba-5.txt").mkdir()

    def run_clean(self, *argv, answer=None):
        out = io.StringIO()
        status = clean.main(["--received-dir", str(self.folder)] + list(argv),
                            input_fn=(lambda: answer) if answer is not None else None, out=out)
        return status, out.getvalue()

    def left(self):
        return sorted(os.listdir(str(self.folder)))

    def test_dry_run_shows_the_usage(self):
        status, out = self.run_clean("--dry-run")
        self.assertEqual(status, 0)
        self.assertIn("3 received file(s), 3,500 bytes", out)
        self.assertEqual(len(self.left()), 6)

    def test_no_keeps_everything(self):
        status, out = self.run_clean(answer="n")
        self.assertEqual((status, len(self.left())), (0, 6))
        self.assertIn("nothing deleted", out)

    def test_yes_deletes_only_received_copies(self):
        status, out = self.run_clean("--yes")
        self.assertEqual(status, 0)
        self.assertIn("deleted 3 file(s)", out)
        self.assertEqual(self.left(), ["Cliente3-Prueba-5.txt.bak", "Cliente4-Prueba-5.txt", "notes.txt"])

    def test_as_a_program(self):
        done = procs.run([procs.PYTHON, str(paths.PROJECT_ROOT / "scripts" / "clean.py"), "--received-dir",
                          str(self.folder), "--yes"], timeout=30, cwd=tempfile.gettempdir())
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(len(self.left()), 3)
        done = procs.run([procs.PYTHON, str(paths.PROJECT_ROOT / "scripts" / "clean.py"), "--bogus"], timeout=30)
        self.assertEqual(done.returncode, 2)
        self.assertEqual(len(done.stderr.strip().splitlines()), 1)

    def test_client_summary_tells_the_disk_use(self):
        rec = ConnectionRecord(1)
        rec.ok = True
        rec.saved_as = str(self.folder / "Cliente1-Prueba-5.txt")
        out = io.StringIO()
        print_client_summary(ClientRunResult([rec], "log.txt", True), out=out)
        self.assertIn("the folder now holds 3 received file(s), 3.4 KiB; scripts/clean.py deletes them",
                      out.getvalue())


if __name__ == "__main__":
    unittest.main()
