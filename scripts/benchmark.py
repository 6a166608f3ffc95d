"""Run the lab's test matrix with the real programs, then write the report.

    python3 scripts/benchmark.py                 # whole matrix on this machine
    python3 scripts/benchmark.py --quick         # small files, fewer tests (CI)

For each protocol (tcp, udp-raw, udp-reliable), file (100MB.txt, 250MB.txt)
and client count (1, 5, 10), the server and the client programs run as
processes through their command lines (see README.md); exit codes and wall
times are recorded, received files are deleted after each test, and one
progress line per test goes to stderr.  The SHA-256 rate of this Python is
measured as a baseline.  At the end the report (scripts/report.py) is built
from the run's logs and the paths of report.md / report.html (and report.pdf, when a
headless Chromium or Chrome is on the PATH; --no-pdf skips it) are printed; --lang es|en.

Two machines: start ``benchmark.py --serve [--port P]`` on the server machine,
then ``benchmark.py --host ADDR [--port P]`` on the client machine with the
same --protocols/--sizes/--clients/--repeat; each side runs the tests in the
same order (the client side waits --gap seconds before each test).

Exit status: 0 every test ran normally (all verified, except raw-UDP
transfers that lost datagrams: that is what raw mode measures, reported as
"lossy"); 1 some test failed or timed out (the report is still written);
2 bad usage or setup error (one line on stderr); 130 interrupted.
"""

if __package__ in (None, ""):
    import os, sys  # noqa: E401
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import argparse
import datetime
import hashlib
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections import OrderedDict
from pathlib import Path

from scripts import baselines, capture, netlab, pcap, report
from transfer import i18n
from transfer.catalog import STANDARD_FILES, ensure_standard_files, generate_file
from transfer.units import parse_size

__all__ = [
    "PROTOCOLS", "TestSpec", "Outcome", "BenchmarkError", "plan_tests", "parse_clients", "parse_protocols",
    "file_name_for", "sha256_baseline", "auto_timeout", "prepare_files", "Runner", "run_benchmark",
    "build_parser", "main",
]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MiB = 1024 * 1024
MB = 1000 * 1000

#: protocol key -> (protocol, mode, extra flags for both programs)
PROTOCOLS = OrderedDict([
    ("tcp", ("tcp", "stream", [])),
    ("udp-raw", ("udp", "raw", [])),
    ("udp-reliable", ("udp", "reliable", ["--reliable"])),
])
DEFAULT_PORTS = {"tcp": 5001, "udp": 5002}
DEFAULT_SIZES = ("100MB", "250MB")
DEFAULT_CLIENTS = (1, 5, 10)
#: --quick: small deterministic files generated in the run folder, fewer clients
QUICK_FILES = (("quick-2MiB.txt", 2 * MiB), ("quick-5MiB.txt", 5 * MiB))
QUICK_CLIENTS = (1, 5)
PORT_FILE_WAIT = 20.0       # seconds a server may take to start listening
GRACE_AFTER_EXIT = 30.0     # seconds the other process may run once one has exited 0
GRACE_AFTER_FAILURE = 10.0  # ... once one has failed
KILL_WAIT = 5.0
POLL = 0.05
SERVER_DEFAULT_MAX_CLIENTS = 25
LINK_DATAGRAM = 1500 - 28   # --netlab: the lab's veth has a 1,500-byte MTU; IPv4 + UDP headers take 28


class BenchmarkError(Exception):
    """A setup problem the user can fix; the CLI prints it as one line and exits 2."""


class TestSpec:
    """One test of the matrix: protocol key, file, client count and repetition."""

    def __init__(self, index, total, key, file_name, file_size, clients, rep, reps):
        self.index, self.total = index, total
        self.key = key
        self.protocol, self.mode, self.flags = PROTOCOLS[key]
        self.file_name, self.file_size = file_name, file_size
        self.clients = clients
        self.rep, self.reps = rep, reps

    @property
    def label(self):
        """The report's test label ('TCP, 100 MiB, 5 clients')."""
        return report.test_label(self.protocol, self.mode, self.file_size, self.clients)

    @property
    def short(self):
        """'tcp 100 MiB x 10 clients' (progress lines)."""
        return "{} {} x {} client{}".format(self.key, report.size_label(self.file_size), self.clients,
                                            "" if self.clients == 1 else "s")

    @property
    def slug(self):
        """File-name friendly id: '003-tcp-100MiB-x10-r1'."""
        return "{:03d}-{}-{}-x{}-r{}".format(self.index, self.key, report.size_label(self.file_size).replace(" ", ""),
                                             self.clients, self.rep)

    def __repr__(self):
        return "TestSpec({}, rep {})".format(self.short, self.rep)


class Outcome:
    """What one test did: exit codes, wall time, verdict and figures from its logs."""

    def __init__(self, spec):
        self.spec = spec
        self.server_rc = None
        self.client_rc = None
        self.wall_s = None
        self.status = "not run"
        self.detail = ""
        self.logs = []
        self.aggregate = None
        self.per_client = None
        self.verified = None
        self.expected = None
        self.loss_pct = None
        self.output = []

    @property
    def ok(self):
        """True when every process exited 0 and every connection was verified."""
        return self.status == "ok"

    @property
    def ran(self):
        """True when the test ran normally: 'ok', or 'lossy' (raw UDP transfers that lost
        datagrams, which is what raw mode measures, not a failure of the run)."""
        return self.status in ("ok", "lossy")

    def as_dict(self):
        """JSON-friendly summary (benchmark.json)."""
        s = self.spec
        return OrderedDict([
            ("index", s.index), ("protocol", s.key), ("file", s.file_name), ("file_size", s.file_size),
            ("clients", s.clients), ("run", s.rep), ("test", s.label), ("status", self.status),
            ("detail", self.detail), ("server_exit", self.server_rc), ("client_exit", self.client_rc),
            ("wall_s", self.wall_s), ("verified", self.verified), ("expected", self.expected),
            ("loss_pct", self.loss_pct), ("aggregate_bytes_per_s", self.aggregate), ("median_per_client_bytes_per_s", self.per_client),
            ("logs", [str(p) for p in self.logs]), ("output", [str(p) for p in self.output]),
        ])


# --------------------------------------------------------------------------- options

def parse_protocols(text):
    """'tcp,udp-raw' -> ['tcp', 'udp-raw'] (also accepts 'udp' = both UDP modes, 'all')."""
    out = []
    for item in str(text).split(","):
        item = item.strip().lower().replace("_", "-")
        if not item:
            continue
        if item == "all":
            names = list(PROTOCOLS)
        elif item == "udp":
            names = ["udp-raw", "udp-reliable"]
        elif item in ("udp-raw", "udp-reliable", "tcp"):
            names = [item]
        else:
            raise argparse.ArgumentTypeError("unknown protocol {!r} (choose from tcp, udp-raw, udp-reliable)".format(item))
        out.extend(n for n in names if n not in out)
    if not out:
        raise argparse.ArgumentTypeError("no protocol given")
    return out


def parse_clients(text):
    """'1,5,10' -> [1, 5, 10] (positive integers, duplicates dropped)."""
    out = []
    for item in str(text).split(","):
        item = item.strip()
        if not item:
            continue
        try:
            n = int(item)
        except ValueError:
            raise argparse.ArgumentTypeError("not a client count: {!r}".format(item))
        if n < 1 or n > 1000:
            raise argparse.ArgumentTypeError("client count out of range (1..1000): {}".format(n))
        if n not in out:
            out.append(n)
    if not out:
        raise argparse.ArgumentTypeError("no client count given")
    return out


def _parse_sizes(text):
    names = [s.strip() for s in str(text).split(",") if s.strip()]
    if not names:
        raise argparse.ArgumentTypeError("no file given")
    for n in names:
        if "/" in n or "\\" in n or n.startswith("."):
            raise argparse.ArgumentTypeError("a file name from the files folder, not a path: {!r}".format(n))
    return names


def file_name_for(size_name):
    """'100MB' -> '100MB.txt'; a name that has an extension is kept."""
    return size_name if "." in size_name else size_name + ".txt"


def _positive(kind):
    def convert(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError("not a number: {!r}".format(text))
        if value <= 0:
            raise argparse.ArgumentTypeError("must be positive: {!r}".format(text))
        return value
    return convert


def _port(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("not a port: {!r}".format(text))
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError("port out of range (0..65535): {}".format(value))
    return value


def plan_tests(protocols, files, clients, repeat):
    """The ordered list of :class:`TestSpec`: repetitions outermost, then protocol, file, clients.

    *files*: list of (name, size)."""
    combos = [(p, f, n) for p in protocols for f in files for n in clients]
    total = len(combos) * repeat
    specs = []
    for rep in range(1, repeat + 1):
        for p, (name, size), n in combos:
            specs.append(TestSpec(len(specs) + 1, total, p, name, size, n, rep, repeat))
    return specs


def auto_timeout(file_size, clients, floor_rate=25 * MB, base=60.0):
    """Seconds one test may take: *base* plus the data at a pessimistic *floor_rate* (bytes/s)."""
    return base + float(file_size or 250 * MiB) * clients / float(floor_rate)


# --------------------------------------------------------------------------- files and baseline

def prepare_files(files_dir, names, quick, log):
    """Make sure the test files exist; returns [(name, size)].

    Quick mode without names generates QUICK_FILES; the standard names
    (100MB.txt, 250MB.txt) are created with transfer.catalog.ensure_standard_files."""
    files_dir = Path(files_dir)
    files_dir.mkdir(parents=True, exist_ok=True)
    if quick and not names:
        out = []
        for name, size in QUICK_FILES:
            path = files_dir / name
            if not (path.is_file() and path.stat().st_size == size):
                generate_file(path, size)
            out.append((name, size))
        return out
    wanted = [file_name_for(n) for n in (names or DEFAULT_SIZES)]
    standard = [n for n in wanted if n in STANDARD_FILES]
    if standard:
        missing = [n for n in standard if not (files_dir / n).is_file()
                   or (files_dir / n).stat().st_size != STANDARD_FILES[n][0]]
        if missing:
            log("creating {} in {} (once)".format(", ".join(missing), files_dir))
        try:
            ensure_standard_files(files_dir, stream=sys.stderr if missing else None, names=standard)
        except Exception as exc:  # transfer.errors.UserError and OSError
            raise BenchmarkError(str(exc))
    out = []
    quick_sizes = dict(QUICK_FILES)
    for name in wanted:
        path = files_dir / name
        if name in quick_sizes and not (path.is_file() and path.stat().st_size == quick_sizes[name]):
            generate_file(path, quick_sizes[name])
        if not path.is_file():
            raise BenchmarkError("no file {} in {}".format(name, files_dir))
        out.append((name, path.stat().st_size))
    return out


def sha256_baseline(path, repeats=3, block=MiB):
    """SHA-256 rate of this Python over the file at *path* read into memory
    (*block*-byte updates); median of *repeats* timings.  Returns a dict."""
    data = Path(path).read_bytes()
    view = memoryview(data)
    samples = []
    for _ in range(max(1, int(repeats))):
        digest = hashlib.sha256()
        started = time.perf_counter()
        for offset in range(0, len(data), block):
            digest.update(view[offset:offset + block])
        digest.hexdigest()
        elapsed = time.perf_counter() - started
        samples.append(len(data) / elapsed if elapsed > 0 else None)
    samples = [s for s in samples if s]
    view.release()
    return OrderedDict([
        ("sha256_bytes_per_s", statistics.median(samples) if samples else None),
        ("file", Path(path).name), ("file_size", len(data)), ("block_size", block), ("repeats", len(samples)),
        ("samples_bytes_per_s", [round(s) for s in samples]),
        ("python", "{} {}".format(platform.python_implementation(), platform.python_version())),
        ("openssl", getattr(__import__("ssl"), "OPENSSL_VERSION", "?")),
    ])




def _flatten_capture_rows(rows, run_number):
    out = []
    for row in rows:
        c2s, s2c = row.get("c2s") or {}, row.get("s2c") or {}
        item = OrderedDict([
            ("run", run_number), ("proto", row.get("proto")), ("client", row.get("client")),
            ("server", row.get("server")),
            ("frames c->s", c2s.get("frames")), ("frames s->c", s2c.get("frames")),
            ("wire bytes c->s", c2s.get("wire_bytes")), ("wire bytes s->c", s2c.get("wire_bytes")),
            ("payload bytes s->c", s2c.get("payload_bytes")),
        ])
        if row.get("proto") == "tcp":
            item["TCP retransmissions"] = (c2s.get("retransmissions") or 0) + (s2c.get("retransmissions") or 0)
        else:
            item["IP fragments"] = (c2s.get("fragments") or 0) + (s2c.get("fragments") or 0)
        out.append(item)
    return out


# --------------------------------------------------------------------------- running

class Runner:
    """Runs the planned tests as processes and collects their outcomes."""

    def __init__(self, args, run_dir, files_dir, log):
        self.args = args
        self.run_dir = Path(run_dir)
        self.logs_dir = self.run_dir / "logs"
        self.received_dir = self.run_dir / "received"
        self.proc_dir = self.run_dir / "proc"
        self.capture_dir = self.run_dir / "captures"
        self.files_dir = Path(files_dir)
        self.log = log
        self.notes = []
        self.captures = OrderedDict()
        self.lab = None
        self.reference_runs = []   # --netlab: scripts/refudp.py runs (run_udp_reference)
        self.capture_mod = None
        self.pcap_mod = None
        self._live = []
        for d in (self.logs_dir, self.proc_dir):
            d.mkdir(parents=True, exist_ok=True)

    # -- hooks -----------------------------------------------------------------
    def note(self, text):
        """Print a note once and keep it for the report."""
        if text not in self.notes:
            self.notes.append(text)
            self.log("note: " + text)

    def setup_capture(self):
        """Prepare --capture (a missing tool or permission is noted when the first capture starts)."""
        self.capture_mod, self.pcap_mod = capture, pcap

    def setup_netlab(self, rate):
        """Enter a scripts.netlab NetLab shaped at *rate* ("unshaped": a plain veth; a note and plain
        loopback when unusable).  --netlab-netem DELAY,LOSS adds netem where the kernel has it."""
        mod = netlab
        shaped = None if str(rate).lower() in UNSHAPED else rate
        delay, loss = (self.args.netlab_netem or (None, None))
        try:
            # a name of our own, so a lab someone else is using is never touched
            lab = mod.NetLab(rate=shaped, delay=delay, loss=loss, quiet=True,
                             prefix="bm{}".format(os.getpid() % 10 ** 7))
            lab.__enter__()
        except ValueError as exc:
            raise BenchmarkError("--netlab {}: {}".format(rate, exc))
        except Exception as exc:  # NetLabUnavailable, NetLabError
            self.note("--netlab {}: network lab unavailable ({}); tests run on loopback without shaping".format(
                rate, exc))
            return
        self.lab = lab
        self.note("tests ran between two network namespaces ({} <- {}), shaped: {}".format(
            lab.server_addr, lab.client_addr, getattr(lab, "shaping", rate)))
        if not getattr(lab, "netem_available", True):
            self.note(getattr(mod, "NETEM_ABSENT", "netem is not available on this kernel"))
        if getattr(lab, "gro", "on") not in ("on", None):
            self.note("GRO on the lab's veth: {}".format(lab.gro))

    def close(self):
        """Stop live processes and leave the network lab."""
        self._kill_all()
        if self.lab is not None:
            try:
                self.lab.__exit__(None, None, None)
            except Exception as exc:
                self.log("warning: netlab teardown: {}".format(exc))
            self.lab = None

    # -- processes ---------------------------------------------------------------
    def _spawn(self, where, argv, out_path):
        handle = open(str(out_path), "wb")
        try:
            if self.lab is not None:
                proc = self.lab.popen(where, argv, stdout=handle, stderr=subprocess.STDOUT, cwd=str(self.run_dir))
            else:
                proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=handle, stderr=subprocess.STDOUT,
                                        cwd=str(self.run_dir))
        finally:
            handle.close()
        self._live.append(proc)
        return proc

    def _stop(self, proc):
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(KILL_WAIT)
        except subprocess.TimeoutExpired:
            proc.kill()
            try:
                proc.wait(KILL_WAIT)
            except subprocess.TimeoutExpired:
                pass

    def _kill_all(self):
        for proc in self._live:
            self._stop(proc)
        self._live = []

    def _program(self, spec, role):
        return PROJECT_ROOT / spec.protocol / "{}.py".format(role)

    def _server_argv(self, spec, bind, port, port_file):
        prog = self._program(spec, "server")
        argv = [sys.executable, str(prog), "--bind", bind, "--port", str(port), "--port-file", str(port_file),
                "--file", spec.file_name, "--clients", str(spec.clients), "--once", "--quiet",
                "--logs-dir", str(self.logs_dir), "--files-dir", str(self.files_dir)]
        if spec.clients > SERVER_DEFAULT_MAX_CLIENTS:
            argv += ["--max-clients", str(spec.clients)]
        argv.append("--no-create")
        if spec.protocol == "udp" and self.args.udp_rate is not None:
            argv += ["--rate", self.args.udp_rate]
        return argv + spec.flags

    def _client_argv(self, spec, host, port):
        return [sys.executable, str(self._program(spec, "client")), "--host", host, "--port", str(port),
                "--clients", str(spec.clients), "--yes", "--quiet", "--received-dir", str(self.received_dir),
                "--logs-dir", str(self.logs_dir)] + spec.flags

    def _timeout(self, spec):
        if self.args.timeout:
            return float(self.args.timeout)
        floor = 25 * MB
        if self.lab is not None and self.args.netlab and str(self.args.netlab).lower() not in UNSHAPED:
            floor = min(floor, netlab.parse_rate(self.args.netlab) / 8.0 * 0.5)  # parsed once already
        return auto_timeout(spec.file_size, spec.clients, floor)

    def _wait_port_file(self, path, server, limit):
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if server.poll() is not None:
                return None, "server exited with status {} before listening".format(server.returncode)
            try:
                text = Path(path).read_text("utf-8")
            except OSError:
                text = ""
            if text.endswith("\n") and text.strip().isdigit():
                return int(text.strip()), ""
            time.sleep(POLL)
        return None, "server did not write its port file within {:.0f} s".format(limit)

    def _wait_both(self, server, client, deadline):
        """Poll until both exit; bounded by *deadline* and the grace periods. Returns a problem string."""
        grace_until = None
        while True:
            s = server.poll() if server is not None else 0
            c = client.poll() if client is not None else 0
            if s is not None and c is not None:
                return ""
            now = time.monotonic()
            if now >= deadline:
                self._stop(client)
                self._stop(server)
                return "timed out"
            done = s if s is not None else c
            if done is not None:
                if grace_until is None:
                    grace_until = now + (GRACE_AFTER_EXIT if done == 0 else GRACE_AFTER_FAILURE)
                elif now >= grace_until:
                    other = "client" if c is None else "server"
                    self._stop(client)
                    self._stop(server)
                    return "{} stopped: still running after the other program exited".format(other)
            time.sleep(POLL)

    def run(self, spec, mode="local"):
        """Run one test (*mode*: 'local' server+client, 'host' client only, 'serve' server only)."""
        out = Outcome(spec)
        before = set(report.find_logs([self.logs_dir]))
        port_file = self.proc_dir / "{}.port".format(spec.slug)
        server = client = None
        running_capture = None
        timeout = self._timeout(spec)
        started = time.monotonic()
        problem = ""
        try:
            if mode in ("local", "serve"):
                if mode == "serve":
                    bind = self.args.bind or "0.0.0.0"
                    port = self.args.port if self.args.port is not None else DEFAULT_PORTS[spec.protocol]
                    timeout += self.args.serve_wait
                else:
                    bind = self.lab.server_addr if self.lab is not None else "127.0.0.1"
                    port = self.args.port if self.args.port is not None else 0
                path = self.proc_dir / "{}-server.txt".format(spec.slug)
                out.output.append(path)
                server = self._spawn("server", self._server_argv(spec, bind, port, port_file), path)
                port, problem = self._wait_port_file(port_file, server, PORT_FILE_WAIT)
                if port is not None and mode == "serve":
                    self.log("[{}/{}] {}: server listening on {}:{}, waiting for the clients (up to {:.0f} s)".format(
                        spec.index, spec.total, spec.short, bind, port, timeout))
            else:
                port = self.args.port if self.args.port is not None else DEFAULT_PORTS[spec.protocol]
                time.sleep(self.args.gap)
            if not problem and mode in ("local", "host"):
                host = self.args.host if mode == "host" else (
                    self.lab.server_addr if self.lab is not None else "127.0.0.1")
                if self.capture_mod is not None:
                    running_capture = self._start_capture(spec, port)
                path = self.proc_dir / "{}-client.txt".format(spec.slug)
                out.output.append(path)
                client = self._spawn("client", self._client_argv(spec, host, port), path)
            if not problem:
                problem = self._wait_both(server, client, started + timeout)
        finally:
            self._stop(client)
            self._stop(server)
            self._live = [p for p in self._live if p not in (client, server)]
            if running_capture is not None:
                self._finish_capture(spec, running_capture, port)
            shutil.rmtree(str(self.received_dir), ignore_errors=True)
            try:
                port_file.unlink()
            except OSError:
                pass
        out.wall_s = time.monotonic() - started
        out.server_rc = server.returncode if server is not None else None
        out.client_rc = client.returncode if client is not None else None
        out.logs = sorted(set(report.find_logs([self.logs_dir])) - before)
        self._judge(out, problem)
        return out

    def run_udp_reference(self, file_name, clients):
        """--netlab unshaped with UDP in the run: scripts/refudp.py, the minimal UDP transfer, through the
        lab with the datagrams of its 1,500-byte MTU (LINK_DATAGRAM), as the UDP programs send there.  One
        dict for the link table (rate, copies verified, datagrams lost); a failed run is noted, rate None."""
        row = {"file": file_name, "clients": clients, "rate": None, "verified": 0, "lost": None}
        work = self.run_dir / "refudp"
        work.mkdir(parents=True, exist_ok=True)
        try:
            result = baselines.run_udp_reference(self.files_dir / file_name, clients, work, datagram=LINK_DATAGRAM,
                                                 popen=self.lab.popen, address=self.lab.server_addr)
        except (baselines.BaselineError, OSError, ValueError) as exc:
            self.note("UDP reference (scripts/refudp.py) on this link: {}".format(exc))
        else:
            row.update(rate=result.get("aggregate_bytes_per_s"), verified=clients,
                       lost=result.get("lost_datagrams"))
        finally:
            shutil.rmtree(str(work), ignore_errors=True)
        self.reference_runs.append(row)
        return row

    def _start_capture(self, spec, port):
        self.capture_dir.mkdir(parents=True, exist_ok=True)
        kw = dict(interface="lo", ports=[port], proto=spec.protocol, host="127.0.0.1")
        if self.lab is not None:
            kw.update(interface=self.lab.server_if, netns=self.lab.server_ns, host=None)
        try:
            cap = self.capture_mod.Capture(str(self.capture_dir / "{}.pcap".format(spec.slug)), **kw)
            cap.start()
            return cap
        except Exception as exc:  # CaptureUnavailable, ValueError
            self.note("--capture: {}; the remaining tests run without capture".format(exc))
            self.capture_mod = None
            return None

    def _finish_capture(self, spec, cap, port):
        try:
            path = cap.stop()
            rows = self.pcap_mod.summarize(path, ports=[port])
        except Exception as exc:  # PcapError, OSError
            self.note("--capture: could not summarise the capture of {}: {}".format(spec.short, exc))
            return
        self.captures.setdefault(spec.label, []).extend(_flatten_capture_rows(rows, spec.rep))
        self.log("capture: {}".format(self.pcap_mod.tshark_command(path)))

    def _judge(self, out, problem):
        runs = []
        if out.logs:
            warnings = []
            runs = report.pair_runs(report.load_sidecars(out.logs, warnings.append))
        if runs:
            main_run = max(runs, key=lambda r: (r.server is not None, len(r.rows)))
            m = main_run.metrics
            out.aggregate = m.get("aggregate")
            out.per_client = m.get("per_client_median")
            out.verified = sum(r.metrics["verified"] for r in runs)
            out.expected = max(out.spec.clients, sum(r.metrics["expected"] for r in runs))
            out.loss_pct = m.get("loss_pct")
        rcs = [rc for rc in (out.server_rc, out.client_rc) if rc is not None]
        bad_rows = [row for r in runs for row in r.rows if not row.ok]
        if (not problem and out.spec.key == "udp-raw" and runs and set(rcs) <= {0, 1} and bad_rows
                and len(bad_rows) == out.expected - out.verified
                and all(row.client is not None and (row.loss_pct or 0) > 0 for row in bad_rows)):
            out.status = "lossy"
            out.detail = "{} transfer(s) incomplete: datagrams lost".format(len(bad_rows))
            return
        if problem:
            out.status, out.detail = ("timeout" if problem == "timed out" else "failed"), problem
        elif any(rc != 0 for rc in rcs):
            out.status = "failed"
            out.detail = ", ".join("{} exit {}".format(name, rc) for name, rc in
                                   (("server", out.server_rc), ("client", out.client_rc)) if rc not in (None, 0))
        elif not runs:
            out.status, out.detail = "failed", "no log written"
        elif out.verified is not None and out.verified < out.expected:
            out.status, out.detail = "failed", "{}/{} verified".format(out.verified, out.expected)
        else:
            out.status = "ok"
        if not out.ok:
            tail = _last_line_of(out.output)
            if tail and tail not in out.detail:
                out.detail = "{}: {}".format(out.detail, tail) if out.detail else tail


def _last_line_of(paths):
    """Last non-empty line of the programs' output (the error they printed)."""
    for path in reversed(paths):
        try:
            lines = [l.strip() for l in Path(path).read_text("utf-8", "replace").splitlines() if l.strip()]
        except OSError:
            continue
        for line in reversed(lines):
            if "error" in line.lower() or "fail" in line.lower() or "timed out" in line.lower():
                return line[:200]
    return ""


def progress_line(out):
    """'[3/18] tcp 100 MiB x 10 clients: ok, 1,234 MB/s aggregate, 2.1 s'."""
    s = out.spec
    head = "[{}/{}] {}{}".format(s.index, s.total, s.short, " (run {}/{})".format(s.rep, s.reps) if s.reps > 1 else "")
    rate = "{:,.0f} MB/s aggregate".format(out.aggregate / MB) if out.aggregate else "aggregate n/a"
    if out.ok:
        return "{}: ok, {}, {:.1f} s".format(head, rate, out.wall_s or 0.0)
    if out.status == "lossy":
        return "{}: {}/{} verified (raw UDP lost datagrams, mean loss {:.2f}%), {}, {:.1f} s".format(
            head, out.verified, out.expected, out.loss_pct or 0.0, rate, out.wall_s or 0.0)
    verified = " ({}/{} verified)".format(out.verified, out.expected) if out.verified is not None else ""
    return "{}: {}{} - {}, {:.1f} s".format(head, out.status.upper(), verified, out.detail or "?", out.wall_s or 0.0)


# --------------------------------------------------------------------------- main job

def _default_out():
    stamp = datetime.datetime.now().strftime("%Y-%m-%d-%H-%M-%S")
    base = PROJECT_ROOT / "Logs" / "benchmark-{}".format(stamp)
    path, n = base, 2
    while path.exists() and n < 1000:
        path = Path("{}-{}".format(base, n))
        n += 1
    return path


def _write_json(path, data):
    tmp = Path(str(path) + ".part")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n", "utf-8")
    os.replace(str(tmp), str(path))


def run_benchmark(args, log=None):
    """Run the benchmark described by parsed *args*; returns (exit status, ReportResult or None)."""
    log = log or (lambda msg: (sys.stderr.write(msg + "\n"), sys.stderr.flush()))
    mode = "host" if args.host else "serve" if args.serve else "local"
    if mode == "local" and args.netlab and "," in str(args.netlab):
        return run_links(args, log)
    run_dir = Path(args.out) if args.out else _default_out()
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BenchmarkError("cannot create {}: {}".format(run_dir, exc.strerror or exc))
    protocols = list(args.protocols or PROTOCOLS)
    missing = []
    for key in list(protocols):
        proto = PROTOCOLS[key][0]
        roles = {"local": ("server", "client"), "host": ("client",), "serve": ("server",)}[mode]
        absent = [r for r in roles if not (PROJECT_ROOT / proto / "{}.py".format(r)).is_file()]
        if absent:
            missing.append("{} ({}/{}.py missing)".format(key, proto, absent[0]))
            protocols.remove(key)
    if missing and args.protocols:
        raise BenchmarkError("cannot run {}".format(", ".join(missing)))
    if not protocols:
        raise BenchmarkError("no protocol program found ({})".format(", ".join(missing)))
    if args.files_dir:
        files_dir = Path(args.files_dir)
    elif args.quick and not args.sizes:
        files_dir = run_dir / "files"
    else:
        files_dir = PROJECT_ROOT / "files"
    files = prepare_files(files_dir, args.sizes, args.quick, log) if mode != "host" else \
        [(file_name_for(n), _size_from_name(n)) for n in (args.sizes or ([n for n, _ in QUICK_FILES] if args.quick
                                                                         else DEFAULT_SIZES))]
    clients = args.clients or (list(QUICK_CLIENTS) if args.quick else list(DEFAULT_CLIENTS))
    specs = plan_tests(protocols, files, clients, args.repeat)
    runner = Runner(args, run_dir, files_dir, log)
    for m in missing:
        runner.note("skipped {}".format(m))
    started_wall = time.time()
    meta = OrderedDict([
        ("started", datetime.datetime.now().astimezone().isoformat(timespec="seconds")),
        ("command", " ".join([Path(sys.argv[0]).name] + list(args.argv))), ("mode", mode),
        ("host", socket.gethostname()), ("python", platform.python_version()), ("platform", platform.platform()),
        ("cpus", os.cpu_count()), ("files_dir", str(files_dir)), ("files", files), ("clients", clients),
        ("protocols", protocols), ("repeat", args.repeat),
    ])
    log("benchmark: {} test(s) ({}; {}; clients {}{}), output in {}".format(
        len(specs), ", ".join(protocols), ", ".join(n for n, _ in files), "/".join(str(c) for c in clients),
        ", x{} repetitions".format(args.repeat) if args.repeat > 1 else "", run_dir))
    baseline = None
    if mode != "host" and not args.no_baseline:
        base_file = next((files_dir / n for n, _ in files if n == "100MB.txt"), None) or \
            files_dir / max(files, key=lambda f: f[1])[0]
        baseline = sha256_baseline(base_file)
        log("baseline: SHA-256 {:,.0f} MB/s ({} in memory, 1 MiB updates, median of {})".format(
            baseline["sha256_bytes_per_s"] / MB, baseline["file"], baseline["repeats"]))
    outcomes = []
    interrupted = False
    baseline_rows = None
    try:
        if args.capture:
            runner.setup_capture()
        if args.netlab:
            if mode != "local":
                runner.note("--netlab applies to local runs only; ignored with --host/--serve")
            else:
                runner.setup_netlab(args.netlab)
        # the unshaped link, where the CPU is the limit: the minimal UDP transfer is the yardstick there (on a
        # shaped link the link is, and a sender with no pacing and no resends fails in the shaper's queue)
        udp_reference = runner.lab is not None and str(args.netlab).lower() in UNSHAPED and \
            any(PROTOCOLS[p][0] == "udp" for p in protocols)
        for spec in specs:
            out = runner.run(spec, mode)
            outcomes.append(out)
            log(progress_line(out))
            if udp_reference and spec.index * spec.reps % spec.total == 0:   # the last test of a repetition
                for name, _ in files:
                    for n in clients:
                        row = runner.run_udp_reference(name, n)
                        log("[ref {}/{}] UDP reference (refudp.py --datagram {}) {} x {}: {}".format(
                            spec.rep, spec.reps, LINK_DATAGRAM, n, name, "failed" if row["rate"] is None else
                            "{:,.1f} MB/s".format(row["rate"] / MB)))
            _write_json(run_dir / "benchmark.json", OrderedDict([
                ("meta", meta), ("baseline", baseline), ("tests", [o.as_dict() for o in outcomes]),
                ("notes", runner.notes)]))
        if args.baselines:
            baseline_rows = run_tcp_baselines(args, mode, files_dir, files, clients, run_dir, runner, log,
                                              udp="udp-reliable" in protocols)
    except KeyboardInterrupt:
        interrupted = True
        runner.note("interrupted after {} of {} tests".format(len(outcomes), len(specs)))
    finally:
        runner.close()
        if args.quick and not args.files_dir and not args.sizes:
            shutil.rmtree(str(files_dir), ignore_errors=True)
    elapsed = time.time() - started_wall
    meta["elapsed_s"] = round(elapsed, 1)
    failed = [o for o in outcomes if not o.ran]
    lossy = [o for o in outcomes if o.status == "lossy"]
    tr = i18n.translator(i18n.choose(getattr(args, "lang", None)))
    notes = [tr("bench.note_command", command=meta["command"], mode=mode, host=meta["host"],
                platform=meta["platform"], python=meta["python"], cpus=meta["cpus"]),
             tr("bench.note_counts", n=len(outcomes), seconds=i18n.number(elapsed, 1, tr.lang),
                ok=len(outcomes) - len(failed) - len(lossy), lossy=len(lossy), failed=len(failed))] + runner.notes
    extra = OrderedDict([("notes", notes),
                         ("tables", OrderedDict([("Benchmark runs", [_run_row(o) for o in outcomes])]))])
    if baseline:
        extra["baseline"] = baseline
    if baseline_rows:
        extra["tables"]["TCP baselines (same run, interleaved, medians)"] = baseline_rows["rows"]
    if runner.captures:
        extra["captures"] = runner.captures
    _write_json(run_dir / "benchmark.json", OrderedDict([
        ("meta", meta), ("baseline", baseline), ("tests", [o.as_dict() for o in outcomes]), ("notes", notes),
        ("tcp_baselines", baseline_rows)]))
    if runner.reference_runs:
        _write_json(run_dir / "refudp.json", runner.reference_runs)
    if args.netlab and mode == "local":
        link_text = links_markdown([(str(args.netlab), link_rows(runner.logs_dir))])
        (run_dir / "links.md").write_text(link_text, encoding="utf-8")
        log(link_text)
    result = None
    if report.find_logs([runner.logs_dir]):
        lang = i18n.choose(getattr(args, "lang", None))
        title = i18n.translator(lang)("report.title")   # date and machines are on the cover
        result = report.build_report([runner.logs_dir], run_dir / "report", title=title, extra=extra, lang=lang,
                                     pdf=not getattr(args, "no_pdf", False))
        if result.pdf_note:
            log("benchmark: {}".format(result.pdf_note))
        if baseline and baseline.get("sha256_bytes_per_s"):
            base = baseline["sha256_bytes_per_s"]
            for t in result.tests:
                pc = t.figures.get("per_client_median")
                if pc:
                    log("  {}: per-client {:,.1f} MB/s = x{:.2f} of SHA-256 ({:,.0f} MB/s)".format(
                        t.label, pc / MB, pc / base, base / MB))
    log("benchmark: {} of {} test(s) ran normally{} in {:.1f} s".format(
        len(outcomes) - len(failed), len(outcomes),
        " ({} raw-UDP test(s) lost datagrams)".format(len(lossy)) if lossy else "", elapsed))
    if interrupted:
        return 130, result
    return (1 if failed or not outcomes else 0), result


def run_tcp_baselines(args, mode, files_dir, files, clients, run_dir, runner, log, udp=False):
    """--baselines: the TCP baseline rows of scripts/baselines.py (socat pipeline,
    minimal reference receiver, SHA-256, fixed costs, server peak RSS), run
    interleaved with tcp/client.py, medians of max(3, --repeat) rounds, on the
    largest file of the run; *udp* (udp-reliable in the run): also its UDP rows
    (UDP reference, udp/ reliable, CPU per GB).  Returns baselines.measure()'s
    result or None."""
    if mode != "local":
        runner.note("--baselines runs locally only; skipped with --host/--serve")
        return None
    name = max(files, key=lambda f: f[1])[0]
    counts = sorted(set([1] + [c for c in clients if c > 1]))
    rss = None if args.quick else SERVER_DEFAULT_MAX_CLIENTS
    log("baselines: {} x clients {}{}, {} rounds".format(
        name, "/".join(str(c) for c in counts), " (+{} for the server's RSS)".format(rss) if rss else "",
        max(3, args.repeat)))
    try:
        result = baselines.measure(files_dir, name, counts, max(3, args.repeat), work_dir=run_dir / "baselines",
                                   rss_clients=rss, log=log, udp=udp)
    except (baselines.BaselineError, OSError) as exc:
        runner.note("--baselines: {}".format(exc))
        return None
    finally:
        shutil.rmtree(str(run_dir / "baselines"), ignore_errors=True)
    for line in baselines.format_rows(result["rows"]).splitlines():
        log("  " + line)
    return result


# --------------------------------------------------------------------------- --netlab LINKS

UNSHAPED = ("unshaped", "none", "veth")


def parse_links(text):
    """'100mbit,1gbit,unshaped' -> ['100mbit', '1gbit', 'unshaped'] (each rate checked by scripts.netlab)."""
    links = []
    for item in str(text).split(","):
        item = item.strip().lower()
        if not item:
            continue
        if item not in UNSHAPED:
            try:
                netlab.parse_rate(item)
            except ValueError as exc:
                raise BenchmarkError("--netlab {}: {}".format(item, exc))
        if item not in links:
            links.append(item)
    if not links:
        raise BenchmarkError("--netlab: no link given")
    return links


def parse_netem(text):
    """argparse type: 'DELAY,LOSS' such as '10ms,1%' -> ('10ms', '1%')."""
    delay, _, loss = str(text).partition(",")
    try:
        if delay:
            netlab.parse_delay(delay)
        if loss:
            netlab.parse_loss(loss)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc))
    return (delay or None, loss or None)


def _median(values):
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2.0


def _records(path):
    out = []
    try:
        with open(str(path), encoding="utf-8") as handle:
            for line in handle:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    continue
    except OSError:
        pass
    return out


def _records_json(path):
    """The list a run wrote to *path* (refudp.json), or [] when there is none."""
    try:
        with open(str(path), encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return []
    return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []


def link_rows(logs_dir):
    """One row per (protocol mode, file, clients) from a run's logs: medians over the repetitions of the
    aggregate goodput (client side), verified clients, resent and lost datagrams, raw's rates; and
    "udp-reference" rows from the refudp.json beside *logs_dir* (Runner.run_udp_reference)."""
    groups = OrderedDict()
    for side in ("tcp", "udp"):
        for path in sorted(Path(logs_dir, "{}-client".format(side)).glob("*.jsonl")):
            recs = _records(path)
            head = next((r for r in recs if r.get("record") == "test"), None)
            summary = next((r for r in recs if r.get("record") == "summary"), None)
            if head is None or summary is None:
                continue
            key = ("tcp" if side == "tcp" else "udp-" + str(head.get("mode")), head.get("file_name"),
                   head.get("clients"))
            row = groups.setdefault(key, {"runs": [], "server": []})
            conns = [r for r in recs if r.get("record") == "connection"]
            row["runs"].append({"rate": summary.get("aggregate_rate_bytes_per_s"),
                                "verified": sum(1 for r in conns if r.get("ok")), "clients": head.get("clients"),
                                "loss": _median([r.get("loss_pct") for r in conns])})
        for path in sorted(Path(logs_dir, "{}-server".format(side)).glob("*.jsonl")):
            recs = _records(path)
            head = next((r for r in recs if r.get("record") == "test"), None)
            if head is None or side != "udp":
                continue
            key = ("udp-" + str(head.get("mode")), head.get("file_name"), head.get("clients"))
            conns = [r for r in recs if r.get("record") == "connection"]
            sent = sum(r.get("datagrams_sent") or 0 for r in conns)
            resent = sum(r.get("resent_datagrams") or 0 for r in conns)
            suggested = [r.get("suggested_rate_bytes_per_s") for r in conns if r.get("suggested_rate_bytes_per_s")]
            groups.setdefault(key, {"runs": [], "server": []})["server"].append({
                "resent_pct": 100.0 * resent / sent if sent else None,
                "rate_sent": _median([r.get("rate_sent_bytes_per_s") for r in conns]),
                "rate_received": _median([r.get("rate_received_bytes_per_s") for r in conns]),
                "suggested": min(suggested) if suggested else None,
                "io_path": conns[0].get("io_path") if conns else None})
    for run in _records_json(Path(logs_dir).parent / "refudp.json"):
        key = ("udp-reference", run.get("file"), run.get("clients"))
        groups.setdefault(key, {"runs": [], "server": []})["runs"].append(
            {"rate": run.get("rate"), "verified": run.get("verified") or 0, "clients": run.get("clients"),
             "loss": None})
    rows = []
    for (proto, name, clients), row in groups.items():
        runs, server = row["runs"], row["server"]
        rows.append(OrderedDict([
            ("protocol", proto), ("file", name), ("clients", clients), ("runs", len(runs)),
            ("goodput", _median([r["rate"] for r in runs])),
            ("verified", "{}/{}".format(sum(r["verified"] for r in runs), sum(r["clients"] or 0 for r in runs))),
            ("loss_pct", _median([r["loss"] for r in runs])),
            ("resent_pct", _median([x["resent_pct"] for x in server])),
            ("rate_sent", _median([x["rate_sent"] for x in server])),
            ("rate_received", _median([x["rate_received"] for x in server])),
            ("suggested", _median([x["suggested"] for x in server])),
            ("io_path", next((x["io_path"] for x in server if x["io_path"]), None)),
        ]))
    return rows


def links_markdown(results):
    """The --netlab LINKS comparison: one table, a row per link and test, TCP's goodput as the reference."""
    def mb(v):
        return "-" if v is None else "{:,.1f}".format(v / MB)
    lines = ["| link | test | clients | runs | goodput MB/s (median) | x TCP | verified | loss % | resent % | "
             "sent / received MB/s | suggested --rate | io path |", "|" + "---|" * 12]
    for link, rows in results:
        tcp = {(r["file"], r["clients"]): r["goodput"] for r in rows if r["protocol"] == "tcp"}
        for r in rows:
            ref = tcp.get((r["file"], r["clients"]))
            ratio = "-" if not ref or r["goodput"] is None else "{:.2f}".format(r["goodput"] / ref)
            lines.append("| {} | {} {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |".format(
                link, r["protocol"], r["file"], r["clients"], r["runs"], mb(r["goodput"]), ratio, r["verified"],
                "-" if r["loss_pct"] is None else "{:.2f}".format(r["loss_pct"]),
                "-" if r["resent_pct"] is None or r["protocol"] == "udp-raw" else "{:.2f}".format(r["resent_pct"]),
                "-" if r["rate_sent"] is None else "{} / {}".format(mb(r["rate_sent"]), mb(r["rate_received"])),
                "-" if not r["suggested"] else "{:.0f}M".format(r["suggested"] / MB),
                r["io_path"] or "-"))
    return "\n".join(lines) + "\n"


def run_links(args, log):
    """--netlab LINKS: the whole matrix on each link in turn (own folder, own report), then links.md."""
    links = parse_links(args.netlab)
    run_dir = Path(args.out) if args.out else _default_out()
    run_dir.mkdir(parents=True, exist_ok=True)
    status, results = 0, []
    for link in links:
        sub = argparse.Namespace(**vars(args))
        sub.netlab, sub.out = link, str(run_dir / "link-{}".format(link))
        log("benchmark: link {} ({} of {})".format(link, len(results) + 1, len(links)))
        code, _ = run_benchmark(sub, log)
        status = max(status, code)
        results.append((link, link_rows(Path(sub.out) / "logs")))
        if code == 130:
            break
    text = ("# Links compared\n\nCommand: {}\n\nEach link ran the same matrix, TCP on the same link in the same "
            "run; medians over the repetitions; goodput = the file bytes over the clients' transfer time "
            "(aggregate).  udp-reference: scripts/refudp.py, the minimal UDP transfer (no pacing, resends or "
            "log), with {}-byte datagrams after each repetition on the unshaped link, when UDP is in the run.\n\n").format(
        " ".join(["benchmark.py"] + list(getattr(args, "argv", []))), LINK_DATAGRAM) + \
        links_markdown(results)
    (run_dir / "links.md").write_text(text, encoding="utf-8")
    log(text)
    return status, None


def _size_from_name(name):
    """Size of a standard file from its name ('100MB' -> 104857600); None when unknown."""
    for fname, size in QUICK_FILES:
        if file_name_for(name) == fname:
            return size
    try:
        from transfer.catalog import STANDARD_FILES
        return STANDARD_FILES[file_name_for(name)][0]
    except (ImportError, KeyError):
        return None


def _run_row(out):
    return OrderedDict([
        ("#", out.spec.index), ("test", out.spec.label), ("run", out.spec.rep), ("status", out.status),
        ("server exit", out.server_rc), ("client exit", out.client_rc),
        ("wall time (s)", round(out.wall_s, 2) if out.wall_s is not None else None),
        ("detail", out.detail or ""),
    ])


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit status 2)."""

    def error(self, message):
        self.exit(2, "{}: {}\n".format(self.prog, message))


def build_parser():
    """The argparse parser of the CLI."""
    p = _Parser(
        prog="benchmark.py", formatter_class=i18n.HelpFormatter,
        description="Run the lab's test matrix with the real TCP/UDP programs and write the performance report.")
    p.add_argument("--protocols", type=parse_protocols, metavar="LIST",
                   help="tcp,udp-raw,udp-reliable (default: all whose programs exist)")
    p.add_argument("--sizes", type=_parse_sizes, metavar="LIST",
                   help="files to send, by name (default 100MB,250MB; --quick: generated 2 MiB and 5 MiB files)")
    p.add_argument("--clients", type=parse_clients, metavar="LIST",
                   help="client counts (default 1,5,10; --quick: 1,5)")
    p.add_argument("--repeat", type=_positive(int), default=1, metavar="N",
                   help="run the matrix N times; the report uses medians over repetitions")
    p.add_argument("--quick", action="store_true", help="small generated files and fewer clients (CI)")
    p.add_argument("--out", metavar="DIR", help="output folder (default Logs/benchmark-YYYY-MM-DD-HH-MM-SS/)")
    p.add_argument("--files-dir", metavar="DIR", help="folder of the files to send (default files/)")
    p.add_argument("--host", metavar="ADDR", help="run only the clients, against servers started elsewhere "
                                                  "with --serve")
    p.add_argument("--port", type=_port, metavar="P",
                   help="server port (default: any free port locally; 5001 tcp / 5002 udp with --host/--serve)")
    p.add_argument("--serve", action="store_true", help="run only the servers, one test after another, for a "
                                                        "--host run on another machine")
    p.add_argument("--bind", metavar="ADDR", help="with --serve: address to listen on (default 0.0.0.0)")
    p.add_argument("--gap", type=float, default=2.0, metavar="S",
                   help="with --host: seconds to wait before each test so the server can restart (default 2)")
    p.add_argument("--serve-wait", type=float, default=600.0, metavar="S",
                   help="with --serve: extra seconds each server waits for the remote clients (default 600)")
    p.add_argument("--capture", action="store_true", help="capture packets of each test (scripts/capture.py)")
    p.add_argument("--netlab-netem", type=parse_netem, metavar="DELAY,LOSS",
                   help="with --netlab: netem delay and loss on each direction, e.g. 10ms,1%% (only where the "
                        "kernel has netem; otherwise a note says it is absent)")
    p.add_argument("--netlab", metavar="LINKS", help="run through a network lab (two namespaces joined by a "
                                                     "veth), e.g. 1gbit, or a list such as 100mbit,1gbit,unshaped: "
                                                     "the whole matrix runs on each link in turn, TCP included, "
                                                     "and links.md compares them "
                                                    "(scripts/netlab.py; needs root)")
    p.add_argument("--udp-rate", metavar="R",
                   help="--rate for the UDP servers (bytes/s per client, K/M/G suffixes), e.g. 11M on a "
                        "100 Mbit/s link; default: the server's own")
    p.add_argument("--timeout", type=_positive(float), metavar="S",
                   help="seconds one test may take (default: 60 + data at 25 MB/s)")
    p.add_argument("--no-baseline", action="store_true", help="skip the SHA-256 baseline")
    p.add_argument("--no-pdf", action="store_true", help="do not print report.pdf (made when Chromium or Chrome "
                                                         "is on the PATH)")
    i18n.add_argument(p)
    p.add_argument("--baselines", action="store_true",
                   help="also run the TCP baseline rows (scripts/baselines.py): socat pipeline, minimal reference "
                        "receiver, SHA-256, fixed costs, server peak RSS, interleaved with tcp/client.py")
    return p


def main(argv=None):
    """CLI entry point; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        with i18n.chosen(argv):  # --help and usage errors in the language of --lang or the locale
            args = parser.parse_args(argv)
    except SystemExit as exc:
        return 2 if exc.code else 0
    args.argv = argv
    if args.host and args.serve:
        sys.stderr.write("benchmark: --host (clients only) and --serve (servers only) exclude each other\n")
        return 2
    if args.gap < 0 or args.serve_wait < 0:
        sys.stderr.write("benchmark: --gap and --serve-wait must not be negative\n")
        return 2
    if args.udp_rate is not None:
        try:
            parse_size(args.udp_rate)
        except ValueError as exc:
            sys.stderr.write("benchmark: --udp-rate: {}\n".format(exc))
            return 2
    try:
        status, result = run_benchmark(args)
    except BenchmarkError as exc:
        sys.stderr.write("benchmark: {}\n".format(exc))
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("benchmark: interrupted\n")
        return 130
    if result is not None:
        print(result.markdown)
        print(result.html)
        if result.pdf:
            print(result.pdf)
    return status


if __name__ == "__main__":
    sys.exit(main())
