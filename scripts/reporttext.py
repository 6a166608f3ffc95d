"""The report's words: numbers and labels in one language (:class:`Fmt`), and the sentences
that analyse each test, compare the tests, and answer "are TCP and UDP consistent?".
Pure functions of the tests (scripts/logmodel.py); used by scripts/report.py."""

if __package__ in (None, ""):
    import os, sys  # noqa: E401
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import statistics
from collections import OrderedDict

from scripts.logmodel import MB, _num, protocol_label, size_label
from transfer import i18n

__all__ = ["Fmt", "comparisons", "test_analysis", "consistency", "capture_rows_for", "COMPARISON_TOPICS"]


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


def capture_rows_for(test, rows):
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
            reasons = sorted({i18n.localize(r.reason, f.lang) for run in test.runs for r in run.rows
                              if not r.ok and r.reason})
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
    loss = fig.get("loss_pct_mean_of_runs", fig.get("loss_pct"))
    if not loss:
        return [tr("an.raw_no_loss")] if loss is not None else []
    sent, got = fig.get("rate_sent"), fig.get("rate_received")
    out = [tr("an.raw_loss", loss=f.pct(loss), sent=f.mb(sent), received=f.mb(got))]
    suggested = fig.get("suggested_rate_lowest") or fig.get("suggested_rate")
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
