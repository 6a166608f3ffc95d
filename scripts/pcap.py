"""Small standard-library pcap/pcapng reader with a per-connection summary.

Reads classic libpcap files (either byte order, microsecond or nanosecond
magic) and pcapng files (Section Header, Interface Description, Enhanced,
Simple and obsolete Packet blocks; other blocks are skipped).  Link types:
EN10MB (1, with 802.1Q/802.1ad tags), RAW (101, and 12/14 which old files use
for raw IP), IPV4 (228), IPV6 (229), LINUX_SLL (113), LINUX_SLL2 (276),
NULL (0) and LOOP (108).  IPv4 and IPv6 (extension headers skipped), TCP and
UDP are decoded; only headers are needed, so captures with a small snaplen
work: payload sizes come from the IP length fields, wire bytes from each
record's original length.

API:
    summarize(path, ports=None, strict=True, related_only=False)
                                          -> list of connection rows
    analyze(path, ports=None, strict=True, related_only=False)
                                          -> {"file", "format", "linktypes",
                                              "connections": rows, "totals"}
    PcapReader(path, strict=True)             iterates Packet(ts, linktype,
                                                 caplen, origlen, data)
    tshark_retransmissions(path, timeout)     optional cross-check (None
                                                 without tshark)
    PcapError                                 the one exception for unreadable,
                                                 corrupt or truncated files

A connection row is a dict: proto ("tcp"|"udp"), client_ip, client_port,
server_ip, server_port, client, server ("ip:port", "[v6]:port"), role_by
(how the server side was chosen: "ports", "syn", "peer", "bulk", "first-sender"
or "lower-port"),
first_ts, last_ts, duration_s, frames, wire_bytes, payload_bytes, and per
direction "c2s" / "s2c" dicts with frames, wire_bytes (original frame length,
link header included), payload_bytes, fragments (IP fragment frames), plus for
TCP syn, fin, rst, retransmissions, retransmitted_bytes and for UDP datagrams.
The server side is the endpoint whose port is in `ports`; else, for TCP, the
receiver of a bare SYN; else an endpoint already seen as client/server in
an earlier conversation (UDP per-session ports); else, for UDP, the side that
sent most of the payload (the file goes server -> client), else the side that
spoke first (the client's HELLO or PING); else the lower port.

Retransmission estimate: a TCP segment with payload whose sequence range
overlaps a range already seen with payload in the same direction (keep-alive
and window probes count too; it is an estimate, see tshark_retransmissions).
IP fragments after the first carry no UDP/TCP header; they are attributed to
their datagram's flow by (source, destination, IP id, protocol).

related_only=True drops conversations that neither use one of `ports` nor
share an endpoint with a client of one (useful on a busy loopback).

CLI: python3 scripts/pcap.py FILE [--ports 5001,5002] [--related] [--json]
     [--lenient] [--tshark]
     (the table ends with the tshark command that decodes FILE with the lab's
     dissector, scripts/wireshark/filelab.lua: tshark_command(FILE))
"""
from __future__ import annotations

if __package__ in (None, ""):
    import os, sys
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import argparse
import bisect
import json
import os
import shlex
import shutil
import socket
import struct
import subprocess
import sys
from collections import OrderedDict, namedtuple

from transfer import i18n

__all__ = [
    "PcapError", "Packet", "PcapReader", "analyze", "summarize",
    "tshark_retransmissions", "add_tshark_retransmissions", "format_table", "main",
    "DISSECTOR", "tshark_command",
]

#: Largest captured length accepted for one classic record (libpcap's maximum snaplen).
MAX_CAPLEN = 262144
#: Largest pcapng block accepted.
MAX_BLOCK = 16 * 1024 * 1024
#: Disjoint sequence ranges remembered per TCP direction before gaps are merged.
MAX_INTERVALS = 4096
#: Remembered IP fragment ids (for attributing later fragments to a flow).
MAX_FRAGMENT_KEYS = 65536

Packet = namedtuple("Packet", "ts linktype caplen origlen data")
Packet.__doc__ = """One captured frame: ts (float seconds or None), linktype, caplen, origlen, data."""

_PCAP_MAGICS = {0xA1B2C3D4: 1e6, 0xA1B23C4D: 1e9}
_PCAPNG_SHB = b"\x0a\x0d\x0d\x0a"
_LINKTYPE_NAMES = {
    0: "NULL", 1: "EN10MB", 12: "RAW", 14: "RAW", 101: "RAW", 108: "LOOP",
    113: "LINUX_SLL", 228: "IPV4", 229: "IPV6", 276: "LINUX_SLL2",
}
_RAW_LINKTYPES = (12, 14, 101)
_IPV6_EXT = (0, 43, 60, 135, 139, 140)   # (len + 1) * 8 bytes each


class PcapError(Exception):
    """The file cannot be read as pcap/pcapng: unreadable, corrupt or truncated."""


# ---------------------------------------------------------------------------
# Reading


class PcapReader:
    """Iterate the packets of a pcap or pcapng file.

    With strict=True (default) a file that ends in the middle of a record
    raises PcapError; with strict=False iteration stops there and the
    attributes `truncated` (True) and `truncation` (detail) are set.
    Attributes after/while iterating: format ("pcap"|"pcapng"), linktypes
    (set), snaplen (classic pcap), packets (count).
    """

    def __init__(self, path, strict=True):
        """Remember the path; the file is opened when iterated."""
        self.path = str(path)
        self.strict = strict
        self.format = None
        self.linktypes = set()
        self.snaplen = None
        self.packets = 0
        self.truncated = False
        self.truncation = None

    # -- helpers -----------------------------------------------------------
    def _error(self, detail):
        return PcapError("%s: %s" % (self.path, detail))

    def _truncated(self, detail):
        """Handle a file that ends inside a record; returns normally when lenient."""
        if self.strict:
            raise self._error("truncated file: " + detail)
        self.truncated = True
        self.truncation = detail

    def __iter__(self):
        try:
            f = open(self.path, "rb")
        except OSError as exc:
            raise PcapError("cannot open %s: %s" % (self.path, exc.strerror or exc)) from None
        with f:
            try:
                size = os.fstat(f.fileno()).st_size
                magic = f.read(4)
                if len(magic) < 4:
                    raise self._error("not a pcap file: only %d bytes" % len(magic))
                if magic == _PCAPNG_SHB:
                    self.format = "pcapng"
                    gen = self._pcapng(f, size, magic)
                else:
                    gen = self._classic(f, size, magic)
                for pkt in gen:
                    self.packets += 1
                    yield pkt
            except OSError as exc:
                raise PcapError("cannot read %s: %s" % (self.path, exc.strerror or exc)) from None
            except struct.error as exc:  # pragma: no cover - lengths are checked first
                raise self._error("corrupt file (%s)" % exc) from None

    # -- classic pcap --------------------------------------------------------
    def _classic(self, f, size, magic):
        endian = None
        for e in "<>":
            value = struct.unpack(e + "I", magic)[0]
            if value in _PCAP_MAGICS:
                endian, divisor = e, _PCAP_MAGICS[value]
                break
        if endian is None:
            raise self._error("not a pcap or pcapng file (magic %s)" % magic.hex())
        self.format = "pcap"
        rest = f.read(20)
        if len(rest) < 20:
            raise self._error("truncated file: global header has %d of 24 bytes" % (4 + len(rest)))
        vmajor, vminor, _zone, _sigfigs, snaplen, network = struct.unpack(endian + "HHiIII", rest)
        if vmajor != 2:
            raise self._error("unsupported pcap version %d.%d" % (vmajor, vminor))
        linktype = network & 0xFFFF
        self.snaplen = snaplen
        self.linktypes.add(linktype)
        record = struct.Struct(endian + "IIII")
        offset = 24
        number = 0
        read = f.read
        while True:
            head = read(16)
            if not head:
                return
            number += 1
            if len(head) < 16:
                self._truncated("record %d header at offset %d has %d of 16 bytes"
                                % (number, offset, len(head)))
                return
            sec, frac, incl, orig = record.unpack(head)
            if incl > MAX_CAPLEN:
                raise self._error("corrupt file: record %d at offset %d claims %d captured bytes "
                                  "(limit %d)" % (number, offset, incl, MAX_CAPLEN))
            if incl > size - offset - 16:
                self._truncated("record %d at offset %d needs %d bytes, only %d left"
                                % (number, offset, incl, max(0, size - offset - 16)))
                return
            data = read(incl)
            if len(data) < incl:
                self._truncated("record %d at offset %d has %d of %d bytes"
                                % (number, offset, len(data), incl))
                return
            offset += 16 + incl
            yield Packet(sec + frac / divisor, linktype, incl, max(orig, incl), data)

    # -- pcapng --------------------------------------------------------------
    def _pcapng(self, f, size, first):
        endian = "<"
        interfaces = []          # (linktype, snaplen, units per second, offset seconds)
        offset = 0
        number = 0
        read = f.read
        head = first + read(4)
        while True:
            if not head:
                return
            number += 1
            if len(head) < 8:
                self._truncated("block %d header at offset %d has %d of 8 bytes"
                                % (number, offset, len(head)))
                return
            is_shb = head[:4] == _PCAPNG_SHB
            if is_shb:
                bom = read(4)
                if len(bom) < 4:
                    self._truncated("section header at offset %d is cut short" % offset)
                    return
                if bom == b"\x4d\x3c\x2b\x1a":
                    endian = "<"
                elif bom == b"\x1a\x2b\x3c\x4d":
                    endian = ">"
                else:
                    raise self._error("corrupt pcapng: bad byte-order magic at offset %d" % offset)
                already = 12
            else:
                already = 8
            btype, blen = struct.unpack(endian + "II", head)
            if blen < 12 or blen % 4 or (is_shb and blen < 28):
                raise self._error("corrupt pcapng: block %d at offset %d has length %d"
                                  % (number, offset, blen))
            if blen > MAX_BLOCK:
                raise self._error("corrupt pcapng: block %d at offset %d claims %d bytes (limit %d)"
                                  % (number, offset, blen, MAX_BLOCK))
            if blen > size - offset:
                self._truncated("block %d at offset %d needs %d bytes, only %d left"
                                % (number, offset, blen, max(0, size - offset)))
                return
            body = (bom if is_shb else b"") + read(blen - already)
            if len(body) < blen - 8:
                self._truncated("block %d at offset %d is cut short" % (number, offset))
                return
            trailer = struct.unpack(endian + "I", body[-4:])[0]
            if trailer != blen:
                raise self._error("corrupt pcapng: block %d at offset %d: trailing length %d "
                                  "differs from %d" % (number, offset, trailer, blen))
            body = body[:-4]
            if btype == 0x0A0D0D0A:
                major = struct.unpack(endian + "H", body[4:6])[0]
                if major != 1:
                    raise self._error("unsupported pcapng version %d at offset %d" % (major, offset))
                interfaces = []
            elif btype == 1:
                interfaces.append(self._idb(body, endian, offset))
            elif btype in (6, 2):
                if btype == 6:
                    if len(body) < 20:
                        raise self._error("corrupt pcapng: short packet block at offset %d" % offset)
                    ifid, hi, lo, caplen, origlen = struct.unpack(endian + "IIIII", body[:20])
                else:
                    if len(body) < 20:
                        raise self._error("corrupt pcapng: short packet block at offset %d" % offset)
                    ifid, _drops, hi, lo, caplen, origlen = struct.unpack(endian + "HHIIII", body[:20])
                if ifid >= len(interfaces):
                    raise self._error("corrupt pcapng: packet at offset %d names undefined "
                                      "interface %d" % (offset, ifid))
                if 20 + caplen > len(body):
                    raise self._error("corrupt pcapng: packet at offset %d claims %d bytes in a "
                                      "%d-byte block" % (offset, caplen, blen))
                linktype, _snap, units, tsoff = interfaces[ifid]
                ts = ((hi << 32) | lo) / units + tsoff
                yield Packet(ts, linktype, caplen, max(origlen, caplen), body[20:20 + caplen])
            elif btype == 3:
                if not interfaces:
                    raise self._error("corrupt pcapng: simple packet at offset %d before any "
                                      "interface" % offset)
                if len(body) < 4:
                    raise self._error("corrupt pcapng: short simple packet at offset %d" % offset)
                origlen = struct.unpack(endian + "I", body[:4])[0]
                linktype, snap, _units, _off = interfaces[0]
                caplen = min(origlen, len(body) - 4)
                if snap:
                    caplen = min(caplen, snap)
                yield Packet(None, linktype, caplen, max(origlen, caplen), body[4:4 + caplen])
            offset += blen
            head = read(8)

    def _idb(self, body, endian, offset):
        if len(body) < 8:
            raise self._error("corrupt pcapng: short interface block at offset %d" % offset)
        linktype, _res, snaplen = struct.unpack(endian + "HHI", body[:8])
        units, tsoff = 1e6, 0
        pos = 8
        while pos + 4 <= len(body):
            code, olen = struct.unpack(endian + "HH", body[pos:pos + 4])
            pos += 4
            if code == 0:
                break
            value = body[pos:pos + olen]
            if len(value) < olen:
                raise self._error("corrupt pcapng: interface option overruns block at offset %d"
                                  % offset)
            if code == 9 and olen >= 1:
                res = value[0]
                units = float(2 ** (res & 0x7F)) if res & 0x80 else float(10 ** min(res, 30))
            elif code == 14 and olen >= 8:
                tsoff = struct.unpack(endian + "q", value[:8])[0]
            pos += (olen + 3) & ~3
        self.linktypes.add(linktype)
        return linktype, snaplen, units, tsoff


# ---------------------------------------------------------------------------
# Summary state


class _Direction:
    """Counters for one direction of one conversation."""

    __slots__ = ("frames", "wire", "payload", "fragments", "datagrams", "syn", "fin", "rst",
                 "retrans", "retrans_bytes", "last_seq", "last_ext", "starts", "ends")

    def __init__(self):
        self.frames = self.wire = self.payload = self.fragments = self.datagrams = 0
        self.syn = self.fin = self.rst = self.retrans = self.retrans_bytes = 0
        self.last_seq = None
        self.last_ext = 0
        self.starts = []
        self.ends = []

    def seen_before(self, seq, length):
        """Record sequence range [seq, seq+length); True if it overlaps an earlier range."""
        if self.last_seq is None:
            ext = seq
        else:
            delta = (seq - self.last_seq) & 0xFFFFFFFF
            if delta >= 0x80000000:
                delta -= 0x100000000
            ext = self.last_ext + delta
        self.last_seq, self.last_ext = seq, ext
        start, end = ext, ext + length
        starts, ends = self.starts, self.ends
        if not starts or start > ends[-1]:
            starts.append(start)
            ends.append(end)
            overlap = False
        elif start == ends[-1]:
            ends[-1] = end
            return False
        else:
            i = bisect.bisect_right(starts, start) - 1      # last range starting at or before start
            j = bisect.bisect_right(starts, end)            # ranges [.. j) start at or before end
            overlap = (i >= 0 and ends[i] > start) or bisect.bisect_left(starts, end) > i + 1
            lo = i if i >= 0 and ends[i] >= start else i + 1
            if lo < j:
                new_start = min(start, starts[lo])
                new_end = max(end, ends[j - 1])
            else:
                new_start, new_end = start, end
            starts[lo:j] = [new_start]
            ends[lo:j] = [new_end]
        if len(starts) > MAX_INTERVALS:          # forget the oldest gap
            del starts[1]
            del ends[0]
        return overlap

    def as_dict(self, proto):
        """JSON-friendly counters."""
        out = {"frames": self.frames, "wire_bytes": self.wire, "payload_bytes": self.payload,
               "fragments": self.fragments}
        if proto == "tcp":
            out.update(syn=self.syn, fin=self.fin, rst=self.rst, retransmissions=self.retrans,
                       retransmitted_bytes=self.retrans_bytes)
        else:
            out["datagrams"] = self.datagrams
        return out


class _Conversation:
    """Both directions between two endpoints (a, b sorted); dirs[0] is a -> b."""

    __slots__ = ("proto", "a", "b", "dirs", "first_ts", "last_ts", "syn_from", "closed",
                 "first_from")

    def __init__(self, proto, a, b, first_from):
        self.proto = proto
        self.a, self.b = a, b
        self.dirs = (_Direction(), _Direction())
        self.first_ts = self.last_ts = None
        self.syn_from = None
        self.closed = False
        self.first_from = first_from

    def touch(self, ts):
        """Extend the time span with a packet timestamp."""
        if ts is None:
            return
        if self.first_ts is None or ts < self.first_ts:
            self.first_ts = ts
        if self.last_ts is None or ts > self.last_ts:
            self.last_ts = ts


def _endpoint(ip, port):
    return ("[%s]:%d" if ":" in ip else "%s:%d") % (ip, port)


def _parse_ports(ports):
    if ports is None:
        return frozenset()
    if isinstance(ports, int):
        return frozenset([ports])
    if isinstance(ports, str):
        ports = [p for p in ports.replace(" ", "").split(",") if p]
    return frozenset(int(p) for p in ports)


def analyze(path, ports=None, strict=True, related_only=False):
    """Read a capture and return {"file", "format", "linktypes", "connections", "totals"}.

    `ports` (iterable of ints or "5001,5002") tells which side is the server.
    related_only=True keeps only conversations that use one of `ports` or
    share an endpoint with a client of those (e.g. UDP per-session ports);
    totals always cover the whole file.  Raises PcapError for unreadable,
    corrupt or (when strict) truncated files; ValueError for bad `ports`.
    """
    port_set = _parse_ports(ports)
    reader = PcapReader(path, strict=strict)
    convs = {}                      # (proto, a, b) -> current _Conversation
    order = []                      # every conversation, in order of first packet
    frag_map = OrderedDict()        # (src, dst, id, proto) -> (conv, direction index)
    pending = OrderedDict()         # fragments seen before their first fragment
    names = {}
    ntoa = socket.inet_ntoa
    ntop = socket.inet_ntop
    unpack_from = struct.unpack_from
    t = dict(frames=0, wire_bytes=0, captured_bytes=0, snapped_frames=0, non_ip_frames=0,
             other_ip_frames=0, short_frames=0, tcp_frames=0, udp_frames=0, tcp_payload_bytes=0,
             udp_payload_bytes=0, tcp_retransmissions=0, ip_fragments=0,
             unattributed_fragments=0, first_ts=None, last_ts=None)
    unsupported = set()

    def add_fragment_counts(conv, d, frames, wire, payload, ts_list):
        """Credit later IP fragments to their datagram's flow."""
        dd = conv.dirs[d]
        dd.frames += frames
        dd.wire += wire
        dd.payload += payload
        dd.fragments += frames
        for ts in ts_list:
            conv.touch(ts)
        if conv.proto == "udp":
            t["udp_payload_bytes"] += payload
        else:
            t["tcp_payload_bytes"] += payload

    for pkt in reader:
        ts, linktype, caplen, origlen, data = pkt
        t["frames"] += 1
        t["wire_bytes"] += origlen
        t["captured_bytes"] += caplen
        if caplen < origlen:
            t["snapped_frames"] += 1
        if ts is not None:
            if t["first_ts"] is None or ts < t["first_ts"]:
                t["first_ts"] = ts
            if t["last_ts"] is None or ts > t["last_ts"]:
                t["last_ts"] = ts
        # ---- link layer -> (ip version, offset)
        version = -1                    # -1: link header cut short, 0: not IP
        if linktype == 1:
            if caplen >= 14:
                off = 14
                et = (data[12] << 8) | data[13]
                while et in (0x8100, 0x88A8, 0x9100) and off + 4 <= caplen:
                    et = (data[off + 2] << 8) | data[off + 3]
                    off += 4
                version = 4 if et == 0x0800 else 6 if et == 0x86DD else 0
        elif linktype in _RAW_LINKTYPES:
            off = 0
            if caplen >= 1:
                version = data[0] >> 4
                if version not in (4, 6):
                    version = 0
        elif linktype == 113:
            off = 16
            if caplen >= 16:
                et = (data[14] << 8) | data[15]
                version = 4 if et == 0x0800 else 6 if et == 0x86DD else 0
        elif linktype == 276:
            off = 20
            if caplen >= 20:
                et = (data[0] << 8) | data[1]
                version = 4 if et == 0x0800 else 6 if et == 0x86DD else 0
        elif linktype in (0, 108):
            off = 4
            if caplen >= 4:
                fam = int.from_bytes(data[:4], "big")
                if linktype == 0 and fam > 0xFFFF:
                    fam = int.from_bytes(data[:4], "little")
                version = 4 if fam == 2 else 6 if fam in (10, 24, 28, 30) else 0
        elif linktype == 228:
            off, version = 0, 4
        elif linktype == 229:
            off, version = 0, 6
        else:
            unsupported.add(linktype)
            version = 0
        if version == 4:
            if caplen < off + 20 or data[off] >> 4 != 4:
                t["short_frames" if caplen < off + 20 else "non_ip_frames"] += 1
                continue
            ihl = (data[off] & 15) * 4
            tot_len, ident, frag = unpack_from("!HHH", data, off + 2)
            proto = data[off + 9]
            if ihl < 20 or caplen < off + ihl:
                t["short_frames"] += 1
                continue
            ip_len = tot_len if tot_len >= ihl else origlen - off
            src_b = data[off + 12:off + 16]
            dst_b = data[off + 16:off + 20]
            frag_off = (frag & 0x1FFF) * 8
            more = frag & 0x2000
            l4 = off + ihl
            l4_len = ip_len - ihl
        elif version == 6:
            if caplen < off + 40 or data[off] >> 4 != 6:
                t["short_frames" if caplen < off + 40 else "non_ip_frames"] += 1
                continue
            plen = (data[off + 4] << 8) | data[off + 5]
            proto = data[off + 6]
            src_b = data[off + 8:off + 24]
            dst_b = data[off + 24:off + 40]
            l4 = off + 40
            frag_off = more = ident = 0
            bad = False
            for _ in range(16):
                if proto in _IPV6_EXT:
                    if caplen < l4 + 2:
                        bad = True
                        break
                    proto, l4 = data[l4], l4 + (data[l4 + 1] + 1) * 8
                elif proto == 51:
                    if caplen < l4 + 2:
                        bad = True
                        break
                    proto, l4 = data[l4], l4 + (data[l4 + 1] + 2) * 4
                elif proto == 44:
                    if caplen < l4 + 8:
                        bad = True
                        break
                    fo = (data[l4 + 2] << 8) | data[l4 + 3]
                    frag_off, more = fo & 0xFFF8, fo & 1
                    ident = unpack_from("!I", data, l4 + 4)[0]
                    proto, l4 = data[l4], l4 + 8
                    if frag_off:
                        break
                else:
                    break
            if bad:
                t["short_frames"] += 1
                continue
            l4_len = (plen - (l4 - off - 40)) if plen else origlen - l4
        else:
            t["short_frames" if version < 0 else "non_ip_frames"] += 1
            continue
        if l4_len < 0:
            l4_len = 0
        # ---- addresses
        src = names.get(src_b)
        if src is None:
            src = names[src_b] = ntoa(src_b) if version == 4 else ntop(socket.AF_INET6, src_b)
        dst = names.get(dst_b)
        if dst is None:
            dst = names[dst_b] = ntoa(dst_b) if version == 4 else ntop(socket.AF_INET6, dst_b)
        fragment = bool(more or frag_off)
        if fragment:
            t["ip_fragments"] += 1
        if frag_off:
            # a later fragment: no transport header, attribute by IP id
            fkey = (src, dst, ident, proto)
            owner = frag_map.get(fkey)
            if owner is not None:
                conv, d = owner
                if proto == 6:
                    t["tcp_frames"] += 1
                elif proto == 17:
                    t["udp_frames"] += 1
                add_fragment_counts(conv, d, 1, origlen, l4_len, (ts,))
            elif proto in (6, 17):
                entry = pending.get(fkey)
                if entry is None:
                    entry = pending[fkey] = [0, 0, 0, []]
                    if len(pending) > MAX_FRAGMENT_KEYS:
                        t["unattributed_fragments"] += pending.popitem(last=False)[1][0]
                entry[0] += 1
                entry[1] += origlen
                entry[2] += l4_len
                if ts is not None and len(entry[3]) < 2:
                    entry[3].append(ts)
                elif ts is not None:
                    entry[3][1] = ts
            else:
                t["other_ip_frames"] += 1
            continue
        if proto == 6:
            if caplen < l4 + 14:
                t["short_frames"] += 1
                continue
            sport, dport, seq = unpack_from("!HHI", data, l4)
            doff = (data[l4 + 12] >> 4) * 4
            flags = data[l4 + 13]
            payload = l4_len - doff if l4_len >= doff else 0
            pname = "tcp"
        elif proto == 17:
            if caplen < l4 + 8:
                t["short_frames"] += 1
                continue
            sport, dport = unpack_from("!HH", data, l4)
            payload = l4_len - 8 if l4_len >= 8 else 0
            pname = "udp"
            flags = 0
        else:
            t["other_ip_frames"] += 1
            continue
        # ---- conversation
        s_ep = (src, sport)
        d_ep = (dst, dport)
        if s_ep <= d_ep:
            key, d = (pname, s_ep, d_ep), 0
        else:
            key, d = (pname, d_ep, s_ep), 1
        conv = convs.get(key)
        bare_syn = pname == "tcp" and (flags & 0x12) == 0x02
        if conv is None or (bare_syn and conv.closed):
            conv = convs[key] = _Conversation(pname, key[1], key[2], d)
            order.append(conv)
        conv.touch(ts)
        dd = conv.dirs[d]
        dd.frames += 1
        dd.wire += origlen
        dd.payload += payload
        if fragment:
            dd.fragments += 1
            fkey = (src, dst, ident, proto)
            frag_map[fkey] = (conv, d)
            if len(frag_map) > MAX_FRAGMENT_KEYS:
                frag_map.popitem(last=False)
            waiting = pending.pop(fkey, None)
            if waiting is not None:
                if proto == 6:
                    t["tcp_frames"] += waiting[0]
                else:
                    t["udp_frames"] += waiting[0]
                add_fragment_counts(conv, d, waiting[0], waiting[1], waiting[2], waiting[3])
        if pname == "tcp":
            t["tcp_frames"] += 1
            t["tcp_payload_bytes"] += payload
            if flags & 0x02:
                dd.syn += 1
                if bare_syn and conv.syn_from is None:
                    conv.syn_from = d
            if flags & 0x01:
                dd.fin += 1
                conv.closed = True
            if flags & 0x04:
                dd.rst += 1
                conv.closed = True
            if payload > 0:
                start = (seq + 1) & 0xFFFFFFFF if flags & 0x02 else seq
                if dd.seen_before(start, payload):
                    dd.retrans += 1
                    dd.retrans_bytes += payload
                    t["tcp_retransmissions"] += 1
        else:
            t["udp_frames"] += 1
            t["udp_payload_bytes"] += payload
            dd.datagrams += 1
    for entry in pending.values():
        t["unattributed_fragments"] += entry[0]
    rows = _orient(order, port_set, related_only)
    t["connections"] = len(rows)
    t["duration_s"] = (t["last_ts"] - t["first_ts"]) if t["first_ts"] is not None else None
    t["truncated"] = reader.truncated
    t["truncation"] = reader.truncation
    t["unsupported_linktypes"] = sorted(unsupported)
    return {
        "file": str(path),
        "format": reader.format,
        "linktypes": sorted(reader.linktypes),
        "linktype_names": [_LINKTYPE_NAMES.get(lt, str(lt)) for lt in sorted(reader.linktypes)],
        "snaplen": reader.snaplen,
        "connections": rows,
        "totals": t,
    }


def _bulk_sender(conv, ratio=4, floor=4096):
    """Index (0 = a, 1 = b) of the endpoint that sent at least *ratio* times the other's
    payload and at least *floor* bytes, or None."""
    pa, pb = conv.dirs[0].payload, conv.dirs[1].payload
    if pa >= floor and pa >= ratio * pb:
        return 0
    if pb >= floor and pb >= ratio * pa:
        return 1
    return None


def _orient(order, port_set, related_only=False):
    """Decide client/server per conversation and build the rows."""
    client_of = {}                  # conv -> (client endpoint index 0/1, role_by)
    for conv in order:
        pa, pb = conv.a[1] in port_set, conv.b[1] in port_set
        if pa != pb:
            client_of[id(conv)] = (1 if pa else 0, "ports")
        elif conv.syn_from is not None:
            client_of[id(conv)] = (conv.syn_from, "syn")
    known_clients, known_servers, port_clients = set(), set(), set()
    for conv in order:
        decided = client_of.get(id(conv))
        if decided is not None:
            eps = (conv.a, conv.b)
            known_clients.add(eps[decided[0]])
            known_servers.add(eps[1 - decided[0]])
            if decided[1] == "ports":
                port_clients.add(eps[decided[0]])
    for conv in order:              # in order of first packet: a decision informs the later ones
        if id(conv) in client_of:
            continue
        if (conv.a in known_clients) != (conv.b in known_clients):
            client_of[id(conv)] = (0 if conv.a in known_clients else 1, "peer")
        elif (conv.a in known_servers) != (conv.b in known_servers):
            client_of[id(conv)] = (1 if conv.a in known_servers else 0, "peer")
        elif conv.proto == "udp" and _bulk_sender(conv) is not None:
            # the file goes from server to client: the side sending most of the payload serves
            client_of[id(conv)] = (1 - _bulk_sender(conv), "bulk")
        elif conv.proto == "udp":
            # a UDP client speaks first (HELLO, PING); session ports answer later and are
            # oriented by "peer" through the client's endpoint
            client_of[id(conv)] = (conv.first_from, "first-sender")
        elif conv.a[1] != conv.b[1]:
            client_of[id(conv)] = (1 if conv.a[1] < conv.b[1] else 0, "lower-port")
        else:
            client_of[id(conv)] = (conv.first_from, "lower-port")
        ci = client_of[id(conv)][0]
        known_clients.add((conv.a, conv.b)[ci])
        known_servers.add((conv.a, conv.b)[1 - ci])
    rows = []
    for conv in order:
        ci, role_by = client_of[id(conv)]
        if related_only and role_by != "ports" and not (
                conv.a in port_clients or conv.b in port_clients):
            continue
        client, server = (conv.a, conv.b) if ci == 0 else (conv.b, conv.a)
        c2s = conv.dirs[0] if ci == 0 else conv.dirs[1]
        s2c = conv.dirs[1] if ci == 0 else conv.dirs[0]
        row = {
            "proto": conv.proto,
            "client_ip": client[0], "client_port": client[1],
            "server_ip": server[0], "server_port": server[1],
            "client": _endpoint(*client), "server": _endpoint(*server),
            "role_by": role_by,
            "first_ts": conv.first_ts, "last_ts": conv.last_ts,
            "duration_s": (conv.last_ts - conv.first_ts) if conv.first_ts is not None else None,
            "frames": c2s.frames + s2c.frames,
            "wire_bytes": c2s.wire + s2c.wire,
            "payload_bytes": c2s.payload + s2c.payload,
            "c2s": c2s.as_dict(conv.proto),
            "s2c": s2c.as_dict(conv.proto),
        }
        if conv.proto == "tcp":
            row["retransmissions"] = c2s.retrans + s2c.retrans
        else:
            row["datagrams"] = c2s.datagrams + s2c.datagrams
        rows.append(row)
    return rows


def summarize(path, ports=None, strict=True, related_only=False):
    """Per-connection rows of a capture (see the module docstring); totals via analyze()."""
    return analyze(path, ports=ports, strict=strict, related_only=related_only)["connections"]


# ---------------------------------------------------------------------------
# Optional tshark cross-check


def tshark_retransmissions(path, timeout=60.0, tshark=None):
    """Count tshark's tcp.analysis.retransmission per direction.

    Returns {(src_ip, src_port, dst_ip, dst_port): count}, or None when tshark
    is not installed.  Raises PcapError when tshark fails or exceeds `timeout`.
    """
    exe = tshark or shutil.which("tshark")
    if not exe:
        return None
    cmd = [exe, "-n", "-r", str(path), "-Y", "tcp.analysis.retransmission", "-T", "fields",
           "-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport",
           "-e", "ip.dst", "-e", "ipv6.dst", "-e", "tcp.dstport"]
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              stdin=subprocess.DEVNULL, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise PcapError("tshark did not finish reading %s within %g s" % (path, timeout)) from None
    except OSError as exc:
        raise PcapError("cannot run tshark: %s" % (exc.strerror or exc)) from None
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.decode("utf-8", "replace").splitlines()
                 if ln.strip() and "Running as user" not in ln]
        raise PcapError("tshark failed on %s: %s" % (path, lines[-1] if lines else
                                                     "exit status %d" % proc.returncode))
    counts = {}
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        parts = line.split("\t")
        if len(parts) < 6:
            continue
        src = (parts[0] or parts[1]).split(",")[0]
        dst = (parts[3] or parts[4]).split(",")[0]
        try:
            key = (src, int(parts[2].split(",")[0]), dst, int(parts[5].split(",")[0]))
        except ValueError:
            continue
        counts[key] = counts.get(key, 0) + 1
    return counts


#: The toolkit's Wireshark dissector (docs/WIRESHARK.md).
DISSECTOR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wireshark", "filelab.lua")


def tshark_command(path, dissector=DISSECTOR):
    """The command line (a string to print) that opens capture *path* in tshark with the
    lab's dissector; replace tshark by wireshark for the GUI."""
    argv = ["tshark", "-X", "lua_script:" + os.path.abspath(str(dissector)), "-r", os.path.abspath(str(path))]
    if os.name == "nt":
        return subprocess.list2cmdline(argv)
    return " ".join(shlex.quote(a) for a in argv)


def add_tshark_retransmissions(rows, counts):
    """Store tshark's counts as c2s/s2c "tshark_retransmissions" in TCP rows (in place)."""
    for row in rows:
        if row["proto"] != "tcp":
            continue
        c, s = (row["client_ip"], row["client_port"]), (row["server_ip"], row["server_port"])
        row["c2s"]["tshark_retransmissions"] = counts.get(c + s, 0)
        row["s2c"]["tshark_retransmissions"] = counts.get(s + c, 0)
    return rows


# ---------------------------------------------------------------------------
# Text output


def format_table(result):
    """Render analyze()'s result as a plain-text table (two lines per connection)."""
    head = ("proto", "client", "server", "dir", "frames", "wire_B", "payload_B",
            "retr", "S/F/R", "dgrams", "frags")
    lines = []
    for row in result["connections"]:
        for name, arrow in (("c2s", "->"), ("s2c", "<-")):
            d = row[name]
            if row["proto"] == "tcp":
                retr = str(d["retransmissions"])
                if "tshark_retransmissions" in d:
                    retr += "(%d)" % d["tshark_retransmissions"]
                sfr = "%d/%d/%d" % (d["syn"], d["fin"], d["rst"])
                dgrams = "-"
            else:
                retr, sfr, dgrams = "-", "-", str(d["datagrams"])
            lines.append((row["proto"], row["client"], row["server"], arrow, str(d["frames"]),
                          str(d["wire_bytes"]), str(d["payload_bytes"]), retr, sfr, dgrams,
                          str(d["fragments"])))
    widths = [max([len(h)] + [len(r[i]) for r in lines]) for i, h in enumerate(head)]
    out = ["  ".join(h.ljust(w) for h, w in zip(head, widths))]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in lines]
    t = result["totals"]
    dur = t["duration_s"]
    out.append("")
    out.append("%s %s (%s): %d frames, %d wire bytes, %d captured bytes, %d connections, "
               "%s s" % (result["file"], result["format"], "/".join(result["linktype_names"]) or "-",
                         t["frames"], t["wire_bytes"], t["captured_bytes"], t["connections"],
                         "-" if dur is None else "%.6f" % dur))
    out.append("tcp: %d frames, %d payload bytes, %d retransmissions; udp: %d frames, %d payload "
               "bytes; ip fragments %d (unattributed %d); non-ip %d, other ip %d, short %d"
               % (t["tcp_frames"], t["tcp_payload_bytes"], t["tcp_retransmissions"],
                  t["udp_frames"], t["udp_payload_bytes"], t["ip_fragments"],
                  t["unattributed_fragments"], t["non_ip_frames"], t["other_ip_frames"],
                  t["short_frames"]))
    if t["truncated"]:
        out.append("warning: truncated capture: %s" % t["truncation"])
    if t["unsupported_linktypes"]:
        out.append("warning: frames of unsupported link types skipped: %s"
                   % ", ".join(str(x) for x in t["unsupported_linktypes"]))
    return "\n".join(out)


def main(argv=None) -> int:
    """CLI: summarize a capture file as a table or JSON."""
    parser = argparse.ArgumentParser(
        prog="pcap.py", description="Per-connection summary of a pcap/pcapng capture.",
        formatter_class=i18n.HelpFormatter)
    parser.add_argument("file", help="capture file (pcap or pcapng)")
    parser.add_argument("--ports", default="",
                        help="comma-separated server ports, e.g. 5001,5002")
    parser.add_argument("--related", action="store_true",
                        help="list only conversations on --ports or sharing a client with them")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--lenient", action="store_true",
                        help="accept a file cut short in its last record (killed capture)")
    parser.add_argument("--tshark", action="store_true",
                        help="cross-check TCP retransmissions with tshark when installed")
    parser.add_argument("--tshark-timeout", type=float, default=60.0, metavar="S",
                        help="bound for the tshark run (default 60)")
    i18n.add_argument(parser, help=i18n.HELP_ONLY)
    with i18n.chosen(sys.argv[1:] if argv is None else argv):
        args = parser.parse_args(argv)
    try:
        ports = _parse_ports(args.ports)
    except ValueError:
        print("pcap.py: --ports must be comma-separated integers, got %r" % args.ports,
              file=sys.stderr)
        return 2
    if any(not 0 <= p <= 65535 for p in ports):
        print("pcap.py: --ports values must be 0..65535", file=sys.stderr)
        return 2
    try:
        result = analyze(args.file, ports=ports, strict=not args.lenient,
                         related_only=args.related)
        if args.tshark:
            counts = tshark_retransmissions(args.file, timeout=args.tshark_timeout)
            if counts is None:
                print("pcap.py: tshark is not installed; no cross-check", file=sys.stderr)
            else:
                add_tshark_retransmissions(result["connections"], counts)
    except PcapError as exc:
        print("pcap.py: %s" % exc, file=sys.stderr)
        return 2
    try:
        if args.json:
            json.dump(result, sys.stdout, indent=2, sort_keys=False)
            sys.stdout.write("\n")
        else:
            print(format_table(result))
            print("decode it: %s" % tshark_command(args.file))
    except BrokenPipeError:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
