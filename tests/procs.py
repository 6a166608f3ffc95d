"""The one helper module of the tests (and scripts/loadtest.py) that run the
real programs as processes: a lab folder in a temporary directory (``Lab``,
optionally with one generated file), a server started with ``--port 0
--port-file F`` and waited for (bounded), clients run with a timeout, the
JSON-lines logs read back, /proc sampling.

``tests/support.py`` is the old name of part of this module: a thin alias
kept so tests written against it keep working.  New tests use this module.

Every wait here is bounded in time; nothing listens or connects anywhere
but 127.0.0.1 unless a caller asks for it.
"""

import glob
import hashlib
import json
import os
import shutil
import signal
import subprocess
import socket
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from transfer.catalog import generate_file, generated_sha256  # noqa: E402

PYTHON = sys.executable
POSIX = os.name == "posix"


def program(protocol, role):
    """Path of tcp/server.py, udp/client.py, ..."""
    return str(ROOT / protocol / "{}.py".format(role))


_UDP_OK = []


def have_udp():
    """True when the UDP programs exist and start (``--help`` exits 0); cached."""
    if not _UDP_OK:
        ok = all((ROOT / "udp" / name).is_file() for name in ("server.py", "client.py"))
        for role in ("server", "client"):
            if not ok:
                break
            try:
                done = subprocess.run([PYTHON, program("udp", role), "--help"], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, timeout=20,
                                      env=child_env())
                ok = done.returncode == 0
            except (OSError, subprocess.SubprocessError):
                ok = False
        _UDP_OK.append(ok)
    return _UDP_OK[0]


UDP_SKIP = "udp/server.py and udp/client.py are not there yet or do not start (--help fails)"


def sha256_of(path):
    digest = hashlib.sha256()
    with open(str(path), "rb") as handle:
        while True:
            block = handle.read(1 << 20)
            if not block:
                break
            digest.update(block)
    return digest.hexdigest()


def child_env():
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("FILELAB_DEBUG", None)
    return env


class Lab:
    """A temporary lab: files/, logs/, recv/ under one folder (removed on close).

    With *size*, files/*name* is a generated file of that many bytes:
    ``file_name``, ``size`` and ``sha256`` describe it."""

    def __init__(self, prefix="filelab-", root=None, size=None, name="small.txt"):
        self.root = Path(tempfile.mkdtemp(prefix=prefix, dir=root))
        self.files = self.root / "files"
        self.logs = self.root / "logs"
        self.recv = self.root / "recv"
        for folder in (self.files, self.logs, self.recv):
            folder.mkdir()
        self.file_name = self.size = self.sha256 = None
        if size is not None:
            self.make_file(name, size)
            self.file_name, self.size, self.sha256 = name, size, generated_sha256(size)

    @property
    def received(self):
        """The received-files folder (same as ``recv``)."""
        return self.recv

    def make_file(self, name, size):
        """A generated file of *size* bytes in files/; returns its path."""
        return generate_file(self.files / name, size)

    def sidecars(self, protocol, role):
        """The JSONL logs of one protocol and role, sorted by name (oldest first)."""
        folder = self.logs / "{}-{}".format(protocol, role)
        return sorted(folder.glob("*-log.jsonl")) if folder.exists() else []

    def records(self, protocol, role):
        """All records of all sidecars of a protocol and role, in one list."""
        out = []
        for path in self.sidecars(protocol, role):
            out.extend(read_jsonl(path))
        return out

    def tree(self):
        """Every file under the lab root, relative paths (sorted)."""
        found = []
        for folder, _dirs, names in os.walk(str(self.root)):
            for name in names:
                found.append(os.path.relpath(os.path.join(folder, name), str(self.root)))
        return sorted(found)

    def logs_of(self, protocol, role):
        """The sidecars of *protocol*-*role*, oldest first, each a list of records."""
        paths = sorted(glob.glob(str(self.logs / "{}-{}".format(protocol, role) / "*-log*.jsonl")),
                       key=lambda p: (os.path.getmtime(p), p))
        return [read_jsonl(p) for p in paths]

    def close(self):
        """Remove the whole lab folder."""
        shutil.rmtree(str(self.root), ignore_errors=True)

    cleanup = close

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def read_jsonl(path):
    records = []
    with open(str(path), encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if line:
                records.append(json.loads(line))
    return records


def records_of(log, kind):
    """The records of one sidecar with record == *kind*."""
    return [r for r in log if r.get("record") == kind]


def tcp_listener(testcase):
    """A TCP socket listening on 127.0.0.1 (port 0), closed at *testcase*'s cleanup: a scripted server's."""
    listener = socket.socket()
    testcase.addCleanup(listener.close)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(60)
    return listener


def wait_for(condition, timeout, interval=0.05):
    """Poll *condition* until true or *timeout* s passed; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


class Proc:
    """A program run as a child process, its output in files (never a full pipe)."""

    def __init__(self, argv, workdir, name, stdin_pipe=False, env=None):
        self.name = name
        self.workdir = Path(workdir)
        self.stdout_path = self.workdir / "{}.out".format(name)
        self.stderr_path = self.workdir / "{}.err".format(name)
        self._out = open(str(self.stdout_path), "wb")
        self._err = open(str(self.stderr_path), "wb")
        self.argv = argv
        self.popen = subprocess.Popen(argv, stdout=self._out, stderr=self._err,
                                      stdin=subprocess.PIPE if stdin_pipe else subprocess.DEVNULL,
                                      env=env or child_env(), cwd=str(self.workdir))

    @property
    def pid(self):
        return self.popen.pid

    @property
    def returncode(self):
        return self.popen.returncode

    def poll(self):
        return self.popen.poll()

    def kill(self):
        """SIGKILL (TerminateProcess on Windows) if still running."""
        if self.popen.poll() is None:
            self.popen.kill()

    def send(self, text):
        """Write *text* to the child's stdin (menu answers)."""
        self.popen.stdin.write(text.encode("ascii"))
        self.popen.stdin.flush()

    def stdout(self):
        return self.stdout_path.read_bytes()

    def stderr(self):
        return self.stderr_path.read_bytes()

    def wait(self, timeout):
        """Exit status, or None if still running after *timeout* s."""
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def signal(self, signum):
        if self.popen.poll() is None:
            try:
                os.kill(self.popen.pid, signum)
            except ProcessLookupError:
                pass

    send_signal = signal   # the Popen name

    def stop(self, timeout=5.0):
        """End the child (SIGTERM, then SIGKILL) and close its files; exit status."""
        if self.popen.poll() is None:
            if POSIX:
                self.signal(signal.SIGCONT)
            self.popen.terminate()
            if self.wait(timeout) is None:
                self.popen.kill()
                self.wait(timeout)
        if self.popen.stdin:
            try:
                self.popen.stdin.close()
            except OSError:
                pass
        self._out.close()
        self._err.close()
        return self.popen.returncode


def server_argv(lab, protocol="tcp", file=None, clients=None, once=True, extra=(), port_file=None, quiet=True):
    """argv of ``<protocol>/server.py`` on 127.0.0.1 port 0 with the lab's folders."""
    argv = [PYTHON, program(protocol, "server"), "--bind", "127.0.0.1", "--port", "0",
            "--no-create", "--files-dir", str(lab.files), "--logs-dir", str(lab.logs)]
    if port_file is not None:
        argv += ["--port-file", str(port_file)]
    if quiet:
        argv.append("--quiet")
    if file is not None:
        argv += ["--file", str(file)]
    if clients is not None:
        argv += ["--clients", str(clients)]
    if once:
        argv.append("--once")
    return argv + list(extra)


def start_server(lab, protocol="tcp", file=None, clients=None, once=True, extra=(), name="server",
                 stdin_pipe=False, wait=20.0, quiet=True):
    """Start ``<protocol>/server.py`` on 127.0.0.1, port 0; wait for its port file.

    *file* defaults to the lab's generated file.  Returns (Proc, port).
    Raises RuntimeError (after stopping it) if the port does not appear
    within *wait* seconds.
    """
    port_file = lab.root / "{}.port".format(name)
    if port_file.exists():
        port_file.unlink()
    if file is None:
        file = getattr(lab, "file_name", None)
    argv = server_argv(lab, protocol, file, clients, once, extra, port_file, quiet)
    proc = Proc(argv, lab.root, name, stdin_pipe=stdin_pipe)

    def port():
        try:
            text = port_file.read_text()
        except OSError:
            return None
        return int(text) if text.endswith("\n") and text.strip().isdigit() else None
    found = wait_for(lambda: port() or proc.popen.poll() is not None, wait)
    number = port()
    if not number:
        proc.stop()
        raise RuntimeError("{} did not start: status {}, stderr {!r}".format(
            name, proc.popen.returncode, proc.stderr()[-500:]))
    del found
    return proc, number


def client_argv(lab, protocol, port, clients, extra=(), recv=None, logs=None):
    return [PYTHON, program(protocol, "client"), "--host", "127.0.0.1", "--port", str(port),
            "--clients", str(clients), "--yes", "--received-dir", str(recv or lab.recv),
            "--logs-dir", str(logs or lab.logs)] + list(extra)


def start_client(lab, protocol, port, clients, extra=(), name="client", recv=None, logs=None):
    """Start a client process (not waited for)."""
    return Proc(client_argv(lab, protocol, port, clients, extra, recv, logs), lab.root, name)


def run_client(lab, protocol, port, clients, extra=(), timeout=120.0, name="client", recv=None, logs=None):
    """Run a client process to its end; returns (status, stdout bytes, stderr bytes).

    Status is None if it had to be killed after *timeout* seconds."""
    proc = start_client(lab, protocol, port, clients, extra, name, recv, logs)
    status = proc.wait(timeout)
    if status is None:
        proc.stop()
    else:
        proc.stop()
    return status, proc.stdout(), proc.stderr()


def wait_port_file(path, proc, timeout=20.0):
    """The port a server wrote to *path* (bounded wait); *proc* a Popen or Proc."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            text = Path(path).read_text()
        except OSError:
            text = ""
        if text.endswith("\n") and text.strip().isdigit():
            return int(text)
        if proc.poll() is not None:
            _code, _out, err = finish(proc, 10)
            raise AssertionError("server exited early ({}): {}".format(proc.returncode, err))
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("server did not report its port within {} s".format(timeout))


def run(argv, timeout=60, stdin_text=None, cwd=None, env=None):
    """Run a process to completion (bounded); returns CompletedProcess with text output."""
    return subprocess.run(argv, input=stdin_text, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=timeout, cwd=cwd, env=env)


def finish(proc, timeout=60):
    """Wait for a Proc or a Popen with pipes (bounded); returns (returncode, stdout, stderr)
    as text.  Raises AssertionError (after killing it) if it runs longer than *timeout* s."""
    if isinstance(proc, Proc):
        status = proc.wait(timeout)
        if status is None:
            proc.stop()
            raise AssertionError("{} did not finish within {} s: {}".format(
                proc.name, timeout, proc.stderr().decode(errors="replace")[-2000:]))
        proc.stop()
        return status, proc.stdout().decode(errors="replace"), proc.stderr().decode(errors="replace")
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError("process did not finish within {} s: {}".format(timeout, err.decode(errors="replace")))
    return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")


def no_traceback(testcase, text):
    """Assert that *text* holds no Python traceback."""
    testcase.assertNotIn("Traceback (most recent call last)", text)


# -- /proc sampling (Linux) ------------------------------------------------------

def proc_status(pid):
    """{'VmRSS': kB, 'VmHWM': kB, 'Threads': n, 'fds': n} of a live process (Linux)."""
    values = {}
    with open("/proc/{}/status".format(pid)) as handle:
        for line in handle:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM", "Threads"):
                values[key] = int(rest.split()[0])
    values["fds"] = len(os.listdir("/proc/{}/fd".format(pid)))
    return values


def have_proc():
    return os.path.isdir("/proc/self/fd") and os.path.isfile("/proc/self/status")


def wait_output(proc, needle, count=1, timeout=30.0, stream="stderr"):
    """Wait until *needle* (bytes) appears *count* times in the child's output
    (or the child ended); returns True when it did."""
    read = proc.stderr if stream == "stderr" else proc.stdout
    return bool(wait_for(lambda: read().count(needle) >= count or proc.popen.poll() is not None, timeout)) and \
        read().count(needle) >= count


def count_in(path, needle):
    try:
        return Path(path).read_bytes().count(needle)
    except OSError:
        return 0
