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
``Logs/report/``).  Reading the logs is :mod:`scripts.logmodel`; this module renders.
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
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections import OrderedDict
from pathlib import Path

from scripts.logmodel import (  # noqa: F401  (re-exported: the report's public names since the split)
    MB, PROTOCOL_CHOICES, Attempt, Conn, Row, Run, Sidecar, Test, _int, _num, collect_runs,
    default_selection, find_logs, group_tests, load_sidecars, pair_runs, protocol_label, read_sidecar,
    select_runs, size_label, split_attempts, test_label, LOG_GLOB,
)
from scripts.svgchart import bar_chart, escape, line_chart, number_style, range_chart
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
PDF_TIMEOUT = 120.0
#: browsers that print HTML to PDF headless, in order of preference
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")

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


# --------------------------------------------------------------------------- formatting

class Fmt:
    """Numbers and labels in one language (decimal comma in Spanish, point in English)."""

    def __init__(self, lang="en"):
        self.lang = lang if lang in i18n.LANGUAGES else i18n.DEFAULT
        self.tr = i18n.translator(self.lang)

    def num(self, value, decimals=0):
        """*value* with separators, '-' when missing."""
        return "-" if value is None else i18n.number(value, decimals, self.lang)

    def int(self, value):
        """Integer with thousands separators, '-' when missing."""
        return "-" if value is None else i18n.number(round(value), 0, self.lang)

    def mb(self, rate):
        """Bytes/s as MB/s, 2 decimals."""
        return "-" if rate is None else i18n.number(rate / MB, 2, self.lang)

    def ms(self, value):
        """Milliseconds, 1 decimal."""
        return "-" if value is None else i18n.number(value, 1, self.lang)

    def pct(self, value):
        """Percentage, 2 decimals."""
        return "-" if value is None else i18n.number(value, 2, self.lang)

    def ratio(self, value):
        """A ratio as 'x0.23' ('x0,23')."""
        return "x" + i18n.number(value, 2, self.lang)

    def size(self, size):
        """'100 MiB', '2.5 MiB' ('2,5 MiB'), or the unknown-size text."""
        if size is None or size < 0:
            return self.tr("size.unknown")
        text = size_label(size)
        return text.replace(".", ",") if self.lang == "es" else text

    def proto(self, protocol, mode):
        """'TCP', 'UDP raw' / 'UDP sin recuperación' ..."""
        if protocol == "tcp":
            return "TCP"
        return self.tr("proto.udp_" + str(mode)) if mode in ("raw", "reliable") else protocol_label(protocol, mode)

    def clients(self, n):
        """'1 client', '5 clients' ('1 cliente', '5 clientes')."""
        return self.tr("clients.one" if n == 1 else "clients.many", n=n)

    def label(self, t):
        """Display label of a test or run: 'TCP, 100 MiB, 5 clients'."""
        return "{}, {}, {}".format(self.proto(t.protocol, t.mode), self.size(t.file_size), self.clients(t.clients))

    def yesno(self, flag):
        """'yes'/'no' ('sí'/'no')."""
        return self.tr("yes" if flag else "no")


def _slug(text):
    return "".join(ch if ch.isalnum() else "-" for ch in text.replace(" ", "")).strip("-").lower() or "x"


# --------------------------------------------------------------------------- document blocks

class Block:
    """One piece of the document; each kind renders itself as Markdown and as HTML."""

    def markdown(self):
        """Lines of Markdown."""
        raise NotImplementedError

    def html(self):
        """A string of HTML."""
        raise NotImplementedError


class Heading(Block):
    """A heading; *page* starts a new printed page before it."""

    def __init__(self, level, text, anchor=None, page=False):
        self.level, self.text, self.anchor, self.page = level, text, anchor, page

    def markdown(self):
        return ["#" * self.level + " " + self.text, ""]

    def html(self):
        attrs = ' id="{}"'.format(escape(self.anchor)) if self.anchor else ""
        if self.page:
            attrs += ' class="page"'
        return "<h{l}{a}>{t}</h{l}>".format(l=self.level, a=attrs, t=escape(self.text))


class Paragraph(Block):
    """A paragraph of plain text (*css*: an optional class, e.g. 'note')."""

    def __init__(self, text, css=None):
        self.text, self.css = text, css

    def markdown(self):
        return [self.text, ""]

    def html(self):
        return "<p{}>{}</p>".format(' class="{}"'.format(self.css) if self.css else "", escape(self.text))


class Bullets(Block):
    """A bullet list; items are text, or (text, anchor) for a contents list of links."""

    def __init__(self, items, css=None):
        self.items, self.css = list(items), css

    def markdown(self):
        out = []
        for item in self.items:
            if isinstance(item, tuple):
                out.append("- [{}](#{})".format(item[0], item[1]))
            else:
                out.append("- " + item)
        return out + [""]

    def html(self):
        lis = []
        for item in self.items:
            if isinstance(item, tuple):
                lis.append('<li><a href="#{}">{}</a></li>'.format(escape(item[1]), escape(item[0])))
            else:
                lis.append("<li>{}</li>".format(escape(item)))
        return "<ul{}>{}</ul>".format(' class="{}"'.format(self.css) if self.css else "", "".join(lis))


def _md_cell(text):
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


class Table(Block):
    """A table; *numeric* flags right-aligned columns."""

    def __init__(self, headers, rows, numeric=None, css=None):
        self.headers = list(headers)
        self.rows = [[str(c) for c in r] for r in rows]
        self.numeric = list(numeric or [False] * len(self.headers))
        self.css = css

    def markdown(self):
        out = ["| " + " | ".join(_md_cell(h) for h in self.headers) + " |",
               "|" + "|".join("---:" if n else "---" for n in self.numeric) + "|"]
        out += ["| " + " | ".join(_md_cell(c) for c in r) + " |" for r in self.rows]
        return out + [""]

    def html(self):
        out = ["<table{}><thead><tr>".format(' class="{}"'.format(self.css) if self.css else "")
               + "".join("<th>{}</th>".format(escape(h)) for h in self.headers) + "</tr></thead><tbody>"]
        for r in self.rows:
            out.append("<tr>" + "".join('<td class="num">{}</td>'.format(escape(c)) if n else
                                        "<td>{}</td>".format(escape(c)) for c, n in zip(r, self.numeric)) + "</tr>")
        out.append("</tbody></table>")
        return "\n".join(out)


class Chart(Block):
    """An SVG chart: linked as a file in Markdown, inline in HTML."""

    def __init__(self, filename, svg, caption):
        self.filename, self.svg, self.caption = filename, svg, caption

    def markdown(self):
        return ["![{}]({})".format(self.caption.replace("]", ")"), self.filename), ""]

    def html(self):
        return "<figure>\n{}\n<figcaption>{}</figcaption>\n</figure>".format(self.svg.strip(), escape(self.caption))


class Section(Block):
    """Opens (*css* given) or closes (None) an HTML ``<section>``; nothing in Markdown."""

    def __init__(self, css=None):
        self.css = css

    def markdown(self):
        return []

    def html(self):
        return '<section class="{}">'.format(self.css) if self.css else "</section>"


class Document:
    """The report as a list of blocks, rendered by :func:`render_markdown` / :func:`render_html`."""

    def __init__(self):
        self.blocks = []

    def add(self, block):
        """Append *block*; returns it."""
        self.blocks.append(block)
        return block

    def h(self, level, text, anchor=None, page=False):
        """Append a heading."""
        return self.add(Heading(level, text, anchor, page))

    def p(self, text, css=None):
        """Append a paragraph."""
        return self.add(Paragraph(text, css))

    def ul(self, items, css=None):
        """Append a bullet list (nothing when *items* is empty)."""
        items = list(items)
        return self.add(Bullets(items, css)) if items else None

    def table(self, headers, rows, numeric=None, css=None):
        """Append a table."""
        return self.add(Table(headers, rows, numeric, css))

    def headings(self, max_level=3):
        """Headings with an anchor, for the contents list."""
        return [b for b in self.blocks if isinstance(b, Heading) and b.anchor and b.level <= max_level]


def render_markdown(doc):
    """The document as Markdown (charts linked as images)."""
    lines = []
    for block in doc.blocks:
        lines += block.markdown()
    return "\n".join(lines).rstrip() + "\n"


#: screen and print stylesheet: A4 and Letter both fit (the page box is the smaller of the two
#: in each direction: 210 mm x 11 in); no table or chart breaks; each test on a new page;
#: running page numbers in the bottom margin
CSS = """
body { font-family: "DejaVu Sans", Arial, sans-serif; color: #111; background: #fff; margin: 1.5em auto;
       max-width: 60em; padding: 0 1em; font-size: 11pt; line-height: 1.35; }
h1 { font-size: 1.7em; margin: 0 0 0.3em 0; } h2 { font-size: 1.3em; border-bottom: 1px solid #888; margin-top: 1.4em; }
h3 { font-size: 1.1em; margin-top: 1.1em; } h4 { font-size: 1em; margin: 0.9em 0 0.3em 0; }
table { border-collapse: collapse; margin: 0.5em 0 0.9em 0; font-size: 8.5pt; }
th, td { border: 1px solid #999; padding: 2px 5px; vertical-align: top; }
th { background: #e8e8e8; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
figure { margin: 0.8em 0; } figure svg { max-width: 100%; height: auto; }
figcaption { font-size: 0.85em; color: #333; }
p.note { font-size: 0.9em; color: #333; }
ul.contents { list-style: none; padding-left: 0; columns: 2; font-size: 0.95em; }
ul.contents a { color: #111; text-decoration: none; }
section.cover { padding-top: 3em; }
section.cover h1 { font-size: 2.2em; margin: 0 0 0.2em 0; padding-bottom: 0.3em; border-bottom: 3px solid #1f3b63;
                   color: #1f3b63; }
section.cover p.subtitle { font-size: 1.3em; color: #333; margin: 0.2em 0 1.6em 0; }
section.cover h2 { color: #1f3b63; border-bottom: 1px solid #1f3b63; margin-top: 1.6em; }
section.cover table { font-size: 10pt; width: 100%; }
section.cover p.note { margin-top: 1.2em; }
h2.page { color: #1f3b63; }
@page { size: 210mm 279mm; margin: 16mm 14mm 18mm 14mm;
        @bottom-center { content: counter(page) " / " counter(pages); font-family: "DejaVu Sans", Arial, sans-serif;
                         font-size: 8pt; color: #555; } }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 10pt; }
  .page { break-before: page; page-break-before: always; }
  table, figure, tr { break-inside: avoid; page-break-inside: avoid; }
  h2, h3, h4 { break-after: avoid; page-break-after: avoid; }
  section.cover { break-after: page; page-break-after: always; }
  a { color: inherit; text-decoration: none; }
}
"""


def render_html(doc, title, lang="en"):
    """The document as one self-contained XHTML-compatible page (charts inline)."""
    out = ['<!DOCTYPE html>', '<html xmlns="http://www.w3.org/1999/xhtml" lang="{}">'.format(lang), "<head>",
           '<meta charset="utf-8"/>', '<meta name="viewport" content="width=device-width, initial-scale=1"/>',
           "<title>{}</title>".format(escape(title)), "<style>{}</style>".format(CSS), "</head>", "<body>"]
    out += [block.html() for block in doc.blocks]
    out += ["</body>", "</html>", ""]
    return "\n".join(out)


# --------------------------------------------------------------------------- analysis

def _trend(f, a, b):
    if not a or b is None:
        return f.tr("trend.changes")
    r = b / a
    if r > 1.02:
        return f.tr("trend.rises")
    if r < 0.98:
        return f.tr("trend.falls")
    return f.tr("trend.same")


#: topics of :func:`comparisons`, in report order (catalogue keys topic.<name>)
COMPARISON_TOPICS = ("success", "clients", "size", "protocols", "udp_loss", "baseline")


def comparisons(tests, baseline_rate=None, fmt=None):
    """Sentences comparing the tests, computed from the figures; comparisons lacking data are
    skipped.  Returns a list of (topic, sentence) pairs (topics: :data:`COMPARISON_TOPICS`)."""
    f = fmt or Fmt()
    tr = f.tr
    out = []
    total = sum(t.figures["expected"] for t in tests)
    ok = sum(t.figures["verified"] for t in tests)
    if total:
        if ok == total:
            out.append(("success", tr("cmp.all_verified", total=f.int(total), runs=sum(len(t.runs) for t in tests))))
        else:
            bad = [tr("cmp.bad_item", label=f.label(t), bad=t.figures["expected"] - t.figures["verified"],
                      expected=t.figures["expected"]) for t in tests if t.figures["verified"] < t.figures["expected"]]
            out.append(("success", tr("cmp.some_failed", bad=f.int(total - ok), total=f.int(total),
                                      items="; ".join(bad))))
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
        sent = tr("cmp.clients_rate", proto=f.proto(a.protocol, a.mode), size=f.size(a.file_size),
                  trend=_trend(f, ra, rb), a=f.mb(ra), na=f.clients(a.clients), b=f.mb(rb), nb=f.clients(b.clients),
                  ratio=f.ratio(rb / ra))
        if len(pts) > 2:
            sent += tr("cmp.clients_seq", values=" -> ".join(f.mb(t.figures["per_client_median"]) for t in pts),
                       counts=" / ".join(str(t.clients) for t in pts))
        agg = [t for t in ts if t.figures.get("aggregate")]
        if len(agg) >= 2:
            ga, gb = agg[0].figures["aggregate"], agg[-1].figures["aggregate"]
            sent += tr("cmp.clients_aggregate", trend=_trend(f, ga, gb), a=f.mb(ga), na=f.clients(agg[0].clients),
                       b=f.mb(gb), nb=f.clients(agg[-1].clients), ratio=f.ratio(gb / ga))
        tm = [t for t in ts if t.figures.get("mean_time_ms")]
        if len(tm) >= 2:
            ta, tb = tm[0].figures["mean_time_ms"], tm[-1].figures["mean_time_ms"]
            sent += tr("cmp.clients_time", trend=_trend(f, ta, tb), a=f.ms(ta), b=f.ms(tb), ratio=f.ratio(tb / ta))
        out.append(("clients", sent + ")."))
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
        for metric, name, fm, unit in (("mean_time_ms", "metric.mean_time", f.ms, "ms"),
                                       ("per_client_median", "metric.per_client", f.mb, "MB/s"),
                                       ("aggregate", "metric.aggregate", f.mb, "MB/s")):
            va, vb = a.figures.get(metric), b.figures.get(metric)
            if va and vb:
                parts.append("{} {} vs {} {} ({})".format(tr(name), fm(vb), fm(va), unit, f.ratio(vb / va)))
        if parts:
            out.append(("size", tr("cmp.size", proto=f.proto(a.protocol, a.mode), n=f.clients(a.clients),
                                   big=f.size(b.file_size), small=f.size(a.file_size),
                                   ratio=f.ratio(b.file_size / a.file_size), parts="; ".join(parts))))
    groups = OrderedDict()
    for t in tests:
        groups.setdefault((t.file_size if t.file_size is not None else -1, t.clients), []).append(t)
    for (size, n), ts in sorted(groups.items()):
        ts = sorted(ts, key=lambda t: t.key)
        parts = []
        for metric, name in (("aggregate", "metric.aggregate"), ("per_client_median", "metric.per_client")):
            have = [t for t in ts if t.figures.get(metric)]
            if len(have) < 2:
                continue
            ref = have[0]
            rp = f.proto(ref.protocol, ref.mode)
            items = ["{} {} MB/s".format(rp, f.mb(ref.figures[metric]))]
            for t in have[1:]:
                items.append(tr("cmp.proto_item", proto=f.proto(t.protocol, t.mode), rate=f.mb(t.figures[metric]),
                                ratio=f.ratio(t.figures[metric] / ref.figures[metric]), ref=rp))
            parts.append("{}: {}".format(tr(name), ", ".join(items)))
        if parts:
            out.append(("protocols", "{}, {}: {}.".format(f.size(size), f.clients(n), "; ".join(parts))))
    groups = OrderedDict()
    for t in tests:
        if t.is_udp and t.figures.get("loss_pct") is not None:
            groups.setdefault(t.key[:4], []).append(t)
    for ts in groups.values():
        ts = sorted(ts, key=lambda t: t.clients)
        a = ts[0]
        out.append(("udp_loss", tr("cmp.loss", proto=f.proto(a.protocol, a.mode), size=f.size(a.file_size),
                                   values=" -> ".join(f.pct(t.figures["loss_pct"]) for t in ts),
                                   counts=" / ".join(str(t.clients) for t in ts))))
    if baseline_rate:
        have = [t for t in tests if t.figures.get("per_client_median")]
        if have:
            best = max(have, key=lambda t: t.figures["per_client_median"])
            worst = min(have, key=lambda t: t.figures["per_client_median"])
            out.append(("baseline", tr("cmp.baseline", rate=f.mb(baseline_rate),
                                       worst=f.ratio(worst.figures["per_client_median"] / baseline_rate),
                                       worst_label=f.label(worst),
                                       best=f.ratio(best.figures["per_client_median"] / baseline_rate),
                                       best_label=f.label(best))))
    return out


def _capture_totals(rows):
    """Sums over a test's capture rows (benchmark --capture): frames, wire and payload bytes."""
    def total(key):
        vals = [_num(r.get(key)) for r in rows if isinstance(r, dict)]
        vals = [v for v in vals if v is not None]
        return sum(vals) if vals else None
    return {"frames": _sum2(total("frames c->s"), total("frames s->c")),
            "wire": total("wire bytes s->c"), "payload": total("payload bytes s->c"),
            "retrans": total("TCP retransmissions"), "fragments": total("IP fragments")}


def _capture_rows_for(test, rows):
    """(rows, omitted): the capture rows whose client endpoint is one of the test's clients (a
    capture on a shared interface also sees other traffic); all rows when none matches."""
    rows = [r for r in (rows or []) if isinstance(r, dict)]
    ports = {r.client_port for run in test.runs for r in run.rows if r.client_port is not None}
    mine = []
    for r in rows:
        _, _, port = str(r.get("client") or "").rpartition(":")
        if port.isdigit() and int(port) in ports:
            mine.append(r)
    if not mine:
        return rows, 0
    return mine, len(rows) - len(mine)


def _sum2(a, b):
    return None if a is None and b is None else (a or 0) + (b or 0)


def test_analysis(test, f, baseline_rate=None, capture_rows=None):
    """Sentences analysing one test, in *f*'s language."""
    tr, fig = f.tr, test.figures
    out = []
    if fig["expected"]:
        if fig["verified"] == fig["expected"]:
            out.append(tr("an.all_ok_one" if fig["verified"] == 1 else "an.all_ok", n=fig["verified"]))
        else:
            reasons = sorted({r.reason for run in test.runs for r in run.rows if not r.ok and r.reason})
            out.append(tr("an.some_failed", bad=fig["expected"] - fig["verified"], n=fig["expected"],
                          reasons="; ".join(reasons[:3]) or "-"))
    if fig.get("per_client_median") is not None:
        text = tr("an.rates", per_client=f.mb(fig.get("per_client_median")), aggregate=f.mb(fig.get("aggregate")),
                  time=f.ms(fig.get("mean_time_ms")))
        if baseline_rate:
            text += " " + tr("an.vs_sha", ratio=f.ratio(fig["per_client_median"] / baseline_rate))
        out.append(text)
    if test.is_udp and test.mode == "raw":
        out += _raw_loss_sentences(test, f)
    if test.is_udp and test.mode == "reliable":
        lbr, resent = fig.get("loss_before_recovery_pct"), fig.get("resent_datagrams")
        if lbr is not None:
            out.append(tr("an.reliable", loss=f.pct(lbr), resent=f.int(resent or 0)))
    if test.is_udp and test.mode == "raw":   # reliable mode adapts its rate: the set rate is only the start
        out += _pacing_sentences(test, f)
    if capture_rows:
        c = _capture_totals(capture_rows)
        if c["wire"] and c["payload"]:
            text = tr("an.capture", frames=f.int(c["frames"]), wire=f.int(c["wire"]), payload=f.int(c["payload"]),
                      overhead=f.pct(100.0 * (c["wire"] - c["payload"]) / c["payload"]))
            if c["retrans"] is not None:
                text += " " + tr("an.capture_retrans", n=f.int(c["retrans"]))
            if c["fragments"] is not None:
                text += " " + tr("an.capture_fragments", n=f.int(c["fragments"]))
            out.append(text)
    return out


def _raw_loss_sentences(test, f):
    fig, tr = test.figures, f.tr
    loss = fig.get("loss_pct")
    if not loss:
        return [tr("an.raw_no_loss")] if loss is not None else []
    sent, got = fig.get("rate_sent"), fig.get("rate_received")
    out = [tr("an.raw_loss", loss=f.pct(loss), sent=f.mb(sent), received=f.mb(got))]
    suggested = fig.get("suggested_rate")
    if suggested:
        out.append(tr("an.raw_suggest", rate=f.mb(suggested), arg=_rate_arg(suggested)))
    elif got:
        estimate = got * 0.8
        out.append(tr("an.raw_suggest_est", rate=f.mb(estimate), arg=_rate_arg(estimate)))
    return out


def _rate_arg(rate):
    """A --rate value a student can type: 11M, 250M (bytes/s, rounded down)."""
    m = max(1, int(rate / MB))
    return "{}M".format(m)


def _pacing_sentences(test, f):
    """Explain a UDP rate above the server's pacing: the token bucket starts full (2 ms at the
    set rate), so a file sent in a few milliseconds goes out mostly as that first burst."""
    fig = test.figures
    rate_set, sent = fig.get("rate_set"), fig.get("rate_sent")
    if not rate_set or not sent or sent <= rate_set * 1.05:
        return []
    return [f.tr("an.above_pacing", sent=f.mb(sent), set=f.mb(rate_set), time=f.ms(fig.get("server_mean_time_ms")),
                 burst=f.mb(rate_set * 0.002))]


def consistency(tests, f):
    """The TCP vs UDP comparison: sentences answering 'are the results consistent?'."""
    tr = f.tr
    out = []
    tcp = {(t.file_size, t.clients): t for t in tests if t.protocol == "tcp"}
    udp = [t for t in tests if t.is_udp]
    if not tcp or not udp:
        return [tr("cons.missing")]
    pairs = [(tcp[(u.file_size, u.clients)], u) for u in udp if (u.file_size, u.clients) in tcp]
    if not pairs:
        return [tr("cons.no_pairs")]
    for mode in ("raw", "reliable"):
        ps = [(t, u) for t, u in pairs if u.mode == mode and t.figures.get("aggregate") and u.figures.get("aggregate")]
        if not ps:
            continue
        ratios = [u.figures["aggregate"] / t.figures["aggregate"] for t, u in ps]
        faster = sum(1 for r in ratios if r > 1.05)
        slower = sum(1 for r in ratios if r < 0.95)
        out.append(tr("cons.speed", proto=f.proto("udp", mode), n=len(ps), faster=faster, slower=slower,
                      lo=f.ratio(min(ratios)), hi=f.ratio(max(ratios)), median=f.ratio(statistics.median(ratios))))
    tcp_ok = all(t.figures["verified"] == t.figures["expected"] for t in tcp.values())
    out.append(tr("cons.tcp_ok") if tcp_ok else tr("cons.tcp_failed"))
    for mode in ("raw", "reliable"):
        us = [u for u in udp if u.mode == mode]
        if not us:
            continue
        ok = all(u.figures["verified"] == u.figures["expected"] for u in us)
        losses = [u.figures.get("loss_pct") or 0 for u in us]
        key = "cons.{}_{}".format(mode, "ok" if ok and (mode == "reliable" or not any(losses)) else "failed")
        out.append(tr(key, proto=f.proto("udp", mode), max_loss=f.pct(max(losses) if losses else 0)))
    # trend agreement: does per-client rate fall with clients for both protocols?
    def trend(ts):
        ts = sorted((t for t in ts if t.figures.get("per_client_median")), key=lambda t: t.clients)
        if len(ts) < 2:
            return None
        return ts[-1].figures["per_client_median"] < ts[0].figures["per_client_median"]
    tt = trend(list(tcp.values()))
    ut = [trend([u for u in udp if u.mode == m]) for m in ("raw", "reliable")]
    ut = [x for x in ut if x is not None]
    if tt is not None and ut:
        out.append(tr("cons.trend_same") if all(x == tt for x in ut) else tr("cons.trend_differs"))
    out.append(tr("cons.verdict_yes") if tcp_ok and all(
        u.figures["verified"] == u.figures["expected"] for u in udp if u.mode == "reliable")
               else tr("cons.verdict_partly"))
    return out


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
            parts.append("{}: {}".format(f.tr("role." + name), rec.get("reason")))
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


# --------------------------------------------------------------------------- charts

def _charts(tests, f):
    """(filename, svg, caption) for every chart the data allows, titles in *f*'s language."""
    tr = f.tr
    charts = []
    protos = []
    for t in tests:
        if (t.key[0], f.proto(t.protocol, t.mode)) not in protos:
            protos.append((t.key[0], f.proto(t.protocol, t.mode)))
    proto_names = [p for _, p in sorted(protos)]
    sizes = sorted({t.file_size for t in tests if t.file_size is not None})
    if any(t.file_size is None for t in tests):
        sizes.append(None)
    name = lambda t: f.proto(t.protocol, t.mode)  # noqa: E731
    with number_style(f.lang):
        for size in sizes:
            ts = [t for t in tests if t.file_size == size]
            slug = _slug(size_label(size))
            for metric, fname, ttl, ylab in (
                    ("per_client_median", "rate-per-client", "chart.per_client", "chart.per_client_axis"),
                    ("aggregate", "rate-aggregate", "chart.aggregate", "chart.aggregate_axis")):
                series = OrderedDict()
                for p in proto_names:
                    pts = [(t.clients, t.figures.get(metric) / MB) for t in ts
                           if name(t) == p and t.figures.get(metric) is not None]
                    if pts:
                        series[p] = pts
                if series:
                    title = tr(ttl, size=f.size(size))
                    charts.append(("{}-{}.svg".format(fname, slug), line_chart(
                        series, title, tr("chart.clients"), tr(ylab), y_unit="MB/s", desc=tr("chart.desc_medians")),
                        title))
            counts = sorted({t.clients for t in ts})
            series = OrderedDict()
            for p in proto_names:
                triples = []
                for n in counts:
                    times = [x / 1000.0 for t in ts if name(t) == p and t.clients == n
                             for x in t.figures["client_times_ms"]]
                    triples.append((min(times), statistics.median(times), max(times)) if times else None)
                if any(triples):
                    series[p] = triples
            if series:
                title = tr("chart.spread", size=f.size(size))
                charts.append(("time-spread-{}.svg".format(slug), range_chart(
                    [str(n) for n in counts], series, title, tr("chart.clients"), tr("chart.time_axis"), y_unit="s",
                    desc=tr("chart.desc_spread")), title))
        series = OrderedDict()
        for t in tests:
            if t.is_udp and t.figures.get("loss_pct") is not None:
                series.setdefault("{}, {}".format(name(t), f.size(t.file_size)), []).append(
                    (t.clients, t.figures["loss_pct"]))
        if series:
            title = tr("chart.loss")
            charts.append(("udp-loss.svg", line_chart(series, title, tr("chart.clients"), tr("chart.loss_axis"),
                                                      y_unit="%"), title))
        if len(proto_names) >= 2:
            cats = sorted({(t.file_size if t.file_size is not None else -1, t.clients) for t in tests})
            labels = ["{} x {}".format(f.size(s), n) for s, n in cats]
            for metric, fname, ttl, ylab in (
                    ("aggregate", "protocols-aggregate", "chart.proto_aggregate", "chart.aggregate_axis"),
                    ("per_client_median", "protocols-per-client", "chart.proto_per_client", "chart.per_client_axis")):
                series = OrderedDict()
                for p in proto_names:
                    vals = []
                    for s, n in cats:
                        tt = [t for t in tests if name(t) == p and t.clients == n
                              and (t.file_size if t.file_size is not None else -1) == s]
                        v = tt[0].figures.get(metric) if tt else None
                        vals.append(v / MB if v is not None else None)
                    series[p] = vals
                if any(v is not None for vs in series.values() for v in vs):
                    title = tr(ttl)
                    charts.append(("{}.svg".format(fname), bar_chart(
                        labels, series, title, tr("chart.file_clients"), tr(ylab), y_unit="MB/s",
                        width=max(640, 90 * len(labels) * max(1, len(proto_names)) // 2)), title))
    return charts


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
                    "-" if a.client_id is None else str(a.client_id), a.reason, _log_name(a.log)]
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


# --------------------------------------------------------------------------- PDF

def find_browser(path=None):
    """The first headless-capable Chromium/Chrome on the PATH, or None."""
    for name in BROWSERS:
        found = shutil.which(name, path=path)
        if found:
            return found
    return None


def write_pdf(html_path, pdf_path, browser=None, timeout=PDF_TIMEOUT):
    """Print *html_path* to *pdf_path* with a headless Chromium (no header or footer: the page
    numbers come from the stylesheet).  Returns None on success, else a one-line reason."""
    browser = browser or find_browser()
    if browser is None:
        return "no Chromium or Chrome on the PATH"
    html_path, pdf_path = Path(html_path).resolve(), Path(pdf_path)
    tmp = pdf_path.with_name("." + pdf_path.name + ".part")
    profile = tempfile.mkdtemp(prefix="report-chromium-")
    argv = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--no-first-run", "--no-default-browser-check", "--user-data-dir=" + profile,
            "--no-pdf-header-footer", "--print-to-pdf-no-header", "--run-all-compositor-stages-before-draw",
            "--print-to-pdf=" + str(tmp), html_path.as_uri()]
    try:
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                              stdin=subprocess.DEVNULL)
        if not tmp.is_file() or tmp.stat().st_size == 0:
            tail = (proc.stderr or b"").decode("utf-8", "replace").strip().splitlines()
            return "{} exited {}{}".format(Path(browser).name, proc.returncode, ": " + tail[-1] if tail else "")
        os.replace(str(tmp), str(pdf_path))
        return None
    except subprocess.TimeoutExpired:
        return "{} did not finish within {:g} s".format(Path(browser).name, timeout)
    except OSError as exc:
        return "cannot run {}: {}".format(browser, exc.strerror or exc)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
        if tmp.exists():
            try:
                tmp.unlink()
            except OSError:
                pass


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
        prog="report.py", description="Build the lab's performance report (Markdown, HTML, PDF, CSV, SVG charts) "
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
