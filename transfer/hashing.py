"""SHA-256 helpers: hashing a file, and hashing in a background thread so a
receiver can keep receiving and writing while the previous buffer is hashed."""

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


class BackgroundHasher:
    """Feeds buffers to SHA-256 in a worker thread, in submission order.

    ``submit(data, on_done)`` queues a bytes-like object; *on_done* (if given)
    is called from the worker once the data is hashed, so the caller can reuse
    the buffer.  ``hexdigest()`` waits for the queue to drain.  hashlib
    releases the GIL for large updates, so this overlaps with socket receives
    and file writes in the calling thread.
    """

    _STOP = object()

    def __init__(self, max_pending=8):
        self._digest = hashlib.sha256()
        self._queue = queue.Queue(max_pending)
        self._error = None
        self._thread = threading.Thread(target=self._run, name="sha256", daemon=True)
        self._thread.start()
        self._closed = False

    def _run(self):
        while True:
            item = self._queue.get()
            if item is self._STOP:
                return
            data, on_done = item
            try:
                self._digest.update(data)
            except Exception as exc:  # pragma: no cover - defensive
                self._error = exc
            if on_done is not None:
                on_done(data)

    def submit(self, data, on_done=None):
        """Queue *data* for hashing (blocks while max_pending buffers wait)."""
        self._queue.put((data, on_done))

    def hexdigest(self, timeout=60.0):
        """Wait for every queued buffer, stop the worker, return the hex digest."""
        self.close(timeout)
        if self._error is not None:
            raise self._error
        return self._digest.hexdigest()

    def close(self, timeout=60.0):
        """Stop the worker after the queued buffers (idempotent)."""
        if not self._closed:
            self._closed = True
            self._queue.put(self._STOP)
        self._thread.join(timeout)


class BufferPool:
    """A fixed set of reusable receive buffers, handed back by the hasher."""

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
