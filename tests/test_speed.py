"""Issue 10: no fixed costs on a client's path (hash ready before anyone asks,
cached on disk; no polling; no subprocess in the log header) and one thread
per TCP client when clients share the cores."""

import errno
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import unittest
from pathlib import Path
from unittest import mock

from tests import procs
from tcp import client as tcp_client
from tcp.client import tcp_run_client
from tcp.server import TCPFileServer
from transfer import catalog, client_app, hashing
from transfer.config import ClientConfig, ServerConfig
from transfer.errors import TransferFailed
from transfer.incoming import IncomingFile
from transfer.server_app import prepare_catalog
from transfer.status import StatusBoard
from transfer.testlog import TestLog, platform_text


class CountingHash:
    """Counts calls of transfer.hashing.sha256_file (the only way a file gets hashed)."""

    def __init__(self, testcase):
        self.calls = []
        original = hashing.sha256_file

        def counting(path, *args):
            self.calls.append(Path(path).name)
            return original(path, *args)
        patcher = mock.patch.object(hashing, "sha256_file", counting)
        patcher.start()
        testcase.addCleanup(patcher.stop)


class HashCacheTests(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp(prefix="speed-test-"))
        self.addCleanup(shutil.rmtree, str(self.dir), True)
        catalog.generate_file(self.dir / "a.txt", 300000)
        catalog.generate_file(self.dir / "b.txt", 200000)
        catalog._HASH_CACHE.clear()  # a fresh process: nothing in memory
        self.addCleanup(catalog._HASH_CACHE.clear)

    def restart(self):
        """What a new server process sees: no hash in memory, a fresh listing."""
        catalog._HASH_CACHE.clear()
        return catalog.list_files(self.dir)

    def test_catalog_hashed_once_then_a_restart_hashes_nothing(self):
        counter = CountingHash(self)
        entries = catalog.list_files(self.dir)
        self.assertEqual(catalog.hash_catalog(entries), 2)
        self.assertEqual(sorted(counter.calls), ["a.txt", "b.txt"])
        for entry in entries:
            sidecar = catalog.hash_cache_path(entry.path)
            self.assertEqual(sidecar.name, ".{}.sha256".format(entry.name))
            self.assertTrue(sidecar.read_text().startswith(catalog.generated_sha256(entry.size) + " "))
        # the sidecars are never offered as files
        self.assertEqual([e.name for e in catalog.list_files(self.dir)], ["a.txt", "b.txt"])
        entries = self.restart()
        self.assertEqual(catalog.hash_catalog(entries), 0)
        self.assertEqual([e.sha256 for e in entries],
                         [catalog.generated_sha256(300000), catalog.generated_sha256(200000)])
        self.assertEqual(len(counter.calls), 2)

    def test_changed_file_or_bad_sidecar_is_hashed_again(self):
        catalog.hash_catalog(catalog.list_files(self.dir))
        counter = CountingHash(self)
        path = self.dir / "a.txt"
        data = bytearray(path.read_bytes())
        data[0:1] = b"#"  # same size, new content, new mtime
        stat = path.stat()
        path.write_bytes(bytes(data))
        os.utime(str(path), ns=(stat.st_atime_ns, stat.st_mtime_ns + 1000))
        catalog.hash_cache_path(self.dir / "b.txt").write_text("not a hash\n")
        entries = self.restart()
        self.assertEqual(catalog.hash_catalog(entries), 2)
        self.assertEqual(entries[0].sha256, hashlib.sha256(bytes(data)).hexdigest())
        self.assertEqual(entries[1].sha256, catalog.generated_sha256(200000))
        self.assertEqual(sorted(counter.calls), ["a.txt", "b.txt"])

    def test_same_size_and_mtime_but_other_content_is_caught_by_ctime_or_inode(self):
        catalog.hash_catalog(catalog.list_files(self.dir))
        path = self.dir / "a.txt"
        stat = path.stat()
        data = b"x" * stat.st_size
        replacement = self.dir / "new.tmp"
        replacement.write_bytes(data)
        os.utime(str(replacement), ns=(stat.st_atime_ns, stat.st_mtime_ns))  # the same mtime as before
        os.replace(str(replacement), str(path))
        entries = self.restart()
        self.assertEqual(entries[0].sha256, hashlib.sha256(data).hexdigest())

    def test_unwritable_folder_still_serves_the_hash(self):
        entries = catalog.list_files(self.dir)
        with mock.patch.object(catalog.os, "replace", side_effect=PermissionError(errno.EACCES, "denied")):
            self.assertEqual(entries[0].sha256, catalog.generated_sha256(300000))
        self.assertFalse(catalog.hash_cache_path(entries[0].path).exists())
        self.assertEqual([p.name for p in self.dir.iterdir() if p.name.endswith(".tmp")], [])

    def test_generated_standard_file_comes_with_its_cached_hash(self):
        size = 150000
        with mock.patch.dict(catalog.STANDARD_FILES, {"std.txt": (size, catalog.generated_sha256(size))},
                             clear=True):
            catalog.ensure_standard_files(self.dir)
        counter = CountingHash(self)
        entries = [e for e in self.restart() if e.name == "std.txt"]
        self.assertEqual(catalog.hash_catalog(entries), 0)
        self.assertEqual(entries[0].sha256, catalog.generated_sha256(size))
        self.assertEqual(counter.calls, [])

    def test_server_program_hashes_the_catalog_before_it_listens(self):
        config = ServerConfig(files_dir=str(self.dir), quiet=True, create_files=False)
        entries = prepare_catalog(config, None)
        for entry in entries:
            self.assertTrue(catalog.is_hash_cached(entry.path), entry.name)
        catalog._HASH_CACHE.clear()
        for entry in entries:
            self.assertTrue(catalog.is_hash_cached(entry.path), entry.name)  # on disk too


class InlineIncomingTests(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp(prefix="speed-test-"))
        self.addCleanup(shutil.rmtree, str(self.dir), True)
        self.data = os.urandom(700000)
        self.sha = hashlib.sha256(self.data).hexdigest()

    def test_writes_and_hashes_in_the_callers_thread(self):
        before = threading.active_count()
        done = []
        incoming = IncomingFile(self.dir / "out.txt", len(self.data), self.sha, threaded=False)
        for offset in range(0, len(self.data), 65536):
            incoming.write(memoryview(self.data)[offset:offset + 65536], done.append)
            self.assertEqual(threading.active_count(), before)  # no worker thread
        self.assertEqual(len(done), (len(self.data) + 65535) // 65536)  # each buffer handed back at once
        self.assertEqual(incoming.finish(), self.sha)
        self.assertEqual((self.dir / "out.txt").read_bytes(), self.data)

    def test_threaded_writes_in_the_callers_thread_and_hashes_in_one_worker(self):
        before = threading.active_count()
        writers, released = [], []
        incoming = IncomingFile(self.dir / "out.txt", len(self.data), self.sha, threaded=True)
        real_write = incoming._write_all

        def write_all(data):
            writers.append(threading.current_thread())
            real_write(data)
        with mock.patch.object(incoming, "_write_all", side_effect=write_all):
            for offset in range(0, len(self.data), 65536):
                incoming.write(bytes(self.data[offset:offset + 65536]),
                               lambda data: released.append(threading.current_thread()))
                self.assertLessEqual(threading.active_count(), before + 1)  # the hasher, no writer thread
            self.assertEqual(incoming.finish(), self.sha)
        self.assertEqual(set(writers), {threading.current_thread()})
        self.assertEqual(len(released), (len(self.data) + 65535) // 65536)
        self.assertNotIn(threading.current_thread(), released)  # handed back by the hasher, once hashed
        self.assertEqual((self.dir / "out.txt").read_bytes(), self.data)

    def test_out_of_order_chunks_inline(self):
        incoming = IncomingFile(self.dir / "out.txt", len(self.data), self.sha, threaded=False)
        chunks = [(o, self.data[o:o + 7000]) for o in range(0, len(self.data), 7000)]
        chunks.reverse()
        for offset, chunk in chunks:
            incoming.write_at(offset, chunk)
        self.assertEqual(incoming.finish(), self.sha)

    def test_a_failed_write_fails_at_once_and_leaves_no_file(self):
        for threaded in (False, True):   # threaded too: the write is the caller's, only hashing is not
            with self.subTest(threaded=threaded):
                incoming = IncomingFile(self.dir / "out.txt", len(self.data), self.sha, threaded=threaded)
                with mock.patch.object(incoming, "_write_all", side_effect=OSError(errno.ENOSPC, "full")):
                    with self.assertRaises(TransferFailed) as caught:
                        incoming.write(self.data[:1000])
                self.assertIn("disk full", str(caught.exception))
                incoming.discard()
                self.assertEqual(os.listdir(str(self.dir)), [])


class ReceiveModeTests(unittest.TestCase):
    def test_pipelined_only_when_every_client_has_two_cores(self):
        with mock.patch.dict(os.environ, {"FILELAB_TCP_RECEIVE": ""}):
            self.assertTrue(tcp_client.pipelined(1, cpus=2))
            self.assertFalse(tcp_client.pipelined(2, cpus=2))
            self.assertFalse(tcp_client.pipelined(10, cpus=2))
            self.assertFalse(tcp_client.pipelined(1, cpus=1))
            self.assertTrue(tcp_client.pipelined(4, cpus=8))
        with mock.patch.dict(os.environ, {"FILELAB_TCP_RECEIVE": "inline"}):
            self.assertFalse(tcp_client.pipelined(1, cpus=64))
        with mock.patch.dict(os.environ, {"FILELAB_TCP_RECEIVE": "pipelined"}):
            self.assertTrue(tcp_client.pipelined(10, cpus=2))


class InProcessTransfers(unittest.TestCase):
    """Server and clients in this process; both receive modes; no sleep polling."""

    def setUp(self):
        self.lab = procs.Lab(prefix="ftlab-test-", size=3 * 1024 * 1024 + 4321)
        self.addCleanup(self.lab.cleanup)
        self.entry = catalog.list_files(self.lab.files)[0]

    def transfer(self, clients, mode):
        config = ServerConfig(bind="127.0.0.1", port=0, logs_dir=str(self.lab.logs), files_dir=str(self.lab.files),
                              quiet=True, timeout=30, handshake_timeout=30)
        server = TCPFileServer(config)
        self.addCleanup(server.close)
        outcome = {}
        thread = threading.Thread(target=lambda: outcome.setdefault(
            "r", server.run_test(self.entry, clients, StatusBoard("t", quiet=True))), daemon=True)
        thread.start()
        client_config = ClientConfig(host="127.0.0.1", port=server.port, clients=clients, assume_yes=True,
                                     quiet=True, received_dir=str(self.lab.received), logs_dir=str(self.lab.logs),
                                     timeout=30, handshake_timeout=30)

        def no_sleep(seconds):
            raise AssertionError("the client polled with time.sleep({})".format(seconds))
        with mock.patch.dict(os.environ, {"FILELAB_TCP_RECEIVE": mode}), \
                mock.patch.object(client_app.time, "sleep", no_sleep):
            result = tcp_run_client(client_config)
        thread.join(60)
        self.assertFalse(thread.is_alive())
        return result, outcome["r"]

    def check(self, clients, mode):
        result, served = self.transfer(clients, mode)
        self.assertTrue(result.ok, [r.reason for r in result.records])
        self.assertTrue(served.ok, [r.reason for r in served.records])
        for rec in result.records:
            self.assertEqual(procs.sha256_of(rec.saved_as), self.lab.sha256)

    def test_inline_clients(self):
        self.check(3, "inline")

    def test_pipelined_client(self):
        self.check(1, "pipelined")

    def test_inline_client_that_loses_the_server_keeps_no_file(self):
        listener = procs.tcp_listener(self)
        from transfer.messages import DataHeader, FileOffer, LineReader, send_message

        def fake_server():
            conn, _ = listener.accept()
            reader = LineReader(conn)
            reader.read_message()
            send_message(conn, FileOffer(name="x.txt", size=5 * 1024 * 1024, sha256="a" * 64, clients=1))
            reader.read_message()
            send_message(conn, DataHeader(size=5 * 1024 * 1024))
            conn.sendall(b"y" * (1024 * 1024 + 5))
            conn.close()
        threading.Thread(target=fake_server, daemon=True).start()
        config = ClientConfig(host="127.0.0.1", port=listener.getsockname()[1], clients=1, assume_yes=True,
                              quiet=True, received_dir=str(self.lab.received), logs_dir=str(self.lab.logs),
                              timeout=10, handshake_timeout=10)
        with mock.patch.dict(os.environ, {"FILELAB_TCP_RECEIVE": "inline"}):
            result = tcp_run_client(config)
        self.assertFalse(result.ok)
        self.assertIn("server closed the connection after 1,048,581 of 5,242,880 bytes", result.records[0].reason)
        self.assertEqual(os.listdir(str(self.lab.received)) if self.lab.received.exists() else [], [])


class EventWaitTests(unittest.TestCase):
    def test_wait_events(self):
        events = [threading.Event() for _ in range(3)]
        for event in events:
            threading.Timer(0.01, event.set).start()
        self.assertTrue(client_app._wait_events(events, 30))
        stuck = threading.Event()
        self.assertFalse(client_app._wait_events(events + [stuck], 0.05))
        self.assertTrue(client_app._wait_events([], None))

    def test_a_session_thread_says_when_it_ends_even_when_run_raises(self):
        class Boom:
            def run(self):
                raise RuntimeError("a bug")
        finished = threading.Event()
        with self.assertRaises(RuntimeError):
            client_app._run_session(Boom(), finished)
        self.assertTrue(finished.is_set())


class LogHeaderTests(unittest.TestCase):
    def test_log_header_starts_no_process(self):
        folder = tempfile.mkdtemp(prefix="speed-test-")
        self.addCleanup(shutil.rmtree, folder, True)
        import platform
        if hasattr(platform, "_uname_cache"):
            self.addCleanup(setattr, platform, "_uname_cache", platform._uname_cache)
            platform._uname_cache = None  # so a uname() call would really run
        if isinstance(getattr(platform, "_platform_cache", None), dict):
            saved = dict(platform._platform_cache)
            platform._platform_cache.clear()
            self.addCleanup(platform._platform_cache.update, saved)
        log = TestLog(folder, "tcp", "client")
        with mock.patch.object(subprocess, "Popen", side_effect=AssertionError("a process was started")), \
                mock.patch.object(os, "popen", side_effect=AssertionError("a process was started"), create=True):
            log.begin("stream", "f.txt", 1, "a" * 64, 1)
        log.close()
        text = Path(log.path).read_text()
        self.assertIn(platform_text(), text)
        self.assertEqual(platform_text().split("-")[0], platform.system())


if __name__ == "__main__":
    unittest.main()


class BaselineToolsTests(unittest.TestCase):
    """scripts/refrecv.py and scripts/baselines.py do what the benchmark rows say (no timing asserted)."""

    def test_reference_receiver_moves_and_hashes_every_copy(self):
        from scripts import baselines
        lab = procs.Lab(prefix="ftlab-test-", size=1024 * 1024 + 777)
        self.addCleanup(lab.cleanup)
        result = baselines.run_reference(lab.files / lab.file_name, 2, lab.root)
        self.assertEqual(result["received"], 2)
        self.assertEqual(result["bytes"], 2 * lab.size)
        self.assertEqual(result["sha256"], [lab.sha256, lab.sha256])
        self.assertEqual(sorted(p.name for p in lab.root.iterdir() if p.name.startswith("ref-")), [])

    def test_udp_reference_moves_and_hashes_every_copy_and_counts_cpu(self):
        from scripts import baselines
        lab = procs.Lab(prefix="ftlab-test-", size=3 * 1024 * 1024 + 777)   # 50 datagrams: past one window
        self.addCleanup(lab.cleanup)
        result = baselines.run_udp_reference(lab.files / lab.file_name, 2, lab.root)
        self.assertEqual(result["received"], 2)
        self.assertEqual(result["bytes"], 2 * lab.size)
        self.assertEqual(result["sha256"], [lab.sha256, lab.sha256])
        self.assertEqual(result["lost_datagrams"], 0)
        self.assertGreater(result["server_cpu_s"], 0)
        self.assertGreater(result["client_cpu_s"], 0)
        self.assertEqual(sorted(p.name for p in lab.root.iterdir() if p.name.startswith("refudp")), [])

    def test_udp_reference_with_ethernet_sized_datagrams(self):
        # 1,472-byte datagrams: 44 per send with UDP GSO and per receive with GRO where Linux has them
        from scripts import baselines
        lab = procs.Lab(prefix="ftlab-test-", size=3 * 1024 * 1024 + 777)
        self.addCleanup(lab.cleanup)
        result = baselines.run_udp_reference(lab.files / lab.file_name, 2, lab.root, datagram=1472)
        self.assertEqual(result["bytes"], 2 * lab.size)
        self.assertEqual(result["sha256"], [lab.sha256, lab.sha256])
        self.assertEqual(result["lost_datagrams"], 0)

    def test_udp_reference_window_fits_the_receivers_buffer(self):
        # the receiver's HELLO says its receive buffer; the sender keeps at most half of it in flight, so a
        # machine with stock buffers (212,992 bytes, read back doubled) loses nothing for want of room
        from scripts import refudp
        full = refudp.WINDOW_BYTES // 64000
        self.assertEqual(refudp.send_window(64000, b"HELLO"), full)              # an older receiver
        self.assertEqual(refudp.send_window(64000, b"HELLO 8388608"), full)      # room for the whole window
        self.assertEqual(refudp.send_window(64000, b"HELLO 425984"), 3)          # 212,992 bytes: 3 datagrams
        self.assertEqual(refudp.send_window(1472, b"HELLO 425984"), 144)
        self.assertEqual(refudp.send_window(1472, b"HELLO 1000"), 2 * refudp.gso_batch(1472))   # two batches
        self.assertEqual(refudp.send_window(1472, b"HELLO x"), refudp.WINDOW_BYTES // 1472)

    def test_netlab_udp_reference_runs_each_side_through_the_lab_and_joins_the_link_table(self):
        # benchmark.py --netlab: refudp.py with the link's 1,472-byte datagrams, the sender started in the
        # lab's server namespace and the receiver in its client namespace (here a lab that runs them locally)
        import argparse
        from scripts import benchmark
        lab = procs.Lab(prefix="ftlab-test-", size=2 * 1024 * 1024 + 5)
        self.addCleanup(lab.cleanup)
        roles = []

        class LocalLab:
            server_addr = "127.0.0.1"

            @staticmethod
            def popen(role, argv, **kw):
                roles.append(role)
                return subprocess.Popen(argv, **kw)
        run_dir = lab.root / "run"
        runner = benchmark.Runner(argparse.Namespace(), run_dir, lab.files, lambda m: None)
        runner.lab = LocalLab()
        row = runner.run_udp_reference(lab.file_name, 2)
        self.assertEqual(roles, ["server", "client"])
        self.assertEqual((row["verified"], row["lost"]), (2, 0))
        self.assertGreater(row["rate"], 0)
        self.assertFalse((run_dir / "refudp").exists())   # its copies and port file are gone
        # a sender that cannot start: a note, a row with no rate, the run goes on
        with mock.patch.object(benchmark.baselines, "run_udp_reference",
                               side_effect=benchmark.baselines.BaselineError("UDP reference sender did not start")):
            failed = runner.run_udp_reference(lab.file_name, 2)
        self.assertEqual((failed["rate"], failed["verified"]), (None, 0))
        self.assertTrue(any("did not start" in n for n in runner.notes))
        # the link table: the reference's median beside TCP's on the same link
        benchmark._write_json(run_dir / "refudp.json", [row, dict(row, rate=row["rate"] * 3)])
        rows = benchmark.link_rows(run_dir / "logs")
        ref = [r for r in rows if r["protocol"] == "udp-reference"]
        self.assertEqual(len(ref), 1)
        self.assertEqual((ref[0]["runs"], ref[0]["verified"]), (2, "4/4"))
        self.assertAlmostEqual(ref[0]["goodput"], row["rate"] * 2)
        tcp = dict(ref[0], protocol="tcp", goodput=row["rate"] * 4)
        text = benchmark.links_markdown([("unshaped", [tcp] + ref)])
        self.assertIn("| unshaped | udp-reference {} | 2 | 2 |".format(lab.file_name), text)
        self.assertIn("| 0.50 | 4/4 |", text)

    def test_udp_rows_pair_rounds_and_bound_by_cpu(self):
        from scripts import baselines
        size = 1000 * 1000 * 1000
        run = lambda agg, server, client: {"aggregate_bytes_per_s": agg, "server_cpu_s": server,
                                           "client_cpu_s": client, "bytes": 2 * size}
        samples = {
            "sha256": [1000e6, 500e6, 1000e6], "interpreter": [0.05, 0.05, 0.05],
            ("reference", 2): [run(1000e6, 0.2, 1.8), run(500e6, 0.2, 1.8), None],
            ("udp reference", 2): [run(700e6, 1.0, 1.5), run(350e6, 1.0, 1.5), run(700e6, 1.0, 1.5)],
            ("this udp", 2): [run(350e6, 2.0, 3.0), run(175e6, 2.0, 3.0), run(700e6, 2.0, 3.0)],
        }
        rows = []

        def row(what, value, unit, ratio=None, target=None, against=None, below=False):
            rows.append({"row": what, "value": value, "ratio": ratio, "target": target, "against": against})
        baselines.udp_rows(samples, size, [1, 2], ["this"], row, lambda r: r["aggregate_bytes_per_s"], cores=2)
        by = {r["row"]: r for r in rows}
        self.assertEqual(by["UDP reference (scripts/refudp.py), 2 clients aggregate"]["ratio"], 0.7)
        self.assertEqual(by["this: UDP reliable, 2 clients aggregate"]["ratio"], 0.35)   # 0.35, 0.35, 0.7
        self.assertEqual(by["this: UDP reliable, 2 clients aggregate"]["target"], 0.8)
        self.assertEqual(by["this: UDP reliable, 2 clients vs UDP reference"]["ratio"], 0.5)   # 0.5, 0.5, 1.0
        cpu = "UDP reference, 2 clients: CPU seconds per GB, sender + receiver"
        self.assertEqual(by[cpu]["value"], 1.25)     # 2.5 s for 2 GB
        self.assertIn("sender 0.50 + receiver 0.75", by[cpu]["against"])
        self.assertEqual(by["reference receiver (TCP, sendfile), 2 clients: CPU seconds per GB, sender + receiver"][
            "value"], 1.0)
        # 2 cores / 1.25 s per GB = 1.6 GB/s: 1.6x a 1,000 MB/s SHA-256, 3.2x a 500 MB/s one; median 1.6
        self.assertAlmostEqual(by["UDP reference, 2 clients: the most 2 cores allow at its CPU cost"]["ratio"], 1.6)
        self.assertFalse([r for r in rows if " 1 clients" in r["row"]])   # UDP rows only above 1 client

    def test_benchmark_baselines_add_the_udp_rows_when_udp_reliable_runs(self):
        from scripts import baselines, benchmark
        args = mock.Mock(quick=True, repeat=1)
        runner = mock.Mock()
        calls = []

        def measure(*a, **k):
            calls.append(k.get("udp"))
            return {"rows": []}
        folder = Path(tempfile.mkdtemp(prefix="speed-test-"))
        self.addCleanup(shutil.rmtree, str(folder), True)
        with mock.patch.object(baselines, "measure", side_effect=measure):
            for udp in (False, True):
                benchmark.run_tcp_baselines(args, "local", folder, [("a.txt", 10)], [1, 10], folder, runner,
                                            lambda m: None, udp=udp)
        self.assertEqual(calls, [False, True])
        source = Path(benchmark.__file__).read_text()
        self.assertIn('udp="udp-reliable" in protocols', source)   # main() passes it from --protocols

    def test_ratios_are_paired_within_rounds(self):
        from scripts import baselines
        run = lambda wall, agg: {"client_wall_s": wall, "before_first_byte_s": 0.1, "after_last_byte_s": 0.02,
                                 "transfer_s": 0.25, "aggregate_bytes_per_s": agg, "server_peak_rss_kib": 20480}
        samples = {
            "sha256": [1000e6, 500e6, 1000e6], "interpreter": [0.05, 0.05, 0.05],
            ("socat", 1): [0.6, 1.2, None],
            ("this", 1): [run(0.4, None), run(0.8, None), run(0.4, None)],
            ("reference", 10): [{"aggregate_bytes_per_s": 1000e6}, {"aggregate_bytes_per_s": 500e6}, None],
            ("this", 10): [run(1, 1100e6), run(1, 550e6), run(1, 1000e6)],
            ("this", 25): [run(1, 1), None, run(1, 1)],
        }
        rows = {r["row"].split(" (")[0]: r for r in baselines.summarize(samples, 250 * 1024 * 1024, [1, 10], 25)}
        self.assertEqual(rows["this: 1 client wall"]["ratio"], 1.5)  # 0.6/0.4 and 1.2/0.8; round 3 has no socat
        self.assertEqual(rows["this: fixed costs beyond the interpreter"]["value"], 70.0)
        self.assertEqual(rows["this: fixed costs beyond the interpreter"]["met"], "yes")
        self.assertEqual(rows["this: 10 clients vs reference"]["ratio"], 1.1)
        self.assertEqual(rows["this: 10 clients aggregate"]["ratio"], 1.1)  # median of 1.1, 1.1, 1.0
        self.assertEqual(rows["this: server peak RSS, 25 clients"]["value"], 20.0)
        self.assertEqual(rows["this: server peak RSS, 25 clients"]["met"], "yes")
        self.assertIn("this: fixed costs", baselines.format_rows(list(rows.values())))


class SettingsTests(unittest.TestCase):
    """ServerConfig / ClientConfig behave as the dataclasses they replaced (without importing dataclasses)."""

    def test_keyword_construction_defaults_equality(self):
        from transfer.config import ClientConfig, ServerConfig, DEFAULT_TIMEOUT
        a, b = ClientConfig(host="h", clients=3), ClientConfig(host="h", clients=3)
        self.assertEqual(a, b)
        self.assertEqual(a.timeout, DEFAULT_TIMEOUT)
        a.extra["x"] = 1
        self.assertEqual(b.extra, {})  # a mutable default is not shared
        self.assertEqual(ClientConfig().extra, {})
        self.assertNotEqual(a, b)
        self.assertIn("clients=3", repr(b))
        self.assertEqual(ServerConfig(port=7).port, 7)
        with self.assertRaises(TypeError):
            ServerConfig(prot=7)

    def test_client_start_imports_no_dataclasses_logging_or_datetime(self):
        code = ("import sys, tcp.client; print(' '.join(sorted(m for m in ('dataclasses', 'typing', 'logging', "
                "'datetime', 'tempfile', 'scripts') if m in sys.modules)))")
        done = subprocess.run([sys.executable, "-S", "-c", code], cwd=str(procs.ROOT),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=60)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(done.stdout.strip(), "")
