"""The lab's JSON-lines logs read into tests: a small model other tools can import.

    from scripts.logmodel import collect_runs, group_tests, select_runs
    runs, attempts = split_attempts(collect_runs(["Logs"]))
    tests = group_tests(select_runs(runs, protocol="tcp", last=6))

Layers, each pure (no clock, no printing; problems go to a ``warn`` callback):

* :class:`Sidecar` - one parsed ``*-log.jsonl`` file (test record, connections, events, summary);
* :class:`Conn` - one connection record, with typed accessors (a ``dict`` subclass, so the
  raw JSON keys still work);
* :class:`Row` - one connection of a run: the server's record and the client's, paired by
  (client_ip, client_port) as README.md ("Logs") says;
* :class:`Run` - one execution of a test (a server log and its client logs);
* :class:`Test` - every run of one test (protocol + mode, file size, client count), with the
  median figures over runs;
* :class:`Attempt` - a client that never started a transfer (connection refused, BUSY, no
  answer): listed apart, never counted as a test.

MB = 10^6 bytes throughout.
"""

if __package__ in (None, ""):
    import os, sys  # noqa: E401
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import json
import math
import os
import re
import statistics
from collections import Counter, OrderedDict
from pathlib import Path

__all__ = [
    "Sidecar", "Conn", "Row", "Run", "Test", "Attempt", "find_logs", "read_sidecar", "load_sidecars",
    "pair_runs", "collect_runs", "split_attempts", "select_runs", "group_tests", "test_label",
    "protocol_label", "size_label", "MB", "HEADER_SIZE",
]

MB = 1000 * 1000
KiB = 1024
MiB = 1024 * 1024
GiB = 1024 * MiB
LOG_GLOB = "*-log.jsonl"
#: sidecar names: ...-log.jsonl, or ...-log-2.jsonl, -3, ... when the name was taken
LOG_NAME = re.compile(r".*-log(-[0-9]+)?\.jsonl\Z")
#: bytes of the UDP data datagram header (PROTOCOL.md); chunk_size in the logs includes it
HEADER_SIZE = 12
_PROTO_ORDER = {("tcp", "stream"): 0, ("udp", "raw"): 1, ("udp", "reliable"): 2}


# --------------------------------------------------------------------------- values

def _num(value):
    """*value* as float if it is a finite number (not bool), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _int(value):
    """*value* as int if it is an integral number, else None."""
    v = _num(value)
    return int(v) if v is not None and v == int(v) else None


def _mean(values):
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def _median(values):
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else None


def _sum(values):
    vals = [v for v in values if v is not None]
    return sum(vals) if vals else None


def size_label(size):
    """Human file size: 104857600 -> '100 MiB', 2621440 -> '2.5 MiB', None -> 'unknown size'."""
    if size is None:
        return "unknown size"
    for unit, name in ((GiB, "GiB"), (MiB, "MiB"), (KiB, "KiB")):
        if size >= unit:
            if size % unit == 0:
                return "{} {}".format(size // unit, name)
            return "{:.1f} {}".format(size / unit, name)
    return "{:,} B".format(size)


def protocol_label(protocol, mode):
    """'TCP', 'UDP raw', 'UDP reliable' (or PROTOCOL mode for anything else)."""
    protocol = (protocol or "?").lower()
    if protocol == "tcp" and mode in (None, "", "stream"):
        return "TCP"
    return "{} {}".format(protocol.upper(), mode or "").strip()


def test_label(protocol, mode, size, clients):
    """'TCP, 100 MiB, 5 clients'."""
    return "{}, {}, {} client{}".format(protocol_label(protocol, mode), size_label(size), clients,
                                        "" if clients == 1 else "s")


# --------------------------------------------------------------------------- reading

class Sidecar:
    """One parsed ``*-log.jsonl`` file: the test record, connections, events, summary."""

    def __init__(self, path, test, connections, events, summary):
        self.path = Path(path)
        self.test = test
        self.connections = connections
        self.events = events
        self.summary = summary

    @property
    def protocol(self):
        """'tcp' or 'udp' (lower case)."""
        return str(self.test.get("protocol") or "?").lower()

    @property
    def mode(self):
        """'stream', 'raw' or 'reliable'."""
        mode = self.test.get("mode")
        if not mode and self.protocol == "tcp":
            return "stream"
        return str(mode or "?").lower()

    @property
    def role(self):
        """'server' or 'client'."""
        return str(self.test.get("role") or "?").lower()

    @property
    def clients(self):
        """Clients this test waited for / started (falls back to the connection count)."""
        n = _int(self.test.get("clients"))
        return n if n is not None and n > 0 else max(1, len(self.connections))

    @property
    def file_size(self):
        """File size announced in the test record, else the bytes of a verified connection."""
        size = _int(self.test.get("file_size"))
        if size is not None and size > 0:
            return size
        for conn in self.connections:
            if conn.get("ok") is True and _int(conn.get("bytes")):
                return _int(conn.get("bytes"))
        return size

    @property
    def started_epoch(self):
        """Start time (epoch seconds) or None."""
        return _num(self.test.get("started_epoch"))

    def __repr__(self):
        return "Sidecar({}, {} {} {})".format(self.path.name, self.protocol, self.mode, self.role)


def find_logs(paths, warn=None):
    """The sidecar files named by *paths*: files as given, folders searched
    recursively for ``*-log.jsonl`` (and ``*-log-N.jsonl``).  Missing paths are reported through *warn*."""
    found = []
    seen = set()
    for p in paths:
        p = Path(p)
        if p.is_dir():
            candidates = sorted(c for c in p.rglob("*.jsonl") if LOG_NAME.match(c.name))
        elif p.is_file():
            candidates = [p]
        else:
            if warn:
                warn("{}: no such file or folder".format(p))
            continue
        for c in candidates:
            key = os.path.realpath(str(c))
            if key not in seen and c.is_file():
                seen.add(key)
                found.append(c)
    return found


def read_sidecar(path, warn=None):
    """Parse one sidecar; malformed lines are skipped with a warning.

    Returns a :class:`Sidecar`, or None when the file is unreadable or has no
    ``test`` record (nothing says what it is)."""
    path = Path(path)
    warn = warn or (lambda msg: None)
    test, summary = None, None
    connections, events = [], []
    try:
        with open(str(path), "r", encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError as exc:
        warn("{}: cannot read ({})".format(path, exc.strerror or exc))
        return None
    bad = 0
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            obj = None
        if not isinstance(obj, dict) or not isinstance(obj.get("record"), str):
            bad += 1
            if bad <= 3:
                warn("{}:{}: skipped a malformed line".format(path, number))
            continue
        kind = obj["record"]
        if kind == "test":
            if test is None:
                test = obj
        elif kind == "connection":
            connections.append(Conn(obj))
        elif kind == "event":
            events.append(obj)
        elif kind == "summary":
            summary = obj
    if bad > 3:
        warn("{}: skipped {} malformed lines in all".format(path, bad))
    if test is None:
        warn("{}: no 'test' record, file ignored".format(path))
        return None
    return Sidecar(path, test, connections, events, summary)


def load_sidecars(paths, warn=None):
    """Find and parse the sidecars under *paths* (see :func:`find_logs`)."""
    out = []
    for path in find_logs(paths, warn):
        sc = read_sidecar(path, warn)
        if sc is not None:
            out.append(sc)
    return out


# --------------------------------------------------------------------------- pairing

def _rate(rec):
    """rate_bytes_per_s of a connection record, or bytes / time when only those are given."""
    if rec is None:
        return None
    rate = _num(rec.get("rate_bytes_per_s"))
    if rate is not None:
        return rate
    b, t = _num(rec.get("bytes")), _num(rec.get("time_ms"))
    if b is not None and t:
        return b / (t / 1000.0)
    return None


class Conn(dict):
    """One ``connection`` record of a log: the JSON object itself (so ``conn["bytes"]`` still
    works), plus typed accessors that return None where a field is missing or not a number."""

    def num(self, key):
        """Field *key* as a finite float, or None."""
        return _num(self.get(key))

    def count(self, key):
        """Field *key* as an int, or None."""
        return _int(self.get(key))

    client_id = property(lambda self: _int(self.get("client_id")), doc="the k of HELLO")
    ok = property(lambda self: self.get("ok") is True, doc="True when this side verified the file")
    reason = property(lambda self: str(self.get("reason") or ""), doc="failure reason ('' when ok)")
    bytes = property(lambda self: _num(self.get("bytes")), doc="payload bytes moved")
    time_ms = property(lambda self: _num(self.get("time_ms")), doc="transfer time (the lab's definition)")
    first_byte_epoch = property(lambda self: _num(self.get("first_byte_epoch")), doc="first byte, epoch s")
    last_byte_epoch = property(lambda self: _num(self.get("last_byte_epoch")), doc="last byte, epoch s")

    @property
    def rate(self):
        """rate_bytes_per_s, or bytes / time when only those are given."""
        return _rate(self)

    @property
    def started(self):
        """True when a transfer began (a first byte, or bytes moved); a refused or BUSY
        connection never started."""
        return bool(self.first_byte_epoch is not None or (self.bytes or 0) > 0 or self.ok)


class Row:
    """One connection of a run: the server record, the client record, or both."""

    def __init__(self, server=None, client=None, server_log=None, client_log=None):
        self.server = server
        self.client = client
        self.server_log = server_log
        self.client_log = client_log

    def _get(self, key, prefer="server"):
        first, second = (self.server, self.client) if prefer == "server" else (self.client, self.server)
        for rec in (first, second):
            if rec is not None and rec.get(key) is not None:
                return rec.get(key)
        return None

    @property
    def client_id(self):
        """The k of HELLO (either side)."""
        return _int(self._get("client_id"))

    @property
    def ok(self):
        """True when every record present says ok."""
        flags = [rec.get("ok") is True for rec in (self.server, self.client) if rec is not None]
        return bool(flags) and all(flags)

    @property
    def reason(self):
        """Failure reasons of both sides, e.g. 'client: hash mismatch'."""
        parts = []
        for name, rec in (("server", self.server), ("client", self.client)):
            if rec is not None and rec.get("reason"):
                parts.append("{}: {}".format(name, rec.get("reason")))
        if self.server is None:
            parts.append("no server log")
        elif self.client is None:
            parts.append("no client log")
        return "; ".join(parts)

    client_ip = property(lambda self: self._get("client_ip", "client"), doc="client IP address")
    client_port = property(lambda self: _int(self._get("client_port", "client")), doc="client port")
    server_ip = property(lambda self: self._get("server_ip", "server"), doc="server IP address")
    server_port = property(lambda self: _int(self._get("server_port", "server")), doc="server port")

    def side(self, role, key):
        """Numeric field *key* of the *role* ('server'|'client') record, or None."""
        rec = self.server if role == "server" else self.client
        return None if rec is None else _num(rec.get(key))

    def rate(self, role):
        """Transfer rate (bytes/s) measured by *role*."""
        return _rate(self.server if role == "server" else self.client)

    @property
    def datagrams_sent(self):
        """UDP datagrams the server sent."""
        return _int(self.side("server", "datagrams_sent"))

    @property
    def datagrams_received(self):
        """UDP datagrams the client received (client log, else the client's report to the server)."""
        v = _int(self.side("client", "datagrams_received"))
        if v is None:
            v = _int(self._report().get("datagrams_received"))
        return v

    @property
    def loss_pct(self):
        """Loss % seen by the client (client log, else its report, else the server's figure)."""
        v = self.side("client", "loss_pct")
        if v is None:
            v = _num(self._report().get("loss_pct"))
        if v is None:
            v = self.side("server", "loss_pct")
        return v

    @property
    def resent_datagrams(self):
        """Datagrams the server sent again (reliable mode)."""
        v = _int(self.side("server", "resent_datagrams"))
        return v if v is not None else _int(self.side("client", "resent_datagrams"))

    @property
    def rate_set(self):
        """The UDP server's pacing rate for this client (``rate_bytes_per_s_set``), bytes/s."""
        return self.side("server", "rate_bytes_per_s_set")

    @property
    def wire_bytes(self):
        """(bytes the server put on the wire, estimated?).  ``bytes_sent_total`` when the log
        has it (resends included); for reliable UDP without it, the file bytes plus
        resent_datagrams x payload per datagram, marked as an estimate; else the server's bytes."""
        exact = self.side("server", "bytes_sent_total")
        if exact is not None:
            return exact, False
        base = self.side("server", "bytes")
        resent = self.resent_datagrams
        chunk = self.side("server", "chunk_size")
        if base is not None and resent and chunk and chunk > HEADER_SIZE:
            return base + resent * (chunk - HEADER_SIZE), True
        return base, False

    @property
    def loss_before_recovery_pct(self):
        """Reliable UDP: % of datagrams the client missed at first pass
        (``loss_before_recovery_pct``, else resent / expected); None elsewhere."""
        v = self.side("server", "loss_before_recovery_pct")
        if v is not None:
            return v
        resent = self.resent_datagrams
        expected = self.side("server", "datagrams_expected")
        if resent is not None and expected:
            return 100.0 * resent / expected
        return None

    @property
    def rate_sent(self):
        """Rate the server sent at (``rate_sent_bytes_per_s``, else its measured rate), bytes/s."""
        v = self.side("server", "rate_sent_bytes_per_s")
        return v if v is not None else self.rate("server")

    @property
    def rate_received(self):
        """Rate the client absorbed (``rate_received_bytes_per_s``, else bytes it received / its time)."""
        v = self.side("server", "rate_received_bytes_per_s")
        if v is not None:
            return v
        got = self.side("client", "bytes_received")
        if got is None:
            got = self.side("client", "bytes")
        t = self.side("client", "time_ms")
        return got / (t / 1000.0) if got is not None and t else None

    @property
    def suggested_rate(self):
        """``suggested_rate_bytes_per_s`` of the server log (raw UDP), or None."""
        return self.side("server", "suggested_rate_bytes_per_s")

    def _report(self):
        rep = self.server.get("client_report") if self.server is not None else None
        return rep if isinstance(rep, dict) else {}


class Run:
    """One execution of a test: a server log with its paired client logs, or a lone log."""

    def __init__(self, server, client_logs, rows):
        self.server = server
        self.client_logs = list(client_logs)
        self.rows = rows
        ref = server or (client_logs[0] if client_logs else None)
        self.protocol = ref.protocol
        self.mode = ref.mode
        self.clients = ref.clients
        size = server.file_size if server is not None else None
        if size is None:
            for c in client_logs:
                size = c.file_size
                if size is not None:
                    break
        self.file_size = size
        self.file_name = ref.test.get("file_name")
        starts = [s.started_epoch for s in ([server] if server else []) + self.client_logs
                  if s.started_epoch is not None]
        self.started_epoch = min(starts) if starts else None
        self.started = ref.test.get("started")
        self._metrics = None

    @property
    def key(self):
        """Identity of the test this run belongs to (sorts as the report lists tests)."""
        return (_PROTO_ORDER.get((self.protocol, self.mode), 9), self.protocol, self.mode,
                self.file_size if self.file_size is not None else -1, self.clients)

    @property
    def label(self):
        """Test label, e.g. 'UDP raw, 100 MiB, 10 clients'."""
        return test_label(self.protocol, self.mode, self.file_size, self.clients)

    @property
    def is_udp(self):
        """True for UDP runs."""
        return self.protocol == "udp"

    @property
    def metrics(self):
        """The lab's summary figures of this run (dict; None where not measurable)."""
        if self._metrics is None:
            self._metrics = _run_metrics(self)
        return self._metrics

    @property
    def events(self):
        """Event counts by kind over the run's logs."""
        counts = Counter()
        for sc in ([self.server] if self.server else []) + self.client_logs:
            for ev in sc.events:
                counts[str(ev.get("kind") or "?")] += 1
        return counts


def _aggregate(rows, role):
    recs = [(r.side(role, "bytes"), r.side(role, "first_byte_epoch"), r.side(role, "last_byte_epoch"))
            for r in rows]
    recs = [x for x in recs if x[0] is not None and x[1] is not None and x[2] is not None]
    if not recs:
        return None
    total = sum(x[0] for x in recs)
    span = max(x[2] for x in recs) - min(x[1] for x in recs)
    return total / span if span > 0 else None


def _run_metrics(run):
    rows = run.rows
    has = {role: any((r.server if role == "server" else r.client) is not None for r in rows)
           for role in ("server", "client")}
    m = {
        "connections": len(rows),
        "verified": sum(1 for r in rows if r.ok),
        "expected": max(run.clients, len(rows)),
    }
    for role in ("server", "client"):
        m[role + "_total_bytes"] = _sum(r.side(role, "bytes") for r in rows) if has[role] else None
        m[role + "_mean_time_ms"] = _mean(r.side(role, "time_ms") for r in rows)
        m[role + "_mean_rate"] = _mean(r.rate(role) for r in rows)
        m[role + "_median_rate"] = _median(r.rate(role) for r in rows)
        m["aggregate_" + role] = _aggregate(rows, role)
    m["aggregate"] = m["aggregate_client"] if m["aggregate_client"] is not None else m["aggregate_server"]
    m["per_client_median"] = (m["client_median_rate"] if m["client_median_rate"] is not None
                              else m["server_median_rate"])
    m["client_times_ms"] = [t for t in (r.side("client", "time_ms") for r in rows) if t is not None] or \
        [t for t in (r.side("server", "time_ms") for r in rows) if t is not None]
    m["mean_time_ms"] = _mean(m["client_times_ms"])
    if run.is_udp:
        m["loss_pct"] = _mean(r.loss_pct for r in rows)
        sent = _sum(r.datagrams_sent for r in rows)
        resent = _sum(r.resent_datagrams for r in rows)
        m["datagrams_sent"] = sent
        m["resent_datagrams"] = resent if run.mode == "reliable" else None
        m["resent_pct"] = 100.0 * resent / sent if sent and resent is not None and run.mode == "reliable" else None
        m["loss_before_recovery_pct"] = (_mean(r.loss_before_recovery_pct for r in rows)
                                         if run.mode == "reliable" else None)
        m["rate_set"] = _median(r.rate_set for r in rows)
        m["rate_sent"] = _median(r.rate_sent for r in rows)
        m["rate_received"] = _median(r.rate_received for r in rows)
        m["suggested_rate"] = _median(r.suggested_rate for r in rows)
    else:
        for key in ("loss_pct", "resent_pct", "datagrams_sent", "resent_datagrams", "loss_before_recovery_pct",
                    "rate_set", "rate_sent", "rate_received", "suggested_rate"):
            m[key] = None
    wire = [r.wire_bytes for r in rows if r.server is not None]
    m["server_wire_bytes"] = _sum(w[0] for w in wire) if wire else None
    m["wire_estimated"] = [any(w[1] for w in wire)]   # a list: not a figure to take the median of
    return m


def _conn_key(protocol, rec):
    ip, port = rec.get("client_ip"), _int(rec.get("client_port"))
    if not ip or not port:
        return None
    return (protocol, str(ip), port)


def pair_runs(sidecars, warn=None):
    """Pair client logs with server logs and return the runs, oldest first.

    Each client log joins the server log sharing most (client_ip, client_port)
    keys with it (ties: the closest start time); inside a run, connections are
    paired by that key (and the UDP session port when both sides give it).
    Client logs that match no server log form client-only runs; server logs
    without client logs form server-only runs.
    """
    servers = [s for s in sidecars if s.role == "server"]
    clients = [c for c in sidecars if c.role == "client"]
    other = [s for s in sidecars if s.role not in ("server", "client")]
    for s in other:
        if warn:
            warn("{}: unknown role {!r}, file ignored".format(s.path, s.test.get("role")))
    index = {}
    for s in servers:
        for rec in s.connections:
            key = _conn_key(s.protocol, rec)
            if key is not None:
                index.setdefault(key, []).append(s)
    assigned = OrderedDict((id(s), []) for s in servers)
    lone_clients = []
    for c in clients:
        scores = Counter()
        for rec in c.connections:
            key = _conn_key(c.protocol, rec)
            for s in index.get(key, ()) if key else ():
                if s.mode == c.mode:
                    scores[id(s)] += 1
        if not scores:
            lone_clients.append(c)
            continue
        by_id = {id(s): s for s in servers}

        def closeness(sid, c=c):
            a, b = by_id[sid].started_epoch, c.started_epoch
            return abs(a - b) if a is not None and b is not None else float("inf")
        best = max(scores, key=lambda sid: (scores[sid], -closeness(sid)))
        assigned[best].append(c)
    runs = []
    for s in servers:
        runs.append(_pair_rows(s, assigned[id(s)]))
    for c in lone_clients:
        runs.append(Run(None, [c], [Row(None, rec, None, c) for rec in c.connections]))
    runs.sort(key=lambda r: (r.started_epoch if r.started_epoch is not None else float("inf")))
    return runs


def _pair_rows(server, client_logs):
    pool = {}
    for c in client_logs:
        for rec in c.connections:
            key = _conn_key(c.protocol, rec)
            pool.setdefault(key, []).append((rec, c))
    rows = []
    used = set()
    for rec in server.connections:
        key = _conn_key(server.protocol, rec)
        match = None
        candidates = [cand for cand in pool.get(key, []) if id(cand[0]) not in used] if key else []
        if server.protocol == "udp" and len(candidates) > 1:
            sport = _int(rec.get("server_port"))
            same = [cand for cand in candidates if _int(cand[0].get("server_port")) == sport]
            candidates = same or candidates
        if candidates:
            match = candidates[0]
            used.add(id(match[0]))
        rows.append(Row(rec, match[0] if match else None, server, match[1] if match else None))
    for c in client_logs:
        for rec in c.connections:
            if id(rec) not in used:
                rows.append(Row(None, rec, None, c))
    rows.sort(key=lambda r: (r.client_id if r.client_id is not None else 1 << 30))
    return Run(server, client_logs, rows)


def collect_runs(paths, warn=None):
    """Load the sidecars under *paths* and pair them into runs."""
    return pair_runs(load_sidecars(paths, warn), warn)


class Test:
    """All runs of one test (same protocol + mode, file size and client count)."""

    def __init__(self, runs):
        self.runs = sorted(runs, key=lambda r: (r.started_epoch if r.started_epoch is not None else 0))
        first = self.runs[0]
        self.protocol, self.mode = first.protocol, first.mode
        self.file_size, self.clients = first.file_size, first.clients
        self.label = first.label
        self.key = first.key
        self.figures = self._figures()

    @property
    def proto(self):
        """Protocol/mode label ('TCP', 'UDP raw', ...)."""
        return protocol_label(self.protocol, self.mode)

    @property
    def is_udp(self):
        """True for UDP tests."""
        return self.protocol == "udp"

    def _figures(self):
        fig = {}
        keys = set()
        for r in self.runs:
            keys.update(k for k, v in r.metrics.items() if not isinstance(v, list))
        for k in keys:
            fig[k] = _median(r.metrics.get(k) for r in self.runs)
        fig["runs"] = len(self.runs)
        fig["verified"] = sum(r.metrics["verified"] for r in self.runs)
        fig["expected"] = sum(r.metrics["expected"] for r in self.runs)
        fig["connections"] = sum(r.metrics["connections"] for r in self.runs)
        fig["client_times_ms"] = [t for r in self.runs for t in r.metrics["client_times_ms"]]
        fig["wire_estimated"] = [any(r.metrics["wire_estimated"][0] for r in self.runs)]
        # the mean over runs (not the median): one lossy run out of three must not read as "no loss"
        losses = [r.metrics.get("loss_pct") for r in self.runs if r.metrics.get("loss_pct") is not None]
        fig["loss_pct_mean_of_runs"] = sum(losses) / len(losses) if losses else None
        suggested = [r.metrics.get("suggested_rate") for r in self.runs if r.metrics.get("suggested_rate")]
        fig["suggested_rate_lowest"] = min(suggested) if suggested else None
        return fig


def group_tests(runs):
    """Group runs into tests, in report order (protocol, size, clients)."""
    groups = OrderedDict()
    for run in sorted(runs, key=lambda r: r.key):
        groups.setdefault(run.key, []).append(run)
    return [Test(rs) for rs in groups.values()]



# --------------------------------------------------------------------------- attempts and selection

class Attempt:
    """A client that never started a transfer (connection refused, BUSY, no answer), or a
    server that no client reached: listed apart from the tests."""

    def __init__(self, protocol, mode, role, started, started_epoch, client_id, reason, log):
        self.protocol = protocol
        self.mode = mode
        self.role = role
        self.started = started
        self.started_epoch = started_epoch
        self.client_id = client_id
        self.reason = reason
        self.log = log

    @property
    def proto(self):
        """'TCP', 'UDP raw', ..."""
        return protocol_label(self.protocol, self.mode)

    def __repr__(self):
        return "Attempt({} {} client {}: {})".format(self.proto, self.started, self.client_id, self.reason)


def _attempt_from_row(row):
    sc = row.client_log
    return Attempt(sc.protocol, sc.mode, "client", sc.test.get("started"), sc.started_epoch, row.client_id,
                   row.client.reason or "never started", sc)


def split_attempts(runs):
    """(runs, attempts): client connections that never started and that no server logged
    (refused, BUSY, no answer) become attempts; a run left with no connection is dropped
    (a server nobody reached becomes one attempt)."""
    kept, attempts = [], []
    for run in runs:
        rows = []
        for row in run.rows:
            if row.server is None and row.client is not None and not row.client.started:
                attempts.append(_attempt_from_row(row))
            else:
                rows.append(row)
        if not rows:
            if run.server is not None:
                sc = run.server
                attempts.append(Attempt(sc.protocol, sc.mode, "server", sc.test.get("started"), sc.started_epoch,
                                        None, "no client reached the server", sc))
            continue
        if len(rows) == len(run.rows):
            kept.append(run)
        else:
            clients = [c for c in run.client_logs if any(r.client_log is c for r in rows)]
            kept.append(Run(run.server, clients, rows))
    attempts.sort(key=lambda a: a.started_epoch if a.started_epoch is not None else float("inf"))
    return kept, attempts


#: --protocol values of :func:`select_runs`
PROTOCOL_CHOICES = ("tcp", "udp", "udp-raw", "udp-reliable")


def select_runs(runs, since=None, last=None, protocol=None):
    """The runs to report: started at or after *since* (epoch seconds), of *protocol*
    (see :data:`PROTOCOL_CHOICES`), then the most recent runs that cover the last *last*
    tests (walking back from the newest run, stopping at the first run of a further test).
    Runs without a start time are kept only when neither *since* nor *last* is given."""
    out = list(runs)
    if protocol:
        proto, _, mode = protocol.lower().partition("-")
        out = [r for r in out if r.protocol == proto and (not mode or r.mode == mode)]
    if since is not None:
        out = [r for r in out if r.started_epoch is not None and r.started_epoch >= since]
    if last is not None:
        dated = sorted((r for r in out if r.started_epoch is not None), key=lambda r: r.started_epoch, reverse=True)
        keys, chosen = set(), []
        for r in dated:
            if r.key not in keys:
                if len(keys) >= last:
                    break
                keys.add(r.key)
            chosen.append(r)
        out = [r for r in out if any(r is c for c in chosen)]
    return out


def _newest_mtime(paths):
    times = []
    for p in paths:
        try:
            times.append(os.stat(str(p)).st_mtime)
        except OSError:
            pass
    return max(times) if times else None


def benchmark_folders(logs_dir):
    """The ``benchmark-*`` folders under *logs_dir*, oldest first (by name: the name is the start time)."""
    logs_dir = Path(logs_dir)
    if not logs_dir.is_dir():
        return []
    return sorted(p for p in logs_dir.iterdir() if p.is_dir() and p.name.startswith("benchmark-"))


def hand_run_logs(logs_dir):
    """Sidecars under *logs_dir* that no benchmark wrote (outside ``benchmark-*`` and ``report``)."""
    logs_dir = Path(logs_dir)
    out = []
    for path in find_logs([logs_dir]) if logs_dir.is_dir() else []:
        top = path.relative_to(logs_dir).parts[0]
        if not top.startswith("benchmark-") and top != "report":
            out.append(path)
    return out


def default_selection(logs_dir):
    """What ``report.py`` reports when given no LOGS: ``(paths, kind)``.

    *kind* is ``"hand"`` when the newest log under *logs_dir* was written by hand-run programs
    (then *paths* are every hand-run log: tests run by hand between machines), ``"benchmark"``
    when it belongs to a benchmark (then *paths* is that newest ``benchmark-*`` folder), or
    ``"none"``."""
    hand = hand_run_logs(logs_dir)
    folders = benchmark_folders(logs_dir)
    latest = folders[-1] if folders else None
    bench_time = _newest_mtime(find_logs([latest])) if latest else None
    hand_time = _newest_mtime(hand)
    if hand and (bench_time is None or (hand_time or 0) >= bench_time):
        return hand, "hand"
    if latest is not None and bench_time is not None:
        return [latest], "benchmark"
    return [], "none"
