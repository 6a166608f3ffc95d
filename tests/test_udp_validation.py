"""UDP address validation and admission (issue 8 sections 1 and 3, issue 11
fail-fast): tokens, the 3x anti-amplification budget, places held only by
validated addresses, unpredictable transfer ids, PONG and event caps, FILE
bounds at the client, the client's fast failure when nothing answers, and
Ctrl-C telling the server.

A forged source is played by a socket on 127.0.0.1 that sends what a forger
would send with its address and never answers: the bytes it receives are
what a victim would receive.  Everything on loopback, ports chosen by the OS.

Run: python3 -m unittest tests.test_udp_validation -v
"""

import errno
import io
import os
import random
import shutil
import signal
import socket
import sys
import threading
import time
import unittest
from unittest import mock

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests import procs  # noqa: E402
from tests.test_udp_transfer import UDPHarness  # noqa: E402
from transfer.config import ClientConfig, ServerConfig  # noqa: E402
from transfer import catalog  # noqa: E402
from transfer.errors import ProtocolError, TransferFailed, UserError  # noqa: E402
from transfer.status import StatusBoard  # noqa: E402
from udp import validation  # noqa: E402
from udp.client import UDPClientSession  # noqa: E402
from udp.packets import (DATA_TYPE, Ping, Retry, UdpFileOffer, UdpHello, UdpReady, decode_control,  # noqa: E402
                         HELLO_PADDED)
from udp.ping import run_ping  # noqa: E402
from udp.server import UDPFileServer  # noqa: E402

LOCAL = "127.0.0.1"


def closed_udp_port():
    """A local UDP port that was just free and is closed again (nothing listens there)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((LOCAL, 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


class Victim:
    """A socket that plays a forged source address: it sends what a forger
    would send from there, never answers, and counts what comes back from
    the server (not what the forger's own spray, sent from another victim's
    socket, happens to land on: ephemeral ports sit next to the server's)."""

    FORGER_ADDRESSES = set()

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((LOCAL, 0))
        self.FORGER_ADDRESSES.add(self.sock.getsockname())
        self.sent = 0
        self.received = 0
        self.datagrams = []

    def send(self, payload, address):
        self.sock.sendto(payload, address)
        self.sent += len(payload)

    def drain(self, quiet=0.5, limit=5.0):
        """Receive until *quiet* s pass with nothing (at most *limit* s)."""
        end = time.monotonic() + limit
        while time.monotonic() < end:
            self.sock.settimeout(quiet)
            try:
                data, source = self.sock.recvfrom(70000)
            except socket.timeout:
                return
            except OSError:
                continue
            if source in self.FORGER_ADDRESSES:
                continue
            self.received += len(data)
            self.datagrams.append(data)

    def data_datagrams(self):
        return [d for d in self.datagrams if d and d[0] == DATA_TYPE]

    def close(self):
        self.FORGER_ADDRESSES.discard(self.sock.getsockname())
        self.sock.close()


class TokenAndBudgetUnits(unittest.TestCase):
    """udp/validation.py as plain data."""

    def test_budget_is_three_times_what_was_received_until_validated(self):
        budget = validation.AddressBudget()
        self.assertFalse(budget.can_send(1))
        budget.on_received(100)
        self.assertTrue(budget.can_send(300))
        self.assertFalse(budget.can_send(301))
        budget.on_sent(250)
        self.assertTrue(budget.can_send(50))
        self.assertFalse(budget.can_send(51))
        budget.validate()
        self.assertTrue(budget.can_send(10 ** 9))

    def test_budget_table_is_bounded_and_per_port(self):
        table = validation.BudgetTable(limit=3)
        a = table.get(("10.0.0.1", 1))
        self.assertIsNot(a, table.get(("10.0.0.1", 2)))
        self.assertIs(a, table.get(("10.0.0.1", 1, 0, 0)))  # IPv6 tuples: ip and port only
        for port in range(10):
            table.get(("10.0.0.2", port))
        self.assertLessEqual(len(table), 3)

    def test_token_is_bound_to_address_port_and_window(self):
        clock = [1000.0]
        issuer = validation.TokenIssuer(clock=lambda: clock[0])
        token = issuer.token_for(("127.0.0.1", 4000))
        self.assertRegex(token, r"\A[0-9a-f]{40}\Z")
        self.assertTrue(issuer.check(token, ("127.0.0.1", 4000)))
        self.assertFalse(issuer.check(token, ("127.0.0.1", 4001)))
        self.assertFalse(issuer.check(token, ("127.0.0.2", 4000)))
        self.assertFalse(validation.TokenIssuer().check(token, ("127.0.0.1", 4000)))  # another key
        tampered = token[:-1] + ("0" if token[-1] != "0" else "1")
        self.assertFalse(issuer.check(tampered, ("127.0.0.1", 4000)))
        for bad in (None, "", "zz" * 20, token[:-2], token + "00"):
            self.assertFalse(issuer.check(bad, ("127.0.0.1", 4000)))
        clock[0] += validation.WINDOW          # the next window: still valid
        self.assertTrue(issuer.check(token, ("127.0.0.1", 4000)))
        clock[0] += validation.WINDOW          # two windows later: expired
        self.assertFalse(issuer.check(token, ("127.0.0.1", 4000)))

    def test_tokens_are_unpredictable_from_each_other(self):
        issuer = validation.TokenIssuer()
        tokens = {issuer.token_for(("127.0.0.1", port))[8:] for port in range(200)}
        self.assertEqual(len(tokens), 200)
        self.assertGreaterEqual(validation.MAC_BYTES * 8, 64)

    def test_per_source_rate(self):
        rate = validation.PerSourceRate(rate=2.0, burst=3, clock=lambda: 0.0)
        self.assertEqual([rate.allow("a", 0.0) for _ in range(5)], [True, True, True, False, False])
        self.assertTrue(rate.allow("b", 0.0))
        self.assertTrue(rate.allow("a", 0.5))
        self.assertFalse(rate.allow("a", 0.5))

    def test_offer_bounds(self):
        validation.check_offer(100 * 1024 * 1024, 63988)
        validation.check_offer(0, 63988)
        for size, chunk in ((1024 * 1024, 1), (4096, 8), (1, 65496), (2 ** 40, 64), (2 ** 62, 65495)):
            with self.assertRaises(ProtocolError):
                validation.check_offer(size, chunk)

    def test_hello_is_padded_and_retry_is_small(self):
        for token in (None, "ab" * 20):
            hello = UdpHello.padded(id=25, total=25, mode="reliable", token=token)
            self.assertEqual(len(hello.encode()), HELLO_PADDED)
            self.assertEqual(decode_control(hello.encode()).token, token)
        self.assertEqual(len(Retry(token="ab" * 20).encode()), 53)


def hello_bytes(mode="raw", token=None, cid=1, total=1):
    text = "HELLO id={} total={} mode={}".format(cid, total, mode)
    if token:
        text += " token=" + token
    return (text + "\n").encode("ascii")


def validated_socket(port, mode="raw", cid=1, total=1):
    """A socket that does the token dance: (socket, token, first answer after the token)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((LOCAL, 0))
    sock.settimeout(5)
    sock.sendto(UdpHello.padded(id=cid, total=total, mode=mode).encode(), (LOCAL, port))
    data, source = sock.recvfrom(2048)
    retry = decode_control(data)
    if not isinstance(retry, Retry):
        return sock, None, retry, source   # a server without address validation (the old one) answers at once
    sock.sendto(UdpHello.padded(id=cid, total=total, mode=mode, token=retry.token).encode(), (LOCAL, port))
    data, source = sock.recvfrom(2048)
    return sock, retry.token, decode_control(data), source


class ForgedSources(UDPHarness, unittest.TestCase):
    """The done-when test of issue 8 section 1, in-process."""

    def setUp(self):
        self.make_lab()

    def test_forged_source_gets_at_most_3x_no_data_and_holds_no_place(self):
        server = self.start_server(3)
        well_known = (LOCAL, server.port)
        victims = [Victim() for _ in range(12)]
        for victim in victims:
            self.addCleanup(victim.close)
        # what a forger sends with each victim's address: HELLOs of every kind (unpadded, wrong mode, a
        # made-up token), READY sprayed over the ports a session might have, and a PING
        for k, victim in enumerate(victims):
            victim.send(hello_bytes(cid=k % 3 + 1, total=3), well_known)
            victim.send(UdpHello.padded(id=k % 3 + 1, total=3, mode="raw").encode(), well_known)
            victim.send(hello_bytes("reliable"), well_known)
            victim.send(hello_bytes(token="0" * 40), well_known)
            victim.send(b"READY transfer=1\n", well_known)
            victim.send(Ping(seq=k).encode(), well_known)
        for port in range(server.port + 1, server.port + 40):
            victims[0].send(UdpReady(transfer=random.getrandbits(32)).encode(), (LOCAL, port))
        for victim in victims:
            victim.drain(quiet=0.3)
        # the places are all free: three real clients get the whole test
        result = self.run_clients(server.port, 3)
        self.wait_server()
        self.assert_all_verified(result, 3)
        for victim in victims:
            victim.drain(quiet=0.1)
            self.assertEqual(victim.data_datagrams(), [])
            self.assertLessEqual(victim.received, 3 * victim.sent, (victim.received, victim.sent))
            answers = [decode_control(d).VERB for d in victim.datagrams]
            self.assertTrue(set(answers) <= {"RETRY", "PONG"}, answers)
        self.assertEqual(sorted(r.client_id for r in self.outcome.records), [1, 2, 3])
        events = [r for r in self.sidecar("server") if r["record"] == "event"]
        self.assertFalse([e for e in events if e["kind"] in ("busy", "left_before_start")], events)
        counts = [e for e in events if e["kind"] == "address_validation"]
        self.assertEqual(len(counts), 1)
        self.assertIn("hello_without_token=", counts[0]["detail"])

    def test_each_single_forged_datagram_draws_at_most_3x(self):
        # a test that already has its only client (validated), so HELLOs would draw BUSY, and a raw
        # server, so a reliable HELLO would draw the wrong-mode ERROR (both 2.7-8.3x before)
        server = self.start_server(1, test_timeout=4.0)
        factors = {}
        first = Victim()   # a HELLO to a test with a free place (drew FILE, 8x, and took the place)
        self.addCleanup(first.close)
        first.send(b"HELLO id=1 total=1\n", (LOCAL, server.port))
        first.drain(quiet=0.3)
        factors["HELLO"] = first.received / first.sent
        holder, token, answer, _ = validated_socket(server.port)
        self.addCleanup(holder.close)
        for name, payload in (("HELLO to a full test", b"HELLO id=1 total=1\n"),
                              ("wrong-mode HELLO", hello_bytes("reliable")),
                              ("HELLO with a bad token", hello_bytes(token="1" * 40)),
                              ("PING", Ping(seq=1).encode()), ("READY", b"READY transfer=7\n")):
            victim = Victim()
            self.addCleanup(victim.close)
            victim.send(payload, (LOCAL, server.port))
            victim.drain(quiet=0.3)
            factors[name] = victim.received / victim.sent
            self.assertEqual(victim.data_datagrams(), [])
        for name, factor in factors.items():
            self.assertLessEqual(factor, 3.0, factors)
        server.close()
        self.wait_server()

    def test_only_a_padded_hello_draws_a_retry_and_only_within_the_budget(self):
        server = UDPFileServer(ServerConfig(bind=LOCAL, port=0, files_dir=str(self.files), logs_dir=str(self.logs),
                                            create_files=False, quiet=True))
        self.addCleanup(server.close)
        victim = Victim()
        self.addCleanup(victim.close)
        victim.send(b"HELLO id=1 total=1\n", (LOCAL, server.port))    # 19 bytes, not padded: nothing
        victim.send(UdpHello.padded(id=1, total=1, mode="raw").encode()[:-1], (LOCAL, server.port))  # 1 short
        victim.drain(quiet=0.3)
        self.assertEqual(victim.received, 0)
        self.assertEqual(server.counts["hello_not_padded"], 2)
        victim.send(UdpHello.padded(id=1, total=1, mode="raw").encode(), (LOCAL, server.port))
        victim.drain(quiet=0.3)
        self.assertEqual(victim.received, 53)
        # the server asks the budget before it answers: with a budget of 1/100 instead of 3, no RETRY
        with mock.patch.object(validation, "FACTOR", 0.01):
            other = Victim()
            self.addCleanup(other.close)
            other.send(UdpHello.padded(id=1, total=1, mode="raw").encode(), (LOCAL, server.port))
            other.drain(quiet=0.3)
        self.assertEqual(other.received, 0)
        self.assertEqual(server.counts["refused_by_budget"], 1)

    def test_transfer_ids_do_not_follow_python_random(self):
        ids = []
        for _ in range(2):
            server = self.start_server(1, test_timeout=2.0)
            random.seed(1234)
            sock, _token, offer, _ = validated_socket(server.port)
            sock.close()
            ids.append(offer.transfer)
            server.close()
            self.wait_server()
        self.assertNotEqual(ids[0], ids[1])

    def test_a_client_started_between_tests_joins_the_next_one_with_a_fresh_token(self):
        server = UDPFileServer(ServerConfig(bind=LOCAL, port=0, files_dir=str(self.files), logs_dir=str(self.logs),
                                            create_files=False, quiet=True, timeout=5.0, handshake_timeout=20.0))
        self.addCleanup(server.close)
        results = []
        client = threading.Thread(target=lambda: results.append(self.run_clients(server.port, 1,
                                                                                 handshake_timeout=20.0)))
        client.start()
        time.sleep(1.5)     # the client got its RETRY and repeats HELLO with the token: no test yet
        real = server.tokens._clock
        server.tokens._clock = lambda: real() + 3 * validation.WINDOW   # its token expires: a new RETRY
        time.sleep(2.5)
        entry = catalog.select_file(catalog.list_files(self.files), self.FILE)
        outcome = server.run_test(entry, 1, StatusBoard("test", quiet=True))
        client.join(30)
        self.assertTrue(outcome.ok)
        self.assert_all_verified(results[0], 1)
        self.assertGreaterEqual(server.counts["bad_token"], 1)
        self.assertGreaterEqual(server.counts["retry_sent"], 2)

    def test_keepalive_with_an_old_token_keeps_the_place(self):
        server = self.start_server(1, hello_timeout=1.0, test_timeout=30.0)
        sock, token, offer, session = validated_socket(server.port)
        self.addCleanup(sock.close)
        self.assertIsInstance(offer, UdpFileOffer)
        # the issuer moves on two windows: the session still knows this token
        real = server.tokens._clock
        server.tokens._clock = lambda: real() + 3 * validation.WINDOW
        for _ in range(3):
            time.sleep(0.5)
            sock.sendto(UdpHello.padded(id=1, total=1, mode="raw", token=token).encode(), (LOCAL, server.port))
        sock.sendto(UdpReady(transfer=offer.transfer).encode(), session)
        got_data = False
        end = time.monotonic() + 10
        while time.monotonic() < end and not got_data:
            data = sock.recv(70000)
            got_data = data[0] == DATA_TYPE
        self.assertTrue(got_data)
        server.close()
        self.wait_server()


class Floods(UDPHarness, unittest.TestCase):
    """Issue 8 section 3: PONGs per source, events per kind, lines on stdout."""

    def setUp(self):
        self.make_lab()

    def test_pongs_are_rate_limited_and_ping_lines_capped(self):
        server = UDPFileServer(ServerConfig(bind=LOCAL, port=0, files_dir=str(self.files), logs_dir=str(self.logs),
                                            create_files=False), out=io.StringIO())
        self.addCleanup(server.close)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(sock.close)
        started = time.monotonic()
        for seq in range(200):
            sock.sendto(Ping(seq=seq).encode(), (LOCAL, server.port))
        pongs = 0
        sock.settimeout(0.5)
        try:
            while True:
                sock.recv(2048)
                pongs += 1
        except socket.timeout:
            pass
        elapsed = time.monotonic() - started
        self.assertLess(pongs, 200)
        self.assertLessEqual(pongs, 10 + 10 * elapsed + 1)
        self.assertGreater(server.counts["pong_limited"], 0)
        lines = server.out.getvalue().count("ping from")
        self.assertLessEqual(lines, 5 + elapsed + 1)

    def test_wrong_mode_and_busy_floods_log_a_bounded_number_of_lines(self):
        server = self.start_server(1, test_timeout=4.0)
        holder, _token, _offer, _ = validated_socket(server.port)   # the test's only place
        self.addCleanup(holder.close)
        flooder, token, answer, _ = validated_socket(server.port, mode="reliable", cid=1, total=1)
        self.addCleanup(flooder.close)
        self.assertEqual(answer.VERB, "ERROR")
        busy, token2, answer2, _ = validated_socket(server.port, cid=2, total=2)
        self.addCleanup(busy.close)
        self.assertEqual(answer2.VERB, "BUSY")
        for _ in range(300):
            flooder.sendto(hello_bytes("reliable", token), (LOCAL, server.port))
            busy.sendto(hello_bytes(token=token2, cid=2, total=2), (LOCAL, server.port))
        forger = Victim()
        self.addCleanup(forger.close)
        for _ in range(300):
            forger.send(hello_bytes("reliable"), (LOCAL, server.port))
        time.sleep(1.0)
        server.close()
        self.wait_server()
        events = [r for r in self.sidecar("server") if r["record"] == "event"]
        by_kind = {}
        for event in events:
            by_kind[event["kind"]] = by_kind.get(event["kind"], 0) + 1
        self.assertLessEqual(by_kind.get("protocol_error", 0), 21, by_kind)
        self.assertLessEqual(by_kind.get("busy", 0), 21, by_kind)
        self.assertLessEqual(len(events), 80, by_kind)


@unittest.skipUnless(sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT"), "SO_REUSEPORT: Linux")
class SinglePort(UDPHarness, unittest.TestCase):
    """--single-port: every datagram a client receives comes from the well-known port."""

    def setUp(self):
        self.make_lab()

    def start_single(self, clients, **settings):
        options = dict(bind=LOCAL, port=0, files_dir=str(self.files), logs_dir=str(self.logs), quiet=True,
                       timeout=5.0, handshake_timeout=20.0, create_files=False)
        options.update(settings)
        config = ServerConfig(**options)
        config.single_port = True
        server = UDPFileServer(config, out=io.StringIO())
        self.addCleanup(server.close)
        entry = catalog.select_file(catalog.list_files(self.files), self.FILE)

        def run():
            self.outcome = server.run_test(entry, clients, StatusBoard("test", quiet=True))
        self.server_thread = threading.Thread(target=run, daemon=True)
        self.server_thread.start()
        procs.wait_for(lambda: server.current_test is not None, 10)
        return server

    def test_raw_and_reliable_stay_on_the_well_known_port(self):
        for reliable in (False, True):
            if self.received.exists():
                shutil.rmtree(str(self.received))
            server = self.start_single(3, reliable=reliable)
            result = self.run_clients(server.port, 3, reliable=reliable)
            self.wait_server()
            self.assert_all_verified(result, 3)
            self.assertEqual({r.server_port for r in result.records}, {server.port})
            self.assertEqual({r.server_port for r in self.outcome.records}, {server.port})
            server.close()

    def test_a_second_server_on_the_same_port_is_refused(self):
        server = self.start_single(1, test_timeout=2.0)
        config = ServerConfig(bind=LOCAL, port=server.port, files_dir=str(self.files), logs_dir=str(self.logs),
                              create_files=False, quiet=True)
        config.single_port = True
        with self.assertRaises(UserError):
            UDPFileServer(config)
        server.close()
        self.wait_server()


class ClientSide(unittest.TestCase):
    """FILE bounds, fail-fast handshake (in-process, a fake server socket)."""

    def session(self, port, **settings):
        options = dict(host=LOCAL, port=port, clients=1, assume_yes=True, received_dir="unused", logs_dir="unused",
                       quiet=True, timeout=5.0, handshake_timeout=20.0, idle_timeout=2.0)
        options.update(settings)
        return UDPClientSession(ClientConfig(**options), 1, 1, StatusBoard("t", quiet=True), threading.Event(),
                                threading.Event())

    def fake_server(self, answer):
        """A socket on the well-known port that answers each datagram with answer(data) (bytes or None)."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((LOCAL, 0))
        sock.settimeout(0.2)
        stop = threading.Event()

        def run():
            while not stop.is_set():
                try:
                    data, peer = sock.recvfrom(4096)
                except socket.timeout:
                    continue
                except OSError:
                    return
                reply = answer(data)
                if reply:
                    sock.sendto(reply, peer)
        thread = threading.Thread(target=run, daemon=True)
        thread.start()

        def close():
            stop.set()
            thread.join(2)
            sock.close()
        self.addCleanup(close)
        return sock.getsockname()[1]

    def test_file_with_absurd_chunks_is_refused_before_allocating(self):
        offer = UdpFileOffer(name="x.txt", size=4096, sha256="0" * 64, clients=1, chunk=8, transfer=5,
                             mode="raw").encode()
        port = self.fake_server(lambda data: offer)
        client = self.session(port)
        with self.assertRaises(TransferFailed) as caught:
            client._open_and_hello()
        client.sock.close()
        self.assertIn("impossible transfer", str(caught.exception))
        self.assertIsNone(client.offer)

    def test_hello_is_padded_and_retransmitted_with_the_token(self):
        seen = []
        issuer = validation.TokenIssuer()

        def answer(data):
            hello = decode_control(data)
            seen.append((len(data), hello.token))
            if hello.token is None:
                return Retry(token=issuer.token_for((LOCAL, 1))).encode()
            return UdpFileOffer(name="x.txt", size=10, sha256="0" * 64, clients=1, chunk=1000, transfer=5,
                                mode="raw").encode()
        port = self.fake_server(answer)
        client = self.session(port)
        self.addCleanup(lambda: client.sock.close())
        client._open_and_hello()
        self.assertEqual(client.offer.transfer, 5)
        self.assertEqual([n for n, _ in seen], [HELLO_PADDED] * len(seen))
        self.assertIsNone(seen[0][1])
        self.assertIsNotNone(seen[-1][1])
        self.assertTrue(client.record.extra["server_answered"])

    def test_an_older_server_that_answers_file_at_once_still_works(self):
        offer = UdpFileOffer(name="x.txt", size=10, sha256="0" * 64, clients=1, chunk=1000, transfer=9,
                             mode="raw").encode()
        port = self.fake_server(lambda data: offer)
        client = self.session(port)
        self.addCleanup(lambda: client.sock.close())
        client._open_and_hello()
        self.assertEqual(client.offer.transfer, 9)

    @unittest.skipUnless(sys.platform.startswith("linux"), "ICMP errors on unconnected sockets: Linux")
    def test_closed_port_is_reported_at_once(self):
        port = closed_udp_port()
        client = self.session(port, handshake_timeout=60.0)
        started = time.monotonic()
        with self.assertRaises(TransferFailed) as caught:
            client._open_and_hello()
        client.sock.close()
        self.assertIn("no UDP server answered at 127.0.0.1:{}: connection refused".format(port),
                      str(caught.exception))
        self.assertLess(time.monotonic() - started, 30.0)  # a bound, not a timing figure (60 s was allowed)

    @unittest.skipUnless(sys.platform.startswith("linux"), "ICMP errors on unconnected sockets: Linux")
    def test_ping_says_port_unreachable(self):
        port = closed_udp_port()
        out = io.StringIO()
        self.assertEqual(run_ping(LOCAL, port, 2, 0.2, out=out), 1)
        self.assertIn("seq=1: port unreachable (nothing listens on UDP {} there)".format(port), out.getvalue())
        self.assertIn("2 sent, 0 received, 100.0% loss", out.getvalue())

    def test_network_unreachable_is_not_swallowed(self):
        client = self.session(1)

        class Unreachable:
            family = socket.AF_INET

            def sendto(self, *_args):
                raise OSError(errno.ENETUNREACH, "Network is unreachable")
        client.sock = Unreachable()
        with self.assertRaises(TransferFailed) as caught:
            client._send_strict(UdpHello.padded(id=1, total=1, mode="raw"), (LOCAL, 1))
        self.assertIn("Network is unreachable", str(caught.exception))
        self.assertIn("no UDP server answered at 127.0.0.1:1", str(caught.exception))


@unittest.skipUnless(procs.have_udp(), procs.UDP_SKIP)
class RealPrograms(unittest.TestCase):
    """The real udp/client.py and udp/server.py as processes."""

    def setUp(self):
        self.lab = procs.Lab(prefix="udpsec-")
        self.addCleanup(self.lab.close)

    def test_silent_server_gives_up_with_one_clear_line(self):
        silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        silent.bind((LOCAL, 0))     # something bound that never answers (no ICMP either)
        self.addCleanup(silent.close)
        port = silent.getsockname()[1]
        status, out, err = procs.run_client(self.lab, "udp", port, 1, timeout=60.0)
        self.assertIsNotNone(status, "the client did not give up within 60 s (default --handshake-timeout 300)")
        self.assertNotEqual(status, 0)
        text = (out + err).decode("utf-8", "replace")
        self.assertIn("udp/client.py: no UDP server answered at 127.0.0.1:{} (is udp/server.py running there? is "
                      "UDP {} open?)\n".format(port, port), text)
        self.assertNotIn("Traceback", text)

    @unittest.skipUnless(hasattr(signal, "SIGINT") and os.name == "posix", "needs POSIX signals")
    def test_ctrl_c_on_the_client_tells_the_server(self):
        self.lab.make_file("slow.txt", 4 * 1024 * 1024)
        server, port = procs.start_server(self.lab, "udp", file="slow.txt", clients=1,
                                          extra=["--rate", "400K", "--timeout", "60"])
        self.addCleanup(server.stop)
        client = procs.start_client(self.lab, "udp", port, 1)
        self.addCleanup(client.stop)
        # wait until data flows (the .part file grows), then Ctrl-C the client
        self.assertTrue(procs.wait_for(lambda: any(p.stat().st_size > 0 for p in self.lab.recv.glob("*")), 30))
        client.signal(signal.SIGINT)
        self.assertIsNotNone(client.wait(20))
        self.assertIsNotNone(server.wait(20), "the server still waits for the interrupted client")
        records = [r for log in self.lab.logs_of("udp", "server") for r in procs.records_of(log, "connection")]
        self.assertEqual(len(records), 1)
        self.assertIn("client interrupted (Ctrl-C)", records[0]["reason"])
        self.assertNotIn(b"Traceback", server.stderr() + client.stderr())


if __name__ == "__main__":
    unittest.main()
