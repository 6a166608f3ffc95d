"""UDP echo client: ``python3 udp/client.py --ping`` sends PING datagrams to
the server's well-known port, prints each PONG with its round-trip time and
ends with a loss and min/avg/max summary, like ping."""

import socket
import sys
import time

from transfer.errors import ProtocolError, UserError
from udp.packets import Ping, Pong, address_text, decode_control, report_icmp_errors
from transfer.i18n import _


def run_ping(host, port, count, interval, out=None):
    """Send *count* PINGs *interval* s apart; 0 if any PONG came back, else 1."""
    out = out or sys.stdout
    try:
        infos = socket.getaddrinfo(host, port, 0, socket.SOCK_DGRAM)
    except socket.gaierror as exc:
        raise UserError(_("cannot resolve {!r}: {}").format(host, exc.strerror or exc))
    family, _type, _proto, _name, server = infos[0]
    sock = socket.socket(family, socket.SOCK_DGRAM)
    report_icmp_errors(sock, True)   # Linux; Windows reports them by default (WSAECONNRESET), macOS not at all
    rtts = []
    sent = 0
    out.write(_("PING {} (UDP), {} request(s), {:g} s apart\n").format(address_text(server), count, interval))
    out.flush()
    try:
        for seq in range(1, count + 1):
            started = time.perf_counter()
            try:
                sock.sendto(Ping(seq=seq).encode(), server)
            except OSError as exc:
                out.write(_("seq={}: send failed: {}\n").format(seq, exc.strerror or exc))
                continue
            sent += 1
            deadline = started + interval
            answered = False
            while True:
                left = deadline - time.perf_counter()
                if left <= 0:
                    break
                sock.settimeout(left)
                try:
                    data, source = sock.recvfrom(2048)
                except socket.timeout:
                    break
                except OSError as exc:
                    # an ICMP error for a PING: say it at once instead of waiting out the interval
                    refused = isinstance(exc, (ConnectionRefusedError, ConnectionResetError))
                    out.write(_("seq={}: {}\n").format(
                        seq, _("port unreachable (nothing listens on UDP {} there)").format(port) if refused
                        else _("error: {}").format(exc.strerror or exc)))
                    out.flush()
                    answered = None
                    break
                try:
                    message = decode_control(data)
                except ProtocolError:
                    continue
                if isinstance(message, Pong) and message.seq == seq and source[0] == server[0]:
                    rtt = (time.perf_counter() - started) * 1000.0
                    rtts.append(rtt)
                    answered = True
                    out.write(_("reply from {}: seq={} time={:.3f} ms\n").format(address_text(source), seq, rtt))
                    out.flush()
                    break
            if answered is False:
                out.write(_("seq={}: no reply within {:g} s\n").format(seq, interval))
                out.flush()
            left = deadline - time.perf_counter()
            if left > 0 and seq < count:
                time.sleep(left)
    except KeyboardInterrupt:
        out.write("\n")
    finally:
        sock.close()
    lost = sent - len(rtts)
    out.write(_("--- {} UDP ping statistics ---\n").format(address_text(server)))
    out.write(_("{} sent, {} received, {:.1f}% loss\n").format(sent, len(rtts), 100.0 * lost / sent if sent else 0.0))
    if rtts:
        out.write(_("rtt min/avg/max = {:.3f}/{:.3f}/{:.3f} ms\n").format(min(rtts), sum(rtts) / len(rtts), max(rtts)))
    out.flush()
    return 0 if rtts else 1
