"""A file being received: written under a temporary ``.part`` name, hashed
while it streams, renamed to its final name only when every byte arrived and
the SHA-256 matched.

TCP appends (``write``).  Threaded (the default), the caller's thread
writes each buffer and a hasher thread hashes it, so receiving and writing
(about half a core at 1 GB/s) overlap with hashing (a whole core): the fastest
for one client with a spare core.  With ``threaded=False`` the caller's
thread also hashes each buffer: no handoffs between threads, the fastest when
many clients share the cores (hashlib and file writes release the GIL).  UDP places chunks by offset
(``write_at``), and the in-order prefix is hashed as it grows: chunks that
arrive ahead of a gap are read back once the gap fills, nothing else is ever
read back.
"""

import errno
import os
from pathlib import Path

from transfer.errors import TransferFailed
from transfer.hashing import BackgroundHasher, InlineHasher
from transfer.i18n import N_
from transfer.paths import replace_file

READ_BACK = 1024 * 1024


def describe_os_error(exc):
    """A one-line reason for an OSError while writing (disk full gets its name)."""
    if getattr(exc, "errno", None) == errno.ENOSPC:
        return N_("disk full while writing the received file")
    return N_("cannot write the received file: {}").format(exc.strerror or exc)


_TEMP_FLAGS = (os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
               | getattr(os, "O_NOINHERIT", 0) | getattr(os, "O_CLOEXEC", 0))


def _create_temp(folder, name):
    """A new file ``<name>.<8 random hex>.part`` in *folder*, created exclusively
    with mode 0600 (as tempfile.mkstemp, which costs 3 ms of imports);
    returns (fd, path)."""
    for _ in range(100):
        path = os.path.join(folder, "{}.{}.part".format(name, os.urandom(4).hex()))
        try:
            return os.open(path, _TEMP_FLAGS, 0o600), path
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", os.path.join(folder, name))


def _apply_umask(handle):
    """mkstemp creates 0600 files; give received files the usual permissions."""
    if os.name != "posix":
        return
    mask = os.umask(0)
    os.umask(mask)
    try:
        os.fchmod(handle, 0o666 & ~mask)
    except OSError:
        pass


class IncomingFile:
    """Receives one file of *size* bytes destined for *final_path*.

    *threaded* True: hashing runs in a worker thread (writes stay in the
    caller's); False: everything in the calling thread, synchronously."""

    def __init__(self, final_path, size, expected_sha256, threaded=True):
        self.final_path = Path(final_path)
        self.size = size
        self.expected_sha256 = expected_sha256
        folder = self.final_path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
            handle, temp = _create_temp(str(folder), self.final_path.name)
        except OSError as exc:
            raise TransferFailed(N_("cannot create a file in {}: {}").format(folder, exc.strerror or exc))
        self.temp_path = Path(temp)
        _apply_umask(handle)
        self._file = os.fdopen(handle, "w+b", buffering=0)
        self.threaded = threaded
        self._hasher = BackgroundHasher() if threaded else InlineHasher()
        self._position = 0        # where the next sequential write goes
        self.hashed = 0           # length of the prefix fed to the hasher
        self._ahead = {}          # offset -> length of chunks written beyond the hashed prefix
        self.written = 0          # distinct bytes placed
        self.closed = False

    # -- writing ---------------------------------------------------------------
    def write(self, data, on_done=None):
        """Append *data* (bytes-like): written now, in the calling thread, and
        handed to the hasher; *on_done(data)* runs once the hasher is done
        with it (threaded: in the hasher thread, to recycle a buffer; not
        threaded: at once, the hash being computed here).  Raises
        TransferFailed if the write fails (disk full)."""
        try:
            self._write_all(data)
        except OSError as exc:
            raise TransferFailed(describe_os_error(exc))
        self._hasher.submit(data, on_done)
        length = len(data)
        self._position += length
        self.written += length
        self.hashed += length

    def _write_all(self, data):
        view = memoryview(data)
        while view:
            count = self._file.write(view)
            view = view[count:]

    def write_at(self, offset, data, on_done=None):
        """Place a chunk at *offset* (UDP).  The caller guarantees chunks don't
        overlap and each is written once.  Without *on_done* the hasher gets a
        copy; with it, the hasher uses *data* itself and *on_done(data)* runs
        once nothing needs it any more (hashed, or at once if it lies beyond a
        gap), so the caller can then reuse the buffer."""
        try:
            if offset != self._position:
                self._file.seek(offset)
            self._write_all(data)  # a disk filling up gives a short write first, then ENOSPC
        except OSError as exc:
            raise TransferFailed(describe_os_error(exc))
        length = len(data)
        self._position = offset + length
        self.written += length
        if offset == self.hashed:
            if on_done is None:
                self._hasher.submit(bytes(data) if self.threaded else data)
            else:
                self._hasher.submit(data, on_done)
            self.hashed += length
            self._drain_ahead()
        else:
            self._ahead[offset] = length
            if on_done is not None:
                on_done(data)

    def _drain_ahead(self):
        while self.hashed in self._ahead:
            length = self._ahead.pop(self.hashed)
            self._file.seek(self.hashed)
            remaining = length
            while remaining:
                piece = self._file.read(min(READ_BACK, remaining))
                if not piece:
                    raise TransferFailed(N_("received file shrank while reading it back"))
                self._hasher.submit(piece)
                remaining -= len(piece)
            self.hashed += length
            self._position = self.hashed  # the file position is now here

    # -- ending ----------------------------------------------------------------
    def digest(self):
        """Wait for the hasher; the hex SHA-256 of the in-order prefix."""
        return self._hasher.hexdigest()

    def finish(self):
        """Verify size and hash; on success rename to the final name.

        Returns the received hash.  Raises TransferFailed (the partial file is
        then still under its temporary name: call ``discard``).
        """
        received = self.digest()
        self._close_file()
        if self.written != self.size or self.hashed != self.size:
            raise TransferFailed(N_("incomplete file: {:,} of {:,} bytes").format(self.written, self.size))
        if received != self.expected_sha256:
            raise TransferFailed(N_("SHA-256 mismatch: expected {}..., received {}...").format(
                (self.expected_sha256 or "?")[:16], received[:16]))
        try:
            replace_file(self.temp_path, self.final_path)  # retried on Windows (antivirus)
        except OSError as exc:
            raise TransferFailed(N_("cannot rename the received file: {}").format(exc.strerror or exc))
        return received

    def discard(self, keep_partial=False):
        """Remove the temporary file (or keep it under its .part name).

        Returns the kept path or None.  Safe to call after finish()."""
        self._hasher.close(timeout=5.0)
        self._close_file()
        if not self.temp_path.exists():
            return None
        if keep_partial:
            return self.temp_path
        try:
            os.unlink(str(self.temp_path))
        except OSError:
            return self.temp_path
        return None

    def _close_file(self):
        if not self.closed:
            self.closed = True
            try:
                self._file.close()
            except OSError:
                pass
