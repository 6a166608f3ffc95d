"""Constants and command-line flags that the UDP client and server share.

Both programs import from here (``udp.server`` re-exports these names so
older imports keep working).  PROTOCOL.md ("UDP") explains the numbers.
"""

import argparse

from transfer.config import seconds
from transfer.i18n import _
from transfer.units import parse_size
from udp.packets import HEADER_SIZE, MAX_DATAGRAM, MIN_DATAGRAM

DEFAULT_PORT = 5002
DEFAULT_CHUNK_SIZE = 64000          # datagram payload (header + data), chosen by measurement (PROTOCOL.md)
DEFAULT_IDLE_TIMEOUT = 5.0          # client: silence that ends a transfer
HELLO_KEEPALIVE = 1.0               # a client waiting to send READY repeats HELLO this often (--hello-timeout)

# Raw mode's default rate per client when --rate is not given: what one Python receiver absorbs at the
# session's datagram size (about DATAGRAMS_PER_SECOND datagrams/s, measured on veth with 1,472-byte
# datagrams), at most DEFAULT_TOTAL_RATE shared by the clients of a test (measured on loopback with
# 64,000-byte datagrams).  In both modes the delivery-rate controller then follows what arrives.
DEFAULT_TOTAL_RATE = 700 * 1000 * 1000
DATAGRAMS_PER_SECOND = 100 * 1000

RATE_CONTROLS = ("delivery", "aimd")   # --rate-control NAME (udp/ratecontrol.py); the first is the default


def rate_value(text, low=0, high=None, what="--rate"):
    """argparse type: bytes (/s) with K/M/G suffixes (powers of 1000) within [low, high]."""
    try:
        value = parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc))
    if value < low or (high is not None and value > high):
        raise argparse.ArgumentTypeError(_("{} must be {} to {} bytes (header included), got {}").format(
            what, low, high, text))
    return value


def chunk_value(text):
    """argparse type: a datagram payload size within [MIN_DATAGRAM, 65507]."""
    return rate_value(text, MIN_DATAGRAM, MAX_DATAGRAM, "--chunk-size")


def session_ports(text):
    """argparse type: 'LOW-HIGH' (1024..65535), the ports session sockets may use."""
    low, sep, high = str(text).partition("-")
    if not (low.isdigit() and high.isdigit() and sep) or not 1 <= int(low) <= int(high) <= 65535:
        raise argparse.ArgumentTypeError(_("expected a port range LOW-HIGH such as 5003-5102, got {!r}").format(text))
    return int(low), int(high)


def add_udp_flags(parser, role):
    """--reliable, --rate, --rate-control, --chunk-size, --session-ports (server), --idle-timeout (both)."""
    if role == "server":
        parser.add_argument("--session-ports", type=session_ports, metavar="LOW-HIGH",
                            help="ports the per-client session sockets may use, e.g. 5003-5102 (one per client "
                                 "of a test), so a firewall can open just those; default: any free port")
    parser.add_argument("--reliable", action="store_true",
                        help="reliable mode (both sides): the client NACKs missing chunks, the server resends "
                             "them and adapts its rate to the loss; default is raw mode (each chunk sent once)")
    if role == "server":
        parser.add_argument("--rate", type=rate_value, metavar="R",
                            help="sending rate per client in bytes/s, K/M/G suffixes (powers of 1000); 0 = "
                                 "unpaced. Raw mode: a fixed rate. Default: follow the rate the client reports "
                                 "receiving, starting from what a receiver absorbs at the datagram size "
                                 "({:,} datagrams/s, at most {:,} bytes/s shared by the clients of the test). "
                                 "In reliable mode this is the starting rate, which then adapts".format(
                                     DATAGRAMS_PER_SECOND, DEFAULT_TOTAL_RATE))
        parser.add_argument("--rate-control", choices=RATE_CONTROLS, default=RATE_CONTROLS[0],
                            help="reliable mode's rate controller: delivery = pace at the delivery rate the "
                                 "client reports, probing above it (BBR-style); aimd = the older loss-driven "
                                 "controller (default %(default)s)")
        parser.add_argument("--chunk-size", type=chunk_value, default=None, metavar="N",
                            help="datagram payload in bytes, the {}-byte header included ({} to {}; default {}, "
                                 "or what fits one IP packet when the path to a client has a smaller MTU, "
                                 "e.g. 1472 on Ethernet)".format(HEADER_SIZE, MIN_DATAGRAM, MAX_DATAGRAM,
                                                                 DEFAULT_CHUNK_SIZE))
    if role == "server":
        parser.add_argument("--idle-timeout", type=seconds, metavar="S",
                            help="seconds of silence from a client after the data (no NACK, no REPORT) before "
                                 "its session is given up (default: --timeout)")
    else:
        parser.add_argument("--idle-timeout", type=seconds, default=DEFAULT_IDLE_TIMEOUT, metavar="S",
                            help="seconds without a datagram from the server that end a transfer: raw mode "
                                 "counts what is missing, reliable mode gives up (default %(default)s)")
