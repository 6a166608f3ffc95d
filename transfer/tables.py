"""Plain-text summary tables printed at the end of a test."""

from transfer.records import aggregate
from transfer.text import display
from transfer.units import format_ms, format_rate
from transfer.i18n import _, digits, localize, number

BUSY_PREFIX = "server is busy"   # how a client's reason starts when the server answered BUSY


def is_busy(record):
    """True for a client record the server turned away with BUSY (it never joined the test)."""
    return bool(record.extra.get("busy")) or (not record.ok and (record.reason or "").startswith(BUSY_PREFIX))


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
        if rec.ok:
            result = _("verified")
        elif is_busy(rec):  # the server's own words: "this test already has its 5 client(s)"
            said = (rec.reason or "")[len(BUSY_PREFIX):].lstrip(": ").strip("'")
            result = _("BUSY: ") + display(localize(said) if said else _("not in this test"), 60)
        else:
            result = _("FAILED: ") + display(localize(rec.reason or "unknown"), 60)
        row = [rec.client_id if rec.client_id is not None else "?", rec.client_address, result,
               number(rec.bytes), format_ms(rec.time_ms), format_rate(rec.rate_bytes_per_s)]
        row.extend(digits(fn(rec)) for _h, fn in extra_columns)  # numbers in the language's style
        rows.append(row)
    total, rate = aggregate(records)
    verified = sum(1 for r in records if r.ok)
    busy = sum(1 for r in records if is_busy(r))
    footer = _("{} of {} verified{}; {:,} bytes in all; aggregate {}").format(
        verified, len(records), _("; {} turned away with BUSY").format(busy) if busy else "", total, format_rate(rate))
    return render_table(headers, rows) + "\n" + footer
