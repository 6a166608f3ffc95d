"""The report's SVG charts (scripts/svgchart.py), titles and axes in the report's language."""

if __package__ in (None, ""):
    import os, sys  # noqa: E401
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import statistics
from collections import OrderedDict

from scripts.logmodel import MB, size_label
from scripts.svgchart import bar_chart, line_chart, number_style, range_chart

__all__ = ["charts"]


def _slug(text):
    return "".join(ch if ch.isalnum() else "-" for ch in text.replace(" ", "")).strip("-").lower() or "x"


# --------------------------------------------------------------------------- charts

def charts(tests, f):
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
