"""Tests for scripts/pcap.py: synthetic captures built byte by byte, corrupt files, a real capture."""
from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import socket
import struct
import sys
import tempfile
import threading
import time
import unittest

from scripts import pcap
from scripts.pcap import PcapError, PcapReader, analyze, summarize

BASE_TS = 1700000000

# ---------------------------------------------------------------------------
# Frame builders


def ipv4(src, dst, proto, l4, ident=1, frag=0x4000, total=None):
    """IPv4 header + l4 bytes; `total` overrides the total length (for fragments)."""
    tot = total if total is not None else 20 + len(l4)
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, tot, ident, frag, 64, proto, 0,
                       socket.inet_aton(src), socket.inet_aton(dst)) + l4


def ipv6(src, dst, next_header, rest):
    """IPv6 header + rest (extension headers and transport)."""
    return struct.pack("!IHBB16s16s", 6 << 28, len(rest), next_header, 64,
                       socket.inet_pton(socket.AF_INET6, src),
                       socket.inet_pton(socket.AF_INET6, dst)) + rest


def tcp(sport, dport, seq, ack, flags, payload=b""):
    """TCP header (no options) + payload."""
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload


def udp(sport, dport, payload, length=None):
    """UDP header + payload."""
    return struct.pack("!HHHH", sport, dport, length or 8 + len(payload), 0) + payload


def eth(l3, ethertype=0x0800):
    """Ethernet II header + l3."""
    return b"\x02\x00\x00\x00\x00\x01" + b"\x02\x00\x00\x00\x00\x02" + struct.pack("!H", ethertype) + l3


def sll(l3, ethertype=0x0800):
    """Linux cooked v1 header (16 bytes) + l3."""
    return struct.pack("!HHH8sH", 0, 772, 6, b"\0" * 8, ethertype) + l3


def sll2(l3, ethertype=0x0800):
    """Linux cooked v2 header (20 bytes) + l3."""
    return struct.pack("!HHIHBB8s", ethertype, 0, 1, 772, 0, 6, b"\0" * 8) + l3


def pcap_bytes(linktype, frames, endian="<", nano=False, snaplen=65535):
    """A classic pcap file; frames are (index, frame bytes) and are cut to snaplen."""
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    out = [struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)]
    for i, frame in frames:
        cap = frame[:snaplen]
        frac = i * (1000000 if nano else 1000)
        out.append(struct.pack(endian + "IIII", BASE_TS, frac, len(cap), len(frame)) + cap)
    return b"".join(out)


def ng_block(btype, body, endian="<"):
    """One pcapng block with padding and both lengths."""
    body = body + b"\0" * (-len(body) % 4)
    n = len(body) + 12
    return struct.pack(endian + "II", btype, n) + body + struct.pack(endian + "I", n)


def ng_option(code, value, endian="<"):
    """One pcapng option, padded."""
    return struct.pack(endian + "HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def pcapng_bytes(endian="<"):
    """SHB, two interfaces (EN10MB in ns, LINUX_SLL in us), EPBs, an NRB, an SPB."""
    e = endian
    shb = ng_block(0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1), e)
    idb0 = ng_block(1, struct.pack(e + "HHI", 1, 0, 96) + ng_option(9, b"\x09", e)
                    + ng_option(0, b"", e), e)
    idb1 = ng_block(1, struct.pack(e + "HHI", 113, 0, 0), e)
    blocks = [shb, idb0, idb1]

    def epb(ifid, ts_units, frame, snap=None):
        cap = frame[:snap] if snap else frame
        return ng_block(6, struct.pack(e + "IIIII", ifid, ts_units >> 32, ts_units & 0xFFFFFFFF,
                                       len(cap), len(frame)) + cap, e)

    c, s = "10.1.0.2", "10.1.0.1"
    blocks.append(epb(0, BASE_TS * 10 ** 9, eth(ipv4(c, s, 6, tcp(41000, 5001, 7, 0, 0x02)))))
    blocks.append(epb(0, BASE_TS * 10 ** 9 + 5,
                      eth(ipv4(c, s, 6, tcp(41000, 5001, 8, 1, 0x18, b"a" * 300))), snap=96))
    blocks.append(ng_block(4, b"\0" * 8, e))          # name resolution block: skipped
    blocks.append(epb(1, BASE_TS * 10 ** 6 + 7,
                      sll(ipv4(s, c, 6, tcp(5001, 41000, 99, 308, 0x10, b"b" * 20)))))
    spb_frame = eth(ipv4(c, s, 17, udp(41001, 5002, b"u" * 40)))
    blocks.append(ng_block(3, struct.pack(e + "I", len(spb_frame)) + spb_frame, e))
    return b"".join(blocks)


def scenario_frames():
    """The main Ethernet scenario (see EXPECTED_*)."""
    c, s = "10.0.0.2", "10.0.0.1"
    f = []

    def c2s(seq, flags, payload=b"", ack=5001):
        f.append(eth(ipv4(c, s, 6, tcp(40000, 5001, seq, ack, flags, payload))))

    def s2c(seq, flags, payload=b"", ack=1001):
        f.append(eth(ipv4(s, c, 6, tcp(5001, 40000, seq, ack, flags, payload))))

    c2s(1000, 0x02, ack=0)                 # SYN
    s2c(5000, 0x12)                        # SYN-ACK
    c2s(1001, 0x10)                        # ACK
    c2s(1001, 0x18, b"x" * 100)
    c2s(1101, 0x18, b"y" * 100)
    c2s(1101, 0x18, b"y" * 100)            # retransmission
    s2c(5001, 0x18, b"z" * 50, ack=1201)
    c2s(1201, 0x10, b"w" * 1460)           # cut to the snaplen in the file
    c2s(2661, 0x11)                        # FIN
    s2c(5051, 0x11, ack=2662)              # FIN
    c2s(2662, 0x10, ack=5052)
    # IPv6 UDP with a hop-by-hop options header (8 bytes: next=17, len 0, PadN)
    hbh = bytes([17, 0, 1, 4, 0, 0, 0, 0])
    f.append(eth(ipv6("fd00::2", "fd00::1", 0, hbh + udp(40001, 5002, b"q" * 30)), 0x86DD))
    # a 3000-byte UDP datagram in three IPv4 fragments, the second one captured first
    data = udp(40002, 5002, b"d" * 3000)   # 3008 bytes of IP payload
    frag1 = eth(ipv4(c, s, 17, data[:1480], ident=777, frag=0x2000))
    frag2 = eth(ipv4(c, s, 17, data[1480:2960], ident=777, frag=0x2000 | (1480 // 8)))
    frag3 = eth(ipv4(c, s, 17, data[2960:], ident=777, frag=2960 // 8))
    f += [frag2, frag1, frag3]
    f.append(eth(ipv4(s, c, 17, udp(5002, 40002, b"r" * 10))))
    f.append(eth(b"\0" * 28, 0x0806))      # ARP: not IP
    f.append(b"\x01" * 10)                 # shorter than an Ethernet header
    return list(enumerate(f))


EXPECTED_TCP_C2S = {"frames": 8, "wire_bytes": 54 * 4 + 154 * 3 + 1514, "payload_bytes": 1760,
                    "fragments": 0, "syn": 1, "fin": 1, "rst": 0, "retransmissions": 1,
                    "retransmitted_bytes": 100}
EXPECTED_TCP_S2C = {"frames": 3, "wire_bytes": 54 + 104 + 54, "payload_bytes": 50,
                    "fragments": 0, "syn": 1, "fin": 1, "rst": 0, "retransmissions": 0,
                    "retransmitted_bytes": 0}
EXPECTED_FRAG_C2S = {"frames": 3, "wire_bytes": 1514 + 1514 + 82, "payload_bytes": 3000,
                     "fragments": 3, "datagrams": 1}
EXPECTED_FRAG_S2C = {"frames": 1, "wire_bytes": 52, "payload_bytes": 10, "fragments": 0,
                     "datagrams": 1}
EXPECTED_V6_C2S = {"frames": 1, "wire_bytes": 100, "payload_bytes": 30, "fragments": 0,
                   "datagrams": 1}


class TempDirMixin:
    """A temporary directory per test and a helper to write files there."""

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="test_pcap_")
        self.tmp = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()

    def write(self, name, data):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        return path


def by_server(rows, port, proto=None):
    """Rows whose server port is `port` (and proto)."""
    return [r for r in rows if r["server_port"] == port and (proto is None or r["proto"] == proto)]


class SummaryTests(TempDirMixin, unittest.TestCase):
    """Exact numbers on the synthetic scenario."""

    def check_scenario(self, path, ports=(5001, 5002)):
        result = analyze(path, ports=list(ports))
        rows = result["connections"]
        self.assertEqual(len(rows), 3)
        tcp_row, = by_server(rows, 5001, "tcp")
        self.assertEqual((tcp_row["client"], tcp_row["server"]), ("10.0.0.2:40000", "10.0.0.1:5001"))
        self.assertEqual(tcp_row["c2s"], EXPECTED_TCP_C2S)
        self.assertEqual(tcp_row["s2c"], EXPECTED_TCP_S2C)
        self.assertEqual(tcp_row["retransmissions"], 1)
        self.assertEqual(tcp_row["payload_bytes"], 1810)
        v6_row, = [r for r in rows if r["client_ip"] == "fd00::2"]
        self.assertEqual((v6_row["client"], v6_row["server"]), ("[fd00::2]:40001", "[fd00::1]:5002"))
        self.assertEqual(v6_row["c2s"], EXPECTED_V6_C2S)
        frag_row, = [r for r in rows if r["client_port"] == 40002]
        self.assertEqual(frag_row["proto"], "udp")
        self.assertEqual(frag_row["c2s"], EXPECTED_FRAG_C2S)
        self.assertEqual(frag_row["s2c"], EXPECTED_FRAG_S2C)
        self.assertEqual(frag_row["datagrams"], 2)
        t = result["totals"]
        expected_totals = {
            "frames": 18, "tcp_frames": 11, "udp_frames": 5, "ip_fragments": 3,
            "unattributed_fragments": 0, "non_ip_frames": 1, "short_frames": 1,
            "other_ip_frames": 0, "tcp_payload_bytes": 1810, "udp_payload_bytes": 3040,
            "tcp_retransmissions": 1, "connections": 3, "truncated": False,
        }
        self.assertEqual({k: t[k] for k in expected_totals}, expected_totals)
        self.assertEqual(t["wire_bytes"], sum(len(f) for _, f in scenario_frames()))
        return result

    def test_ethernet_little_endian_microseconds(self):
        path = self.write("a.pcap", pcap_bytes(1, scenario_frames(), snaplen=96))
        result = self.check_scenario(path)
        self.assertEqual(result["format"], "pcap")
        self.assertEqual(result["linktypes"], [1])
        t = result["totals"]
        self.assertEqual(t["snapped_frames"], sum(len(f) > 96 for _, f in scenario_frames()))
        self.assertEqual(t["captured_bytes"], sum(min(len(f), 96) for _, f in scenario_frames()))
        self.assertAlmostEqual(t["first_ts"], BASE_TS, places=6)
        self.assertAlmostEqual(t["last_ts"], BASE_TS + 0.017, places=6)
        self.assertEqual(result["snaplen"], 96)

    def test_big_endian_nanoseconds(self):
        path = self.write("b.pcap", pcap_bytes(1, scenario_frames(), endian=">", nano=True,
                                               snaplen=128))
        result = self.check_scenario(path)
        self.assertAlmostEqual(result["totals"]["duration_s"], 0.017, places=6)

    def test_orientation_without_ports(self):
        path = self.write("c.pcap", pcap_bytes(1, scenario_frames(), snaplen=96))
        rows = summarize(path)
        tcp_row, = by_server(rows, 5001, "tcp")
        self.assertEqual(tcp_row["role_by"], "syn")
        self.assertEqual(tcp_row["c2s"], EXPECTED_TCP_C2S)
        udp_rows = [r for r in rows if r["proto"] == "udp"]
        self.assertTrue(all(r["server_port"] == 5002 and r["role_by"] in ("first-sender", "bulk")
                            for r in udp_rows), udp_rows)
        with_ports = summarize(path, ports="5001,5002")
        self.assertTrue(all(r["role_by"] == "ports" for r in with_ports))

    def test_peer_orientation_for_session_ports(self):
        # UDP: hello to 5002, then the session runs on two ephemeral ports;
        # the server's session port (45000) is lower than the client's (50000).
        c, s = "127.0.0.1", "127.0.0.1"
        frames = [eth(ipv4(c, s, 17, udp(50000, 5002, b"HELLO"))),
                  eth(ipv4(s, c, 17, udp(45000, 50000, b"D" * 1000))),
                  eth(ipv4(s, c, 17, udp(45000, 50000, b"D" * 1000))),
                  eth(ipv4("127.0.0.1", "127.0.0.1", 17, udp(33000, 34000, b"other")))]
        path = self.write("p.pcap", pcap_bytes(1, list(enumerate(frames))))
        rows = summarize(path, ports=[5002])
        session, = [r for r in rows if r["server_port"] == 45000]
        self.assertEqual(session["role_by"], "peer")
        self.assertEqual(session["client_port"], 50000)
        self.assertEqual(session["s2c"]["payload_bytes"], 2000)
        self.assertEqual(session["s2c"]["datagrams"], 2)
        related = summarize(path, ports=[5002], related_only=True)
        self.assertEqual(sorted(r["server_port"] for r in related), [5002, 45000])

    def test_udp_sides_without_ports(self):
        # pcap.py run on its own (no --ports): the server's session port (52000) is higher than
        # the client's (41000); the lower-port rule used to swap them
        c, s = "127.0.0.1", "127.0.0.1"
        hello = [eth(ipv4(c, s, 17, udp(41000, 39000, b"HELLO id=1 total=1")))]
        session = [eth(ipv4(s, c, 17, udp(52000, 41000, b"FILE x")))] + \
            [eth(ipv4(s, c, 17, udp(52000, 41000, b"D" * 1400))) for _ in range(5)] + \
            [eth(ipv4(c, s, 17, udp(41000, 52000, b"REPORT")))]
        for frames, by in ((hello + session, "peer"), (session, "bulk")):
            path = self.write("u.pcap", pcap_bytes(1, list(enumerate(frames))))
            rows = summarize(path)
            row, = [r for r in rows if 52000 in (r["server_port"], r["client_port"])]
            self.assertEqual((row["server_port"], row["client_port"], row["role_by"]), (52000, 41000, by))
            self.assertEqual(row["s2c"]["payload_bytes"], 7000 + len(b"FILE x"))
        rows = summarize(self.write("h.pcap", pcap_bytes(1, list(enumerate(hello)))))
        self.assertEqual((rows[0]["server_port"], rows[0]["role_by"]), (39000, "first-sender"))

    def test_linux_sll_and_sll2_null_raw(self):
        c, s = "192.168.5.2", "192.168.5.1"
        l3 = [ipv4(c, s, 6, tcp(42000, 5001, 1, 0, 0x02)),
              ipv4(s, c, 6, tcp(5001, 42000, 9, 2, 0x12)),
              ipv4(c, s, 6, tcp(42000, 5001, 2, 10, 0x18, b"p" * 200))]
        variants = {
            113: (sll, 16), 276: (sll2, 20),
            0: (lambda x: struct.pack("<I", 2) + x, 4),
            108: (lambda x: struct.pack(">I", 2) + x, 4),
            101: (lambda x: x, 0), 12: (lambda x: x, 0), 228: (lambda x: x, 0),
        }
        for linktype, (wrap, hlen) in variants.items():
            with self.subTest(linktype=linktype):
                path = self.write("l%d.pcap" % linktype,
                                  pcap_bytes(linktype, list(enumerate(wrap(x) for x in l3))))
                result = analyze(path, ports=[5001])
                row, = result["connections"]
                self.assertEqual(row["c2s"]["frames"], 2)
                self.assertEqual(row["c2s"]["payload_bytes"], 200)
                self.assertEqual(row["c2s"]["wire_bytes"], 40 + 240 + 2 * hlen)
                self.assertEqual(row["s2c"]["wire_bytes"], 40 + hlen)
                self.assertEqual(row["s2c"]["syn"], 1)

    def test_big_endian_null_header_and_ipv6_raw(self):
        l3 = ipv6("fd00::2", "fd00::1", 17, udp(40001, 5002, b"q" * 30))
        path = self.write("n.pcap", pcap_bytes(0, [(0, struct.pack(">I", 24) + l3)]))
        row, = summarize(path)
        self.assertEqual((row["server_port"], row["c2s"]["payload_bytes"]), (5002, 30))
        path = self.write("r.pcap", pcap_bytes(101, [(0, l3)]))
        row, = summarize(path)
        self.assertEqual(row["c2s"]["wire_bytes"], len(l3))

    def test_vlan_and_ipv6_fragments(self):
        vlan = struct.pack("!HH", 1, 0x86DD)
        payload = udp(40005, 5002, b"v" * 2000)          # 2008 bytes
        frag_a = bytes([17, 0]) + struct.pack("!HI", 0 | 1, 4242) + payload[:1448]
        frag_b = bytes([17, 0]) + struct.pack("!HI", 1448, 4242) + payload[1448:]
        frames = [eth(vlan + ipv6("fd00::2", "fd00::1", 44, frag_a), 0x8100),
                  eth(vlan + ipv6("fd00::2", "fd00::1", 44, frag_b), 0x8100)]
        path = self.write("v.pcap", pcap_bytes(1, list(enumerate(frames)), snaplen=100))
        result = analyze(path, ports=[5002])
        row, = result["connections"]
        self.assertEqual(row["c2s"]["payload_bytes"], 2000)
        self.assertEqual(row["c2s"]["fragments"], 2)
        self.assertEqual(row["c2s"]["datagrams"], 1)
        self.assertEqual(result["totals"]["ip_fragments"], 2)

    def test_unattributed_fragment(self):
        frame = eth(ipv4("10.0.0.2", "10.0.0.1", 17, b"z" * 100, ident=5, frag=185))
        result = analyze(self.write("u.pcap", pcap_bytes(1, [(0, frame)])))
        self.assertEqual(result["connections"], [])
        self.assertEqual(result["totals"]["unattributed_fragments"], 1)

    def test_new_connection_on_reused_ports(self):
        c, s = "10.0.0.2", "10.0.0.1"
        frames = []
        for base in (100, 90000):
            frames += [eth(ipv4(c, s, 6, tcp(40000, 5001, base, 0, 0x02))),
                       eth(ipv4(c, s, 6, tcp(40000, 5001, base + 1, 1, 0x18, b"k" * 10))),
                       eth(ipv4(c, s, 6, tcp(40000, 5001, base + 11, 1, 0x11)))]
        rows = summarize(self.write("re.pcap", pcap_bytes(1, list(enumerate(frames)))))
        self.assertEqual(len(rows), 2)
        self.assertEqual([r["c2s"]["retransmissions"] for r in rows], [0, 0])

    def test_pcapng_both_byte_orders(self):
        for endian in "<>":
            with self.subTest(endian=endian):
                path = self.write("x.pcapng", pcapng_bytes(endian))
                result = analyze(path, ports=[5001, 5002])
                self.assertEqual(result["format"], "pcapng")
                self.assertEqual(result["linktypes"], [1, 113])
                tcp_row, = by_server(result["connections"], 5001, "tcp")
                self.assertEqual(tcp_row["c2s"]["frames"], 2)
                self.assertEqual(tcp_row["c2s"]["payload_bytes"], 300)
                self.assertEqual(tcp_row["c2s"]["wire_bytes"], 54 + 354)
                self.assertEqual(tcp_row["s2c"]["wire_bytes"], 16 + 40 + 20)
                self.assertAlmostEqual(tcp_row["first_ts"], BASE_TS, places=6)
                self.assertAlmostEqual(tcp_row["last_ts"], BASE_TS + 7e-6, places=9)
                udp_row, = by_server(result["connections"], 5002, "udp")
                self.assertEqual(udp_row["c2s"]["payload_bytes"], 40)
                self.assertIsNone(udp_row["first_ts"])    # simple packet blocks have no time
                self.assertEqual(result["totals"]["frames"], 4)
                self.assertEqual(result["totals"]["snapped_frames"], 1)


class RetransmissionTests(unittest.TestCase):
    """The sequence-range bookkeeping behind the retransmission estimate."""

    def test_in_order_out_of_order_and_overlap(self):
        d = pcap._Direction()
        self.assertFalse(d.seen_before(1000, 100))
        self.assertFalse(d.seen_before(1200, 100))      # gap: out of order, not a retransmission
        self.assertFalse(d.seen_before(1100, 100))      # fills the gap
        self.assertEqual((d.starts, d.ends), ([1000], [1300]))
        self.assertTrue(d.seen_before(1250, 100))       # partial overlap
        self.assertTrue(d.seen_before(1000, 10))
        self.assertFalse(d.seen_before(1350, 10))

    def test_sequence_wraparound(self):
        d = pcap._Direction()
        seq = 0xFFFFFFFF - 50
        self.assertFalse(d.seen_before(seq, 100))
        nxt = (seq + 100) & 0xFFFFFFFF
        self.assertFalse(d.seen_before(nxt, 100))
        self.assertTrue(d.seen_before(nxt, 100))
        self.assertTrue(d.seen_before(seq, 100))
        self.assertEqual(len(d.starts), 1)

    def test_interval_cap(self):
        d = pcap._Direction()
        for i in range(pcap.MAX_INTERVALS + 50):
            d.seen_before(i * 20, 10)
        self.assertLessEqual(len(d.starts), pcap.MAX_INTERVALS)


class CorruptFileTests(TempDirMixin, unittest.TestCase):
    """Bad input raises PcapError quickly, with a message."""

    def assertPcapError(self, data, fragment, strict=True):
        path = self.write("bad.pcap", data)
        with self.assertRaises(PcapError) as ctx:
            analyze(path, strict=strict)
        self.assertIn(fragment, str(ctx.exception))
        self.assertNotIn("\n", str(ctx.exception))
        return ctx.exception

    def good(self):
        return pcap_bytes(1, scenario_frames()[:4])

    def test_not_pcap(self):
        self.assertPcapError(b"", "only 0 bytes")
        self.assertPcapError(b"hello world, not a capture", "not a pcap or pcapng file")

    def test_truncated_header(self):
        self.assertPcapError(self.good()[:12], "global header")

    def test_truncated_record_header_and_data(self):
        data = self.good()
        self.assertPcapError(data + b"\0" * 8, "truncated file")
        self.assertPcapError(data[:-5], "truncated file")

    def test_lenient_truncation(self):
        path = self.write("cut.pcap", self.good()[:-5])
        result = analyze(path, strict=False)
        self.assertTrue(result["totals"]["truncated"])
        self.assertEqual(result["totals"]["frames"], 3)
        self.assertIn("record 4", result["totals"]["truncation"])

    def test_huge_record_length(self):
        header = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
        t0 = time.monotonic()
        self.assertPcapError(header + struct.pack("<IIII", 0, 0, 0x7FFFFFFF, 0x7FFFFFFF),
                             "limit")
        self.assertLess(time.monotonic() - t0, 2.0)

    def test_bad_version(self):
        self.assertPcapError(struct.pack("<IHHiIII", 0xA1B2C3D4, 3, 0, 0, 0, 65535, 1),
                             "unsupported pcap version")

    def test_pcapng_corruptions(self):
        good = pcapng_bytes()
        self.assertPcapError(good[:-3], "truncated")
        bad_len = bytearray(good)
        struct.pack_into("<I", bad_len, 4, 30)              # SHB length not a multiple of 4
        self.assertPcapError(bytes(bad_len), "length 30")
        huge = bytearray(good)
        struct.pack_into("<I", huge, 4, 0x7FFFFFF0)
        self.assertPcapError(bytes(huge), "limit")
        mismatch = bytearray(good)
        shb_len = struct.unpack_from("<I", good, 4)[0]
        struct.pack_into("<I", mismatch, shb_len - 4, shb_len + 4)
        self.assertPcapError(bytes(mismatch), "trailing length")
        bom = bytearray(good)
        bom[8:12] = b"abcd"
        self.assertPcapError(bytes(bom), "byte-order magic")
        shb = ng_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
        orphan = ng_block(6, struct.pack("<IIIII", 3, 0, 0, 4, 4) + b"abcd")
        self.assertPcapError(shb + orphan, "undefined interface")

    def test_missing_file_and_directory(self):
        with self.assertRaises(PcapError) as ctx:
            analyze(os.path.join(self.tmp, "nope.pcap"))
        self.assertIn("cannot open", str(ctx.exception))
        with self.assertRaises(PcapError):
            analyze(self.tmp)

    def test_reader_attributes(self):
        reader = PcapReader(self.write("ok.pcap", self.good()))
        packets = list(reader)
        self.assertEqual(len(packets), 4)
        self.assertEqual((reader.format, reader.linktypes, reader.packets), ("pcap", {1}, 4))
        self.assertEqual(packets[0].origlen, 54)


class CliTests(TempDirMixin, unittest.TestCase):
    """python3 scripts/pcap.py FILE ..."""

    def run_main(self, argv):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                rc = pcap.main(argv)
            except SystemExit as exc:       # argparse usage errors
                rc = exc.code
        return rc, out.getvalue(), err.getvalue()

    def test_table_and_json(self):
        path = self.write("a.pcap", pcap_bytes(1, scenario_frames(), snaplen=96))
        rc, out, err = self.run_main([path, "--ports", "5001,5002"])
        self.assertEqual((rc, err), (0, ""))
        self.assertIn("10.0.0.2:40000", out)
        self.assertIn("18 frames", out)
        rc, out, _ = self.run_main([path, "--ports", "5001", "--json"])
        self.assertEqual(rc, 0)
        data = json.loads(out)
        self.assertEqual(data["totals"]["tcp_retransmissions"], 1)

    def test_bad_input(self):
        rc, out, err = self.run_main([os.path.join(self.tmp, "missing.pcap")])
        self.assertEqual(rc, 2)
        self.assertEqual(len(err.strip().splitlines()), 1)
        self.assertNotIn("Traceback", err)
        path = self.write("junk.pcap", b"junk junk junk")
        rc, _, err = self.run_main([path])
        self.assertEqual(rc, 2)
        self.assertIn("not a pcap", err)
        rc, _, err = self.run_main([path, "--ports", "50x1"])
        self.assertEqual(rc, 2)
        self.assertIn("--ports", err)


class TsharkTests(TempDirMixin, unittest.TestCase):
    """Cross-check with tshark when it is installed."""

    def test_tshark_retransmissions(self):
        if not shutil.which("tshark"):
            self.skipTest("tshark is not installed")
        path = self.write("a.pcap", pcap_bytes(1, scenario_frames(), snaplen=96))
        counts = pcap.tshark_retransmissions(path, timeout=60)
        self.assertEqual(counts.get(("10.0.0.2", 40000, "10.0.0.1", 5001)), 1)
        rows = pcap.add_tshark_retransmissions(summarize(path, ports=[5001]), counts)
        tcp_row, = by_server(rows, 5001, "tcp")
        self.assertEqual(tcp_row["c2s"]["tshark_retransmissions"],
                         tcp_row["c2s"]["retransmissions"])

    def fake_tshark(self, body):
        path = os.path.join(self.tmp, "tshark")
        with open(path, "w") as f:
            f.write("#!%s\nimport sys, time\n%s\n" % (sys.executable, body))
        os.chmod(path, 0o755)
        return path

    def test_fake_tshark_output_parsing(self):
        exe = self.fake_tshark(
            "sys.stderr.write('Running as user root and group root. This could be dangerous.\\n')\n"
            "print('10.0.0.2\\t\\t40000\\t10.0.0.1\\t\\t5001')\n"
            "print('10.0.0.2\\t\\t40000\\t10.0.0.1\\t\\t5001')\n"
            "print('\\tfd00::1\\t5002\\t\\tfd00::2\\t40001')")
        counts = pcap.tshark_retransmissions("any.pcap", timeout=10, tshark=exe)
        self.assertEqual(counts, {("10.0.0.2", 40000, "10.0.0.1", 5001): 2,
                                  ("fd00::1", 5002, "fd00::2", 40001): 1})

    def test_fake_tshark_failure_and_timeout(self):
        exe = self.fake_tshark("sys.stderr.write('tshark: The file \"x\" is not a capture file\\n')\n"
                               "sys.exit(2)")
        with self.assertRaises(PcapError) as ctx:
            pcap.tshark_retransmissions("x", timeout=10, tshark=exe)
        self.assertIn("not a capture file", str(ctx.exception))
        exe = self.fake_tshark("time.sleep(30)")
        t0 = time.monotonic()
        with self.assertRaises(PcapError) as ctx:
            pcap.tshark_retransmissions("x", timeout=0.5, tshark=exe)
        self.assertIn("within 0.5 s", str(ctx.exception))
        self.assertLess(time.monotonic() - t0, 10)

    def test_without_tshark(self):
        if shutil.which("tshark"):
            self.skipTest("tshark is installed")
        self.assertIsNone(pcap.tshark_retransmissions("x.pcap"))


class RealCaptureTests(TempDirMixin, unittest.TestCase):
    """A real capture of a small TCP exchange on 127.0.0.1 (needs tcpdump/dumpcap and root)."""

    def test_tcp_exchange_on_loopback(self):
        from scripts.capture import Capture, CaptureUnavailable, find_capture_tool
        if find_capture_tool() is None:
            self.skipTest("no capture tool (tcpdump/dumpcap/tshark) installed")
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        srv.settimeout(10)
        port = srv.getsockname()[1]
        received = []

        def serve():
            try:
                conn, _ = srv.accept()
                conn.settimeout(10)
                n = 0
                while True:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    n += len(chunk)
                received.append(n)
                conn.sendall(b"done")
                conn.close()
            except OSError:
                pass

        sent = 200000
        try:
            cap = Capture(os.path.join(self.tmp, "lo.pcap"), ports=[port], snaplen=96)
            try:
                cap.start()
            except CaptureUnavailable as exc:
                self.skipTest("capture not possible here: %s" % exc)
            try:
                thread = threading.Thread(target=serve, daemon=True)
                thread.start()
                cli = socket.create_connection(("127.0.0.1", port), timeout=10)
                cli.sendall(b"s" * sent)
                cli.shutdown(socket.SHUT_WR)
                self.assertEqual(cli.recv(16), b"done")
                cli.close()
                thread.join(10)
            finally:
                path = cap.stop()
        finally:
            srv.close()
        self.assertEqual(received, [sent])
        result = analyze(path, ports=[port])
        row, = by_server(result["connections"], port, "tcp")
        self.assertEqual(row["c2s"]["syn"], 1)
        self.assertGreaterEqual(row["c2s"]["payload_bytes"], sent)
        self.assertEqual(row["s2c"]["payload_bytes"], 4)
        self.assertGreaterEqual(row["c2s"]["wire_bytes"], sent + 54 * row["c2s"]["frames"])
        self.assertGreaterEqual(row["c2s"]["frames"], 4)
        self.assertLessEqual(os.path.getsize(path), 24 + row["frames"] * (16 + 96) + 4096)


if __name__ == "__main__":
    unittest.main()
