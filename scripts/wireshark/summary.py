"""Protocol-level summary of a capture, decoded by tshark with the lab's dissector (filelab.lua).

API:
    summarize(path, timeout=120.0, tshark=None) -> dict, or None when tshark is not installed
        {"messages": {"HELLO": 1, "FILE": 1, ...},        control lines by verb
         "tcp_file_bytes": n,                              file bytes seen after DATA lines
         "data_datagrams": n, "resent": n,                 UDP data datagrams, those flagged resent
         "seq_jumps": n, "seqs_skipped": n,                sequence jumps (loss seen by the capture)
         "duplicates": n, "out_of_order": n,
         "transfers": {"<id>": {"name", "size", "chunk", "datagrams", "resent", "distinct_seqs"}}}
    SummaryError                                           tshark failed or took too long

CLI: python3 scripts/wireshark/summary.py FILE [--json]

The counts come from the dissector's own fields (filelab.verb, filelab.seq, filelab.flags.resent,
filelab.analysis.*), so they are what Wireshark shows; see docs/WIRESHARK.md.
"""
from __future__ import annotations

if __package__ in (None, ""):
    import os, sys
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections import OrderedDict

from scripts.pcap import DISSECTOR

__all__ = ["SummaryError", "summarize", "format_summary", "main"]

FIELDS = ("filelab.verb", "filelab.transfer", "filelab.seq", "filelab.flags.resent", "filelab.type",
          "filelab.data_len", "filelab.analysis.lost", "filelab.analysis.duplicate",
          "filelab.analysis.out_of_order", "filelab.name", "filelab.size", "filelab.chunk", "udp.srcport")
_SEP = "\x1f"


class SummaryError(Exception):
    """tshark could not decode the capture; the message is one sentence."""


def _run(exe, path, timeout):
    argv = [exe, "-n", "-X", "lua_script:" + DISSECTOR, "-r", str(path), "-Y", "filelab", "-T", "fields",
            "-E", "occurrence=a", "-E", "aggregator=" + _SEP, "-E", "separator=/t"]
    for name in FIELDS:
        argv += ["-e", name]
    try:
        done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        raise SummaryError("tshark did not finish reading %s within %g s" % (path, timeout)) from None
    except OSError as exc:
        raise SummaryError("cannot run tshark: %s" % (exc.strerror or exc)) from None
    err = done.stderr.decode("utf-8", "replace")
    # "two protocols with the same description": filelab.lua is in the personal plugins folder too,
    # that copy decodes; anything else from Lua is a real failure
    if done.returncode != 0 or ("Lua: Error" in err and "two protocols" not in err):
        lines = [ln for ln in err.splitlines() if ln.strip() and "Running as user" not in ln]
        raise SummaryError("tshark failed on %s: %s" % (path, lines[-1] if lines else
                                                        "exit status %d" % done.returncode))
    return done.stdout.decode("utf-8", "replace")


def summarize(path, timeout=120.0, tshark=None):
    """Counts of a capture's lab messages (see the module docstring); None without tshark."""
    exe = tshark or shutil.which("tshark")
    if not exe:
        return None
    out = OrderedDict([("messages", OrderedDict()), ("tcp_file_bytes", 0), ("data_datagrams", 0), ("resent", 0),
                       ("seq_jumps", 0), ("seqs_skipped", 0), ("duplicates", 0), ("out_of_order", 0),
                       ("transfers", OrderedDict())])
    seqs = {}
    for line in _run(exe, path, timeout).splitlines():
        cols = line.split("\t")
        row = {name: (cols[i].split(_SEP) if i < len(cols) and cols[i] else []) for i, name in enumerate(FIELDS)}
        for verb in row["filelab.verb"]:
            out["messages"][verb] = out["messages"].get(verb, 0) + 1
        if "FILE" in row["filelab.verb"] and row["filelab.transfer"]:
            t = out["transfers"].setdefault(row["filelab.transfer"][0], OrderedDict(
                [("name", None), ("size", None), ("chunk", None), ("datagrams", 0), ("resent", 0),
                 ("distinct_seqs", 0)]))
            t["name"] = (row["filelab.name"] or [None])[0]
            t["size"] = int(row["filelab.size"][0]) if row["filelab.size"] else None
            t["chunk"] = int(row["filelab.chunk"][0]) if row["filelab.chunk"] else None
        if row["filelab.type"]:                  # UDP data datagram(s): one seq per datagram
            transfers = row["filelab.transfer"] or [""]
            resent = row["filelab.flags.resent"]
            for i, seq in enumerate(row["filelab.seq"]):
                tid = transfers[min(i, len(transfers) - 1)]
                flagged = i < len(resent) and resent[i] in ("1", "True")
                out["data_datagrams"] += 1
                out["resent"] += flagged
                t = out["transfers"].setdefault(tid, OrderedDict(
                    [("name", None), ("size", None), ("chunk", None), ("datagrams", 0), ("resent", 0),
                     ("distinct_seqs", 0)]))
                t["datagrams"] += 1
                t["resent"] += flagged
                seqs.setdefault(tid, set()).add(int(seq))
        elif not row["udp.srcport"] and row["filelab.data_len"]:
            out["tcp_file_bytes"] += sum(int(n) for n in row["filelab.data_len"])
        out["seq_jumps"] += len(row["filelab.analysis.lost"])
        out["seqs_skipped"] += sum(int(n) for n in row["filelab.analysis.lost"])
        out["duplicates"] += len(row["filelab.analysis.duplicate"])
        out["out_of_order"] += len(row["filelab.analysis.out_of_order"])
    for tid, found in seqs.items():
        out["transfers"][tid]["distinct_seqs"] = len(found)
    return out


def format_summary(summary):
    """A few plain-text lines for a terminal or a report note."""
    lines = ["messages: " + (", ".join("%s %d" % kv for kv in summary["messages"].items()) or "none")]
    if summary["tcp_file_bytes"]:
        lines.append("TCP file data: %d bytes" % summary["tcp_file_bytes"])
    if summary["data_datagrams"]:
        lines.append("UDP data datagrams: %d (%d resent); sequence jumps %d (%d seqs), duplicates %d, "
                     "out of order %d" % (summary["data_datagrams"], summary["resent"], summary["seq_jumps"],
                                          summary["seqs_skipped"], summary["duplicates"], summary["out_of_order"]))
    for tid, t in summary["transfers"].items():
        lines.append("transfer %s: %s, %s bytes, chunk %s: %d datagrams, %d distinct seqs, %d resent" % (
            tid, repr(t["name"]) if t["name"] is not None else "(no FILE seen)", t["size"], t["chunk"],
            t["datagrams"], t["distinct_seqs"], t["resent"]))
    return "\n".join(lines)


def main(argv=None) -> int:
    """CLI: print the summary of one capture."""
    parser = argparse.ArgumentParser(prog="summary.py",
                                     description="Lab messages in a capture, decoded by tshark and filelab.lua.")
    parser.add_argument("file", help="capture file (pcap or pcapng)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--timeout", type=float, default=120.0, metavar="S", help="bound for tshark (120)")
    args = parser.parse_args(argv)
    if not os.path.isfile(args.file):
        print("summary.py: no such file: %s" % args.file, file=sys.stderr)
        return 2
    try:
        summary = summarize(args.file, timeout=args.timeout)
    except SummaryError as exc:
        print("summary.py: %s" % exc, file=sys.stderr)
        return 1
    if summary is None:
        print("summary.py: tshark is not installed (apt-get install tshark)", file=sys.stderr)
        return 2
    print(json.dumps(summary, indent=2) if args.json else format_summary(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
