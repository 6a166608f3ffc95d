"""An in-process UDP relay for tests: it sits between UDP clients and the UDP
server and drops (seeded random), duplicates and reorders datagrams in each
direction, recording which data chunks it dropped.

How it maps the ports.  Clients talk to the relay's ``port`` as if it were the
server's well-known port.  For each client address C the relay opens one
server-facing socket U(C), so the server sees every client as a distinct
address (U(C)); the server answers U(C) from its well-known port W or from the
client's session port P.  For each (C, server port) pair the relay opens one
client-facing socket F(C, P) on demand (F(C, W) is the relay's own port), and
forwards what the server sent from P to C from F(C, P).  The client therefore
learns a session port (F(C, P)) exactly as it would from the server, and what
it sends there goes to (server, P) from U(C)::

    client C  --> relay port          --> U(C) --> server W
    client C  <-- F(C, P)  <-- U(C) <-- server P  (session)
    client C  --> F(C, P)  --> U(C) --> server P

Usage::

    relay = UDPRelay(("127.0.0.1", server_port), loss=0.05, seed=7)
    ... clients use ("127.0.0.1", relay.port) ...
    relay.dropped_data[client_port]    # set of data seqs dropped toward that client
    relay.close()
"""

import random
import selectors
import socket
import threading
import time

from udp.packets import DATA_TYPE, HEADER
HOLD_SECONDS = 0.005   # a held (reordered) datagram is released after this long at most


def _verb(datagram):
    if not datagram or datagram[0] == DATA_TYPE:
        return None
    return datagram.split(b" ", 1)[0].strip().decode("ascii", "replace")


class UDPRelay:
    """A lossy, duplicating, reordering UDP relay running in its own thread.

    loss / loss_to_server / loss_to_client: probability of dropping a datagram
    (the specific ones override *loss* for one direction); duplicate: of sending
    it twice; reorder: of holding it back until the next one in that direction
    has passed.  drop_verbs: {"END": n} drops the first n control datagrams of
    that verb in either direction (None = every one).  drop_seqs: data chunks
    dropped the first time they go to each client.  data_only: random loss,
    duplication and reordering apply to data datagrams only.  inject_garbage:
    before the first data datagram reaches a client, send it malformed and
    foreign datagrams (see ``GARBAGE``), and before the first datagram a client
    sends to its session, malformed ones to that session (``GARBAGE_UP``).
    """

    GARBAGE = 9      # datagrams injected toward each client by inject_garbage
    GARBAGE_UP = 4   # ... and toward each client's server session

    def __init__(self, server, loss=0.0, duplicate=0.0, reorder=0.0, seed=1, drop_verbs=None,
                 loss_to_server=None, loss_to_client=None, data_only=False, inject_garbage=False,
                 drop_seqs=(), host="127.0.0.1"):
        self.server = server
        self.host = host
        self.random = random.Random(seed)
        self.loss_up = loss if loss_to_server is None else loss_to_server
        self.loss_down = loss if loss_to_client is None else loss_to_client
        self.duplicate = duplicate
        self.reorder = reorder
        self.drop_verbs = dict(drop_verbs or {})
        self.drop_seqs = set(drop_seqs)      # data seqs dropped the first time they pass (each client)
        self._seqs_dropped_once = set()
        self.data_only = data_only
        self.inject_garbage = inject_garbage
        self.front = self._socket()
        self.port = self.front.getsockname()[1]
        self.selector = selectors.DefaultSelector()
        self.upstream = {}         # client address -> server-facing socket
        self.faces = {}            # (client address, server port) -> client-facing socket
        self.roles = {}            # socket -> ("face", client, server port) or ("up", client)
        self.roles[self.front] = ("front", None, server[1])
        self.selector.register(self.front, selectors.EVENT_READ)
        self.dropped_data = {}     # client port -> set of data seqs dropped toward that client
        self.dropped_verbs = {}    # verb -> count dropped
        self.counts = {"forwarded": 0, "dropped": 0, "duplicated": 0, "reordered": 0, "injected": 0}
        self.held = {}             # direction key -> (release time, socket, datagram, destination)
        self._garbage_sent = set()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, name="udp-relay", daemon=True)
        self.thread.start()

    def _socket(self):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((self.host, 0))
        for option in (socket.SO_RCVBUF, socket.SO_SNDBUF):
            try:
                sock.setsockopt(socket.SOL_SOCKET, option, 8 * 1024 * 1024)
            except OSError:
                pass
        return sock

    # -- the loop ----------------------------------------------------------------------
    def _run(self):
        while not self._stop.is_set():
            try:
                events = self.selector.select(HOLD_SECONDS)
            except (OSError, ValueError):
                if self._stop.is_set():
                    return
                continue
            for key, _ in events:
                sock = key.fileobj
                try:
                    datagram, source = sock.recvfrom(65536)
                except OSError:
                    continue
                try:
                    self._route(sock, datagram, source)
                except OSError:
                    pass
            self._release_held(time.monotonic())

    def _route(self, sock, datagram, source):
        role = self.roles.get(sock)
        if role is None:
            return
        if role[0] in ("front", "face"):
            client = source
            if role[0] == "face" and client != role[1]:
                return  # a stranger writing to a face: not part of the test
            up = self._upstream(client)
            self._forward("up", client, up, datagram, (self.server[0], role[2]))
        else:
            client = role[1]
            if source[0] != self.server[0]:
                return
            face = self._face(client, source[1])
            self._forward("down", client, face, datagram, client)

    def _upstream(self, client):
        up = self.upstream.get(client)
        if up is None:
            up = self._socket()
            self.upstream[client] = up
            self.roles[up] = ("up", client)
            self.selector.register(up, selectors.EVENT_READ)
        return up

    def _face(self, client, server_port):
        if server_port == self.server[1]:
            return self.front
        face = self.faces.get((client, server_port))
        if face is None:
            face = self._socket()
            self.faces[(client, server_port)] = face
            self.roles[face] = ("face", client, server_port)
            self.selector.register(face, selectors.EVENT_READ)
        return face

    def _forward(self, direction, client, sock, datagram, destination):
        verb = _verb(datagram)
        key = (direction, client)
        if verb is not None:
            self._release_key(key)  # control never overtakes held data
            if verb in self.drop_verbs:
                left = self.drop_verbs[verb]
                if left is None or left > 0:
                    if left is not None:
                        self.drop_verbs[verb] = left - 1
                    with self._lock:
                        self.dropped_verbs[verb] = self.dropped_verbs.get(verb, 0) + 1
                        self.counts["dropped"] += 1
                    return
            if self.data_only:
                self._send(sock, datagram, destination)
                return
        if self.inject_garbage and direction == "down" and verb is None and client not in self._garbage_sent:
            self._garbage_sent.add(client)
            self._inject(sock, datagram, destination)
        if self.inject_garbage and direction == "up" and destination[1] != self.server[1] \
                and ("up", client) not in self._garbage_sent:
            self._garbage_sent.add(("up", client))
            for item in (b"\xd1\x01\x00\x00" + bytes(60),                            # data, on a session
                         b"NACK transfer=0 received=0 lost=0 ranges=0-5\n",         # another transfer id
                         b"\xff\xfe\x00 not a line",                                 # not ASCII
                         b"REPORT transfer=x\n"):                                   # malformed
                self._send(sock, item, destination)
            self.counts["injected"] += self.GARBAGE_UP
        loss = self.loss_up if direction == "up" else self.loss_down
        forced = False
        if verb is None and direction == "down" and self.drop_seqs and len(datagram) >= HEADER.size:
            seq = HEADER.unpack_from(datagram)[4]
            if seq in self.drop_seqs and (client, seq) not in self._seqs_dropped_once:
                self._seqs_dropped_once.add((client, seq))
                forced = True
        if forced or (loss and self.random.random() < loss):
            with self._lock:
                self.counts["dropped"] += 1
                if verb is None and direction == "down" and len(datagram) >= HEADER.size:
                    seq = HEADER.unpack_from(datagram)[4]
                    self.dropped_data.setdefault(client[1], set()).add(seq)
                elif verb is not None:
                    self.dropped_verbs[verb] = self.dropped_verbs.get(verb, 0) + 1
            return
        if self.duplicate and self.random.random() < self.duplicate:
            self.counts["duplicated"] += 1
            self._send(sock, datagram, destination)
        if verb is None and self.reorder and key not in self.held and self.random.random() < self.reorder:
            self.counts["reordered"] += 1
            self.held[key] = (time.monotonic() + HOLD_SECONDS, sock, datagram, destination)
            return
        self._send(sock, datagram, destination)
        self._release_key(key)

    def _send(self, sock, datagram, destination):
        try:
            sock.sendto(datagram, destination)
            self.counts["forwarded"] += 1
        except OSError:
            pass

    def _release_key(self, key):
        held = self.held.pop(key, None)
        if held is not None:
            self._send(held[1], held[2], held[3])

    def _release_held(self, now):
        for key in [k for k, v in self.held.items() if v[0] <= now]:
            self._release_key(key)

    def _inject(self, face, datagram, client):
        """Malformed datagrams from the session's face, and a forged copy of real
        data from a stranger, all sent before the real datagram goes on."""
        if len(datagram) < HEADER.size:
            return
        _, version, flags, transfer, seq = HEADER.unpack_from(datagram)
        payload = datagram[HEADER.size:]
        forged = bytes(len(payload)) if payload else b""
        bad = [
            datagram[:5],                                                             # truncated header
            HEADER.pack(DATA_TYPE, version, 0, (transfer + 1) % 2 ** 32, seq) + forged,  # old/other transfer id
            HEADER.pack(DATA_TYPE, version, 0, transfer, 2 ** 32 - 1) + forged,       # seq out of range
            HEADER.pack(DATA_TYPE, 9, 0, transfer, seq) + forged,                     # unknown version
            HEADER.pack(DATA_TYPE, version, 0, transfer, seq) + forged + b"x" * 100,  # longer than the chunk
            HEADER.pack(DATA_TYPE, version, 0, transfer, seq) + forged[:-1],          # shorter than the chunk
            b"HELLO \xff\xfe not ascii\n",                                            # bad control line
            b"\xd1",                                                                  # one byte
        ]
        for item in bad:
            self._send(face, item, client)
        stranger = self._socket()
        try:
            stranger.sendto(HEADER.pack(DATA_TYPE, version, flags, transfer, seq) + forged, client)
        finally:
            stranger.close()
        self.counts["injected"] += len(bad) + 1

    def close(self):
        """Stop the thread and close every socket."""
        self._stop.set()
        self.thread.join(2.0)
        for sock in list(self.roles):
            try:
                self.selector.unregister(sock)
            except (KeyError, ValueError):
                pass
            sock.close()
        self.selector.close()
