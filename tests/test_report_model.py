"""Tests of scripts/logmodel.py (choosing runs, attempts, wire bytes) and of the report's
structure: test numbering, print stylesheet, Spanish, the UDP metrics of issue 11."""

import json
import os
import shutil
import tempfile
import unittest
import xml.etree.ElementTree as ET
from pathlib import Path

from scripts import logmodel, report
from tests.test_report import MiB, SIZES, _test_record, _write_sidecar, make_test, section, tables_in

EPOCH = 1700000000.0


def _attempt_log(root, protocol, epoch, reason, clients=1):
    """A client log whose connections never started (refused, BUSY)."""
    conns = [{"record": "connection", "client_id": k, "client_ip": None, "client_port": None,
              "server_ip": "127.0.0.1", "server_port": 5001, "bytes": 0, "ok": False, "reason": reason,
              "time_ms": None, "rate_bytes_per_s": None, "first_byte_epoch": None, "last_byte_epoch": None}
             for k in range(1, clients + 1)]
    return _write_sidecar(root / "{}-client".format(protocol), epoch,
                          [_test_record(protocol, "stream" if protocol == "tcp" else "raw", "client", None, clients,
                                        epoch, "ab" * 32)] + conns)


def _patch_server(path, **fields):
    """Add *fields* to every connection record of a sidecar."""
    lines = [json.loads(l) for l in Path(path).read_text("utf-8").splitlines() if l.strip()]
    for rec in lines:
        if rec.get("record") == "connection":
            rec.update(fields)
    Path(path).write_text("".join(json.dumps(r) + "\n" for r in lines), "utf-8")


class Temp(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="report-model-"))
        self.logs = self.tmp / "logs"

    def tearDown(self):
        shutil.rmtree(str(self.tmp), ignore_errors=True)


class AttemptsTest(Temp):
    """Refused and BUSY clients are attempts, not tests (issue 11)."""

    def test_refused_and_busy_listed_apart(self):
        make_test(self.logs, "tcp", "stream", SIZES[0], 2, EPOCH, 30000)
        _attempt_log(self.logs, "tcp", EPOCH - 100, "connection refused by 127.0.0.1:5001 (is the server running?)",
                     clients=4)
        _attempt_log(self.logs, "tcp", EPOCH + 50, "server is busy: test full or running")
        runs, attempts = logmodel.split_attempts(logmodel.collect_runs([self.logs]))
        self.assertEqual(len(runs), 1)
        self.assertEqual(len(attempts), 5)
        result = report.build_report([self.logs], self.tmp / "out")
        self.assertEqual([t.label for t in result.tests], ["TCP, 2 MiB, 2 clients"])
        self.assertEqual(result.tests[0].figures["expected"], 2)
        md = result.markdown.read_text("utf-8")
        self.assertNotIn("unknown size", md)
        attempts_md = section(md, "Attempts that never started")
        self.assertIn("connection refused", attempts_md)
        self.assertIn("server is busy", attempts_md)
        self.assertEqual(len(tables_in(attempts_md)[0][1]), 5)


class SelectTest(Temp):
    """--since, --last, --protocol and the default choice of logs."""

    def setUp(self):
        super().setUp()
        make_test(self.logs, "tcp", "stream", SIZES[0], 1, EPOCH, 30000)
        make_test(self.logs, "udp", "raw", SIZES[0], 1, EPOCH + 100, 30100)
        make_test(self.logs, "tcp", "stream", SIZES[1], 1, EPOCH + 200, 30200)
        make_test(self.logs, "udp", "reliable", SIZES[1], 1, EPOCH + 300, 30300)
        self.runs = logmodel.collect_runs([self.logs])

    def labels(self, runs):
        return sorted(r.label for r in runs)

    def test_protocol(self):
        self.assertEqual(self.labels(logmodel.select_runs(self.runs, protocol="tcp")),
                         ["TCP, 2 MiB, 1 client", "TCP, 5 MiB, 1 client"])
        self.assertEqual(len(logmodel.select_runs(self.runs, protocol="udp")), 2)
        self.assertEqual(self.labels(logmodel.select_runs(self.runs, protocol="udp-raw")), ["UDP raw, 2 MiB, 1 client"])

    def test_since_and_last(self):
        self.assertEqual(len(logmodel.select_runs(self.runs, since=EPOCH + 150)), 2)
        self.assertEqual(self.labels(logmodel.select_runs(self.runs, last=1)), ["UDP reliable, 5 MiB, 1 client"])
        self.assertEqual(len(logmodel.select_runs(self.runs, last=3)), 3)
        self.assertEqual(len(logmodel.select_runs(self.runs, last=3, protocol="tcp")), 2)

    def test_cli_filters(self):
        out = self.tmp / "out"
        with open(os.devnull, "w") as null:
            import contextlib
            with contextlib.redirect_stdout(null), contextlib.redirect_stderr(null):
                self.assertEqual(report.main([str(self.logs), "--out", str(out), "--protocol", "udp",
                                              "--no-pdf"]), 0)
                self.assertEqual(report.main([str(self.logs), "--since", "bad", "--no-pdf"]), 2)
        md = (out / "report.md").read_text("utf-8")
        self.assertIn("UDP raw - Test 1", md)
        self.assertNotIn("## TCP - Test", md)
        self.assertEqual(report.parse_since("90m", now=10000.0), 10000.0 - 5400)
        self.assertGreater(report.parse_since("2026-12-01 14:30", now=0), 0)

    def test_default_selection(self):
        lab = self.tmp / "Logs"
        bench = lab / "benchmark-2026-01-01-10-00-00" / "logs"
        make_test(bench, "tcp", "stream", SIZES[0], 5, EPOCH, 31000)
        make_test(lab, "tcp", "stream", SIZES[0], 1, EPOCH, 32000)   # hand-run: Logs/tcp-server, Logs/tcp-client
        hand = sorted(lab.glob("tcp-*/*.jsonl"))
        old, new = EPOCH, EPOCH + 1000
        for p in bench.rglob("*.jsonl"):
            os.utime(str(p), (old, old))
        for p in hand:
            os.utime(str(p), (new, new))
        paths, kind = logmodel.default_selection(lab)
        self.assertEqual((kind, sorted(paths)), ("hand", hand))
        for p in hand:
            os.utime(str(p), (old - 10, old - 10))
        paths, kind = logmodel.default_selection(lab)
        self.assertEqual((kind, paths), ("benchmark", [lab / "benchmark-2026-01-01-10-00-00"]))
        self.assertEqual(logmodel.default_selection(self.tmp / "nothing"), ([], "none"))


class UdpMetricsTest(Temp):
    """Bytes on the wire, loss before recovery, '-' for raw resends, raw loss explained."""

    def test_wire_bytes_and_loss_before_recovery(self):
        sconns, _ = make_test(self.logs, "udp", "reliable", SIZES[0], 2, EPOCH, 30000, resend=3)
        server_log = next((self.logs / "udp-server").glob("*.jsonl"))
        result = report.build_report([self.logs], self.tmp / "out")
        row = result.runs[0].rows[1]
        self.assertEqual(row.wire_bytes, (SIZES[0] + 6 * (1400 - 12), True))  # estimate: resent x payload
        md = result.markdown.read_text("utf-8")
        self.assertIn("~ marks an estimate", md)
        _patch_server(server_log, bytes_sent_total=3 * MiB, loss_before_recovery_pct=12.5)
        result = report.build_report([self.logs], self.tmp / "out2")
        row = result.runs[0].rows[0]
        self.assertEqual(row.wire_bytes, (3 * MiB, False))
        self.assertEqual(row.loss_before_recovery_pct, 12.5)
        md = result.markdown.read_text("utf-8")
        self.assertNotIn("~ marks an estimate", md)
        self.assertIn("{:,}".format(6 * MiB), md)   # two connections x bytes_sent_total
        self.assertIn("Before recovery 12.50% of the datagrams were missing", md)

    def test_raw_loss_explained(self):
        make_test(self.logs, "udp", "raw", SIZES[0], 2, EPOCH, 30000, loss=0.1)
        server_log = next((self.logs / "udp-server").glob("*.jsonl"))
        _patch_server(server_log, rate_sent_bytes_per_s=700e6, rate_received_bytes_per_s=520e6,
                      suggested_rate_bytes_per_s=480e6)
        md = report.build_report([self.logs], self.tmp / "out").markdown.read_text("utf-8")
        self.assertIn("UDP behaving as UDP does", md)
        self.assertIn("700.00 MB/s", md)
        self.assertIn("520.00 MB/s", md)
        self.assertIn("--rate 480M", md)
        text = section(md, "UDP raw - Test 1")
        udp_headers, udp_rows = tables_in(text)[1]
        self.assertEqual(udp_rows[0][udp_headers.index("Resent datagrams")], "-")

    def test_rate_above_pacing_explained(self):
        make_test(self.logs, "udp", "raw", SIZES[0], 1, EPOCH, 30000, speed=100.0)
        server_log = next((self.logs / "udp-server").glob("*.jsonl"))
        _patch_server(server_log, rate_bytes_per_s_set=10e6)
        md = report.build_report([self.logs], self.tmp / "out").markdown.read_text("utf-8")
        self.assertIn("above its pacing (10.00 MB/s)", md)

    def test_capture_rows_of_this_test_only(self):
        make_test(self.logs, "tcp", "stream", SIZES[0], 1, EPOCH, 30000)   # client port 30001
        rows = [{"run": 1, "proto": "tcp", "client": "127.0.0.1:30001", "server": "127.0.0.1:5001",
                 "frames c->s": 10, "frames s->c": 20, "wire bytes s->c": 2200000, "payload bytes s->c": 2097152,
                 "TCP retransmissions": 0},
                {"run": 1, "proto": "udp", "client": "127.0.0.1:45555", "server": "127.0.0.1:46666",
                 "frames c->s": 1, "frames s->c": 40, "wire bytes s->c": 9000000, "payload bytes s->c": 8900000}]
        label = report.test_label("tcp", "stream", SIZES[0], 1)
        md = report.build_report([self.logs], self.tmp / "out", extra={"captures": {label: rows}}
                                 ).markdown.read_text("utf-8")
        text = section(md, "TCP - Test 1")
        self.assertEqual(len(tables_in(text.split("### Traffic capture")[1])[0][1]), 1)
        self.assertIn("1 other conversation(s)", text)
        self.assertIn("The capture saw 30 frames; server to client, 2,200,000 bytes on the wire carried "
                      "2,097,152 bytes of payload (4.90% overhead", text)

    def test_baseline_labels_are_human(self):
        make_test(self.logs, "tcp", "stream", SIZES[0], 1, EPOCH, 30000)
        md = report.build_report([self.logs], self.tmp / "out", extra={"baseline": {
            "sha256_bytes_per_s": 1.2e9, "file": "100MB.txt", "repeats": 3}}).markdown.read_text("utf-8")
        base = section(md, "Baseline")
        self.assertNotIn("sha256_bytes_per_s", base)
        self.assertIn("SHA-256 rate of this Python", base)
        self.assertIn("1,200.00 MB/s", base)


class StructureTest(Temp):
    """Cover, numbering, print stylesheet, Spanish."""

    def setUp(self):
        super().setUp()
        epoch = EPOCH
        for protocol, mode in (("tcp", "stream"), ("udp", "reliable")):
            for size in SIZES:
                for n in (1, 5, 10):
                    make_test(self.logs, protocol, mode, size, n, epoch, 30000 + int(epoch - EPOCH))
                    epoch += 10

    def test_numbering_and_stylesheet(self):
        result = report.build_report([self.logs], self.tmp / "out", generated="2026-12-01 10:00")
        html = result.html.read_text("utf-8")
        ET.fromstring(html)
        root_css = html[html.index("<style>"):html.index("</style>")]
        self.assertIn("@page", root_css)
        self.assertIn("counter(page)", root_css)
        self.assertIn("break-inside: avoid", root_css)
        self.assertIn(".page { break-before: page", root_css)
        # every test heading starts a page and carries its guide number, 1..6 per protocol
        for proto in ("TCP", "UDP reliable"):
            for n in range(1, 7):
                self.assertRegex(html, r'<h2 id="[^"]+" class="page">{} - Test {}: '.format(proto, n))
        self.assertEqual(html.count('class="page"'), 12 + 3)   # tests, global, comparison, method
        md = result.markdown.read_text("utf-8")
        self.assertIn("Date: 2026-12-01 10:00", md)
        matrix = tables_in(section(md, "Test matrix"))[0]
        self.assertEqual([r[0] for r in matrix[1]], ["Test {}".format(n) for n in range(1, 7)])
        self.assertEqual(matrix[0][3:], ["TCP", "UDP reliable"])
        self.assertIn("## Contents", md)
        self.assertIn("TCP vs UDP: are the results consistent?", md)
        self.assertIn("the results are consistent", md)

    def test_spanish_report_has_no_english_heading(self):
        result = report.build_report([self.logs], self.tmp / "out", lang="es",
                                     extra={"tables": {"Benchmark runs": [{"test": "x", "status": "ok"}]}})
        md = result.markdown.read_text("utf-8")
        headings = [l.lstrip("#").strip() for l in md.splitlines() if l.startswith("#")]
        english = {"Connections", "Summary", "Analysis", "Global analysis", "Charts", "Contents", "Method",
                   "Machines", "Test matrix", "Benchmark runs", "Notes", "Baseline"}
        self.assertFalse(english & set(headings), english & set(headings))
        self.assertTrue(any(h.startswith("TCP - Prueba 1: 2 MiB, 1 cliente") for h in headings))
        self.assertIn("## Análisis global", md)
        self.assertIn("exitosa", md)
        self.assertRegex(md, r"\| [0-9]+,[0-9]{2} \|")       # decimal comma
        self.assertNotRegex(md, r"\| [0-9]+\.[0-9]{2} \|")   # no decimal point left in tables
        html = result.html.read_text("utf-8")
        self.assertIn('lang="es"', html)
        svg = next(p for p in result.svgs if p.name.startswith("rate-per-client")).read_text("utf-8")
        self.assertIn("Tasa mediana por cliente", svg)
        self.assertNotIn("Median per-client", svg)


if __name__ == "__main__":
    unittest.main()
