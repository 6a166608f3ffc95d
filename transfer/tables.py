"""Plain-text summary tables printed at the end of a test."""

from transfer.i18n import _, digits, localize, number
from transfer.messages import printable
from transfer.records import aggregate
from transfer.units import format_ms, format_rate


def render_table(headers, rows):
    """Columns padded to their widest cell; numbers right-aligned."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(row, header=False):
        out = []
        for i, cell in enumerate(row):
            numeric = not header and cell[:1].isdigit()
            out.append(cell.rjust(widths[i]) if numeric else cell.ljust(widths[i]))
        return "  ".join(out).rstrip()
    lines = [line(headers, True), "  ".join("-" * w for w in widths)]
    lines.extend(line(r) for r in cells)
    return "\n".join(lines)


def summary_table(records, extra_columns=()):
    """The end-of-test table: one row per connection, then the totals line.

    *extra_columns* is a sequence of (header, function(record) -> str)."""
    headers = [_("client"), _("client address"), _("result"), _("bytes"), _("time"), _("rate")] + [
        _(h) for h, _fn in extra_columns]
    rows = []
    ordered = sorted(records, key=lambda r: (r.client_id is None, r.client_id or 0, r.client_port or 0))
    for rec in ordered:
        result = _("verified") if rec.ok else _("FAILED: ") + printable(localize(rec.reason or "unknown"), 60)[1:-1]
        row = [rec.client_id if rec.client_id is not None else "?", rec.client_address, result,
               number(rec.bytes), format_ms(rec.time_ms), format_rate(rec.rate_bytes_per_s)]
        row.extend(digits(fn(rec)) for _h, fn in extra_columns)  # numbers in the language's style
        rows.append(row)
    total, rate = aggregate(records)
    verified = sum(1 for r in records if r.ok)
    footer = _("{} of {} verified; {:,} bytes in all; aggregate {}").format(
        verified, len(records), total, format_rate(rate))
    return render_table(headers, rows) + "\n" + footer
