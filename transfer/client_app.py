"""The client program both protocols share: ask for the server and how many
clients, start one thread per client, wait until all have their handshake,
confirm READY once for all, wait for the transfers, print the summary, write
the log.

A protocol supplies a session class: ``Session(config, client_id, clients,
board, go, cancel)`` with ``run()`` (the thread body), ``record`` (a
ConnectionRecord), ``offer`` (what the server announced, or None),
``handshake_done`` (an Event set once the session is connected or failed)
and ``abort()`` (close its socket from another thread).
"""

import os
import sys
import threading
import time

from transfer.cli import EXIT_FAILED, EXIT_OK
from transfer.diskspace import free_space_problem
from transfer.errors import ProtocolError, TransferFailed
from transfer.paths import disk_usage, human_size, received_file_name, received_files
from transfer.prompts import Prompter
from transfer.status import StatusBoard
from transfer.tables import BUSY_PREFIX, is_busy, summary_table  # noqa: F401 (BUSY_PREFIX for callers)
from transfer.testlog import TestLog
from transfer.text import display, host_port
from transfer.i18n import N_, _, localize


class ClientRunResult:
    """The outcome of run_client: records, log path, verdict."""

    def __init__(self, records, log_path, ok, interrupted=False, cancelled=False):
        self.records = records
        self.log_path = log_path
        self.ok = ok
        self.interrupted = interrupted
        self.cancelled = cancelled

    @property
    def exit_status(self):
        """0 when every client verified its file, else 1 (130 if interrupted)."""
        if self.interrupted:
            return 130
        return EXIT_OK if self.ok else EXIT_FAILED


def received_path(config, client_id, offer):
    """Where client *client_id* keeps the file of *offer*:
    ``<received_dir>/Cliente<k>-Prueba-<n>.txt``, k the client's own number (unique
    and stable within a run: the same as its row and log record), n the test's
    client count as the server announced it in FILE (not how many clients this
    program started: a 5-client test gives ``Cliente8-Prueba-5.txt`` to a
    client started as number 8 of 8)."""
    return os.path.join(config.received_dir, received_file_name(client_id, offer.clients))


def failure_reason(exc, rec, cancelled):
    """The reason to log for *exc*, which ended a client session (*rec* its
    record; *cancelled* True after Ctrl-C or a cancelled READY)."""
    if isinstance(exc, TransferFailed):
        return str(exc)
    if isinstance(exc, ProtocolError):
        return N_("protocol error: {}").format(exc)
    if isinstance(exc, OSError):
        if cancelled:
            return N_("interrupted after {:,} bytes").format(rec.bytes)
        return N_("network error after {:,} bytes: {}").format(rec.bytes, exc.strerror or exc)
    return N_("internal error: {!r}").format(exc)


def ask_missing_settings(config, prompter, default_port):
    """Fill host and client count from prompts where no flag gave them."""
    if not config.host:
        config.host = prompter.ask_text(_("Server address"), "127.0.0.1")
    if not config.port:
        config.port = default_port
    if config.clients is None:
        config.clients = prompter.ask_int(_("How many clients to start?"), 1, 1, config.max_clients)
    return config


def run_client(config, session_class, protocol, mode="stream", settings=None, prompter=None):
    """Run *config.clients* sessions of *session_class* and return a ClientRunResult.

    With ``config.assume_yes`` nothing is asked; otherwise *prompter* asks for
    the READY confirmation.  Ctrl-C closes every session, writes the log and
    re-raises nothing: the result says ``interrupted``.
    """
    clients = config.clients
    board = StatusBoard(_("{} client - {} client(s) to {}").format(protocol.upper(), clients,
                                                                 host_port(config.host, config.port)),
                        quiet=config.quiet)
    log = TestLog(config.logs_dir, protocol, "client")
    go = threading.Event()
    cancel = threading.Event()
    sessions = [session_class(config, k, clients, board, go, cancel) for k in range(1, clients + 1)]
    # each session sets its own Event when its thread ends: a Ctrl-C that interrupts Thread.join()
    # can leave is_alive() False while the thread still runs (CPython gh-90882), so we wait on these
    finished = [threading.Event() for _session in sessions]
    threads = [threading.Thread(target=_run_session, args=(s, done), name="client-{}".format(s.record.client_id),
                                daemon=True) for s, done in zip(sessions, finished)]
    interrupted = cancelled = False
    refusal = None
    board.start()
    try:
        for thread in threads:
            thread.start()
        _wait_events([s.handshake_done for s in sessions], config.handshake_timeout + 5)
        offer = next((s.offer for s in sessions if s.offer is not None), None)
        if offer is not None:
            settings = dict(settings or {}, test_clients=offer.clients)
        log.begin(mode, offer.name if offer else None, offer.size if offer else None,
                  offer.sha256 if offer else None, clients, settings)
        connected = sum(1 for s in sessions if s.offer is not None)
        refusal = free_space_problem(config.received_dir, sum(s.offer.size for s in sessions if s.offer is not None))
        if refusal:  # before READY: a server announcing more than the disk holds gets nothing
            board.stop()
            sys.stderr.write(_("refusing the file: {}\n").format(localize(refusal)))
            sys.stderr.flush()
            cancelled = True
            cancel.set()
        elif connected and not config.assume_yes:
            board.stop()
            if prompter is None:
                prompter = Prompter()
            confirmed = prompter.confirm(
                _("{} of {} client(s) connected; file {} ({:,} bytes). Press Enter to send READY (q cancels): ").format(
                    connected, clients, display(offer.name, 100) if offer else "?", offer.size if offer else 0))
            board.start()
            if not confirmed:
                cancelled = True
                cancel.set()
        go.set()
        _wait_events(finished, None)
    except KeyboardInterrupt:
        interrupted = True
        cancel.set()
        go.set()
        for session in sessions:
            session.abort()
        _wait_events(finished, 10.0)
    finally:
        board.stop()
        if log.clients is None:
            log.begin(mode, None, None, None, clients, settings)
        for session in sessions:
            if session.record.state not in ("verified", "failed"):
                session.record.fail(N_("interrupted") if interrupted else N_("did not finish"))
            if refusal and not session.record.ok:
                session.record.reason = refusal
            if is_busy(session.record):
                session.record.extra["busy"] = True
            log.add_connection(session.record)
        log.close(interrupted=interrupted)
    records = [s.record for s in sessions]
    ok = not interrupted and not cancelled and all(r.ok for r in records)
    return ClientRunResult(records, log.path, ok, interrupted, cancelled)


#: Longest single blocking wait in the main thread: Ctrl-C is only seen between
#: waits on Windows.  Costs nothing otherwise: a wait returns the moment its
#: event is set or its thread ends.
WAIT_SLICE = 0.25


def _wait_until(done, wait, timeout):
    """Call *wait(slice)* until *done()*; False if *timeout* s (None: no limit) pass first."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while not done():
        step = WAIT_SLICE
        if deadline is not None:
            step = min(step, deadline - time.monotonic())
            if step <= 0:
                return False
        wait(step)
    return True


def _wait_events(events, timeout):
    """Wait until every Event in *events* is set (each wait wakes as soon as its
    event is set: no polling delay).  False if *timeout* s pass first."""
    deadline = None if timeout is None else time.monotonic() + timeout
    for event in events:
        left = None if deadline is None else deadline - time.monotonic()
        if not _wait_until(event.is_set, event.wait, left if left is None or left > 0 else 0):
            return False
    return True


def _run_session(session, finished):
    """A session thread's body: *finished* is set however ``session.run()`` ends."""
    try:
        session.run()
    finally:
        finished.set()


def print_client_summary(result, extra_columns=(), out=None):
    """The summary table and the log's path."""
    out = out or sys.stdout
    out.write("\n" + summary_table(result.records, extra_columns) + "\n")
    saved = [r.saved_as for r in result.records if r.saved_as]
    partial = [r.partial_as for r in result.records if r.partial_as]
    if saved:
        folder = os.path.dirname(saved[0])
        count, total = disk_usage(received_files(folder))
        out.write(_("received files: {} in {} (the folder now holds {} received file(s), {}; "
                  "scripts/clean.py deletes them)\n").format(len(saved), folder, count, human_size(total)))
    busy = [r for r in result.records if is_busy(r)]
    failed = [r for r in result.records if not r.ok and not is_busy(r)]
    if busy:
        out.write(_("{} client(s) turned away with BUSY (the test was full or already running): {}\n").format(
            len(busy), ", ".join(str(r.client_id) for r in busy)))
    if failed:
        out.write(_("{} failed transfer(s): {}\n").format(
            len(failed),
            _("partial data kept as .part files") if partial else _("no file was left under a final name")))
    out.write(_("log: {}\n").format(result.log_path))
    out.flush()
