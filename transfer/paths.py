"""Project folders, resolved from the project root (never the working directory)."""

import os
import re
import time
from pathlib import Path

from transfer.units import format_size

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FILES_DIR = PROJECT_ROOT / "files"
LOGS_DIR = PROJECT_ROOT / "Logs"
RECEIVED_DIR = PROJECT_ROOT / "ArchivosRecibidos"


def resolve_dir(value, default):
    """Return the folder given on the command line (relative to the working
    directory, as a user expects) or the project default."""
    if value is None or value == "":
        return Path(default)
    return Path(os.path.abspath(os.path.expanduser(str(value))))


def received_file_name(client_id, clients):
    """The lab's name for client *client_id*'s copy in a test of *clients* clients."""
    return "Cliente{}-Prueba-{}.txt".format(client_id, clients)


# a received copy, or the temporary/kept data of one (mkstemp: <name>.<random>.part)
_RECEIVED = re.compile(r"Cliente[0-9]+-Prueba-[0-9]+\.txt(\.[A-Za-z0-9_]+\.part)?\Z")


def received_files(folder):
    """The received copies (``Cliente<k>-Prueba-<n>.txt``) and ``.part`` files
    directly in *folder*, sorted; nothing else there is ever listed."""
    try:
        names = os.listdir(str(folder))
    except OSError:
        return []
    found = []
    for name in sorted(names):
        path = Path(folder) / name
        if _RECEIVED.match(name) and path.is_file() and not path.is_symlink():
            found.append(path)
    return found


def disk_usage(files):
    """(count, total bytes) of *files* (missing ones count as 0 bytes)."""
    total = 0
    for path in files:
        try:
            total += os.stat(str(path)).st_size
        except OSError:
            pass
    return len(files), total


def remove_received(folder):
    """Delete the received copies and .part files in *folder* (received_files);
    returns (files removed, bytes freed, [(path, error)] that could not be)."""
    removed, freed, errors = 0, 0, []
    for path in received_files(folder):
        try:
            size = os.stat(str(path)).st_size
            os.remove(str(path))
        except OSError as exc:
            errors.append((path, exc.strerror or str(exc)))
            continue
        removed += 1
        freed += size
    return removed, freed, errors


def display_path(path):
    """*path* as a person should read it: relative to the project root when it is
    inside it (``files/100MB.txt``), else in full (``/srv/lab/100MB.txt``)."""
    path = Path(os.path.abspath(str(path)))
    try:
        return path.relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return str(path)


REPLACE_TRIES = 5        # Windows: attempts of os.replace while something holds the new file
REPLACE_DELAY = 0.2      # seconds between them (doubling)


def replace_file(source, target, windows=None, tries=REPLACE_TRIES, delay=REPLACE_DELAY, sleep=time.sleep):
    """``os.replace(source, target)``; on Windows, retried a few times with a
    short sleep when it is refused (PermissionError: an antivirus or indexer
    briefly holds the file just written).  The last error is raised."""
    if windows is None:
        windows = os.name == "nt"
    attempts = tries if windows else 1
    for attempt in range(attempts):
        try:
            os.replace(str(source), str(target))
            return
        except PermissionError:
            if attempt + 1 >= attempts:
                raise
            sleep(delay * (2 ** attempt))


def human_size(size):
    """Bytes as a short text: 4,509,715,660 -> '4.2 GiB' (transfer.units.format_size)."""
    return format_size(size)
