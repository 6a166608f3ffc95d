"""report.pdf from a real quick benchmark (Chromium where present) and the Spanish report
(issues 12 and 13).  Skips with a reason where the browser or the programs are missing."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path
from unittest import mock

from scripts import benchmark, report
from tests.test_benchmark import BENCHMARK, available_protocols
from tests.test_report import SIZES, make_test

E2E_TIMEOUT = 600


def _run_quick(out, env_lang=None, extra=()):
    env = dict(os.environ)
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        env.pop(name, None)
    if env_lang:
        env["LANG"] = env_lang
    return subprocess.run([sys.executable, str(BENCHMARK), "--quick", "--out", str(out),
                           "--protocols", ",".join(available_protocols())] + list(extra),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                          universal_newlines=True, timeout=E2E_TIMEOUT, env=env)


def _headings(md):
    return [l.lstrip("#").strip() for l in md.splitlines() if l.startswith("#")]


class NoBrowserTest(unittest.TestCase):
    """Without Chromium: one line says how to get the PDF; --no-pdf skips it."""

    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="report-nopdf-"))
        make_test(self.tmp / "logs", "tcp", "stream", SIZES[0], 1, 1700000000.0, 30000)

    def tearDown(self):
        shutil.rmtree(str(self.tmp), ignore_errors=True)

    def test_hint_without_browser(self):
        with mock.patch.object(report, "find_browser", return_value=None):
            result = report.build_report([self.tmp / "logs"], self.tmp / "out", pdf=True)
        self.assertIsNone(result.pdf)
        self.assertEqual(len(result.pdf_note.splitlines()), 1)
        self.assertIn("install chromium", result.pdf_note)
        self.assertIn("report.html", result.pdf_note)
        self.assertFalse((self.tmp / "out" / "report.pdf").exists())

    def test_no_pdf_flag(self):
        called = []
        with mock.patch.object(report, "write_pdf", side_effect=lambda *a, **k: called.append(a)):
            with open(os.devnull, "w") as null:
                import contextlib
                with contextlib.redirect_stdout(null), contextlib.redirect_stderr(null):
                    self.assertEqual(report.main([str(self.tmp / "logs"), "--out", str(self.tmp / "o"),
                                                  "--no-pdf"]), 0)
        self.assertEqual(called, [])
        self.assertTrue(benchmark.build_parser().parse_args(["--no-pdf"]).no_pdf)

    def test_browser_failure_is_one_line(self):
        fake = self.tmp / "chromium"
        fake.write_text("#!/bin/sh\necho 'cannot open display' >&2\nexit 3\n", "utf-8")
        fake.chmod(0o755)
        result = report.build_report([self.tmp / "logs"], self.tmp / "out", pdf=True, browser=str(fake))
        self.assertIsNone(result.pdf)
        self.assertIn("exited 3", result.pdf_note)
        self.assertEqual(len(result.pdf_note.splitlines()), 1)


@unittest.skipUnless(available_protocols(), "no tcp/udp server+client programs in this checkout")
@unittest.skipUnless(report.find_browser(), "no chromium or chrome on the PATH (apt-get install chromium)")
class QuickPdfTest(unittest.TestCase):
    """benchmark.py --quick writes report.pdf: >= 3 pages, the global table, every test heading."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = Path(tempfile.mkdtemp(prefix="report-pdf-"))
        cls.proc = _run_quick(cls.tmp / "run", extra=["--lang", "en", "--no-baseline"])
        cls.pdf = cls.tmp / "run" / "report" / "report.pdf"

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(str(cls.tmp), ignore_errors=True)

    def test_pdf_written_and_printed(self):
        self.assertEqual(self.proc.returncode, 0, self.proc.stderr[-2000:])
        self.assertTrue(self.pdf.is_file(), self.proc.stderr[-2000:])
        self.assertIn(str(self.pdf), self.proc.stdout.split())
        self.assertTrue(self.pdf.read_bytes().startswith(b"%PDF"))

    def test_pages_and_text(self):
        data = self.pdf.read_bytes()
        pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
        if shutil.which("pdfinfo"):
            info = subprocess.run(["pdfinfo", str(self.pdf)], stdout=subprocess.PIPE, universal_newlines=True,
                                  timeout=60).stdout
            pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
        self.assertGreaterEqual(pages, 3)
        if not shutil.which("pdftotext"):
            self.skipTest("pdftotext missing (apt-get install poppler-utils): text not checked")
        text = subprocess.run(["pdftotext", "-layout", str(self.pdf), "-"], stdout=subprocess.PIPE,
                              universal_newlines=True, timeout=60).stdout
        self.assertIn("Global analysis", text)
        self.assertIn("Median per-client rate", text)   # the global table's header
        md = (self.tmp / "run" / "report" / "report.md").read_text("utf-8")
        tests = [h for h in _headings(md) if re.match(r"(TCP|UDP raw|UDP reliable) - Test \d+: ", h)]
        self.assertEqual(len(tests), len(available_protocols()) * len(benchmark.QUICK_FILES)
                         * len(benchmark.QUICK_CLIENTS))
        flat = " ".join(text.split())
        for heading in tests:
            self.assertIn(heading, flat)
        self.assertNotIn("file://", text)                 # no browser header or footer
        self.assertRegex(text, r"\b1 / {}\b".format(pages))   # running page numbers


@unittest.skipUnless(available_protocols(), "no tcp/udp server+client programs in this checkout")
class SpanishQuickTest(unittest.TestCase):
    """LANG=es_CO.UTF-8 benchmark.py --quick: a report with no English heading."""

    def test_spanish_report(self):
        tmp = Path(tempfile.mkdtemp(prefix="report-es-"))
        self.addCleanup(shutil.rmtree, str(tmp), True)
        proc = _run_quick(tmp / "run", env_lang="es_CO.UTF-8", extra=["--no-pdf"])
        self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
        md = (tmp / "run" / "report" / "report.md").read_text("utf-8")
        headings = _headings(md)
        english = re.compile(r"\b(Test|Connections|Summary|Analysis|Global|Charts|Contents|Method|Machines|"
                             r"Baseline|Notes|Benchmark runs|clients?|What the numbers)\b")
        self.assertEqual([h for h in headings if english.search(h)], [])
        self.assertIn("Análisis global", headings)
        self.assertTrue(any(h.startswith("TCP - Prueba 1: ") for h in headings), headings)
        self.assertIn("exitosa", md)


if __name__ == "__main__":
    unittest.main()
