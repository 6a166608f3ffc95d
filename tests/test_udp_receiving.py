"""udp/receiving.py without sockets: ChunkRanges (missing chunks as ranges),
ChunkStore (batched writes, both hashing modes), and Reception driven by a
scripted receiver: the file comes out right whatever the order, the feedback
NACK carries the agreed fields at least every 32 data datagrams in both modes,
and a FILE of 1-byte chunks costs no memory sized from the chunk count.

Run: python3 -m unittest tests.test_udp_receiving -v
"""

import hashlib
import os
import random
import shutil
import socket
import sys
import tempfile
import time
import tracemalloc
import unittest
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from transfer.errors import TransferFailed  # noqa: E402
from transfer.incoming import IncomingFile  # noqa: E402
from udp.packets import End, ErrorMessage, Nack, decode_control, pack_data  # noqa: E402
from udp.receiving import FEEDBACK_EVERY, RECEIVE_WAIT, SCATTER_MIN, ChunkRanges, ChunkStore, Reception  # noqa: E402
from udp.transport import DatagramReceiver  # noqa: E402

SESSION = ("127.0.0.1", 40000)
TRANSFER = 77


class ScriptedReceiver:
    """Hands out prepared batches of datagrams (then timeouts), like DatagramReceiver."""

    io_path = "plain"

    def __init__(self, batches, source=SESSION):
        self.batches = list(batches)
        self.source = source
        self.calls = self.datagrams = self.truncated = 0

    def _next_batch(self):
        """The next scripted (datagrams, source), counted; raises a scripted exception."""
        batch = self.batches.pop(0)
        if isinstance(batch, Exception):
            raise batch
        source = self.source
        if isinstance(batch, tuple):
            batch, source = batch
        self.calls += 1
        self.datagrams += len(batch)
        return batch, source

    def recv_batch(self, into, timeout):
        if not self.batches:
            return [], None
        batch, source = self._next_batch()
        return [memoryview(d) for d in batch], source


class ScriptedGroReceiver(ScriptedReceiver):
    """Like the kernel with UDP_GRO: each batch (same-size datagrams, the last may be shorter) comes
    back from one ``recv_scattered`` as one byte stream spread over the caller's buffers in order."""

    io_path = "gro"

    def recv_scattered(self, buffers, timeout):
        if not self.batches:
            return -1, 0, None
        batch, source = self._next_batch()
        stream = b"".join(bytes(d) for d in batch)
        if len(stream) > sum(len(b) for b in buffers):
            self.truncated += 1
            return -1, 0, None
        at = 0
        for buffer in buffers:
            piece = stream[at:at + len(buffer)]
            buffer[:len(piece)] = piece
            at += len(piece)
        return len(stream), (len(batch[0]) if len(batch) > 1 else 0), source


def split(items, size):
    return [items[i:i + size] for i in range(0, len(items), size)]


class ChunkRangesCase(unittest.TestCase):

    def test_any_order_duplicates_and_missing(self):
        ranges = ChunkRanges(20)
        order = list(range(20))
        random.Random(4).shuffle(order)
        kept = set(order[:13])
        for seq in order[:13]:
            self.assertTrue(ranges.add(seq))
            self.assertFalse(ranges.add(seq))
        self.assertEqual(ranges.count, 13)
        self.assertEqual(ranges.missing_count, 7)
        missing = {seq for a, b in ranges.missing() for seq in range(a, b + 1)}
        self.assertEqual(missing, set(range(20)) - kept)
        for seq in range(20):
            self.assertEqual(seq in ranges, seq in kept)
        low_part = {seq for a, b in ranges.missing(5, 12) for seq in range(a, b + 1)}
        self.assertEqual(low_part, {s for s in set(range(5, 12)) - kept})
        for seq in range(20):
            ranges.add(seq)
        self.assertEqual((ranges.ranges_count(), list(ranges.missing()), ranges.missing_text()), (1, [], ""))

    def test_text_and_size_follow_the_gaps_not_the_total(self):
        ranges = ChunkRanges(2 ** 32)
        for seq in (0, 1, 2, 10, 11, 5):
            ranges.add(seq)
        self.assertEqual(list(ranges.missing(0, 13)), [(3, 4), (6, 9), (12, 12)])
        self.assertEqual(ranges.missing_text(), "3-4_6-9_12-4294967295")
        self.assertEqual(ranges.ranges_count(), 3)
        many = ChunkRanges(10 ** 6)
        for seq in range(0, 10 ** 6, 2):
            many.add(seq)
        text = many.missing_text(limit=100)
        self.assertTrue(text.endswith("...") and 90 < len(text) <= 103, text)


class Harness(unittest.TestCase):

    def socket_pair(self, receive_buffer):
        """(receiver bound on loopback with *receive_buffer*, sender connected to it), closed at cleanup."""
        rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(rx.close)
        rx.bind(("127.0.0.1", 0))
        rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(tx.close)
        tx.connect(rx.getsockname())
        return rx, tx

    def setUp(self):
        self.root = Path(tempfile.mkdtemp(prefix="udp-receiving-"))
        self.addCleanup(shutil.rmtree, str(self.root), True)
        self.nacks = []

    def receive(self, data, chunk, batches, reliable=False, threaded=False, slots=4, idle=0.3, worker=False,
                receiver=ScriptedReceiver, **kw):
        """Run a Reception over *batches* (then close the store); returns (reception, incoming)."""
        incoming = IncomingFile(self.root / "out.txt", len(data), hashlib.sha256(data).hexdigest(),
                                threaded=threaded)
        self.addCleanup(incoming.discard)
        store = ChunkStore(incoming, chunk, slots, 3 if threaded or worker else 2, 5.0, worker=worker)
        self.addCleanup(store.abandon)
        offer = SimpleNamespace(size=len(data), chunk=chunk, transfer=TRANSFER)

        def send_nack(missing, lost, progress):
            self.nacks.append((list(missing), lost, dict(progress)))
        reception = Reception(receiver(batches), SESSION, offer, store, reliable, idle, send_nack,
                              lambda got: None, lambda: None, **kw)
        reception.run()
        store.close()
        return reception, incoming

    @staticmethod
    def chunks_of(data, chunk, transfer=TRANSFER):
        return [pack_data(transfer, seq, data[seq * chunk:(seq + 1) * chunk])
                for seq in range((len(data) + chunk - 1) // chunk)]


class StoreAndReception(Harness):

    DATA = bytes(random.Random(1).getrandbits(8) for _ in range(10000)) + b"tail"

    def check_file(self, reception, incoming):
        self.assertEqual(reception.ranges.missing_count, 0)
        self.assertEqual(reception.bytes, len(self.DATA))
        incoming.finish()
        self.assertEqual(Path(incoming.final_path).read_bytes(), self.DATA)

    def test_in_order_gro_batches_one_two_and_three_threads(self):
        for worker, threaded in ((False, False), (True, False), (True, True), (False, True)):
            datagrams = self.chunks_of(self.DATA, 300)
            reception, incoming = self.receive(self.DATA, 300, split(datagrams, 7), threaded=threaded,
                                               worker=worker)
            self.check_file(reception, incoming)
            self.assertEqual((reception.duplicates, reception.out_of_order, reception.gaps), (0, 0, 0))
            (self.root / "out.txt").unlink()

    def test_shuffled_duplicated_and_a_short_last_chunk(self):
        datagrams = self.chunks_of(self.DATA, 300)
        self.assertEqual(len(datagrams[-1]), 12 + len(self.DATA) % 300)
        mixed = datagrams + datagrams[3:9]
        random.Random(8).shuffle(mixed)
        reception, incoming = self.receive(self.DATA, 300, split(mixed, 5), threaded=True, worker=True)
        self.check_file(reception, incoming)
        self.assertEqual(reception.duplicates, 6)
        self.assertGreater(reception.out_of_order, 0)

    def test_bad_and_foreign_datagrams_are_ignored(self):
        datagrams = self.chunks_of(self.DATA, 300)
        bad = [pack_data(TRANSFER + 1, 0, self.DATA[:300]),        # another transfer
               pack_data(TRANSFER, 0, self.DATA[:299]),            # wrong length
               pack_data(TRANSFER, 10 ** 6, b"x" * 300),           # beyond the last chunk
               b"\xd1\x02" + datagrams[1][2:],                     # unknown version
               b"NOT A MESSAGE\n"]
        batches = [(datagrams[:3], ("127.0.0.1", 1))] + [bad] + split(datagrams, 9)
        reception, incoming = self.receive(self.DATA, 300, batches)
        self.check_file(reception, incoming)
        self.assertEqual(reception.ignored, 3 + len(bad))

    def test_raw_end_stops_with_chunks_missing(self):
        datagrams = self.chunks_of(self.DATA, 300)
        kept = datagrams[:10] + datagrams[12:20]
        reception, incoming = self.receive(self.DATA, 300, split(kept, 4) + [[End(
            transfer=TRANSFER, chunks=len(datagrams), bytes=len(self.DATA)).encode()]])
        self.assertTrue(reception.end_seen)
        self.assertFalse(reception.silent)
        self.assertEqual(reception.ranges.missing_text(), "10-11_20-{}".format(len(datagrams) - 1))
        self.assertEqual(reception.bytes, 18 * 300)

    def test_silence_ends_it(self):
        datagrams = self.chunks_of(self.DATA, 300)
        reception, _ = self.receive(self.DATA, 300, split(datagrams[:5], 5), idle=0.05)
        self.assertTrue(reception.silent)
        self.assertEqual(reception.datagrams, 5)

    def test_server_error_and_an_exception_keep_the_counts(self):
        datagrams = self.chunks_of(self.DATA, 300)
        with self.assertRaises(TransferFailed):
            self.receive(self.DATA, 300, [datagrams[:4], [ErrorMessage(reason="gone").encode()]])
        with self.assertRaises(OSError):
            self.receive(self.DATA, 300, [datagrams[:6], OSError(9, "Bad file descriptor")])

    def test_the_datagram_before_start(self):
        datagrams = self.chunks_of(self.DATA, 300)
        reception, incoming = self.receive(self.DATA, 300, split(datagrams[1:], 8),
                                           first=(datagrams[0], SESSION))
        self.check_file(reception, incoming)


class GroInPlace(StoreAndReception):
    """The GRO path (``Reception._gro_once``): each batch scattered by the (scripted) kernel, headers
    apart and data straight into the run; anything unusual put back together and handled one by one."""

    def gro(self, batches, **kw):
        kw.setdefault("slots", 16)
        return self.receive(self.DATA, 300, batches, receiver=ScriptedGroReceiver, **kw)

    def test_in_order_batches_go_in_place(self):
        for worker, threaded in ((False, False), (True, False), (True, True)):
            datagrams = self.chunks_of(self.DATA, 300)
            reception, incoming = self.gro(split(datagrams, 7), worker=worker, threaded=threaded)
            self.check_file(reception, incoming)
            # 34 chunks in batches of 7, runs of 16 slots: a batch that would not fit the rest of a run
            # starts the next one; the last (short) chunk is the only one put back together
            self.assertEqual(reception.gro_slow, 1)
            self.assertEqual(reception.gro_fast, 4)
            self.assertEqual((reception.duplicates, reception.out_of_order, reception.gaps), (0, 0, 0))
            (self.root / "out.txt").unlink()

    def test_gaps_resends_duplicates_and_reordering(self):
        datagrams = self.chunks_of(self.DATA, 300)
        resent = [pack_data(TRANSFER, seq, self.DATA[seq * 300:(seq + 1) * 300], resent=True) for seq in (5, 6)]
        batches = [datagrams[0:5], datagrams[7:12], resent, datagrams[12:20] + datagrams[18:19],
                   datagrams[21:27], datagrams[20:21], datagrams[27:]]
        reception, incoming = self.gro(batches, reliable=True)
        self.check_file(reception, incoming)
        self.assertEqual(reception.resent, 2)
        self.assertEqual(reception.duplicates, 1)
        self.assertGreater(reception.gro_slow, 0)
        self.assertGreater(reception.gro_fast, 0)

    def test_headers_compared_across_the_expected_window(self):
        # the expected headers are made EXPECT_WINDOW chunks at a time: with a window of 5, every batch
        # of 7 crosses one, and a forged seq in the middle of a batch is still caught there
        datagrams = self.chunks_of(self.DATA, 300)
        forged = pack_data(TRANSFER, 30, self.DATA[9 * 300:10 * 300])    # seq 30 with chunk 9's place
        with mock.patch("udp.receiving.EXPECT_WINDOW", 5):
            reception, incoming = self.gro(split(datagrams, 7))
            self.check_file(reception, incoming)
            self.assertEqual((reception.gro_slow, reception.gro_fast), (1, 4))
            (self.root / "out.txt").unlink()
            batches = [datagrams[0:9] + [forged] + datagrams[10:14], datagrams[9:10], datagrams[14:30],
                       datagrams[30:]]
            reception, incoming = self.gro(batches, reliable=True)
        self.check_file(reception, incoming)
        self.assertEqual(reception.ranges.missing_count, 0)
        self.assertGreater(reception.gro_slow, 0)

    def test_strangers_bad_datagrams_and_end_glued_to_the_data(self):
        datagrams = self.chunks_of(self.DATA, 300)
        end = End(transfer=TRANSFER, chunks=len(datagrams), bytes=len(self.DATA)).encode()
        wrong = [pack_data(TRANSFER + 1, seq, self.DATA[seq * 300:(seq + 1) * 300]) for seq in range(4, 8)]
        batches = [(datagrams[0:4], ("127.0.0.1", 1)), datagrams[0:4], wrong, datagrams[4:20],
                   datagrams[20:30] + [end]]
        reception, incoming = self.gro(batches, idle=0.05)
        self.assertEqual(reception.ignored, 4 + 4)
        self.assertTrue(reception.end_seen)
        self.assertEqual(reception.ranges.missing_text(), "30-{}".format(len(datagrams) - 1))
        self.assertEqual(reception.bytes, 30 * 300)

    def test_a_real_gro_socket(self):
        # GSO sender -> UDP_GRO receiver on loopback: the kernel itself glues and scatters
        from udp.transport import DatagramSender
        rx, tx = self.socket_pair(4 * 1024 * 1024)
        receiver = DatagramReceiver(rx)
        sender = DatagramSender(tx, 312)
        if receiver.io_path != "gro" or sender.io_path != "gso":
            self.skipTest("no UDP GSO/GRO here")
        datagrams = self.chunks_of(self.DATA, 300)
        for first in range(0, len(datagrams), 10):
            part = datagrams[first:first + 10]
            sender.send([d[:12] for d in part], [d[12:] for d in part])
        incoming = IncomingFile(self.root / "out.txt", len(self.DATA), hashlib.sha256(self.DATA).hexdigest())
        self.addCleanup(incoming.discard)
        store = ChunkStore(incoming, 300, 16, 2, 5.0)
        offer = SimpleNamespace(size=len(self.DATA), chunk=300, transfer=TRANSFER)
        reception = Reception(receiver, tx.getsockname(), offer, store, False, 2.0,
                              lambda *a: None, lambda got: None, lambda: None)
        reception.run()
        store.close()
        self.check_file(reception, incoming)
        self.assertGreater(reception.gro_fast, 0)
        self.assertLess(receiver.calls, len(datagrams))


class Feedback(Harness):

    DATA = bytes(range(256)) * 400   # 102,400 bytes: 1,024 chunks of 100

    def nack_fields(self):
        for missing, lost, progress in self.nacks:
            line = Nack(transfer=TRANSFER, lost=lost, ranges="", **progress).encode()
            message = decode_control(line)
            self.assertEqual(set(progress), {"received", "bytes", "elapsed_us", "highest"})
            self.assertIsNotNone(message.elapsed_us)
        return [progress["received"] for _, _, progress in self.nacks]

    def test_raw_feedback_every_32_datagrams_without_ranges(self):
        datagrams = self.chunks_of(self.DATA, 100)
        del datagrams[100:110]      # a gap: raw never asks for it, but counts it as lost
        reception, _ = self.receive(self.DATA, 100, split(datagrams, 44), idle=0.05, feedback_gap=0)
        received = self.nack_fields()
        self.assertTrue(self.nacks)
        self.assertTrue(all(missing == [] for missing, _, _ in self.nacks))
        steps = [b - a for a, b in zip([0] + received, received)]
        self.assertLessEqual(max(steps), FEEDBACK_EVERY)
        self.assertEqual(received[-1], len(datagrams))
        self.assertEqual(sum(lost for _, lost, _ in self.nacks), 10)
        last = self.nacks[-1][2]
        self.assertEqual((last["bytes"], last["highest"]), (len(datagrams) * 100, 1023))

    def test_reliable_asks_for_the_gaps(self):
        datagrams = self.chunks_of(self.DATA, 100)
        kept = datagrams[:100] + datagrams[110:]
        self.receive(self.DATA, 100, split(kept, 44), reliable=True, idle=0.4, feedback_gap=0)
        asked = {seq for missing, _, _ in self.nacks for a, b in missing for seq in range(a, b + 1)}
        self.assertEqual(asked, set(range(100, 110)))
        received = self.nack_fields()
        self.assertLessEqual(max(b - a for a, b in zip([0] + received, received)), FEEDBACK_EVERY)


    def test_the_count_asks_at_most_once_per_feedback_gap(self):
        # 1,024 datagrams at once: with no gap a NACK every 32; with a gap longer than the run, the count
        # asks only once (then the gap holds it back), the rest comes from the timers and the end
        datagrams = self.chunks_of(self.DATA, 100)
        self.receive(self.DATA, 100, split(datagrams, 44), idle=0.05, feedback_gap=0)
        self.assertGreaterEqual(len(self.nacks), len(datagrams) // 32)
        self.nacks = []
        reception, _ = self.receive(self.DATA, 100, split(datagrams, 44), idle=0.05, feedback_gap=600)
        self.assertEqual(reception.ranges.missing_count, 0)
        self.assertLess(len(self.nacks), 5)


    def test_a_held_back_nack_goes_once_the_gap_has_passed_with_no_more_data(self):
        # the count's NACK is owed but the gap holds it back, and no datagram follows (a sender with a
        # full window waits for that very NACK): the receive waits only until the gap has passed, and
        # the NACK then goes without another datagram (it used to wait RECEIVE_WAIT, 20 ms, each time)
        datagrams = self.chunks_of(self.DATA, 100)
        waits = []

        class Waiting(ScriptedReceiver):
            def recv_batch(self, into, timeout):
                if self.batches and self.batches[0] is None:   # the sender waits: nothing comes in time
                    self.batches.pop(0)
                    waits.append((len(outer.nacks), timeout))
                    time.sleep(min(timeout, 0.05))
                    return [], None
                return ScriptedReceiver.recv_batch(self, into, timeout)
        outer = self
        gap = 0.005
        batches = [datagrams[:32], datagrams[32:64], None, None, datagrams[64:]]
        reception, _ = self.receive(self.DATA, 100, batches, idle=0.5, feedback_gap=gap, receiver=Waiting)
        self.assertEqual(reception.ranges.missing_count, 0)
        received = self.nack_fields()
        self.assertEqual(received[:2], [32, 64])         # the second NACK, with no datagram after it ...
        self.assertEqual(waits[-1][0], 2)                # ... sent after the first wait at the latest
        for nacks_before, timeout in waits:
            if nacks_before < 2:
                self.assertLessEqual(timeout, gap)       # while it was owed, no wait was longer than the gap

    def test_a_wait_for_the_gap_does_not_write_the_run_early(self):
        # a receive that waited only for the feedback gap says nothing about a quiet socket: the run
        # (100 slots here) is not written early, as it is after a real quiet wait (RECEIVE_WAIT)
        datagrams = self.chunks_of(self.DATA, 100)
        waits = []

        class Waiting(ScriptedReceiver):
            def recv_batch(self, into, timeout):
                if self.batches and self.batches[0] is None:
                    self.batches.pop(0)
                    waits.append(timeout)
                    time.sleep(min(timeout, 0.05))
                    return [], None
                return ScriptedReceiver.recv_batch(self, into, timeout)
        batches = [datagrams[:32], datagrams[32:64], None, datagrams[64:]]
        with mock.patch.object(IncomingFile, "write_at", autospec=True, side_effect=IncomingFile.write_at) as write_at:
            reception, _ = self.receive(self.DATA, 100, batches, idle=0.5, feedback_gap=0.015, receiver=Waiting,
                                        slots=100)
        self.assertEqual(reception.ranges.missing_count, 0)
        first_offset, first_piece = write_at.call_args_list[0][0][1:3]
        if waits[0] < RECEIVE_WAIT:   # the NACK was owed (always, unless the machine stalled 15 ms between two batches)
            self.assertEqual((first_offset, len(first_piece)), (0, 100 * 100))
        else:
            self.assertEqual((first_offset, len(first_piece)), (0, 64 * 100))

class InPlace(Harness):
    """Big datagrams on a real socket: the plain receiver puts each chunk's data straight into the run."""

    def test_scatter_path_in_order_out_of_order_duplicates_and_junk(self):
        chunk = SCATTER_MIN + 100
        data = bytes(random.Random(3).getrandbits(8) for _ in range(chunk * 6 + 77))
        datagrams = self.chunks_of(data, chunk)
        rx, tx = self.socket_pair(2 * 1024 * 1024)
        junk = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(junk.close)
        receiver = DatagramReceiver(rx, gro=False)
        if not receiver.can_scatter:
            self.skipTest("no recvmsg_into here")
        order = [0, 1, 3, 2, 2, 4, 5, 6]
        for seq in order[:4]:
            tx.send(datagrams[seq])
        junk.sendto(datagrams[4], rx.getsockname())                 # right header, wrong source
        tx.send(datagrams[4][:-1])                                   # one byte short
        tx.send(b"\xd1" + bytes(chunk * 2))                          # longer than any chunk
        for seq in order[4:]:
            tx.send(datagrams[seq])
        incoming = IncomingFile(self.root / "out.txt", len(data), hashlib.sha256(data).hexdigest(), threaded=False)
        self.addCleanup(incoming.discard)
        store = ChunkStore(incoming, chunk, 3, 2, 5.0, worker=True)
        self.addCleanup(store.abandon)
        reception = Reception(receiver, tx.getsockname(), SimpleNamespace(size=len(data), chunk=chunk,
                                                                          transfer=TRANSFER),
                              store, False, 1.0, lambda *a: None, lambda got: None, lambda: None)
        self.assertTrue(reception._use_scatter())
        reception.run()
        store.close()
        self.assertEqual(reception.ranges.missing_count, 0)
        self.assertEqual((reception.duplicates, reception.out_of_order, reception.ignored), (1, 1, 3))
        incoming.finish()
        self.assertEqual(Path(incoming.final_path).read_bytes(), data)


class BufferReuse(unittest.TestCase):

    def test_the_buffer_freed_last_is_taken_first(self):
        # writes that finish at once free each run's buffer before the next is needed: the store keeps
        # using that one (still in the CPU's cache) instead of cycling through all of its buffers
        written = []

        class Sink:
            def write_at(self, offset, piece, on_done=None):
                written.append((offset, bytes(piece), piece.obj))
                on_done(piece)

        store = ChunkStore(Sink(), 4, 2, 4, 5.0)
        for seq in range(12):
            store.put(seq, bytes([seq]) * 4)
        store.close()
        self.assertEqual([(offset, data) for offset, data, _ in written],
                         [(8 * i, bytes([2 * i]) * 4 + bytes([2 * i + 1]) * 4) for i in range(6)])
        self.assertEqual(len({id(buffer) for _, _, buffer in written}), 1)


class BoundedMemory(Harness):

    def test_a_file_of_one_byte_chunks_costs_no_memory_per_chunk(self):
        # issue 8 section 3: FILE announcing 64 MiB in 1-byte chunks (2**26 chunks, udp/validation's bound)
        size = 2 ** 26
        incoming = IncomingFile(self.root / "big.txt", size, "0" * 64, threaded=False)
        self.addCleanup(incoming.discard)
        tracemalloc.start()
        try:
            store = ChunkStore(incoming, 1, min(1024 * 1024, size), 2, 5.0)
            offer = SimpleNamespace(size=size, chunk=1, transfer=TRANSFER)
            sent = []
            datagrams = [pack_data(TRANSFER, seq, b"x") for seq in (0, 1, 2, 5, 9, 1000, 10 ** 7)]
            reception = Reception(ScriptedReceiver([datagrams]), SESSION, offer, store, True, 0.05,
                                  lambda missing, lost, progress: sent.append(list(missing)[:10000]),
                                  lambda got: None, lambda: None)
            reception.run()
            text = reception.ranges.missing_text()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        self.assertLess(peak, 16 * 1024 * 1024)   # 2 batch buffers of 1 MiB and small change, not 2**26 of anything
        self.assertEqual(reception.ranges.missing_count, size - 7)
        self.assertTrue(text.startswith("3-4_6-8_10-999_1001-9999999_10000001-"))


    def test_scatter_pieces_are_made_once_per_buffer_and_never_per_tiny_chunk(self):
        # the GRO path scatters each receive into [header, slot, header, slot, ...]: a buffer of 1,460-byte
        # chunks keeps that list (made once, header i beside slot i); 1-byte chunks (a million slots per
        # buffer) get theirs per receive, beside the first headers
        incoming = IncomingFile(self.root / "views.txt", 10 * 1460, "0" * 64, threaded=False)
        self.addCleanup(incoming.discard)
        store = ChunkStore(incoming, 1460, 8, 2, 5.0)
        heads = [memoryview(bytearray(12)) for _ in range(8)]
        self.assertEqual(store.run_space(0, 3)[2], 8)
        first, at = store.scatter_pieces(3, heads)
        self.assertEqual(at, 0)
        self.assertEqual([len(v) for v in first], [12, 1460] * 3)
        self.assertIs(first[2], heads[1])
        first[3][:] = b"x" * 1460                                      # the second slot of the buffer ...
        self.assertEqual(bytes(store._buffer.view[1460:2920]), b"x" * 1460)
        store.extend(2, 2 * 1460)
        later, at = store.scatter_pieces(2, heads)
        self.assertEqual(at, 2)                                       # header 2 goes with slot 2
        self.assertIs(later[0], heads[2])
        self.assertIs(later[1], first[5])                             # ... the same views, not new ones
        tiny = IncomingFile(self.root / "tiny.txt", 2 ** 20, "0" * 64, threaded=False)
        self.addCleanup(tiny.discard)
        small_heads = [memoryview(bytearray(12)) for _ in range(64)]
        tracemalloc.start()
        try:
            small = ChunkStore(tiny, 1, 2 ** 20, 2, 5.0)
            small.run_space(0, 64)
            small.extend(5, 5)
            views, at = small.scatter_pieces(64, small_heads)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        self.assertEqual((len(views), at), (128, 0))
        self.assertIs(views[0], small_heads[0])
        views[1][:] = b"y"
        self.assertEqual(bytes(small._buffer.view[5:6]), b"y")       # slot 5: where chunk 5 belongs
        self.assertIsNone(small._buffer.pieces)
        self.assertLess(peak, 8 * 1024 * 1024)   # 2 buffers of 1 MiB; a view per slot would be ~190 MB

    def test_the_batch_buffers_of_a_test_stay_within_64_mib(self):
        from udp.client import make_store
        offer = SimpleNamespace(size=250 * 1024 * 1024, chunk=63988, transfer=TRANSFER)
        incoming = IncomingFile(self.root / "f.txt", offer.size, "0" * 64, threaded=False)
        self.addCleanup(incoming.discard)
        held = {}
        for clients in (1, 2, 4, 5, 10, 11, 25):
            store = make_store(incoming, offer, True, 5.0, clients)
            self.addCleanup(store.abandon)
            count = store._pool.qsize() + 1          # the pool and the buffer in use
            held[clients] = count
            if clients >= 4:
                self.assertLessEqual(clients * count * store.slots * offer.chunk, 64 * 1024 * 1024, clients)
        self.assertEqual(held[1], 16)       # one client: room for the writer's stalls
        self.assertEqual(held[10], 6)       # was 16: 160 MiB touched page by page at the start
        self.assertGreaterEqual(min(held.values()), 3)
        self.assertEqual(make_store(incoming, offer, False, 5.0, 10)._pool.qsize() + 1, 2)   # no writer thread


if __name__ == "__main__":
    unittest.main()
