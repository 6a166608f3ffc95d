"""Tests of scripts/benchmark.py: helpers, then `benchmark.py --quick` end to end
with the real programs (only the protocols whose programs exist)."""

import csv
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET
from contextlib import redirect_stderr
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scripts import benchmark, report
from tests.test_report import section, tables_in  # noqa: E402

BENCHMARK = ROOT / "scripts" / "benchmark.py"
E2E_TIMEOUT = 300  # seconds for a whole --quick run (it normally takes well under a minute)


def available_protocols(roles=("server", "client")):
    """Protocol keys whose programs exist in this checkout."""
    keys = []
    for key, (proto, _, _) in benchmark.PROTOCOLS.items():
        if all((ROOT / proto / "{}.py".format(r)).is_file() for r in roles):
            keys.append(key)
    return keys


def table(md, heading, level="##"):
    """First Markdown table after *heading*: (headers, rows)."""
    idx = md.index("{} {}\n".format(level, heading))
    lines = md[idx:].splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("|"))
    out = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        out.append([c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]])
    return out[0], out[2:]


def _num(text):
    return float(text.replace(",", ""))


class HelpersTest(unittest.TestCase):
    """Option parsing, planning, baseline, progress lines: no processes."""

    def test_parse_protocols(self):
        self.assertEqual(benchmark.parse_protocols("tcp,udp-raw"), ["tcp", "udp-raw"])
        self.assertEqual(benchmark.parse_protocols("udp"), ["udp-raw", "udp-reliable"])
        self.assertEqual(benchmark.parse_protocols("all"), list(benchmark.PROTOCOLS))
        self.assertEqual(benchmark.parse_protocols("TCP, tcp"), ["tcp"])
        with self.assertRaises(Exception):
            benchmark.parse_protocols("sctp")

    def test_parse_clients(self):
        self.assertEqual(benchmark.parse_clients("1,5,10"), [1, 5, 10])
        self.assertEqual(benchmark.parse_clients("5,5, 1"), [5, 1])
        for bad in ("0", "x", "", "-1"):
            with self.assertRaises(Exception):
                benchmark.parse_clients(bad)

    def test_plan(self):
        files = [("a.txt", 10), ("b.txt", 20)]
        specs = benchmark.plan_tests(["tcp", "udp-reliable"], files, [1, 5, 10], 2)
        self.assertEqual(len(specs), 2 * 2 * 3 * 2)
        self.assertEqual([s.index for s in specs], list(range(1, 25)))
        self.assertTrue(all(s.total == 24 for s in specs))
        self.assertEqual([s.rep for s in specs[:12]], [1] * 12)  # repetitions outermost
        self.assertEqual((specs[0].key, specs[0].file_name, specs[0].clients), ("tcp", "a.txt", 1))
        self.assertEqual(specs[5].flags, [])
        self.assertEqual(specs[11].flags, ["--reliable"])
        self.assertEqual(specs[11].label, report.test_label("udp", "reliable", 20, 10))
        self.assertEqual(len({s.slug for s in specs}), len(specs))

    def test_file_names_and_timeout(self):
        self.assertEqual(benchmark.file_name_for("100MB"), "100MB.txt")
        self.assertEqual(benchmark.file_name_for("x.bin"), "x.bin")
        self.assertLess(benchmark.auto_timeout(100 << 20, 1), benchmark.auto_timeout(250 << 20, 10))
        self.assertGreater(benchmark.auto_timeout(None, 1), 60)

    def test_baseline(self):
        tmp = tempfile.mkdtemp(prefix="bench-")
        try:
            path = Path(tmp) / "f.txt"
            path.write_bytes(b"x" * (3 * benchmark.MiB + 5))
            base = benchmark.sha256_baseline(path, repeats=3)
            self.assertGreater(base["sha256_bytes_per_s"], 0)
            self.assertEqual(base["file_size"], 3 * benchmark.MiB + 5)
            self.assertEqual(base["repeats"], 3)
            self.assertEqual(len(base["samples_bytes_per_s"]), 3)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_prepare_quick_files(self):
        tmp = tempfile.mkdtemp(prefix="bench-")
        try:
            files = benchmark.prepare_files(Path(tmp) / "files", None, True, lambda m: None)
            self.assertEqual(files, list(benchmark.QUICK_FILES))
            for name, size in files:
                self.assertEqual((Path(tmp) / "files" / name).stat().st_size, size)
            with self.assertRaises(benchmark.BenchmarkError):
                benchmark.prepare_files(Path(tmp) / "files", ["nothere"], False, lambda m: None)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_progress_line(self):
        spec = benchmark.plan_tests(["tcp"], [("100MB.txt", 100 << 20)], [10], 1)[0]
        out = benchmark.Outcome(spec)
        out.status, out.aggregate, out.wall_s = "ok", 1234.4e6, 2.14
        self.assertEqual(benchmark.progress_line(out), "[1/1] tcp 100 MiB x 10 clients: ok, 1,234 MB/s aggregate, 2.1 s")
        out.status, out.detail, out.verified, out.expected = "failed", "client exit 1", 9, 10
        line = benchmark.progress_line(out)
        self.assertIn("FAILED (9/10 verified)", line)
        self.assertIn("client exit 1", line)

    def test_bad_usage_exit_2_one_line(self):
        for argv in (["--clients", "0"], ["--protocols", "ftp"], ["--host", "h", "--serve"],
                     ["--repeat", "0"], ["--timeout", "-3"], ["--sizes", "../etc/passwd"], ["--port", "70000"]):
            err = io.StringIO()
            with redirect_stderr(err):
                self.assertEqual(benchmark.main(argv), 2, argv)
            self.assertEqual(len(err.getvalue().strip().splitlines()), 1, (argv, err.getvalue()))


@unittest.skipUnless(available_protocols(), "no tcp/udp server+client programs in this checkout")
class QuickRunTest(unittest.TestCase):
    """`benchmark.py --quick` as a real process, then checks on what it wrote."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = Path(tempfile.mkdtemp(prefix="bench-e2e-"))
        cls.out = cls.tmp / "run"
        cls.protocols = available_protocols()
        cls.proc = subprocess.run(
            [sys.executable, str(BENCHMARK), "--quick", "--out", str(cls.out), "--protocols", ",".join(cls.protocols),
             "--no-pdf", "--lang", "en"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, universal_newlines=True,
            timeout=E2E_TIMEOUT, cwd=str(cls.tmp))
        cls.report_dir = cls.out / "report"

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(str(cls.tmp), ignore_errors=True)

    def test_udp_included(self):
        if "udp-raw" not in self.protocols:
            self.skipTest("udp/server.py or udp/client.py missing: UDP not benchmarked")
        md = (self.report_dir / "report.md").read_text("utf-8")
        self.assertIn("| UDP raw |", md)
        self.assertIn("| UDP reliable |", md)
        self.assertTrue((self.report_dir / "udp-loss.svg").is_file())
        self.assertTrue((self.report_dir / "protocols-aggregate.svg").is_file())

    def test_exit_status_and_output(self):
        self.assertIn(self.proc.returncode, (0,), self.proc.stderr[-3000:])
        self.assertEqual(self.proc.stdout.split(), [str(self.report_dir / "report.md"),
                                                    str(self.report_dir / "report.html")])
        n = len(self.protocols) * len(benchmark.QUICK_FILES) * len(benchmark.QUICK_CLIENTS)
        progress = [l for l in self.proc.stderr.splitlines() if re.match(r"\[\d+/\d+\] ", l)]
        self.assertEqual(len(progress), n, self.proc.stderr)
        for line in progress:
            self.assertRegex(line, r"^\[\d+/{}\] (tcp|udp-raw|udp-reliable) [\d.]+ MiB x \d+ clients?: "
                                   r"(ok|\d+/\d+ verified).*, [\d.]+ s$".format(n))
        self.assertIn("baseline: SHA-256", self.proc.stderr)

    def test_files_written_and_cleaned(self):
        for name in ("report.md", "report.html", "connections.csv"):
            self.assertTrue((self.report_dir / name).is_file(), name)
        self.assertTrue((self.out / "benchmark.json").is_file())
        self.assertFalse((self.out / "received").exists() and any((self.out / "received").rglob("*")))
        self.assertFalse((self.out / "files").exists())  # generated quick files removed

    def test_report_columns_and_values(self):
        md = (self.report_dir / "report.md").read_text("utf-8")
        headers, rows = table(md, "Global analysis")
        for col in report.GLOBAL_COLUMNS + ("Per-client / SHA-256",):
            self.assertIn(col, headers)
        col = {h: i for i, h in enumerate(headers)}
        n = len(self.protocols) * len(benchmark.QUICK_FILES) * len(benchmark.QUICK_CLIENTS)
        self.assertEqual(len(rows), n)
        for row in rows:
            verified, expected = map(int, row[col["Success"]].split("/"))
            self.assertEqual(expected, int(row[col["Clients"]]))
            if row[col["Protocol / mode"]] != "UDP raw":  # raw UDP may lose datagrams
                self.assertEqual(verified, expected)
            self.assertGreater(_num(row[col["Median per-client rate (MB/s)"]]), 0)
            self.assertGreater(_num(row[col["Aggregate rate (MB/s)"]]), 0)
            self.assertGreater(_num(row[col["Mean client time (ms)"]]), 0)
        for proto_label in ("TCP", "UDP raw", "UDP reliable"):
            for name, size in benchmark.QUICK_FILES:
                for n_clients in benchmark.QUICK_CLIENTS:
                    key = {"TCP": "tcp", "UDP raw": "udp-raw", "UDP reliable": "udp-reliable"}[proto_label]
                    if key not in self.protocols:
                        continue
                    proto, mode, _ = benchmark.PROTOCOLS[key]
                    number = [n for n, _ in benchmark.QUICK_FILES].index(name) * len(benchmark.QUICK_CLIENTS) + \
                        list(benchmark.QUICK_CLIENTS).index(n_clients) + 1
                    text = section(md, "{} - Test {}: ".format(proto_label, number))
                    tables = tables_in(text)
                    th, trows = tables[0]
                    for c in report.CONNECTION_COLUMNS:
                        self.assertIn(c, th)
                    if proto == "udp":
                        for c in report.UDP_COLUMNS:
                            self.assertIn(c, tables[1][0])
                    tc = {h: i for i, h in enumerate(th)}
                    C = dict(zip(("client", "success", "cbytes", "ctime", "crate", "sbytes", "stime", "srate",
                                  "cport", "sport"), report.CONNECTION_COLUMNS))
                    self.assertEqual(len(trows), n_clients)
                    for r in trows:
                        if r[tc[C["success"]]] == "ok":
                            self.assertEqual(_num(r[tc[C["cbytes"]]]), size)
                            if mode != "reliable":   # reliable: on the wire, resends included
                                self.assertEqual(_num(r[tc[C["sbytes"]]]), size)
                            self.assertGreater(_num(r[tc[C["crate"]]]), 0)
                            self.assertGreater(_num(r[tc[C["stime"]]]), 0)
                        self.assertTrue(r[tc[C["cport"]]].isdigit())
                        self.assertTrue(r[tc[C["sport"]]].isdigit())
                    _, summary = table(text, "Summary", "###")
                    names = [s[0] for s in summary]
                    for key, metric in report.SUMMARY_METRICS:
                        if key in ("loss_pct", "resent_pct", "loss_before_recovery_pct") and proto == "tcp":
                            continue
                        if key in ("resent_pct", "loss_before_recovery_pct") and mode == "raw":
                            continue
                        self.assertIn(metric, names)
        self.assertIn("## Baseline", md)
        self.assertIn("## Benchmark runs", md)

    def test_csv_matches_logs(self):
        with open(str(self.report_dir / "connections.csv"), newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        server_conns = []
        for path in report.find_logs([self.out / "logs"]):
            with open(str(path), encoding="utf-8") as handle:
                recs = [json.loads(l) for l in handle if l.strip()]
            if recs[0]["role"] == "server":
                server_conns += [(recs[0]["protocol"], recs[0]["mode"], r) for r in recs if r["record"] == "connection"]
        self.assertEqual(len(rows), len(server_conns))
        by_key = {(r["protocol"], r["mode"], r["client_ip"], int(r["client_port"]), int(r["server_port"])): r
                  for r in rows}
        for protocol, mode, rec in server_conns:
            row = by_key[(protocol, mode, rec["client_ip"], rec["client_port"], rec["server_port"])]
            self.assertEqual(int(row["server_bytes"]), rec["bytes"])
            self.assertAlmostEqual(float(row["server_time_ms"]), rec["time_ms"])
            self.assertNotEqual(row["client_bytes"], "")  # every connection paired with its client record

    def test_html_and_svgs_parse(self):
        root = ET.parse(str(self.report_dir / "report.html")).getroot()
        self.assertTrue(root.tag.endswith("html"))
        svgs = sorted(self.report_dir.glob("*.svg"))
        self.assertTrue(svgs)
        for path in svgs:
            ET.parse(str(path))
        inline = list(root.iter("{http://www.w3.org/2000/svg}svg"))
        self.assertEqual(len(inline), len(svgs))

    def test_benchmark_json(self):
        data = json.loads((self.out / "benchmark.json").read_text("utf-8"))
        self.assertGreater(data["baseline"]["sha256_bytes_per_s"], 0)
        for t in data["tests"]:
            self.assertIn(t["status"], ("ok", "lossy"), t)
            self.assertEqual(t["server_exit"] in (0, 1) and t["client_exit"] in (0, 1), True)
            self.assertGreater(t["wall_s"], 0)


def _capture_usable():
    return shutil.which("tcpdump") is not None and hasattr(os, "geteuid") and os.geteuid() == 0


def _netlab_usable():
    try:
        from scripts import netlab
        netlab.check_available(need_tc=True)
        return True
    except Exception:
        return False


class HooksTest(unittest.TestCase):
    """--capture and --netlab: one note when they cannot be used, real runs when they can."""

    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="bench-hooks-"))

    def tearDown(self):
        shutil.rmtree(str(self.tmp), ignore_errors=True)

    def test_capture_that_cannot_start_gives_one_note(self):
        from scripts.capture import CaptureUnavailable
        from types import SimpleNamespace
        args = benchmark.build_parser().parse_args(["--quick", "--capture"])
        logged = []
        runner = benchmark.Runner(args, self.tmp, self.tmp, logged.append)
        runner.setup_capture()

        def refuse(*_args, **_kw):
            raise CaptureUnavailable("no capture tool (install tcpdump)")
        runner.capture_mod = SimpleNamespace(Capture=refuse)
        spec = SimpleNamespace(protocol="tcp", slug="tcp-1")
        self.assertIsNone(runner._start_capture(spec, 5001))
        self.assertIsNone(runner.capture_mod)  # the remaining tests run without capture
        self.assertEqual(len(runner.notes), 1, runner.notes)
        self.assertIn("install tcpdump", runner.notes[0])

    def test_flatten_capture_rows(self):
        rows = [{"proto": "tcp", "client": "127.0.0.1:4000", "server": "127.0.0.1:5001",
                 "c2s": {"frames": 10, "wire_bytes": 900, "payload_bytes": 20, "retransmissions": 1},
                 "s2c": {"frames": 30, "wire_bytes": 90000, "payload_bytes": 88000, "retransmissions": 2}}]
        flat = benchmark._flatten_capture_rows(rows, 2)
        self.assertEqual(flat[0]["run"], 2)
        self.assertEqual(flat[0]["frames s->c"], 30)
        self.assertEqual(flat[0]["TCP retransmissions"], 3)

    @unittest.skipUnless("tcp" in available_protocols() and _capture_usable(), "needs tcp programs, tcpdump, root")
    def test_capture_run(self):
        out = self.tmp / "run"
        proc = subprocess.run([sys.executable, str(BENCHMARK), "--quick", "--protocols", "tcp", "--clients", "2",
                               "--sizes", benchmark.QUICK_FILES[0][0], "--files-dir", str(self.tmp / "files"),
                               "--capture", "--no-baseline", "--out", str(out)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                              universal_newlines=True, timeout=180)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        md = (out / "report" / "report.md").read_text("utf-8")
        text = section(md, "TCP - Test 1: ")
        if "### Traffic capture" not in text:
            self.assertIn("--capture:", proc.stderr)  # the tool refused: said so, and the run went on
            return
        headers, rows = table(text, "Traffic capture", "###")
        self.assertIn("TCP retransmissions", headers)
        col = {h: i for i, h in enumerate(headers)}
        self.assertEqual(len(rows), 2)
        for r in rows:
            self.assertGreaterEqual(_num(r[col["payload bytes s->c"]]), benchmark.QUICK_FILES[0][1])

    @unittest.skipUnless("tcp" in available_protocols() and _netlab_usable(), "needs tcp programs, root, ip, tc")
    def test_netlab_run(self):
        out = self.tmp / "run"
        proc = subprocess.run([sys.executable, str(BENCHMARK), "--quick", "--protocols", "tcp", "--clients", "1",
                               "--sizes", benchmark.QUICK_FILES[0][0], "--files-dir", str(self.tmp / "files"),
                               "--netlab", "200mbit", "--no-baseline", "--out", str(out)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                              universal_newlines=True, timeout=180)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("note: ", proc.stderr)
        md = (out / "report" / "report.md").read_text("utf-8")
        self.assertIn("network namespaces" if "namespaces (" in proc.stderr else "--netlab", md)

    @unittest.skipUnless({"tcp", "udp-reliable"} <= set(available_protocols()) and _netlab_usable(),
                         "needs the tcp and udp programs, root, ip, tc")
    def test_netlab_unshaped_runs_the_udp_reference_beside_the_programs(self):
        # UDP on the unshaped link: the minimal UDP transfer (scripts/refudp.py) runs through the lab after each
        # repetition and gets its row, and its ratio to TCP, in links.md; on a shaped link it does not run
        name = benchmark.QUICK_FILES[0][0]
        for link, expected in (("unshaped", 2), ("200mbit", 0)):
            out = self.tmp / ("run-" + link)
            proc = subprocess.run([sys.executable, str(BENCHMARK), "--quick", "--protocols", "tcp,udp-reliable",
                                   "--clients", "1", "--repeat", "2", "--sizes", name, "--files-dir",
                                   str(self.tmp / "files"), "--netlab", link, "--no-baseline", "--no-pdf", "--out",
                                   str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  stdin=subprocess.DEVNULL, universal_newlines=True, timeout=180)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            if "namespaces (" not in proc.stderr:
                self.skipTest("the network lab could not start: " + proc.stderr[-300:])
            links = (out / "links.md").read_text("utf-8")
            self.assertRegex(links, r"\| {} \| udp-reliable {} \| 1 \| 2 \|".format(link, re.escape(name)))
            ref_rows = re.findall(r"\| {} \| udp-reference {} \| 1 \| (\d+) \| [0-9.,]+ \| [0-9.]+ \| (\d+)/\d+ \|"
                                  .format(link, re.escape(name)), links)
            self.assertEqual(ref_rows, [("2", "2")] if expected else [], links)
            self.assertEqual(proc.stderr.count("UDP reference (refudp.py --datagram 1472)"), expected)


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@unittest.skipUnless("tcp" in available_protocols(), "tcp programs missing")
class TwoSidedTest(unittest.TestCase):
    """--serve and --host against each other on this machine (TCP, one client, two files)."""

    def test_serve_and_host(self):
        tmp = Path(tempfile.mkdtemp(prefix="bench-2side-"))
        try:
            port = str(_free_port())
            common = ["--quick", "--protocols", "tcp", "--clients", "1", "--port", port]
            serve = subprocess.Popen([sys.executable, str(BENCHMARK), "--serve", "--bind", "127.0.0.1",
                                      "--serve-wait", "60", "--out", str(tmp / "srv")] + common,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                     universal_newlines=True)
            try:
                host = subprocess.run([sys.executable, str(BENCHMARK), "--host", "127.0.0.1", "--gap", "3",
                                       "--out", str(tmp / "cli")] + common,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                      universal_newlines=True, timeout=180)
                s_out, s_err = serve.communicate(timeout=120)
            finally:
                if serve.poll() is None:
                    serve.kill()
                    serve.wait(10)
            self.assertEqual(host.returncode, 0, host.stderr)
            self.assertEqual(serve.returncode, 0, s_err)
            for side, role in (("srv", "server"), ("cli", "client")):
                logs = report.find_logs([tmp / side / "logs"])
                self.assertEqual(len(logs), len(benchmark.QUICK_FILES))
                self.assertTrue(all(p.parent.name == "tcp-" + role for p in logs))
                self.assertTrue((tmp / side / "report" / "report.html").is_file())
            # the two halves pair into complete rows when reported together
            result = report.build_report([tmp / "srv" / "logs", tmp / "cli" / "logs"], tmp / "both")
            self.assertEqual(len(result.tests), len(benchmark.QUICK_FILES))
            for t in result.tests:
                self.assertTrue(all(r.server is not None and r.client is not None for run in t.runs for r in run.rows))
        finally:
            shutil.rmtree(str(tmp), ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
