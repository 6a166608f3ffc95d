"""What the UDP server sends next, what a NACK means, and when all is done.

No sockets and no clock of its own (every call takes *now*), so it is tested
without a network.  ``Recovery`` hands out sequence numbers: chunks the
client reported missing first (resends), then new chunks in order.  Missing
chunks are kept as ranges (``IntervalSet``), never one entry per chunk, so
a NACK costs in proportion to the NEW work it brings: a NACK that repeats
``0-4294967295`` many times is clamped to what was sent, and once that is
queued, every repeat is a lookup (PROTOCOL.md, "Reliable mode").

A chunk resent less than ``holdoff`` seconds ago is not queued again: the
client could not have seen the resend yet, so its NACK is old news.
"""

import bisect
import collections

DEFAULT_HOLDOFF = 0.08   # seconds: a resent chunk is not resent again for a NACK arriving sooner than this


class IntervalSet:
    """A set of non-negative integers kept as sorted, disjoint, non-adjacent
    inclusive ranges.  Costs: ``add``/``remove`` O(log n + ranges merged)."""

    def __init__(self):
        self.starts = []
        self.ends = []
        self.total = 0

    def __len__(self):
        return self.total

    def __bool__(self):
        return self.total > 0

    def __contains__(self, value):
        i = bisect.bisect_right(self.starts, value) - 1
        return i >= 0 and self.ends[i] >= value

    def ranges(self):
        """The ranges, as a list of inclusive (low, high) pairs."""
        return list(zip(self.starts, self.ends))

    def add(self, low, high):
        """Add [low, high]; returns how many values were not in the set before."""
        if low > high:
            return 0
        starts, ends = self.starts, self.ends
        i = bisect.bisect_left(ends, low - 1)       # first range that ends at or after low - 1 (touching)
        j = bisect.bisect_right(starts, high + 1)   # ranges [i, j) touch or overlap [low, high]
        if i >= j:
            starts.insert(i, low)
            ends.insert(i, high)
            self.total += high - low + 1
            return high - low + 1
        covered = 0
        for k in range(i, j):
            overlap = min(ends[k], high) - max(starts[k], low) + 1
            if overlap > 0:
                covered += overlap
        new_low, new_high = min(low, starts[i]), max(high, ends[j - 1])
        old = sum(ends[k] - starts[k] + 1 for k in range(i, j))
        starts[i:j] = [new_low]
        ends[i:j] = [new_high]
        self.total += (new_high - new_low + 1) - old
        return high - low + 1 - covered

    def remove(self, low, high):
        """Remove [low, high]; returns how many values were removed."""
        if low > high or not self.starts:
            return 0
        starts, ends = self.starts, self.ends
        i = bisect.bisect_left(ends, low)           # first range that ends at or after low
        j = bisect.bisect_right(starts, high)       # ranges [i, j) overlap [low, high]
        if i >= j:
            return 0
        keep_s, keep_e = [], []
        removed = 0
        for k in range(i, j):
            s, e = starts[k], ends[k]
            removed += min(e, high) - max(s, low) + 1
            if s < low:
                keep_s.append(s)
                keep_e.append(low - 1)
            if e > high:
                keep_s.append(high + 1)
                keep_e.append(e)
        starts[i:j] = keep_s
        ends[i:j] = keep_e
        self.total -= removed
        return removed

    def missing(self, low, high):
        """The parts of [low, high] NOT in the set, as (low, high) pairs
        (costs O(log n + ranges inside [low, high]))."""
        if low > high:
            return []
        starts, ends = self.starts, self.ends
        i = bisect.bisect_left(ends, low)
        pieces = []
        at = low
        while i < len(starts) and starts[i] <= high:
            if starts[i] > at:
                pieces.append((at, starts[i] - 1))
            at = max(at, ends[i] + 1)
            i += 1
        if at <= high:
            pieces.append((at, high))
        return pieces

    def pop_front(self, count):
        """Remove and return up to *count* of the smallest values (a list)."""
        taken = []
        starts, ends = self.starts, self.ends
        while starts and len(taken) < count:
            s, e = starts[0], ends[0]
            n = min(count - len(taken), e - s + 1)
            taken.extend(range(s, s + n))
            if s + n > e:
                del starts[0]
                del ends[0]
            else:
                starts[0] = s + n
            self.total -= n
        return taken


class Recovery:
    """Which chunks go next and what the client still misses, for *chunks*
    chunks.  *resend*: False in raw mode (NACK ranges are ignored)."""

    def __init__(self, chunks, resend=True, holdoff=DEFAULT_HOLDOFF):
        self.chunks = chunks
        self.resend = resend
        self.holdoff = holdoff
        self.next_new = 0              # the first chunk never sent
        self.pending = IntervalSet()   # reported missing, waiting to be resent
        self.reported = IntervalSet()  # ever reported missing (for the loss before recovery)
        self._recent = IntervalSet()   # resent within the last holdoff seconds
        self._recent_log = collections.deque()   # (time, low, high) of those resends, oldest first
        self.first_reports = 0         # chunks reported missing for the first time (the loss before recovery)
        self.nack_ranges = 0           # ranges read from NACKs (after clamping)
        self.resent = 0                # chunks handed out again
        self.sent_new = 0              # chunks handed out for the first time

    def done(self):
        """Every chunk was sent once and nothing waits to be resent."""
        return self.next_new >= self.chunks and not self.pending

    def has_work(self):
        """Something to send now (a resend or a new chunk)."""
        return bool(self.pending) or self.next_new < self.chunks

    def take(self, count, now):
        """Up to *count* sequence numbers to send next, as (seqs, resent):
        resends first (all of one kind per call), then new chunks in order."""
        if count <= 0:
            return [], False
        if self.pending:
            seqs = self.pending.pop_front(count)
            self._note_resent(seqs, now)
            self.resent += len(seqs)
            return seqs, True
        first = self.next_new
        last = min(self.chunks, first + count)
        self.next_new = last
        self.sent_new += last - first
        return list(range(first, last)), False

    def _note_resent(self, seqs, now):
        self._expire(now)
        low = prev = None
        for seq in seqs:
            if low is None:
                low = prev = seq
            elif seq == prev + 1:
                prev = seq
            else:
                self._recent.add(low, prev)
                self._recent_log.append((now, low, prev))
                low = prev = seq
        if low is not None:
            self._recent.add(low, prev)
            self._recent_log.append((now, low, prev))

    def _expire(self, now):
        log = self._recent_log
        while log and now - log[0][0] >= self.holdoff:
            _, low, high = log.popleft()
            self._recent.remove(low, high)

    def on_nack(self, ranges, now):
        """The client reports *ranges* (inclusive (low, high) pairs) missing;
        returns how many chunks were newly queued.  Ranges are clamped to
        what was sent; chunks already queued or just resent cost nothing."""
        if not self.resend or self.next_new == 0:
            return 0
        self._expire(now)
        limit = self.next_new - 1
        queued = 0
        for low, high in ranges:
            if high > limit:
                high = limit
            if low > high:
                continue
            self.nack_ranges += 1
            self.first_reports += self.reported.add(low, high)
            if self._recent:
                pieces = self._recent.missing(low, high)
            else:
                pieces = ((low, high),)
            for a, b in pieces:
                queued += self.pending.add(a, b)
        return queued
