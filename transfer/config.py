"""Settings of a server or a client run, and the command-line flags both
protocols share.  Tests and the benchmark build these objects directly."""

from __future__ import annotations  # the annotations below are never evaluated: no typing import

import argparse
import sys

from transfer import i18n, paths
from transfer.i18n import _

DEFAULT_MAX_CLIENTS = 25
DEFAULT_TIMEOUT = 30.0          # seconds a socket operation may block during a transfer
DEFAULT_HANDSHAKE_TIMEOUT = 300.0  # seconds to wait for READY / for the others to be ready
DEFAULT_HELLO_TIMEOUT = 15.0    # seconds a new connection has to say HELLO
DEFAULT_MAX_PENDING = 256       # TCP: connections waiting for their HELLO at once (--max-pending)


class _Settings:
    """What @dataclass gave these classes, without its 11 ms of imports
    (dataclasses, inspect, typing) on every program's start: keyword
    construction with the class attributes as defaults (a dict or list
    default is copied per instance), equality and repr."""

    def __init__(self, **values):
        names = self._names()
        for name in values:
            if name not in names:
                raise TypeError("{}() got an unexpected keyword argument {!r}".format(type(self).__name__, name))
        for name in names:
            value = values[name] if name in values else getattr(type(self), name)
            setattr(self, name, value.copy() if name not in values and isinstance(value, (dict, list)) else value)

    @classmethod
    def _names(cls):
        names = []
        for klass in reversed(cls.__mro__):
            names.extend(n for n in klass.__dict__.get("__annotations__", {}) if n not in names)
        return names

    def __eq__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self._names())

    def __repr__(self):
        return "{}({})".format(type(self).__name__, ", ".join(
            "{}={!r}".format(n, getattr(self, n)) for n in self._names()))


class ServerConfig(_Settings):
    """What a server run needs (see ``--help`` of either server)."""
    bind: str = "0.0.0.0"
    port: int = 0
    file: Optional[str] = None
    clients: Optional[int] = None
    once: bool = False
    max_clients: int = DEFAULT_MAX_CLIENTS
    files_dir: str = str(paths.FILES_DIR)
    logs_dir: str = str(paths.LOGS_DIR)
    quiet: bool = False
    port_file: Optional[str] = None
    timeout: float = DEFAULT_TIMEOUT
    handshake_timeout: float = DEFAULT_HANDSHAKE_TIMEOUT
    hello_timeout: float = DEFAULT_HELLO_TIMEOUT
    test_timeout: float = 0.0      # 0 = wait for clients as long as it takes
    create_files: bool = True
    max_pending: int = DEFAULT_MAX_PENDING   # TCP only: connections waiting for HELLO
    # UDP only
    reliable: bool = False
    rate: Optional[int] = None
    chunk_size: Optional[int] = None
    idle_timeout: Optional[float] = None


class ClientConfig(_Settings):
    """What a client run needs (see ``--help`` of either client)."""
    host: Optional[str] = "127.0.0.1"
    port: int = 0
    clients: Optional[int] = None
    assume_yes: bool = False
    received_dir: str = str(paths.RECEIVED_DIR)
    logs_dir: str = str(paths.LOGS_DIR)
    quiet: bool = False
    timeout: float = DEFAULT_TIMEOUT
    handshake_timeout: float = DEFAULT_HANDSHAKE_TIMEOUT
    max_clients: int = 1000
    keep_partial: bool = False
    # UDP only
    reliable: bool = False
    rate: Optional[int] = None
    chunk_size: Optional[int] = None
    idle_timeout: Optional[float] = None
    extra: dict = {}  # copied for each instance


def positive_int(text):
    """argparse type: a whole number >= 1."""
    if not (str(text).isascii() and str(text).isdigit()) or int(text) < 1:
        raise argparse.ArgumentTypeError(_("expected a whole number of at least 1, got {!r}").format(text))
    return int(text)


def port_number(text):
    """argparse type: 0..65535."""
    if not (str(text).isascii() and str(text).isdigit()) or int(text) > 65535:
        raise argparse.ArgumentTypeError(_("expected a port from 0 to 65535, got {!r}").format(text))
    return int(text)


def seconds(text):
    """argparse type: a positive number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(_("expected a number of seconds, got {!r}").format(text))
    if not value > 0 or value > 86400 * 7:
        raise argparse.ArgumentTypeError(_("expected a positive number of seconds, got {!r}").format(text))
    return value


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports bad flags in one line (exit 2) without the usage dump, in the
    language chosen from ``--lang`` or the locale (see transfer/i18n.py; --help too)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", i18n.HelpFormatter)
        super().__init__(*args, **kwargs)

    def parse_known_args(self, args=None, namespace=None):
        """Choose the language first (``--lang`` or the locale), so --help and errors use it."""
        i18n.setup(sys.argv[1:] if args is None else args)
        return super().parse_known_args(args, namespace)

    def error(self, message):
        self.exit(2, _("{}: error: {} (see --help)\n").format(self.prog, message))


def server_parser(prog, description, default_port):
    """The flags every server has."""
    parser = OneLineParser(prog=prog, description=description)
    parser.add_argument("--bind", default="0.0.0.0", metavar="ADDR",
                        help="address to listen on (default: all interfaces, 0.0.0.0)")
    parser.add_argument("--port", type=port_number, default=default_port,
                        help="port to listen on (default %(default)s; 0 picks a free one)")
    parser.add_argument("--file", metavar="NAME",
                        help="file to send: a name from the files folder or its menu number (else asked)")
    parser.add_argument("--clients", type=positive_int, metavar="N",
                        help="clients this test waits for (else asked; default answer 25)")
    parser.add_argument("--once", action="store_true",
                        help="run one test and exit: status 0 only if every client verified")
    parser.add_argument("--max-clients", type=positive_int, default=DEFAULT_MAX_CLIENTS, metavar="N",
                        help="largest number of clients a test may wait for (default %(default)s)")
    parser.add_argument("--files-dir", metavar="DIR", help="folder of files to offer (default: files/)")
    parser.add_argument("--logs-dir", metavar="DIR", help="folder for logs (default: Logs/)")
    parser.add_argument("--no-create", action="store_true",
                        help="do not create the standard 100MB.txt and 250MB.txt when missing")
    parser.add_argument("--quiet", "-q", action="store_true", help="print only errors and the final result")
    parser.add_argument("--port-file", metavar="PATH",
                        help="write the port actually listened on to PATH (for scripts using --port 0)")
    parser.add_argument("--timeout", type=seconds, default=DEFAULT_TIMEOUT, metavar="S",
                        help="seconds a send or receive may stall before the client is dropped (default %(default)s)")
    parser.add_argument("--handshake-timeout", type=seconds, default=DEFAULT_HANDSHAKE_TIMEOUT, metavar="S",
                        help="seconds a connected client may take to send READY (default %(default)s)")
    parser.add_argument("--hello-timeout", type=seconds, default=DEFAULT_HELLO_TIMEOUT, metavar="S",
                        help="seconds a new connection has to send HELLO (default %(default)s)")
    parser.add_argument("--test-timeout", type=seconds, metavar="S",
                        help="give up a test that has not finished after S seconds (default: no limit)")
    i18n.add_argument(parser)
    return parser


def server_config_from_args(args):
    """ServerConfig from parsed server flags."""
    return ServerConfig(
        bind=args.bind, port=args.port, file=args.file, clients=args.clients, once=args.once,
        max_clients=args.max_clients,
        files_dir=str(paths.resolve_dir(args.files_dir, paths.FILES_DIR)),
        logs_dir=str(paths.resolve_dir(args.logs_dir, paths.LOGS_DIR)),
        quiet=args.quiet, port_file=args.port_file, timeout=args.timeout,
        handshake_timeout=args.handshake_timeout, hello_timeout=args.hello_timeout,
        test_timeout=args.test_timeout or 0.0, create_files=not args.no_create,
    )


def client_parser(prog, description, default_port):
    """The flags every client has."""
    parser = OneLineParser(prog=prog, description=description)
    parser.add_argument("--host", metavar="ADDR", help="server address (else asked; default answer 127.0.0.1)")
    parser.add_argument("--port", type=port_number, default=default_port,
                        help="server port (default %(default)s)")
    parser.add_argument("--clients", type=positive_int, metavar="N",
                        help="how many clients to start, one connection each (else asked)")
    parser.add_argument("--yes", "-y", action="store_true",
                        help="send READY as soon as every client is connected, without asking")
    parser.add_argument("--received-dir", metavar="DIR",
                        help="folder for received files (default: ArchivosRecibidos/)")
    parser.add_argument("--logs-dir", metavar="DIR", help="folder for logs (default: Logs/)")
    parser.add_argument("--keep-partial", action="store_true",
                        help="keep a failed transfer's data as <name>.<random>.part instead of deleting it")
    parser.add_argument("--quiet", "-q", action="store_true", help="print only errors and the final result")
    parser.add_argument("--timeout", type=seconds, default=DEFAULT_TIMEOUT, metavar="S",
                        help="seconds a connect or receive may stall before the client gives up (default %(default)s)")
    parser.add_argument("--handshake-timeout", type=seconds, default=DEFAULT_HANDSHAKE_TIMEOUT, metavar="S",
                        help="seconds to wait for the server's answers before the data (default %(default)s)")
    parser.add_argument("--max-clients", type=positive_int, default=1000, metavar="N",
                        help="largest number of clients accepted at the prompt (default %(default)s)")
    i18n.add_argument(parser)
    return parser


def client_config_from_args(args):
    """ClientConfig from parsed client flags."""
    return ClientConfig(
        host=args.host, port=args.port, clients=args.clients, assume_yes=args.yes,
        received_dir=str(paths.resolve_dir(args.received_dir, paths.RECEIVED_DIR)),
        logs_dir=str(paths.resolve_dir(args.logs_dir, paths.LOGS_DIR)),
        quiet=args.quiet, timeout=args.timeout, handshake_timeout=args.handshake_timeout,
        max_clients=args.max_clients, keep_partial=args.keep_partial,
    )
