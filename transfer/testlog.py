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
from transfer.messages import printable
from transfer.records import aggregate
from transfer.units import format_ms, format_rate


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
    raise UserError("cannot find a free log name in {}".format(folder))


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
            raise UserError("cannot create the log folder {}: {}".format(folder, exc.strerror or exc))
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
            "{} {} log - test started {}".format(self.protocol.upper(), self.role, record["started"]),
            "file: {} ({:,} bytes)".format(printable(file_name) if file_name is not None else "-",
                                           file_size or 0),
            "sha256: {}".format(file_sha256 or "-"),
            "clients in this test: {}   mode: {}".format(clients, mode),
            "host: {}   python {} on {}".format(record["host"], record["python"], record["platform"]),
        ]
        if settings:
            lines.append("settings: " + ", ".join("{}={}".format(k, v) for k, v in sorted(settings.items())))
        lines.append("")
        self._write(lines, record)

    def add_connection(self, rec):
        """Log one finished connection (a ConnectionRecord)."""
        data = rec.to_dict()
        with self._lock:
            self._records.append(rec)
        lines = [
            "connection: client {}  client {}  server {}".format(
                rec.client_id if rec.client_id is not None else "?", rec.client_address, rec.server_address),
            "  bytes {}: {:,}".format("sent" if self.role == "server" else "received", rec.bytes),
            "  success: {}{}".format("yes" if rec.ok else "no",
                                     "" if rec.ok else " - " + printable(rec.reason or "unknown", 300)),
            "  sha256 expected: {}".format(rec.sha256_expected or "-"),
            "  sha256 received: {}".format(rec.sha256_received or "-"),
            "  transfer time: {}   rate: {}".format(format_ms(rec.time_ms), format_rate(rec.rate_bytes_per_s)),
        ]
        for key in sorted(rec.extra):
            if key != "client_report":
                value = rec.extra[key]
                if isinstance(value, str) and not value.isprintable():
                    value = printable(value)  # a name from the wire: no raw control characters
                lines.append("  {}: {}".format(key.replace("_", " "), value))
        if rec.extra.get("client_report"):
            lines.append("  client report: {}".format(json.dumps(rec.extra["client_report"], sort_keys=True)))
        if rec.saved_as:
            lines.append("  saved as: {}".format(rec.saved_as))
        if rec.partial_as:
            lines.append("  partial file kept as: {}".format(rec.partial_as))
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
        line = "event {} {} from {}: {}".format(
            time.strftime("%H:%M:%S", time.localtime(now)), kind, peer, record["detail"])
        lines = [line]
        if seen == self.event_lines:
            lines.append("  (further '{}' events of this test are only counted: see the summary)".format(kind))
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
            "summary: {} of {} verified, {} failed{}".format(
                verified, self.clients if self.clients is not None else len(records), len(records) - verified,
                ", INTERRUPTED" if interrupted else ""),
            "total bytes: {:,}   aggregate rate: {}".format(total, format_rate(rate)),
        ]
        if counts:
            lines.append("events: " + ", ".join(
                "{} {:,}{}".format(kind, count, " ({:,} not logged one by one)".format(suppressed[kind])
                                   if kind in suppressed else "")
                for kind, count in sorted(counts.items())))
        lines.append("test ended {}; result: {}".format(summary["ended"], "OK" if ok else "FAILED"))
        self._write(lines, summary)
        with self._lock:
            self._closed = True
            self._text.close()
            self._json.close()
