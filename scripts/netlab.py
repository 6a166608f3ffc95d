"""Two hosts on one machine: two network namespaces joined by a veth pair.

The lab "PREFIX" is the namespaces PREFIX-srv (address 10.201.0.1/24) and
PREFIX-cli (10.201.0.2/24), a veth link between them, lo up in both, and
optionally a tbf rate limit on both veth ends plus netem delay/loss when the
kernel has netem (it is detected by trying, always: ``netem_available``;
without it a clear message says so, NETEM_ABSENT, and the rate shaping still
applies).  GRO and UDP GRO forwarding are turned on on both veth ends
(``ethtool -K DEV gro on rx-udp-gro-forwarding on``; without it a UDP_GRO
receiver gets nothing coalesced through tbf): ``gro`` says "on" or why not.  The addresses exist only inside the
namespaces.  Delay and loss apply per direction (RTT = 2 x delay).  Needs
root and iproute2 (ip, and tc for shaping).

CLI:
    netlab.py up [--rate 100mbit] [--delay 10ms] [--loss 1%] [--name PREFIX]
    netlab.py down [--name PREFIX] [--kill]       (also removes stale labs)
    netlab.py status [--name PREFIX]               (exit 0 up, 1 not up)
    netlab.py run server|client [--name PREFIX] [--timeout S] -- CMD ...
    netlab.py selftest [--rate 100mbit] [--delay ..] [--loss ..] [--bytes 12M]
Exit status 2 with one line on stderr when the lab cannot be used
(NetLabUnavailable: no root, no ip/tc, namespaces not permitted) or on bad
arguments.

Library:
    with NetLab(rate="100mbit", delay=None, loss=None, prefix="ftlab") as lab:
        srv = lab.popen("server", [sys.executable, "tcp/server.py",
                                   "--bind", lab.server_addr, "--port", "5001"])
        lab.run("client", [sys.executable, "tcp/client.py",
                           "--host", lab.server_addr, "--yes"], timeout=60)
        lab.link_down(); lab.link_up()          # fault injection
    Attributes: server_ns, client_ns, server_addr, client_addr, server_if,
    client_if, netem_available (True/False/None), warnings (list), shaping.
    Leaving the block (normally, on an exception, on Ctrl-C, or on SIGTERM
    when no other SIGTERM handler is installed) stops the processes started
    in the lab's namespaces and deletes the namespaces.
    Helpers: tcp_echo(lab), measure_tcp_throughput(lab, nbytes),
    teardown(prefix), lab_exists(prefix), parse_rate/parse_delay/parse_loss.
Exceptions: NetLabUnavailable (root/ip/tc/namespaces missing),
NetLabError (a setup command failed, or the lab already exists).
"""
from __future__ import annotations

if __package__ in (None, ""):
    import os, sys
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import argparse
import ipaddress
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import threading
import time

__all__ = [
    "NetLab", "NetLabUnavailable", "NetLabError", "DEFAULT_PREFIX", "check_available",
    "lab_names", "lab_exists", "teardown", "parse_rate", "parse_delay", "parse_loss",
    "tcp_echo", "measure_tcp_throughput", "main",
]

DEFAULT_PREFIX = "ftlab"
#: Bound for every ip/tc command.
CMD_TIMEOUT = 10.0
_PREFIX_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,19}$")
NETEM_ABSENT = ("netem is not available on this kernel (sch_netem missing): no delay or loss can be added to "
                "the lab's link; loss is covered by the in-process relay tests instead "
                "(tests/test_udp_relay.py, 5% and 20% loss, 1,472-byte datagrams too)")
_NETEM_MISSING = re.compile(r"qdisc kind is unknown|unknown qdisc|no such file|"
                            r"not supported|cannot find", re.IGNORECASE)


class NetLabUnavailable(Exception):
    """The lab cannot run here (not root, no iproute2, namespaces not permitted)."""


class NetLabError(Exception):
    """A lab command failed (or the lab already exists)."""


# ---------------------------------------------------------------------------
# Parsing


def parse_rate(text):
    """tc-style rate ("100mbit", "1gbit", "12.5mbps" = bytes, bare = bit/s) -> bits/s (int)."""
    m = re.match(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$", str(text), re.IGNORECASE)
    units = {"": 1, "bit": 1, "kbit": 1e3, "mbit": 1e6, "gbit": 1e9, "tbit": 1e12,
             "kibit": 1024, "mibit": 1024 ** 2, "gibit": 1024 ** 3,
             "bps": 8, "kbps": 8e3, "mbps": 8e6, "gbps": 8e9, "k": 1e3, "m": 1e6, "g": 1e9}
    if not m or m.group(2).lower() not in units:
        raise ValueError("bad rate %r (examples: 100mbit, 1gbit, 500kbit)" % (text,))
    bits = int(float(m.group(1)) * units[m.group(2).lower()])
    if not 8000 <= bits <= 10 ** 12:
        raise ValueError("rate %r out of range (8kbit .. 1tbit)" % (text,))
    return bits


def parse_delay(text):
    """Delay ("10ms", "1.5ms", "200us", "1s"; bare number = ms) -> seconds (float)."""
    m = re.match(r"^\s*(\d+(?:\.\d+)?)\s*(us|usec|ms|msec|s|sec)?\s*$", str(text), re.IGNORECASE)
    if not m:
        raise ValueError("bad delay %r (examples: 10ms, 500us, 1s)" % (text,))
    scale = {"us": 1e-6, "usec": 1e-6, "ms": 1e-3, "msec": 1e-3, "s": 1.0, "sec": 1.0, None: 1e-3}
    value = float(m.group(1)) * scale[m.group(2).lower() if m.group(2) else None]
    if value > 60:
        raise ValueError("delay %r is too large (max 60 s)" % (text,))
    return value


def parse_loss(text):
    """Loss ("1%", "0.5", bare = percent) -> percent (float, 0..100)."""
    m = re.match(r"^\s*(\d+(?:\.\d+)?)\s*%?\s*$", str(text))
    if not m or float(m.group(1)) > 100:
        raise ValueError("bad loss %r (a percentage 0..100, e.g. 1%%)" % (text,))
    return float(m.group(1))


# ---------------------------------------------------------------------------
# Commands


def check_available(need_tc=False):
    """Raise NetLabUnavailable unless running as root with ip (and tc when needed)."""
    if not hasattr(os, "geteuid") or sys.platform != "linux":
        raise NetLabUnavailable("netlab needs Linux network namespaces (not available on %s)"
                                % sys.platform)
    if not shutil.which("ip"):
        raise NetLabUnavailable("netlab needs the ip command from iproute2 "
                                "(e.g. apt-get install iproute2)")
    if need_tc and not shutil.which("tc"):
        raise NetLabUnavailable("traffic shaping needs the tc command from iproute2 "
                                "(e.g. apt-get install iproute2)")
    if os.geteuid() != 0:
        raise NetLabUnavailable("netlab needs root to create network namespaces and veth links "
                                "(run it with sudo)")


def _last_line(text):
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def _run(argv, timeout=CMD_TIMEOUT, check=True):
    """Run one ip/tc command (bounded); NetLabError with its message when it fails."""
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise NetLabError("`%s` did not finish within %g s" % (" ".join(argv), timeout)) from None
    except OSError as exc:
        raise NetLabError("cannot run %s: %s" % (argv[0], exc.strerror or exc)) from None
    proc.stdout = proc.stdout.decode("utf-8", "replace")
    proc.stderr = proc.stderr.decode("utf-8", "replace")
    if check and proc.returncode != 0:
        raise NetLabError("`%s` failed: %s" % (" ".join(argv), _last_line(proc.stderr)
                                                or "exit status %d" % proc.returncode))
    return proc


def lab_names(prefix=DEFAULT_PREFIX):
    """(server namespace, client namespace) for a prefix; ValueError for a bad prefix."""
    if not _PREFIX_RE.match(str(prefix)):
        raise ValueError("bad lab name %r (a letter, then up to 19 letters, digits, _ or -)"
                         % (prefix,))
    return "%s-srv" % prefix, "%s-cli" % prefix


def _namespaces():
    proc = _run(["ip", "netns", "list"], check=False)
    if proc.returncode != 0:
        return set()
    return {line.split()[0] for line in proc.stdout.splitlines() if line.strip()}


def lab_exists(prefix=DEFAULT_PREFIX):
    """True if either namespace of the lab exists."""
    return bool(set(lab_names(prefix)) & _namespaces())


def _ns_pids(ns):
    proc = _run(["ip", "netns", "pids", ns], check=False)
    return [int(p) for p in proc.stdout.split() if p.isdigit()] if proc.returncode == 0 else []


def _terminate_pids(pids, wait=2.0):
    """SIGTERM, wait (bounded), then SIGKILL the given pids."""
    me = os.getpid()
    pids = [p for p in pids if p != me]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        alive = []
        for pid in pids:
            try:
                os.kill(pid, sig)
                alive.append(pid)
            except (ProcessLookupError, PermissionError):
                pass
        deadline = time.monotonic() + wait
        while alive and time.monotonic() < deadline:
            alive = [p for p in alive if _alive(p)]
            if alive:
                time.sleep(0.05)
        pids = alive
        if not pids:
            return []
    return pids


def _alive(pid):
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    try:  # reap our own zombies
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    except ChildProcessError:
        pass
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def teardown(prefix=DEFAULT_PREFIX, kill=True):
    """Delete the lab's namespaces (stale or not); returns (deleted names, pids left running).

    With kill=True, processes still inside the namespaces are terminated first;
    otherwise they keep running in a detached namespace and are returned.
    """
    check_available()
    names = [n for n in lab_names(prefix) if n in _namespaces()]
    left = []
    for ns in names:
        pids = _ns_pids(ns)
        if pids and kill:
            left += _terminate_pids(pids)
        else:
            left += pids
    deleted = []
    for ns in names:
        if _run(["ip", "netns", "delete", ns], check=False).returncode == 0:
            deleted.append(ns)
    return deleted, left


# ---------------------------------------------------------------------------
# The lab


class NetLab:
    """Two namespaces joined by a veth pair, optionally shaped; a context manager.

    rate: tbf rate on both veth ends ("100mbit"); delay/loss: netem per
    direction when the kernel has it; prefix: lab name (namespaces PREFIX-srv,
    PREFIX-cli); server_addr/client_addr/prefixlen: veth addresses; burst:
    tbf burst in bytes (default 5 ms of the rate, at least 16 KiB); latency:
    tbf queue bound; log: callable for warnings (default stderr unless
    quiet); replace_stale: delete an existing lab of the same name first.
    """

    def __init__(self, rate=None, delay=None, loss=None, prefix=DEFAULT_PREFIX,
                 server_addr="10.201.0.1", client_addr="10.201.0.2", prefixlen=24,
                 burst=None, latency="50ms", log=None, quiet=False, replace_stale=False, gro=True):
        """Validate settings (ValueError); nothing is created until up()/__enter__."""
        self.prefix = str(prefix)
        self.server_ns, self.client_ns = lab_names(self.prefix)
        short = self.prefix[:11]
        self.server_if, self.client_if = "%s-s" % short, "%s-c" % short
        self.rate_bits = parse_rate(rate) if rate not in (None, "", 0) else None
        self.delay_s = parse_delay(delay) if delay not in (None, "", 0) else None
        self.loss_pct = parse_loss(loss) if loss not in (None, "", 0) else None
        if self.loss_pct == 0:
            self.loss_pct = None
        self.latency_s = parse_delay(latency)
        if burst is not None:
            self.burst = int(burst)
        elif self.rate_bits:
            self.burst = max(16384, int(self.rate_bits / 8 * 0.005))
        else:
            self.burst = None
        try:
            s_if = ipaddress.ip_interface("%s/%d" % (server_addr, prefixlen))
            c_if = ipaddress.ip_interface("%s/%d" % (client_addr, prefixlen))
        except ValueError as exc:
            raise ValueError("bad lab address: %s" % exc) from None
        if s_if.network != c_if.network or s_if.ip == c_if.ip:
            raise ValueError("server and client addresses must differ and share a /%d network"
                             % prefixlen)
        self.server_addr, self.client_addr = str(s_if.ip), str(c_if.ip)
        self.prefixlen = int(prefixlen)
        self._family = s_if.version
        self.log = log if log is not None else (
            (lambda msg: None) if quiet else (lambda msg: print(msg, file=sys.stderr)))
        self.replace_stale = replace_stale
        self.want_gro = gro
        self.gro = None          # "on" once ethtool turned GRO + UDP GRO forwarding on, else why not
        self.netem_available = None
        self.warnings = []
        self.shaping = "none"
        self._created = []
        self._procs = []
        self._old_sigterm = None
        self._is_up = False

    # -- names -----------------------------------------------------------------
    def ns(self, which):
        """Namespace name for "server"/"client" (or a full name of this lab)."""
        if which in ("server", "srv", self.server_ns):
            return self.server_ns
        if which in ("client", "cli", self.client_ns):
            return self.client_ns
        raise ValueError("namespace must be 'server' or 'client', got %r" % (which,))

    def command(self, which, argv):
        """argv prefixed with `ip netns exec NS`."""
        return ["ip", "netns", "exec", self.ns(which)] + [str(a) for a in argv]

    @property
    def is_up(self):
        """True between a successful up() and down()."""
        return self._is_up

    # -- setup -----------------------------------------------------------------
    def up(self):
        """Create the lab; on any failure (or Ctrl-C) everything created is removed."""
        check_available(need_tc=bool(self.rate_bits or self.delay_s or self.loss_pct))
        if self._is_up:
            return self
        existing = set(lab_names(self.prefix)) & _namespaces()
        if existing:
            if not self.replace_stale:
                raise NetLabError(
                    "network namespace %s already exists (lab %s is up, or a crashed run left "
                    "it): run `python3 scripts/netlab.py down --name %s`"
                    % (sorted(existing)[0], self.prefix, self.prefix))
            teardown(self.prefix)
        try:
            self._setup()
        except BaseException:
            self._remove()
            raise
        self._is_up = True
        return self

    def _setup(self):
        for ns in (self.server_ns, self.client_ns):
            proc = _run(["ip", "netns", "add", ns], check=False)
            if proc.returncode != 0:
                msg = _last_line(proc.stderr)
                if "exist" in msg.lower():
                    raise NetLabError("network namespace %s already exists: %s" % (ns, msg))
                raise NetLabUnavailable("cannot create network namespace %s: %s" % (ns, msg))
            self._created.append(ns)
        for ns in (self.server_ns, self.client_ns):
            _run(["ip", "-n", ns, "link", "set", "lo", "up"])
        _run(["ip", "-n", self.server_ns, "link", "add", self.server_if, "type", "veth",
              "peer", "name", self.client_if, "netns", self.client_ns])
        extra = ["nodad"] if self._family == 6 else []
        for ns, ifname, addr in ((self.server_ns, self.server_if, self.server_addr),
                                 (self.client_ns, self.client_if, self.client_addr)):
            _run(["ip", "-n", ns, "addr", "add", "%s/%d" % (addr, self.prefixlen), "dev",
                  ifname] + extra)
        self._apply_shaping()
        if self.netem_available is None:
            self.netem_available = self._probe_netem()
            if not self.netem_available:
                self.warnings.append(NETEM_ABSENT)
        if self.want_gro:
            self.gro = self._enable_gro()
        self.link_up()

    def _probe_netem(self):
        """True when this kernel has netem (tried on the server namespace's lo, then removed)."""
        ns = self.server_ns
        proc = _run(["tc", "-n", ns, "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"], check=False) \
            if shutil.which("tc") else None
        if proc is None or proc.returncode != 0:
            return False
        _run(["tc", "-n", ns, "qdisc", "del", "dev", "lo", "root"], check=False)
        return True

    def _enable_gro(self):
        """Turn on GRO and UDP GRO forwarding on both veth ends (``ethtool -K DEV gro on
        rx-udp-gro-forwarding on``): without it a receiver's UDP_GRO gets nothing
        coalesced once a tbf qdisc sits on the path.  Returns "on" or why not."""
        if not shutil.which("ethtool"):
            msg = "ethtool not found: GRO through the shaped veth stays off (apt-get install ethtool)"
            self.warnings.append(msg)
            return msg
        for ns, ifname in self._ends():
            proc = _run(["ip", "netns", "exec", ns, "ethtool", "-K", ifname, "gro", "on",
                         "rx-udp-gro-forwarding", "on"], check=False)
            if proc.returncode != 0:
                msg = "ethtool -K %s gro on rx-udp-gro-forwarding on failed: %s" % (
                    ifname, _last_line(proc.stderr))
                self.warnings.append(msg)
                return msg
        return "on"

    def _apply_shaping(self):
        parts = []
        if self.rate_bits:
            for ns, ifname in self._ends():
                _run(["tc", "-n", ns, "qdisc", "add", "dev", ifname, "root", "handle", "1:",
                      "tbf", "rate", "%dbit" % self.rate_bits, "burst", str(self.burst),
                      "latency", "%dus" % int(self.latency_s * 1e6)])
            parts.append("tbf rate %s burst %d latency %gms" % (
                _fmt_rate(self.rate_bits), self.burst, self.latency_s * 1e3))
        if self.delay_s or self.loss_pct:
            netem = ["netem"]
            if self.delay_s:
                netem += ["delay", "%dus" % int(self.delay_s * 1e6)]
            if self.loss_pct:
                netem += ["loss", "%g%%" % self.loss_pct]
            where = ["parent", "1:1", "handle", "10:"] if self.rate_bits else ["root",
                                                                               "handle", "10:"]
            asked = " ".join(
                (["delay %gms" % (self.delay_s * 1e3)] if self.delay_s else [])
                + (["loss %g%%" % self.loss_pct] if self.loss_pct else []))
            for ns, ifname in self._ends():
                proc = _run(["tc", "-n", ns, "qdisc", "add", "dev", ifname] + where + netem,
                            check=False)
                if proc.returncode == 0:
                    self.netem_available = True
                    continue
                if _NETEM_MISSING.search(proc.stderr):
                    self.netem_available = False
                    msg = ("netem is not available on this kernel (sch_netem missing), so %s is "
                           "not applied; %s" % (asked, "the rate-only shaping (tbf) still applies"
                                                if self.rate_bits else "no shaping applies"))
                    self.warnings.append(msg)
                    self.log("netlab: " + msg)
                    break
                raise NetLabError("`tc qdisc add ... netem %s` failed: %s"
                                  % (asked, _last_line(proc.stderr)))
            if self.netem_available:
                parts.append("netem " + asked + " (each direction)")
            else:
                parts.append("netem unavailable (%s ignored)" % asked)
        self.shaping = "; ".join(parts) if parts else "none"

    def _ends(self):
        return ((self.server_ns, self.server_if), (self.client_ns, self.client_if))

    # -- link control ----------------------------------------------------------
    def _select_ends(self, which):
        if which == "both":
            return self._ends()
        if which in ("server", "client"):
            return (self._ends()[0 if which == "server" else 1],)
        raise ValueError("which must be 'both', 'server' or 'client', got %r" % (which,))

    def link_down(self, which="both"):
        """Take the veth link down (both ends by default: the cable is pulled)."""
        for ns, ifname in self._select_ends(which):
            _run(["ip", "-n", ns, "link", "set", ifname, "down"])

    def link_up(self, which="both", timeout=5.0):
        """Bring the veth link up and wait (bounded) until it has carrier."""
        for ns, ifname in self._select_ends(which):
            _run(["ip", "-n", ns, "link", "set", ifname, "up"])
        deadline = time.monotonic() + timeout
        while True:
            if all(self.link_is_up(ns) for ns, _ in self._select_ends(which)):
                return
            if time.monotonic() >= deadline:
                raise NetLabError("veth link of lab %s did not come up within %g s"
                                  % (self.prefix, timeout))
            time.sleep(0.05)

    def link_is_up(self, which="server"):
        """True if that end is administratively up and has carrier (LOWER_UP)."""
        ns = self.ns(which)
        ifname = self.server_if if ns == self.server_ns else self.client_if
        proc = _run(["ip", "-n", ns, "-o", "link", "show", "dev", ifname], check=False)
        flags = re.search(r"<([^>]*)>", proc.stdout)
        return bool(flags) and {"UP", "LOWER_UP"} <= set(flags.group(1).split(","))

    def qdisc_show(self):
        """`tc qdisc show` output of both veth ends."""
        out = []
        for ns, ifname in self._ends():
            proc = _run(["tc", "-n", ns, "qdisc", "show", "dev", ifname], check=False)
            out.append("%s %s: %s" % (ns, ifname, proc.stdout.strip() or proc.stderr.strip()))
        return "\n".join(out)

    # -- processes ---------------------------------------------------------------
    def popen(self, ns, argv, **kw):
        """subprocess.Popen(argv) inside a namespace ("server"/"client"); stopped on down()."""
        if not self._is_up:
            raise NetLabError("lab %s is not up" % self.prefix)
        kw.setdefault("stdin", subprocess.DEVNULL)
        proc = subprocess.Popen(self.command(ns, argv), **kw)
        self._procs.append(proc)
        return proc

    def run(self, ns, argv, timeout=60.0, **kw):
        """subprocess.run(argv) inside a namespace, bounded by timeout (TimeoutExpired)."""
        if not self._is_up:
            raise NetLabError("lab %s is not up" % self.prefix)
        kw.setdefault("stdin", subprocess.DEVNULL)
        return subprocess.run(self.command(ns, argv), timeout=timeout, **kw)

    # -- teardown ----------------------------------------------------------------
    def _remove(self):
        for proc in self._procs:
            if proc.poll() is None:
                try:
                    proc.terminate()
                    proc.wait(timeout=2.0)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    try:
                        proc.wait(timeout=2.0)
                    except subprocess.TimeoutExpired:
                        pass
                except OSError:
                    pass
        self._procs = []
        for ns in list(self._created):
            try:
                pids = _ns_pids(ns)
            except NetLabError:
                pids = []
            if pids:
                _terminate_pids(pids)
        for ns in list(self._created):
            for _ in range(3):
                try:
                    proc = _run(["ip", "netns", "delete", ns], check=False)
                    if proc.returncode == 0 or ns not in _namespaces():
                        self._created.remove(ns)
                        break
                except NetLabError:
                    pass
                time.sleep(0.1)

    def down(self):
        """Stop the lab's processes and delete its namespaces (idempotent, never raises
        for an already-removed lab).  Returns the namespaces that could not be removed."""
        try:
            self._remove()
        finally:
            self._is_up = False
        return list(self._created)

    def __enter__(self):
        self._install_sigterm()
        try:
            self.up()
        except BaseException:
            self._restore_sigterm()
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            left = self.down()
        finally:
            self._restore_sigterm()
        if left and exc_type is None:
            raise NetLabError("could not delete network namespace(s) %s" % ", ".join(left))
        return False

    def _install_sigterm(self):
        if threading.current_thread() is not threading.main_thread():
            return
        try:
            if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
                self._old_sigterm = signal.SIG_DFL
                signal.signal(signal.SIGTERM, _sigterm_exit)
        except (ValueError, OSError):
            self._old_sigterm = None

    def _restore_sigterm(self):
        if self._old_sigterm is not None:
            try:
                signal.signal(signal.SIGTERM, self._old_sigterm)
            except (ValueError, OSError):
                pass
            self._old_sigterm = None

    def describe(self):
        """One paragraph about the lab (names, addresses, shaping)."""
        return ("lab %s: server namespace %s (%s on %s), client namespace %s (%s on %s); "
                "shaping: %s" % (self.prefix, self.server_ns, self.server_addr, self.server_if,
                                 self.client_ns, self.client_addr, self.client_if, self.shaping)
                + "; netem: %s; GRO: %s" % ("available" if self.netem_available else "ABSENT on this kernel",
                                             self.gro or "not asked"))


def _sigterm_exit(signum, frame):
    raise SystemExit(128 + signum)


def _fmt_rate(bits):
    for unit, scale in (("gbit", 1e9), ("mbit", 1e6), ("kbit", 1e3)):
        if bits >= scale:
            return "%g%s" % (bits / scale, unit)
    return "%dbit" % bits


# ---------------------------------------------------------------------------
# Small checks run inside the lab


_ECHO_SERVER = r"""
import socket, sys
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET)
s.bind((sys.argv[1], 0)); s.listen(1); s.settimeout(float(sys.argv[2]))
print(s.getsockname()[1], flush=True)
c, _ = s.accept(); c.settimeout(float(sys.argv[2]))
while True:
    d = c.recv(65536)
    if not d:
        break
    c.sendall(d)
c.close()
"""

_ECHO_CLIENT = r"""
import json, socket, sys, time
host, port, size, timeout = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
t0 = time.monotonic()
c = socket.create_connection((host, port), timeout=timeout)
t1 = time.monotonic()
data = bytes(range(256)) * (size // 256 + 1)
data = data[:size]
c.sendall(data); c.shutdown(socket.SHUT_WR)
got = b""
while True:
    d = c.recv(65536)
    if not d:
        break
    got += d
t2 = time.monotonic()
print(json.dumps({"ok": got == data, "bytes": len(got), "connect_ms": (t1 - t0) * 1e3,
                  "round_trip_ms": (t2 - t1) * 1e3}), flush=True)
"""

_SINK_SERVER = r"""
import json, socket, sys, time
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET)
s.bind((sys.argv[1], 0)); s.listen(1); s.settimeout(float(sys.argv[2]))
print(s.getsockname()[1], flush=True)
c, _ = s.accept(); c.settimeout(float(sys.argv[2]))
n, t0 = 0, None
while True:
    d = c.recv(262144)
    if not d:
        break
    if t0 is None:
        t0 = time.monotonic()
    n += len(d)
t1 = time.monotonic()
c.sendall(json.dumps({"bytes": n, "seconds": (t1 - t0) if t0 else 0.0}).encode())
c.close()
"""

_SOURCE_CLIENT = r"""
import json, socket, sys, time
host, port, nbytes, timeout = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
t0 = time.monotonic()
c = socket.create_connection((host, port), timeout=timeout)
connect_ms = (time.monotonic() - t0) * 1e3
buf = memoryview(b"\0" * 65536)
left = nbytes
while left > 0:
    left -= c.send(buf[:min(left, 65536)])
c.shutdown(socket.SHUT_WR)
got = b""
while True:
    d = c.recv(4096)
    if not d:
        break
    got += d
r = json.loads(got.decode())
r["connect_ms"] = connect_ms
print(json.dumps(r), flush=True)
"""


def _read_line(proc, timeout):
    """First line of proc.stdout (a pipe), waiting at most `timeout` seconds."""
    fd = proc.stdout.fileno()
    buf = b""
    deadline = time.monotonic() + timeout
    while b"\n" not in buf:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise NetLabError("helper inside the lab did not answer within %g s" % timeout)
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            buf += chunk
    return buf.decode("utf-8", "replace").strip()


def _pair(lab, server_code, client_code, client_args, timeout):
    server = lab.popen("server", [sys.executable, "-c", server_code, lab.server_addr,
                                  str(timeout)], stdout=subprocess.PIPE,
                        stderr=subprocess.DEVNULL, bufsize=0)
    try:
        line = _read_line(server, timeout)
        if not line.isdigit():
            raise NetLabError("helper server inside %s failed to start" % lab.server_ns)
        proc = lab.run("client", [sys.executable, "-c", client_code, lab.server_addr, line]
                       + [str(a) for a in client_args] + [str(timeout)],
                       timeout=timeout + 5, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if proc.returncode != 0:
            raise NetLabError("helper client inside %s failed: %s" % (
                lab.client_ns, _last_line(proc.stderr.decode("utf-8", "replace"))))
        return json.loads(proc.stdout.decode("utf-8", "replace"))
    except subprocess.TimeoutExpired:
        raise NetLabError("helper transfer inside lab %s exceeded %g s" % (lab.prefix, timeout)) \
            from None
    finally:
        try:
            server.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=2.0)
        server.stdout.close()


def tcp_echo(lab, size=1024, timeout=5.0):
    """TCP echo from the client namespace to the server namespace.

    Returns {"ok", "bytes", "connect_ms", "round_trip_ms"}; NetLabError on failure.
    """
    return _pair(lab, _ECHO_SERVER, _ECHO_CLIENT, [int(size)], float(timeout))


def measure_tcp_throughput(lab, nbytes=12 * 1000 * 1000, timeout=60.0):
    """Send nbytes over TCP client -> server; the receiver times first byte to EOF.

    Returns {"bytes", "seconds", "bits_per_s", "connect_ms"}; NetLabError on failure.
    """
    result = _pair(lab, _SINK_SERVER, _SOURCE_CLIENT, [int(nbytes)], float(timeout))
    secs = result.get("seconds") or 0.0
    result["bits_per_s"] = result["bytes"] * 8 / secs if secs > 0 else None
    return result


# ---------------------------------------------------------------------------
# CLI


def _parse_size(text):
    m = re.match(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]?)i?b?\s*$", str(text), re.IGNORECASE)
    if not m:
        raise ValueError("bad size %r (examples: 12M, 500K, 1G)" % (text,))
    return int(float(m.group(1)) * {"": 1, "k": 1e3, "m": 1e6, "g": 1e9}[m.group(2).lower()])


def _cmd_up(args):
    lab = NetLab(rate=args.rate, delay=args.delay, loss=args.loss, prefix=args.name,
                 server_addr=args.server_addr, client_addr=args.client_addr,
                 prefixlen=args.prefixlen)
    lab.up()
    print(lab.describe())
    print("run programs with: python3 scripts/netlab.py run server|client --name %s -- CMD ..."
          % lab.prefix)
    print("remove it with:    python3 scripts/netlab.py down --name %s" % lab.prefix)
    return 0


def _cmd_down(args):
    deleted, left = teardown(args.name, kill=args.kill)
    if not deleted and not left:
        print("lab %s is not up (nothing to remove)" % args.name)
        return 0
    if deleted:
        print("removed %s" % ", ".join(deleted))
    if left:
        print("netlab: %d process(es) still run in the removed namespaces (pids %s); use "
              "--kill to stop them" % (len(left), " ".join(map(str, left))), file=sys.stderr)
    return 0


def _cmd_status(args):
    check_available()
    present = [ns for ns in lab_names(args.name) if ns in _namespaces()]
    if not present:
        print("lab %s is not up" % args.name)
        return 1
    for ns in lab_names(args.name):
        if ns not in present:
            print("%s: missing (half-built lab: run `netlab.py down --name %s`)" % (ns, args.name))
            continue
        addrs = _run(["ip", "-n", ns, "-br", "addr", "show"], check=False).stdout.strip()
        qdisc = _run(["tc", "-n", ns, "qdisc", "show"], check=False).stdout.strip() \
            if shutil.which("tc") else "(tc not installed)"
        pids = _ns_pids(ns)
        print("%s:" % ns)
        for line in addrs.splitlines():
            print("  addr  %s" % line)
        for line in qdisc.splitlines():
            if " lo " not in line and "noqueue" not in line:
                print("  qdisc %s" % line)
        print("  processes: %s" % (" ".join(map(str, pids)) or "none"))
    return 0 if len(present) == 2 else 1


def _cmd_run(args):
    check_available()
    cmd = list(args.cmd)
    if not cmd:
        print("netlab.py: run needs a command after --", file=sys.stderr)
        return 2
    ns = lab_names(args.name)[0 if args.side == "server" else 1]
    if ns not in _namespaces():
        print("netlab.py: lab %s is not up (run `netlab.py up --name %s` first)"
              % (args.name, args.name), file=sys.stderr)
        return 2
    try:
        proc = subprocess.Popen(["ip", "netns", "exec", ns] + cmd)
    except OSError as exc:
        print("netlab.py: cannot run ip: %s" % (exc.strerror or exc), file=sys.stderr)
        return 2
    try:
        return proc.wait(timeout=args.timeout if args.timeout > 0 else None)
    except subprocess.TimeoutExpired:
        print("netlab.py: command exceeded --timeout %g s; stopped" % args.timeout,
              file=sys.stderr)
        rc = 124
    except KeyboardInterrupt:
        rc = 130
    try:
        proc.terminate()
        proc.wait(timeout=5.0)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5.0)
    return rc


def _cmd_selftest(args):
    nbytes = _parse_size(args.bytes)
    with NetLab(rate=args.rate, delay=args.delay, loss=args.loss, prefix=args.name,
                replace_stale=False) as lab:
        print(lab.describe())
        if not lab.netem_available:
            print("note: " + NETEM_ABSENT)
        echo = tcp_echo(lab, timeout=args.timeout)
        print("tcp echo %s: connect %.3f ms, round trip %.3f ms"
              % ("ok" if echo["ok"] else "FAILED", echo["connect_ms"], echo["round_trip_ms"]))
        res = measure_tcp_throughput(lab, nbytes, timeout=args.timeout)
        rate = res["bits_per_s"]
        line = "tcp %d bytes in %.3f s: %s" % (res["bytes"], res["seconds"],
                                               "-" if rate is None else "%.1f Mbit/s" % (rate / 1e6))
        if lab.rate_bits and rate:
            line += " (%.0f%% of the %s tbf rate)" % (100.0 * rate / lab.rate_bits,
                                                      _fmt_rate(lab.rate_bits))
        print(line)
    return 0 if echo["ok"] and res["bytes"] == nbytes else 1


def main(argv=None) -> int:
    """CLI entry point (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="netlab.py",
                                     description="Two hosts on one machine (network namespaces).")
    sub = parser.add_subparsers(dest="action", metavar="{up,down,status,run,selftest}")
    sub.required = True

    def common(p):
        """--name for every action."""
        p.add_argument("--name", default=DEFAULT_PREFIX,
                       help="lab name prefix (default %s)" % DEFAULT_PREFIX)

    def shaping(p):
        """--rate/--delay/--loss."""
        p.add_argument("--rate", default=None, help="tbf rate on both veth ends, e.g. 100mbit")
        p.add_argument("--delay", default=None, help="netem one-way delay, e.g. 10ms")
        p.add_argument("--loss", default=None, help="netem loss per direction, e.g. 1%%")

    p = sub.add_parser("up", help="create the lab and leave it up")
    common(p)
    shaping(p)
    p.add_argument("--server-addr", default="10.201.0.1")
    p.add_argument("--client-addr", default="10.201.0.2")
    p.add_argument("--prefixlen", type=int, default=24)
    p = sub.add_parser("down", help="delete the lab (also a stale one)")
    common(p)
    p.add_argument("--kill", action="store_true",
                   help="also stop processes still running inside the namespaces")
    p = sub.add_parser("status", help="show the lab (exit 0 up, 1 not up)")
    common(p)
    p = sub.add_parser("run", help="run CMD inside a namespace: run server -- CMD ...")
    common(p)
    p.add_argument("side", choices=("server", "client"))
    p.add_argument("--timeout", type=float, default=3600.0,
                   help="stop CMD after this many seconds (default 3600, 0 = no limit)")
    p.add_argument("cmd", nargs="*", help="-- CMD ... (everything after -- is the command)")
    p = sub.add_parser("selftest", help="temporary lab: TCP echo and a throughput measurement")
    common(p)
    shaping(p)
    p.add_argument("--bytes", default="12M", help="bytes to send (default 12M)")
    p.add_argument("--timeout", type=float, default=60.0, help="bound per step (default 60)")
    argv = list(sys.argv[1:] if argv is None else argv)
    tail = None
    if "--" in argv and "run" in argv[:argv.index("--")]:
        cut = argv.index("--")
        argv, tail = argv[:cut], argv[cut + 1:]
    args = parser.parse_args(argv)
    if tail is not None:
        args.cmd = list(args.cmd) + tail
    handlers = {"up": _cmd_up, "down": _cmd_down, "status": _cmd_status, "run": _cmd_run,
                "selftest": _cmd_selftest}
    try:
        return handlers[args.action](args)
    except (NetLabUnavailable, NetLabError, ValueError) as exc:
        print("netlab.py: %s" % exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("netlab.py: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
