"""English messages (the reference catalogue: every key of every language is here)."""

MESSAGES = {
    # words
    "yes": "yes",
    "no": "no",
    "ok": "ok",
    "failed": "failed",
    "all_runs": " (all runs)",
    "prueba": "Test {n}",
    "toc": "Contents",
    "size.unknown": "unknown size",
    "clients.one": "{n} client",
    "clients.many": "{n} clients",
    "proto.udp_raw": "UDP raw",
    "proto.udp_reliable": "UDP reliable",
    "role.server": "server",
    "role.client": "client",
    "trend.rises": "rises",
    "trend.falls": "falls",
    "trend.same": "stays about the same",
    "trend.changes": "changes",
    # report: cover
    "report.title": "File-transfer lab: performance report",
    "cover.subtitle": "Performance analysis of file transfer over TCP and UDP",
    "cover.date": "Date: {date}",
    "cover.sources": "Built from {files} log file(s) ({server} server, {client} client): {tests} test(s), "
                     "{runs} run(s).",
    "cover.machines": "Machines",
    "cover.role": "Role",
    "cover.host": "Host",
    "cover.os": "Operating system",
    "cover.python": "Python",
    "cover.matrix": "Test matrix",
    "cover.test": "Test",
    "cover.mb": "MB = 10^6 bytes; MiB = 2^20 bytes. Where a test ran more than once, the figures are medians "
                "over its runs and each run has its own table.",
    # report: per test
    "test.heading": "{proto} - Test {n}: {size}, {clients}",
    "run.heading": "Run {i}",
    "run.table": "Connections",
    "run.info": "Run {i} of {n}: started {started}; logs: {logs}.",
    "run.only_client": "Only client logs: the server columns are empty.",
    "run.only_server": "No client log paired: the client columns are empty.",
    "run.no_summary": "A log has no summary line (program stopped early?).",
    "run.interrupted": "Interrupted.",
    "run.events": "Events: {events}.",
    "col.client": "Client",
    "col.success": "(a) Result",
    "col.client_bytes": "(b) Bytes received (client)",
    "col.client_time": "(c) Client time (ms)",
    "col.client_rate": "(d) Client rate (MB/s)",
    "col.server_bytes": "(e) Bytes sent (server)",
    "col.server_time": "(f) Server time (ms)",
    "col.server_rate": "(g) Server rate (MB/s)",
    "col.client_port": "(h) Client port",
    "col.server_port": "Server port",
    "col.datagrams_sent": "Datagrams sent",
    "col.datagrams_received": "Datagrams received",
    "col.loss": "Loss (%)",
    "col.resent": "Resent datagrams",
    "col.loss_first_pass": "Loss before recovery (%)",
    "col.note": "Note",
    "note.no_server_log": "no server log",
    "note.no_client_log": "no client log",
    "table.legend": "(a) the file arrived whole with the right SHA-256; (b)-(d) as the client measured: first "
                    "byte received to DONE sent; (e)-(g) as the server measured: first byte sent to DONE received; "
                    "(e) counts what went on the wire.",
    "table.legend_udp": "(a) the file arrived whole with the right SHA-256; (b)-(d) as the client measured: first "
                        "to last datagram received; (e)-(g) as the server measured: first to last datagram sent; "
                        "(e) counts what went on the wire, resent datagrams included. Raw UDP never resends: its "
                        "resent columns show '-'.",
    "table.wire_estimated": "~ marks an estimate: this server's log has no bytes_sent_total, so (e) is the file "
                            "size plus resent datagrams x payload per datagram.",
    "sum.heading": "Summary",
    "sum.metric": "Metric",
    "sum.run": "Run {n}",
    "sum.median": "Median over runs",
    "sum.value": "Value",
    "sum.success": "Verified connections",
    "sum.server_total_bytes": "Total bytes sent by server (on the wire)",
    "sum.server_mean_time": "Mean server time (ms)",
    "sum.server_mean_rate": "Mean server rate (MB/s)",
    "sum.client_total_bytes": "Total bytes received by clients",
    "sum.client_mean_time": "Mean client time (ms)",
    "sum.client_mean_rate": "Mean client rate (MB/s)",
    "sum.aggregate_client": "Aggregate throughput, clients (MB/s)",
    "sum.aggregate_server": "Aggregate throughput, server (MB/s)",
    "sum.loss": "Mean loss (%)",
    "sum.loss_first_pass": "Loss before recovery (%)",
    "sum.resent": "Resent datagrams (% of sent)",
    "capture.heading": "Traffic capture",
    "capture.other": "Other captures",
    "analysis.heading": "Analysis",
    "an.all_ok": "All {n} transfer(s) succeeded: every client received the whole file with the right SHA-256.",
    "an.some_failed": "{bad} of {n} transfer(s) failed ({reasons}).",
    "an.rates": "Median transfer rate per client {per_client} MB/s; aggregate {aggregate} MB/s; mean client "
                "transfer time {time} ms.",
    "an.vs_sha": "That is {ratio} of the rate at which this machine computes SHA-256, the receiver's own limit.",
    "an.raw_no_loss": "No datagram was lost: the receivers kept up with the sending rate.",
    "an.raw_loss": "Datagrams were lost ({loss}% on average). This is UDP behaving as UDP does: raw mode never "
                   "resends, so whatever the receivers cannot absorb is gone. The server sent at {sent} MB/s per "
                   "client; the receivers absorbed {received} MB/s.",
    "an.raw_suggest": "Sending at {rate} MB/s (udp/server.py --rate {arg}) would have delivered everything.",
    "an.raw_suggest_est": "A rate below what the receivers absorbed, about {rate} MB/s (udp/server.py --rate {arg}), "
                          "would likely have delivered everything (estimate: this log has no rate suggestion).",
    "an.reliable": "Before recovery {loss}% of the datagrams were missing at the client; the server resent "
                   "{resent} datagram(s) and the file arrived whole.",
    "an.above_pacing": "The server's measured rate ({sent} MB/s) is above its pacing ({set} MB/s): the pacer lets "
                       "2 ms of data ({burst} MB) out at once when it starts, and this file took only {time} ms "
                       "to send, so the first burst dominates. Larger files show the paced rate.",
    "an.capture": "The capture saw {frames} frames; server to client, {wire} bytes on the wire carried {payload} "
                  "bytes of payload ({overhead}% overhead of headers and control).",
    "an.capture_retrans": "TCP retransmissions: {n}.",
    "an.capture_fragments": "IP fragments: {n}.",
    # report: global
    "global.heading": "Global analysis",
    "global.none": "No test found in the logs.",
    "global.findings": "What the numbers show",
    "glob.proto": "Protocol / mode",
    "glob.test": "Test",
    "glob.file": "File",
    "glob.clients": "Clients",
    "glob.runs": "Runs",
    "glob.success": "Success",
    "glob.per_client": "Median per-client rate (MB/s)",
    "glob.aggregate": "Aggregate rate (MB/s)",
    "glob.time": "Mean client time (ms)",
    "glob.loss": "Loss (%)",
    "glob.resent": "Resent (%)",
    "glob.vs_sha": "Per-client / SHA-256",
    "topic.success": "Success",
    "topic.clients": "Clients",
    "topic.size": "File size",
    "topic.protocols": "Protocols",
    "topic.udp_loss": "UDP loss",
    "topic.baseline": "Baseline",
    "metric.mean_time": "mean client time",
    "metric.per_client": "median per-client rate",
    "metric.aggregate": "aggregate rate",
    "cmp.all_verified": "All {total} connections of {runs} test run(s) were verified.",
    "cmp.some_failed": "{bad} of {total} connections were not verified: {items}.",
    "cmp.bad_item": "{label} ({bad} of {expected})",
    "cmp.clients_rate": "{proto}, {size}: median per-client rate {trend} from {a} MB/s with {na} to {b} MB/s with "
                        "{nb} ({ratio}",
    "cmp.clients_seq": "; {values} MB/s for {counts} clients",
    "cmp.clients_aggregate": "); aggregate rate {trend} from {a} MB/s with {na} to {b} MB/s with {nb} ({ratio}",
    "cmp.clients_time": "); mean client time {trend} from {a} ms to {b} ms ({ratio}",
    "cmp.size": "{proto}, {n}: {big} vs {small} (file {ratio}): {parts}.",
    "cmp.proto_item": "{proto} {rate} MB/s ({ratio} of {ref})",
    "cmp.loss": "{proto}, {size}: mean loss {values}% for {counts} clients.",
    "cmp.baseline": "SHA-256 in this Python runs at {rate} MB/s; the median per-client rate goes from {worst} of it "
                    "({worst_label}) to {best} ({best_label}).",
    "charts.heading": "Charts",
    "chart.per_client": "Median per-client rate vs clients, {size} file",
    "chart.aggregate": "Aggregate rate vs clients, {size} file",
    "chart.per_client_axis": "Per-client rate",
    "chart.aggregate_axis": "Aggregate rate",
    "chart.clients": "Clients",
    "chart.desc_medians": "by protocol; medians over runs",
    "chart.spread": "Per-client transfer time spread, {size} file",
    "chart.time_axis": "Client transfer time",
    "chart.desc_spread": "min, median and max of client times over all runs",
    "chart.loss": "UDP datagram loss vs clients",
    "chart.loss_axis": "Mean loss",
    "chart.proto_aggregate": "Aggregate rate by protocol",
    "chart.proto_per_client": "Median per-client rate by protocol",
    "chart.file_clients": "File x clients",
    # report: TCP vs UDP
    "cons.heading": "TCP vs UDP: are the results consistent?",
    "cons.missing": "The logs hold only one protocol, so TCP and UDP cannot be compared.",
    "cons.no_pairs": "No UDP test has a TCP test with the same file and client count to compare with.",
    "cons.speed": "{proto} vs TCP over {n} matching test(s): faster in {faster}, slower in {slower}; aggregate "
                  "rate from {lo} to {hi} of TCP's (median {median}).",
    "cons.tcp_ok": "TCP delivered every file intact, as a reliable stream should.",
    "cons.tcp_failed": "Some TCP transfers failed: see the tests above; TCP itself does not lose data, so a "
                       "failure there points at a stopped program, a timeout or the disk.",
    "cons.raw_ok": "{proto} delivered every file in these tests (highest mean loss {max_loss}%): the sending rate "
                   "was within what the receivers absorb.",
    "cons.raw_failed": "{proto} lost data (highest mean loss {max_loss}%): expected of plain UDP, which has no "
                       "retransmission or flow control; the per-test analysis gives the rate that would have "
                       "delivered everything.",
    "cons.reliable_ok": "{proto} delivered every file intact, as TCP did: its recovery made up for the datagrams "
                        "UDP lost.",
    "cons.reliable_failed": "{proto} did not deliver every file (highest mean loss {max_loss}%): see the tests above.",
    "cons.trend_same": "Both protocols react the same way to more clients: the per-client rate falls as they share "
                       "the machine.",
    "cons.trend_differs": "The protocols react differently to more clients: see the charts above.",
    "cons.verdict_yes": "Yes: the results are consistent. TCP and reliable UDP deliver the same files intact; "
                        "the rates differ by how each protocol paces and recovers, and raw UDP trades completeness "
                        "for speed.",
    "cons.verdict_partly": "Only in part: the failures listed above must be explained before the rates can be "
                           "compared.",
    # report: method, attempts, extras
    "method.heading": "Method",
    "method.times": "Transfer times follow the lab's definitions: TCP server, first byte sent to DONE received; TCP "
                    "client, first byte received to DONE sent; UDP server, first to last datagram sent; UDP client, "
                    "first to last datagram received.",
    "method.aggregate": "Aggregate throughput = total bytes / (last byte of any client - first byte of any client).",
    "method.medians": "Where a test ran more than once, the global figures are medians over its runs; every run "
                      "is listed.",
    "method.wire": "Bytes sent by the server count what went on the wire: for reliable UDP the resent datagrams "
                   "are included.",
    "attempts.heading": "Attempts that never started",
    "attempts.intro": "{n} connection attempt(s) never started a transfer (connection refused, server busy, no "
                      "answer). They are not tests and are not counted above.",
    "attempts.when": "When",
    "attempts.reason": "Reason",
    "attempts.log": "Log",
    "base.heading": "Baseline",
    "base.item": "Item",
    "base.sha256": "SHA-256 rate of this Python (hashlib, file in memory)",
    "base.file": "File hashed",
    "base.file_size": "File size",
    "base.repeats": "Repetitions",
    "base.samples": "Each measurement",
    "base.block": "Block size (bytes)",
    "notes.heading": "Notes",
    "problems.heading": "Log problems",
    "problems.more": "... and {n} more",
    "pdf.hint": "no PDF: install chromium (or Chrome) to get report.pdf, or open {html} in a browser and print it "
                "to PDF",
}
