"""Small SVG chart writer (standard library only).

Three chart kinds, each returned as SVG text that parses as XML:

* :func:`line_chart`  - several series over a numeric x axis (e.g. clients 1/5/10);
* :func:`bar_chart`   - grouped bars, categories x series;
* :func:`range_chart` - min / median / max per category and series (time spread).

Charts are meant to be printed: black text, generic sans-serif fonts, and
series told apart by colour AND dash pattern / marker / hatching, so they
still read in grey.  Empty data gives a framed chart saying "no data".
"""

if __package__ in (None, ""):
    import os, sys  # noqa: E401
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import contextlib
import math
import re
import sys
import zlib

__all__ = [
    "line_chart", "bar_chart", "range_chart", "nice_ticks", "format_tick", "escape", "number_style",
    "COLOURS", "DASHES", "MARKERS",
]

#: Okabe-Ito based palette (colour-blind safe), ordered so neighbours differ in lightness.
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#000000", "#CC79A7", "#E69F00", "#56B4E9", "#7F7F7F")
#: stroke-dasharray values, one per series ("" = solid).
DASHES = ("", "8,4", "2,3", "10,3,2,3", "4,4", "12,3,2,3,2,3", "1,5", "6,2")
#: marker shapes, one per series.
MARKERS = ("circle", "square", "triangle", "diamond", "cross", "plus", "triangle-down", "star")

FONT = "sans-serif"
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def escape(text):
    """Escape *text* for XML text or a double-quoted attribute (drops invalid characters)."""
    text = _INVALID_XML.sub("", str(text))
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


def _num(value):
    """Short decimal for SVG coordinates."""
    if value != value or value in (float("inf"), float("-inf")):
        value = 0.0
    text = "{:.2f}".format(value).rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _finite(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def nice_ticks(lo, hi, count=5):
    """Round tick values covering [lo, hi]: steps of 1, 2, 2.5 or 5 x 10^k.

    Returns a list of at least two increasing values; the first is <= lo and the
    last >= hi.
    """
    lo, hi = float(lo), float(hi)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        lo, hi = 0.0, 1.0
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad if lo != 0 else 0.0, hi + pad
    count = max(2, int(count))
    raw = (hi - lo) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = magnitude * 10
    for mult in (1, 2, 2.5, 5, 10):
        if raw <= mult * magnitude * (1 + 1e-9):
            step = mult * magnitude
            break
    start = math.floor(lo / step + 1e-9) * step
    ticks = []
    value = start
    for _ in range(1000):  # bounded
        ticks.append(round(value, 12))
        if value >= hi - step * 1e-9:
            break
        value = start + step * len(ticks)
    if len(ticks) < 2:
        ticks.append(round(start + step, 12))
    return ticks


#: number style of tick labels: "en" (1,500.5) or "es" (1.500,5); see :func:`number_style`
_STYLE = ["en"]


@contextlib.contextmanager
def number_style(style):
    """Within the block, tick and bar labels use *style*: "en" (1,500.5) or "es" (1.500,5)."""
    _STYLE.append(style)
    try:
        yield
    finally:
        _STYLE.pop()


def _styled(text):
    if _STYLE[-1] == "es":
        return text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def format_tick(value):
    """Tick label: thousands separators, no useless decimals (1500 -> '1,500', 2.5 -> '2.5');
    Spanish style inside ``number_style("es")``."""
    return _styled(_format_tick(value))


def _format_tick(value):
    if not _finite(value):
        return ""
    if abs(value - round(value)) < 1e-9 * max(1.0, abs(value)):
        return "{:,}".format(int(round(value)))
    for digits in (1, 2, 3, 4, 6):
        text = "{:,.{}f}".format(value, digits)
        if abs(float(text.replace(",", "")) - value) < 1e-9 * max(1.0, abs(value)):
            return text
    return "{:,.6g}".format(value)


def _axis_title(label, unit):
    if unit:
        return "{} ({})".format(label, unit)
    return label


def _text_width(text, size):
    """Rough width of *text* at *size* px in a sans-serif font."""
    return len(str(text)) * size * 0.56


def _series_items(series):
    """Accept a mapping name -> data or a sequence of (name, data) pairs."""
    if series is None:
        return []
    if hasattr(series, "items"):
        return [(str(k), v) for k, v in series.items()]
    return [(str(k), v) for k, v in series]


def _chart_id(kind, title, payload):
    """Stable, document-unique-enough id prefix for <defs> (charts may be inlined together)."""
    crc = zlib.crc32(repr((kind, title, payload)).encode("utf-8", "replace")) & 0xFFFFFFFF
    return "c{}{:08x}".format(kind[0], crc)


def _marker(shape, x, y, colour, size=4.5):
    """SVG for one marker (white fill for open shapes so overlaps stay visible)."""
    s = size
    common = 'stroke="{}" stroke-width="1.6"'.format(colour)
    if shape == "circle":
        return '<circle cx="{}" cy="{}" r="{}" fill="{}" {}/>'.format(_num(x), _num(y), _num(s), colour, common)
    if shape == "square":
        return '<rect x="{}" y="{}" width="{}" height="{}" fill="#FFFFFF" {}/>'.format(
            _num(x - s), _num(y - s), _num(2 * s), _num(2 * s), common)
    if shape in ("triangle", "triangle-down"):
        d = 1 if shape == "triangle" else -1
        pts = [(x, y - d * s * 1.2), (x - s * 1.1, y + d * s * 0.8), (x + s * 1.1, y + d * s * 0.8)]
        fill = colour if shape == "triangle" else "#FFFFFF"
        return '<polygon points="{}" fill="{}" {}/>'.format(
            " ".join("{},{}".format(_num(a), _num(b)) for a, b in pts), fill, common)
    if shape == "diamond":
        pts = [(x, y - s * 1.3), (x + s * 1.1, y), (x, y + s * 1.3), (x - s * 1.1, y)]
        return '<polygon points="{}" fill="#FFFFFF" {}/>'.format(
            " ".join("{},{}".format(_num(a), _num(b)) for a, b in pts), common)
    if shape == "cross":
        return '<path d="M{a},{b}L{c},{d}M{a},{d}L{c},{b}" fill="none" stroke="{col}" stroke-width="2"/>'.format(
            a=_num(x - s), b=_num(y - s), c=_num(x + s), d=_num(y + s), col=colour)
    if shape == "plus":
        return '<path d="M{a},{y}L{c},{y}M{x},{b}L{x},{d}" fill="none" stroke="{col}" stroke-width="2"/>'.format(
            a=_num(x - s * 1.2), c=_num(x + s * 1.2), b=_num(y - s * 1.2), d=_num(y + s * 1.2),
            x=_num(x), y=_num(y), col=colour)
    # star
    pts = []
    for i in range(10):
        r = s * 1.4 if i % 2 == 0 else s * 0.6
        ang = math.pi / 2 + i * math.pi / 5
        pts.append((x + r * math.cos(ang), y - r * math.sin(ang)))
    return '<polygon points="{}" fill="{}" {}/>'.format(
        " ".join("{},{}".format(_num(a), _num(b)) for a, b in pts), colour, common)


class _Frame:
    """Plot geometry and the shared SVG pieces (title, axes, grid, legend)."""

    def __init__(self, width, height, title, legend_entries, legend_kind):
        self.width = int(width)
        self.height = int(height)
        self.title = title
        self.left = 78
        self.right = 18
        self.top = 44 if title else 18
        # legend below the plot, wrapped in rows
        self.legend_rows = self._layout_legend(legend_entries, legend_kind)
        legend_h = 22 * len(self.legend_rows) + (8 if self.legend_rows else 0)
        self.bottom = 58 + legend_h
        self.plot_w = max(60, self.width - self.left - self.right)
        self.plot_h = max(60, self.height - self.top - self.bottom)
        self.height = self.top + self.plot_h + self.bottom

    def _layout_legend(self, entries, kind):
        rows, row, used = [], [], 0.0
        avail = self.width - 40
        for entry in entries:
            w = 44 + _text_width(entry[0], 12) + 18
            if row and used + w > avail:
                rows.append(row)
                row, used = [], 0.0
            row.append((entry, used, kind))
            used += w
        if row:
            rows.append(row)
        return rows

    def open(self, desc):
        parts = [
            '<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{w}" height="{h}" '
            'viewBox="0 0 {w} {h}" font-family="{f}" role="img">'.format(w=self.width, h=self.height, f=FONT),
            "<title>{}</title>".format(escape(self.title or "chart")),
        ]
        if desc:
            parts.append("<desc>{}</desc>".format(escape(desc)))
        parts.append('<rect x="0" y="0" width="{}" height="{}" fill="#FFFFFF"/>'.format(self.width, self.height))
        if self.title:
            parts.append('<text x="{}" y="26" text-anchor="middle" font-size="16" font-weight="bold" '
                         'fill="#000000">{}</text>'.format(_num(self.width / 2), escape(self.title)))
        return parts

    def y_pos(self, value, lo, hi):
        if hi == lo:
            return self.top + self.plot_h / 2
        return self.top + self.plot_h - (value - lo) / (hi - lo) * self.plot_h

    def x_pos(self, value, lo, hi):
        if hi == lo:
            return self.left + self.plot_w / 2
        return self.left + (value - lo) / (hi - lo) * self.plot_w

    def y_axis(self, ticks, y_title):
        lo, hi = ticks[0], ticks[-1]
        out = []
        for t in ticks:
            y = self.y_pos(t, lo, hi)
            out.append('<line x1="{}" y1="{y}" x2="{}" y2="{y}" stroke="#D0D0D0" stroke-width="1"/>'.format(
                self.left, self.left + self.plot_w, y=_num(y)))
            out.append('<text x="{}" y="{}" text-anchor="end" font-size="12" fill="#000000">{}</text>'.format(
                self.left - 6, _num(y + 4), escape(format_tick(t))))
        cy = self.top + self.plot_h / 2
        out.append('<text x="16" y="{y}" text-anchor="middle" font-size="13" fill="#000000" '
                   'transform="rotate(-90 16 {y})">{t}</text>'.format(y=_num(cy), t=escape(y_title)))
        return out

    def axes_lines(self):
        b = self.top + self.plot_h
        return ['<path d="M{l},{t}L{l},{b}L{r},{b}" fill="none" stroke="#000000" stroke-width="1.2"/>'.format(
            l=self.left, t=self.top, b=_num(b), r=self.left + self.plot_w)]

    def x_title(self, text):
        y = self.top + self.plot_h + 40
        return ['<text x="{}" y="{}" text-anchor="middle" font-size="13" fill="#000000">{}</text>'.format(
            _num(self.left + self.plot_w / 2), _num(y), escape(text))]

    def x_tick(self, x, label):
        b = self.top + self.plot_h
        return ['<line x1="{x}" y1="{b}" x2="{x}" y2="{b2}" stroke="#000000" stroke-width="1"/>'.format(
            x=_num(x), b=_num(b), b2=_num(b + 5)),
            '<text x="{}" y="{}" text-anchor="middle" font-size="12" fill="#000000">{}</text>'.format(
                _num(x), _num(b + 19), escape(label))]

    def legend(self, draw_key):
        out = []
        if not self.legend_rows:
            return out
        y0 = self.top + self.plot_h + 58
        for r, row in enumerate(self.legend_rows):
            row_w = (row[-1][1] + 44 + _text_width(row[-1][0][0], 12)) if row else 0
            x0 = max(10.0, (self.width - row_w) / 2)
            y = y0 + 22 * r + 8
            for (entry, offset, _kind) in row:
                x = x0 + offset
                out.extend(draw_key(entry, x, y))
                out.append('<text x="{}" y="{}" font-size="12" fill="#000000">{}</text>'.format(
                    _num(x + 40), _num(y + 4), escape(entry[0])))
        return out

    def no_data(self, message="no data"):
        return ['<text x="{}" y="{}" text-anchor="middle" font-size="14" fill="#000000">{}</text>'.format(
            _num(self.left + self.plot_w / 2), _num(self.top + self.plot_h / 2), escape(message))]


def _y_ticks(values, include_zero, count=5):
    vals = [v for v in values if _finite(v)]
    if not vals:
        return nice_ticks(0, 1, count)
    lo, hi = min(vals), max(vals)
    if include_zero:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    if lo == hi:
        if lo == 0:
            hi = 1.0
        else:
            span = abs(lo) * 0.2
            lo, hi = (0.0 if include_zero and lo > 0 else lo - span), hi + span
    return nice_ticks(lo, hi, count)


def _line_key(stroke_width):
    """Legend entry for series i: a short line in its colour and dash, with its marker."""
    def key(entry, x, y):
        i = entry[1]
        colour, dash, shape = COLOURS[i % len(COLOURS)], DASHES[i % len(DASHES)], MARKERS[i % len(MARKERS)]
        return ['<line x1="{}" y1="{y}" x2="{}" y2="{y}" stroke="{}" stroke-width="{}"{}/>'.format(
            _num(x), _num(x + 34), colour, stroke_width, ' stroke-dasharray="{}"'.format(dash) if dash else "",
            y=_num(y)), _marker(shape, x + 17, y, colour)]
    return key


def line_chart(series, title="", x_label="", y_label="", x_unit="", y_unit="",
               width=640, height=400, include_zero=True, x_ticks=None, desc=""):
    """Line chart of several series over a numeric x axis.

    *series*: mapping (or list of pairs) name -> sequence of (x, y) points; points
    whose y is None are skipped (the line breaks there).  When the x values are
    few (<= 12) the ticks sit exactly on them, otherwise nice round ticks are used.
    Returns the SVG text.
    """
    items = []
    for name, points in _series_items(series):
        pts = []
        for p in points or ():
            try:
                x, y = p[0], p[1]
            except (TypeError, IndexError):
                continue
            if _finite(x):
                pts.append((float(x), float(y) if _finite(y) else None))
        pts.sort(key=lambda p: p[0])
        items.append((name, pts))
    entries = [(name, i) for i, (name, _) in enumerate(items)]
    frame = _Frame(width, height, title, entries, "line")
    out = frame.open(desc)
    xs = sorted({x for _, pts in items for x, y in pts if y is not None})
    ys = [y for _, pts in items for _, y in pts if y is not None]
    y_ticks = _y_ticks(ys, include_zero)
    out.extend(frame.y_axis(y_ticks, _axis_title(y_label, y_unit)))
    if x_ticks is None:
        x_ticks = xs if 0 < len(xs) <= 12 else (nice_ticks(xs[0], xs[-1], 6) if xs else [])
    x_ticks = sorted(float(t) for t in x_ticks if _finite(t))
    if xs or x_ticks:
        x_lo = min(xs + x_ticks)
        x_hi = max(xs + x_ticks)
    else:
        x_lo, x_hi = 0.0, 1.0
    if x_hi == x_lo:
        x_lo, x_hi = x_lo - 1, x_hi + 1  # single point in the middle
    # a little room on both sides so markers are not cut by the axis
    pad = (x_hi - x_lo) * 0.05
    x_lo_p, x_hi_p = x_lo - pad, x_hi + pad
    for t in x_ticks:
        out.extend(frame.x_tick(frame.x_pos(t, x_lo_p, x_hi_p), format_tick(t)))
    out.extend(frame.x_title(_axis_title(x_label, x_unit)))
    if not ys:
        out.extend(frame.no_data())
    for i, (name, pts) in enumerate(items):
        colour, dash, shape = COLOURS[i % len(COLOURS)], DASHES[i % len(DASHES)], MARKERS[i % len(MARKERS)]
        segments, current = [], []
        for x, y in pts:
            if y is None:
                if current:
                    segments.append(current)
                current = []
                continue
            current.append((frame.x_pos(x, x_lo_p, x_hi_p), frame.y_pos(y, y_ticks[0], y_ticks[-1])))
        if current:
            segments.append(current)
        group = ['<g><title>{}</title>'.format(escape(name))]
        for seg in segments:
            if len(seg) > 1:
                group.append('<polyline points="{}" fill="none" stroke="{}" stroke-width="2.2"{}/>'.format(
                    " ".join("{},{}".format(_num(a), _num(b)) for a, b in seg), colour,
                    ' stroke-dasharray="{}"'.format(dash) if dash else ""))
            for a, b in seg:
                group.append(_marker(shape, a, b, colour))
        group.append("</g>")
        out.extend(group)
    out.extend(frame.axes_lines())

    out.extend(frame.legend(_line_key(2.2)))
    out.append("</svg>")
    return "\n".join(out) + "\n"


#: hatching per series for bars: (angle, spacing) or None for plain fill
_HATCH = (None, (45, 6), (-45, 6), (0, 5), (90, 5), (45, 3), (-45, 3), (0, 3))


def _bar_defs(prefix, count):
    defs = []
    for i in range(count):
        hatch = _HATCH[i % len(_HATCH)]
        if hatch is None:
            continue
        angle, gap = hatch
        defs.append('<pattern id="{p}h{i}" patternUnits="userSpaceOnUse" width="{g}" height="{g}" '
                    'patternTransform="rotate({a})"><rect width="{g}" height="{g}" fill="{c}"/>'
                    '<line x1="0" y1="0" x2="0" y2="{g}" stroke="#FFFFFF" stroke-width="1.6"/></pattern>'.format(
                        p=prefix, i=i, g=gap, a=angle, c=COLOURS[i % len(COLOURS)]))
    return "<defs>{}</defs>".format("".join(defs)) if defs else ""


def _bar_fill(prefix, i):
    if _HATCH[i % len(_HATCH)] is None:
        return COLOURS[i % len(COLOURS)]
    return "url(#{}h{})".format(prefix, i)


def _values(data, n):
    vals = list(data or ())[:n]
    return vals + [None] * (n - len(vals))


def bar_chart(categories, series, title="", x_label="", y_label="", y_unit="", x_unit="",
              width=640, height=400, value_labels=True, desc=""):
    """Grouped bar chart: one group per category, one bar per series.

    *categories*: sequence of labels; *series*: mapping (or list of pairs) name ->
    sequence of values aligned with *categories* (None = missing bar, shown as "n/a").
    Bars differ by colour and hatching.  Returns the SVG text.
    """
    categories = [str(c) for c in (categories or [])]
    items = [(name, _values(vals, len(categories))) for name, vals in _series_items(series)]
    prefix = _chart_id("bar", title, (categories, items))
    entries = [(name, i) for i, (name, _) in enumerate(items)]
    frame = _Frame(width, height, title, entries, "bar")
    out = frame.open(desc)
    defs = _bar_defs(prefix, len(items))
    if defs:
        out.append(defs)
    vals = [v for _, vs in items for v in vs if _finite(v)]
    ticks = _y_ticks(vals, True)
    out.extend(frame.y_axis(ticks, _axis_title(y_label, y_unit)))
    out.extend(frame.x_title(_axis_title(x_label, x_unit)))
    if not vals or not categories:
        out.extend(frame.no_data())
    n_cat = max(1, len(categories))
    n_ser = max(1, len(items))
    group_w = frame.plot_w / n_cat
    bar_w = min(48.0, group_w * 0.8 / n_ser)
    base = frame.y_pos(max(0.0, ticks[0]), ticks[0], ticks[-1])
    for c, cat in enumerate(categories):
        cx = frame.left + group_w * (c + 0.5)
        out.extend(frame.x_tick(cx, cat))
        start = cx - bar_w * n_ser / 2
        for i, (name, vs) in enumerate(items):
            v = vs[c]
            x = start + i * bar_w
            if not _finite(v):
                out.append('<text x="{}" y="{}" text-anchor="middle" font-size="9" fill="#000000">n/a</text>'.format(
                    _num(x + bar_w / 2), _num(base - 4)))
                continue
            y = frame.y_pos(v, ticks[0], ticks[-1])
            top, h = min(y, base), abs(base - y)
            out.append('<rect x="{}" y="{}" width="{}" height="{}" fill="{}" stroke="#000000" stroke-width="0.8">'
                       '<title>{}</title></rect>'.format(
                           _num(x + 1), _num(top), _num(max(1.0, bar_w - 2)), _num(h), _bar_fill(prefix, i),
                           escape("{}, {}: {}".format(name, cat, format_tick(v)))))
            if value_labels and bar_w >= 14:
                out.append('<text x="{}" y="{}" text-anchor="middle" font-size="{}" fill="#000000">{}</text>'.format(
                    _num(x + bar_w / 2), _num(top - 3), 9 if bar_w < 30 else 10, escape(_short(v))))
    out.extend(frame.axes_lines())

    def key(entry, x, y):
        i = entry[1]
        return ['<rect x="{}" y="{}" width="34" height="12" fill="{}" stroke="#000000" stroke-width="0.8"/>'.format(
            _num(x), _num(y - 6), _bar_fill(prefix, i))]
    out.extend(frame.legend(key))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _short(value):
    """Compact value label for bars (3 significant digits)."""
    if abs(value) >= 100:
        return _styled("{:,.0f}".format(value))
    if abs(value) >= 10:
        return _styled("{:.1f}".format(value))
    return _styled("{:.2g}".format(value)) if value else "0"


def range_chart(categories, series, title="", x_label="", y_label="", y_unit="", x_unit="",
                width=640, height=400, include_zero=True, desc=""):
    """Range chart: for each category and series a vertical bar from min to max
    with caps and a marker on the median.

    *series*: mapping (or list of pairs) name -> sequence aligned with *categories*
    of (min, median, max) triples or None.  Returns the SVG text.
    """
    categories = [str(c) for c in (categories or [])]
    items = []
    for name, triples in _series_items(series):
        clean = []
        for t in _values(triples, len(categories)):
            try:
                lo, med, hi = (float(t[0]), float(t[1]), float(t[2])) if t is not None else (None, None, None)
            except (TypeError, ValueError, IndexError):
                lo = med = hi = None
            if lo is None or not all(math.isfinite(v) for v in (lo, med, hi)):
                clean.append(None)
            else:
                clean.append((min(lo, med, hi), med, max(lo, med, hi)))
        items.append((name, clean))
    entries = [(name, i) for i, (name, _) in enumerate(items)]
    frame = _Frame(width, height, title, entries, "range")
    out = frame.open(desc)
    vals = [v for _, ts in items for t in ts if t is not None for v in t]
    ticks = _y_ticks(vals, include_zero)
    out.extend(frame.y_axis(ticks, _axis_title(y_label, y_unit)))
    out.extend(frame.x_title(_axis_title(x_label, x_unit)))
    if not vals or not categories:
        out.extend(frame.no_data())
    n_cat = max(1, len(categories))
    n_ser = max(1, len(items))
    group_w = frame.plot_w / n_cat
    slot = min(40.0, group_w * 0.8 / n_ser)
    lo_t, hi_t = ticks[0], ticks[-1]
    for c, cat in enumerate(categories):
        cx = frame.left + group_w * (c + 0.5)
        out.extend(frame.x_tick(cx, cat))
        start = cx - slot * n_ser / 2
        for i, (name, ts) in enumerate(items):
            t = ts[c]
            if t is None:
                continue
            colour, dash, shape = COLOURS[i % len(COLOURS)], DASHES[i % len(DASHES)], MARKERS[i % len(MARKERS)]
            x = start + slot * (i + 0.5)
            y_lo, y_med, y_hi = (frame.y_pos(v, lo_t, hi_t) for v in t)
            cap = min(8.0, slot * 0.35)
            out.append('<g><title>{}</title>'.format(escape("{}, {}: min {}, median {}, max {}".format(
                name, cat, format_tick(round(t[0], 3)), format_tick(round(t[1], 3)), format_tick(round(t[2], 3))))))
            out.append('<line x1="{x}" y1="{a}" x2="{x}" y2="{b}" stroke="{c}" stroke-width="2.4"{d}/>'.format(
                x=_num(x), a=_num(y_lo), b=_num(y_hi), c=colour,
                d=' stroke-dasharray="{}"'.format(dash) if dash else ""))
            for yy in (y_lo, y_hi):
                out.append('<line x1="{}" y1="{y}" x2="{}" y2="{y}" stroke="{}" stroke-width="2"/>'.format(
                    _num(x - cap), _num(x + cap), colour, y=_num(yy)))
            out.append(_marker(shape, x, y_med, colour))
            out.append("</g>")
    out.extend(frame.axes_lines())

    out.extend(frame.legend(_line_key(2.4)))
    out.append('<text x="{}" y="{}" text-anchor="end" font-size="10" fill="#000000">'
               'bar: min to max; marker: median</text>'.format(frame.left + frame.plot_w, _num(frame.top - 5)))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main(argv=None):
    """Write a demo of the three charts to a folder: ``svgchart.py [DIR]``."""
    import argparse
    from pathlib import Path
    parser = argparse.ArgumentParser(description="Write demo SVG charts (line, bar, range) to DIR.")
    parser.add_argument("dir", nargs="?", default=".", help="output folder (default: current folder)")
    args = parser.parse_args(argv)
    out = Path(args.dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        demo_series = {"TCP": [(1, 900), (5, 310), (10, 160)], "UDP raw": [(1, 420), (5, 120), (10, 70)],
                       "UDP reliable": [(1, 150), (5, 40), (10, 22)]}
        (out / "demo-line.svg").write_text(line_chart(
            demo_series, "Per-client rate vs clients", "Clients", "Per-client rate", y_unit="MB/s"), "utf-8")
        (out / "demo-bar.svg").write_text(bar_chart(
            ["1", "5", "10"], {"TCP": [900, 1500, 1600], "UDP raw": [420, 600, None]},
            "Aggregate rate", "Clients", "Aggregate rate", y_unit="MB/s"), "utf-8")
        (out / "demo-range.svg").write_text(range_chart(
            ["1", "5", "10"], {"TCP": [(0.1, 0.1, 0.1), (0.3, 0.35, 0.4), None]},
            "Client time spread", "Clients", "Client time", y_unit="s"), "utf-8")
    except OSError as exc:
        sys.stderr.write("svgchart: cannot write to {}: {}\n".format(out, exc.strerror or exc))
        return 2
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
