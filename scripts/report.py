"""Performance report of the file-transfer lab, built from the JSON-lines logs alone.

    python3 scripts/report.py [LOGS...] [--out DIR] [--title TEXT]

LOGS are ``*-log.jsonl`` sidecars or folders searched recursively for them
(default: the project's ``Logs/`` folder).  The report (``report.md``,
``report.html``, ``connections.csv`` and the SVG charts) goes to ``--out``
(default ``Logs/report/``).

Server logs define the tests; client logs are paired with server connections
by (client_ip, client_port) as README.md ("Logs") says.  A test is protocol + mode,
file size and client count; repeated runs of one test are all listed, and the
global figures are medians over the runs.  MB = 10^6 bytes throughout.
"""

if __package__ in (None, ""):
    import os, sys  # noqa: E401
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import argparse
import csv
import datetime
import io
import json
import math
import os
import re
import statistics
import sys
from collections import Counter, OrderedDict
from pathlib import Path

from scripts.svgchart import bar_chart, escape, line_chart, range_chart

__all__ = [
    "Sidecar", "Row", "Run", "Test", "ReportResult", "find_logs", "read_sidecar", "load_sidecars",
    "pair_runs", "collect_runs", "group_tests", "build_report", "test_label", "protocol_label",
    "size_label", "comparisons", "CONNECTION_COLUMNS", "UDP_COLUMNS", "SUMMARY_METRICS", "GLOBAL_COLUMNS",
    "CSV_FIELDS", "main",
]

MB = 1000 * 1000
KiB = 1024
MiB = 1024 * 1024
GiB = 1024 * MiB
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LOGS = PROJECT_ROOT / "Logs"
DEFAULT_OUT = DEFAULT_LOGS / "report"
LOG_GLOB = "*-log.jsonl"
#: sidecar names: ...-log.jsonl, or ...-log-2.jsonl, -3, ... when the name was taken
LOG_NAME = re.compile(r".*-log(-[0-9]+)?\.jsonl\Z")
MAX_WARNINGS_SHOWN = 50

#: per-connection table columns (the lab's), then the UDP extras
CONNECTION_COLUMNS = (
    "Client", "Success", "Bytes received (client)", "Client time (ms)", "Client rate (MB/s)", "Client port",
    "Bytes sent (server)", "Server time (ms)", "Server rate (MB/s)", "Server port",
)
UDP_COLUMNS = ("Datagrams sent", "Datagrams received", "Loss (%)", "Resent datagrams")
#: (metric key, label) of the per-test summary table
SUMMARY_METRICS = (
    ("success", "Verified connections"),
    ("server_total_bytes", "Total bytes sent by server"),
    ("server_mean_time_ms", "Mean server time (ms)"),
    ("server_mean_rate", "Mean server rate (MB/s)"),
    ("client_total_bytes", "Total bytes received by clients"),
    ("client_mean_time_ms", "Mean client time (ms)"),
    ("client_mean_rate", "Mean client rate (MB/s)"),
    ("aggregate_client", "Aggregate throughput, clients (MB/s)"),
    ("aggregate_server", "Aggregate throughput, server (MB/s)"),
    ("loss_pct", "Mean loss (%)"),
    ("resent_pct", "Resent datagrams (% of sent)"),
)
GLOBAL_COLUMNS = (
    "Protocol / mode", "File", "Clients", "Runs", "Success", "Median per-client rate (MB/s)",
    "Aggregate rate (MB/s)", "Mean client time (ms)", "Loss (%)", "Resent (%)",
)
CSV_FIELDS = (
    "test", "protocol", "mode", "file_name", "file_size", "clients", "run", "run_started",
    "client_id", "ok", "reason", "client_ip", "client_port", "server_ip", "server_port",
    "client_bytes", "client_time_ms", "client_rate_bytes_per_s", "client_first_byte_epoch",
    "client_last_byte_epoch", "server_bytes", "server_time_ms", "server_rate_bytes_per_s",
    "server_first_byte_epoch", "server_last_byte_epoch", "datagrams_sent", "datagrams_received",
    "loss_pct", "resent_datagrams", "server_log", "client_log",
)
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


def fmt_int(value):
    """Integer with thousands separators, '-' when missing."""
    return "-" if value is None else "{:,}".format(int(round(value)))


def _plain_int(value):
    """Integer without separators (ports, ids), '-' when missing."""
    return "-" if value is None else str(int(value))


def fmt_mb(rate):
    """Bytes/s as MB/s with 2 decimals (MB = 10^6 B), '-' when missing."""
    return "-" if rate is None else "{:,.2f}".format(rate / MB)


def fmt_ms(value):
    """Milliseconds with 1 decimal, '-' when missing."""
    return "-" if value is None else "{:,.1f}".format(value)


def fmt_pct(value):
    """Percentage with 2 decimals, '-' when missing."""
    return "-" if value is None else "{:,.2f}".format(value)


def fmt_ratio(value):
    """A ratio as 'x0.23'."""
    return "x{:.2f}".format(value)


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
            connections.append(obj)
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
        m["resent_datagrams"] = resent
        m["resent_pct"] = 100.0 * resent / sent if sent and resent is not None else None
    else:
        m["loss_pct"] = m["resent_pct"] = m["datagrams_sent"] = m["resent_datagrams"] = None
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
        return fig


def group_tests(runs):
    """Group runs into tests, in report order (protocol, size, clients)."""
    groups = OrderedDict()
    for run in sorted(runs, key=lambda r: r.key):
        groups.setdefault(run.key, []).append(run)
    return [Test(rs) for rs in groups.values()]


# --------------------------------------------------------------------------- analysis

def _trend(a, b, up="rises", down="falls"):
    if a == 0 or b is None:
        return "changes"
    r = b / a
    if r > 1.02:
        return up
    if r < 0.98:
        return down
    return "stays about the same"


def _seq(values, fmt):
    return " -> ".join(fmt(v) for v in values)


def _plural(n):
    return "{} client{}".format(n, "" if n == 1 else "s")


#: topics of :func:`comparisons`, in report order
COMPARISON_TOPICS = ("Success", "Clients", "File size", "Protocols", "UDP loss", "Baseline")


def comparisons(tests, baseline_rate=None):
    """Sentences comparing the tests, computed from the figures; comparisons
    lacking data are skipped.  Returns a list of (topic, sentence) pairs."""
    out = []
    # success
    total = sum(t.figures["expected"] for t in tests)
    ok = sum(t.figures["verified"] for t in tests)
    if total:
        if ok == total:
            out.append(("Success", "All {:,} connections of {} test run(s) were verified.".format(
                total, sum(len(t.runs) for t in tests))))
        else:
            bad = ["{} ({} of {})".format(t.label, t.figures["expected"] - t.figures["verified"],
                                          t.figures["expected"])
                   for t in tests if t.figures["verified"] < t.figures["expected"]]
            out.append(("Success", "{:,} of {:,} connections were not verified: {}.".format(
                total - ok, total, "; ".join(bad))))
    # clients scaling, per protocol and size
    groups = OrderedDict()
    for t in tests:
        groups.setdefault(t.key[:4], []).append(t)
    for ts in groups.values():
        ts = sorted(ts, key=lambda t: t.clients)
        pts = [t for t in ts if t.figures.get("per_client_median")]
        if len(pts) < 2:
            continue
        a, b = pts[0], pts[-1]
        ra, rb = a.figures["per_client_median"], b.figures["per_client_median"]
        sent = "{}, {}: median per-client rate {} from {} MB/s with {} to {} MB/s with {} ({}".format(
            a.proto, size_label(a.file_size), _trend(ra, rb), fmt_mb(ra), _plural(a.clients), fmt_mb(rb),
            _plural(b.clients), fmt_ratio(rb / ra))
        if len(pts) > 2:
            sent += "; {} MB/s for {} clients".format(_seq([t.figures["per_client_median"] for t in pts], fmt_mb),
                                                     " / ".join(str(t.clients) for t in pts))
        sent += ")"
        agg = [t for t in ts if t.figures.get("aggregate")]
        if len(agg) >= 2:
            ga, gb = agg[0].figures["aggregate"], agg[-1].figures["aggregate"]
            sent += "; aggregate rate {} from {} MB/s with {} to {} MB/s with {} ({})".format(
                _trend(ga, gb), fmt_mb(ga), _plural(agg[0].clients), fmt_mb(gb), _plural(agg[-1].clients),
                fmt_ratio(gb / ga))
        tm = [t for t in ts if t.figures.get("mean_time_ms")]
        if len(tm) >= 2:
            ta, tb = tm[0].figures["mean_time_ms"], tm[-1].figures["mean_time_ms"]
            sent += "; mean client time {} from {} ms to {} ms ({})".format(
                _trend(ta, tb), fmt_ms(ta), fmt_ms(tb), fmt_ratio(tb / ta))
        out.append(("Clients", sent + "."))
    # file size, per protocol and client count
    groups = OrderedDict()
    for t in tests:
        if t.file_size:
            groups.setdefault((t.key[0], t.protocol, t.mode, t.clients), []).append(t)
    for ts in groups.values():
        ts = sorted(ts, key=lambda t: t.file_size)
        if len(ts) < 2:
            continue
        a, b = ts[0], ts[-1]
        parts = []
        for metric, name, fmt, unit in (("mean_time_ms", "mean client time", fmt_ms, "ms"),
                                        ("per_client_median", "median per-client rate", fmt_mb, "MB/s"),
                                        ("aggregate", "aggregate rate", fmt_mb, "MB/s")):
            va, vb = a.figures.get(metric), b.figures.get(metric)
            if va and vb:
                parts.append("{} {} vs {} {} ({})".format(name, fmt(vb), fmt(va), unit, fmt_ratio(vb / va)))
        if parts:
            out.append(("File size", "{}, {}: {} vs {} (file {}): {}.".format(
                a.proto, _plural(a.clients), size_label(b.file_size), size_label(a.file_size),
                fmt_ratio(b.file_size / a.file_size), "; ".join(parts))))
    # protocols side by side for the same size and client count
    groups = OrderedDict()
    for t in tests:
        groups.setdefault((t.file_size if t.file_size is not None else -1, t.clients), []).append(t)
    for (size, n), ts in sorted(groups.items()):
        ts = sorted(ts, key=lambda t: t.key)
        parts = []
        for metric, name in (("aggregate", "aggregate rate"), ("per_client_median", "median per-client rate")):
            have = [t for t in ts if t.figures.get(metric)]
            if len(have) < 2:
                continue
            ref = have[0]
            items = ["{} {} MB/s".format(ref.proto, fmt_mb(ref.figures[metric]))]
            for t in have[1:]:
                items.append("{} {} MB/s ({} of {})".format(t.proto, fmt_mb(t.figures[metric]),
                                                           fmt_ratio(t.figures[metric] / ref.figures[metric]),
                                                           ref.proto))
            parts.append("{}: {}".format(name, ", ".join(items)))
        if parts:
            out.append(("Protocols", "{}, {}: {}.".format(size_label(size if size >= 0 else None), _plural(n),
                                                          "; ".join(parts))))
    # UDP loss
    groups = OrderedDict()
    for t in tests:
        if t.is_udp and t.figures.get("loss_pct") is not None:
            groups.setdefault(t.key[:4], []).append(t)
    for ts in groups.values():
        ts = sorted(ts, key=lambda t: t.clients)
        a = ts[0]
        if len(ts) == 1:
            text = "{}, {}: mean loss {}% with {}.".format(
                a.proto, size_label(a.file_size), fmt_pct(a.figures["loss_pct"]), _plural(a.clients))
        else:
            text = "{}, {}: mean loss {}% for {} clients.".format(
                a.proto, size_label(a.file_size), _seq([t.figures["loss_pct"] for t in ts], fmt_pct),
                " / ".join(str(t.clients) for t in ts))
        out.append(("UDP loss", text))
    # baseline
    if baseline_rate:
        have = [t for t in tests if t.figures.get("per_client_median")]
        if have:
            best = max(have, key=lambda t: t.figures["per_client_median"])
            worst = min(have, key=lambda t: t.figures["per_client_median"])
            out.append(("Baseline", "SHA-256 in this Python runs at {} MB/s; the median per-client rate goes "
                                    "from {} of it ({}) to {} ({}).".format(
                                        fmt_mb(baseline_rate),
                                        fmt_ratio(worst.figures["per_client_median"] / baseline_rate), worst.label,
                                        fmt_ratio(best.figures["per_client_median"] / baseline_rate), best.label)))
    return out


# --------------------------------------------------------------------------- document model

class _Doc:
    """Blocks shared by the Markdown and HTML renderers."""

    def __init__(self):
        self.blocks = []

    def h(self, level, text, anchor=None):
        self.blocks.append(("h", level, text, anchor))

    def p(self, text):
        self.blocks.append(("p", text))

    def ul(self, items):
        if items:
            self.blocks.append(("ul", list(items)))

    def table(self, headers, rows, numeric=None):
        numeric = numeric or [False] * len(headers)
        self.blocks.append(("table", list(headers), [[str(c) for c in r] for r in rows], numeric))

    def chart(self, filename, svg, caption):
        self.blocks.append(("chart", filename, svg, caption))


def _md_cell(text):
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def render_markdown(doc):
    """The document as Markdown (charts linked as images)."""
    lines = []
    for block in doc.blocks:
        kind = block[0]
        if kind == "h":
            lines += ["#" * block[1] + " " + block[2], ""]
        elif kind == "p":
            lines += [block[1], ""]
        elif kind == "ul":
            lines += ["- " + item for item in block[1]] + [""]
        elif kind == "table":
            headers, rows, numeric = block[1], block[2], block[3]
            lines.append("| " + " | ".join(_md_cell(h) for h in headers) + " |")
            lines.append("|" + "|".join("---:" if n else "---" for n in numeric) + "|")
            for r in rows:
                lines.append("| " + " | ".join(_md_cell(c) for c in r) + " |")
            lines.append("")
        elif kind == "chart":
            lines += ["![{}]({})".format(block[3].replace("]", ")"), block[1]), ""]
    return "\n".join(lines).rstrip() + "\n"


_CSS = """
body { font-family: sans-serif; color: #000; background: #fff; margin: 1.5em auto; max-width: 72em; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { font-size: 1.3em; border-bottom: 1px solid #999; margin-top: 1.6em; }
h3 { font-size: 1.1em; margin-top: 1.2em; } h4 { font-size: 1em; }
table { border-collapse: collapse; margin: 0.6em 0 1em 0; font-size: 0.85em; }
th, td { border: 1px solid #999; padding: 2px 6px; vertical-align: top; }
th { background: #eee; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
figure { margin: 1em 0; break-inside: avoid; page-break-inside: avoid; }
figure svg { max-width: 100%; height: auto; }
figcaption { font-size: 0.85em; }
@media print { body { max-width: none; margin: 0; } h2 { break-before: auto; } table, figure { break-inside: avoid; } }
"""


def render_html(doc, title):
    """The document as one self-contained XHTML-compatible page (charts inline)."""
    out = ['<!DOCTYPE html>', '<html xmlns="http://www.w3.org/1999/xhtml" lang="en">', "<head>",
           '<meta charset="utf-8"/>', '<meta name="viewport" content="width=device-width, initial-scale=1"/>',
           "<title>{}</title>".format(escape(title)), "<style>{}</style>".format(_CSS),
           "</head>", "<body>"]
    for block in doc.blocks:
        kind = block[0]
        if kind == "h":
            anchor = ' id="{}"'.format(escape(block[3])) if block[3] else ""
            out.append("<h{l}{a}>{t}</h{l}>".format(l=block[1], a=anchor, t=escape(block[2])))
        elif kind == "p":
            out.append("<p>{}</p>".format(escape(block[1])))
        elif kind == "ul":
            out.append("<ul>" + "".join("<li>{}</li>".format(escape(i)) for i in block[1]) + "</ul>")
        elif kind == "table":
            headers, rows, numeric = block[1], block[2], block[3]
            out.append("<table><thead><tr>" + "".join("<th>{}</th>".format(escape(h)) for h in headers)
                       + "</tr></thead><tbody>")
            for r in rows:
                out.append("<tr>" + "".join(
                    '<td class="num">{}</td>'.format(escape(c)) if n else "<td>{}</td>".format(escape(c))
                    for c, n in zip(r, numeric)) + "</tr>")
            out.append("</tbody></table>")
        elif kind == "chart":
            out.append("<figure>")
            out.append(block[2].strip())
            out.append("<figcaption>{} ({})</figcaption>".format(escape(block[3]), escape(block[1])))
            out.append("</figure>")
    out += ["</body>", "</html>", ""]
    return "\n".join(out)


# --------------------------------------------------------------------------- report

class ReportResult:
    """Paths written by :func:`build_report`, plus the parsed tests and warnings."""

    def __init__(self, markdown, html, csv_path, svgs, tests, runs, warnings):
        self.markdown = markdown
        self.html = html
        self.csv = csv_path
        self.svgs = svgs
        self.tests = tests
        self.runs = runs
        self.warnings = warnings

    @property
    def files(self):
        """Every file written."""
        return [self.markdown, self.html, self.csv] + list(self.svgs)

    def __repr__(self):
        return "ReportResult({}, {} tests, {} charts)".format(self.markdown, len(self.tests), len(self.svgs))


def _connection_table(run):
    headers = list(CONNECTION_COLUMNS) + (list(UDP_COLUMNS) if run.is_udp else [])
    show_reason = any(not r.ok or r.server is None or r.client is None for r in run.rows)
    if show_reason:
        headers.append("Note")
    numeric = [True] * len(headers)
    numeric[1] = False
    if show_reason:
        numeric[-1] = False
    rows = []
    for r in run.rows:
        row = [_plain_int(r.client_id), "yes" if r.ok else "no",
               fmt_int(r.side("client", "bytes")), fmt_ms(r.side("client", "time_ms")), fmt_mb(r.rate("client")),
               _plain_int(r.client_port),
               fmt_int(r.side("server", "bytes")), fmt_ms(r.side("server", "time_ms")), fmt_mb(r.rate("server")),
               _plain_int(r.server_port)]
        if run.is_udp:
            row += [fmt_int(r.datagrams_sent), fmt_int(r.datagrams_received), fmt_pct(r.loss_pct),
                    fmt_int(r.resent_datagrams)]
        if show_reason:
            row.append(r.reason or "")
        rows.append(row)
    return headers, rows, numeric


def _metric_text(key, m):
    if key == "success":
        return "{}/{}{}".format(m["verified"], m["expected"], " (all runs)" if m.get("runs", 1) > 1 else "")
    v = m.get(key)
    if key.endswith("_bytes"):
        return fmt_int(v)
    if key.endswith("_ms"):
        return fmt_ms(v)
    if key.endswith("_pct"):
        return fmt_pct(v)
    return fmt_mb(v)


def _summary_table(test):
    udp = test.is_udp
    metrics = [(k, lab) for k, lab in SUMMARY_METRICS if udp or k not in ("loss_pct", "resent_pct")]
    headers = ["Metric"] + (["Run {}".format(i + 1) for i in range(len(test.runs))] if len(test.runs) > 1 else [])
    headers.append("Median over runs" if len(test.runs) > 1 else "Value")
    rows = []
    for key, lab in metrics:
        row = [lab]
        if len(test.runs) > 1:
            row += [_metric_text(key, r.metrics) for r in test.runs]
        row.append(_metric_text(key, test.figures))
        rows.append(row)
    return headers, rows, [False] + [True] * (len(headers) - 1)


def _generic_table(rows):
    rows = [r for r in rows if isinstance(r, dict)]
    headers = []
    for r in rows:
        for k in r:
            if k not in headers:
                headers.append(k)

    def cell(v):
        if v is None:
            return "-"
        if isinstance(v, bool):
            return "yes" if v else "no"
        if isinstance(v, int):
            return "{:,}".format(v)
        if isinstance(v, float):
            return "{:,.2f}".format(v) if math.isfinite(v) else "-"
        return str(v)
    body = [[cell(r.get(h)) for h in headers] for r in rows]
    numeric = [all(isinstance(r.get(h), (int, float)) and not isinstance(r.get(h), bool)
                   for r in rows if r.get(h) is not None) and any(r.get(h) is not None for r in rows)
               for h in headers]
    return headers, body, numeric


def _slug(text):
    return "".join(ch if ch.isalnum() else "-" for ch in text.replace(" ", "")).strip("-").lower() or "x"


def _charts(tests):
    """(filename, svg, caption) for every chart the data allows."""
    charts = []
    protos = []
    for t in tests:
        if (t.key[0], t.proto) not in protos:
            protos.append((t.key[0], t.proto))
    proto_names = [p for _, p in sorted(protos)]
    sizes = sorted({t.file_size for t in tests if t.file_size is not None})
    if any(t.file_size is None for t in tests):
        sizes.append(None)
    for size in sizes:
        ts = [t for t in tests if t.file_size == size]
        slug = _slug(size_label(size))
        for metric, fname, ttl, ylab in (
                ("per_client_median", "rate-per-client", "Median per-client rate vs clients", "Per-client rate"),
                ("aggregate", "rate-aggregate", "Aggregate rate vs clients", "Aggregate rate")):
            series = OrderedDict()
            for p in proto_names:
                pts = [(t.clients, t.figures.get(metric) / MB) for t in ts
                       if t.proto == p and t.figures.get(metric) is not None]
                if pts:
                    series[p] = pts
            if series:
                title = "{}, {} file".format(ttl, size_label(size))
                charts.append(("{}-{}.svg".format(fname, slug), line_chart(
                    series, title, "Clients", ylab, y_unit="MB/s",
                    desc="{} by protocol; medians over runs".format(ttl)), title))
        # time spread
        counts = sorted({t.clients for t in ts})
        series = OrderedDict()
        for p in proto_names:
            triples = []
            for n in counts:
                tt = [t for t in ts if t.proto == p and t.clients == n]
                times = [x / 1000.0 for t in tt for x in t.figures["client_times_ms"]]
                triples.append((min(times), statistics.median(times), max(times)) if times else None)
            if any(triples):
                series[p] = triples
        if series:
            title = "Per-client transfer time spread, {} file".format(size_label(size))
            charts.append(("time-spread-{}.svg".format(slug), range_chart(
                [str(n) for n in counts], series, title, "Clients", "Client transfer time", y_unit="s",
                desc="min, median and max of client times over all runs"), title))
    # UDP loss
    series = OrderedDict()
    for t in tests:
        if t.is_udp and t.figures.get("loss_pct") is not None:
            series.setdefault("{}, {}".format(t.proto, size_label(t.file_size)), []).append(
                (t.clients, t.figures["loss_pct"]))
    if series:
        title = "UDP datagram loss vs clients"
        charts.append(("udp-loss.svg", line_chart(series, title, "Clients", "Mean loss", y_unit="%"), title))
    # protocols side by side
    if len(proto_names) >= 2:
        cats = sorted({(t.file_size if t.file_size is not None else -1, t.clients) for t in tests})
        labels = ["{} x {}".format(size_label(s if s >= 0 else None), n) for s, n in cats]
        for metric, fname, ttl in (("aggregate", "protocols-aggregate", "Aggregate rate by protocol"),
                                   ("per_client_median", "protocols-per-client",
                                    "Median per-client rate by protocol")):
            series = OrderedDict()
            for p in proto_names:
                vals = []
                for s, n in cats:
                    tt = [t for t in tests if t.proto == p and t.clients == n
                          and (t.file_size if t.file_size is not None else -1) == s]
                    v = tt[0].figures.get(metric) if tt else None
                    vals.append(v / MB if v is not None else None)
                series[p] = vals
            if any(v is not None for vs in series.values() for v in vs):
                charts.append(("{}.svg".format(fname), bar_chart(
                    labels, series, ttl, "File x clients", ttl.split(" by ")[0], y_unit="MB/s",
                    width=max(640, 90 * len(labels) * max(1, len(proto_names)) // 2)), ttl))
    return charts


def _csv_rows(tests):
    for t in tests:
        for i, run in enumerate(t.runs, 1):
            for r in run.rows:
                yield {
                    "test": t.label, "protocol": run.protocol, "mode": run.mode, "file_name": run.file_name,
                    "file_size": run.file_size, "clients": run.clients, "run": i, "run_started": run.started,
                    "client_id": r.client_id, "ok": "yes" if r.ok else "no", "reason": r.reason,
                    "client_ip": r.client_ip, "client_port": r.client_port, "server_ip": r.server_ip,
                    "server_port": r.server_port,
                    "client_bytes": _int(r.side("client", "bytes")), "client_time_ms": r.side("client", "time_ms"),
                    "client_rate_bytes_per_s": r.rate("client"),
                    "client_first_byte_epoch": r.side("client", "first_byte_epoch"),
                    "client_last_byte_epoch": r.side("client", "last_byte_epoch"),
                    "server_bytes": _int(r.side("server", "bytes")), "server_time_ms": r.side("server", "time_ms"),
                    "server_rate_bytes_per_s": r.rate("server"),
                    "server_first_byte_epoch": r.side("server", "first_byte_epoch"),
                    "server_last_byte_epoch": r.side("server", "last_byte_epoch"),
                    "datagrams_sent": r.datagrams_sent if run.is_udp else None,
                    "datagrams_received": r.datagrams_received if run.is_udp else None,
                    "loss_pct": r.loss_pct if run.is_udp else None,
                    "resent_datagrams": r.resent_datagrams if run.is_udp else None,
                    "server_log": str(r.server_log.path) if r.server_log else "",
                    "client_log": str(r.client_log.path) if r.client_log else "",
                }


def _write_csv(path, tests):
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in _csv_rows(tests):
        writer.writerow({k: ("" if v is None else repr(v) if isinstance(v, float) else v) for k, v in row.items()})
    _write_text(path, buf.getvalue())


def _write_text(path, text):
    tmp = path.with_name("." + path.name + ".part")
    with open(str(tmp), "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
    os.replace(str(tmp), str(path))


def _baseline_rate(extra):
    base = (extra or {}).get("baseline")
    if isinstance(base, dict):
        return _num(base.get("sha256_bytes_per_s"))
    return None


def _build_doc(tests, runs, sidecars_count, title, extra, warnings, charts):
    extra = extra or {}
    doc = _Doc()
    doc.h(1, title)
    n_server = sum(1 for r in runs if r.server is not None)
    n_client = sum(len(r.client_logs) for r in runs)
    doc.p("Generated {} from {} log file(s) ({} server, {} client): {} test(s), {} run(s). "
          "MB = 10^6 bytes. Where a test ran more than once, the global figures are medians over its runs and "
          "each run is listed in its own table.".format(
              datetime.datetime.now().astimezone().isoformat(timespec="seconds"), sidecars_count, n_server,
              n_client, len(tests), len(runs)))
    doc.p("Transfer times follow the lab's definitions: TCP server, first byte sent to DONE received; TCP client, "
          "first byte received to DONE sent; UDP server, first to last datagram sent; UDP client, first to last "
          "datagram received. Aggregate throughput = total bytes / (last byte of any client - first byte of any "
          "client).")
    base_rate = _baseline_rate(extra)
    doc.h(2, "Global analysis", "global")
    if not tests:
        doc.p("No test found in the logs.")
    else:
        headers = list(GLOBAL_COLUMNS) + (["Per-client / SHA-256"] if base_rate else [])
        rows = []
        for t in tests:
            f = t.figures
            row = [t.proto, size_label(t.file_size), str(t.clients), str(len(t.runs)),
                   "{}/{}".format(f["verified"], f["expected"]), fmt_mb(f.get("per_client_median")),
                   fmt_mb(f.get("aggregate")), fmt_ms(f.get("mean_time_ms")),
                   fmt_pct(f.get("loss_pct")) if t.is_udp else "-", fmt_pct(f.get("resent_pct")) if t.is_udp else "-"]
            if base_rate:
                pc = f.get("per_client_median")
                row.append(fmt_ratio(pc / base_rate) if pc else "-")
            rows.append(row)
        doc.table(headers, rows, [False, False] + [True] * (len(headers) - 2))
        doc.h(3, "What the numbers show")
        found = comparisons(tests, base_rate)
        for topic in COMPARISON_TOPICS:
            items = [text for top, text in found if top == topic]
            if items:
                doc.h(4, topic)
                doc.ul(items)
    if charts:
        doc.h(3, "Charts")
        for fname, svg, caption in charts:
            doc.chart(fname, svg, caption)
    base = extra.get("baseline")
    if isinstance(base, dict) and base:
        doc.h(2, "Baseline", "baseline")
        if base_rate:
            doc.p("SHA-256 rate of this Python (hashlib over a file in memory): {} MB/s.".format(fmt_mb(base_rate)))
        doc.table(["Item", "Value"], [[str(k), _plain(v)] for k, v in base.items()], [False, False])
    captures = extra.get("captures") if isinstance(extra.get("captures"), dict) else {}
    shown = set()
    doc.h(2, "Tests", "tests")
    doc.p("Every run of every test is listed (not only the median run); per run, one row per connection, then "
          "the lab's summary metrics (with the median over runs when a test ran more than once).")
    for t in tests:
        doc.h(3, t.label, _slug(t.label))
        for i, run in enumerate(t.runs, 1):
            logs = [_log_name(sc) for sc in ([run.server] if run.server else []) + run.client_logs]
            info = "Run {} of {}: started {}; logs: {}.".format(i, len(t.runs), run.started or "?", ", ".join(logs))
            if run.server is None:
                info += " Only client logs: server columns are empty."
            elif not run.client_logs:
                info += " No client log paired: client columns are empty."
            summaries = [sc.summary for sc in ([run.server] if run.server else []) + run.client_logs]
            if any(s is None for s in summaries):
                info += " A log has no summary line (program stopped early?)."
            elif any(s.get("interrupted") for s in summaries):
                info += " Interrupted."
            if run.events:
                info += " Events: {}.".format(", ".join("{} {}".format(v, k) for k, v in sorted(run.events.items())))
            doc.p(info)
            doc.table(*_connection_table(run))
        doc.h(4, "Summary: {}".format(t.label))
        doc.table(*_summary_table(t))
        if t.label in captures:
            shown.add(t.label)
            doc.h(4, "Capture: {}".format(t.label))
            doc.table(*_generic_table(captures[t.label] or []))
    rest = [k for k in captures if k not in shown]
    if rest:
        doc.h(2, "Captures", "captures")
        for k in rest:
            doc.h(3, str(k))
            doc.table(*_generic_table(captures[k] or []))
    tables = extra.get("tables") if isinstance(extra.get("tables"), dict) else {}
    for name, rows in tables.items():
        if isinstance(rows, list) and rows:
            doc.h(2, str(name))
            doc.table(*_generic_table(rows))
    notes = extra.get("notes")
    if isinstance(notes, (list, tuple)) and notes:
        doc.h(2, "Notes", "notes")
        doc.ul(str(n) for n in notes)
    if warnings:
        doc.h(2, "Log problems", "log-problems")
        shown_w = list(warnings[:MAX_WARNINGS_SHOWN])
        if len(warnings) > MAX_WARNINGS_SHOWN:
            shown_w.append("... and {} more".format(len(warnings) - MAX_WARNINGS_SHOWN))
        doc.ul(shown_w)
    return doc


def _log_name(sc):
    """'tcp-server/2024-...-log.jsonl' (the folder tells the role)."""
    return "{}/{}".format(sc.path.parent.name, sc.path.name)


def _plain(v):
    if isinstance(v, float):
        return "{:,.4g}".format(v) if abs(v) < 1e4 else "{:,.0f}".format(v)
    if isinstance(v, (list, tuple)):
        return ", ".join(_plain(x) for x in v)
    if isinstance(v, int) and not isinstance(v, bool):
        return "{:,}".format(v)
    return str(v)


def build_report(log_paths, out_dir, title=None, extra=None, warn=None):
    """Build the report from the sidecars under *log_paths* into *out_dir*.

    *extra* (optional): {"baseline": {...}, "captures": {test_label: [rows]},
    "tables": {title: [rows]}, "notes": [str]}.  *warn(msg)* receives each log
    problem as it is found.  Returns a :class:`ReportResult`.
    """
    warnings = []

    def _warn(msg):
        warnings.append(msg)
        if warn:
            warn(msg)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sidecars = load_sidecars(log_paths, _warn)
    runs = pair_runs(sidecars, _warn)
    tests = group_tests(runs)
    title = title or "File-transfer lab: performance report"
    charts = _charts(tests)
    doc = _build_doc(tests, runs, len(sidecars), title, extra, warnings, charts)
    svgs = []
    for fname, svg, _ in charts:
        path = out_dir / fname
        _write_text(path, svg)
        svgs.append(path)
    md_path, html_path, csv_path = out_dir / "report.md", out_dir / "report.html", out_dir / "connections.csv"
    _write_text(md_path, render_markdown(doc))
    _write_text(html_path, render_html(doc, title))
    _write_csv(csv_path, tests)
    return ReportResult(md_path, html_path, csv_path, svgs, tests, runs, warnings)


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit status 2)."""

    def error(self, message):
        self.exit(2, "{}: {}\n".format(self.prog, message))


def main(argv=None):
    """CLI: ``report.py [LOGS...] [--out DIR] [--title TEXT]``; returns the exit status."""
    parser = _Parser(
        prog="report.py", description="Build the lab's performance report (Markdown, HTML, CSV, SVG charts) "
                                      "from JSON-lines logs.")
    parser.add_argument("logs", nargs="*", help="*-log.jsonl files or folders searched recursively "
                                                "(default: {})".format(DEFAULT_LOGS))
    parser.add_argument("--out", help="output folder (default: {})".format(DEFAULT_OUT))
    parser.add_argument("--title", help="report title")
    args = parser.parse_args(argv)
    paths = [Path(p) for p in args.logs] or [DEFAULT_LOGS]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        sys.stderr.write("report: no such file or folder: {}\n".format(", ".join(missing)))
        return 2
    if not find_logs(paths):
        sys.stderr.write("report: no {} files in {}\n".format(LOG_GLOB, ", ".join(str(p) for p in paths)))
        return 2
    out = Path(args.out) if args.out else DEFAULT_OUT
    try:
        result = build_report(paths, out, title=args.title,
                              warn=lambda msg: sys.stderr.write("report: warning: {}\n".format(msg)))
    except OSError as exc:
        sys.stderr.write("report: cannot write the report in {}: {}\n".format(out, exc.strerror or exc))
        return 2
    print(result.markdown)
    print(result.html)
    return 0


if __name__ == "__main__":
    sys.exit(main())
