"""SHA-256 helpers: hashing a file; background workers so a receiver can keep
receiving while earlier buffers are written and hashed in parallel; and their
inline twins, which do the same work in the caller's thread (one thread per
client: no handoffs, and hashlib releases the GIL on large updates, so
several such threads still use every core)."""

import hashlib
import queue
import threading

READ_SIZE = 1024 * 1024


def sha256_file(path, read_size=READ_SIZE):
    """Hex SHA-256 of the file at *path*, read in 1 MiB pieces."""
    digest = hashlib.sha256()
    buffer = bytearray(read_size)
    view = memoryview(buffer)
    with open(str(path), "rb", buffering=0) as source:
        while True:
            count = source.readinto(buffer)
            if not count:
                break
            digest.update(view[:count])
    return digest.hexdigest()


def _handle_one(worker, data, on_done):
    """One item for *worker* (background or inline): ``_handle(data)`` unless an earlier item
    failed (the first error is kept in ``worker.error``), then ``on_done(data)`` always."""
    if worker.error is None:
        try:
            worker._handle(data)
        except Exception as exc:
            worker.error = exc
    if on_done is not None:
        on_done(data)


class BackgroundWorker:
    """Applies *handle(data)* to queued buffers in one thread, in order.

    ``submit(data, on_done)`` queues a bytes-like object (blocking while
    *max_pending* wait); *on_done(data)* runs in the worker afterwards so the
    caller can recycle the buffer.  The first exception *handle* raises is
    kept: later items are skipped (but still handed to *on_done*) and
    ``error`` tells the caller.  hashlib and file writes release the GIL, so
    workers overlap with socket receives in the calling thread.
    """

    _STOP = object()

    def __init__(self, handle, name, max_pending=8):
        self._handle = handle
        self._queue = queue.Queue(max_pending)
        self.error = None
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self):
        while True:
            item = self._queue.get()
            if item is self._STOP:
                return
            _handle_one(self, *item)

    def submit(self, data, on_done=None):
        """Queue *data* (blocks while max_pending buffers wait)."""
        self._queue.put((data, on_done))

    def close(self, timeout=60.0):
        """Finish the queued buffers and stop the thread (idempotent).
        Returns True if the thread ended within *timeout*."""
        if not self._closed:
            self._closed = True
            self._queue.put(self._STOP)
        self._thread.join(timeout)
        return not self._thread.is_alive()


class BackgroundHasher(BackgroundWorker):
    """SHA-256 of everything submitted, computed in a worker thread."""

    def __init__(self, max_pending=8):
        self._digest = hashlib.sha256()
        super().__init__(self._digest.update, "sha256", max_pending)

    def hexdigest(self, timeout=60.0):
        """Wait for every queued buffer, stop the worker, return the hex digest."""
        self.close(timeout)
        if self.error is not None:
            raise self.error
        return self._digest.hexdigest()


class InlineWorker:
    """BackgroundWorker's interface without a thread: ``submit`` applies
    *handle(data)* at once in the calling thread, then *on_done(data)*.  The
    first exception is kept in ``error`` and later items are skipped, as in
    BackgroundWorker."""

    def __init__(self, handle, name=None):
        self._handle = handle
        self.name = name
        self.error = None

    def submit(self, data, on_done=None):
        """Handle *data* now."""
        _handle_one(self, data, on_done)

    def close(self, timeout=None):
        """Nothing is pending; always True."""
        return True


class InlineHasher(InlineWorker):
    """SHA-256 of everything submitted, computed in the calling thread."""

    def __init__(self):
        self._digest = hashlib.sha256()
        super().__init__(self._digest.update, "sha256")

    def hexdigest(self, timeout=None):
        """The hex digest of everything submitted."""
        if self.error is not None:
            raise self.error
        return self._digest.hexdigest()


class BufferPool:
    """A fixed set of reusable receive buffers, handed back when used."""

    def __init__(self, count, size):
        self.size = size
        self._free = queue.Queue()
        for _ in range(count):
            self._free.put(bytearray(size))

    def get(self, timeout=60.0):
        """A free buffer; raises queue.Empty if none frees up in *timeout*."""
        return self._free.get(timeout=timeout)

    def put(self, buffer):
        """Give a buffer back."""
        self._free.put(buffer)
