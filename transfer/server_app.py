"""The interactive server program both protocols share: prepare the files,
listen, print the addresses, then menu -> clients -> test -> summary, again
until q (or once with --once).

A protocol supplies a server object with ``port``, ``run_test(entry,
clients, board) -> TestOutcome`` and ``close()``.
"""

import os
import sys
import time

from transfer import catalog
from transfer.cli import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK
from transfer.errors import UserError
from transfer.i18n import N_, _
from transfer.text import display
from transfer.netinfo import listening_addresses
from transfer.prompts import Prompter
from transfer.status import StatusBoard
from transfer.tables import summary_table


class TestOutcome:
    """What a server test produced: its records, log path and verdict."""

    def __init__(self, records, log_path, ok, interrupted=False):
        self.records = records
        self.log_path = log_path
        self.ok = ok
        self.interrupted = interrupted


def wait_for_test(finished, test_timeout, test_log):
    """Wait until the *finished* Event is set (or *test_timeout* s pass, 0 = no
    limit, logged as an event).  Returns True if Ctrl-C interrupted the wait."""
    deadline = time.monotonic() + test_timeout if test_timeout else None
    try:
        while not finished.wait(0.1):
            if deadline is not None and time.monotonic() > deadline:
                test_log.add_event("timeout", "-", N_("test did not finish within --test-timeout"))
                return False
    except KeyboardInterrupt:
        return True
    return False


def prepare_catalog(config, out):
    """Create the standard files if needed and list what can be offered."""
    if config.create_files:
        catalog.ensure_standard_files(config.files_dir, stream=sys.stderr if not config.quiet else None)
    entries = catalog.list_files(config.files_dir)
    if not entries:
        raise UserError(_("no files to offer in {}").format(config.files_dir))
    catalog.hash_catalog(entries, stream=None if config.quiet else sys.stderr)  # before listening, cached on disk
    return entries


def write_port_file(path, port):
    """Write the listening port for scripts, atomically (a temporary name, then rename)."""
    temp = "{}.{}.tmp".format(path, os.getpid())
    try:
        with open(temp, "w") as handle:
            handle.write("{}\n".format(port))
        os.replace(temp, path)
    except OSError as exc:
        raise UserError(_("cannot write the port file {}: {}").format(path, exc.strerror or exc))


def choose_file(config, entries, prompter, out, preset):
    """The file of the next test: *preset* (--file), or the menu.  None means quit."""
    if preset is not None:
        return catalog.select_file(entries, preset)
    out.write(_("\nFiles in {}:\n").format(config.files_dir))
    for number, entry in enumerate(entries, 1):
        out.write(_("  {:>2}. {:<30} {:>15,} bytes  ({})\n").format(
            number, display(entry.name, 60), entry.size, catalog.format_size(entry.size)))

    def pick(answer):
        try:
            return catalog.select_file(entries, answer)
        except UserError as exc:
            raise ValueError(str(exc))
    return prompter.ask_choice(_("File to send (number or name, q to quit): "), pick)


def choose_clients(config, prompter, preset):
    """Clients for the next test: *preset* (--clients) or the prompt."""
    if preset is not None:
        if preset > config.max_clients:
            raise UserError(_("--clients {} is over --max-clients {}").format(preset, config.max_clients))
        return preset
    return prompter.ask_int(_("How many clients does this test wait for?"),
                            min(25, config.max_clients), 1, config.max_clients)


def run_server_program(config, server_factory, protocol_label, extra_columns=(), input_fn=None):
    """The whole interactive (or --once) server session; returns the exit status."""
    out = sys.stdout
    prompter = Prompter(input_fn=input_fn, output=out)
    entries = prepare_catalog(config, out)
    if config.file is not None:
        catalog.select_file(entries, config.file)  # fail early on a bad --file
    if config.clients is not None and config.clients > config.max_clients:
        raise UserError(_("--clients {} is over --max-clients {}").format(config.clients, config.max_clients))
    preset_file, preset_clients = config.file, config.clients
    server = server_factory(config)
    try:
        if config.port_file:
            write_port_file(config.port_file, server.port)
        if not config.quiet:
            out.write(_("{} server listening on port {}. Clients can connect to:\n").format(protocol_label,
                                                                                           server.port))
            for address in listening_addresses(config.bind, server.port):
                out.write("  {}\n".format(address))
            out.flush()
        status = EXIT_OK
        while True:
            entries = catalog.list_files(config.files_dir)
            entry = choose_file(config, entries, prompter, out, preset_file)
            if entry is None:
                return status
            clients = choose_clients(config, prompter, preset_clients)
            preset_file = preset_clients = None  # flags answer the first test; the menu the next ones
            if not config.quiet:
                out.write(_("Test: {} ({:,} bytes) to {} client(s). SHA-256 {}\n").format(
                    display(entry.name), entry.size, clients, entry.sha256))
                out.write(_("Waiting for {} client(s) to connect and send READY (Ctrl-C stops)...\n").format(clients))
                out.flush()
            board = StatusBoard(_("{} server - {} to {} client(s)").format(protocol_label, display(entry.name, 60),
                                                                        clients),
                                quiet=config.quiet)
            outcome = server.run_test(entry, clients, board)
            if not config.quiet or not outcome.ok:
                out.write("\n" + summary_table(outcome.records, extra_columns) + "\n")
            out.write(_("log: {}\n").format(outcome.log_path))
            out.flush()
            if outcome.interrupted:
                return EXIT_INTERRUPTED
            if not outcome.ok:
                status = EXIT_FAILED
            if config.once:
                return status
    finally:
        server.close()
