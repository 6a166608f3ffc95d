"""Performance report of the file-transfer lab, built from the JSON-lines logs alone.

    python3 scripts/report.py [LOGS...] [--out DIR] [--title TEXT] [--lang es|en]
                              [--since TIME] [--last N] [--protocol tcp|udp|udp-raw|udp-reliable]
                              [--benchmark DIR|latest] [--all] [--no-pdf]

Which runs: LOGS (``*-log.jsonl`` sidecars or folders searched recursively) when given.
Without LOGS: ``--benchmark`` names one benchmark folder (``latest`` = the newest); ``--all``
takes everything under ``Logs/``; otherwise, when the newest log under ``Logs/`` was written
by programs run by hand, the report covers the hand-run logs (every log outside the
``benchmark-*`` folders), else the newest benchmark folder.  ``--since``, ``--last`` and
``--protocol`` narrow any of these.  Connections that never started (refused, BUSY, no
answer) are listed apart as attempts, not as tests.

The report (``report.md``, ``report.html``, ``report.pdf`` when a headless Chromium or Chrome
is on the PATH, ``connections.csv`` and the SVG charts) goes to ``--out`` (default
``Logs/report/``).  Layers: :mod:`scripts.logmodel` reads the logs into tests;
:mod:`scripts.reporttext` words them (numbers, labels, analysis sentences, in English or
Spanish through transfer/i18n.py); :mod:`scripts.reportcharts` draws the charts;
:mod:`scripts.reportdoc` holds the document blocks and renders Markdown, HTML and PDF; this
module lays out the report and runs the CLI.
MB = 10^6 bytes throughout.
"""

if __package__ in (None, ""):
    import os, sys  # noqa: E401
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import argparse
import csv
import datetime
import io
import math
import os
import re
import sys
from collections import OrderedDict
from pathlib import Path

from scripts.logmodel import (  # noqa: F401  (re-exported: the report's public names since the split)
    MB, PROTOCOL_CHOICES, Attempt, Conn, Row, Run, Sidecar, Test, _int, _num, collect_runs,
    default_selection, find_logs, group_tests, load_sidecars, pair_runs, protocol_label, read_sidecar,
    select_runs, size_label, split_attempts, test_label, LOG_GLOB,
)
from scripts.reportcharts import charts as _charts
from scripts.reportdoc import (  # noqa: F401  (re-exported)
    BROWSERS, CSS, Block, Bullets, Chart, Document, Heading, Paragraph, Section, Table, find_browser, render_html,
    render_markdown, write_pdf,
)
from scripts.reporttext import (  # noqa: F401  (re-exported)
    COMPARISON_TOPICS, Fmt, capture_rows_for as _capture_rows_for, comparisons, consistency, test_analysis,
)
from transfer import i18n

__all__ = [
    "Sidecar", "Conn", "Row", "Run", "Test", "Attempt", "ReportResult", "find_logs", "read_sidecar", "load_sidecars",
    "pair_runs", "collect_runs", "group_tests", "build_report", "test_label", "protocol_label",
    "size_label", "comparisons", "Fmt", "find_browser", "write_pdf", "CONNECTION_COLUMNS", "UDP_COLUMNS",
    "SUMMARY_METRICS", "GLOBAL_COLUMNS", "CSV_FIELDS", "main",
]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LOGS = PROJECT_ROOT / "Logs"
DEFAULT_OUT = DEFAULT_LOGS / "report"
MAX_WARNINGS_SHOWN = 50

#: catalogue keys of the per-connection table: the lab's fields a-h, then ports, then the UDP extras
_CONN_KEYS = ("col.client", "col.success", "col.client_bytes", "col.client_time", "col.client_rate",
              "col.server_bytes", "col.server_time", "col.server_rate", "col.client_port", "col.server_port")
_UDP_KEYS = ("col.datagrams_sent", "col.datagrams_received", "col.loss", "col.resent", "col.loss_first_pass")
#: (metric key, catalogue key) of the per-test summary table
_SUMMARY = (
    ("success", "sum.success"), ("server_wire_bytes", "sum.server_total_bytes"),
    ("server_mean_time_ms", "sum.server_mean_time"), ("server_mean_rate", "sum.server_mean_rate"),
    ("client_total_bytes", "sum.client_total_bytes"), ("client_mean_time_ms", "sum.client_mean_time"),
    ("client_mean_rate", "sum.client_mean_rate"), ("aggregate_client", "sum.aggregate_client"),
    ("aggregate_server", "sum.aggregate_server"), ("loss_pct", "sum.loss"),
    ("loss_before_recovery_pct", "sum.loss_first_pass"), ("resent_pct", "sum.resent"),
)
_GLOBAL_KEYS = ("glob.proto", "glob.test", "glob.file", "glob.clients", "glob.runs", "glob.success",
                "glob.per_client", "glob.aggregate", "glob.time", "glob.loss", "glob.resent")
_EN = i18n.translator("en")
#: English headers (the Markdown/HTML of an English report), kept for callers and tests
CONNECTION_COLUMNS = tuple(_EN(k) for k in _CONN_KEYS)
UDP_COLUMNS = tuple(_EN(k) for k in _UDP_KEYS)
SUMMARY_METRICS = tuple((k, _EN(c)) for k, c in _SUMMARY)
GLOBAL_COLUMNS = tuple(_EN(k) for k in _GLOBAL_KEYS)
CSV_FIELDS = (
    "test", "protocol", "mode", "file_name", "file_size", "clients", "run", "run_started",
    "client_id", "ok", "reason", "client_ip", "client_port", "server_ip", "server_port",
    "client_bytes", "client_time_ms", "client_rate_bytes_per_s", "client_first_byte_epoch",
    "client_last_byte_epoch", "server_bytes", "server_time_ms", "server_rate_bytes_per_s",
    "server_first_byte_epoch", "server_last_byte_epoch", "datagrams_sent", "datagrams_received",
    "loss_pct", "resent_datagrams", "server_log", "client_log", "server_wire_bytes",
    "server_wire_bytes_estimated", "loss_before_recovery_pct",
)
#: human labels of the benchmark's baseline record
_BASELINE_KEYS = {"sha256_bytes_per_s": "base.sha256", "file": "base.file", "file_size": "base.file_size",
                  "repeats": "base.repeats", "samples": "base.samples", "block": "base.block"}


def _slug(text):
    return "".join(ch if ch.isalnum() else "-" for ch in text.replace(" ", "")).strip("-").lower() or "x"


# --------------------------------------------------------------------------- tables

def _connection_table(run, f):
    """The lab's table (a)-(h) of one run, and for UDP a second table of datagram counts
    (one wide table would not fit a page).  Returns (tables, any_estimate)."""
    udp = run.is_udp
    headers = [f.tr(k) for k in _CONN_KEYS]
    show_reason = any(not r.ok or r.server is None or r.client is None for r in run.rows)
    if show_reason:
        headers.append(f.tr("col.note"))
    numeric = [True] * len(headers)
    numeric[1] = False
    if show_reason:
        numeric[-1] = False
    rows, udp_rows = [], []
    estimated = False
    reliable = run.mode == "reliable"
    for r in run.rows:
        wire, est = r.wire_bytes
        estimated = estimated or est
        row = [_plain_int(r.client_id), f.tr("ok" if r.ok else "failed"),
               f.int(r.side("client", "bytes")), f.ms(r.side("client", "time_ms")), f.mb(r.rate("client")),
               ("~" if est else "") + f.int(wire), f.ms(r.side("server", "time_ms")), f.mb(r.rate("server")),
               _plain_int(r.client_port), _plain_int(r.server_port)]
        if show_reason:
            row.append(_reason_text(r, f))
        rows.append(row)
        if udp:
            udp_rows.append([_plain_int(r.client_id), f.int(r.datagrams_sent), f.int(r.datagrams_received),
                             f.pct(r.loss_pct), f.int(r.resent_datagrams) if reliable else "-",
                             f.pct(r.loss_before_recovery_pct) if reliable else "-"])
    tables = [Table(headers, rows, numeric)]
    if udp:
        tables.append(Table([f.tr("col.client")] + [f.tr(k) for k in _UDP_KEYS], udp_rows, [True] * 6))
    return tables, estimated


def _reason_text(row, f):
    parts = []
    for name, rec in (("server", row.server), ("client", row.client)):
        if rec is not None and rec.get("reason"):
            parts.append("{}: {}".format(f.tr("role." + name), i18n.localize(rec.get("reason"), f.lang)))
    if row.server is None:
        parts.append(f.tr("note.no_server_log"))
    elif row.client is None:
        parts.append(f.tr("note.no_client_log"))
    return "; ".join(parts)


def _plain_int(value):
    return "-" if value is None else str(int(value))


def _metric_text(key, m, f):
    if key == "success":
        return "{}/{}{}".format(m["verified"], m["expected"], f.tr("all_runs") if m.get("runs", 1) > 1 else "")
    v = m.get(key)
    if key == "server_wire_bytes":
        return ("~" if m.get("wire_estimated", [False])[0] else "") + f.int(v)
    if key.endswith("_bytes"):
        return f.int(v)
    if key.endswith("_ms"):
        return f.ms(v)
    if key.endswith("_pct"):
        return f.pct(v)
    return f.mb(v)


def _summary_table(test, f):
    udp = test.is_udp
    skip = set()
    if not udp:
        skip = {"loss_pct", "resent_pct", "loss_before_recovery_pct"}
    elif test.mode != "reliable":
        skip = {"resent_pct", "loss_before_recovery_pct"}
    metrics = [(k, f.tr(c)) for k, c in _SUMMARY if k not in skip]
    many = len(test.runs) > 1
    headers = [f.tr("sum.metric")] + ([f.tr("sum.run", n=i + 1) for i in range(len(test.runs))] if many else [])
    headers.append(f.tr("sum.median") if many else f.tr("sum.value"))
    rows = []
    for key, lab in metrics:
        row = [lab]
        if many:
            row += [_metric_text(key, r.metrics, f) for r in test.runs]
        row.append(_metric_text(key, test.figures, f))
        rows.append(row)
    return Table(headers, rows, [False] + [True] * (len(headers) - 1))


def _known(f, prefix, text):
    """The translation of *text* when the catalogue has ``prefix + text``, else *text* itself
    (benchmark and capture tables name their columns in English)."""
    key = prefix + str(text)
    return f.tr(key) if key in i18n.catalogue(i18n.DEFAULT) else str(text)


def _generic_table(rows, f):
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
            return f.yesno(v)
        if isinstance(v, int):
            return f.int(v)
        if isinstance(v, float):
            return f.num(v, 2) if math.isfinite(v) else "-"
        return str(v)
    body = [[cell(r.get(h)) for h in headers] for r in rows]
    numeric = [all(isinstance(r.get(h), (int, float)) and not isinstance(r.get(h), bool)
                   for r in rows if r.get(h) is not None) and any(r.get(h) is not None for r in rows)
               for h in headers]
    return Table([_known(f, "extra.", h) for h in headers], body, numeric)


def _global_table(tests, numbers, f, base_rate):
    headers = [f.tr(k) for k in _GLOBAL_KEYS] + ([f.tr("glob.vs_sha")] if base_rate else [])
    rows = []
    for t in tests:
        fig = t.figures
        reliable = t.is_udp and t.mode == "reliable"
        row = [f.proto(t.protocol, t.mode), f.tr("prueba", n=numbers[(t.file_size, t.clients)]), f.size(t.file_size),
               str(t.clients), str(len(t.runs)), "{}/{}".format(fig["verified"], fig["expected"]),
               f.mb(fig.get("per_client_median")), f.mb(fig.get("aggregate")), f.ms(fig.get("mean_time_ms")),
               f.pct(fig.get("loss_pct")) if t.is_udp else "-",
               f.pct(fig.get("resent_pct")) if reliable else "-"]
        if base_rate:
            pc = fig.get("per_client_median")
            row.append(f.ratio(pc / base_rate) if pc else "-")
        rows.append(row)
    return Table(headers, rows, [False, False, False] + [True] * (len(headers) - 3))


# --------------------------------------------------------------------------- CSV and files

def _csv_rows(tests):
    for t in tests:
        for i, run in enumerate(t.runs, 1):
            for r in run.rows:
                wire, est = r.wire_bytes
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
                    "resent_datagrams": r.resent_datagrams if run.is_udp and run.mode == "reliable" else None,
                    "server_log": str(r.server_log.path) if r.server_log else "",
                    "client_log": str(r.client_log.path) if r.client_log else "",
                    "server_wire_bytes": _int(wire) if wire is not None else None,
                    "server_wire_bytes_estimated": ("yes" if est else "no") if wire is not None else None,
                    "loss_before_recovery_pct": r.loss_before_recovery_pct if run.mode == "reliable" else None,
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


def _plain(v, f):
    if isinstance(v, float):
        return f.num(v, 4 if abs(v) < 10 else 0)
    if isinstance(v, (list, tuple)):
        return ", ".join(_plain(x, f) for x in v)
    if isinstance(v, int) and not isinstance(v, bool):
        return f.int(v)
    return str(v)


def _baseline_rows(base, f):
    rows = []
    for k, v in base.items():
        if k == "sha256_bytes_per_s" and _num(v) is not None:
            rows.append([f.tr("base.sha256"), "{} MB/s".format(f.mb(v))])
        elif k == "samples" and isinstance(v, (list, tuple)) and all(_num(x) is not None for x in v) and \
                all(_num(x) > 1e5 for x in v):
            rows.append([f.tr("base.samples"), ", ".join("{} MB/s".format(f.mb(x)) for x in v)])
        elif k == "file_size" and _int(v) is not None:
            rows.append([f.tr("base.file_size"), "{} ({} B)".format(f.size(_int(v)), f.int(v))])
        else:
            rows.append([f.tr(_BASELINE_KEYS[k]) if k in _BASELINE_KEYS else str(k), _plain(v, f)])
    return rows


def _log_name(sc):
    """'tcp-server/2024-...-log.jsonl' (the folder tells the role)."""
    return "{}/{}".format(sc.path.parent.name, sc.path.name)


def _machines(runs):
    """(role, host, os, python) rows, one per distinct machine and role seen in the logs."""
    seen = OrderedDict()
    for run in runs:
        for sc in ([run.server] if run.server else []) + run.client_logs:
            key = (sc.role, sc.test.get("host"), sc.test.get("platform"), sc.test.get("python"))
            seen.setdefault(key, 0)
            seen[key] += 1
    return list(seen)


def _test_numbers(tests):
    """{(file_size, clients): n}: the guide's 'Prueba n', numbered by file size then clients,
    the same numbers for every protocol."""
    combos = sorted({(t.file_size, t.clients) for t in tests},
                    key=lambda c: (c[0] if c[0] is not None else -1, c[1]))
    return {c: i for i, c in enumerate(combos, 1)}


# --------------------------------------------------------------------------- the document

def _build_doc(tests, runs, attempts, sidecars_count, title, extra, warnings, charts, f, generated):
    extra = extra or {}
    tr = f.tr
    doc = Document()
    base_rate = _baseline_rate(extra)
    numbers = _test_numbers(tests)
    captures = extra.get("captures") if isinstance(extra.get("captures"), dict) else {}
    # cover
    doc.add(Section("cover"))
    doc.h(1, title)
    doc.p(tr("cover.subtitle"), "subtitle")
    doc.p(tr("cover.date", date=generated))
    doc.p(tr("cover.sources", files=sidecars_count, server=sum(1 for r in runs if r.server is not None),
             client=sum(len(r.client_logs) for r in runs), tests=len(tests), runs=len(runs)))
    doc.h(2, tr("cover.machines"))
    doc.table([tr("cover.role"), tr("cover.host"), tr("cover.os"), tr("cover.python")],
              [[tr("role." + role) if role in ("server", "client") else role, host or "?", os_ or "?", py or "?"]
               for role, host, os_, py in _machines(runs)])
    doc.h(2, tr("cover.matrix"))
    proto_keys = []
    for t in tests:
        if (t.protocol, t.mode) not in proto_keys:
            proto_keys.append((t.protocol, t.mode))
    by_key = {(t.protocol, t.mode, t.file_size, t.clients): t for t in tests}
    mrows = []
    for (size, n), num in sorted(numbers.items(), key=lambda kv: kv[1]):
        row = [tr("prueba", n=num), f.size(size), str(n)]
        for p, m in proto_keys:
            t = by_key.get((p, m, size, n))
            row.append("-" if t is None else "{} {}/{}".format(
                tr("ok" if t.figures["verified"] == t.figures["expected"] else "failed"),
                t.figures["verified"], t.figures["expected"]))
        mrows.append(row)
    doc.table([tr("cover.test"), tr("glob.file"), tr("glob.clients")] + [f.proto(p, m) for p, m in proto_keys],
              mrows, [False, False, True] + [False] * len(proto_keys))
    glance = [text for topic, text in comparisons(tests, None, f) if topic == "success"]
    best = max((t for t in tests if t.figures.get("aggregate")), key=lambda t: t.figures["aggregate"], default=None)
    if best is not None:
        glance.append(tr("cover.best", label=f.label(best), rate=f.mb(best.figures["aggregate"])))
    if tests:
        glance.append(consistency(tests, f)[-1])
    if glance:
        doc.h(2, tr("cover.glance"))
        doc.ul(glance)
    doc.p(tr("cover.mb"), "note")
    doc.add(Section())
    contents = doc.h(2, tr("toc"), "contents")
    toc_at = len(doc.blocks)
    # tests, per protocol
    for p, m in proto_keys:
        ts = [t for t in tests if (t.protocol, t.mode) == (p, m)]
        for t in ts:
            num = numbers[(t.file_size, t.clients)]
            heading = tr("test.heading", proto=f.proto(p, m), n=num, size=f.size(t.file_size),
                         clients=f.clients(t.clients))
            doc.h(2, heading, _slug("{}-{}-{}".format(p, m, num)) + "-" + _slug(size_label(t.file_size)), page=True)
            estimated = False
            for i, run in enumerate(t.runs, 1):
                logs = [_log_name(sc) for sc in ([run.server] if run.server else []) + run.client_logs]
                started = (run.started or "?")[:19].replace("T", " ")
                info = tr("run.info", i=i, n=len(t.runs), started=started, logs=", ".join(logs))
                if run.server is None:
                    info += " " + tr("run.only_client")
                elif not run.client_logs:
                    info += " " + tr("run.only_server")
                summaries = [sc.summary for sc in ([run.server] if run.server else []) + run.client_logs]
                if any(s is None for s in summaries):
                    info += " " + tr("run.no_summary")
                elif any(s.get("interrupted") for s in summaries):
                    info += " " + tr("run.interrupted")
                if run.events:
                    info += " " + tr("run.events", events=", ".join("{} {}".format(v, k)
                                                                  for k, v in sorted(run.events.items())))
                doc.h(3, tr("run.heading", i=i) if len(t.runs) > 1 else tr("run.table"))
                doc.p(info, "note")
                tables, est = _connection_table(run, f)
                estimated = estimated or est
                for table in tables:
                    doc.add(table)
            doc.p(tr("table.legend_udp" if t.is_udp else "table.legend"), "note")
            if estimated:
                doc.p(tr("table.wire_estimated"), "note")
            doc.h(3, tr("sum.heading"))
            doc.add(_summary_table(t, f))
            cap, other = _capture_rows_for(t, captures.get(t.label))
            if cap:
                doc.h(3, tr("capture.heading"))
                doc.add(_generic_table(cap, f))
                if other:
                    doc.p(tr("capture.omitted", n=other), "note")
            doc.h(3, tr("analysis.heading"))
            doc.ul(test_analysis(t, f, base_rate, cap))
    # global analysis
    doc.h(2, tr("global.heading"), "global", page=True)
    if not tests:
        doc.p(tr("global.none"))
    else:
        doc.add(_global_table(tests, numbers, f, base_rate))
        doc.h(3, tr("global.findings"))
        found = comparisons(tests, base_rate, f)
        for topic in COMPARISON_TOPICS:
            items = [text for top, text in found if top == topic]
            if items:
                doc.h(4, tr("topic." + topic))
                doc.ul(items)
    if charts:
        doc.h(3, tr("charts.heading"))
        for fname, svg, caption in charts:
            doc.add(Chart(fname, svg, caption))
    if tests:
        doc.h(2, tr("cons.heading"), "tcp-vs-udp", page=True)
        doc.ul(consistency(tests, f))
    doc.h(2, tr("method.heading"), "method", page=True)
    doc.ul([tr("method.times"), tr("method.aggregate"), tr("method.medians"), tr("method.wire")])
    if attempts:
        doc.h(2, tr("attempts.heading"), "attempts")
        doc.p(tr("attempts.intro", n=len(attempts)))
        doc.table([tr("attempts.when"), tr("glob.proto"), tr("cover.role"), tr("col.client"), tr("attempts.reason"),
                   tr("attempts.log")],
                  [[a.started or "?", f.proto(a.protocol, a.mode), tr("role." + a.role),
                    "-" if a.client_id is None else str(a.client_id), i18n.localize(a.reason, f.lang),
                    _log_name(a.log)]
                   for a in attempts[:200]])
    base = extra.get("baseline")
    if isinstance(base, dict) and base:
        doc.h(2, tr("base.heading"), "baseline")
        doc.table([tr("base.item"), tr("sum.value")], _baseline_rows(base, f))
    labels = {t.label for t in tests}
    rest = [k for k in captures if k not in labels]
    if rest:
        doc.h(2, tr("capture.other"), "captures")
        for k in rest:
            doc.h(3, str(k))
            doc.add(_generic_table(captures[k] or [], f))
    tables = extra.get("tables") if isinstance(extra.get("tables"), dict) else {}
    for name, rows in tables.items():
        if isinstance(rows, list) and rows:
            doc.h(2, _known(f, "extra.", name), _slug(str(name)))
            doc.add(_generic_table(rows, f))
    notes = extra.get("notes")
    if isinstance(notes, (list, tuple)) and notes:
        doc.h(2, tr("notes.heading"), "notes")
        doc.ul(str(n) for n in notes)
    if warnings:
        doc.h(2, tr("problems.heading"), "log-problems")
        shown = list(warnings[:MAX_WARNINGS_SHOWN])
        if len(warnings) > MAX_WARNINGS_SHOWN:
            shown.append(tr("problems.more", n=len(warnings) - MAX_WARNINGS_SHOWN))
        doc.ul(shown)
    entries = [(h.text, h.anchor) for h in doc.headings(2) if h is not contents and h.level == 2]
    doc.blocks.insert(toc_at, Bullets(entries, "contents"))
    return doc


# --------------------------------------------------------------------------- report

class ReportResult:
    """Paths written by :func:`build_report`, plus the parsed tests, attempts and warnings.
    *pdf* is the PDF's path or None; *pdf_note* says why there is none (or is None)."""

    def __init__(self, markdown, html, csv_path, svgs, tests, runs, warnings, attempts=(), pdf=None, pdf_note=None):
        self.markdown = markdown
        self.html = html
        self.csv = csv_path
        self.svgs = svgs
        self.tests = tests
        self.runs = runs
        self.warnings = warnings
        self.attempts = list(attempts)
        self.pdf = pdf
        self.pdf_note = pdf_note

    @property
    def files(self):
        """Every file written."""
        return [self.markdown, self.html, self.csv] + ([self.pdf] if self.pdf else []) + list(self.svgs)

    def __repr__(self):
        return "ReportResult({}, {} tests, {} charts)".format(self.markdown, len(self.tests), len(self.svgs))


def pdf_hint(html_path, lang="en"):
    """The one line that says how to get the PDF without a browser on the PATH."""
    return i18n.translator(lang)("pdf.hint", html=html_path)


def build_report(log_paths, out_dir, title=None, extra=None, warn=None, lang="en", since=None, last=None,
                 protocol=None, pdf=False, generated=None, browser=None):
    """Build the report from the sidecars under *log_paths* into *out_dir*.

    *extra* (optional): {"baseline": {...}, "captures": {test_label: [rows]},
    "tables": {title: [rows]}, "notes": [str]}.  *warn(msg)* receives each log problem as it
    is found.  *lang*: "en" or "es".  *since* (epoch s), *last* (tests) and *protocol* choose
    runs (see :func:`scripts.logmodel.select_runs`).  *pdf*: also print report.pdf with a
    headless browser when one is found (else ``pdf_note`` says how to get it).  *generated*:
    the date shown on the cover (default: now).  Returns a :class:`ReportResult`.
    """
    warnings = []

    def _warn(msg):
        warnings.append(msg)
        if warn:
            warn(msg)
    f = Fmt(lang)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sidecars = load_sidecars(log_paths, _warn)
    runs, attempts = split_attempts(pair_runs(sidecars, _warn))
    runs = select_runs(runs, since=since, last=last, protocol=protocol)
    if since is not None:
        attempts = [a for a in attempts if a.started_epoch is not None and a.started_epoch >= since]
    if protocol:
        proto, _, mode = protocol.lower().partition("-")
        attempts = [a for a in attempts if a.protocol == proto and (not mode or a.mode == mode)]
    if last is not None and runs:
        oldest = min((r.started_epoch for r in runs if r.started_epoch is not None), default=None)
        attempts = [a for a in attempts if oldest is not None and (a.started_epoch or 0) >= oldest]
    tests = group_tests(runs)
    title = title or f.tr("report.title")
    if generated is None:
        generated = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z").strip()
    charts = _charts(tests, f)
    doc = _build_doc(tests, runs, attempts, len(sidecars), title, extra, warnings, charts, f, generated)
    svgs = []
    for fname, svg, _ in charts:
        path = out_dir / fname
        _write_text(path, svg)
        svgs.append(path)
    md_path, html_path, csv_path = out_dir / "report.md", out_dir / "report.html", out_dir / "connections.csv"
    _write_text(md_path, render_markdown(doc))
    _write_text(html_path, render_html(doc, title, f.lang))
    _write_csv(csv_path, tests)
    pdf_path, note = None, None
    if pdf:
        browser = browser or find_browser()
        if browser is None:
            note = pdf_hint(html_path, f.lang)
        else:
            problem = write_pdf(html_path, out_dir / "report.pdf", browser)
            if problem is None:
                pdf_path = out_dir / "report.pdf"
            else:
                note = "{} ({})".format(pdf_hint(html_path, f.lang), problem)
    return ReportResult(md_path, html_path, csv_path, svgs, tests, runs, warnings, attempts, pdf_path, note)


# --------------------------------------------------------------------------- CLI

class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit status 2)."""

    def error(self, message):
        self.exit(2, "{}: {}\n".format(self.prog, message))


_RELATIVE = re.compile(r"\A([0-9]+(?:\.[0-9]+)?)\s*([mhd])\Z")


def parse_since(text, now):
    """``--since`` value -> epoch seconds: '2026-12-01', '2026-12-01 14:30', an ISO time with
    offset, or a span back from *now* (epoch s): '90m', '2h', '1d'.  ValueError when unreadable."""
    text = text.strip()
    m = _RELATIVE.match(text.lower())
    if m:
        return now - float(m.group(1)) * {"m": 60, "h": 3600, "d": 86400}[m.group(2)]
    for candidate in (text, text.replace(" ", "T")):
        try:
            when = datetime.datetime.fromisoformat(candidate)
        except ValueError:
            continue
        if when.tzinfo is None:
            when = when.astimezone()  # local time, as the student reads the clock
        return when.timestamp()
    raise ValueError("not a time: {!r} (use 2026-12-01, '2026-12-01 14:30', 90m, 2h or 1d)".format(text))


def _positive_int(text):
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("not a whole number: {!r}".format(text))
    if n < 1:
        raise argparse.ArgumentTypeError("must be at least 1: {}".format(n))
    return n


def build_parser():
    """The argparse parser of the CLI."""
    parser = _Parser(
        prog="report.py", formatter_class=i18n.HelpFormatter, description="Build the lab's performance report (Markdown, HTML, PDF, CSV, SVG charts) "
                                      "from JSON-lines logs.")
    parser.add_argument("logs", nargs="*", help="*-log.jsonl files or folders searched recursively (default: the "
                                                "hand-run logs in {0} when they are the newest, else the newest "
                                                "benchmark folder there)".format(DEFAULT_LOGS))
    parser.add_argument("--out", help="output folder (default: {})".format(DEFAULT_OUT))
    parser.add_argument("--title", help="report title")
    parser.add_argument("--since", metavar="TIME", help="only runs started at or after TIME: 2026-12-01, "
                                                        "'2026-12-01 14:30', or back from now: 90m, 2h, 1d")
    parser.add_argument("--last", type=_positive_int, metavar="N", help="only the most recent runs covering N tests")
    parser.add_argument("--protocol", choices=PROTOCOL_CHOICES, help="only this protocol (udp = both UDP modes)")
    parser.add_argument("--benchmark", metavar="DIR", help="one benchmark folder ('latest': the newest under Logs/)")
    parser.add_argument("--all", action="store_true", help="every log under Logs/ (benchmarks and hand runs)")
    parser.add_argument("--no-pdf", action="store_true", help="do not print report.pdf")
    i18n.add_argument(parser)
    return parser


def _choose_paths(args, err):
    """(paths, description) of the logs to read, or (None, None) after an error line."""
    if args.logs:
        if args.benchmark or args.all:
            err("report: give LOGS or --benchmark/--all, not both")
            return None, None
        return [Path(p) for p in args.logs], None
    if args.benchmark:
        if args.benchmark == "latest":
            from scripts.logmodel import benchmark_folders
            folders = benchmark_folders(DEFAULT_LOGS)
            if not folders:
                err("report: no benchmark-* folder in {}".format(DEFAULT_LOGS))
                return None, None
            return [folders[-1]], "benchmark {}".format(folders[-1].name)
        return [Path(args.benchmark)], None
    if args.all:
        return [DEFAULT_LOGS], "every log under {}".format(DEFAULT_LOGS)
    paths, kind = default_selection(DEFAULT_LOGS)
    if kind == "hand":
        return paths, "the {} hand-run log(s) in {} (--benchmark latest or --all for others)".format(
            len(paths), DEFAULT_LOGS)
    if kind == "benchmark":
        return paths, "the newest benchmark, {} (--all for every log)".format(paths[0])
    return [DEFAULT_LOGS], None


def main(argv=None, now=None):
    """CLI: ``report.py [LOGS...] [options]``; returns the exit status."""
    parser = build_parser()
    with i18n.chosen(sys.argv[1:] if argv is None else argv):  # --help and usage errors in that language
        args = parser.parse_args(argv)
    err = lambda msg: sys.stderr.write(msg + "\n")  # noqa: E731
    lang = i18n.choose(args.lang)
    since = None
    if args.since:
        try:
            since = parse_since(args.since, now if now is not None else datetime.datetime.now().timestamp())
        except ValueError as exc:
            err("report: --since: {}".format(exc))
            return 2
    paths, described = _choose_paths(args, err)
    if paths is None:
        return 2
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        err("report: no such file or folder: {}".format(", ".join(missing)))
        return 2
    if not find_logs(paths):
        err("report: no {} files in {}".format(LOG_GLOB, ", ".join(str(p) for p in paths)))
        return 2
    if described:
        err("report: reporting {}".format(described))
    out = Path(args.out) if args.out else DEFAULT_OUT
    try:
        result = build_report(paths, out, title=args.title, lang=lang, since=since, last=args.last,
                              protocol=args.protocol, pdf=not args.no_pdf,
                              warn=lambda msg: err("report: warning: {}".format(msg)))
    except OSError as exc:
        err("report: cannot write the report in {}: {}".format(out, exc.strerror or exc))
        return 2
    if result.pdf_note:
        err("report: {}".format(result.pdf_note))
    print(result.markdown)
    print(result.html)
    if result.pdf:
        print(result.pdf)
    return 0


if __name__ == "__main__":
    sys.exit(main())
