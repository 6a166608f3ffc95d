"""Baseline rows for the TCP benchmark, measured in the same run as the toolkit
and interleaved with it, so every ratio compares figures taken minutes apart
on the same machine:

- SHA-256 rate of this Python on one core (1 MiB updates, in memory);
- the interpreter's own start (``python -c pass``);
- the socat pipeline, 1 client: ``socat -u TCP-LISTEN:P STDOUT | tee FILE |
  openssl dgst -sha256`` receiving from ``socat -u FILE:F TCP:127.0.0.1:P``;
  its wall time against tcp/client.py's (ratio >= 1.0: we are not slower);
- fixed costs of tcp/client.py, 1 client: its wall time minus the transfer
  (first byte received to DONE sent, from its log), minus the interpreter's
  start (target < 80 ms);
- the minimal reference receiver (scripts/refrecv.py) with N clients against
  tcp/client.py's aggregate (ratio >= 0.95) and against SHA-256 (>= 1.0);
- the server's peak RSS (``wait4``) in each of our runs (< 64 MiB);
- with ``--udp``, for N > 1 clients: udp/server.py and udp/client.py in
  reliable mode against SHA-256 (>= 0.8) and against a minimal reference UDP
  transfer (scripts/refudp.py); and what a gigabyte costs in CPU seconds
  (server + client, ``wait4``) for each reference and for our UDP run, with
  the ceiling that cost sets on this machine's cores: a UDP sender copies
  every byte twice (file to buffer, buffer to socket) where ``sendfile``
  copies nothing, so the UDP reference's ceiling is lower than TCP's.

    python3 scripts/baselines.py --files-dir files --file 250MB.txt --clients 1,10 --repeat 3
    python3 scripts/baselines.py --file 250MB.txt --clients 10 --repeat 3 --udp
    python3 scripts/benchmark.py --protocols tcp --baselines ...   # the same rows in the report

``--compare-root DIR`` also runs another checkout's programs in the same
rounds (old against new).  ``--receive-modes auto,inline,pipelined`` runs
tcp/client.py once per receive mode (FILELAB_TCP_RECEIVE).  Linux/macOS.
"""

if __package__ in (None, ""):
    import os, sys  # noqa: E401
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import argparse
import hashlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import OrderedDict
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MiB = 1024 * 1024
MB = 1000 * 1000
RUN_TIMEOUT = 300.0
TARGETS = OrderedDict([
    ("socat_over_ours_1", 1.0), ("fixed_ms", 80.0), ("transfer_over_sha256_1", 0.85),
    ("ours_over_reference", 0.95), ("ours_over_sha256", 1.0), ("server_rss_mib", 64.0),
    ("udp_over_sha256", 0.8),
])


class BaselineError(Exception):
    """A baseline that cannot run here (a missing tool, a failed run)."""


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PeakRSS:
    """Follows a child's peak RSS (VmHWM in /proc/<pid>/status, Linux) until it
    exits.  (wait4's ru_maxrss would also count the RSS the child inherited
    from this process before exec.)"""

    def __init__(self, pid, interval=0.005):
        import threading
        self.pid = pid
        self.kib = None
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        path = "/proc/{}/status".format(self.pid)
        while not self._stop.is_set():
            try:
                with open(path) as handle:
                    for line in handle:
                        if line.startswith("VmHWM:"):
                            self.kib = max(self.kib or 0, int(line.split()[1]))
                            break
            except (OSError, ValueError):
                return
            self._stop.wait(self._interval)

    def stop(self):
        """Stop following; returns the peak seen (KiB) or None."""
        self._stop.set()
        self._thread.join(1.0)
        return self.kib


def _wait4(proc, timeout=RUN_TIMEOUT):
    """Wait for *proc* (killed after *timeout* s); returns (exit status, peak RSS
    in KiB or None).  os.wait4, where it exists, gives the child's own peak RSS."""
    status, rss, _ = _wait_usage(proc, timeout)
    return status, rss


def _wait_usage(proc, timeout=RUN_TIMEOUT):
    """As _wait4, plus the child's CPU seconds (user + system; None without os.wait4)."""
    import threading
    watchdog = threading.Timer(timeout, proc.kill)
    watchdog.daemon = True
    watchdog.start()
    try:
        if not hasattr(os, "wait4"):
            return proc.wait(), None, None
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        watchdog.cancel()
    proc.returncode = (os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode")
                       else status >> 8)
    return (proc.returncode, usage.ru_maxrss // (1024 if sys.platform == "darwin" else 1),
            usage.ru_utime + usage.ru_stime)


def sha256_rate(path, limit=256 * MiB):
    """Bytes/s of hashlib.sha256 over *path* (up to *limit* bytes) held in memory, 1 MiB updates."""
    with open(str(path), "rb") as handle:
        data = handle.read(limit)
    view = memoryview(data)
    digest = hashlib.sha256()
    started = time.perf_counter()
    for offset in range(0, len(data), MiB):
        digest.update(view[offset:offset + MiB])
    elapsed = time.perf_counter() - started
    return len(data) / elapsed


def interpreter_start(python=sys.executable):
    """Seconds from launching ``python -c pass`` to its exit."""
    started = time.perf_counter()
    subprocess.run([python, "-c", "pass"], check=True)
    return time.perf_counter() - started


def run_socat(path, work_dir):
    """Wall time (s) of the socat | tee | openssl receiving pipeline for one file."""
    for tool in ("socat", "tee", "openssl"):
        if shutil.which(tool) is None:
            raise BaselineError("{} is not installed".format(tool))
    port = _free_port()
    out = Path(work_dir) / "socat.out"
    receiver = "socat -u TCP-LISTEN:{},reuseaddr,bind=127.0.0.1 STDOUT | tee {} | openssl dgst -sha256".format(
        port, out)
    started = time.perf_counter()
    pipe = subprocess.Popen(["sh", "-c", receiver], stdout=subprocess.PIPE)
    sender = subprocess.Popen(["socat", "-u", "FILE:{}".format(path),
                               "TCP:127.0.0.1:{},retry=2000,interval=0.001".format(port)])
    digest, _ = pipe.communicate(timeout=RUN_TIMEOUT)
    wall = time.perf_counter() - started
    sender.wait(RUN_TIMEOUT)
    try:
        out.unlink()
    except OSError:
        pass
    if pipe.returncode != 0 or sender.returncode != 0:
        raise BaselineError("socat pipeline failed")
    return wall, digest.decode("ascii", "replace").strip().split()[-1]


def _wait_port(path, proc, limit=60.0):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BaselineError("server exited with status {} before listening".format(proc.returncode))
        try:
            text = Path(path).read_text()
        except OSError:
            text = ""
        if text.endswith("\n"):
            return int(text)
        time.sleep(0.005)
    raise BaselineError("server did not listen within {:.0f} s".format(limit))


def run_reference(path, clients, work_dir, python=sys.executable):
    """scripts/refrecv.py with *clients* clients: its JSON result plus the receiver's wall time."""
    script = str(PROJECT_ROOT / "scripts" / "refrecv.py")
    port_file = str(Path(work_dir) / "ref.port")
    server = subprocess.Popen([python, script, "serve", str(path), "--clients", str(clients),
                               "--port-file", port_file])
    try:
        port = _wait_port(port_file, server)
        return _run_receiver(server, [python, script, "receive", "--port", str(port), "--clients", str(clients),
                                      "--out", str(work_dir)], "reference receiver")
    finally:
        if server.poll() is None:
            server.kill()
        os.unlink(port_file) if os.path.exists(port_file) else None


def _local_popen(role, argv, **kw):
    """subprocess.Popen(argv) on this host (*role* "server" or "client" is for a lab's namespaces)."""
    return subprocess.Popen(argv, **kw)


def _run_receiver(server, command, what, popen=_local_popen):
    """Run a reference's receiving side against its running *server*; its JSON result plus the
    receiver's wall time and each side's CPU seconds (``server_cpu_s``, ``client_cpu_s``)."""
    import threading
    started = time.perf_counter()
    receiver = popen("client", command, stdout=subprocess.PIPE)
    watchdog = threading.Timer(RUN_TIMEOUT, receiver.kill)   # its output ends when it exits, or is killed
    watchdog.daemon = True
    watchdog.start()
    try:
        output = receiver.stdout.read()
    finally:
        watchdog.cancel()
        receiver.stdout.close()
    status, _, client_cpu = _wait_usage(receiver)
    wall = time.perf_counter() - started
    server_status, _, server_cpu = _wait_usage(server)
    if status != 0 or server_status != 0:
        raise BaselineError("{} failed (receiver exit {}, sender exit {})".format(what, status, server_status))
    result = json.loads(output.decode("utf-8"))
    result.update(wall_s=wall, server_cpu_s=server_cpu, client_cpu_s=client_cpu)
    return result


def run_udp_reference(path, clients, work_dir, python=sys.executable, datagram=None, popen=_local_popen,
                      address="127.0.0.1"):
    """scripts/refudp.py with *clients* clients (*datagram* bytes per datagram: its default, or e.g.
    1472 for its GSO/GRO path): its JSON result, wall time and CPU seconds; a copy that fails its
    hash (a datagram lost) fails the run.  *popen* (role, argv, **kw) starts each side (a network
    lab's ``popen`` runs them in its namespaces), the sender bound to *address*."""
    script = str(PROJECT_ROOT / "scripts" / "refudp.py")
    port_file = str(Path(work_dir) / "refudp.port")
    size = ["--datagram", str(datagram)] if datagram else []
    server = popen("server", [python, script, "serve", str(path), "--clients", str(clients), "--bind", address,
                              "--port-file", port_file] + size, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60.0
        ports = ""
        while not ports.endswith("\n"):
            if server.poll() is not None or time.monotonic() > deadline:
                raise BaselineError("UDP reference sender did not start")
            time.sleep(0.005)
            ports = Path(port_file).read_text() if os.path.exists(port_file) else ""
        result = _run_receiver(server, [python, script, "receive", "--host", address, "--ports", ports.strip(),
                                        "--out", str(work_dir)] + size, "UDP reference", popen)
    finally:
        if server.poll() is None:
            server.kill()
        os.unlink(port_file) if os.path.exists(port_file) else None
    if len(set(result["sha256"])) != 1 or len(result["sha256"]) != clients:
        raise BaselineError("UDP reference: {} datagrams lost, copies differ".format(result.get("lost_datagrams")))
    return result


def _latest_sidecar(folder):
    found = sorted(Path(folder).glob("*.jsonl"), key=lambda p: p.stat().st_mtime)
    if not found:
        raise BaselineError("no log in {}".format(folder))
    return [json.loads(line) for line in found[-1].read_text("utf-8").splitlines() if line.strip()]


def run_ours(root, files_dir, file_name, clients, work_dir, python=sys.executable, env=None, protocol="tcp"):
    """tcp/server.py --once and tcp/client.py from checkout *root*, one test
    (*protocol* "udp": udp/server.py and udp/client.py, reliable mode).

    Returns the client's wall time, the parts before the first byte and after
    the last (from its log), its aggregate rate, the server's peak RSS, and
    each side's CPU seconds."""
    root = Path(root)
    mode = ["--reliable"] if protocol == "udp" else []
    logs = Path(work_dir) / "logs-{}".format(os.getpid())
    received = Path(work_dir) / "received"
    port_file = str(Path(work_dir) / "ours.port")
    server = subprocess.Popen(
        [python, str(root / protocol / "server.py"), "--bind", "127.0.0.1", "--port", "0", "--port-file", port_file,
         "--file", file_name, "--clients", str(clients), "--max-clients", str(max(25, clients)), "--once",
         "--quiet", "--no-create", "--logs-dir", str(logs), "--files-dir", str(files_dir)] + mode,
        stdout=subprocess.DEVNULL, env=env)
    peak = PeakRSS(server.pid) if sys.platform.startswith("linux") else None
    try:
        port = _wait_port(port_file, server)
        launched = time.time()
        client = subprocess.Popen(
            [python, str(root / protocol / "client.py"), "--host", "127.0.0.1", "--port", str(port), "--clients",
             str(clients), "--yes", "--quiet", "--received-dir", str(received), "--logs-dir", str(logs)] + mode,
            stdout=subprocess.DEVNULL, env=env)
        client_rc, _, client_cpu = _wait_usage(client)
        ended = time.time()
        server_rc, server_rss, server_cpu = _wait_usage(server)
        if peak is not None:
            server_rss = peak.stop()
    finally:
        for proc in (server,):
            if proc.poll() is None:
                proc.kill()
        if os.path.exists(port_file):
            os.unlink(port_file)
        shutil.rmtree(str(received), ignore_errors=True)
    records = _latest_sidecar(logs / "{}-client".format(protocol))
    shutil.rmtree(str(logs), ignore_errors=True)
    conns = [r for r in records if r.get("record") == "connection"]
    summary = next((r for r in records if r.get("record") == "summary"), {})
    if client_rc != 0 or server_rc != 0 or not conns or not all(c.get("ok") for c in conns):
        raise BaselineError("{} run failed (client exit {}, server exit {})".format(protocol, client_rc, server_rc))
    first = min(c["first_byte_epoch"] for c in conns)
    last = max(c["last_byte_epoch"] for c in conns)
    return OrderedDict([
        ("client_wall_s", ended - launched), ("before_first_byte_s", first - launched),
        ("transfer_s", last - first), ("after_last_byte_s", ended - last),
        ("aggregate_bytes_per_s", summary.get("aggregate_rate_bytes_per_s")),
        ("server_peak_rss_kib", server_rss), ("server_cpu_s", server_cpu), ("client_cpu_s", client_cpu),
    ])


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _ratio(a, b):
    return a / b if a and b else None


def measure(files_dir, file_name, clients=(1, 10), repeat=3, work_dir=None, roots=None, modes=("auto",),
            rss_clients=None, log=None, python=sys.executable, udp=False):
    """Run the baseline rounds; returns {"rows": [...], "samples": {...}}.

    *roots*: OrderedDict label -> checkout (default {"this": PROJECT_ROOT});
    *modes*: receive modes of tcp/client.py to run (auto = its own rule);
    *rss_clients*: also run ours once per round with that many clients and
    report the server's peak RSS; *udp*: also, for each count above 1, the
    UDP reference and our UDP programs (reliable mode) in the same rounds."""
    log = log or (lambda msg: None)
    roots = roots or OrderedDict([("this", PROJECT_ROOT)])
    path = Path(files_dir) / file_name
    size = path.stat().st_size
    own_tmp = work_dir is None
    work = Path(tempfile.mkdtemp(prefix="baselines-")) if own_tmp else Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    samples = OrderedDict()

    def add(key, value):
        samples.setdefault(key, []).append(value)

    variants = [(label, root, mode) for label, root in roots.items() for mode in modes]

    def ours(root, mode, n, protocol="tcp"):
        env = dict(os.environ)
        if mode != "auto":
            env["FILELAB_TCP_RECEIVE"] = mode
        return run_ours(root, files_dir, file_name, n, work, python, env, protocol)

    def attempt(key, job):
        try:
            add(key, job())
        except BaselineError as exc:
            add(key, None)  # keeps rounds aligned: samples[key][i] is round i + 1
            log("baselines: {} failed: {}".format(key, exc))

    try:
        for rnd in range(1, repeat + 1):
            add("sha256", sha256_rate(path))
            add("interpreter", interpreter_start(python))
            for n in clients:
                jobs = []
                if n == 1:
                    jobs.append((("socat", 1), lambda: run_socat(path, work)[0]))
                else:
                    jobs.append((("reference", n), lambda n=n: run_reference(path, n, work, python)))
                for label, root, mode in variants:
                    key = "{} {}".format(label, mode) if len(modes) > 1 else label
                    jobs.append(((key, n), lambda label=label, root=root, mode=mode, n=n: ours(root, mode, n)))
                if udp and n > 1:
                    jobs.append((("udp reference", n), lambda n=n: run_udp_reference(path, n, work, python)))
                    for label, root in roots.items():
                        jobs.append((("{} udp".format(label), n),
                                     lambda root=root, n=n: ours(root, "auto", n, "udp")))
                for key, job in (jobs if rnd % 2 else jobs[::-1]):  # interleaved, order alternating by round
                    attempt(key, job)
            if rss_clients:
                for label, root, mode in variants:
                    key = "{} {}".format(label, mode) if len(modes) > 1 else label
                    attempt((key, rss_clients), lambda root=root, mode=mode: ours(root, mode, rss_clients))
            log("baselines: round {}/{} done".format(rnd, repeat))
    finally:
        if own_tmp:
            shutil.rmtree(str(work), ignore_errors=True)
    return {"rows": summarize(samples, size, clients, rss_clients), "samples": _jsonable(samples),
            "file": file_name, "file_size": size, "repeat": repeat}


def _jsonable(samples):
    return OrderedDict((k if isinstance(k, str) else "{} x{}".format(*k), v) for k, v in samples.items())


def _paired(a, b, fa, fb):
    """Median over rounds of fa(a[i]) / fb(b[i]) (rounds where both ran)."""
    ratios = []
    for x, y in zip(a, b):
        if x is None or y is None:
            continue
        num, den = fa(x), fb(y)
        if num and den:
            ratios.append(num / den)
    return _median(ratios)


def summarize(samples, size, clients, rss_clients=None):
    """Medians and ratios as report rows (OrderedDicts).  A ratio is the
    median of the ratios within each round (both figures taken minutes apart),
    which the load of a shared machine disturbs less than a ratio of medians."""
    shas = samples.get("sha256", [])
    interps = samples.get("interpreter", [])
    sha = _median(shas)
    interp = _median(interps)
    same = lambda v: v  # noqa: E731
    rows = []

    def row(what, value, unit, ratio=None, target=None, against=None, below=False):
        met = None
        if ratio is not None and target is not None:
            met = ratio < target if below else ratio >= target
        rows.append(OrderedDict([
            ("row", what), ("value", None if value is None else round(value, 3)), ("unit", unit),
            ("ratio", None if ratio is None else round(ratio, 3)), ("target", target),
            ("met", None if met is None else ("yes" if met else "NO")),
            ("SHA-256 MB/s", None if sha is None else round(sha / MB)), ("against", against or ""),
        ]))

    def agg(r):
        return r["aggregate_bytes_per_s"]

    def fixed_ms(pair):
        run, start = pair
        return (run["before_first_byte_s"] + run["after_last_byte_s"] - start) * 1000

    row("SHA-256, one core, 1 MiB updates", sha and sha / MB, "MB/s")
    row("interpreter start (python -c pass)", interp and interp * 1000, "ms")
    labels = [k[0] for k in samples if isinstance(k, tuple) and k[0] not in ("socat", "reference")
              and not k[0].endswith("udp") and not k[0].startswith("udp ")]
    labels = list(OrderedDict.fromkeys(labels))
    for n in clients:
        if n == 1:
            socats = samples.get(("socat", 1), [])
            row("socat | tee | openssl, 1 client wall", _median(socats), "s")
        else:
            refs = samples.get(("reference", n), [])
            ref = _median([agg(r) for r in refs if r])
            row("reference receiver, {} clients aggregate".format(n), ref and ref / MB, "MB/s",
                _paired(refs, shas, agg, same), None, "ratio = reference / SHA-256")
        for label in labels:
            runs = samples.get((label, n), [])
            ok = [r for r in runs if r]
            if not ok:
                continue
            if n == 1:
                wall = _median([r["client_wall_s"] for r in ok])
                row("{}: 1 client wall".format(label), wall, "s", _paired(socats, runs, same, lambda r: r["client_wall_s"]),
                    TARGETS["socat_over_ours_1"], "ratio = socat wall / our wall")
                before = _median([r["before_first_byte_s"] for r in ok])
                after = _median([r["after_last_byte_s"] for r in ok])
                value = _median([fixed_ms((r, i)) for r, i in zip(runs, interps) if r and i])
                row("{}: fixed costs beyond the interpreter (start+handshake {:.0f} ms, wrap-up {:.0f} ms)".format(
                    label, before * 1000, after * 1000), value, "ms", value, TARGETS["fixed_ms"],
                    "client wall - transfer - interpreter start; target below", below=True)
                rate = _median([size / r["transfer_s"] for r in ok if r["transfer_s"] > 0])
                row("{}: 1 client rate during transfer".format(label), rate and rate / MB, "MB/s",
                    _paired(runs, shas, lambda r: size / r["transfer_s"], same), TARGETS["transfer_over_sha256_1"],
                    "ratio = rate / SHA-256")
            else:
                value = _median([agg(r) for r in ok])
                row("{}: {} clients aggregate".format(label, n), value and value / MB, "MB/s",
                    _paired(runs, shas, agg, same), TARGETS["ours_over_sha256"], "ratio = aggregate / SHA-256")
                ratio = _paired(runs, samples.get(("reference", n), []), agg, agg)
                row("{}: {} clients vs reference".format(label, n), ratio, "x", ratio,
                    TARGETS["ours_over_reference"], "ratio = our aggregate / reference aggregate")
            if label == "new" and samples.get(("old", n)):
                olds = samples[("old", n)]
                if n == 1:
                    row("new vs old: 1 client wall, old / new", None, "x",
                        _paired(olds, runs, lambda r: r["client_wall_s"], lambda r: r["client_wall_s"]))
                else:
                    row("new vs old: {} clients aggregate, new / old".format(n), None, "x", _paired(runs, olds, agg, agg))
            rss = _median([r["server_peak_rss_kib"] for r in ok])
            if rss is not None and n == max(clients):
                row("{}: server peak RSS, {} clients".format(label, n), rss / 1024.0, "MiB")
    udp_rows(samples, size, clients, labels, row, agg)
    if rss_clients:
        for label in labels:
            runs = [r for r in samples.get((label, rss_clients), []) if r]
            rss = _median([r["server_peak_rss_kib"] for r in runs])
            if rss is not None:
                row("{}: server peak RSS, {} clients".format(label, rss_clients), rss / 1024.0, "MiB",
                    rss / 1024.0, TARGETS["server_rss_mib"], "MiB, target below", below=True)
    return rows


def cpu_per_gb(run, size, clients):
    """CPU seconds (server + client) per 10^9 bytes delivered in *run*, or None."""
    if not run or run.get("server_cpu_s") is None or run.get("client_cpu_s") is None:
        return None
    delivered = run.get("bytes") or size * clients
    return (run["server_cpu_s"] + run["client_cpu_s"]) / (delivered / 1e9)


def udp_rows(samples, size, clients, labels, row, agg, cores=None):
    """The --udp rows (see the module docstring), for each count above 1 that has UDP samples."""
    shas = samples.get("sha256", [])
    cores = cores or os.cpu_count() or 1
    same = lambda v: v  # noqa: E731
    for n in clients:
        refs = samples.get(("udp reference", n), [])
        if n < 2 or not any(refs):
            continue
        ref = _median([agg(r) for r in refs if r])
        row("UDP reference (scripts/refudp.py), {} clients aggregate".format(n), ref and ref / MB, "MB/s",
            _paired(refs, shas, agg, same), None, "ratio = UDP reference / SHA-256")
        for label in labels:
            runs = samples.get(("{} udp".format(label), n), [])
            if not any(runs):
                continue
            value = _median([agg(r) for r in runs if r])
            row("{}: UDP reliable, {} clients aggregate".format(label, n), value and value / MB, "MB/s",
                _paired(runs, shas, agg, same), TARGETS["udp_over_sha256"], "ratio = aggregate / SHA-256")
            ratio = _paired(runs, refs, agg, agg)
            row("{}: UDP reliable, {} clients vs UDP reference".format(label, n), ratio, "x", ratio, None,
                "ratio = our UDP aggregate / UDP reference aggregate")
        costs = [("reference receiver (TCP, sendfile)", samples.get(("reference", n), []))]
        costs += [("{}: TCP".format(label), samples.get((label, n), [])) for label in labels]
        costs += [("UDP reference", refs)]
        costs += [("{}: UDP reliable".format(label), samples.get(("{} udp".format(label), n), [])) for label in labels]
        for what, runs in costs:
            runs = [r for r in runs if r and r.get("server_cpu_s") is not None]
            if not runs:
                continue
            per_gb = _median([cpu_per_gb(r, size, n) for r in runs])
            server = _median([r["server_cpu_s"] / ((r.get("bytes") or size * n) / 1e9) for r in runs])
            row("{}, {} clients: CPU seconds per GB, sender + receiver".format(what, n), per_gb, "s/GB", None, None,
                "sender {:.2f} + receiver {:.2f} s/GB".format(server, per_gb - server))
        ceilings = [(cores / cpu_per_gb(r, size, n) * 1e9) if r and cpu_per_gb(r, size, n) else None for r in refs]
        ceiling = _paired(ceilings, shas, same, same)
        row("UDP reference, {} clients: the most {} cores allow at its CPU cost".format(n, cores),
            None, "", ceiling, None, "ratio = cores / (CPU s per byte) / SHA-256: an upper bound")


def format_rows(rows):
    """The rows as a plain-text table."""
    out = []
    for r in rows:
        value = "-" if r["value"] is None else "{:,.3f}".format(r["value"]).rstrip("0").rstrip(".")
        ratio = "" if r["ratio"] is None else "x{:.3f}".format(r["ratio"])
        target = "" if r["target"] is None else "target {}{} {}".format(
            "<" if "target below" in r["against"] else ">=", r["target"], r["met"])
        out.append("{:<95} {:>10} {:<5} {:>8} {}".format(r["row"], value, r["unit"], ratio, target).rstrip())
    return "\n".join(out)


def main(argv=None):
    """Command line; returns the exit status."""
    p = argparse.ArgumentParser(prog="baselines.py", description="TCP baseline rows, interleaved, medians.")
    p.add_argument("--files-dir", default=str(PROJECT_ROOT / "files"))
    p.add_argument("--file", default="250MB.txt")
    p.add_argument("--clients", default="1,10", help="client counts, e.g. 1,10")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--rss-clients", type=int, help="also report the server's peak RSS with this many clients")
    p.add_argument("--compare-root", metavar="DIR", help="also run the programs of another checkout (label old)")
    p.add_argument("--receive-modes", default="auto", help="auto,inline,pipelined")
    p.add_argument("--json", metavar="PATH", help="write rows and samples as JSON")
    p.add_argument("--udp", action="store_true",
                   help="also the UDP rows (N > 1): UDP reference, udp/ programs (reliable), CPU per GB")
    args = p.parse_args(argv)
    try:
        clients = [int(x) for x in args.clients.split(",") if x.strip()]
    except ValueError:
        sys.stderr.write("baselines.py: error: bad --clients {!r}\n".format(args.clients))
        return 2
    roots = OrderedDict()
    if args.compare_root:
        roots["old"] = Path(args.compare_root)
    roots["new" if args.compare_root else "this"] = PROJECT_ROOT
    modes = tuple(m.strip() for m in args.receive_modes.split(",") if m.strip())
    if not (Path(args.files_dir) / args.file).is_file():
        sys.stderr.write("baselines.py: error: no file {} in {}\n".format(args.file, args.files_dir))
        return 2
    try:
        result = measure(args.files_dir, args.file, clients, args.repeat, roots=roots, modes=modes,
                         rss_clients=args.rss_clients, log=lambda m: sys.stderr.write(m + "\n"), udp=args.udp)
    except BaselineError as exc:
        sys.stderr.write("baselines.py: error: {}\n".format(exc))
        return 1
    print(format_rows(result["rows"]))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
