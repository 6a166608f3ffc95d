"""Where a server's side lines go (a ping answered, a stray datagram), so they
never print over the menu prompt and are never lost.

During a test they are events of the test's log and one line above the live
status table.  Between tests (the server sits at its menu, or between two
``--once`` runs) nothing is printed: the line goes to the between-tests log
``<logs>/<protocol>-server/<date>-between-tests.txt``, created at the first
such line, and ``summary()`` tells how many there were the next time the
server has the screen (the start of the next test, or on exit).
"""

import logging
import threading
import time
from pathlib import Path

from transfer.paths import display_path
from transfer.text import display
from transfer.i18n import _, localize

log = logging.getLogger(__name__)

MAX_LINES = 10000   # lines written to one between-tests log; the rest are only counted


class SideLines:
    """Routes side lines of one server process (thread-safe)."""

    def __init__(self, logs_dir, protocol, quiet=False, max_lines=MAX_LINES):
        self.folder = Path(logs_dir) / "{}-server".format(protocol)
        self.quiet = quiet
        self.max_lines = max_lines
        self.path = None
        self._lock = threading.Lock()
        self._handle = None
        self._written = 0
        self._pending = {}       # kind -> count since the last summary()
        self._failed = False

    def add(self, kind, peer, detail, test_log=None, board=None):
        """One side line: *kind* (``ping``, ``ignored``...), *peer* ('ip:port'),
        *detail*.  With *test_log* (a test is running) it is an event of that
        log and, unless quiet, a line above *board*; else it goes to the
        between-tests log only."""
        if test_log is not None:
            test_log.add_event(kind, peer, detail)
            if board is not None and not self.quiet:
                board.note(_("{} from {}: {}").format(kind, peer, display(localize(detail), 120)))
            return
        with self._lock:
            self._pending[kind] = self._pending.get(kind, 0) + 1
            if self._written >= self.max_lines:
                return
            handle = self._open()
            if handle is None:
                return
            stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())
            try:
                handle.write(_("{} {} from {}: {}\n").format(stamp, kind, display(peer, 100),
                                                             display(localize(detail), 300)))
                handle.flush()
                self._written += 1
            except OSError as exc:
                log.warning("cannot write %s: %s", self.path, exc)

    def _open(self):
        if self._handle is not None or self._failed:
            return self._handle
        stamp = time.strftime("%Y-%m-%d-%H-%M-%S", time.localtime())
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.path = self.folder / "{}-between-tests.txt".format(stamp)
            self._handle = open(str(self.path), "a", encoding="utf-8")
        except OSError as exc:
            self._failed = True
            log.warning("cannot open the between-tests log in %s: %s", self.folder, exc)
        return self._handle

    def summary(self):
        """One line about the side lines logged since the last call ("" if none);
        the counts start again."""
        with self._lock:
            pending, self._pending = self._pending, {}
        if not pending or self.path is None:
            return ""
        counts = ", ".join("{} {}".format(n, kind) for kind, n in sorted(pending.items()))
        return _("between tests: {} (logged in {})").format(counts, display_path(self.path))

    def close(self):
        """Close the between-tests log (idempotent)."""
        with self._lock:
            if self._handle is not None:
                try:
                    self._handle.close()
                except OSError:
                    pass
                self._handle = None

