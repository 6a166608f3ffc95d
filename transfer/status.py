"""The live status display of a test's connections.

On a terminal a table is redrawn in place a few times a second; otherwise one
plain line is printed per state change.  Progress goes to stderr; quiet mode
prints nothing.  Thread-safe: connection threads call ``update``.
"""

import os
import shutil
import sys
import threading

from transfer.i18n import N_, _

FINAL_STATES = ("verified", "failed")
#: the row states the programs use (kept English in the code; shown with _(state))
STATE_WORDS = (N_("connecting"), N_("connected"), N_("ready"), N_("receiving"), N_("sending"), N_("waiting"),
               N_("verified"), N_("failed"), N_("left"), N_("busy"), N_("interrupted"), N_("finishing"))


ENABLE_VIRTUAL_TERMINAL_PROCESSING = 0x0004
STD_OUTPUT_HANDLE, STD_ERROR_HANDLE = -11, -12


class _WindowsConsole:  # pragma: no cover - Windows only
    """GetConsoleMode/SetConsoleMode through ctypes (kernel32)."""

    def __init__(self):
        import ctypes
        from ctypes import wintypes
        self._ctypes, self._wintypes = ctypes, wintypes
        self._kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
        self._kernel32.GetStdHandle.restype = wintypes.HANDLE
        self._kernel32.GetStdHandle.argtypes = (wintypes.DWORD,)
        self._kernel32.GetConsoleMode.argtypes = (wintypes.HANDLE, ctypes.POINTER(wintypes.DWORD))
        self._kernel32.SetConsoleMode.argtypes = (wintypes.HANDLE, wintypes.DWORD)

    def handle(self, which):
        return self._kernel32.GetStdHandle(which)

    def get_mode(self, handle):
        mode = self._wintypes.DWORD()
        if not self._kernel32.GetConsoleMode(handle, self._ctypes.byref(mode)):
            return None
        return mode.value

    def set_mode(self, handle, mode):
        return bool(self._kernel32.SetConsoleMode(handle, mode))


def enable_vt_mode(stream=None, windows=None, console=None):
    """True when *stream* (default stderr) understands the escape sequences
    that redraw the table in place.  Elsewhere than Windows: always.  On
    Windows, VT processing is switched on for the console (Windows 10 1511 and
    later); where the console refuses (older Windows, a redirected handle) the
    answer is False and the caller prints plain lines instead."""
    if windows is None:
        windows = os.name == "nt"
    if not windows:
        return True
    try:
        console = console or _WindowsConsole()
        handle = console.handle(STD_OUTPUT_HANDLE if stream is sys.stdout else STD_ERROR_HANDLE)
        mode = console.get_mode(handle)
        if mode is None:
            return False
        if mode & ENABLE_VIRTUAL_TERMINAL_PROCESSING:
            return True
        return console.set_mode(handle, mode | ENABLE_VIRTUAL_TERMINAL_PROCESSING)
    except (ImportError, AttributeError, OSError, ValueError):
        return False


class StatusBoard:
    """Shows one row per connection: key, state, detail (percent, rate, reason)."""

    def __init__(self, title, stream=None, quiet=False, interactive=None, refresh=0.25):
        self.title = title
        self.stream = stream or sys.stderr
        self.quiet = quiet
        if interactive is None:
            interactive = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.interactive = interactive and not quiet and enable_vt_mode(self.stream)
        self._rows = {}
        self._order = []
        self._lock = threading.Lock()
        self._drawn_lines = 0
        self._stop = threading.Event()
        self._thread = None
        self._refresh = refresh

    def start(self):
        """Begin redrawing (terminal only)."""
        if self.interactive and self._thread is None:
            self._stop = threading.Event()
            self._drawn_lines = 0
            self._thread = threading.Thread(target=self._loop, name="status", daemon=True)
            self._thread.start()

    def update(self, key, state, detail=""):
        """Set a row's state and detail; prints a line on a state change when not a terminal."""
        with self._lock:
            if key not in self._rows:
                self._order.append(key)
            previous = self._rows.get(key, (None, ""))[0]
            self._rows[key] = (state, detail)
        if self.quiet or self.interactive or previous == state:
            return
        line = "{}: {}{}\n".format(key, _(state), " - " + detail if detail else "")
        with self._lock:
            self.stream.write(line)
            self.stream.flush()

    def note(self, message):
        """A free line (above the table on a terminal)."""
        if self.quiet:
            return
        with self._lock:
            self._erase()
            self.stream.write(message + "\n")
            self.stream.flush()
            self._drawn_lines = 0

    def stop(self):
        """Stop redrawing and leave the final table on screen (start() resumes)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)
            self._thread = None
            with self._lock:
                self._draw()

    # -- terminal drawing -------------------------------------------------------
    def _loop(self):
        while not self._stop.wait(self._refresh):
            with self._lock:
                self._draw()

    def _erase(self):
        if self.interactive and self._drawn_lines:
            self.stream.write("\x1b[{}F\x1b[J".format(self._drawn_lines))

    def _draw(self):
        height = shutil.get_terminal_size((100, 30)).lines
        width = shutil.get_terminal_size((100, 30)).columns
        lines = [self.title]
        counts = {}
        for state, _detail in self._rows.values():
            counts[state] = counts.get(state, 0) + 1
        lines.append("  " + ", ".join("{} {}".format(n, _(s)) for s, n in sorted(counts.items())))
        room = max(3, height - 4)
        keys = self._order
        if len(keys) > room:
            # show the busy rows first when they do not all fit
            busy = [k for k in keys if self._rows[k][0] not in FINAL_STATES]
            keys = (busy + [k for k in keys if k not in busy])[:room - 1]
            hidden = len(self._order) - len(keys)
        else:
            hidden = 0
        for key in keys:
            state, detail = self._rows[key]
            lines.append("  {:<12} {:<10} {}".format(str(key), _(state), detail)[:width - 1])
        if hidden:
            lines.append(_("  ... and {} more").format(hidden))
        self._erase()
        self.stream.write("\n".join(lines) + "\n")
        self.stream.flush()
        self._drawn_lines = len(lines)


def progress_detail(done, total, elapsed):
    """'42.0% 812.3 MB/s' for a receiving row."""
    percent = 100.0 * done / total if total else 100.0
    rate = done / elapsed / 1e6 if elapsed > 0 else 0.0
    return _("{:5.1f}% {:8.1f} MB/s").format(percent, rate)
