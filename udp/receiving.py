"""The UDP client's data phase, in three small parts with no knowledge of the
handshake:

* ``ChunkRanges``: which chunks arrived, kept as sorted half-open ranges.
  Its size follows the gaps actually seen, never the chunk count announced in
  ``FILE`` (a million 1-byte chunks cost nothing until they arrive).
* ``ChunkStore``: places chunk payloads in the ``IncomingFile`` through 1 MiB
  batch buffers, so consecutive chunks are written (and hashed) in one piece,
  by the receiving thread itself or by one writer thread; the file hashes in
  the thread that writes (``threaded=False``) or in its own hasher thread.
* ``Reception``: the receive loop.  It takes batches of datagrams from a
  ``udp.transport.DatagramReceiver`` (several per system call with UDP GRO;
  big datagrams are received straight into the store's buffer instead),
  checks each header, hands data to the store, reacts to ``END``/``ERROR``,
  and asks the session for feedback (``NACK``) at least every
  ``FEEDBACK_EVERY`` data datagrams or ``FEEDBACK_PERIOD`` seconds while data
  flows, in both modes (raw: no ranges).  Reliable mode also asks for what is
  missing: new gaps at once, everything missing when ``END`` arrives or when
  the data pauses (``QUIET_NACK``).
"""

import bisect
import queue
import struct
import threading
import time

from transfer.errors import ProtocolError, TransferFailed
from transfer.hashing import BackgroundWorker
from transfer.i18n import N_
from transfer.messages import ErrorMessage, printable
from udp.packets import (DATA_TYPE, FLAG_RESENT, HEADER, HEADER_SIZE, SEQ_ARRAYS, VERSION, End, decode_control,
                         format_ranges, seq_bytes)
from udp.transport import MIN_RECEIVE_BUFFER

FEEDBACK_EVERY = 32          # a NACK (feedback) at least every this many data datagrams ...
FEEDBACK_PERIOD = 0.05       # ... or this many seconds while data flows (COMMON.md, "Agreed now")
FEEDBACK_MIN_GAP = 0.001     # ... but the datagram count asks for one at most this often (1,472-byte
#                              datagrams at 500 MB/s would make it 10,000 NACKs a second)
RECEIVE_WAIT = 0.02          # longest wait for one receive: feedback and timers stay on time
MIN_RECEIVE_WAIT = 0.0001    # shortest (a NACK owed once the feedback gap has passed: ``_receive_wait``)
QUIET_NACK = 0.15            # reliable: no data for this long -> NACK everything missing (below the highest)
STATUS_EVERY = 0.25          # progress line on the status board
BATCH_BYTES = 1024 * 1024    # consecutive chunks gathered this much at a time, then written and hashed
SCATTER_MIN = 16 * 1024      # datagram data of at least this many bytes is received in place (plain path)
SLOT_VIEWS_KEPT = 4096       # a batch buffer of at most this many slots keeps a view of each beside a header's
#                              (GRO path; 1,460-byte chunks: 718 per 1 MiB buffer; made per receive they cost
#                              10% of the receiving thread's CPU per batch)

EXPECT_WINDOW = 4096         # the GRO path compares headers with those of this many fresh chunks, made at once
GRO_SLOTS = 64               # datagrams one GRO receive scatters in place at most (the kernel glues up to 64;
#                              two iovec entries each, far below IOV_MAX); any more land in the spill buffer
PREFIX_AND_SEQ = struct.Struct("!QI")   # the header read as (type, version, flags, transfer) + seq


class ChunkRanges:
    """The set of received chunk numbers of a transfer of *total* chunks, as
    sorted disjoint half-open ranges ``[start, end)``.

    Arrivals in order extend the last range in O(1); others cost a binary
    search (and a list insert when they open a new range).  Memory grows with
    the number of gaps, never with *total*."""

    def __init__(self, total):
        self.total = total
        self.count = 0
        self._starts = []
        self._ends = []

    def add(self, seq):
        """Record chunk *seq*; False if it was already there (a duplicate)."""
        starts, ends = self._starts, self._ends
        if ends and ends[-1] == seq:
            ends[-1] = seq + 1
            self.count += 1
            return True
        i = bisect.bisect_right(starts, seq)
        if i and seq < ends[i - 1]:
            return False
        joins_left = i > 0 and ends[i - 1] == seq
        joins_right = i < len(starts) and starts[i] == seq + 1
        if joins_left and joins_right:
            ends[i - 1] = ends[i]
            del starts[i]
            del ends[i]
        elif joins_left:
            ends[i - 1] = seq + 1
        elif joins_right:
            starts[i] = seq
        else:
            starts.insert(i, seq)
            ends.insert(i, seq + 1)
        self.count += 1
        return True

    def add_run(self, seq, count):
        """Record chunks seq .. seq+count-1, all above every chunk held so far."""
        if self._ends and self._ends[-1] == seq:
            self._ends[-1] = seq + count
        else:
            self._starts.append(seq)
            self._ends.append(seq + count)
        self.count += count

    def __contains__(self, seq):
        i = bisect.bisect_right(self._starts, seq)
        return i > 0 and seq < self._ends[i - 1]

    @property
    def missing_count(self):
        """Chunks not received."""
        return self.total - self.count

    def missing(self, low=0, high=None):
        """Inclusive (a, b) ranges of the chunks missing in [low, high) (a generator, in order)."""
        high = self.total if high is None else min(high, self.total)
        starts, ends = self._starts, self._ends
        i = max(0, bisect.bisect_right(starts, low) - 1)
        cursor = low
        while cursor < high:
            if i < len(starts):
                start, end = starts[i], ends[i]
                i += 1
                if end <= cursor:
                    continue
                if start > cursor:
                    yield cursor, min(start, high) - 1
                cursor = max(cursor, end)
            else:
                yield cursor, high - 1
                cursor = high

    def missing_text(self, limit=4000):
        """The missing chunks as 'a-b_c' (cut at *limit* characters, then '...')."""
        parts = []
        length = 0
        cut = False
        for a, b in self.missing():
            if length > limit:
                cut = True
                break
            parts.append((a, b))
            length += len(str(a)) + 1 + (len(str(b)) + 1 if b != a else 0)
        text = format_ranges(parts)
        if len(text) > limit:
            text, cut = text[:limit], True
        return text + "..." if cut else text

    def ranges_count(self):
        """How many ranges are held (the bookkeeping's size)."""
        return len(self._starts)


class _Buffer:
    """One batch buffer and how many of its pieces the file still holds; ``pieces``: each chunk's
    place in it beside a header's, made on first use (``ChunkStore.scatter_pieces``)."""

    __slots__ = ("view", "pending", "retired", "pieces", "heads")

    def __init__(self, size):
        self.view = memoryview(bytearray(size))
        self.view[::4096] = bytes(len(self.view[::4096]))  # touch every page now, not while datagrams arrive
        self.pending = 0
        self.retired = False
        self.pieces = None    # [header view, slot view, ...] for every slot (``ChunkStore.scatter_pieces``)
        self.heads = None     # ... made with these header views


class ChunkStore:
    """Writes chunk payloads into *incoming* (an ``IncomingFile``) at
    ``seq * chunk``, gathering consecutive ones in batch buffers of *slots*
    chunks.  A run ends (is written) when the next chunk does not follow,
    when the buffer is full, and on ``flush``.

    Who writes: the receiving thread itself, or (*worker* True) one writer
    thread per client that writes and hashes the runs while the receiving
    thread goes back to its socket.  A threaded file (or the writer) reads
    the buffers themselves, so up to *buffers* of them are in use; waiting
    longer than *stall* seconds for one is a TransferFailed.  ``close``
    waits for the writer; ``abandon`` stops it."""

    def __init__(self, incoming, chunk, slots, buffers, stall, worker=False):
        self.incoming = incoming
        self.chunk = chunk
        self.slots = slots
        self.stall = stall
        self._lock = threading.Lock()
        # last freed, first taken: that buffer was read (hashed, written) last, so it is the one still
        # in the CPU's cache; a FIFO pool cycled through all of them (10 clients: 60 MiB)
        self._pool = queue.LifoQueue()
        for _ in range(buffers):
            self._pool.put(_Buffer(slots * chunk))
        self._worker = BackgroundWorker(self._write, "udp-writer", max_pending=buffers) if worker else None
        self._buffer = self._take()
        self._slot = 0        # next free slot of the buffer
        self._base = 0        # seq of the current run's first chunk
        self._filled = 0      # chunks in the current run
        self._run_bytes = 0

    def _write(self, item):
        offset, piece, buffer = item
        self.incoming.write_at(offset, piece, lambda _data: self._done(buffer))

    def check(self):
        """Raise the writer thread's error (disk full ...), if it had one."""
        error = self._worker.error if self._worker is not None else None
        if error is not None:
            raise error if isinstance(error, TransferFailed) else TransferFailed(
                N_("cannot write the received file: {!r}").format(error))

    def close(self):
        """Write what is left and wait for the writer; raise its error if any."""
        self.flush()
        if self._worker is not None and not self._worker.close(max(60.0, self.stall)):
            raise TransferFailed(N_("writing the received file stalled"))
        self.check()

    def abandon(self):
        """Stop the writer thread without caring about its result."""
        if self._worker is not None:
            self._worker.close(5.0)

    def _take(self):
        try:
            buffer = self._pool.get(timeout=self.stall)
        except queue.Empty:
            raise TransferFailed(N_("writing the received file stalled for {:g} s").format(self.stall))
        buffer.pending, buffer.retired = 0, False
        return buffer

    def put(self, seq, payload):
        """Place chunk *seq* (its bytes are copied: *payload* may be reused at once)."""
        if self._filled and seq != self._base + self._filled:
            self.flush()
        if self._slot == self.slots:
            self._retire()
        if not self._filled:
            self._base = seq
        start = self._slot * self.chunk
        length = len(payload)
        self._buffer.view[start:start + length] = payload
        self._slot += 1
        self._filled += 1
        self._run_bytes += length
        if self._slot == self.slots:
            self.flush()

    def run_space(self, seq, want=1):
        """Where chunks seq, seq+1, ... may be copied to extend the current
        run: (buffer view, byte offset, free slots); free 0 when *seq* does not
        continue the run.  Follow the copy with ``extend``.  With fewer than
        *want* slots left in the buffer, the run is written and the next one
        starts in a fresh buffer (a GRO batch is not cut in two)."""
        if self._filled and seq != self._base + self._filled:
            return None, 0, 0
        if self._slot and self.slots - self._slot < min(want, self.slots):
            self.flush()
            self._retire()
        if self._slot == self.slots:
            self._retire()
        if not self._filled:
            self._base = seq
        return self._buffer.view, self._slot * self.chunk, self.slots - self._slot

    def scatter_pieces(self, count, heads):
        """The buffers for a receive that scatters the next *count* chunks of the run in place (after
        ``run_space``, which says how many slots are free): [header view, slot view, ...], header i
        of the batch beside the slot where its chunk belongs, and the index in *heads* of the
        first header.  *heads* holds a header view per slot of a buffer (header i goes with slot i)
        and the list is made once per buffer (a GRO receive asks for 44 slots at a time) when a
        buffer has at most SLOT_VIEWS_KEPT slots; tiny chunks (a server may announce 1-byte ones)
        get theirs each time, beside heads[0], heads[1], ..."""
        buffer, start, chunk, slots = self._buffer, self._slot, self.chunk, self.slots
        if slots > SLOT_VIEWS_KEPT:
            view = buffer.view
            pieces = [None] * (2 * count)
            pieces[0::2] = heads[:count]
            pieces[1::2] = [view[i * chunk:(i + 1) * chunk] for i in range(start, start + count)]
            return pieces, 0
        if buffer.heads is not heads:
            view = buffer.view
            pieces = [None] * (2 * slots)
            pieces[0::2] = heads[:slots]
            pieces[1::2] = [view[i * chunk:(i + 1) * chunk] for i in range(slots)]
            buffer.pieces, buffer.heads = pieces, heads
        return buffer.pieces[2 * start:2 * (start + count)], start

    def extend(self, count, nbytes):
        """*count* chunks (*nbytes* bytes) were copied where ``run_space`` said."""
        self._slot += count
        self._filled += count
        self._run_bytes += nbytes
        if self._slot == self.slots:
            self.flush()

    def flush(self):
        """Write the current run (if any)."""
        if not self._filled:
            return
        buffer = self._buffer
        start = (self._slot - self._filled) * self.chunk
        piece = buffer.view[start:start + self._run_bytes]
        offset = self._base * self.chunk
        self._filled = self._run_bytes = 0
        with self._lock:
            buffer.pending += 1
        if self._worker is None:
            self.incoming.write_at(offset, piece, lambda _data: self._done(buffer))
        else:
            self.check()
            self._worker.submit((offset, piece, buffer))

    def _done(self, buffer):
        with self._lock:
            buffer.pending -= 1
            free = buffer.retired and not buffer.pending
        if free:
            self._pool.put(buffer)

    def _retire(self):
        buffer = self._buffer
        with self._lock:
            buffer.retired = True
            free = not buffer.pending
        if free:
            self._pool.put(buffer)
        self._buffer = self._take()
        self._slot = 0


class Reception:
    """Receives one transfer's data datagrams on *receiver* from *session*.

    *offer* is the FILE (size, chunk, transfer); *store* a ChunkStore;
    *reliable* selects the NACK rounds; *idle_timeout* the silence that ends
    it.  Hooks: ``send_nack(missing, lost, progress)`` sends feedback
    (*missing*: inclusive (a, b) ranges to ask for, an iterator; see
    ``UDPClientSession._nack``), ``on_status(bytes_received)`` shows progress,
    ``start_clock()`` runs at the first data datagram.  The counters
    are attributes, up to date whenever ``run`` returns or raises."""

    def __init__(self, receiver, session, offer, store, reliable, idle_timeout, send_nack, on_status, start_clock,
                 first=None, feedback_gap=FEEDBACK_MIN_GAP):
        self.receiver, self.session, self.store = receiver, session, store
        self.reliable, self.idle_timeout = reliable, idle_timeout
        self.send_nack, self.on_status, self.start_clock = send_nack, on_status, start_clock
        self.size, self.chunk, self.transfer = offer.size, offer.chunk, offer.transfer
        self.chunks = (offer.size + offer.chunk - 1) // offer.chunk if offer.size else 0
        self.last_seq = self.chunks - 1
        self.last_len = offer.size - self.last_seq * offer.chunk if self.chunks else 0
        self.ranges = ChunkRanges(self.chunks)
        self.first = first                 # (bytes, source) of a data datagram that came before START
        self.datagrams = self.duplicates = self.out_of_order = self.ignored = self.resent = self.gaps = 0
        self.bytes = 0                     # distinct payload bytes received
        self.first_gap = None              # the first chunk found missing when a later one arrived
        self.highest = -1
        self.first_rx = self.last_rx = None   # perf_counter of the first / last data datagram
        self.end_seen = False
        self.end_count = 0
        self.silent = False                # ended on --idle-timeout
        self.feedbacks = 0                 # NACK rounds sent (any kind)
        self.nack_rounds = 0               # reliable: full rounds
        self._new_lost = 0                 # gaps since the last NACK
        self._gap_from = 0                 # reliable: first seq not yet NACKed as a fresh gap
        self._since_feedback = 0           # data datagrams since the last NACK
        self._last_feedback = 0.0
        self._next_check = 0.0             # reliable: next look for gaps to NACK
        self._last_full = 0.0
        self._end_round = False
        self._last_heard = time.monotonic()
        self._last_status = 0.0
        self._unpack = HEADER.unpack_from
        self._into = memoryview(bytearray(MIN_RECEIVE_BUFFER))     # batch receives
        self._header = memoryview(bytearray(HEADER_SIZE))          # scatter receives: the header,
        self._spill = memoryview(bytearray(MIN_RECEIVE_BUFFER))    # ... what does not fit a chunk,
        self._spare = memoryview(bytearray(offer.chunk))          # ... the data when no slot is free
        # a fresh (not resent) data datagram of this transfer starts with these 8 bytes
        self._prefix = PREFIX_AND_SEQ.unpack(HEADER.pack(DATA_TYPE, VERSION, 0, self.transfer, 0))[0]
        self._feedback_every = FEEDBACK_EVERY
        self._feedback_gap = feedback_gap   # the count's NACKs at most this often (seconds)
        self._short_wait = False            # the last receive waited only for the feedback gap
        self._gro_slots = 0                 # the GRO path (``_gro_once``): datagrams one receive may scatter
        self.gro_fast = self.gro_slow = 0   # GRO receives taken whole in place / partly put back together

    def _gro_setup(self):
        """Buffers of the GRO path: a header area (a 12-byte view per slot of a batch buffer, or per
        datagram of a receive for tiny chunks: ``ChunkStore.scatter_pieces``) and the headers
        expected for the next fresh chunks."""
        full = self.chunk + HEADER_SIZE
        self._gro_slots = min(MIN_RECEIVE_BUFFER // full + 1, GRO_SLOTS)
        count = self.store.slots if self.store.slots <= SLOT_VIEWS_KEPT else self._gro_slots
        self._heads = bytearray(HEADER_SIZE * count)
        heads = memoryview(self._heads)
        self._head_views = [heads[i * HEADER_SIZE:(i + 1) * HEADER_SIZE] for i in range(count)]
        self._expect_from = 0     # the seq of the first header in self._expect
        self._expect = b""        # the headers of EXPECT_WINDOW fresh chunks from there, back to back

    # -- the loop ---------------------------------------------------------------------------------
    def run(self):
        """Receive until every chunk is in, END (raw), or *idle_timeout* of silence."""
        if self.first is not None:
            data, source = self.first
            self.first = None
            self._take([memoryview(data)], source)
        if self._use_gro_scatter():
            self._gro_setup()
            receive_once = self._gro_once
        else:
            receive_once = self._scatter_once if self._use_scatter() else self._batch_once
        while self.ranges.count < self.chunks and not (self.end_seen and not self.reliable):
            heard = receive_once()
            now = time.monotonic()
            if heard is None and not self._short_wait:
                self.store.flush()   # quiet: write what the batch holds so the hash keeps up
            elif not heard and now - self._last_heard > self.idle_timeout:
                self.silent = True   # nothing from the session for that long (strangers are no answer)
                break
            self._housekeeping(now)
            if heard is None and now - self._last_heard > self.idle_timeout:
                # silence means an empty socket: time spent away from it (a slow disk, a thread that
                # waited for the CPU) is not the server's silence
                self.silent = True
                break
        self.silent = self.silent and self.ranges.count < self.chunks
        self.store.flush()

    def _use_scatter(self):
        """Big datagrams on the plain path are received in place (no copy); GRO batches are copied."""
        return getattr(self.receiver, "can_scatter", False) and self.chunk >= SCATTER_MIN

    def _use_gro_scatter(self):
        """GRO batches of small datagrams are scattered in place: headers apart, data into the run."""
        return (getattr(self.receiver, "io_path", None) == "gro" and hasattr(self.receiver, "recv_scattered")
                and self.chunk < SCATTER_MIN and SEQ_ARRAYS and self.chunks > 0)

    def _gro_once(self):
        """One GRO receive scattered in place: the kernel puts each datagram's
        header into the header area and its data into the slot of the run
        where the next chunk belongs (datagram i: header i, slot i), anything
        beyond into a spill buffer.  When the headers are those of the next
        fresh chunks, in order and whole (the usual case), the batch is done
        with no copy and no Python work per datagram; from the first one that
        is not, the datagrams are put back together and handled as in
        ``_batch_once``.  None on timeout, else whether they came from the
        session."""
        nxt = self.highest + 1
        free = 0
        if nxt <= self.last_seq:
            want = min(self._gro_slots, self.last_seq + 1 - nxt)
            _, _, free = self.store.run_space(nxt, want)
            if not free:   # the run holds other chunks (resends): write it, start one here
                self.store.flush()
                _, _, free = self.store.run_space(nxt, want)
            free = min(free, want)
        if free:
            pieces, first = self.store.scatter_pieces(free, self._head_views)
            pieces.append(self._spill)
        else:
            pieces, first = [self._spill], 0
        count, segment, source = self.receiver.recv_scattered(pieces, self._receive_wait())
        if count < 0:
            return None
        full = self.chunk + HEADER_SIZE
        if source != self.session:
            self.ignored += (count + segment - 1) // segment if segment else 1
            return False
        self._last_heard = time.monotonic()
        taken = 0
        if free and (segment == full or (not segment and count == full)):
            taken = self._fresh_heads(nxt, min(free, count // full), first)
            if taken:
                self.store.extend(taken, taken * self.chunk)
                self._took_run(nxt, taken)
        if taken * full < count:
            self.gro_slow += 1
            return self._take(self._rebuild(pieces, taken, count, segment or count), source)
        self.gro_fast += 1
        if self._since_feedback >= self._feedback_every:
            self._count_feedback()
        return True

    def _fresh_heads(self, nxt, count, first):
        """How many of *count* headers in the header area, from header *first* on, are those of
        the fresh chunks nxt, nxt+1, ... (compared in one piece with the expected ones, made
        EXPECT_WINDOW at a time; one by one only when they differ)."""
        if count <= 0:
            return 0
        if nxt < self._expect_from or nxt + count > self._expect_from + len(self._expect) // HEADER_SIZE:
            self._expect_from = nxt
            self._expect = self._expected_heads(nxt, min(max(EXPECT_WINDOW, count), self.last_seq + 1 - nxt))
        step = HEADER_SIZE
        at, end, offset = first * step, count * step, (nxt - self._expect_from) * step
        heads, expect = self._heads, self._expect
        if heads[at:at + end] == expect[offset:offset + end]:
            return count
        for i in range(count):
            if heads[at + i * step:at + (i + 1) * step] != expect[offset + i * step:offset + (i + 1) * step]:
                return i
        return count

    def _expected_heads(self, first, count):
        """The headers of the fresh chunks first .. first+count-1, back to back."""
        raw = seq_bytes(first, count)
        heads = bytearray(HEADER.pack(DATA_TYPE, VERSION, 0, self.transfer, 0) * count)
        end, step = count * HEADER_SIZE, HEADER_SIZE
        heads[8:end:step] = raw[0::4]
        heads[9:end:step] = raw[1::4]
        heads[10:end:step] = raw[2::4]
        heads[11:end:step] = raw[3::4]
        return bytes(heads)

    @staticmethod
    def _rebuild(pieces, taken, count, segment):
        """The datagrams after the first *taken* (which were whole chunks), put back together from
        the *pieces* the kernel filled in order (*count* bytes in all), as separate memoryviews."""
        remaining = count - taken * (len(pieces[0]) + len(pieces[1])) if taken else count
        parts = []
        for piece in pieces[2 * taken:]:
            if remaining <= 0:
                break
            length = len(piece)
            parts.append(bytes(piece[:remaining]) if remaining < length else bytes(piece))
            remaining -= length
        stream = memoryview(b"".join(parts))
        return [stream[offset:offset + segment] for offset in range(0, len(stream), segment)]

    def _receive_wait(self):
        """How long the next receive may wait: RECEIVE_WAIT, or until the feedback gap has passed when
        the count's NACK is owed (held back by the gap).  A sender whose window is full sends nothing
        until that NACK comes, so no later datagram would ask for it again: without this the
        transfer stood still for RECEIVE_WAIT (measured through the netlab: three 21 ms stalls in
        the first 75 ms of a 200 ms transfer, while the start's window was small)."""
        if self._since_feedback < self._feedback_every:
            self._short_wait = False
            return RECEIVE_WAIT
        wait = min(RECEIVE_WAIT, max(MIN_RECEIVE_WAIT, self._last_feedback + self._feedback_gap - time.monotonic()))
        self._short_wait = wait < RECEIVE_WAIT   # its end is no sign of a quiet socket (``run``)
        return wait

    def _count_feedback(self):
        """The count's NACK (FEEDBACK_EVERY data datagrams since the last), unless one went out less
        than the feedback gap ago (then the next receive asks again)."""
        now = time.monotonic()
        if now - self._last_feedback >= self._feedback_gap:
            self._feedback(now, True)

    def _batch_once(self):
        """One receive of one or more datagrams: None on timeout, else whether they came from the session."""
        datagrams, source = self.receiver.recv_batch(self._into, self._receive_wait())
        if not datagrams:
            return None
        return self._take(datagrams, source)

    def _scatter_once(self):
        """One datagram received in place: its header into a small buffer, its
        data straight into the next slot of the store's run (the usual case:
        the next chunk, fresh and whole); anything else is put back together
        and handled as in ``_batch_once``."""
        nxt = self.highest + 1
        view, position, free = self.store.run_space(nxt) if nxt <= self.last_seq else (None, 0, 0)
        slot = view[position:position + self.chunk] if free else self._spare
        header, spill = self._header, self._spill
        count, source = self.receiver.recv_parts((header, slot, spill), self._receive_wait())
        if count < 0:
            return None
        chunk = self.chunk
        if free and count == chunk + HEADER_SIZE and source == self.session:
            head, seq = PREFIX_AND_SEQ.unpack_from(header)
            if head == self._prefix and seq == nxt:
                self._last_heard = time.monotonic()
                self.store.extend(1, chunk)
                self._took_run(nxt, 1)
                if self._since_feedback >= self._feedback_every:
                    self._count_feedback()
                return True
        datagram = bytes(header[:min(count, HEADER_SIZE)])
        if count > HEADER_SIZE:
            datagram += bytes(slot[:min(count - HEADER_SIZE, chunk)])
        if count > HEADER_SIZE + chunk:
            datagram += bytes(spill[:count - HEADER_SIZE - chunk])
        return self._take([memoryview(datagram)], source)

    def _take(self, datagrams, source):
        """Handle one batch from *source*; False if it was not from the session."""
        if source != self.session:
            self.ignored += len(datagrams)
            return False
        self._last_heard = time.monotonic()
        i, count = 0, len(datagrams)
        every = self._feedback_every
        while i < count:
            taken = self._take_run(datagrams, i)
            if self._since_feedback >= every:
                self._count_feedback()
            if taken > i:
                i = taken
                continue
            datagram = datagrams[i]
            i += 1
            if len(datagram) >= HEADER_SIZE and datagram[0] == DATA_TYPE:
                self._data(datagram)
            else:
                self._control(datagram)
            if self._since_feedback >= every:
                self._count_feedback()
        return True

    def _take_run(self, datagrams, i):
        """The fast path: datagrams[i:] that continue the sequence (fresh, full
        size, next seq) are copied into the store's run with no per-datagram
        bookkeeping; returns the index of the first one it did not take."""
        nxt = self.highest + 1
        # up to the count's next NACK (when it is not overdue: then the run goes on and the NACK follows it)
        due = self._feedback_every - self._since_feedback
        limit = min(len(datagrams), i + due if due > 0 else len(datagrams), i + self.last_seq + 1 - nxt)
        if limit <= i:
            return i
        view, position, free = self.store.run_space(nxt)
        limit = min(limit, i + free)
        chunk = self.chunk
        full = chunk + HEADER_SIZE
        prefix = self._prefix
        unpack = PREFIX_AND_SEQ.unpack_from
        start, first = i, nxt
        while i < limit:
            datagram = datagrams[i]
            if len(datagram) != full:
                break
            head, seq = unpack(datagram)
            if head != prefix or seq != nxt:
                break
            view[position:position + chunk] = datagram[HEADER_SIZE:]
            position += chunk
            nxt += 1
            i += 1
        taken = i - start
        if taken:
            self.store.extend(taken, taken * chunk)
            self._took_run(first, taken)
        return i

    def _took_run(self, first, taken):
        """Bookkeeping for *taken* fresh whole chunks from *first* on, stored in sequence."""
        self.ranges.add_run(first, taken)
        self.datagrams += taken
        self._since_feedback += taken
        self.bytes += taken * self.chunk
        self.highest = first + taken - 1
        self.last_rx = time.perf_counter()
        if self.first_rx is None:
            self.first_rx = self.last_rx
            self.start_clock()

    def _data(self, datagram):
        """One data datagram: check it, count it, store it."""
        _, version, flags, tid, seq = self._unpack(datagram)
        length = len(datagram) - HEADER_SIZE
        if version != VERSION or tid != self.transfer or seq > self.last_seq or \
                length != (self.chunk if seq != self.last_seq else self.last_len):
            self.ignored += 1
            return
        self.datagrams += 1
        self._since_feedback += 1
        self.last_rx = time.perf_counter()
        if self.first_rx is None:
            self.first_rx = self.last_rx
            self.start_clock()
        if flags & FLAG_RESENT:
            self.resent += 1
        if not self.ranges.add(seq):
            self.duplicates += 1
            return
        self.bytes += length
        highest = self.highest
        if seq < highest:
            self.out_of_order += 1
        else:
            if seq > highest + 1:
                self._new_lost += seq - highest - 1
                self.gaps += seq - highest - 1
                if self.first_gap is None:
                    self.first_gap = highest + 1
            self.highest = seq
        self.store.put(seq, datagram[HEADER_SIZE:])

    def _control(self, datagram):
        """A control datagram from the session: END (and ERROR) matter during the data."""
        try:
            message = decode_control(datagram) if len(datagram) else None
        except ProtocolError:
            message = None
        if isinstance(message, End):
            self.end_seen = True
            self.end_count += 1
            self._end_round = True     # reliable: the server has nothing queued: ask for all that is missing
            self._last_full = 0.0
            self._next_check = 0.0
        elif isinstance(message, ErrorMessage):
            raise TransferFailed(N_("server error after {:,} bytes: {}").format(self.bytes, printable(message.reason)))
        elif message is None:
            self.ignored += 1

    # -- timers: feedback and status -------------------------------------------------------------
    def _housekeeping(self, now):
        since = now - self._last_feedback
        due = self._since_feedback and (since >= FEEDBACK_PERIOD or (
            self._since_feedback >= self._feedback_every and since >= self._feedback_gap))
        if due or (self.reliable and now >= self._next_check):
            self._feedback(now, due)
        if now - self._last_status >= STATUS_EVERY:
            self._last_status = now
            self.on_status(self.bytes)

    def _feedback(self, now, due):
        """A NACK when *due* (progress for the server's rate); reliable: also
        whenever something is missing that was not asked for yet."""
        low = high = None
        if self.reliable:
            self._next_check = now + RECEIVE_WAIT
            quiet = self.last_rx is None or time.perf_counter() - self.last_rx >= QUIET_NACK
            if (self._end_round or (quiet and self.first_rx is not None)) and now - self._last_full >= QUIET_NACK:
                # a full round: after END everything missing; when merely quiet, only below the highest
                # chunk seen (what lies above may still be on its way)
                self._last_full = now
                self.nack_rounds += 1
                low, high = 0, self.chunks if self._end_round or self.end_seen else self.highest + 1
                self._end_round = False
                self._gap_from = self.highest + 1
            elif self.highest >= self._gap_from:
                low, high = self._gap_from, self.highest + 1
                self._gap_from = self.highest + 1
        if low is None and not due:
            return
        missing = self.ranges.missing(low, high) if low is not None else iter(())
        self.send_nack(missing, self._new_lost, self.progress())
        self._new_lost = 0
        self._since_feedback = 0
        self._last_feedback = now
        self.feedbacks += 1

    def progress(self):
        """The NACK's cumulative fields: received, bytes, elapsed_us, highest."""
        elapsed = 0 if self.first_rx is None else int((time.perf_counter() - self.first_rx) * 1e6)
        return {"received": self.datagrams, "bytes": self.bytes, "elapsed_us": elapsed,
                "highest": max(self.highest, 0)}
