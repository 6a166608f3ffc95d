"""Load and soak runs of the real programs on this machine (loopback only).

    python3 scripts/loadtest.py load --clients 25 --file 250MB.txt --protocol tcp
    python3 scripts/loadtest.py load --clients 100 --file 100MB.txt --protocol udp-reliable
    python3 scripts/loadtest.py soak --tests 20 --clients 10 --file 100MB.txt --protocol tcp

``load`` runs one test: a server process (``--once``) and one client process
with ``--clients N``; it samples both processes' RSS, threads and open file
descriptors from /proc while they run, checks every received file (the
client's log and, unless ``--no-rehash``, its SHA-256 recomputed here),
deletes the received files and prints a table.

``soak`` keeps ONE server process for ``--tests`` consecutive tests (the
first from --file/--clients, the next ones by answering its menu through
stdin) and after each test samples its RSS (VmRSS, VmHWM), threads and fds:
threads and fds must come back to the level after the first test, RSS must
not keep growing.  Received files are deleted after each test.

Exit status 0 when every file verified and nothing leaked.  The long runs
are not part of the unit tests (tests/test_soak_small.py runs small ones).
Files come from the project's files/ folder (or --files-dir); received
files and logs go to a temporary folder (or --work).
"""

if __package__ in (None, ""):
    import os
    import sys
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

from tests import procs
from transfer import catalog, paths

PROTOCOLS = {
    "tcp": ("tcp", [], []),
    "udp-reliable": ("udp", ["--reliable"], ["--reliable"]),
    "udp": ("udp", [], []),
}
MiB = 1024 * 1024


class Sampler:
    """Samples /proc/<pid>/status and fds of some processes every *interval* s (peaks kept)."""

    def __init__(self, interval=0.1):
        self.interval = interval
        self.pids = {}
        self.peaks = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def watch(self, label, pid):
        self.pids[label] = pid
        self.peaks.setdefault(label, {"VmRSS": 0, "VmHWM": 0, "Threads": 0, "fds": 0})

    def sample(self, label):
        try:
            values = procs.proc_status(self.pids[label])
        except (OSError, ValueError, KeyError):
            return None
        peak = self.peaks[label]
        for key, value in values.items():
            peak[key] = max(peak.get(key, 0), value)
        return values

    def _run(self):
        while not self._stop.wait(self.interval):
            for label in list(self.pids):
                self.sample(label)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join(5)


class Run:
    """Folders of one run: a temporary work folder with logs/ and recv/."""

    def __init__(self, files_dir, work=None):
        self.files = Path(files_dir)
        self.root = Path(tempfile.mkdtemp(prefix="loadtest-", dir=work))
        self.logs = self.root / "logs"
        self.recv = self.root / "recv"
        self.logs.mkdir()
        self.recv.mkdir()

    # the procs helpers expect a Lab-like object
    def logs_of(self, protocol, role):
        return procs.Lab.logs_of(self, protocol, role)

    def close(self, keep=False):
        if not keep:
            shutil.rmtree(str(self.root), ignore_errors=True)


def file_entry(files_dir, name):
    entries = catalog.list_files(files_dir)
    entry = catalog.select_file(entries, name)
    return entry, entries.index(entry) + 1


def verify_received(run, entry, clients, rehash, log_records):
    """(verified count, problems) for the files of one test; then deletes them."""
    problems = []
    verified = 0
    by_id = {r.get("client_id"): r for r in log_records}
    for k in range(1, clients + 1):
        path = run.recv / paths.received_file_name(k, clients)
        rec = by_id.get(k)
        if rec is None or not rec.get("ok"):
            problems.append("client {}: {}".format(k, rec.get("reason") if rec else "no record"))
            continue
        if rec.get("sha256_received") != entry.sha256:
            problems.append("client {}: log hash differs".format(k))
            continue
        if not path.is_file() or path.stat().st_size != entry.size:
            problems.append("client {}: file missing or wrong size".format(k))
            continue
        if rehash and procs.sha256_of(path) != entry.sha256:
            problems.append("client {}: SHA-256 of the saved file differs".format(k))
            continue
        verified += 1
    for leftover in run.recv.iterdir():
        if leftover.is_file():
            leftover.unlink()
    return verified, problems


def run_clients(run, protocol, client_flags, port, clients, timeout, sampler=None, quiet=True):
    """One client process with --clients N; returns (status, seconds, stderr tail)."""
    argv = [procs.PYTHON, procs.program(protocol, "client"), "--host", "127.0.0.1", "--port", str(port),
            "--clients", str(clients), "--yes", "--received-dir", str(run.recv), "--logs-dir", str(run.logs),
            "--max-clients", str(max(clients, 1000))] + list(client_flags)
    if quiet:
        argv.append("--quiet")
    started = time.monotonic()
    proc = procs.Proc(argv, run.root, "client")
    if sampler is not None:
        sampler.watch("client", proc.pid)
    status = proc.wait(timeout)
    if status is None:
        proc.stop()
        status = "killed after {} s".format(timeout)
    else:
        proc.stop()
    return status, time.monotonic() - started, proc.stderr()[-2000:].decode("utf-8", "replace")


def server_argv(run, protocol, server_flags, name, clients, once, max_clients, port_file, timeout):
    argv = [procs.PYTHON, procs.program(protocol, "server"), "--bind", "127.0.0.1", "--port", "0",
            "--port-file", str(port_file), "--no-create", "--files-dir", str(run.files),
            "--logs-dir", str(run.logs), "--quiet", "--file", name, "--clients", str(clients),
            "--max-clients", str(max_clients), "--timeout", str(timeout)] + list(server_flags)
    if once:
        argv.append("--once")
    return argv


def start_server_proc(run, argv, port_file, stdin_pipe=False):
    proc = procs.Proc(argv, run.root, "server", stdin_pipe=stdin_pipe)
    ok = procs.wait_for(lambda: (port_file.exists() and port_file.read_text().endswith("\n"))
                        or proc.popen.poll() is not None, 30)
    if not ok or proc.popen.poll() is not None:
        proc.stop()
        raise SystemExit("server did not start: {}".format(proc.stderr()[-800:].decode("utf-8", "replace")))
    return proc, int(port_file.read_text().strip())


def summary_of(run, protocol, role, index=-1):
    logs = run.logs_of(protocol, role)
    if not logs:
        return None, []
    log = logs[index]
    summary = procs.records_of(log, "summary")
    return (summary[0] if summary else None), procs.records_of(log, "connection")


# -- load ---------------------------------------------------------------------------------

def load(args):
    protocol, server_flags, client_flags = PROTOCOLS[args.protocol]
    server_flags = server_flags + list(args.server_flag or [])
    client_flags = client_flags + list(args.client_flag or [])
    run = Run(args.files_dir, args.work)
    entry, _ = file_entry(run.files, args.file)
    print("load: {} x {} ({:,} bytes) over {}; work folder {}".format(
        args.clients, entry.name, entry.size, args.protocol, run.root), flush=True)
    port_file = run.root / "port"
    server, port = start_server_proc(run, server_argv(run, protocol, server_flags, entry.name, args.clients, True,
                                                      args.clients, port_file, args.timeout), port_file)
    sampler = Sampler()
    sampler.watch("server", server.pid)
    sampler.sample("server")
    idle = dict(sampler.peaks["server"])
    sampler.start()
    try:
        status, seconds, err = run_clients(run, protocol, client_flags, port, args.clients, args.run_timeout,
                                           sampler)
        server_status = server.wait(120)
    finally:
        sampler.stop()
        server.stop()
    s_summary, _ = summary_of(run, protocol, "server")
    c_summary, c_records = summary_of(run, protocol, "client")
    verified, problems = verify_received(run, entry, args.clients, not args.no_rehash, c_records)
    row = {
        "protocol": args.protocol, "clients": args.clients, "file": entry.name, "verified": verified,
        "client_status": status, "server_status": server_status, "seconds": seconds,
        "aggregate_MBps": (c_summary or {}).get("aggregate_rate_bytes_per_s"),
        "server_aggregate_MBps": (s_summary or {}).get("aggregate_rate_bytes_per_s"),
        "server": sampler.peaks["server"], "client": sampler.peaks.get("client", {}), "server_idle": idle,
        "problems": problems,
    }
    print_load_table([row])
    if problems:
        print("problems:\n  " + "\n  ".join(problems[:20]))
    if status != 0:
        print("client stderr (tail):\n" + err)
    run.close(keep=args.keep)
    ok = verified == args.clients and status == 0 and server_status == 0
    print("RESULT: {}".format("OK" if ok else "FAILED"))
    return 0 if ok else 1


def _mb(value):
    return "{:,.0f}".format(value / 1e6) if value else "-"


def _mib_kb(kb):
    return "{:,.0f}".format(kb / 1024.0) if kb else "-"


def print_load_table(rows):
    headers = ["protocol", "clients", "file", "verified", "wall s", "agg MB/s (client log)",
               "srv peak RSS MiB", "srv threads", "srv fds", "cli peak RSS MiB", "cli threads"]
    body = []
    for r in rows:
        body.append([r["protocol"], r["clients"], r["file"], "{}/{}".format(r["verified"], r["clients"]),
                     "{:.1f}".format(r["seconds"]), _mb(r["aggregate_MBps"]),
                     _mib_kb(r["server"].get("VmHWM")), r["server"].get("Threads", "-"), r["server"].get("fds", "-"),
                     _mib_kb(r["client"].get("VmHWM")), r["client"].get("Threads", "-")])
    print_table(headers, body)


def print_table(headers, rows):
    cells = [[str(c) for c in row] for row in rows]
    widths = [max([len(h)] + [len(row[i]) for row in cells]) for i, h in enumerate(headers)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells:
        print("| " + " | ".join(c.rjust(w) if c[:1].isdigit() else c.ljust(w) for c, w in zip(row, widths)) + " |")
    sys.stdout.flush()


# -- soak ---------------------------------------------------------------------------------

def settle(sampler, label, baseline, timeout=10.0):
    """Sample until threads and fds are back to *baseline* (or timeout); the last sample."""
    last = [None]

    def back():
        last[0] = sampler.sample(label)
        return last[0] is not None and last[0]["Threads"] <= baseline["Threads"] and \
            last[0]["fds"] <= baseline["fds"]
    procs.wait_for(back, timeout, interval=0.1)
    return last[0]


def soak_run(protocol_key, files_dir, file_name, tests, clients, work=None, rehash=True, timeout=30.0,
             run_timeout=900.0, out=print, rss_slack_kb=64 * 1024, server_extra=(), client_extra=()):
    """One server process, *tests* consecutive tests; returns (ok, rows, report dict)."""
    protocol, server_flags, client_flags = PROTOCOLS[protocol_key]
    run = Run(files_dir, work)
    try:
        entry, number = file_entry(run.files, file_name)
        port_file = run.root / "port"
        server, port = start_server_proc(run, server_argv(run, protocol, list(server_flags) + list(server_extra),
                                                          entry.name, clients, False, max(clients, 25), port_file,
                                                          timeout), port_file, stdin_pipe=True)
        sampler = Sampler(interval=0.2)
        sampler.watch("server", server.pid)
        sampler.start()
        rows = []
        baseline = None
        ok = True
        try:
            for i in range(1, tests + 1):
                if i > 1:
                    server.send("{}\n{}\n".format(number, clients))
                status, seconds, err = run_clients(run, protocol, list(client_flags) + list(client_extra), port,
                                                   clients, run_timeout)
                ended = procs.wait_output(server, b"log: ", i, timeout=120, stream="stdout")
                s_summary, _ = summary_of(run, protocol, "server", i - 1) if ended else (None, [])
                c_summary, c_records = summary_of(run, protocol, "client")
                verified, problems = verify_received(run, entry, clients, rehash, c_records)
                after = settle(sampler, "server", baseline) if baseline else None
                if baseline is None:
                    time.sleep(0.5)
                    after = sampler.sample("server")
                    baseline = dict(after)
                test_ok = (status == 0 and ended and verified == clients and s_summary is not None
                           and s_summary.get("ok"))
                leak = (after is None or after["Threads"] > baseline["Threads"] or after["fds"] > baseline["fds"])
                rows.append({"test": i, "verified": verified, "clients": clients, "seconds": seconds,
                             "ok": test_ok, "after": after, "leak": leak, "problems": problems,
                             "rate": (c_summary or {}).get("aggregate_rate_bytes_per_s")})
                out("test {:>3}: {} {}/{} verified in {:.1f} s; server RSS {} MiB, HWM {} MiB, threads {}, fds {}{}"
                    .format(i, "ok    " if test_ok else "FAILED", verified, clients, seconds,
                            _mib_kb(after and after["VmRSS"]), _mib_kb(after and after["VmHWM"]),
                            after and after["Threads"], after and after["fds"], "  LEAK?" if leak else ""))
                if not test_ok:
                    ok = False
                    out("  " + "; ".join(problems[:5]) + ("\n" + err if status != 0 else ""))
                    break
            server.send("q\n")
            server_status = server.wait(60)
        finally:
            sampler.stop()
            server.stop()
        rss = [r["after"]["VmRSS"] for r in rows if r["after"]]
        # RSS: after the first test the server should hold steady (allocator noise allowed)
        grew = bool(rss) and max(rss[1:] or rss) > rss[0] + rss_slack_kb
        leaks = [r["test"] for r in rows if r["leak"]]
        report = {"tests_run": len(rows), "baseline": baseline, "peak": sampler.peaks["server"],
                  "rss_after_each_kb": rss, "rss_grew": grew, "leaky_tests": leaks,
                  "server_status": server_status}
        ok = ok and not leaks and not grew and len(rows) == tests
        return ok, rows, report
    finally:
        run.close()


def soak(args):
    print("soak: {} tests of {} client(s) x {} over {}, one server process".format(
        args.tests, args.clients, args.file, args.protocol), flush=True)
    ok, rows, report = soak_run(args.protocol, args.files_dir, args.file, args.tests, args.clients, args.work,
                                not args.no_rehash, args.timeout, args.run_timeout,
                                server_extra=args.server_flag or (), client_extra=args.client_flag or ())
    headers = ["test", "verified", "wall s", "agg MB/s", "srv RSS MiB", "srv HWM MiB", "threads", "fds"]
    print_table(headers, [[r["test"], "{}/{}".format(r["verified"], r["clients"]), "{:.1f}".format(r["seconds"]),
                           _mb(r["rate"]), _mib_kb(r["after"] and r["after"]["VmRSS"]),
                           _mib_kb(r["after"] and r["after"]["VmHWM"]), r["after"] and r["after"]["Threads"],
                           r["after"] and r["after"]["fds"]] for r in rows])
    base = report["baseline"] or {}
    print("baseline after test 1: threads {}, fds {}, RSS {} MiB; peak during the run: RSS {} MiB, "
          "threads {}, fds {}".format(base.get("Threads"), base.get("fds"), _mib_kb(base.get("VmRSS")),
                                      _mib_kb(report["peak"].get("VmHWM")), report["peak"].get("Threads"),
                                      report["peak"].get("fds")))
    print("threads/fds back to baseline after every test: {}; RSS growth beyond slack: {}".format(
        "yes" if not report["leaky_tests"] else "NO (tests {})".format(report["leaky_tests"]),
        "yes" if report["rss_grew"] else "no"))
    print("RESULT: {}".format("OK" if ok else "FAILED"))
    return 0 if ok else 1


def build_parser():
    parser = argparse.ArgumentParser(prog="scripts/loadtest.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    for name in ("load", "soak"):
        p = sub.add_parser(name)
        p.add_argument("--protocol", choices=sorted(PROTOCOLS), default="tcp")
        p.add_argument("--clients", type=int, default=25 if name == "load" else 10)
        p.add_argument("--file", default="100MB.txt", help="name (or menu number) in the files folder")
        p.add_argument("--files-dir", default=str(paths.FILES_DIR))
        p.add_argument("--work", help="folder for the temporary received files and logs (default: system temp)")
        p.add_argument("--timeout", type=float, default=30.0, help="the server's --timeout")
        p.add_argument("--run-timeout", type=float, default=1800.0, help="kill a client run after this many s")
        p.add_argument("--no-rehash", action="store_true", help="trust the client log's hash; skip re-hashing")
        p.add_argument("--server-flag", action="append", help="extra server flag (repeatable), e.g. --rate=400M")
        p.add_argument("--client-flag", action="append", help="extra client flag (repeatable)")
        if name == "load":
            p.add_argument("--keep", action="store_true", help="keep the work folder (logs)")
        else:
            p.add_argument("--tests", type=int, default=20)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.command is None:
        build_parser().print_help()
        return 2
    if not procs.have_proc():
        sys.stderr.write("loadtest: needs Linux /proc for the RSS/thread/fd samples\n")
        return 2
    if args.protocol != "tcp" and not procs.have_udp():
        sys.stderr.write("loadtest: the UDP programs are not available\n")
        return 2
    return load(args) if args.command == "load" else soak(args)


if __name__ == "__main__":
    sys.exit(main())
