"""Parsing and formatting of sizes, rates and durations."""

import re

from transfer.i18n import number

_SIZE = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([kKmMgG]?)(i?)[bB]?\s*\Z")


def parse_size(text):
    """'800M' -> 800_000_000, '64Ki' -> 65536, '0' -> 0.  ValueError if malformed.

    K/M/G are powers of 1000 (rates are quoted that way); Ki/Mi/Gi powers of 1024.
    """
    match = _SIZE.match(str(text))
    if not match:
        raise ValueError("not a size: {!r} (examples: 0, 500K, 800M, 1G)".format(text))
    number, unit, binary = match.groups()
    base = 1024 if binary else 1000
    scale = {"": 1, "k": base, "m": base ** 2, "g": base ** 3}[unit.lower()]
    return int(float(number) * scale)


def format_rate(bytes_per_second):
    """'812.4 MB/s' (MB = 10^6 bytes); '-' when unknown."""
    if bytes_per_second is None:
        return "-"
    return "{} MB/s".format(number(bytes_per_second / 1e6, 1))


def format_ms(milliseconds):
    """'1,234.567 ms'; '-' when unknown."""
    if milliseconds is None:
        return "-"
    return "{} ms".format(number(milliseconds, 3))


def format_size(size):
    """Bytes as a short human string: 104,857,600 -> '100.0 MiB'."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return "{} {}".format(number(value, 0 if unit == "B" else 1), unit)
        value /= 1024
    return str(size)
