"""Tests of scripts/report.py on synthetic JSON-lines logs written per the schema in README.md ("Logs")."""

import csv
import io
import json
import math
import re
import shutil
import statistics
import sys
import tempfile
import time
import unittest
import xml.etree.ElementTree as ET
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scripts import report  # noqa: E402

MiB = 1024 * 1024
SVG_NS = "{http://www.w3.org/2000/svg}"


def _stamp(epoch):
    return time.strftime("%Y-%m-%d-%H-%M-%S", time.localtime(epoch))


def _write_sidecar(folder, epoch, records, raw_lines=()):
    folder.mkdir(parents=True, exist_ok=True)
    base = _stamp(epoch) + "-log"
    path = folder / (base + ".jsonl")
    n = 2
    while path.exists():
        path = folder / ("{}-{}.jsonl".format(base, n))
        n += 1
    with open(str(path), "w", encoding="utf-8") as handle:
        for rec in records:
            handle.write(json.dumps(rec) + "\n")
        for line in raw_lines:
            handle.write(line + "\n")
    return path


def _test_record(protocol, mode, role, size, clients, epoch, sha):
    return {"record": "test", "protocol": protocol, "mode": mode, "role": role,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(epoch)) + ".000000+00:00",
            "started_epoch": epoch, "file_name": "{}.txt".format(size), "file_size": size,
            "file_sha256": sha, "clients": clients, "host": "testhost", "python": "3.x",
            "platform": "test", "settings": {"chunk_size": 1400}, "text_log": "x-log.txt"}


def make_test(root, protocol, mode, size, clients, epoch, port_base, fail=(), client_log=True,
              server_log=True, loss=0.0, resend=0, speed=1.0, drop_client=(), extra_client_lines=()):
    """Write a server and a client sidecar for one run; return (server conns, client conns).

    Client k takes (40 + 30 * clients + 5 * k) / speed ms; failed clients receive half the file.
    """
    sha = "ab" * 32
    server_conns, client_conns = [], []
    chunk = 1400
    for k in range(1, clients + 1):
        cport = port_base + k
        sport = 5001 if protocol == "tcp" else 52000 + (port_base % 1000) + k
        ok = k not in fail
        nbytes = size if ok else size // 2
        ctime = (40.0 + 30.0 * clients + 5.0 * k) / speed
        first = epoch + 0.5 + 0.002 * k
        last = first + ctime / 1000.0
        stime = ctime + 1.5
        s = {"record": "connection", "client_id": k, "client_ip": "127.0.0.1", "client_port": cport,
             "server_ip": "127.0.0.1", "server_port": sport, "bytes": size if ok else nbytes, "ok": ok,
             "reason": "" if ok else "client reported a hash mismatch", "sha256_expected": sha,
             "sha256_received": sha if ok else None, "time_ms": stime,
             "rate_bytes_per_s": (size if ok else nbytes) / (stime / 1000.0),
             "first_byte_epoch": first - 0.0005, "last_byte_epoch": last + 0.001,
             "saved_as": None, "partial_as": None}
        c = {"record": "connection", "client_id": k, "client_ip": "127.0.0.1", "client_port": cport,
             "server_ip": "127.0.0.1", "server_port": sport, "bytes": nbytes, "ok": ok,
             "reason": "" if ok else "hash mismatch", "sha256_expected": sha,
             "sha256_received": sha if ok else "cd" * 32, "time_ms": ctime,
             "rate_bytes_per_s": nbytes / (ctime / 1000.0), "first_byte_epoch": first,
             "last_byte_epoch": last, "saved_as": "/x/Cliente{}-Prueba-{}.txt".format(k, clients) if ok else None,
             "partial_as": None}
        if protocol == "udp":
            expected = int(math.ceil(size / chunk))
            sent = expected + resend * k
            got = int(round(expected * (1 - loss * k / clients)))
            lp = 100.0 * (expected - got) / expected
            s.update({"chunk_size": chunk, "datagrams_sent": sent, "datagrams_received": 3,
                      "datagrams_expected": expected, "missing": 0, "duplicates": 0, "out_of_order": 0,
                      "loss_pct": lp, "resent_datagrams": resend * k, "delivery_ms": None,
                      "ignored_datagrams": 0, "client_report": {"datagrams_received": got, "loss_pct": lp}})
            c.update({"chunk_size": chunk, "datagrams_sent": 2, "datagrams_received": got,
                      "datagrams_expected": expected, "missing": expected - got, "duplicates": 0,
                      "out_of_order": 0, "loss_pct": lp, "resent_datagrams": 0, "delivery_ms": ctime + 2,
                      "ignored_datagrams": 0})
        server_conns.append(s)
        if k not in drop_client:
            client_conns.append(c)

    def summary(conns, count):
        firsts = [c["first_byte_epoch"] for c in conns]
        lasts = [c["last_byte_epoch"] for c in conns]
        total = sum(c["bytes"] for c in conns)
        return {"record": "summary", "ended": "x", "ended_epoch": epoch + 5, "ok": all(c["ok"] for c in conns)
                and len(conns) == count, "connections": len(conns), "verified": sum(c["ok"] for c in conns),
                "failed": sum(not c["ok"] for c in conns), "interrupted": False,
                "aggregate_rate_bytes_per_s": total / (max(lasts) - min(firsts)) if conns else None,
                "total_bytes": total}
    if server_log:
        _write_sidecar(root / "{}-server".format(protocol), epoch,
                       [_test_record(protocol, mode, "server", size, clients, epoch, sha)] + server_conns
                       + [{"record": "event", "at": epoch + 0.1, "kind": "busy", "peer": "1.2.3.4:5",
                           "detail": "x"}] * (1 if fail else 0) + [summary(server_conns, clients)])
    if client_log:
        _write_sidecar(root / "{}-client".format(protocol), epoch + 0.2,
                       [_test_record(protocol, mode, "client", size, clients, epoch + 0.2, sha)] + client_conns
                       + [summary(client_conns, clients)], extra_client_lines)
    return server_conns, (client_conns if client_log else [])


SIZES = (2 * MiB, 5 * MiB)
PROTOS = (("tcp", "stream", 1.0), ("udp", "raw", 0.7), ("udp", "reliable", 0.4))


def make_matrix(root):
    """Logs of the whole matrix (3 protocols x 2 sizes x 1/5/10 clients) with a few oddities.

    Returns {(protocol, mode, size, clients): (server conns, client conns)}.
    """
    data = {}
    epoch = 1700000000.0
    port = 30000
    for protocol, mode, speed in PROTOS:
        for size in SIZES:
            for n in (1, 5, 10):
                fail = (3,) if (protocol, size, n) == ("tcp", SIZES[0], 5) else ()
                client_log = not (protocol == "udp" and mode == "raw" and size == SIZES[1] and n == 10)
                loss = 0.02 if mode == "raw" else 0.0
                resend = 2 if mode == "reliable" else 0
                data[(protocol, mode, size, n)] = make_test(
                    root, protocol, mode, size, n, epoch, port, fail=fail, client_log=client_log,
                    loss=loss, resend=resend, speed=speed * (size / SIZES[0]) ** 0.1)
                epoch += 7.0
                port += 20
    return data


def table_after(text, heading, level="###"):
    """The first Markdown table after *heading*: (headers, rows)."""
    idx = text.index("{} {}\n".format(level, heading))
    lines = text[idx:].splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("|"))
    table = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        table.append([c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]])
    return table[0], table[2:]


def tables_in(text):
    """Every Markdown table in *text*, in order: [(headers, rows)]."""
    out, current = [], []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            current.append([c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]])
        elif current:
            out.append((current[0], current[2:]))
            current = []
    return out


#: the report's headers by short name
COL = dict(zip(("client", "success", "cbytes", "ctime", "crate", "sbytes", "stime", "srate", "cport", "sport"),
               report.CONNECTION_COLUMNS))
UCOL = dict(zip(("sent", "received", "loss", "resent", "loss_first"), report.UDP_COLUMNS))


def test_heading(protocol, mode, size, n):
    """The per-test heading of the synthetic matrix: numbered by size, then clients (Test 1..6)."""
    number = SIZES.index(size) * 3 + (1, 5, 10).index(n) + 1 if n in (1, 5, 10) else None
    return "{} - Test {}: {}".format(report.protocol_label(protocol, mode), number, report.size_label(size))


def section(md, heading):
    """The Markdown of the '## heading...' section up to the next '## '."""
    start = md.index("\n## " + heading) + 1
    end = md.find("\n## ", start + 3)
    return md[start:] if end < 0 else md[start:end]


class ReportMatrixTest(unittest.TestCase):
    """A full synthetic matrix: three protocols, two sizes, 1/5/10 clients."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = Path(tempfile.mkdtemp(prefix="report-test-"))
        cls.logs = cls.tmp / "logs"
        cls.data = make_matrix(cls.logs)
        cls.out = cls.tmp / "out"
        cls.warnings = []
        cls.result = report.build_report([cls.logs], cls.out, title="Synthetic <lab> & report",
                                         extra={"baseline": {"sha256_bytes_per_s": 1.0e9, "file_size": 100 * MiB,
                                                             "samples": [1.0e9, 1.1e9, 0.9e9]},
                                                "captures": {report.test_label("tcp", "stream", SIZES[0], 1): [
                                                    {"direction": "client->server", "frames": 120, "bytes": 9000,
                                                     "tcp_retransmissions": 0}],
                                                    "Unknown test": [{"frames": 1}]},
                                                "notes": ["note with <angle> & ampersand"]},
                                         warn=cls.warnings.append)
        cls.md = cls.result.markdown.read_text("utf-8")
        cls.html = cls.result.html.read_text("utf-8")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(str(cls.tmp), ignore_errors=True)

    def label(self, protocol, mode, size, n):
        return report.test_label(protocol, mode, size, n)

    def test_files_written(self):
        for path in self.result.files:
            self.assertTrue(path.is_file(), path)
        names = {p.name for p in self.result.svgs}
        for slug in ("2mib", "5mib"):
            self.assertIn("rate-per-client-{}.svg".format(slug), names)
            self.assertIn("rate-aggregate-{}.svg".format(slug), names)
            self.assertIn("time-spread-{}.svg".format(slug), names)
        self.assertIn("udp-loss.svg", names)
        self.assertIn("protocols-aggregate.svg", names)
        for name in names:
            self.assertIn("]({})".format(name), self.md)

    def test_tests_found(self):
        self.assertEqual(len(self.result.tests), 18)
        labels = [t.label for t in self.result.tests]
        self.assertEqual(labels[0], "TCP, 2 MiB, 1 client")
        self.assertIn("UDP raw, 5 MiB, 10 clients", labels)
        self.assertIn("UDP reliable, 2 MiB, 5 clients", labels)
        for t in self.result.tests:
            self.assertIn("## " + test_heading(t.protocol, t.mode, t.file_size, t.clients) + ", ", self.md)

    def test_html_and_svgs_parse(self):
        root = ET.fromstring(self.html)
        self.assertTrue(root.tag.endswith("html"))
        svgs = list(root.iter(SVG_NS + "svg"))
        self.assertEqual(len(svgs), len(self.result.svgs))
        for path in self.result.svgs:
            ET.parse(str(path))
        self.assertIn("Synthetic &lt;lab&gt; &amp; report", self.html)
        self.assertIn("note with &lt;angle&gt; &amp; ampersand", self.html)

    def test_connection_columns_and_values(self):
        for (protocol, mode, size, n), (sconns, cconns) in self.data.items():
            text = section(self.md, test_heading(protocol, mode, size, n))
            tables = tables_in(text)
            headers, rows = tables[0]
            for col in report.CONNECTION_COLUMNS:
                self.assertIn(col, headers)
            if protocol == "udp":
                uheaders, urows = tables[1]
                for col in report.UDP_COLUMNS:
                    self.assertIn(col, uheaders)
                ucol = {h: i for i, h in enumerate(uheaders)}
            self.assertEqual(len(rows), len(sconns))
            col = {h: i for i, h in enumerate(headers)}
            cmap = {c["client_port"]: c for c in cconns}
            for i, (s, row) in enumerate(zip(sconns, rows)):
                self.assertEqual(row[col[COL["client"]]], str(s["client_id"]))
                self.assertEqual(row[col[COL["cport"]]], str(s["client_port"]))
                self.assertEqual(row[col[COL["sport"]]], str(s["server_port"]))
                wire = s["bytes"] + s.get("resent_datagrams", 0) * (s.get("chunk_size", 12) - 12)
                self.assertEqual(row[col[COL["sbytes"]]].lstrip("~"), "{:,}".format(wire))
                self.assertEqual(row[col[COL["stime"]]], "{:,.1f}".format(s["time_ms"]))
                self.assertEqual(row[col[COL["srate"]]], "{:,.2f}".format(s["rate_bytes_per_s"] / 1e6))
                c = cmap.get(s["client_port"])
                if c is None:
                    self.assertEqual(row[col[COL["cbytes"]]], "-")
                    self.assertEqual(row[col[COL["success"]]], "ok" if s["ok"] else "failed")
                    continue
                self.assertEqual(row[col[COL["success"]]], "ok" if c["ok"] and s["ok"] else "failed")
                self.assertEqual(row[col[COL["cbytes"]]], "{:,}".format(c["bytes"]))
                self.assertEqual(row[col[COL["ctime"]]], "{:,.1f}".format(c["time_ms"]))
                self.assertEqual(row[col[COL["crate"]]], "{:,.2f}".format(c["rate_bytes_per_s"] / 1e6))
                if protocol == "udp":
                    urow = urows[i]
                    self.assertEqual(urow[ucol[UCOL["sent"]]], "{:,}".format(s["datagrams_sent"]))
                    self.assertEqual(urow[ucol[UCOL["received"]]], "{:,}".format(c["datagrams_received"]))
                    self.assertEqual(urow[ucol[UCOL["loss"]]], "{:,.2f}".format(c["loss_pct"]))
                    if mode == "raw":   # raw UDP never resends: '-', not 0
                        self.assertEqual(urow[ucol[UCOL["resent"]]], "-")
                        self.assertEqual(urow[ucol[UCOL["loss_first"]]], "-")
                    else:
                        self.assertEqual(urow[ucol[UCOL["resent"]]], "{:,}".format(s["resent_datagrams"]))
                        self.assertEqual(urow[ucol[UCOL["loss_first"]]], "{:,.2f}".format(
                            100.0 * s["resent_datagrams"] / s["datagrams_expected"]))

    def test_failed_connection(self):
        text = section(self.md, test_heading("tcp", "stream", SIZES[0], 5))
        headers, rows = tables_in(text)[0]
        col = {h: i for i, h in enumerate(headers)}
        self.assertEqual([r[col[COL["success"]]] for r in rows], ["ok", "ok", "failed", "ok", "ok"])
        self.assertIn("hash mismatch", rows[2][col["Note"]])
        _, summary = table_after(text, "Summary")
        self.assertEqual(summary[0], ["Verified connections", "4/5"])
        label = self.label("tcp", "stream", SIZES[0], 5)
        test = next(t for t in self.result.tests if t.label == label)
        self.assertIn("1 busy", self.md)
        self.assertEqual((test.figures["verified"], test.figures["expected"]), (4, 5))

    def test_missing_client_log(self):
        label = self.label("udp", "raw", SIZES[1], 10)
        self.assertIn("No client log paired", self.md)
        test = next(t for t in self.result.tests if t.label == label)
        self.assertIsNone(test.figures["aggregate_client"])
        sconns = self.data[("udp", "raw", SIZES[1], 10)][0]
        expected = sum(c["bytes"] for c in sconns) / (max(c["last_byte_epoch"] for c in sconns)
                                                      - min(c["first_byte_epoch"] for c in sconns))
        self.assertAlmostEqual(test.figures["aggregate"], expected)
        # loss still known from the client reports the server logged
        self.assertIsNotNone(test.figures["loss_pct"])

    def test_summary_metrics(self):
        for (protocol, mode, size, n), (sconns, cconns) in self.data.items():
            text = section(self.md, test_heading(protocol, mode, size, n))
            headers, rows = table_after(text, "Summary")
            values = {r[0]: r[-1] for r in rows}
            for key, name in report.SUMMARY_METRICS:
                if protocol == "tcp" and key in ("loss_pct", "resent_pct", "loss_before_recovery_pct"):
                    self.assertNotIn(name, values)
                    continue
                if mode == "raw" and key in ("resent_pct", "loss_before_recovery_pct"):
                    self.assertNotIn(name, values)
                    continue
                self.assertIn(name, values)
            wire = sum(c["bytes"] + c.get("resent_datagrams", 0) * (c.get("chunk_size", 12) - 12) for c in sconns)
            self.assertEqual(values["Total bytes sent by server (on the wire)"].lstrip("~"), "{:,}".format(wire))
            self.assertEqual(values["Mean server time (ms)"],
                             "{:,.1f}".format(statistics.mean(c["time_ms"] for c in sconns)))
            self.assertEqual(values["Mean server rate (MB/s)"],
                             "{:,.2f}".format(statistics.mean(c["rate_bytes_per_s"] for c in sconns) / 1e6))
            if cconns:
                self.assertEqual(values["Total bytes received by clients"],
                                 "{:,}".format(sum(c["bytes"] for c in cconns)))
                self.assertEqual(values["Mean client time (ms)"],
                                 "{:,.1f}".format(statistics.mean(c["time_ms"] for c in cconns)))
                self.assertEqual(values["Mean client rate (MB/s)"],
                                 "{:,.2f}".format(statistics.mean(c["rate_bytes_per_s"] for c in cconns) / 1e6))
                agg = sum(c["bytes"] for c in cconns) / (max(c["last_byte_epoch"] for c in cconns)
                                                         - min(c["first_byte_epoch"] for c in cconns))
                self.assertEqual(values["Aggregate throughput, clients (MB/s)"], "{:,.2f}".format(agg / 1e6))

    def test_global_table(self):
        headers, rows = table_after(self.md, "Global analysis", "##")
        for col in report.GLOBAL_COLUMNS:
            self.assertIn(col, headers)
        self.assertIn("Per-client / SHA-256", headers)
        self.assertEqual(len(rows), 18)
        col = {h: i for i, h in enumerate(headers)}
        for row in rows:
            key = next(k for k in self.data if row[col["Protocol / mode"]] == report.protocol_label(k[0], k[1])
                       and row[col["File"]] == report.size_label(k[2]) and row[col["Clients"]] == str(k[3]))
            sconns, cconns = self.data[key]
            rates = [c["rate_bytes_per_s"] for c in (cconns or sconns)]
            self.assertEqual(row[col["Median per-client rate (MB/s)"]], "{:,.2f}".format(statistics.median(rates) / 1e6))
            self.assertEqual(row[col["Per-client / SHA-256"]], "x{:.2f}".format(statistics.median(rates) / 1e9))
            if key[0] == "tcp":
                self.assertEqual(row[col["Loss (%)"]], "-")
            else:
                self.assertNotEqual(row[col["Loss (%)"]], "-")

    def test_comparisons_computed(self):
        def pc(key):
            sconns, cconns = self.data[key]
            return statistics.median(c["rate_bytes_per_s"] for c in (cconns or sconns))
        a, b = pc(("tcp", "stream", SIZES[0], 1)), pc(("tcp", "stream", SIZES[0], 10))
        sentence = next(l for l in self.md.splitlines() if l.startswith("- TCP, 2 MiB: median per-client rate"))
        self.assertIn("x{:.2f}".format(b / a), sentence)
        self.assertIn("falls" if b < a else "rises", sentence)
        # protocols side by side, same test
        t = pc(("tcp", "stream", SIZES[0], 5))
        u = pc(("udp", "reliable", SIZES[0], 5))
        sentence = next(l for l in self.md.splitlines()
                        if l.startswith("- 2 MiB, 5 clients: aggregate rate"))
        self.assertIn("UDP reliable {:,.2f} MB/s (x{:.2f} of TCP)".format(u / 1e6, u / t), sentence)
        # file sizes
        self.assertTrue(any(l.startswith("- TCP, 1 client: 5 MiB vs 2 MiB (file x2.50)") for l in self.md.splitlines()))
        total = sum(len(s) for s, _ in self.data.values())
        self.assertIn("1 of {} connections were not verified".format(total), self.md)

    def test_csv_matches_logs(self):
        with open(str(self.result.csv), newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        self.assertEqual(tuple(rows[0].keys()), report.CSV_FIELDS)
        self.assertEqual(len(rows), sum(len(s) for s, _ in self.data.values()))
        by_port = {(r["protocol"], r["mode"], int(r["client_port"])): r for r in rows}
        for (protocol, mode, size, n), (sconns, cconns) in self.data.items():
            cmap = {c["client_port"]: c for c in cconns}
            for s in sconns:
                r = by_port[(protocol, mode, s["client_port"])]
                self.assertEqual(r["test"], self.label(protocol, mode, size, n))
                self.assertEqual(int(r["server_bytes"]), s["bytes"])
                self.assertEqual(float(r["server_time_ms"]), s["time_ms"])
                self.assertEqual(int(r["server_port"]), s["server_port"])
                self.assertAlmostEqual(float(r["server_rate_bytes_per_s"]), s["rate_bytes_per_s"])
                c = cmap.get(s["client_port"])
                if c:
                    self.assertEqual(int(r["client_bytes"]), c["bytes"])
                    self.assertEqual(float(r["client_time_ms"]), c["time_ms"])
                    self.assertEqual(r["ok"], "yes" if c["ok"] else "no")
                else:
                    self.assertEqual(r["client_bytes"], "")
                if protocol == "udp":
                    self.assertEqual(float(r["loss_pct"]), s["loss_pct"])

    def test_extra_sections(self):
        self.assertIn("## Baseline", self.md)
        self.assertIn("1,000.00 MB/s", self.md)
        text = section(self.md, test_heading("tcp", "stream", SIZES[0], 1))
        self.assertIn("### Traffic capture", text)
        self.assertIn("tcp_retransmissions", self.md)
        self.assertIn("## Other captures", self.md)
        self.assertIn("### Unknown test", self.md)
        self.assertIn("## Notes", self.md)

    def test_no_warnings_on_clean_logs(self):
        self.assertEqual(self.warnings, [])


class ReportEdgeCasesTest(unittest.TestCase):
    """Repetitions, client-only logs, bad lines, port reuse, the CLI."""

    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="report-edge-"))

    def tearDown(self):
        shutil.rmtree(str(self.tmp), ignore_errors=True)

    def test_repetitions_use_median(self):
        logs = self.tmp / "logs"
        speeds = (1.0, 2.0, 4.0)
        runs = [make_test(logs, "tcp", "stream", SIZES[0], 5, 1700000000.0 + 10 * i, 30000 + 20 * i, speed=sp)
                for i, sp in enumerate(speeds)]
        result = report.build_report([logs], self.tmp / "out")
        self.assertEqual(len(result.tests), 1)
        test = result.tests[0]
        self.assertEqual(len(test.runs), 3)
        per_run = [statistics.median(c["rate_bytes_per_s"] for c in cc) for _, cc in runs]
        self.assertAlmostEqual(test.figures["per_client_median"], statistics.median(per_run))
        md = result.markdown.read_text("utf-8")
        headers, rows = table_after(md, "Summary")
        self.assertEqual(headers, ["Metric", "Run 1", "Run 2", "Run 3", "Median over runs"])
        self.assertEqual(rows[0], ["Verified connections", "5/5", "5/5", "5/5", "15/15 (all runs)"])
        self.assertIn("Run 3 of 3", md)

    def test_client_only_and_malformed(self):
        logs = self.tmp / "logs"
        _, cconns = make_test(logs, "udp", "reliable", SIZES[1], 2, 1700000000.0, 31000, server_log=False,
                              extra_client_lines=["{not json", "[1, 2]", ""])
        (logs / "tcp-server").mkdir(parents=True)
        (logs / "tcp-server" / "2020-01-01-00-00-00-log.jsonl").write_text('{"record": "summary"}\n', "utf-8")
        warnings = []
        result = report.build_report([logs], self.tmp / "out", warn=warnings.append)
        self.assertEqual([t.label for t in result.tests], ["UDP reliable, 5 MiB, 2 clients"])
        self.assertTrue(any("malformed" in w for w in warnings), warnings)
        self.assertTrue(any("no 'test' record" in w for w in warnings), warnings)
        md = result.markdown.read_text("utf-8")
        self.assertIn("Only client logs", md)
        self.assertIn("## Log problems", md)
        test = result.tests[0]
        self.assertAlmostEqual(test.figures["client_mean_time_ms"], statistics.mean(c["time_ms"] for c in cconns))
        ET.parse(str(result.html))

    def test_port_reuse_pairs_by_time(self):
        logs = self.tmp / "logs"
        # two 1-client runs whose client used the same port; a 2-client run with a colliding port too
        make_test(logs, "tcp", "stream", SIZES[0], 1, 1700000000.0, 40000, speed=1.0)
        make_test(logs, "tcp", "stream", SIZES[0], 1, 1700000100.0, 40000, speed=3.0)
        make_test(logs, "tcp", "stream", SIZES[1], 2, 1700000200.0, 40000, speed=2.0)
        runs = report.collect_runs([logs])
        self.assertEqual(len(runs), 3)
        for run in runs:
            self.assertEqual(len(run.client_logs), 1)
            self.assertAlmostEqual(run.client_logs[0].started_epoch, run.server.started_epoch + 0.2)
            for row in run.rows:
                self.assertIsNotNone(row.client)
                self.assertIsNotNone(row.server)

    def test_collision_names_found(self):
        logs = self.tmp / "logs"
        # same second twice: the programs name the second log ...-log-2.jsonl
        make_test(logs, "tcp", "stream", SIZES[0], 1, 1700000000.0, 40000)
        make_test(logs, "tcp", "stream", SIZES[0], 5, 1700000000.0, 40100)
        for folder in ("tcp-server", "tcp-client"):
            names = sorted(p.name for p in (logs / folder).iterdir())
            self.assertEqual(len(names), 2)
            self.assertTrue(any(n.endswith("-log-2.jsonl") for n in names), names)
        (logs / "tcp-server" / "notes.jsonl").write_text("{}\n", "utf-8")  # not a sidecar name
        found = report.find_logs([logs])
        self.assertEqual(len(found), 4)
        self.assertTrue(any(p.name.endswith("-log-2.jsonl") for p in found))
        result = report.build_report([logs], self.tmp / "out")
        self.assertEqual([t.clients for t in result.tests], [1, 5])

    def test_udp_session_port_pairs(self):
        logs = self.tmp / "logs"
        sconns, cconns = make_test(logs, "udp", "raw", SIZES[0], 3, 1700000000.0, 41000, drop_client=(2,))
        runs = report.collect_runs([logs])
        self.assertEqual(len(runs), 1)
        rows = runs[0].rows
        self.assertEqual(len(rows), 3)
        self.assertIsNone(rows[1].client)
        self.assertEqual(rows[2].client["server_port"], rows[2].server["server_port"])

    def test_empty_logs(self):
        result = report.build_report([], self.tmp / "out")
        self.assertEqual(result.tests, [])
        ET.parse(str(result.html))
        self.assertIn("No test found", result.markdown.read_text("utf-8"))

    def test_cli(self):
        logs = self.tmp / "logs"
        make_test(logs, "tcp", "stream", SIZES[0], 1, 1700000000.0, 40000)
        out = self.tmp / "cli-out"
        err, std = io.StringIO(), io.StringIO()
        with redirect_stderr(err), redirect_stdout(std):
            self.assertEqual(report.main([str(logs), "--out", str(out)]), 0)
        self.assertIn("report.md", std.getvalue())
        self.assertTrue((out / "report.html").is_file())
        err = io.StringIO()
        with redirect_stderr(err):
            self.assertEqual(report.main([str(self.tmp / "nope"), "--out", str(out)]), 2)
        self.assertEqual(len(err.getvalue().strip().splitlines()), 1)
        empty = self.tmp / "empty"
        empty.mkdir()
        err = io.StringIO()
        with redirect_stderr(err):
            self.assertEqual(report.main([str(empty), "--out", str(out)]), 2)
        self.assertIn("no *-log.jsonl", err.getvalue())

    def test_cli_as_process(self):
        import subprocess
        logs = self.tmp / "logs"
        make_test(logs, "udp", "raw", SIZES[0], 2, 1700000000.0, 40000)
        out = self.tmp / "proc-out"
        proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "report.py"), str(logs), "--out", str(out)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                              timeout=120, cwd=str(self.tmp))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertTrue((out / "connections.csv").is_file())


if __name__ == "__main__":
    unittest.main()
