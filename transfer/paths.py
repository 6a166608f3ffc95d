"""Project folders, resolved from the project root (never the working directory)."""

import os
from pathlib import Path

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


def display_path(path):
    """*path* as a person should read it: relative to the project root when it is
    inside it (``files/100MB.txt``), else in full (``/srv/lab/100MB.txt``)."""
    path = Path(os.path.abspath(str(path)))
    try:
        return path.relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return str(path)
