"""Helpers for tests: temporary lab folders, small files, real processes.

Servers always bind 127.0.0.1 port 0 and report the real port through
``--port-file``; every wait is bounded.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from transfer.catalog import generate_file, generated_sha256
from transfer.paths import PROJECT_ROOT

PYTHON = sys.executable


class LabDirs:
    """A temporary files/, Logs/ and ArchivosRecibidos/ with one small file."""

    def __init__(self, size=3 * 1024 * 1024, name="small.txt"):
        self.root = Path(tempfile.mkdtemp(prefix="ftlab-test-"))
        self.files = self.root / "files"
        self.logs = self.root / "Logs"
        self.received = self.root / "ArchivosRecibidos"
        self.file_name = name
        self.size = size
        generate_file(self.files / name, size)
        self.sha256 = generated_sha256(size)

    def cleanup(self):
        """Remove everything."""
        shutil.rmtree(str(self.root), ignore_errors=True)

    def sidecars(self, protocol, role):
        """The JSONL logs of one protocol and role, oldest first."""
        folder = self.logs / "{}-{}".format(protocol, role)
        return sorted(folder.glob("*-log.jsonl")) if folder.exists() else []

    def records(self, protocol, role):
        """All records of all sidecars of a protocol and role."""
        out = []
        for path in self.sidecars(protocol, role):
            with open(str(path), encoding="utf-8") as handle:
                out.extend(json.loads(line) for line in handle if line.strip())
        return out


def start_server(lab, protocol="tcp", clients=1, extra=(), stdin=None):
    """Start ``<protocol>/server.py --once`` on 127.0.0.1:0; returns (process, port)."""
    port_file = lab.root / "port-{}".format(time.monotonic_ns())
    argv = [PYTHON, str(PROJECT_ROOT / protocol / "server.py"), "--bind", "127.0.0.1", "--port", "0",
            "--port-file", str(port_file), "--file", lab.file_name, "--clients", str(clients), "--once",
            "--files-dir", str(lab.files), "--logs-dir", str(lab.logs), "--no-create"] + list(extra)
    proc = subprocess.Popen(argv, stdin=stdin if stdin is not None else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    port = wait_port_file(port_file, proc)
    return proc, port


def wait_port_file(path, proc, timeout=20.0):
    """The port a server wrote to *path* (bounded wait)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            text = Path(path).read_text()
        except OSError:
            text = ""
        if text.endswith("\n") and text.strip().isdigit():
            return int(text)
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError("server exited early ({}): {}".format(proc.returncode, err.decode(errors="replace")))
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("server did not report its port within {} s".format(timeout))


def client_argv(lab, port, protocol="tcp", clients=1, extra=()):
    """argv of an unattended client run against 127.0.0.1:*port*."""
    return [PYTHON, str(PROJECT_ROOT / protocol / "client.py"), "--host", "127.0.0.1", "--port", str(port),
            "--clients", str(clients), "--yes", "--received-dir", str(lab.received),
            "--logs-dir", str(lab.logs)] + list(extra)


def run(argv, timeout=60, stdin_text=None, cwd=None):
    """Run a process to completion (bounded); returns CompletedProcess with text output."""
    return subprocess.run(argv, input=stdin_text, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=timeout, cwd=cwd)


def finish(proc, timeout=60):
    """Wait for a Popen (bounded); returns (returncode, stdout, stderr) as text."""
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


def sha256_of(path):
    """Hex SHA-256 of a file."""
    from transfer.hashing import sha256_file
    return sha256_file(path)


def environment():
    """A copy of os.environ for child processes."""
    return dict(os.environ)
