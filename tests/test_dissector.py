"""Tests for the Wireshark Lua dissector (scripts/wireshark/filelab.lua), run through tshark.

Three kinds of captures:
- synthetic pcaps built byte by byte here (every message type, lines split across TCP
  segments, GSO super-datagrams, lost / duplicate / resent datagrams, a snaplen-cut line,
  unrelated traffic); they need tshark only;
- real captures (tcpdump on 127.0.0.1) of a 1-client TCP test and a 1-client reliable UDP test
  run through the real programs on ports chosen by the OS (so the heuristics, not the default
  ports, find them), plus PING/PONG; they need tshark, a capture tool and capture permission;
- unrelated real traffic (an HTTP-like TCP exchange, random UDP datagrams) that must not be claimed.

Tests skip with the reason when tshark (with Lua) or capture is not available.
Run: python3 -m unittest tests.test_dissector -v
"""

import hashlib
import os
import random
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import unittest
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests import procs  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DISSECTOR = ROOT / "scripts" / "wireshark" / "filelab.lua"
TSHARK_TIMEOUT = 120
SEP = "\x1f"

_LUA = []


def tshark_path():
    return shutil.which("tshark")


def tshark_skip_reason():
    """None when tshark with Lua is usable, else why not (cached)."""
    if not _LUA:
        exe = tshark_path()
        if exe is None:
            _LUA.append("tshark is not installed (apt-get install tshark)")
        else:
            try:
                done = subprocess.run([exe, "-v"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, timeout=60)
                text = done.stdout.decode("utf-8", "replace")
                _LUA.append(None if "with Lua" in text or "Lua 5" in text else
                            "this tshark is built without Lua support")
            except (OSError, subprocess.SubprocessError) as exc:
                _LUA.append("tshark does not run: {}".format(exc))
    return _LUA[0]


_HOME = []


def setUpModule():
    # a private, empty HOME for tshark: no personal preferences or plugins of whoever runs the tests
    _HOME.append(tempfile.TemporaryDirectory(prefix="test_dissector_home_"))


def tearDownModule():
    while _HOME:
        _HOME.pop().cleanup()


def tshark_env(home=None):
    env = dict(os.environ)
    env["HOME"] = str(home) if home else (_HOME[0].name if _HOME else tempfile.gettempdir())
    env.pop("WIRESHARK_CONFIG_DIR", None)
    env.pop("XDG_CONFIG_HOME", None)
    return env


def run_tshark(args, home=None, script=True):
    """Run tshark with the dissector; returns stdout text (raises AssertionError with stderr on failure)."""
    argv = [tshark_path()] + ([] if args and args[0] == "-G" else ["-n"])
    if script:
        argv += ["-X", "lua_script:{}".format(DISSECTOR)]
    argv += list(args)
    done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                          timeout=TSHARK_TIMEOUT, env=tshark_env(home))
    err = done.stderr.decode("utf-8", "replace")
    if done.returncode != 0 or "Lua Error" in err or "lua_script" in err and "rror" in err:
        raise AssertionError("tshark failed ({}): {}".format(done.returncode, err[-2000:]))
    out = done.stdout.decode("utf-8", "replace")
    if "Lua Error" in out:
        raise AssertionError("Lua error in the dissector: " + out[out.index("Lua Error"):][:500])
    return out


FIELDS = ["frame.number", "filelab.verb", "filelab.id", "filelab.total", "filelab.name", "filelab.size",
          "filelab.sha256", "filelab.clients", "filelab.mode", "filelab.chunk", "filelab.transfer",
          "filelab.ready", "filelab.chunks", "filelab.bytes", "filelab.received", "filelab.lost",
          "filelab.ranges", "filelab.range.first", "filelab.range.last", "filelab.nack_chunks",
          "filelab.elapsed_us", "filelab.highest", "filelab.rcvbuf", "filelab.rate", "filelab.datagrams",
          "filelab.missing", "filelab.duplicates", "filelab.out_of_order", "filelab.ok", "filelab.reason",
          "filelab.seq", "filelab.type", "filelab.version", "filelab.flags", "filelab.flags.resent",
          "filelab.data_offset", "filelab.data_len", "filelab.field", "filelab.key", "filelab.padding",
          "filelab.gso_segments", "filelab.analysis.lost", "filelab.analysis.duplicate",
          "filelab.analysis.out_of_order", "filelab.token", "filelab.token.window", "filelab.pad",
          "filelab.request_in", "filelab.response_ms",
          "_ws.expert.message", "_ws.col.Protocol",
          "_ws.col.Info", "tcp.stream", "udp.srcport"]


def decode(pcap, display_filter=None, home=None, script=True, two_pass=False):
    """Frames of *pcap* as dicts field -> list of values (only frames with a filelab layer by default)."""
    args = ["-r", str(pcap), "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=" + SEP,
            "-E", "separator=/t"]
    if two_pass:
        args.append("-2")
    if display_filter is not None:
        args += ["-Y", display_filter]
    for name in FIELDS:
        args += ["-e", name]
    rows = []
    for line in run_tshark(args, home=home, script=script).splitlines():
        values = line.split("\t")
        row = {}
        for name, value in zip(FIELDS, values):
            row[name] = value.split(SEP) if value != "" else []
        rows.append(row)
    return rows


def ours(rows):
    return [r for r in rows if r["filelab.verb"] or r["filelab.type"] or r["filelab.data_len"]]


def by_verb(rows):
    """verb -> list of rows having it (a frame with two lines appears under both)."""
    out = {}
    for row in rows:
        for verb in row["filelab.verb"]:
            out.setdefault(verb, []).append(row)
    return out


# ------------------------------------------------------------------------ synthetic captures

class PcapWriter:
    """Classic pcap, Ethernet link type, IPv4; TCP conversations with real sequence numbers."""

    def __init__(self, path):
        self.f = open(str(path), "wb")
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        self.t = 1700000000.0
        self.ident = 1

    def packet(self, src, dst, proto, l4, snaplen=None):
        self.ident += 1
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), self.ident & 0xFFFF, 0x4000, 64, proto, 0,
                         socket.inet_aton(src), socket.inet_aton(dst)) + l4
        frame = b"\x00" * 12 + b"\x08\x00" + ip
        cap = frame if snaplen is None else frame[:snaplen]
        self.t += 0.001
        sec = int(self.t)
        self.f.write(struct.pack("<IIII", sec, int((self.t - sec) * 1e6), len(cap), len(frame)) + cap)

    def udp(self, src, dst, payload, snaplen=None):
        (sip, sport), (dip, dport) = src, dst
        self.packet(sip, dip, 17, struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload, snaplen)

    def close(self):
        self.f.close()


class TcpConv:
    """One TCP connection in a PcapWriter: handshake, data segments, acks."""

    def __init__(self, writer, client, server, isn=(1000, 50000)):
        self.w, self.c, self.s = writer, client, server
        self.seq = {"c": isn[0], "s": isn[1]}
        self._segment("c", 0x02, b"")
        self.seq["c"] += 1
        self._segment("s", 0x12, b"")
        self.seq["s"] += 1
        self._segment("c", 0x10, b"")

    def _segment(self, side, flags, payload, snaplen=None):
        src, dst = (self.c, self.s) if side == "c" else (self.s, self.c)
        other = "s" if side == "c" else "c"
        hdr = struct.pack("!HHIIBBHHH", src[1], dst[1], self.seq[side] & 0xFFFFFFFF,
                          self.seq[other] & 0xFFFFFFFF if flags != 0x02 else 0, 5 << 4, flags, 65535, 0, 0)
        self.w.packet(src[0], dst[0], 6, hdr + payload, snaplen)

    def send(self, side, payload, snaplen=None):
        self._segment(side, 0x18, payload, snaplen)
        self.seq[side] += len(payload)


C_ADDR = ("127.0.0.1", 40001)


def padded_hello(extra):
    """A HELLO padded with pad=000... to exactly 1,024 bytes (udpsec's address validation)."""
    head = "HELLO id=1 total=1 mode=raw" + extra + " pad="
    return (head + "0" * (1023 - len(head)) + "\n").encode()
SHA = hashlib.sha256(b"x").hexdigest()


def skip_without_tshark(test):
    reason = tshark_skip_reason()
    if reason:
        test.skipTest(reason)


class SyntheticTcpTests(unittest.TestCase):
    """TCP conversations written byte by byte: every verb, split lines, data offsets, heuristics."""

    @classmethod
    def setUpClass(cls):
        reason = tshark_skip_reason()
        if reason:
            raise unittest.SkipTest(reason)
        cls.tmp = tempfile.TemporaryDirectory(prefix="test_dissector_")
        cls.path = os.path.join(cls.tmp.name, "tcp.pcap")
        w = PcapWriter(cls.path)
        data = bytes(range(256)) * 40                  # 10240 bytes
        cls.data = data
        # a session on a port that is not 5001: found by the heuristic
        t = TcpConv(w, C_ADDR, ("127.0.0.1", 45678))
        t.send("c", b"HELLO id=2 total=3\n")
        t.send("s", b"FILE name=mi%20archivo%C3%B1.txt size=10240 sha256=" + SHA.encode() + b" clients=3\n")
        t.send("c", b"READY\n")
        # DATA line split over three segments, the file data starts in the last one
        t.send("s", b"DA")
        t.send("s", b"TA si")
        t.send("s", b"ze=10240\n" + data[:1000])
        t.send("s", data[1000:6000])
        t.send("s", data[6000:] + b"BYE ok=1\n")        # data end and the verdict in one segment
        t.send("c", b"DONE bytes=10240 sha256=" + SHA.encode() + b" ok=1\nERROR reason=late%20line\n")
        # a second connection on the default port: BUSY, and a verb this dissector does not know
        u = TcpConv(w, ("127.0.0.1", 40002), ("127.0.0.1", 5001))
        u.send("c", b"HELLO id=4 total=4\n")
        u.send("s", b"BUSY reason=this%20test%20already%20has%20its%203%20client%28s%29\n")
        u.send("s", b"NEWVERB token=abc%2Fdef extra=1\n")
        # a third one cut by a small snaplen (the FILE line is longer than what was captured)
        v = TcpConv(w, ("127.0.0.1", 40003), ("127.0.0.1", 5001))
        v.send("c", b"HELLO id=1 total=1\n")
        v.send("s", b"FILE name=big.txt size=5 sha256=" + SHA.encode() + b" clients=1\n", snaplen=54 + 30)
        v.send("c", b"READY\n")
        v.send("s", b"DATA size=77\n" + b"z" * 77, snaplen=54 + 13)     # only the line was captured
        w.close()
        cls.rows = ours(decode(cls.path, "filelab"))
        cls.verbs = by_verb(cls.rows)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_every_tcp_verb(self):
        for verb in ("HELLO", "FILE", "READY", "DATA", "DONE", "BYE", "BUSY", "ERROR"):
            self.assertIn(verb, self.verbs, verb)

    def test_fields_percent_decoded(self):
        hello = self.verbs["HELLO"][0]
        self.assertEqual((hello["filelab.id"], hello["filelab.total"]), (["2"], ["3"]))
        offer = self.verbs["FILE"][0]
        self.assertEqual(offer["filelab.name"], ["mi archivo\u00f1.txt"])
        self.assertEqual(offer["filelab.size"], ["10240"])
        self.assertEqual(offer["filelab.sha256"], [SHA])
        self.assertEqual(offer["filelab.clients"], ["3"])
        busy = self.verbs["BUSY"][0]
        self.assertEqual(busy["filelab.reason"], ["this test already has its 3 client(s)"])
        done = self.verbs["DONE"][0]
        self.assertEqual(done["filelab.bytes"], ["10240"])
        self.assertEqual(done["filelab.ok"], ["1"])
        self.assertEqual(done["filelab.reason"], ["late line"])     # ERROR in the same segment
        self.assertEqual(done["filelab.verb"], ["DONE", "ERROR"])

    def test_split_line_reassembled_and_data_offsets(self):
        data_rows = [r for r in self.verbs["DATA"] if r["filelab.size"] == ["10240"]]
        self.assertEqual(len(data_rows), 1)
        self.assertEqual(data_rows[0]["filelab.size"], ["10240"])
        pieces = []
        for row in self.rows:
            for off, length in zip(row["filelab.data_offset"], row["filelab.data_len"]):
                pieces.append((int(off), int(length)))
        self.assertEqual(sorted(pieces), [(0, 77), (0, 1000), (1000, 5000), (6000, 4240)])
        bye = self.verbs["BYE"][0]
        self.assertEqual(bye["filelab.data_offset"], ["6000"])     # data and BYE share the segment
        self.assertEqual(bye["filelab.ok"], ["1"])

    def test_unknown_verb_decoded_generically(self):
        row = self.verbs["NEWVERB"][0]
        self.assertIn("extra=1", row["filelab.field"])
        self.assertEqual(row["filelab.token"], ["abc/def"])
        self.assertIn("token", row["filelab.key"])
        self.assertTrue(any("not in this dissector's list" in m for m in row["_ws.expert.message"]))

    def test_snaplen_cut_line(self):
        cut = [r for r in self.verbs["FILE"] if r["filelab.name"] == ["big.txt"]]
        self.assertEqual(len(cut), 1)
        self.assertEqual(cut[0]["filelab.size"], ["5"])
        self.assertEqual(cut[0]["filelab.sha256"], [])          # the cut "sha2" is not a value
        self.assertEqual(cut[0]["_ws.expert.message"], ["line cut short by the capture's snapshot length"])
        data = [r for r in self.rows if r["frame.number"] and r["filelab.verb"] == ["DATA"] and r["filelab.size"] == ["77"]]
        self.assertEqual(len(data), 1)
        self.assertEqual((data[0]["filelab.data_offset"], data[0]["filelab.data_len"]), (["0"], ["77"]))
        self.assertIn("file data not captured in full (snaplen)", data[0]["_ws.expert.message"])

    def test_display_filters(self):
        rows = ours(decode(self.path, 'filelab.verb == "FILE" && filelab.size == 10240'))
        self.assertEqual(len(rows), 1)
        rows = ours(decode(self.path, "filelab.data_offset == 1000"))
        self.assertEqual([r["filelab.data_len"] for r in rows], [["5000"]])

    def test_tshark_summary(self):
        from scripts.wireshark import summary
        got = summary.summarize(self.path)
        self.assertEqual(got["messages"]["DATA"], 2)
        self.assertEqual(got["tcp_file_bytes"], 10240 + 77)
        self.assertEqual(got["data_datagrams"], 0)

    def test_two_pass_same_result(self):
        again = ours(decode(self.path, "filelab", two_pass=True))
        self.assertEqual([r["filelab.verb"] for r in again], [r["filelab.verb"] for r in self.rows])
        self.assertEqual([r["filelab.data_offset"] for r in again], [r["filelab.data_offset"] for r in self.rows])


class SyntheticUdpTests(unittest.TestCase):
    """UDP control and data datagrams written byte by byte: every message, loss, duplicates, GSO."""

    TID = 3046213377
    TOKEN = "03b5ab6c" + "65b3a6f2d1c0e9b8a7f60514233241ab"

    @classmethod
    def setUpClass(cls):
        reason = tshark_skip_reason()
        if reason:
            raise unittest.SkipTest(reason)
        cls.tmp = tempfile.TemporaryDirectory(prefix="test_dissector_")
        cls.path = os.path.join(cls.tmp.name, "udp.pcap")
        w = PcapWriter(cls.path)
        srv, sess, cli = ("127.0.0.1", 47010), ("127.0.0.1", 41237), ("127.0.0.1", 40100)
        tid = cls.TID
        chunk = 100
        size = 1234                                     # 13 chunks, the last of 34 bytes

        def data(seq, resent=False, length=None):
            n = min(chunk, size - seq * chunk) if length is None else length
            return struct.pack("!BBHII", 0xD1, 1, 1 if resent else 0, tid, seq) + bytes([seq % 256]) * n

        w.udp(cli, srv, b"PING seq=1\n")
        w.udp(srv, cli, b"PONG seq=1\n")
        w.udp(cli, srv, b"HELLO id=1 total=2 mode=reliable\n" + b"\x00" * 40)
        w.udp(sess, cli, ("FILE name=a%20b.txt size=1234 sha256={} clients=2 chunk=100 transfer={} mode=reliable\n"
                          .format(SHA, tid)).encode())
        w.udp(cli, sess, "READY transfer={} rcvbuf=8388608\n".format(tid).encode())
        w.udp(sess, cli, "WAIT transfer={} ready=1 clients=2\n".format(tid).encode())
        w.udp(sess, cli, "START transfer={}\n".format(tid).encode())
        for seq in (0, 1, 3):                           # 2 is lost
            w.udp(sess, cli, data(seq))
        w.udp(sess, cli, data(3))                       # duplicate
        w.udp(cli, sess, "NACK transfer={} received=4 lost=1 ranges=2_7-9 bytes=400 elapsed_us=2000 highest=3\n"
              .format(tid).encode())
        w.udp(sess, cli, data(2, resent=True))          # resent, below the highest
        w.udp(sess, cli, data(4) + data(5) + data(6))   # one GSO super-datagram
        for seq in range(7, 13):
            w.udp(sess, cli, data(seq))
        w.udp(sess, cli, data(5, length=7))             # wrong length for seq 5
        w.udp(sess, cli, "END transfer={} chunks=13 bytes=1234\n".format(tid).encode())
        w.udp(cli, sess, ("REPORT transfer={} bytes=1234 datagrams=14 missing=0 duplicates=1 out_of_order=1 "
                          "sha256={} ok=1\n").format(tid, SHA).encode())
        w.udp(sess, cli, "BYE transfer={} ok=1\n".format(tid).encode())
        w.udp(cli, sess, b"ERROR reason=disk%20full\n")
        w.udp(srv, cli, b"BUSY reason=busy\n")
        # default port 5002: address validation (padded HELLO, RETRY, HELLO with the token), and a
        # message of a newer protocol, decoded generically
        other = ("127.0.0.1", 40200)
        w.udp(other, ("127.0.0.1", 5002), padded_hello(""))
        w.udp(("127.0.0.1", 5002), other, "RETRY token={}\n".format(cls.TOKEN).encode())
        w.udp(other, ("127.0.0.1", 5002), padded_hello(" token=" + cls.TOKEN))
        w.udp(("127.0.0.1", 5002), other, b"NEWVERB nonce=Zm9v%2Bbg cookie=42\n")
        w.close()
        cls.rows = ours(decode(cls.path, "filelab"))
        cls.verbs = by_verb(cls.rows)
        cls.data_rows = [r for r in cls.rows if r["filelab.type"]]

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_every_udp_message(self):
        for verb in ("PING", "PONG", "HELLO", "FILE", "READY", "WAIT", "START", "NACK", "END", "REPORT", "BYE",
                     "ERROR", "BUSY", "RETRY", "NEWVERB"):
            self.assertIn(verb, self.verbs, verb)
        self.assertEqual(self.verbs["PING"][0]["filelab.seq"], ["1"])
        self.assertEqual(self.verbs["PONG"][0]["filelab.seq"], ["1"])
        offer = self.verbs["FILE"][0]
        self.assertEqual(offer["filelab.transfer"], [str(self.TID)])
        self.assertEqual(offer["filelab.chunk"], ["100"])
        self.assertEqual(offer["filelab.name"], ["a b.txt"])
        self.assertEqual(offer["filelab.mode"], ["reliable"])
        self.assertEqual(self.verbs["READY"][0]["filelab.rcvbuf"], ["8388608"])   # typed, not a filelab.field
        self.assertEqual(self.verbs["READY"][0]["filelab.field"], [])
        wait = self.verbs["WAIT"][0]
        self.assertEqual((wait["filelab.ready"], wait["filelab.clients"]), (["1"], ["2"]))
        end = self.verbs["END"][0]
        self.assertEqual((end["filelab.chunks"], end["filelab.bytes"]), (["13"], ["1234"]))
        report = self.verbs["REPORT"][0]
        self.assertEqual(report["filelab.duplicates"], ["1"])
        self.assertEqual(report["filelab.ok"], ["1"])
        self.assertEqual(self.verbs["ERROR"][0]["filelab.reason"], ["disk full"])

    def test_answers_tied_to_requests(self):
        frame = {v: rows[0]["frame.number"][0] for v, rows in self.verbs.items()}
        for answer, request in (("PONG", "PING"), ("FILE", "HELLO"), ("WAIT", "READY"), ("START", "READY"),
                                ("BYE", "REPORT")):
            row = self.verbs[answer][0]
            self.assertEqual(row["filelab.request_in"], [frame[request]], answer)
            self.assertAlmostEqual(float(row["filelab.response_ms"][0]),
                                   float(int(row["frame.number"][0]) - int(frame[request])), places=3)
        retry = self.verbs["RETRY"][0]
        padded = [r for r in self.verbs["HELLO"] if r["filelab.pad"]][0]
        self.assertEqual(retry["filelab.request_in"], padded["frame.number"])

    def test_hello_padding(self):
        hello = self.verbs["HELLO"][0]
        self.assertEqual(hello["filelab.mode"], ["reliable"])
        self.assertEqual(len(hello["filelab.padding"]), 1)

    def test_nack_ranges_and_feedback(self):
        nack = self.verbs["NACK"][0]
        self.assertEqual(nack["filelab.ranges"], ["2_7-9"])
        self.assertEqual(nack["filelab.range.first"], ["2", "7"])
        self.assertEqual(nack["filelab.range.last"], ["2", "9"])
        self.assertEqual(nack["filelab.nack_chunks"], ["4"])
        self.assertEqual((nack["filelab.received"], nack["filelab.lost"]), (["4"], ["1"]))
        self.assertEqual((nack["filelab.bytes"], nack["filelab.elapsed_us"], nack["filelab.highest"]),
                         (["400"], ["2000"], ["3"]))
        self.assertEqual(float(nack["filelab.rate"][0]), 200000.0)

    def test_data_headers(self):
        seqs = [int(s) for r in self.data_rows for s in r["filelab.seq"]]
        self.assertEqual(seqs, [0, 1, 3, 3, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 5])
        first = self.data_rows[0]
        self.assertEqual(first["filelab.type"], ["0xd1"])
        self.assertEqual(first["filelab.version"], ["1"])
        self.assertEqual(first["filelab.transfer"], [str(self.TID)])
        self.assertEqual(first["filelab.data_offset"], ["0"])
        last = [r for r in self.data_rows if r["filelab.seq"] == ["12"]][0]
        self.assertEqual((last["filelab.data_offset"], last["filelab.data_len"]), (["1200"], ["34"]))

    def test_resent_flag_filter(self):
        rows = ours(decode(self.path, "filelab.flags.resent == 1"))
        self.assertEqual([r["filelab.seq"] for r in rows], [["2"]])
        rows = ours(decode(self.path, "filelab.transfer == {} && filelab.seq == 9".format(self.TID)))
        self.assertEqual(len([r for r in rows if r["filelab.type"]]), 1)

    def test_loss_and_duplicate_expert_info(self):
        jump = [r for r in self.data_rows if r["filelab.analysis.lost"]]
        self.assertEqual([(r["filelab.seq"], r["filelab.analysis.lost"]) for r in jump], [(["3"], ["1"])])
        self.assertTrue(any("sequence jump" in m for m in jump[0]["_ws.expert.message"]))
        dups = [r for r in self.data_rows if r["filelab.analysis.duplicate"]]
        self.assertEqual(len(dups), 2)                  # seq 3 again, and the short seq 5
        self.assertTrue(any("duplicate" in m for m in dups[0]["_ws.expert.message"]))
        resent = [r for r in self.data_rows if r["filelab.flags.resent"] == ["1"]][0]
        self.assertEqual(resent["filelab.analysis.out_of_order"], ["1"])
        rows = ours(decode(self.path, "filelab.analysis.lost || filelab.analysis.duplicate"))
        self.assertEqual(len(rows), 3)

    def test_gso_super_datagram_split(self):
        gso = [r for r in self.data_rows if r["filelab.gso_segments"]]
        self.assertEqual(len(gso), 1)
        self.assertEqual(gso[0]["filelab.gso_segments"], ["3"])
        self.assertEqual(gso[0]["filelab.seq"], ["4", "5", "6"])
        self.assertEqual(gso[0]["filelab.data_offset"], ["400", "500", "600"])

    def test_bad_length_flagged(self):
        short = [r for r in self.data_rows if r["filelab.data_len"] == ["7"]][0]
        self.assertTrue(any("should have 100" in m for m in short["_ws.expert.message"]))

    def test_tshark_summary(self):
        from scripts.wireshark import summary
        got = summary.summarize(self.path)
        self.assertEqual(got["messages"]["HELLO"], 3)
        self.assertEqual(got["messages"]["NACK"], 1)
        self.assertEqual((got["data_datagrams"], got["resent"]), (15, 1))
        self.assertEqual((got["seq_jumps"], got["seqs_skipped"], got["duplicates"], got["out_of_order"]), (1, 1, 2, 1))
        t = got["transfers"][str(self.TID)]
        self.assertEqual((t["name"], t["size"], t["chunk"], t["datagrams"], t["distinct_seqs"]),
                         ("a b.txt", 1234, 100, 15, 13))
        self.assertIn("UDP data datagrams: 15 (1 resent)", summary.format_summary(got))

    def test_address_validation_messages(self):
        retry = self.verbs["RETRY"][0]
        self.assertEqual(retry["filelab.token"], [self.TOKEN])
        self.assertEqual(retry["filelab.token.window"], [str(0x03b5ab6c)])
        hellos = [r for r in self.verbs["HELLO"] if r["filelab.pad"]]
        self.assertEqual(len(hellos), 2)
        self.assertEqual(hellos[0]["filelab.token"], [])
        self.assertEqual(hellos[1]["filelab.token"], [self.TOKEN])
        for hello in hellos:
            token = len(" token=" + self.TOKEN) if hello["filelab.token"] else 0
            self.assertEqual(int(hello["filelab.pad"][0]) + len("HELLO id=1 total=1 mode=raw pad=\n") + token, 1024)
            self.assertEqual(hello["filelab.padding"], [])
            self.assertEqual(hello["filelab.mode"], ["raw"])

    def test_new_verb_on_default_port(self):
        row = self.verbs["NEWVERB"][0]
        self.assertIn("cookie=42", row["filelab.field"])
        self.assertIn("nonce=Zm9v+bg", row["filelab.field"])
        self.assertTrue(any("not in this dissector's list" in m for m in row["_ws.expert.message"]))


class UnrelatedTrafficTests(unittest.TestCase):
    """Traffic of other protocols on other ports is never claimed (synthetic, then real)."""

    def setUp(self):
        skip_without_tshark(self)
        self.tmp = tempfile.TemporaryDirectory(prefix="test_dissector_")
        self.addCleanup(self.tmp.cleanup)

    def _check_unclaimed(self, path):
        rows = decode(path, "filelab")
        self.assertEqual(rows, [], "frames claimed by filelab: {}".format(rows[:3]))
        everything = decode(path)
        self.assertGreater(len(everything), 5)
        self.assertFalse(any("FILELAB" in p for r in everything for p in r["_ws.col.Protocol"]))

    def test_synthetic_unrelated(self):
        path = os.path.join(self.tmp.name, "other.pcap")
        w = PcapWriter(path)
        t = TcpConv(w, ("127.0.0.1", 40500), ("127.0.0.1", 8080))
        t.send("c", b"GET /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n")
        t.send("s", b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
        s = TcpConv(w, ("127.0.0.1", 40501), ("127.0.0.1", 2525))
        s.send("s", b"220 mail ESMTP\r\n")
        s.send("c", b"HELO example\r\n")
        s.send("c", b"DATA\r\n")
        s.send("c", b"HELLO world\r\n")
        rnd = random.Random(12)
        for _ in range(40):
            w.udp(("127.0.0.1", 40600), ("127.0.0.1", 9999), bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 300))))
        w.udp(("127.0.0.1", 40600), ("127.0.0.1", 9999), b"\xd1\x01\x00\x00" + bytes(20))   # short, unknown transfer
        w.udp(("127.0.0.1", 40600), ("127.0.0.1", 9999), b"NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n\r\n")
        w.udp(("127.0.0.1", 40600), ("127.0.0.1", 9999), b"HELLO there\n")
        w.close()
        self._check_unclaimed(path)

    def test_real_unrelated(self):
        from scripts.capture import Capture, CaptureUnavailable
        path = os.path.join(self.tmp.name, "real-other.pcap")
        lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        lst.bind(("127.0.0.1", 0))
        lst.listen(1)
        lst.settimeout(10)
        rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rx.bind(("127.0.0.1", 0))
        rx.settimeout(10)
        self.addCleanup(lst.close)
        self.addCleanup(rx.close)
        try:
            cap = Capture(path, proto="both", host="127.0.0.1", snaplen=65535,
                          bpf="host 127.0.0.1 and ((tcp and port {}) or (udp and port {}))".format(
                              lst.getsockname()[1], rx.getsockname()[1]))
            cap.start()
        except CaptureUnavailable as exc:
            self.skipTest("capture not possible here: {}".format(exc))
        try:
            def serve():
                conn, _ = lst.accept()
                with conn:
                    conn.settimeout(10)
                    conn.recv(4096)
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
            th = threading.Thread(target=serve, daemon=True)
            th.start()
            with socket.create_connection(lst.getsockname(), timeout=10) as c:
                c.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                while c.recv(4096):
                    pass
            th.join(10)
            rnd = random.Random(7)
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
                for _ in range(20):
                    tx.sendto(bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 1400))), rx.getsockname())
                    rx.recv(65536)
        finally:
            cap.stop()
        self._check_unclaimed(path)


# ------------------------------------------------------------------------ real programs

_REGISTERED = {}


def registered_ports(protocol):
    """Ports of tshark's tcp.port / udp.port tables (another dissector would take them)."""
    if protocol not in _REGISTERED:
        out = run_tshark(["-G", "decodes"], script=False)
        _REGISTERED[protocol] = {int(cols[1]) for cols in (ln.split("\t") for ln in out.splitlines())
                                 if len(cols) >= 2 and cols[0] == protocol + ".port" and cols[1].isdigit()}
    return _REGISTERED[protocol]


def free_ports(protocol, count):
    """*count* distinct free ports on 127.0.0.1 that no Wireshark dissector is registered on."""
    kind = socket.SOCK_DGRAM if protocol == "udp" else socket.SOCK_STREAM
    taken = registered_ports(protocol)
    found = []
    for _ in range(200):
        with socket.socket(socket.AF_INET, kind) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in taken and port not in found:
            found.append(port)
            if len(found) == count:
                return found
    raise unittest.SkipTest("no free unregistered port found")


class RealCaptureTests(unittest.TestCase):
    """A 1-client TCP test and a 1-client reliable UDP test (with PING/PONG) captured with tcpdump."""

    SIZE = 300000
    NAME = "datos prueba.txt"

    def setUp(self):
        skip_without_tshark(self)
        from scripts.capture import find_capture_tool
        if find_capture_tool() is None:
            self.skipTest("no capture tool (tcpdump/dumpcap/tshark) installed")
        self.lab = procs.Lab(prefix="test_dissector_")
        self.addCleanup(self.lab.close)
        self.file = self.lab.make_file(self.NAME, self.SIZE)
        self.sha = procs.sha256_of(self.file)

    def _capture(self, protocol, extra=(), ping=False):
        from scripts.capture import Capture, CaptureUnavailable
        path = str(self.lab.root / "{}.pcap".format(protocol))
        # Ports chosen here (free, and not registered to another Wireshark dissector), so that the
        # capture filter keeps other programs' loopback traffic out and no other dissector takes them.
        port, session = free_ports(protocol, 2)
        extra = list(extra) + ["--port", str(port)]
        if protocol == "udp":
            extra += ["--session-ports", "{0}-{0}".format(session)]
            bpf = "host 127.0.0.1 and udp and (port {} or port {})".format(port, session)
        else:
            bpf = "host 127.0.0.1 and tcp and port {}".format(port)
        try:
            cap = Capture(path, proto=protocol, host="127.0.0.1", snaplen=262144, bpf=bpf)
            cap.start()
        except CaptureUnavailable as exc:
            self.skipTest("capture not possible here: {}".format(exc))
        try:
            server, got = procs.start_server(self.lab, protocol, file=self.NAME, clients=1, extra=extra)
            self.assertEqual(got, port)
            try:
                if ping:
                    done = subprocess.run([procs.PYTHON, procs.program("udp", "client"), "--ping", "--host",
                                           "127.0.0.1", "--port", str(port), "--count", "2", "--interval", "0.3"],
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60,
                                          env=procs.child_env())
                    self.assertEqual(done.returncode, 0, done.stderr[-500:])
                status, _out, err = procs.run_client(self.lab, protocol, port, 1,
                                                     extra=["--reliable"] if "--reliable" in extra else [],
                                                     timeout=120)
                self.assertEqual(status, 0, err[-800:])
                self.assertEqual(server.wait(30), 0)
            finally:
                server.stop()
        finally:
            cap.stop()
        return path, port

    def test_tcp_session(self):
        path, port = self._capture("tcp")
        rows = ours(decode(path, "filelab"))
        verbs = by_verb(rows)
        order = [v for r in rows for v in r["filelab.verb"]]
        self.assertEqual(order, ["HELLO", "FILE", "READY", "DATA", "DONE", "BYE"])
        self.assertEqual((verbs["HELLO"][0]["filelab.id"], verbs["HELLO"][0]["filelab.total"]), (["1"], ["1"]))
        offer = verbs["FILE"][0]
        self.assertEqual(offer["filelab.name"], [self.NAME])
        self.assertEqual(offer["filelab.size"], [str(self.SIZE)])
        self.assertEqual(offer["filelab.sha256"], [self.sha])
        self.assertEqual(offer["filelab.clients"], ["1"])
        self.assertEqual(verbs["DATA"][0]["filelab.size"], [str(self.SIZE)])
        done = verbs["DONE"][0]
        self.assertEqual((done["filelab.bytes"], done["filelab.sha256"], done["filelab.ok"]),
                         ([str(self.SIZE)], [self.sha], ["1"]))
        self.assertEqual(verbs["BYE"][0]["filelab.ok"], ["1"])
        self.assertEqual(verbs["FILE"][0]["filelab.request_in"], verbs["HELLO"][0]["frame.number"])
        self.assertEqual(verbs["DATA"][0]["filelab.request_in"], verbs["READY"][0]["frame.number"])
        pieces = sorted((int(o), int(n)) for r in rows for o, n in zip(r["filelab.data_offset"], r["filelab.data_len"]))
        covered = 0
        for off, length in pieces:
            self.assertEqual(off, covered)
            covered += length
        self.assertEqual(covered, self.SIZE)
        self.assertTrue(all(p == ["FILELAB"] for r in rows for p in [r["_ws.col.Protocol"]]))

    def test_udp_reliable_session_and_ping(self):
        path, port = self._capture("udp", extra=["--reliable"], ping=True)
        rows = ours(decode(path, "filelab"))
        verbs = by_verb(rows)
        for verb in ("PING", "PONG", "HELLO", "FILE", "READY", "START", "NACK", "END", "REPORT", "BYE"):
            self.assertIn(verb, verbs, verb)
        self.assertEqual(sorted(v for r in verbs["PING"] for v in r["filelab.seq"]), ["1", "2"])
        for pong in verbs["PONG"]:                      # the round trip of each ping
            self.assertEqual(len(pong["filelab.request_in"]), 1)
            self.assertGreater(float(pong["filelab.response_ms"][0]), 0)
        self.assertEqual(verbs["HELLO"][0]["filelab.mode"], ["reliable"])
        if (ROOT / "udp" / "validation.py").exists():      # address validation: HELLO, RETRY, HELLO token=
            self.assertIn("RETRY", verbs)
            token = verbs["RETRY"][0]["filelab.token"][0]
            self.assertRegex(token, r"^[0-9a-f]{40}$")
            self.assertIn([token], [r["filelab.token"] for r in verbs["HELLO"]])
        for hello in verbs["HELLO"]:
            if hello["filelab.pad"]:                    # padded to 1,024 bytes, the pad shown as its length
                self.assertEqual(hello["filelab.key"][-1], "pad")
        offer = verbs["FILE"][0]
        tid = offer["filelab.transfer"][0]
        chunk = int(offer["filelab.chunk"][0])
        self.assertEqual(offer["filelab.name"], [self.NAME])
        self.assertEqual(offer["filelab.size"], [str(self.SIZE)])
        self.assertEqual(offer["filelab.sha256"], [self.sha])
        self.assertEqual(offer["filelab.mode"], ["reliable"])
        for verb in ("READY", "START", "NACK", "END", "REPORT", "BYE"):
            self.assertEqual(set(v for r in verbs[verb] for v in r["filelab.transfer"]), {tid}, verb)
        chunks = (self.SIZE + chunk - 1) // chunk
        self.assertEqual(verbs["END"][0]["filelab.chunks"], [str(chunks)])
        report = verbs["REPORT"][-1]
        self.assertEqual((report["filelab.bytes"], report["filelab.sha256"], report["filelab.ok"]),
                         ([str(self.SIZE)], [self.sha], ["1"]))
        self.assertEqual(verbs["BYE"][-1]["filelab.ok"], ["1"])
        data = [r for r in rows if r["filelab.type"]]
        seen = {}
        for r in data:
            self.assertEqual(set(r["filelab.transfer"]), {tid})
            for seq, off, n in zip(r["filelab.seq"], r["filelab.data_offset"], r["filelab.data_len"]):
                self.assertEqual(int(off), int(seq) * chunk)
                seen[int(seq)] = int(n)
        self.assertEqual(sorted(seen), list(range(chunks)))
        self.assertEqual(sum(seen.values()), self.SIZE)


class PrintedCommandTests(unittest.TestCase):
    """scripts/pcap.py prints a tshark command line that really decodes the capture."""

    def test_pcap_prints_a_working_command(self):
        import contextlib
        import io
        import shlex
        from scripts import pcap
        with tempfile.TemporaryDirectory(prefix="test_dissector_") as tmp:
            path = os.path.join(tmp, "a b.pcap")
            w = PcapWriter(path)
            w.udp(("127.0.0.1", 40000), ("127.0.0.1", 5002), b"PING seq=3\n")
            w.close()
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                self.assertEqual(pcap.main([path]), 0)
            command = pcap.tshark_command(path)
            line = [ln for ln in out.getvalue().splitlines() if ln.endswith(": " + command)]
            self.assertEqual(len(line), 1, out.getvalue())      # "decode it: <command>" (any language)
            argv = shlex.split(command)
            self.assertEqual(argv[:2], ["tshark", "-X"])
            self.assertEqual(argv[2], "lua_script:" + str(DISSECTOR))
            self.assertEqual(argv[-1], path)
            skip_without_tshark(self)
            done = subprocess.run([tshark_path()] + argv[1:] + ["-T", "fields", "-e", "filelab.verb", "-e", "filelab.seq"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TSHARK_TIMEOUT,
                                  env=tshark_env())
            self.assertEqual(done.stdout.decode().split(), ["PING", "3"], done.stderr[-500:])


class RobustnessTests(unittest.TestCase):
    """Garbage on the default ports never makes the Lua code fail (a Lua error shows in tshark's output)."""

    def test_garbage_on_default_ports(self):
        skip_without_tshark(self)
        rnd = random.Random(2026)
        pieces = [b"", b"\n", b"A", b"HELLO", b"HELLO id=1 total=x\n", b"FILE name=%zz size=-1 sha256= clients=0\n",
                  b"NACK transfer=1 received=1 lost=1 ranges=9-2_x_4294967299-4294967300_\n",
                  b"PING seq=99999999999999999999999\n", b"X" * 2000, b"lower case=1\n", b"BAD KEY=1 =2 a==\n",
                  b"\xd1", b"\xd1\x01", b"\xd1\x02\x00\x00" + bytes(8), b"\xd1\x01\xff\xff" + bytes(200),
                  b"DATA size=18446744073709551616\n", b"DONE bytes=1 sha256=zz ok=2\n", b"REPORT\r\n",
                  b"HELLO id=1 total=1 pad=" + b"0" * 1100 + b"\n", b"RETRY token=nothex\n", b"END transfer=1\x00\n"]
        for _ in range(60):
            n = rnd.randint(1, 300)
            if rnd.random() < 0.5:
                pieces.append(bytes(rnd.getrandbits(8) for _ in range(n)))
            else:
                alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 =%_-\n\r"
                pieces.append(bytes(rnd.choice(alphabet) for _ in range(n)))
        with tempfile.TemporaryDirectory(prefix="test_dissector_") as tmp:
            path = os.path.join(tmp, "garbage.pcap")
            w = PcapWriter(path)
            for piece in pieces:
                w.udp(("127.0.0.1", 40000), ("127.0.0.1", 5002), piece)
                w.udp(("127.0.0.1", 40000), ("127.0.0.1", 5002), piece, snaplen=42 + 7)
            t = TcpConv(w, ("127.0.0.1", 40001), ("127.0.0.1", 5001))
            t.send("s", b"DATA size=5000\n")
            for piece in pieces:
                if piece:
                    t.send(rnd.choice("cs"), piece)
            t.send("c", b"HELLO id=1 total=1\n", snaplen=54 + 3)
            w.close()
            for extra in ([], ["-2"], ["-V"]):
                out = run_tshark(["-r", path] + extra)       # raises on a Lua error
                self.assertTrue("FILELAB" in out or "File-transfer lab protocol" in out, extra)


class DecodeAsTests(unittest.TestCase):
    """A port registered to another dissector: Decode As (tshark -d) hands it to filelab."""

    def test_decode_as(self):
        skip_without_tshark(self)
        if 47000 not in registered_ports("udp"):
            self.skipTest("udp port 47000 is not registered to another dissector in this tshark")
        with tempfile.TemporaryDirectory(prefix="test_dissector_") as tmp:
            path = os.path.join(tmp, "p.pcap")
            w = PcapWriter(path)
            w.udp(("127.0.0.1", 40100), ("127.0.0.1", 47000), b"PING seq=5\n")
            w.close()
            self.assertEqual(ours(decode(path)), [])                 # the other dissector took it
            out = run_tshark(["-d", "udp.port==47000,filelab", "-r", path, "-T", "fields", "-e", "filelab.seq"])
            self.assertEqual(out.split(), ["5"])


class PortPreferenceTests(unittest.TestCase):
    """The TCP/UDP port preferences move the registration (Edit > Preferences, or tshark -o)."""

    def test_tcp_port_preference(self):
        skip_without_tshark(self)
        with tempfile.TemporaryDirectory(prefix="test_dissector_") as tmp:
            path = os.path.join(tmp, "p.pcap")
            w = PcapWriter(path)
            t = TcpConv(w, ("127.0.0.1", 40001), ("127.0.0.1", 6001))
            t.send("c", b"WHATEVER x=1\n")               # unknown verb: no heuristic takes it
            w.close()
            self.assertEqual(ours(decode(path)), [])
            out = run_tshark(["-o", "filelab.tcp_port:6001", "-r", path, "-T", "fields", "-e", "filelab.verb"])
            self.assertEqual(out.split(), ["WHATEVER"])


class PluginFolderTests(unittest.TestCase):
    """The file works from the personal Lua plugins folder too (no -X option)."""

    def test_personal_plugins_folder(self):
        skip_without_tshark(self)
        with tempfile.TemporaryDirectory(prefix="test_dissector_home_") as home:
            folders = run_tshark(["-G", "folders"], home=home, script=False)
            line = [ln for ln in folders.splitlines() if ln.startswith("Personal Lua Plugins:")]
            self.assertTrue(line, folders)
            plugins = Path(line[0].split(":", 1)[1].strip())
            self.assertTrue(str(plugins).startswith(home), plugins)
            plugins.mkdir(parents=True)
            shutil.copy(str(DISSECTOR), str(plugins / "filelab.lua"))
            listing = run_tshark(["-G", "plugins"], home=home, script=False)
            self.assertIn("filelab.lua", listing)
            pcap = os.path.join(home, "p.pcap")
            w = PcapWriter(pcap)
            w.udp(("127.0.0.1", 40000), ("127.0.0.1", 5002), b"PING seq=7\n")
            w.close()
            rows = ours(decode(pcap, "filelab", home=home, script=False))
            self.assertEqual([(r["filelab.verb"], r["filelab.seq"]) for r in rows], [(["PING"], ["7"])])


if __name__ == "__main__":
    unittest.main()
