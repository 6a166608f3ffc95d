"""Fuzzing of every wire parser with fixed seeds (reproducible), bounded in
count and in time: only the documented exception may come out, never a hang
(a faulthandler watchdog kills the run with a traceback) or a large
allocation (tracemalloc checks the hostile cases).

TCP: ``transfer.messages.decode`` with ``TCP_MESSAGES`` and ``LineReader``
fed by a fake socket.  UDP (when ``udp/packets.py`` exists): its message
registry, data-header parsing and NACK range parsing.

Run: python3 -m unittest tests.test_fuzz -v
"""

import faulthandler
import importlib
import inspect
import os
import random
import string
import sys
import time
import tracemalloc
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from transfer import messages  # noqa: E402
from transfer.errors import ProtocolError  # noqa: E402
from transfer.messages import (MAX_LINE, TCP_MESSAGES, Bye, Busy, DataHeader, Done, ErrorMessage,  # noqa: E402
                               FileOffer, FlagField, Hello, HexField, IntField, LineReader, Ready, TextField,
                               decode)

# how many inputs each fuzz loop feeds (total over this file >= 100,000) and a
# time cap per loop that a healthy parser never reaches (not an assertion)
N_RANDOM = 20000
N_MUTATED = 35000
N_STRUCTURED = 20000
N_READER_STREAMS = 6000
N_UDP = 30000
LOOP_CAP_S = 30.0
WATCHDOG_S = 120.0

INTERESTING_VALUES = [
    "", "0", "1", "-1", "-0", "+1", " 1", "1 ", "01", "1e3", "0x10", "1_000", "1.5",
    str(10 ** 18), str(2 ** 63 - 1), str(2 ** 63), str(2 ** 64), str(10 ** 19), "9" * 20, "9" * 21, "9" * 400,
    str(-10 ** 18), "%C2%B2", "%D9%A3", "%EF%BC%91", "%00", "%", "%4", "%G1", "%%", "%2", "%zz", "%FF%FE",
    "a" * 64, "0" * 64, "A" * 64, "g" * 64, "0" * 63, "0" * 65, "..%2F..%2Fx", "%2E%2E%2F%2E%2E%2Fx",
    "%1B%5B2J", "%0D", "%07", "%0A", "x" * 256, "x" * 255, "%E2%80%AE", "NaN", "inf", "1000000000",
    "100000", "100001",
]
INTERESTING_TOKENS = [
    b"%", b"%zz", b"=", b"==", b" ", b"  ", b"\r", b"\n", b"\r\n", b"\x00", b"\xff", b"\x1b[2J", b"\x07",
    b"99999999999999999999", b"-1", b"%C2%B2", b"id=", b"size=", b"sha256=", b"ok=", b"ok=2", b"HELLO",
    b"DATA", b"\xc3\xa9", b"\t", b"name=", b"x" * 300, b"%41" * 100,
]


def watchdog(test):
    """Dump tracebacks and exit if a test hangs (stdlib faulthandler)."""
    faulthandler.dump_traceback_later(WATCHDOG_S, exit=True)
    test.addCleanup(faulthandler.cancel_dump_traceback_later)


def random_text(rng, max_len):
    kind = rng.random()
    length = rng.randint(0, max_len)
    if kind < 0.4:
        alphabet = string.ascii_letters + string.digits + "._~-"
    elif kind < 0.7:
        alphabet = string.printable + "\x1b\x07\x00\x7f"
    else:
        alphabet = "aé€\U0001F600\u202e\x1b\r\n\t /\\%=\x00" + string.ascii_letters
    return "".join(rng.choice(alphabet) for _ in range(length))


def random_message(rng):
    """A valid TCP message with random (in-range) values."""
    kind = rng.randrange(8)
    hexd = "".join(rng.choice("0123456789abcdef") for _ in range(64))
    if kind == 0:
        return Hello(id=rng.randint(1, messages.MAX_CLIENT_ID), total=rng.randint(1, messages.MAX_CLIENT_ID))
    if kind == 1:
        return FileOffer(name=random_text(rng, 40), size=rng.randint(0, 2 ** 63 - 1), sha256=hexd,
                         clients=rng.randint(1, messages.MAX_CLIENT_ID))
    if kind == 2:
        return Busy(reason=random_text(rng, 40))
    if kind == 3:
        return Ready()
    if kind == 4:
        return DataHeader(size=rng.randint(0, 2 ** 63 - 1))
    if kind == 5:
        return Done(bytes=rng.randint(0, 2 ** 40), sha256=hexd, ok=rng.random() < 0.5)
    if kind == 6:
        return Bye(ok=rng.random() < 0.5)
    return ErrorMessage(reason=random_text(rng, 60))


def valid_line(rng):
    while True:
        try:
            return random_message(rng).encode()
        except ValueError:  # a random name that encodes over 1024 bytes
            continue


def mutate(rng, data, pool):
    """Apply 1-4 random byte-level mutations to *data*."""
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(9)
        pos = rng.randint(0, len(data))
        if op == 0 and data:
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
        elif op == 1 and data:
            data[rng.randrange(len(data))] = rng.randrange(256)
        elif op == 2:
            data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif op == 3 and data:
            end = min(len(data), pos + rng.randint(1, 16))
            del data[pos:end]
        elif op == 4 and data:
            start = rng.randrange(len(data))
            piece = data[start:start + rng.randint(1, 32)]
            data[pos:pos] = piece
        elif op == 5:
            data[pos:pos] = rng.choice(INTERESTING_TOKENS)
        elif op == 6:
            del data[pos:]
        elif op == 7:
            other = rng.choice(pool)
            cut = rng.randint(0, len(other))
            data = data[:pos] + bytearray(other[cut:])
        else:
            # replace one value after '=' by an interesting one
            eq = [i for i, b in enumerate(data) if b == 0x3D]
            if eq:
                i = rng.choice(eq) + 1
                end = i
                while end < len(data) and data[end] not in b" \n":
                    end += 1
                data[i:end] = rng.choice(INTERESTING_VALUES).encode("ascii")
    return bytes(data)


def check_message(test, message, registry):
    """An accepted line must be an instance of a registered class with sane field values."""
    test.assertIn(type(message), set(registry.values()))
    for field in type(message).FIELDS:
        value = getattr(message, field.name)
        if value is None and not field.required:
            continue
        if isinstance(field, FlagField):
            test.assertIsInstance(value, bool)
        elif isinstance(field, IntField):
            test.assertIs(type(value), int)
            test.assertTrue(field.low <= value <= field.high, (field.name, value))
        elif isinstance(field, HexField):
            test.assertRegex(value, r"\A[0-9a-f]{64}\Z")
        elif isinstance(field, TextField):
            test.assertIsInstance(value, str)
            test.assertLessEqual(len(value), field.max_length)
    # what was accepted survives a round trip (when it still fits a line)
    try:
        again = message.encode()
    except ValueError:
        return
    test.assertEqual(decode(again, registry), message)


class FuzzStats:
    total = 0


def run_decode_loop(test, registry, inputs, allowed=(ProtocolError,)):
    """Feed every input of the iterator *inputs* to decode(); count them."""
    deadline = time.monotonic() + LOOP_CAP_S
    count = accepted = 0
    for line in inputs:
        count += 1
        try:
            message = decode(line, registry)
        except allowed:
            pass
        except Exception as exc:  # pragma: no cover - the failure we look for
            test.fail("decode({!r}) raised {}: {}".format(line[:200], type(exc).__name__, exc))
        else:
            accepted += 1
            check_message(test, message, registry)
        if time.monotonic() > deadline:
            break
    FuzzStats.total += count
    return count, accepted


class FakeSocket:
    """recv() hands out *stream* in pieces of random sizes, then b'' (EOF)."""

    def __init__(self, stream, rng=None, max_piece=4096):
        self.stream = memoryview(stream)
        self.pos = 0
        self.rng = rng
        self.max_piece = max_piece
        self.calls = 0

    def recv(self, size):
        self.calls += 1
        if self.calls > 100000:
            raise AssertionError("LineReader keeps calling recv()")
        piece = size if self.rng is None else min(size, self.rng.randint(1, self.max_piece))
        chunk = bytes(self.stream[self.pos:self.pos + piece])
        self.pos += len(chunk)
        return chunk


class InfiniteSocket:
    """Never ends, never sends a newline: counts what the reader took."""

    def __init__(self, byte=b"A"):
        self.byte = byte
        self.taken = 0
        self.calls = 0

    def recv(self, size):
        self.calls += 1
        if self.taken > 20 * 1024 * 1024:
            raise AssertionError("LineReader read {} bytes of one line".format(self.taken))
        self.taken += size
        return self.byte * size


class TCPDecodeFuzz(unittest.TestCase):

    def setUp(self):
        watchdog(self)

    def test_random_bytes(self):
        rng = random.Random(0x5EED01)

        def inputs():
            for _ in range(N_RANDOM):
                mode = rng.random()
                length = rng.choice((rng.randint(0, 40), rng.randint(0, 300), rng.randint(1000, 1100)))
                if mode < 0.4:
                    data = bytes(rng.randrange(256) for _ in range(length))
                elif mode < 0.8:
                    data = "".join(rng.choice(string.printable) for _ in range(length)).encode("ascii")
                else:
                    verb = rng.choice(list(TCP_MESSAGES) + ["FOO", "hello", "H", "X" * 40])
                    data = (verb + " " + "".join(rng.choice("abz=%09 AF_") for _ in range(length))).encode()
                yield data + (b"\n" if rng.random() < 0.7 else b"")
        count, _ = run_decode_loop(self, TCP_MESSAGES, inputs())
        self.assertGreater(count, 0)

    def test_mutated_valid_lines(self):
        rng = random.Random(0x5EED02)
        pool = [valid_line(rng) for _ in range(300)]

        def inputs():
            for _ in range(N_MUTATED):
                yield mutate(rng, rng.choice(pool), pool)
        count, accepted = run_decode_loop(self, TCP_MESSAGES, inputs())
        self.assertGreater(accepted, 0, "no mutated line was still valid: the mutator is too blunt")

    def test_structured_fields(self):
        """Right verbs, every key, hostile values (huge, negative, unicode digits, bad escapes)."""
        rng = random.Random(0x5EED03)
        keys = sorted({f.name for cls in TCP_MESSAGES.values() for f in cls.FIELDS} | {"x", "extra"})

        def inputs():
            for _ in range(N_STRUCTURED):
                verb = rng.choice(list(TCP_MESSAGES))
                fields = []
                for _ in range(rng.randint(0, 6)):
                    key = rng.choice(keys)
                    value = rng.choice(INTERESTING_VALUES) if rng.random() < 0.7 else messages.quote(
                        random_text(rng, 30))
                    fields.append("{}={}".format(key, value))
                yield (" ".join([verb] + fields) + rng.choice(["\n", "\r\n", ""])).encode("ascii")
        count, accepted = run_decode_loop(self, TCP_MESSAGES, inputs())
        self.assertGreater(accepted, 0)

    def test_round_trip_of_valid_messages(self):
        rng = random.Random(0x5EED04)
        for _ in range(3000):
            message = random_message(rng)
            try:
                line = message.encode()
            except ValueError:
                continue
            self.assertLessEqual(len(line), MAX_LINE)
            self.assertEqual(decode(line, TCP_MESSAGES), message)
        FuzzStats.total += 3000

    def test_hostile_numbers(self):
        accepted = decode(b"DATA size=1000000000000000000\n", TCP_MESSAGES)
        self.assertEqual(accepted.size, 10 ** 18)  # in range: the receiver streams, never allocates it
        for line in [b"DATA size=10000000000000000000\n",        # 10^19 > 2^63-1
                     b"DATA size=9223372036854775808\n",          # 2^63
                     b"DATA size=-1\n", b"DATA size=-0\n", b"DATA size=+5\n", b"DATA size=1e9\n",
                     b"DATA size=" + b"9" * 1000 + b"\n",            # bignum: rejected by length
                     b"DATA size=%C2%B2\n", b"DATA size=%D9%A3\n",    # unicode digits
                     b"DATA size=\n", b"DATA\n", b"DATA size=0x10\n",
                     b"HELLO id=0 total=1\n", b"HELLO id=100001 total=1\n",
                     b"HELLO id=1000000000000000000 total=1\n", b"HELLO id=1 total=-1\n",
                     b"DONE bytes=1 sha256=" + b"0" * 64 + b" ok=2\n",
                     b"DONE bytes=1 sha256=" + b"A" * 64 + b" ok=1\n",
                     b"FILE name=x size=1 sha256=" + b"0" * 64 + b" clients=0\n",
                     b"FILE name=" + b"x" * 256 + b" size=1 sha256=" + b"0" * 64 + b" clients=1\n",
                     b"FILE name=" + b"%41" * 300 + b"\n",
                     b"X" * 2000 + b"\n"]:
            with self.assertRaises(ProtocolError, msg=line[:80]):
                decode(line, TCP_MESSAGES)

    def test_decode_allocates_little(self):
        """The worst lines the limit lets through cost kilobytes, not megabytes."""
        worst = [b"FILE name=" + b"%FF" * 330 + b"\n", b"DATA size=" + b"9" * 1000 + b"\n",
                 b"ERROR reason=" + b"%00" * 330 + b"\n", b"A" * (10 * 1024 * 1024) + b"\n"]
        for line in worst:
            for _ in range(2):  # warm up caches (regex, urllib's escape table)
                try:
                    decode(line, TCP_MESSAGES)
                except ProtocolError:
                    pass
            tracemalloc.start()
            try:
                before = tracemalloc.get_traced_memory()[0]
                try:
                    decode(line, TCP_MESSAGES)
                except ProtocolError:
                    pass
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
            self.assertLess(peak - before, 256 * 1024, line[:40])


class LineReaderFuzz(unittest.TestCase):

    def setUp(self):
        watchdog(self)

    def test_random_streams(self):
        """Random lines, random recv() sizes: lines come out intact or ProtocolError/EOFError."""
        rng = random.Random(0x5EED05)
        deadline = time.monotonic() + LOOP_CAP_S
        pool = [valid_line(rng) for _ in range(200)]
        for _ in range(N_READER_STREAMS):
            parts = []
            for _ in range(rng.randint(0, 6)):
                choice = rng.random()
                if choice < 0.6:
                    parts.append(rng.choice(pool))
                elif choice < 0.8:
                    parts.append(mutate(rng, rng.choice(pool), pool))
                elif choice < 0.9:
                    parts.append(b"x" * rng.randint(1000, 3000) + b"\n")
                else:
                    parts.append(bytes(rng.randrange(256) for _ in range(rng.randint(0, 200))))
            stream = b"".join(parts)
            sock = FakeSocket(stream, rng, max_piece=rng.choice((1, 7, 100, 4096)))
            reader = LineReader(sock)
            out = []
            for _ in range(len(stream) + 2):
                try:
                    line = reader.read_line()
                except (ProtocolError, EOFError):
                    break
                self.assertTrue(line.endswith(b"\n"))
                self.assertLessEqual(len(line), MAX_LINE)
                out.append(line)
                try:
                    decode(line, TCP_MESSAGES)
                except ProtocolError:
                    pass
            else:
                self.fail("LineReader returned more lines than the stream has bytes")
            joined = b"".join(out)
            self.assertEqual(stream[:len(joined)], joined)
            FuzzStats.total += 1 + len(out)
            if time.monotonic() > deadline:
                break

    def test_ten_megabyte_line_is_refused_after_1024_bytes(self):
        sock = InfiniteSocket()
        reader = LineReader(sock)
        tracemalloc.start()
        try:
            with self.assertRaises(ProtocolError):
                reader.read_line()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        # the reader asks for 4096 bytes at a time: one read past the limit at most
        self.assertLessEqual(sock.taken, MAX_LINE + 4096)
        self.assertLess(peak, 256 * 1024)
        # the same with a real 10 MB line handed out byte by byte and in big pieces
        line = b"B" * (10 * 1000 * 1000) + b"\n"
        for piece in (1, 4096):
            sock = FakeSocket(line, random.Random(piece), max_piece=piece)
            with self.assertRaises(ProtocolError):
                LineReader(sock).read_line()
            self.assertLessEqual(sock.pos, MAX_LINE + 4096)

    def test_line_limit_boundary(self):
        exact = b"ERROR reason=" + b"x" * (MAX_LINE - len(b"ERROR reason=") - 1) + b"\n"
        self.assertEqual(len(exact), MAX_LINE)
        self.assertEqual(LineReader(FakeSocket(exact + b"BYE ok=1\n")).read_line(), exact)
        with self.assertRaisesRegex(ProtocolError, "longer than 255 characters"):
            decode(exact, TCP_MESSAGES)  # the line passes; only the reason's own limit refuses it
        over = b"x" + exact
        with self.assertRaises(ProtocolError):
            LineReader(FakeSocket(over)).read_line()
        with self.assertRaises(ProtocolError):
            decode(over, TCP_MESSAGES)

    def test_half_line_then_close(self):
        with self.assertRaises(EOFError):
            LineReader(FakeSocket(b"HELLO id=1")).read_line()
        with self.assertRaises(EOFError):
            LineReader(FakeSocket(b"")).read_line()

    def test_bytes_after_a_line_are_kept_for_the_data(self):
        reader = LineReader(FakeSocket(b"DATA size=5\nabcdeBYE ok=1\n"))
        self.assertEqual(reader.read_message(), DataHeader(size=5))
        self.assertEqual(reader.take_buffered()[:5], b"abcde")


# -- UDP parsers (udp/packets.py, written separately) ---------------------------------

def _udp_packets():
    try:
        return importlib.import_module("udp.packets")
    except ImportError:
        return None


UDP_PACKETS = _udp_packets()
UDP_SKIP = "udp/packets.py is not there yet (or does not import)"


def _udp_registries(module):
    """Every verb -> class registry udp/packets.py defines (dicts of Message classes)."""
    found = []
    for name, value in vars(module).items():
        if isinstance(value, dict) and value and all(
                isinstance(k, str) and inspect.isclass(v) and issubclass(v, messages.Message)
                for k, v in value.items()):
            found.append((name, value))
    return found


@unittest.skipIf(UDP_PACKETS is None, UDP_SKIP)
class UDPParserFuzz(unittest.TestCase):
    """Random and mutated datagrams for udp/packets.py: the control codec
    (decode_control, UDP_MESSAGES), NACK range parsing and the data header."""

    def setUp(self):
        watchdog(self)
        self.p = UDP_PACKETS

    def test_control_datagrams(self):
        p = self.p
        rng = random.Random(0x5EED10)
        registry = p.UDP_MESSAGES
        verbs = list(registry)
        keys = sorted({f.name for cls in registry.values() for f in cls.FIELDS} | {"x"})
        values = INTERESTING_VALUES + ["0-4294967295", "1_2_3", "5-3", "1--2", "_", "1__2", "4294967296",
                                       "1-" + "9" * 11, "%C2%B2-3", "reliable", "raw"]
        pool = [(" ".join([v] + ["{}={}".format(k, rng.choice(values)) for k in keys]) + "\n").encode()
                for v in verbs]
        deadline = time.monotonic() + LOOP_CAP_S
        count = 0
        for i in range(N_UDP):
            mode = i % 3
            if mode == 0:
                fields = ["{}={}".format(rng.choice(keys), rng.choice(values)) for _ in range(rng.randint(0, 8))]
                datagram = (" ".join([rng.choice(verbs)] + fields) + rng.choice(["\n", ""])).encode("ascii")
            elif mode == 1:
                datagram = mutate(rng, rng.choice(pool), pool)
            else:
                datagram = bytes(rng.randrange(256) for _ in range(rng.choice((0, 1, 11, 12, 13, 80, 1500))))
            count += 1
            try:
                message = p.decode_control(datagram)
            except ProtocolError:
                pass
            except Exception as exc:
                self.fail("decode_control({!r}) raised {}: {}".format(datagram[:200], type(exc).__name__, exc))
            else:
                check_message(self, message, registry)
            if time.monotonic() > deadline:
                break
        FuzzStats.total += count

    def test_nack_ranges(self):
        p = self.p
        rng = random.Random(0x5EED11)
        alphabet = "0123456789-_"
        deadline = time.monotonic() + LOOP_CAP_S
        for i in range(N_UDP // 3):
            if i % 2:
                text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
            else:
                text = p.format_ranges(sorted((a, a + rng.randint(0, 5)) for a in
                                              rng.sample(range(10 ** 6), rng.randint(1, 20))))
                text = mutate(rng, text.encode(), [b"1-2_3"]).decode("latin-1")
            try:
                ranges = p.parse_ranges(text)
            except ProtocolError:
                continue
            except Exception as exc:
                self.fail("parse_ranges({!r}) raised {}: {}".format(text[:100], type(exc).__name__, exc))
            for a, b in ranges:
                self.assertTrue(0 <= a <= b <= p.MAX_SEQ, (text, a, b))
            if time.monotonic() > deadline:
                break
        FuzzStats.total += N_UDP // 3

    def test_nack_hostile(self):
        p = self.p
        # one range covering every possible chunk is parsed as one pair, never expanded
        self.assertEqual(p.parse_ranges("0-4294967295"), [(0, 4294967295)])
        for text in ["-1", "1--2", "5-3", "4294967296", "0-4294967296", "99999999999", "1-", "-", "_", "1__2",
                     "%C2%B2", "\u00b2", "\u0663", "1-\u00b2", "1e3", "0x10", " 1", "1 "]:
            with self.assertRaises(ProtocolError, msg=text):
                p.parse_ranges(text)
        # a NACK asking for a billion ranges cannot fit a datagram: refused by size, quickly
        huge = b"NACK transfer=1 received=0 lost=0 ranges=" + b"1_" * (30 * 1024) + b"1\n"
        with self.assertRaises(ProtocolError):
            p.decode_control(huge)
        # the most ranges one line can carry stays small
        most = p.Nack(transfer=1, received=0, lost=0, ranges=[(i, i) for i in range(0, 900, 2)][:200])
        line = most.encode()
        self.assertLessEqual(len(line), MAX_LINE)
        self.assertEqual(len(p.decode_control(line).ranges), 200)
        tracemalloc.start()
        try:
            for _ in range(3):
                try:
                    p.decode_control(b"NACK transfer=1 received=0 lost=0 ranges=" + b"0-4294967295_" * 70 + b"1\n")
                except ProtocolError:
                    pass
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        self.assertLess(peak, 256 * 1024)

    def test_data_headers(self):
        """Random datagrams through the header checks the receivers use."""
        p = self.p
        rng = random.Random(0x5EED12)
        deadline = time.monotonic() + LOOP_CAP_S
        n = N_UDP // 3
        for i in range(n):
            size = rng.choice((0, 1, p.HEADER_SIZE - 1, p.HEADER_SIZE, p.HEADER_SIZE + 1, 100, 1472))
            head = bytes([p.DATA_TYPE if rng.random() < 0.8 else rng.randrange(256)])
            datagram = head + bytes(rng.randrange(256) for _ in range(max(0, size - 1)))
            datagram = datagram[:size]
            if not p.is_data(datagram):
                continue
            if len(datagram) < p.HEADER_SIZE:
                continue  # a receiver must check the length before unpacking
            kind, version, flags, transfer, seq = p.HEADER.unpack_from(datagram)
            self.assertEqual(kind, p.DATA_TYPE)
            self.assertTrue(0 <= seq <= p.MAX_SEQ and 0 <= transfer <= p.MAX_TRANSFER_ID)
            if time.monotonic() > deadline:
                break
        FuzzStats.total += n
        self.assertEqual(p.chunk_count(0, 1000), 0)
        self.assertEqual(p.chunk_count(10 ** 18, 65000), (10 ** 18 + 64999) // 65000)  # arithmetic, no allocation
        self.assertEqual(p.HEADER.unpack_from(p.pack_data(2 ** 32 - 1, 2 ** 32 - 1, b"x"))[3:],
                         (2 ** 32 - 1, 2 ** 32 - 1))


class ZZTotal(unittest.TestCase):
    """Runs last (alphabetical): the inputs fed add up to the suite's promise."""

    def test_total_inputs(self):
        if FuzzStats.total == 0:
            self.skipTest("run with the rest of tests.test_fuzz")
        expected_min = 100000 if UDP_PACKETS is not None else 70000
        if FuzzStats.total < expected_min:
            self.skipTest("only part of the fuzz tests ran ({} inputs)".format(FuzzStats.total))
        self.assertGreaterEqual(FuzzStats.total, expected_min)
        sys.stderr.write("\n  {:,} fuzz inputs fed to the parsers\n".format(FuzzStats.total))


if __name__ == "__main__":
    unittest.main()
