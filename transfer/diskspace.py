"""Free space before receiving: a server may announce any size (even
10**18 bytes); the clients check it against the disk before they send
READY, and refuse with one clear line instead of filling the disk.

``shutil.disk_usage`` works on Linux, macOS and Windows.
"""

import os
import shutil

from transfer.units import format_size
from transfer.i18n import N_

#: bytes to keep free beyond the announced size (none: the write path still reports a disk that fills meanwhile)
MARGIN = 0


def free_bytes(folder):
    """Free bytes on the disk that holds *folder* (or the nearest existing
    parent, as the folder may not exist yet); None when it can't be known."""
    path = os.path.abspath(str(folder))
    while not os.path.isdir(path):
        parent = os.path.dirname(path)
        if parent == path:
            return None
        path = parent
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None


def free_space_problem(folder, needed, margin=MARGIN):
    """A one-line refusal when *needed* bytes (plus *margin*) do not fit in
    *folder*'s disk; None when they fit or the free space can't be known."""
    free = free_bytes(folder)
    if free is None or needed + margin <= free:
        return None
    return N_("not enough free space in {}: the file(s) need {} ({:,} bytes), {} free").format(
        folder, format_size(needed), needed, format_size(free))
