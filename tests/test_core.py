"""Unit tests of the shared package: catalog, messages, logs, prompts, incoming files."""

import io
import json
import os
import random
import socket
import tempfile
import threading
import unittest
from pathlib import Path

from transfer import catalog
from transfer.errors import ProtocolError, TransferFailed, UserError
from transfer.gate import TestGate
from transfer.hashing import sha256_file
from transfer.incoming import IncomingFile
from transfer.messages import (TCP_MESSAGES, Done, FileOffer, Hello, LineReader, decode, printable)
from transfer.prompts import PromptClosed, Prompter
from transfer.records import ConnectionRecord
from transfer.testlog import TestLog
from transfer.units import parse_size


class CatalogTests(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp())

    def tearDown(self):
        import shutil
        shutil.rmtree(str(self.dir))

    def test_standard_hashes_are_the_documented_constants(self):
        for name, (size, sha) in catalog.STANDARD_FILES.items():
            self.assertEqual(catalog.generated_sha256(size), sha, name)
        self.assertEqual(catalog.STANDARD_FILES["100MB.txt"][0], 104857600)
        self.assertEqual(catalog.STANDARD_FILES["250MB.txt"][0], 262144000)

    def test_generated_file_is_printable_text_and_matches_its_hash(self):
        size = 3 * 1024 * 1024 + 777
        path = catalog.generate_file(self.dir / "x.txt", size)
        self.assertEqual(path.stat().st_size, size)
        self.assertEqual(sha256_file(path), catalog.generated_sha256(size))
        data = path.read_bytes()
        self.assertTrue(all(32 <= b < 127 or b == 10 for b in set(data)))
        self.assertNotEqual(data[:1024 * 1024], data[1024 * 1024:2 * 1024 * 1024])  # blocks differ

    def test_ensure_standard_files_keeps_existing_right_size(self):
        target = self.dir / "100MB.txt"
        catalog.generate_file(target, 100 * 1024 * 1024)
        before = target.stat().st_mtime_ns
        created = catalog.ensure_standard_files(self.dir, names=["100MB.txt"])
        self.assertEqual(created, [])
        self.assertEqual(target.stat().st_mtime_ns, before)

    def test_catalog_lists_only_plain_files_and_selects_safely(self):
        for name in ("b.txt", "a.txt", ".hidden", "x.txt.123.part"):
            (self.dir / name).write_text("x")
        (self.dir / "sub").mkdir()
        outside = self.dir.parent / "outside-{}.txt".format(os.getpid())
        outside.write_text("secret")
        try:
            (self.dir / "link.txt").symlink_to(outside)
            entries = catalog.list_files(self.dir)
            self.assertEqual([e.name for e in entries], ["a.txt", "b.txt"])
            self.assertEqual(catalog.select_file(entries, "2").name, "b.txt")
            self.assertEqual(catalog.select_file(entries, "a.txt").name, "a.txt")
            for bad in ("../" + outside.name, "link.txt", "3", "0", str(outside), "sub"):
                with self.assertRaises(UserError):
                    catalog.select_file(entries, bad)
        finally:
            outside.unlink()

    def test_missing_folder_is_a_user_error(self):
        with self.assertRaises(UserError):
            catalog.list_files(self.dir / "nope")

    def test_sha256_computed_once_per_entry(self):
        catalog.generate_file(self.dir / "f.txt", 100000)
        entry = catalog.list_files(self.dir)[0]
        calls = []
        import transfer.hashing as hashing
        original = hashing.sha256_file

        def counting(path, *a):
            calls.append(path)
            return original(path, *a)
        hashing.sha256_file = counting
        try:
            first = entry.sha256
            second = catalog.list_files(self.dir)[0].sha256  # a new entry for the same unchanged file
        finally:
            hashing.sha256_file = original
        self.assertEqual(first, second)
        self.assertEqual(len(calls), 1)


class MessageTests(unittest.TestCase):
    def test_round_trip_with_percent_encoding(self):
        offer = FileOffer(name="mi archivo/..\x1b.txt", size=5, sha256="a" * 64, clients=25)
        line = offer.encode()
        self.assertTrue(line.endswith(b"\n"))
        self.assertIn(b"name=mi%20archivo%2F..%1B.txt", line)
        self.assertEqual(decode(line, TCP_MESSAGES), offer)

    def test_unknown_keys_ignored_and_required_keys_enforced(self):
        self.assertEqual(decode(b"HELLO id=3 total=5 color=blue\n", TCP_MESSAGES), Hello(id=3, total=5))
        for bad in (b"HELLO id=3\n", b"HELLO id=x total=1\n", b"HELLO id=0 total=1\n", b"NOPE\n",
                    b"DONE bytes=1 sha256=ABC ok=1\n", b"DONE bytes=1 sha256=" + b"a" * 64 + b" ok=2\n",
                    b"hello id=1 total=1\n", b"HELLO id=1 total=1 =x\n", b"\n", b"HELLO id=%G1 total=1\n",
                    b"HELLO id=1 total=1 " + b"x" * 1100 + b"\n", "HELLO id=1 total=1 ñ=1\n".encode()):
            with self.assertRaises(ProtocolError, msg=bad):
                decode(bad, TCP_MESSAGES)

    def test_done_flag(self):
        done = decode(b"DONE bytes=10 sha256=" + b"0" * 64 + b" ok=1\n", TCP_MESSAGES)
        self.assertIsInstance(done, Done)
        self.assertIs(done.ok, True)

    def test_line_reader_splits_lines_and_keeps_data_after_them(self):
        a, b = socket.socketpair()
        try:
            a.sendall(b"HELLO id=1 total=2\nDATA size=3\nabcdef")
            a.close()
            reader = LineReader(b)
            self.assertEqual(reader.read_message(), Hello(id=1, total=2))
            self.assertEqual(reader.read_line(), b"DATA size=3\n")
            self.assertEqual(reader.take_buffered(), b"abcdef")
            with self.assertRaises(EOFError):
                reader.read_line()
        finally:
            b.close()

    def test_line_reader_rejects_long_lines_without_reading_everything(self):
        a, b = socket.socketpair()
        try:
            sender = threading.Thread(target=lambda: _send_quietly(a, b"x" * (4 * 1024 * 1024)))
            sender.start()
            b.settimeout(5)
            with self.assertRaises(ProtocolError):
                LineReader(b).read_line()
        finally:
            b.close()
            sender.join(5)
            a.close()

    def test_printable_escapes_terminal_controls(self):
        self.assertNotIn("\x1b", printable("\x1b[2Jhi\r\x07"))


def _send_quietly(sock, data):
    try:
        sock.sendall(data)
    except OSError:
        pass


class TestLogTests(unittest.TestCase):
    def test_names_sidecar_and_no_overwrite(self):
        with tempfile.TemporaryDirectory() as folder:
            first = TestLog(folder, "tcp", "server", started=1700000000.5)
            second = TestLog(folder, "tcp", "server", started=1700000000.9)
            self.assertRegex(first.path.name, r"^\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d-log\.txt$")
            self.assertEqual(second.path.name, first.path.name.replace("-log.txt", "-log-2.txt"))
            self.assertEqual(first.path.parent.name, "tcp-server")
            first.begin("stream", "f.txt", 10, "a" * 64, 1)
            rec = ConnectionRecord(1)
            rec.set_addresses(("127.0.0.1", 5001), ("127.0.0.1", 40000), "server")
            rec.bytes = 10
            rec.ok = True
            rec.start_clock()
            rec.stop_clock()
            first.add_connection(rec)
            first.add_event("busy", "127.0.0.1:1", "full\x1b")
            first.close()
            second.close(interrupted=True)
            lines = [json.loads(l) for l in first.sidecar_path.read_text().splitlines()]
            self.assertEqual([l["record"] for l in lines], ["test", "connection", "event", "summary"])
            self.assertEqual(lines[1]["client_port"], 40000)
            self.assertEqual(lines[1]["server_port"], 5001)
            self.assertTrue(lines[3]["ok"])
            self.assertIsInstance(lines[1]["time_ms"], float)
            text = first.path.read_text()
            self.assertIn("success: yes", text)
            self.assertNotIn("\x1b", text)
            self.assertRegex(text, r"transfer time: [0-9,]+\.\d{3} ms")
            self.assertFalse(json.loads(second.sidecar_path.read_text().splitlines()[-1])["ok"])


class PromptTests(unittest.TestCase):
    def test_ask_int_repeats_until_valid(self):
        answers = iter(["abc", "", "0", "\u00b2", "26", "7"])
        out = io.StringIO()
        prompter = Prompter(input_fn=lambda: next(answers), output=out)
        self.assertEqual(prompter.ask_int("How many", 25, 1, 25), 25)
        self.assertEqual(prompter.ask_int("How many", 25, 1, 25), 7)
        self.assertEqual(out.getvalue().count("please type a whole number from 1 to 25"), 4)

    def test_end_of_input_raises_prompt_closed(self):
        def eof():
            raise EOFError
        with self.assertRaises(PromptClosed):
            Prompter(input_fn=eof, output=io.StringIO()).ask_int("n", 1, 1, 2)


class IncomingFileTests(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp())
        self.data = os.urandom(300000)
        import hashlib
        self.sha = hashlib.sha256(self.data).hexdigest()

    def tearDown(self):
        import shutil
        shutil.rmtree(str(self.dir))

    def test_out_of_order_chunks_verify_and_rename(self):
        incoming = IncomingFile(self.dir / "out.txt", len(self.data), self.sha)
        chunks = [(o, self.data[o:o + 7000]) for o in range(0, len(self.data), 7000)]
        random.Random(1).shuffle(chunks)
        for offset, chunk in chunks:
            incoming.write_at(offset, chunk)
        self.assertEqual(incoming.finish(), self.sha)
        self.assertEqual((self.dir / "out.txt").read_bytes(), self.data)
        self.assertEqual(os.listdir(str(self.dir)), ["out.txt"])

    def test_mismatch_leaves_no_final_file(self):
        incoming = IncomingFile(self.dir / "out.txt", len(self.data), "0" * 64)
        incoming.write(self.data)
        with self.assertRaises(TransferFailed):
            incoming.finish()
        self.assertIsNone(incoming.discard())
        self.assertEqual(os.listdir(str(self.dir)), [])

    def test_short_file_kept_only_under_a_partial_name_on_request(self):
        incoming = IncomingFile(self.dir / "out.txt", len(self.data), self.sha)
        incoming.write(self.data[:1000])
        kept = incoming.discard(keep_partial=True)
        self.assertTrue(str(kept).endswith(".part"))
        self.assertFalse((self.dir / "out.txt").exists())


class GateTests(unittest.TestCase):
    def test_starts_only_when_all_joined_and_ready(self):
        gate = TestGate(2)
        self.assertTrue(gate.join())
        gate.ready()
        self.assertFalse(gate.started.is_set())
        self.assertTrue(gate.join())
        self.assertFalse(gate.join())  # full: BUSY
        gate.leave(was_ready=False)
        self.assertTrue(gate.join())
        gate.ready()
        self.assertTrue(gate.wait_start(0))
        self.assertFalse(gate.join())


class UnitsTests(unittest.TestCase):
    def test_parse_size(self):
        self.assertEqual(parse_size("800M"), 800000000)
        self.assertEqual(parse_size("64Ki"), 65536)
        self.assertEqual(parse_size("0"), 0)
        for bad in ("", "-1", "1X", "abc"):
            with self.assertRaises(ValueError):
                parse_size(bad)


if __name__ == "__main__":
    unittest.main()
