"""README.md and docs/ promise only what the code does: every flag README
names exists, every link resolves, the standard files' hashes and the log
fields are the real ones, the report path is the benchmark's."""

import re
import unittest
from unittest import mock

from tests import procs
from transfer import catalog, netinfo
from transfer.paths import PROJECT_ROOT

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
DOCS = sorted((PROJECT_ROOT / "docs").glob("*.md")) if (PROJECT_ROOT / "docs").is_dir() else []
PROGRAMS = ("tcp/server.py", "tcp/client.py", "udp/server.py", "udp/client.py", "scripts/benchmark.py",
            "scripts/report.py", "scripts/clean.py", "scripts/pcap.py", "scripts/capture.py", "scripts/netlab.py",
            "scripts/loadtest.py load", "scripts/loadtest.py soak", "scripts/baselines.py",
            "scripts/refudp.py serve", "scripts/refudp.py receive")


def help_flags():
    """{program: set of --flags its --help shows}."""
    flags = {}
    for program in PROGRAMS:
        path, *command = program.split()
        done = procs.run([procs.PYTHON, str(PROJECT_ROOT / path)] + command + ["--help"], timeout=60)
        flags[program] = set(re.findall(r"--[a-z][a-z0-9-]*", done.stdout))
    return flags


class Readme(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.flags = help_flags()

    def test_every_flag_named_exists(self):
        known = set().union(*self.flags.values())
        named = set(re.findall(r"`[^`]*?(--[a-z][a-z0-9-]*)", README))
        for text in [README] + [path.read_text(encoding="utf-8") for path in DOCS]:
            named |= {f for f in re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", text)}
        named -= {"--version"}             # `py --version` in LAB-SETUP.md is Python's own
        self.assertFalse(named - known, "flags in the docs that no program has")

    def test_the_flags_table_row_by_row(self):
        rows = {"both servers": ("tcp/server.py", "udp/server.py"),
                "both clients": ("tcp/client.py", "udp/client.py"),
                "TCP server, also": ("tcp/server.py",),
                "UDP server, also": ("udp/server.py",), "UDP client, also": ("udp/client.py",)}
        documented = {}
        for label, programs in rows.items():
            line = next(l for l in README.splitlines() if l.startswith("| {} |".format(label)))
            for flag in re.findall(r"--[a-z][a-z0-9-]*", line):
                for program in programs:
                    self.assertIn(flag, self.flags[program], "{} in row {!r}".format(flag, label))
                    documented.setdefault(program, set()).add(flag)
        # and every flag a program has is in one of its rows (but --help)
        for program, flags in documented.items():
            self.assertEqual(self.flags[program] - {"--help"} - flags, set(), program)

    def test_links_resolve(self):
        for path in [PROJECT_ROOT / "README.md"] + DOCS:
            text = path.read_text(encoding="utf-8")
            for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text):
                if target in ("SECURITY.md",) and not (path.parent / target).exists():
                    continue  # written by helper tcpsec; merged at the end
                self.assertTrue((path.parent / target).exists(), "{} links to missing {}".format(path.name, target))

    def test_report_path(self):
        self.assertIn("`Logs/benchmark-<date>/report/report.html`", README)
        self.assertNotIn("benchmark-<date>/report.html", README)
        self.assertIn("Logs/benchmark-", procs.run([procs.PYTHON, str(PROJECT_ROOT / "scripts" / "benchmark.py"),
                                                    "--help"], timeout=60).stdout)
        source = (PROJECT_ROOT / "scripts" / "benchmark.py").read_text(encoding="utf-8")
        self.assertIn('run_dir / "report"', source)   # tests/test_benchmark.py checks report/report.html

    def test_standard_files_table(self):
        for name, (size, sha256) in catalog.STANDARD_FILES.items():
            self.assertRegex(README, r"\| `{}` \| {:,} \| `{}` \|".format(re.escape(name), size, sha256))

    def test_address_example(self):
        with mock.patch.object(netinfo, "local_ipv4_addresses", return_value=[("enp0s3", "192.168.0.15")]):
            self.assertEqual(netinfo.listening_addresses("0.0.0.0", 5001), ["192.168.0.15:5001 (enp0s3)"])
        self.assertIn("`192.168.0.15:5001 (enp0s3)`", README)
        self.assertIn("`[::1]:5001`", README)

    def test_no_placeholder_left(self):
        self.assertNotIn("<!--", README)
        for section in ("## Measured performance", "## UDP on real links", "## Wireshark",
                        "docs/SECURITY.md", "report.pdf", "--lang es"):
            self.assertIn(section, README)

    def test_windows_launcher_and_cleaning_documented(self):
        self.assertIn("`py tcp\\client.py --host 192.168.0.15`", README)
        self.assertIn("python3 scripts/clean.py", README)
        self.assertIn("--session-ports 5003-5102", README)


class LogFields(unittest.TestCase):
    """The field names README's log table gives are in a real log (one small TCP test)."""

    def test_fields(self):
        lab = procs.Lab(prefix="docs-", size=64 * 1024)
        self.addCleanup(lab.close)
        server, port = procs.start_server(lab, "tcp", clients=1)
        self.addCleanup(server.stop)
        status, _out, err = procs.run_client(lab, "tcp", port, 1, timeout=60)
        self.assertEqual(status, 0, err)
        self.assertEqual(procs.finish(server, 30)[0], 0)
        table = {}
        for line in README.splitlines():
            match = re.match(r"\| `(test|connection|event|summary)`[^|]*\| (.*) \|$", line)
            if match:
                table[match.group(1)] = match.group(2)
        self.assertEqual(set(table), {"test", "connection", "event", "summary"})
        for role in ("server", "client"):
            records = lab.records("tcp", role)
            for kind in ("test", "connection", "summary"):
                keys = set(next(r for r in records if r["record"] == kind))
                # the first backticked word of each comma-separated item is a field name
                named = re.findall(r"(?:^|, )`([a-z_0-9]+)`",
                                   re.sub(r"\([^)]*\)", "", table[kind].partition("UDP adds")[0]))
                named = [n for n in named if n not in ("busy",)]   # only for clients turned away
                self.assertTrue(named)
                self.assertFalse(set(named) - keys, "{} {} record lacks {}".format(role, kind, set(named) - keys))

    @unittest.skipUnless(procs.have_udp(), procs.UDP_SKIP)
    def test_udp_fields(self):
        lab = procs.Lab(prefix="docs-udp-", size=64 * 1024)
        self.addCleanup(lab.close)
        server, port = procs.start_server(lab, "udp", clients=1)
        self.addCleanup(server.stop)
        status, _out, err = procs.run_client(lab, "udp", port, 1, extra=["--timeout", "10"], timeout=60)
        self.assertEqual(status, 0, err)
        self.assertEqual(procs.finish(server, 30)[0], 0)
        line = next(l for l in README.splitlines() if l.startswith("| `connection`"))
        named = re.findall(r"`([a-z_0-9]+)`", line.partition("UDP adds")[2])
        self.assertIn("datagrams_received", named)
        keys = set()
        for role in ("server", "client"):
            keys |= set(next(r for r in lab.records("udp", role) if r["record"] == "connection"))
        self.assertFalse(set(named) - keys)


if __name__ == "__main__":
    unittest.main()
