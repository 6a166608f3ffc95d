"""Small load and soak runs for CI (the long ones are scripts/loadtest.py).

* 25 clients x 2 MiB through one TCP server process (and UDP reliable when
  udp/ works): every file verified, both logs agree.
* 5 consecutive tests on ONE server process (menu driven through stdin):
  after each, the server's threads and open file descriptors come back to
  their level after the first test, and RSS does not keep growing (Linux
  /proc; skipped elsewhere).

Run: python3 -m unittest tests.test_soak_small -v
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests import procs  # noqa: E402

SMALL = 2 * 1024 * 1024 + 3


class SmallLoad:
    PROTOCOL = "tcp"
    SERVER_FLAGS = ()
    CLIENT_FLAGS = ()

    def setUp(self):
        self.lab = procs.Lab(prefix="soak-")
        self.addCleanup(self.lab.close)
        self.path = self.lab.make_file("small.bin", SMALL)
        self.sha = procs.sha256_of(self.path)

    def test_25_clients(self):
        server, port = procs.start_server(self.lab, self.PROTOCOL, file="small.bin", clients=25,
                                          extra=["--timeout", "20"] + list(self.SERVER_FLAGS))
        self.addCleanup(server.stop)
        status, _, err = procs.run_client(self.lab, self.PROTOCOL, port, 25,
                                          extra=["--quiet", "--timeout", "20"] + list(self.CLIENT_FLAGS),
                                          timeout=180)
        self.assertEqual(status, 0, err[-1500:])
        self.assertEqual(server.wait(60), 0, server.stderr()[-1500:])
        for k in range(1, 26):
            self.assertEqual(procs.sha256_of(self.lab.recv / "Cliente{}-Prueba-25.txt".format(k)), self.sha)
        server_log = self.lab.logs_of(self.PROTOCOL, "server")[0]
        client_log = self.lab.logs_of(self.PROTOCOL, "client")[0]
        for log in (server_log, client_log):
            summary = procs.records_of(log, "summary")[0]
            self.assertTrue(summary["ok"])
            self.assertEqual(summary["verified"], 25)
        # the pairing rule of README.md ("Logs"): the same (client_ip, client_port) on both sides
        pairs = lambda log: {(r["client_ip"], r["client_port"]) for r in procs.records_of(log, "connection")}  # noqa
        self.assertEqual(pairs(server_log), pairs(client_log))


class TCPSmallLoad(SmallLoad, unittest.TestCase):
    pass


@unittest.skipUnless(procs.have_udp(), procs.UDP_SKIP)
class UDPReliableSmallLoad(SmallLoad, unittest.TestCase):
    PROTOCOL = "udp"
    SERVER_FLAGS = ("--reliable", "--rate", "50M")
    CLIENT_FLAGS = ("--reliable",)


class SmallSoak:
    PROTOCOL = "tcp-key"

    def test_five_consecutive_tests_no_leak(self):
        from scripts.loadtest import soak_run
        lab = procs.Lab(prefix="soak5-")
        self.addCleanup(lab.close)
        lab.make_file("small.bin", SMALL)
        lines = []
        ok, rows, report = soak_run(self.PROTOCOL, str(lab.files), "small.bin", tests=5, clients=5,
                                    work=str(lab.root), timeout=20.0, run_timeout=180.0, out=lines.append,
                                    rss_slack_kb=32 * 1024)
        self.assertEqual(len(rows), 5, "\n".join(lines))
        self.assertTrue(all(r["ok"] for r in rows), "\n".join(lines))
        self.assertEqual(report["leaky_tests"], [], "\n".join(lines))
        self.assertFalse(report["rss_grew"], "\n".join(lines))
        self.assertTrue(ok, "\n".join(lines))
        self.assertEqual(report["server_status"], 0)


@unittest.skipUnless(procs.have_proc(), "needs Linux /proc")
class TCPSmallSoak(SmallSoak, unittest.TestCase):
    PROTOCOL = "tcp"


@unittest.skipUnless(procs.have_proc(), "needs Linux /proc")
@unittest.skipUnless(procs.have_udp(), procs.UDP_SKIP)
class UDPReliableSmallSoak(SmallSoak, unittest.TestCase):
    PROTOCOL = "udp-reliable"


if __name__ == "__main__":
    unittest.main()
