"""Old name of the test helpers, kept so tests written against it keep
working: everything lives in tests/procs.py now.  Only the two calls whose
arguments differ there keep their old signatures here (thin adapters)."""

import subprocess
import time

from tests import procs
from tests.procs import PYTHON, finish, no_traceback, run, sha256_of, wait_port_file  # noqa: F401 (old names)
from transfer.paths import PROJECT_ROOT  # noqa: F401 (old name)


class LabDirs(procs.Lab):
    """procs.Lab with one generated file (old signature: size, name)."""

    def __init__(self, size=3 * 1024 * 1024, name="small.txt"):
        super().__init__(prefix="ftlab-test-", size=size, name=name)


def start_server(lab, protocol="tcp", clients=1, extra=(), stdin=None):
    """Start ``<protocol>/server.py --once`` for the lab's file (old signature);
    returns (Popen with stdout/stderr pipes, port)."""
    port_file = lab.root / "port-{}".format(time.monotonic_ns())
    argv = procs.server_argv(lab, protocol, lab.file_name, clients, True, extra, port_file, quiet=False)
    proc = subprocess.Popen(argv, stdin=stdin if stdin is not None else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return proc, wait_port_file(port_file, proc)


def client_argv(lab, port, protocol="tcp", clients=1, extra=()):
    """argv of an unattended client (old argument order: lab, port, protocol)."""
    return procs.client_argv(lab, protocol, port, clients, extra)


def environment():
    """A copy of os.environ for child processes."""
    return procs.child_env()
