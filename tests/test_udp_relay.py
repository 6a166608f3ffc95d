"""UDP through a lossy relay (tests/udp_relay.py), in-process: raw mode
reports exactly the chunks the relay dropped; reliable mode delivers files
identical to the source at 5% and 20% loss (with duplicates and reordering)
and finishes when END, REPORT or BYE datagrams are lost.

Run: python3 -m unittest tests.test_udp_relay -v
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.test_udp_transfer import UDPHarness  # noqa: E402
from tests.udp_relay import UDPRelay  # noqa: E402
from udp.packets import parse_ranges  # noqa: E402

RATE = 8 * 1000 * 1000   # bytes/s per client: well within what the Python relay forwards
ETHERNET = 1472          # --chunk-size that fills one 1,500-byte Ethernet frame (20 IP + 8 UDP)


def expand(text):
    return {seq for a, b in parse_ranges(text) for seq in range(a, b + 1)}


class RelayCase(UDPHarness, unittest.TestCase):

    def setUp(self):
        self.make_lab()

    def through_relay(self, clients, server_settings, client_settings, chunk_size=16384, **relay_settings):
        server = self.start_server(clients, rate=RATE, chunk_size=chunk_size, **server_settings)
        relay = UDPRelay(("127.0.0.1", server.port), **relay_settings)
        self.addCleanup(relay.close)
        result = self.run_clients(relay.port, clients, **client_settings)
        outcome = self.wait_server()
        return relay, result, outcome

    # -- raw -----------------------------------------------------------------------------------
    def test_raw_reports_exactly_the_dropped_chunks(self):
        relay, result, outcome = self.through_relay(3, {}, {}, loss=0.05, duplicate=0.03, reorder=0.05, seed=11)
        dropped_total = 0
        for rec in result.records:
            dropped = relay.dropped_data.get(rec.client_port, set())
            dropped_total += len(dropped)
            self.assertEqual(rec.extra["missing"], len(dropped), rec.reason)
            self.assertEqual(expand(rec.extra.get("missing_ranges", "")), dropped)
            self.assertEqual(rec.ok, not dropped)
            expected = rec.extra["datagrams_expected"]
            self.assertEqual(rec.extra["loss_pct"], round(100.0 * len(dropped) / expected, 4))
        self.assertGreater(dropped_total, 0, "the seed should drop some data")
        self.assertEqual(len(self.final_files()), sum(1 for r in result.records if r.ok))
        self.assertEqual(list(self.received.glob("*.part")), [])
        # the server logs each client's report, with the same missing count
        reports = {c["client_port"]: c for c in self.sidecar("server") if c["record"] == "connection"}
        self.assertEqual(len(reports), 3)
        for conn in reports.values():
            self.assertIsNotNone(conn["client_report"])

    def test_raw_lost_last_datagram_and_every_end(self):
        size = self.SIZE
        chunk = 16384 - 12
        last = (size + chunk - 1) // chunk - 1
        relay, result, outcome = self.through_relay(1, {}, {"idle_timeout": 1.0}, drop_seqs={last, 3},
                                                    drop_verbs={"END": None})
        rec = result.records[0]
        self.assertFalse(rec.ok)
        self.assertEqual(rec.extra["missing"], 2)
        self.assertEqual(expand(rec.extra["missing_ranges"]), {3, last})
        self.assertIn("no datagram from the server for 1 s", rec.reason)
        self.assertEqual(rec.bytes, size - chunk - (size - last * chunk))
        self.assertEqual(self.final_files(), [])
        self.assertGreaterEqual(relay.dropped_verbs.get("END", 0), 1)
        server_rec = outcome.records[0]
        self.assertEqual(server_rec.extra["client_report"]["missing"], 2)

    # -- reliable ------------------------------------------------------------------------------
    def reliable(self, clients, chunk_size=16384, **relay_settings):
        relay, result, outcome = self.through_relay(clients, {"reliable": True, "timeout": 10.0},
                                                    {"reliable": True, "idle_timeout": 5.0}, chunk_size,
                                                    **relay_settings)
        self.assert_all_verified(result, clients)
        self.assertTrue(outcome.ok, [r.reason for r in outcome.records])
        return relay, result, outcome

    def test_reliable_at_5_percent_loss(self):
        relay, result, outcome = self.reliable(2, loss=0.05, duplicate=0.02, reorder=0.05, seed=5)
        self.assertGreater(sum(len(s) for s in relay.dropped_data.values()), 0)
        self.assertGreater(sum(r.extra["resent_datagrams"] for r in outcome.records), 0)

    def test_reliable_at_20_percent_loss(self):
        relay, result, outcome = self.reliable(2, loss=0.20, duplicate=0.05, reorder=0.10, seed=9)
        for rec in outcome.records:
            self.assertGreater(rec.extra["resent_datagrams"], 0)
            self.assertIn("delivery_ms", rec.extra)

    # -- 1,472-byte datagrams: one per Ethernet frame (MTU 1,500) ----------------------------------
    def test_reliable_at_5_percent_loss_ethernet_datagrams(self):
        relay, result, outcome = self.reliable(2, chunk_size=ETHERNET, loss=0.05, duplicate=0.02, reorder=0.05,
                                               seed=15)
        self.assertGreater(sum(len(s) for s in relay.dropped_data.values()), 0)
        for rec in result.records:
            self.assertEqual(rec.extra["chunk_size"], ETHERNET)
            self.assertGreater(rec.extra["datagrams_expected"], 1000)
        self.assertGreater(sum(r.extra["resent_datagrams"] for r in outcome.records), 0)

    def test_reliable_at_20_percent_loss_ethernet_datagrams(self):
        relay, result, outcome = self.reliable(2, chunk_size=ETHERNET, loss=0.20, duplicate=0.05, reorder=0.10,
                                               seed=19)
        for rec in outcome.records:
            self.assertGreater(rec.extra["resent_datagrams"], 0)

    def test_raw_ethernet_datagrams_report_exactly_the_dropped_chunks(self):
        relay, result, outcome = self.through_relay(2, {}, {}, chunk_size=ETHERNET, loss=0.05, reorder=0.05,
                                                    seed=23)
        for rec in result.records:
            dropped = relay.dropped_data.get(rec.client_port, set())
            self.assertEqual(expand(rec.extra.get("missing_ranges", "")), dropped)
            self.assertEqual(rec.extra["missing"], len(dropped))

    def test_reliable_lost_end_report_and_bye(self):
        chunk = 16384 - 12
        last = (self.SIZE + chunk - 1) // chunk - 1
        relay, result, outcome = self.reliable(1, drop_seqs={last}, drop_verbs={"END": 3, "REPORT": 2, "BYE": 2})
        self.assertEqual(relay.dropped_verbs, {"END": 3, "REPORT": 2, "BYE": 2})
        self.assertEqual(result.records[0].extra["server_verdict"], "ok")

    def test_reliable_every_bye_lost(self):
        relay, result, outcome = self.reliable(1, drop_verbs={"BYE": None})
        self.assertEqual(result.records[0].extra["server_verdict"], "no BYE")

    def test_reliable_every_report_lost(self):
        relay, result, outcome = self.through_relay(1, {"reliable": True, "idle_timeout": 2.0},
                                                    {"reliable": True}, drop_verbs={"REPORT": None})
        self.assert_all_verified(result, 1)  # the client's file is complete and verified
        self.assertEqual(result.records[0].extra["server_verdict"], "no BYE")
        self.assertFalse(outcome.ok)
        self.assertIn("no REPORT", outcome.records[0].reason)


if __name__ == "__main__":
    unittest.main()
