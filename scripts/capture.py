"""Start and stop a packet capture (tcpdump, dumpcap or tshark) around a test.

API:
    find_capture_tool() -> absolute path of tcpdump, else dumpcap, else tshark
                           (searched in PATH), or None
    capture_filter(ports=None, proto="tcp", host=None) -> BPF filter string
    Capture(out_path, interface="lo", ports=None, snaplen=128, proto="tcp",
            host=None, bpf=None, netns=None, tool=None,
            start_timeout=5.0, stop_timeout=5.0, settle=0.2)
        context manager; `with Capture(...) as cap:` starts the tool and waits
        (bounded) until it reports it is capturing; leaving the block stops it
        (SIGINT, then terminate, then kill, each wait bounded).  cap.stop()
        returns the capture path; afterwards cap.stats holds the tool's
        packet counters ({"captured", "received", "dropped"} when reported).
    CaptureUnavailable     raised by start/__enter__ with one sentence: no
                           tool installed, no permission (root or CAP_NET_RAW
                           needed), bad interface or filter, tool did not start.

Typical use (the summary reads headers only, wire bytes come from each
record's original length, so a small snaplen is enough):

    from scripts.capture import Capture, CaptureUnavailable
    from scripts.pcap import summarize
    try:
        with Capture("Logs/cap/tcp-1.pcap", ports=[5001]) as cap:
            run_the_test()
        rows = summarize(cap.path, ports=[5001])
    except CaptureUnavailable as exc:
        print("capture skipped: %s" % exc)      # once, then go on

Filter choice: TCP is filtered by port ("tcp and (port 5001)").  UDP is
filtered by protocol and, if given, host ("host 127.0.0.1 and (udp or ip6
fragments)"), not by port: the UDP server answers each client from an
ephemeral per-session port, and IP fragments after the first carry no UDP
header, so a port filter would miss both.  Pass host= to keep unrelated
UDP out; pass bpf= to use your own filter.

The output is classic pcap (tcpdump's format; dumpcap/tshark are asked for
it too).  tcpdump runs with --immediate-mode and -U so that packets are not
lost in the kernel ring buffer when the capture is stopped right after the
test, and with "-Z root" when run as root so it does not drop privileges
before writing the file.
"""
from __future__ import annotations

if __package__ in (None, ""):
    import os, sys
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import argparse
import atexit
import ipaddress
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import weakref

from transfer import i18n

__all__ = ["CaptureUnavailable", "Capture", "find_capture_tool", "capture_filter", "main"]

TOOLS = ("tcpdump", "dumpcap", "tshark")
_READY = re.compile(r"listening on|Capturing on", re.IGNORECASE)
_PERMISSION = re.compile(r"permission|not permitted|operation not permitted|EPERM|"
                         r"you don't have", re.IGNORECASE)
_NO_DEVICE = re.compile(r"no such device|doesn't exist|does not exist|no suitable device|"
                        r"there is no device|is not a valid interface|interface.*not found",
                        re.IGNORECASE)
_BAD_FILTER = re.compile(r"syntax error|can't parse filter|invalid capture filter|"
                         r"illegal|unknown host", re.IGNORECASE)
_ACTIVE = weakref.WeakSet()


class CaptureUnavailable(Exception):
    """A capture cannot be started; the message is one sentence saying why."""


def find_capture_tool():
    """Return the path of tcpdump, else dumpcap, else tshark (from PATH), or None."""
    for name in TOOLS:
        path = shutil.which(name)
        if path:
            return path
    return None


def _check_ports(ports):
    out = []
    for p in ports or ():
        if isinstance(p, bool) or not isinstance(p, int) or not 0 < p <= 65535:
            raise ValueError("capture ports must be integers 1..65535, got %r" % (p,))
        out.append(p)
    return out


def capture_filter(ports=None, proto="tcp", host=None):
    """Build the BPF filter used by Capture (see the module docstring for the choice).

    proto is "tcp", "udp" or "both"; ports restrict TCP only; host (an IP
    address) restricts everything.  Raises ValueError for bad arguments.
    """
    if proto not in ("tcp", "udp", "both"):
        raise ValueError("proto must be 'tcp', 'udp' or 'both', got %r" % (proto,))
    ports = _check_ports(ports)
    parts = []
    if proto in ("tcp", "both"):
        if ports:
            parts.append("tcp and (%s)" % " or ".join("port %d" % p for p in ports))
        else:
            parts.append("tcp")
    if proto in ("udp", "both"):
        # IPv4 fragments keep ip proto 17; IPv6 fragments have next header 44
        parts.append("udp or (ip6 and ip6[6] == 44)")
    expr = parts[0] if len(parts) == 1 else " or ".join("(%s)" % p for p in parts)
    if host is not None:
        try:
            host = str(ipaddress.ip_address(str(host)))
        except ValueError:
            raise ValueError("capture host must be an IP address, got %r" % (host,)) from None
        expr = "host %s and (%s)" % (host, expr)
    return expr


def _stop_all():
    for cap in list(_ACTIVE):
        try:
            cap.stop()
        except Exception:  # pragma: no cover - best effort at interpreter exit
            pass


atexit.register(_stop_all)


class Capture:
    """A running packet capture written to `out_path`; use as a context manager.

    Attributes: path, interface, filter, tool (name), command (argv),
    stats (dict, after stop), returncode (after stop), stderr_text.
    """

    def __init__(self, out_path, interface="lo", ports=None, snaplen=128, proto="tcp",
                 host=None, bpf=None, netns=None, tool=None, start_timeout=5.0,
                 stop_timeout=5.0, settle=0.2):
        """Prepare (not start) a capture; ValueError for bad arguments."""
        if not isinstance(snaplen, int) or not 34 <= snaplen <= 262144:
            raise ValueError("snaplen must be an integer 34..262144, got %r" % (snaplen,))
        if not interface or not re.match(r"^[A-Za-z0-9_.:@-]{1,32}$", str(interface)):
            raise ValueError("bad interface name %r" % (interface,))
        self.path = os.path.abspath(str(out_path))
        self.interface = str(interface)
        self.snaplen = snaplen
        self.filter = bpf if bpf is not None else capture_filter(ports, proto, host)
        self.netns = netns
        self.tool_path = tool
        self.tool = None
        self.command = None
        self.start_timeout = float(start_timeout)
        self.stop_timeout = float(stop_timeout)
        self.settle = float(settle)
        self.stats = {}
        self.returncode = None
        self._proc = None
        self._lines = []
        self._ready = threading.Event()
        self._reader = None

    # -- context manager -----------------------------------------------------
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        self.stop()
        return False

    @property
    def stderr_text(self):
        """What the tool printed on stderr so far."""
        return "\n".join(self._lines)

    @property
    def running(self):
        """True while the capture process is alive."""
        return self._proc is not None and self._proc.poll() is None

    # -- start ---------------------------------------------------------------
    def _argv(self, exe):
        name = os.path.basename(exe)
        if name.startswith("tcpdump"):
            argv = [exe, "-i", self.interface, "-s", str(self.snaplen), "-w", self.path,
                    "-U", "-n", "--immediate-mode", "-B", "4096"]
            if hasattr(os, "geteuid") and os.geteuid() == 0:
                argv += ["-Z", "root"]
            argv.append(self.filter)
        elif name.startswith("dumpcap"):
            argv = [exe, "-i", self.interface, "-s", str(self.snaplen), "-w", self.path,
                    "-P", "-f", self.filter]
        else:
            argv = [exe, "-i", self.interface, "-s", str(self.snaplen), "-w", self.path,
                    "-F", "pcap", "-n", "-f", self.filter]
        if self.netns:
            argv = ["ip", "netns", "exec", str(self.netns)] + argv
        return name, argv

    def _read_stderr(self, stream):
        try:
            for raw in iter(stream.readline, b""):
                line = raw.decode("utf-8", "replace").rstrip()
                if line:
                    self._lines.append(line)
                    if len(self._lines) > 400:      # keep the start and the end
                        del self._lines[100:200]
                    if _READY.search(line):
                        self._ready.set()
        except (OSError, ValueError):
            pass
        finally:
            try:
                stream.close()
            except OSError:
                pass

    def _failure(self, name):
        text = self.stderr_text
        lines = [ln for ln in self._lines if "Running as user" not in ln and ln.strip()]
        last = lines[-1] if lines else ""
        if _PERMISSION.search(text):
            return ("%s is not permitted to capture on %s: root or CAP_NET_RAW (and "
                    "CAP_NET_ADMIN) is needed, e.g. run with sudo" % (name, self.interface))
        if _NO_DEVICE.search(text):
            return "%s cannot capture: interface %s does not exist (%s)" % (
                name, self.interface, last)
        if _BAD_FILTER.search(text):
            return "%s rejected the capture filter %r (%s)" % (name, self.filter, last)
        code = self._proc.returncode if self._proc else None
        return "%s exited%s before capturing%s" % (
            name, "" if code is None else " with status %s" % code,
            (": " + last) if last else "")

    def start(self):
        """Start the tool and wait (bounded) until it captures; CaptureUnavailable otherwise."""
        if self._proc is not None:
            raise RuntimeError("capture already started")
        exe = self.tool_path or find_capture_tool()
        if not exe:
            raise CaptureUnavailable(
                "no packet capture tool found: install tcpdump (e.g. apt-get install tcpdump) "
                "or Wireshark's dumpcap/tshark")
        name, argv = self._argv(exe)
        self.tool, self.command = name, argv
        if self.netns and not shutil.which("ip"):
            raise CaptureUnavailable("capturing inside a network namespace needs the ip "
                                     "command (iproute2)")
        parent = os.path.dirname(self.path)
        try:
            os.makedirs(parent, exist_ok=True)
        except OSError as exc:
            raise CaptureUnavailable("cannot create the capture directory %s: %s"
                                     % (parent, exc.strerror or exc)) from None
        try:
            self._proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        except OSError as exc:
            raise CaptureUnavailable("cannot run %s: %s" % (exe, exc.strerror or exc)) from None
        self._reader = threading.Thread(target=self._read_stderr, args=(self._proc.stderr,),
                                        name="capture-stderr", daemon=True)
        self._reader.start()
        deadline = time.monotonic() + self.start_timeout
        while not self._ready.wait(0.05):
            if self._proc.poll() is not None:
                self._reader.join(1.0)
                if self._ready.is_set():
                    break
                message = self._failure(name)
                self._finish()
                raise CaptureUnavailable(message)
            if time.monotonic() >= deadline:
                self._finish()
                raise CaptureUnavailable("%s did not report that it was capturing on %s within "
                                         "%g s" % (name, self.interface, self.start_timeout))
        if self._proc.poll() is not None:
            message = self._failure(name)
            self._finish()
            raise CaptureUnavailable(message)
        _ACTIVE.add(self)
        return self

    # -- stop ----------------------------------------------------------------
    def _finish(self):
        """Stop the process (SIGINT, terminate, kill; each wait bounded) and reap it."""
        proc = self._proc
        if proc is None:
            return
        steps = ((lambda: proc.send_signal(signal.SIGINT), self.stop_timeout),
                 (proc.terminate, 2.0), (proc.kill, 2.0))
        for action, wait in steps:
            if proc.poll() is not None:
                break
            try:
                action()
            except OSError:
                pass
            try:
                proc.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                continue
        self.returncode = proc.poll()
        if self._reader is not None:
            self._reader.join(2.0)
        _ACTIVE.discard(self)
        self.stats = self._parse_stats()

    def _parse_stats(self):
        stats = {}
        text = self.stderr_text
        for key, pattern in (("captured", r"(\d+) packets? captured"),
                             ("received", r"(\d+) packets? received by filter"),
                             ("dropped", r"(\d+) packets? dropped by kernel")):
            m = re.search(pattern, text)
            if m:
                stats[key] = int(m.group(1))
        m = re.search(r"Packets captured:\s*(\d+)", text)
        if m and "captured" not in stats:
            stats["captured"] = int(m.group(1))
        m = re.search(r"Packets received/dropped on interface [^:]*:\s*(\d+)/(\d+)", text)
        if m:
            stats.setdefault("received", int(m.group(1)))
            stats.setdefault("dropped", int(m.group(2)))
        return stats

    def stop(self):
        """Stop the capture (idempotent) and return the capture file path."""
        if self._proc is not None and self._proc.poll() is None and self.settle > 0:
            time.sleep(self.settle)      # let the last packets reach the file
        self._finish()
        return self.path


def main(argv=None) -> int:
    """CLI: capture for a number of seconds (or until Ctrl-C) and print the summary."""
    parser = argparse.ArgumentParser(
        prog="capture.py", description="Capture packet headers for a lab test, then summarize.",
        formatter_class=i18n.HelpFormatter)
    parser.add_argument("out", help="pcap file to write")
    parser.add_argument("--interface", "-i", default="lo", help="interface (default lo)")
    parser.add_argument("--ports", default="", help="TCP ports to capture, e.g. 5001,5002")
    parser.add_argument("--proto", choices=("tcp", "udp", "both"), default="tcp")
    parser.add_argument("--host", default=None, help="only traffic to/from this IP address")
    parser.add_argument("--snaplen", type=int, default=128, help="bytes kept per frame (128)")
    parser.add_argument("--netns", default=None, help="capture inside this network namespace")
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="capture duration, 0 = until Ctrl-C (default 10)")
    i18n.add_argument(parser, help=i18n.HELP_ONLY)
    with i18n.chosen(sys.argv[1:] if argv is None else argv):
        args = parser.parse_args(argv)
    try:
        ports = [int(p) for p in args.ports.split(",") if p.strip()]
        cap = Capture(args.out, interface=args.interface, ports=ports, snaplen=args.snaplen,
                      proto=args.proto, host=args.host, netns=args.netns)
    except ValueError as exc:
        print("capture.py: %s" % exc, file=sys.stderr)
        return 2
    try:
        cap.start()
    except CaptureUnavailable as exc:
        print("capture.py: %s" % exc, file=sys.stderr)
        return 2
    interrupted = False
    try:
        print("capturing on %s with filter %r into %s (%s)" % (
            cap.interface, cap.filter, cap.path,
            "Ctrl-C to stop" if args.seconds <= 0 else "%g s" % args.seconds), file=sys.stderr)
        deadline = None if args.seconds <= 0 else time.monotonic() + args.seconds
        while cap.running and (deadline is None or time.monotonic() < deadline):
            time.sleep(0.1)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        path = cap.stop()
    from scripts.pcap import PcapError, analyze, format_table, tshark_command
    try:
        print(format_table(analyze(path, ports=ports, strict=False)))
        print("decode it: %s" % tshark_command(path))
    except PcapError as exc:
        print("capture.py: %s" % exc, file=sys.stderr)
        return 1
    return 130 if interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
