"""The local addresses a server listens on, to tell people what to type."""

import socket
import struct
import sys

from transfer.text import host_port


def _linux_ipv4_addresses():
    import fcntl  # Unix only; the caller falls back elsewhere
    result = []
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for _, name in socket.if_nameindex():
            request = struct.pack("256s", name.encode()[:15])
            try:
                reply = fcntl.ioctl(probe.fileno(), 0x8915, request)  # SIOCGIFADDR
            except OSError:
                continue
            result.append((name, socket.inet_ntoa(reply[20:24])))
    finally:
        probe.close()
    return result


def local_ipv4_addresses():
    """[(interface or '', address)] of this machine's IPv4 addresses, loopback included."""
    addresses = []
    if sys.platform.startswith("linux"):
        try:
            addresses = _linux_ipv4_addresses()
        except (ImportError, OSError):
            addresses = []
    if not addresses:
        seen = set()
        try:
            infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
        except OSError:
            infos = []
        for info in infos:
            address = info[4][0]
            if address not in seen:
                seen.add(address)
                addresses.append(("", address))
        if "127.0.0.1" not in seen:
            addresses.append(("lo", "127.0.0.1"))
    return addresses


def listening_addresses(bind_address, port):
    """The 'ip:port' strings a person can use to reach a server bound to *bind_address*."""
    if bind_address in ("", "0.0.0.0"):
        return ["{} ({})".format(host_port(addr, port), name) if name else host_port(addr, port)
                for name, addr in local_ipv4_addresses()]
    return [host_port(bind_address, port)]
