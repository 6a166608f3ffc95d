"""One log per test: a text log people read and a JSON-lines sidecar that
scripts read, side by side in ``Logs/<protocol>-<role>/``.

Names are ``YYYY-MM-DD-HH-MM-SS-log.txt`` (local time of the test's start);
an existing log is never overwritten (``-log-2.txt`` and so on).  Records are
written as they happen and flushed, so a crash or Ctrl-C still leaves a log;
``close()`` adds the summary.
"""

import json
import os
import socket
import sys
import threading
import time
from pathlib import Path

from transfer.errors import UserError
from transfer.i18n import N_, _, localize
from transfer.messages import printable
from transfer.records import aggregate
from transfer.units import format_ms, format_rate


#: the text log's labels of ConnectionRecord.extra keys (key with spaces; English is the key itself)
EXTRA_LABELS = (N_("file name"), N_("clients announced"), N_("server verdict"), N_("client bytes"), N_("server"),
                N_("chunk size"), N_("chunk data"), N_("chunks"), N_("control received"), N_("control sent"),
                N_("datagrams expected"), N_("datagrams received"), N_("datagrams sent"), N_("delivery ms"),
                N_("duplicates"), N_("end sent"), N_("end received"), N_("ignored datagrams"), N_("loss pct"),
                N_("out of order"), N_("resent datagrams"), N_("resent pct"), N_("so rcvbuf"), N_("so sndbuf"),
                N_("transfer id"), N_("bytes received"), N_("first gap seq"), N_("gaps seen"),
                N_("nack datagrams"), N_("nack rounds"), N_("dropped writer behind"), N_("rate bytes per s set"),
                N_("rate blackouts"), N_("rate decreases"), N_("rate final"), N_("rate max"), N_("rate min"),
                N_("rate silences"), N_("rate start"), N_("bytes sent total"), N_("datagrams resent"),
                N_("loss before recovery pct"), N_("rate sent bytes per s"), N_("rate received bytes per s"),
                N_("suggested rate bytes per s"), N_("io path"), N_("rate control"), N_("receive threads"),
                N_("feedback sent"), N_("feedback received"), N_("receive calls"), N_("datagrams per call"),
                N_("send errors"), N_("rate estimate"), N_("server answered"), N_("test clients"), N_("nack sent"),
                N_("rate loss rounds"), N_("rate overshoots"), N_("rate queue rounds"), N_("rate startup restarts"),
                N_("rate startup rounds"))
#: the test modes as the text log shows them
MODE_WORDS = (N_("stream"), N_("raw"), N_("reliable"))


def _iso(epoch):
    """Local time of *epoch* as ISO 8601 with microseconds and the UTC offset,
    as datetime's ``isoformat`` writes it (without importing datetime)."""
    seconds = int(epoch // 1)
    micro = int(round((epoch - seconds) * 1e6))
    if micro >= 1000000:
        seconds, micro = seconds + 1, micro - 1000000
    local = time.localtime(seconds)
    offset = local.tm_gmtoff or 0
    sign = "-" if offset < 0 else "+"
    offset = abs(offset)
    return "{}.{:06d}{}{:02d}:{:02d}".format(time.strftime("%Y-%m-%dT%H:%M:%S", local), micro, sign,
                                             offset // 3600, offset % 3600 // 60)


def platform_text():
    """'Linux-6.8.0-31-generic-x86_64': the system, its release and the machine,
    read without starting a process (``platform.platform()`` runs ``uname -p``
    on Python 3.8, 2-20 ms on each side of every test)."""
    uname = getattr(os, "uname", None)
    if uname is not None:
        info = uname()
        return "{}-{}-{}".format(info.sysname, info.release, info.machine)
    winver = getattr(sys, "getwindowsversion", None)
    if winver is not None:
        version = winver()
        return "Windows-{}.{}.{}".format(version.major, version.minor, version.build)
    return sys.platform


def _open_exclusive(folder, stamp):
    """Open new text and sidecar files named after *stamp*; never reuse a name."""
    for attempt in range(1, 1000):
        suffix = "" if attempt == 1 else "-{}".format(attempt)
        text_path = folder / "{}-log{}.txt".format(stamp, suffix)
        json_path = folder / "{}-log{}.jsonl".format(stamp, suffix)
        try:
            text = open(str(text_path), "x", encoding="utf-8", newline="\n")
        except FileExistsError:
            continue
        try:
            sidecar = open(str(json_path), "x", encoding="utf-8", newline="\n")
        except FileExistsError:
            text.close()
            os.unlink(str(text_path))
            continue
        return text_path, text, json_path, sidecar
    raise UserError(_("cannot find a free log name in {}").format(folder))


EVENT_LINES_PER_KIND = 10   # events of one kind written line by line per test; the rest are counted


class TestLog:
    """Writes the logs of one test.  Thread-safe: connection threads call
    ``add_connection`` and ``event`` concurrently."""

    def __init__(self, logs_dir, protocol, role, started=None, event_lines=None):
        self.protocol = protocol
        self.role = role
        self.started_epoch = time.time() if started is None else started
        folder = Path(logs_dir) / "{}-{}".format(protocol, role)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(_("cannot create the log folder {}: {}").format(folder, exc.strerror or exc))
        stamp = time.strftime("%Y-%m-%d-%H-%M-%S", time.localtime(self.started_epoch))
        self.path, self._text, self.sidecar_path, self._json = _open_exclusive(folder, stamp)
        self._lock = threading.Lock()
        self._records = []
        self._closed = False
        self.clients = None
        self.event_lines = EVENT_LINES_PER_KIND if event_lines is None else event_lines
        self._event_counts = {}

    # -- writing ------------------------------------------------------------
    def _write(self, text_lines, record):
        with self._lock:
            if self._closed:
                return
            if text_lines:
                self._text.write("\n".join(text_lines) + "\n")
                self._text.flush()
            if record is not None:
                self._json.write(json.dumps(record, sort_keys=False) + "\n")
                self._json.flush()

    def begin(self, mode, file_name, file_size, file_sha256, clients, settings=None):
        """Write the test header (first record of the sidecar)."""
        self.clients = clients
        record = {
            "record": "test", "protocol": self.protocol, "mode": mode, "role": self.role,
            "started": _iso(self.started_epoch), "started_epoch": self.started_epoch,
            "file_name": file_name, "file_size": file_size, "file_sha256": file_sha256,
            "clients": clients, "host": socket.gethostname(), "python": "{}.{}.{}".format(*sys.version_info[:3]),
            "platform": platform_text(), "settings": settings or {},
            "text_log": self.path.name,
        }
        lines = [
            _("{} {} log - test started {}").format(self.protocol.upper(), _(self.role), record["started"]),
            _("file: {} ({:,} bytes)").format(printable(file_name) if file_name is not None else "-",
                                           file_size or 0),
            "sha256: {}".format(file_sha256 or "-"),
            _("clients in this test: {}   mode: {}").format(clients, _(mode)),
            _("host: {}   python {} on {}").format(record["host"], record["python"], record["platform"]),
        ]
        if settings:
            lines.append(_("settings: ") + ", ".join("{}={}".format(k, v) for k, v in sorted(settings.items())))
        lines.append("")
        self._write(lines, record)

    def add_connection(self, rec):
        """Log one finished connection (a ConnectionRecord)."""
        data = rec.to_dict()
        with self._lock:
            self._records.append(rec)
        lines = [
            _("connection: client {}  client {}  server {}").format(
                rec.client_id if rec.client_id is not None else "?", rec.client_address, rec.server_address),
            (_("  bytes sent: {:,}") if self.role == "server" else _("  bytes received: {:,}")).format(rec.bytes),
            _("  success: {}{}").format(_("yes") if rec.ok else _("no"),
                                        "" if rec.ok else " - " + printable(localize(rec.reason or "unknown"), 300)),
            _("  sha256 expected: {}").format(rec.sha256_expected or "-"),
            _("  sha256 received: {}").format(rec.sha256_received or "-"),
            _("  transfer time: {}   rate: {}").format(format_ms(rec.time_ms), format_rate(rec.rate_bytes_per_s)),
        ]
        for key in sorted(rec.extra):
            if key != "client_report":
                value = rec.extra[key]
                if isinstance(value, str) and not value.isprintable():
                    value = printable(value)  # a name from the wire: no raw control characters
                elif isinstance(value, str):
                    value = _(value)  # a stored English word ("ok", "no BYE") in the text log's language
                lines.append("  {}: {}".format(_(key.replace("_", " ")), value))
        if rec.extra.get("client_report"):
            lines.append(_("  client report: {}").format(json.dumps(rec.extra["client_report"], sort_keys=True)))
        if rec.saved_as:
            lines.append(_("  saved as: {}").format(rec.saved_as))
        if rec.partial_as:
            lines.append(_("  partial file kept as: {}").format(rec.partial_as))
        self._write(lines, data)

    def event(self, kind, peer, detail):
        """Log something that is not a finished transfer (BUSY, bad peer, ...).

        At most ``event_lines`` events of each *kind* are written one by one
        per test; the rest are only counted, and the summary gives the
        counts (text log, and ``events`` / ``events_suppressed`` in the
        summary record), so a flood cannot grow the log without limit.
        Returns True when this event was written, False when only counted.
        """
        with self._lock:
            seen = self._event_counts.get(kind, 0) + 1
            self._event_counts[kind] = seen
        if seen > self.event_lines:
            return False
        now = time.time()
        record = {"record": "event", "at": now, "kind": kind, "peer": peer, "detail": printable(detail, 300)}
        line = _("event {} {} from {}: {}").format(
            time.strftime("%H:%M:%S", time.localtime(now)), kind, peer, printable(localize(detail), 300))
        lines = [line]
        if seen == self.event_lines:
            lines.append(_("  (further '{}' events of this test are only counted: see the summary)").format(kind))
        self._write(lines, record)
        return True

    add_event = event  # the older name

    def event_counts(self):
        """{kind: events seen so far}, {kind: events counted but not written}."""
        with self._lock:
            counts = dict(self._event_counts)
        suppressed = {kind: count - self.event_lines for kind, count in counts.items() if count > self.event_lines}
        return counts, suppressed

    def close(self, interrupted=False):
        """Write the summary and close both files (idempotent)."""
        with self._lock:
            if self._closed:
                return
            records = list(self._records)
        verified = sum(1 for r in records if r.ok)
        total, rate = aggregate(records)
        ok = (not interrupted and self.clients is not None and verified == self.clients
              and len(records) == self.clients)
        now = time.time()
        summary = {
            "record": "summary", "ended": _iso(now), "ended_epoch": now, "ok": ok,
            "connections": len(records), "verified": verified, "failed": len(records) - verified,
            "interrupted": interrupted, "total_bytes": total, "aggregate_rate_bytes_per_s": rate,
        }
        counts, suppressed = self.event_counts()
        summary["events"] = counts
        summary["events_suppressed"] = suppressed
        lines = [
            "",
            _("summary: {} of {} verified, {} failed{}").format(
                verified, self.clients if self.clients is not None else len(records), len(records) - verified,
                _(", INTERRUPTED") if interrupted else ""),
            _("total bytes: {:,}   aggregate rate: {}").format(total, format_rate(rate)),
        ]
        if counts:
            lines.append(_("events: ") + ", ".join(
                "{} {:,}{}".format(kind, count, _(" ({:,} not logged one by one)").format(suppressed[kind])
                                   if kind in suppressed else "")
                for kind, count in sorted(counts.items())))
        lines.append(_("test ended {}; result: {}").format(summary["ended"], _("OK") if ok else _("FAILED")))
        self._write(lines, summary)
        with self._lock:
            self._closed = True
            self._text.close()
            self._json.close()
