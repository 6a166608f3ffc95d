"""The files a server can offer: the two standard lab files, their generator,
and the catalog of whatever else sits in the files folder.

The generated files are printable ASCII text, identical on every machine, so
their SHA-256 values are constants (``STANDARD_FILES``).  Only regular files
directly inside the files folder are ever offered, so nothing outside it can
be served.
"""

import errno
import hashlib
import logging
import os
import stat as stat_module
import sys
import threading
import time
from pathlib import Path

from transfer.errors import UserError
from transfer.paths import display_path
from transfer.units import format_size  # noqa: F401 (re-exported: catalog.format_size)
from transfer.i18n import N_, _

_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class FileChanged(OSError):
    """A listed file is no longer the one listed (swapped, a link, resized)."""

log = logging.getLogger(__name__)

MiB = 1024 * 1024
BLOCK_SIZE = MiB
LINE_LENGTH = 100  # 99 characters and a newline

#: name -> (size in bytes, SHA-256 of the generated content)
STANDARD_FILES = {
    "100MB.txt": (100 * MiB, "4ab90296cf9a6da06be733ae05a1d18c162d972f9e1f82cb525ecc4c1149f960"),
    "250MB.txt": (250 * MiB, "e2d117c06fffa99b3870baa7cdfd181d6096a1ee5dd1fd0ab98f650ffea20657"),
}

_ALPHABET = (b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 ,.;:-")


def _template_block():
    """One 1 MiB block of pseudo-random printable text with a newline every
    LINE_LENGTH bytes, derived from SHA-256 in counter mode (deterministic)."""
    raw = bytearray()
    counter = 0
    while len(raw) < BLOCK_SIZE:
        raw += hashlib.sha256(b"tcp-udp-file-lab %d" % counter).digest()
        counter += 1
    table = bytes(_ALPHABET[i % len(_ALPHABET)] for i in range(256))
    text = bytearray(bytes(raw[:BLOCK_SIZE]).translate(table))
    text[LINE_LENGTH - 1::LINE_LENGTH] = b"\n" * len(text[LINE_LENGTH - 1::LINE_LENGTH])
    return bytes(text)


_TEMPLATE = None
_TEMPLATE_LOCK = threading.Lock()


def _template():
    global _TEMPLATE
    with _TEMPLATE_LOCK:
        if _TEMPLATE is None:
            _TEMPLATE = _template_block()
        return _TEMPLATE


def generated_block(index):
    """Block *index* of every generated file: the template with a header
    naming the block, so misplaced data changes the hash and is visible."""
    header = b"[block %010d]" % index
    return header + _template()[len(header):]


def generate_file(path, size, progress=None):
    """Write *size* bytes of the deterministic text to *path* (atomically:
    a temporary name, then rename).  *progress(done, total)* is called per MiB."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(".{}.{}.part".format(path.name, os.getpid()))
    try:
        with open(str(tmp), "wb") as out:
            written = 0
            index = 0
            while written < size:
                block = generated_block(index)
                take = min(len(block), size - written)
                out.write(block[:take] if take < len(block) else block)
                written += take
                index += 1
                if progress is not None:
                    progress(written, size)
        os.replace(str(tmp), str(path))
    except BaseException:
        try:
            os.unlink(str(tmp))
        except OSError:
            pass
        raise
    return path


def generated_sha256(size):
    """SHA-256 of a generated file of *size* bytes, computed without disk I/O."""
    digest = hashlib.sha256()
    done = 0
    index = 0
    while done < size:
        block = generated_block(index)
        take = min(len(block), size - done)
        digest.update(memoryview(block)[:take])
        done += take
        index += 1
    return digest.hexdigest()


def _progress_line(name, stream):
    """*name*: the file as shown (transfer.paths.display_path)."""
    state = {"last": -1.0}
    interactive = hasattr(stream, "isatty") and stream.isatty()

    def show(done, total):
        percent = 100.0 * done / total if total else 100.0
        if interactive:
            if percent - state["last"] >= 1 or done == total:
                state["last"] = percent
                stream.write(_("\rcreating {}: {:5.1f}%").format(name, percent))
                if done == total:
                    stream.write("\n")
                stream.flush()
        elif done == total:
            stream.write(_("created {} ({:,} bytes)\n").format(name, total))
            stream.flush()
    return show


def ensure_standard_files(files_dir, stream=None, names=None):
    """Create the missing standard files (100MB.txt, 250MB.txt) in *files_dir*.

    An existing file of the right size is kept.  Returns the list of paths created.
    """
    files_dir = Path(files_dir)
    try:
        files_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(_("cannot create the files folder {}: {}").format(files_dir, exc.strerror or exc))
    created = []
    for name, (size, _sha) in STANDARD_FILES.items():
        if names is not None and name not in names:
            continue
        path = files_dir / name
        if path.is_file() and path.stat().st_size == size:
            continue
        progress = _progress_line(display_path(path), stream) if stream is not None else None
        started = time.perf_counter()
        try:
            generate_file(path, size, progress)
        except OSError as exc:
            raise UserError(_("cannot create {}: {}").format(path, exc.strerror or exc))
        log.info("created %s (%d bytes) in %.2f s", path, size, time.perf_counter() - started)
        _store_cached_sha256(path, _cache_key(path), STANDARD_FILES[name][1])  # known: nothing to hash
        created.append(path)
    return created


class FileEntry:
    """One file the server can offer, with its SHA-256 computed once."""

    def __init__(self, path):
        self.path = Path(path)
        stat = os.lstat(str(self.path))  # the entry itself: list_files never offers a link
        self.name = self.path.name
        self.size = stat.st_size
        self._mtime_ns = stat.st_mtime_ns
        self._identity = (stat.st_dev, stat.st_ino)
        self._sha256 = None
        self._lock = threading.Lock()

    @property
    def sha256(self):
        """Hex SHA-256 of the file, computed on first use and cached."""
        with self._lock:
            if self._sha256 is None:
                self._sha256 = _cached_file_sha256(self.path)
            return self._sha256

    def open(self):
        """Open the listed file for reading (binary), without following a
        symbolic link (``O_NOFOLLOW`` where the OS has it, a check before
        opening elsewhere), and only if what was opened is the regular file
        that was listed: same device, inode and size.  FileChanged otherwise,
        so a file swapped after the listing is never sent."""
        path = str(self.path)
        flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOCTTY", 0)
        if _O_NOFOLLOW:
            flags |= _O_NOFOLLOW
        else:  # pragma: no cover - Windows: no O_NOFOLLOW; refuse a link seen just before
            try:
                if stat_module.S_ISLNK(os.lstat(path).st_mode):
                    raise FileChanged(N_("{} is now a symbolic link").format(self.name))
            except FileNotFoundError:
                raise FileChanged(N_("{} is gone").format(self.name))
        try:
            fd = os.open(path, flags | getattr(os, "O_NONBLOCK", 0))  # a FIFO swapped in must not block
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise FileChanged(N_("{} is now a symbolic link").format(self.name))
            raise FileChanged(N_("{} cannot be opened: {}").format(self.name, exc.strerror or exc))
        try:
            opened = os.fstat(fd)
            if not stat_module.S_ISREG(opened.st_mode):
                raise FileChanged(N_("{} is no longer a regular file").format(self.name))
            same = (opened.st_dev, opened.st_ino) == self._identity or not all(self._identity)
            if not same or opened.st_size != self.size:
                raise FileChanged(N_("{} was replaced or changed since it was listed").format(self.name))
            if hasattr(os, "O_NONBLOCK") and hasattr(os, "set_blocking"):
                os.set_blocking(fd, True)
            return os.fdopen(fd, "rb")
        except BaseException:
            os.close(fd)
            raise

    def __repr__(self):
        return "FileEntry({!r}, size={})".format(self.name, self.size)


# -- the SHA-256 cache ---------------------------------------------------------
# A file's hash is computed once per content: kept in memory for this process
# and on disk in a hidden sidecar next to the file (``.<name>.sha256``), keyed
# by size, mtime, ctime and inode, so a restarted server hashes nothing.  The
# sidecar is one line: ``<sha256> size=<n> mtime_ns=<n> ctime_ns=<n> inode=<n>``.

HASH_CACHE_PREFIX = "."
HASH_CACHE_SUFFIX = ".sha256"
_HASH_CACHE = {}
_HASH_CACHE_LOCK = threading.Lock()
_HEX = frozenset("0123456789abcdef")


def hash_cache_path(path):
    """The sidecar that caches the SHA-256 of the file at *path*."""
    path = Path(path)
    return path.with_name("{}{}{}".format(HASH_CACHE_PREFIX, path.name, HASH_CACHE_SUFFIX))


def _cache_key(path):
    """What must be unchanged for a cached hash to stay valid (a string), or
    None if *path* cannot be read."""
    try:
        st = os.stat(str(path))
    except OSError:
        return None
    return "size={} mtime_ns={} ctime_ns={} inode={}".format(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def _load_cached_sha256(path, key):
    """The hash stored in *path*'s sidecar if it was stored under *key*, else None."""
    try:
        with open(str(hash_cache_path(path)), "r", encoding="ascii") as handle:
            line = handle.read(512)
    except (OSError, ValueError):
        return None
    value, _, stored_key = line.strip().partition(" ")
    if stored_key != key or len(value) != 64 or not _HEX.issuperset(value):
        return None
    return value


def _store_cached_sha256(path, key, value):
    """Write *path*'s sidecar atomically; a folder we cannot write is not an error."""
    if key is None:
        return
    target = hash_cache_path(path)
    temp = target.with_name("{}.{}.tmp".format(target.name, os.getpid()))
    try:
        with open(str(temp), "w", encoding="ascii") as handle:
            handle.write("{} {}\n".format(value, key))
        os.replace(str(temp), str(target))
    except OSError as exc:
        log.debug("cannot cache the SHA-256 of %s: %s", path, exc)
        try:
            os.unlink(str(temp))
        except OSError:
            pass


def _cached_file_sha256(path):
    """Hex SHA-256 of *path*: from memory, else from its sidecar, else hashed
    (and then cached, unless the file changed while it was being hashed)."""
    from transfer import hashing
    key = _cache_key(path)
    memory_key = (str(path), key)
    with _HASH_CACHE_LOCK:
        if key is not None and memory_key in _HASH_CACHE:
            return _HASH_CACHE[memory_key]
    value = _load_cached_sha256(path, key) if key is not None else None
    if value is None:
        started = time.perf_counter()
        value = hashing.sha256_file(path)
        log.info("hashed %s in %.2f s", path, time.perf_counter() - started)
        if key is None or _cache_key(path) != key:
            return value  # changed while hashing: serve this hash, cache nothing
        _store_cached_sha256(path, key, value)
    with _HASH_CACHE_LOCK:
        _HASH_CACHE[memory_key] = value
    return value


def is_hash_cached(path):
    """True when the SHA-256 of *path* is known without reading the file."""
    key = _cache_key(path)
    if key is None:
        return False
    with _HASH_CACHE_LOCK:
        if (str(path), key) in _HASH_CACHE:
            return True
    return _load_cached_sha256(path, key) is not None


def hash_catalog(entries, stream=None, announce=16 * MiB):
    """Make sure every entry's SHA-256 is known (cached or computed now), so no
    client ever waits for a hash.  Servers call this before they listen.
    With *stream*, a line is written for each file of at least *announce*
    bytes that really gets hashed (smaller ones take no noticeable time).
    Returns the number of files hashed (0 when every hash was cached)."""
    hashed = 0
    for entry in entries:
        if not is_hash_cached(entry.path):
            hashed += 1
            if stream is not None and entry.size >= announce:
                stream.write(_("hashing files/{} ({:,} bytes; cached in {} afterwards)\n").format(
                    entry.name, entry.size, hash_cache_path(entry.path).name))
                stream.flush()
        entry.sha256  # noqa: B018 - computes and caches
    return hashed


def list_files(files_dir):
    """The regular, readable, non-hidden files directly in *files_dir*, by name."""
    files_dir = Path(files_dir)
    try:
        names = sorted(os.listdir(str(files_dir)))
    except FileNotFoundError:
        raise UserError(_("the files folder {} does not exist").format(files_dir))
    except OSError as exc:
        raise UserError(_("cannot read the files folder {}: {}").format(files_dir, exc.strerror or exc))
    entries = []
    for name in names:
        if name.startswith(".") or name.endswith(".part"):
            continue
        path = files_dir / name
        if path.is_symlink() or not path.is_file():
            continue
        if not os.access(str(path), os.R_OK):
            continue
        entries.append(FileEntry(path))
    return entries


def select_file(entries, choice):
    """The entry named *choice*, or numbered *choice* (1-based) in *entries*.

    Only names of files in the catalog match, so a path such as ``../x``
    can never select anything outside the files folder.
    """
    choice = str(choice).strip()
    for entry in entries:
        if entry.name == choice:
            return entry
    if choice.isascii() and choice.isdigit():
        number = int(choice)
        if 1 <= number <= len(entries):
            return entries[number - 1]
    raise UserError(_("no file {!r} in the files folder (choose a name or a number from 1 to {})").format(
        choice, len(entries)))



if __name__ == "__main__":  # pragma: no cover - manual helper
    for _name, (_size, _sha) in STANDARD_FILES.items():
        print(_name, _size, generated_sha256(_size))
    sys.exit(0)
