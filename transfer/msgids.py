"""Finding the programs' translatable texts in the source (for the catalogue test and for
writing a new language's catalogue): ``python3 -m transfer.msgids [--missing es]``.

A msgid is the first argument of ``_("...")`` or ``N_("...")`` when it is a string literal,
and the ``help=`` / ``description=`` literal of an argparse call (and the description given to
``transfer.config.server_parser/client_parser``) (``--help`` is translated
when it is printed, see transfer/i18n.py HelpFormatter)."""

import ast
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: folders whose .py files are the programs
PROGRAM_DIRS = ("transfer", "tcp", "udp")
#: scripts whose --help goes through i18n.HelpFormatter
TRANSLATED_SCRIPTS = ("scripts/benchmark.py", "scripts/report.py", "scripts/capture.py", "scripts/pcap.py")
_MARKERS = ("_", "N_")
_ARGPARSE_CALLS = ("add_argument", "ArgumentParser", "OneLineParser", "_Parser", "add_parser", "add_argument_group")


def source_files(root=ROOT):
    """The program files to scan (the catalogues themselves excluded)."""
    found = []
    for folder in PROGRAM_DIRS:
        base = os.path.join(root, folder)
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = [d for d in dirnames if d not in ("locales", "__pycache__")]
            found.extend(os.path.join(dirpath, f) for f in sorted(filenames) if f.endswith(".py"))
    found.extend(os.path.join(root, path) for path in TRANSLATED_SCRIPTS)
    return sorted(found)


def _name(func):
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _literal(node, formatted=False):
    if formatted and isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
            and node.func.attr == "format":
        return _literal(node.func.value)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if hasattr(ast, "Str") and isinstance(node, getattr(ast, "Str")):  # Python 3.7 and older
        return node.s
    return None


def msgids_of(path):
    """{msgid: [where, ...]} of one file."""
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read(), path)
    found = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node.func)
        texts = []
        if name in _MARKERS and node.args:
            texts.append(_literal(node.args[0]))
        if name in ("server_parser", "client_parser") and len(node.args) > 1:  # (prog, description, port)
            texts.append(_literal(node.args[1]))
        if name in _ARGPARSE_CALLS:
            texts.extend(_literal(k.value, True) for k in node.keywords if k.arg in ("help", "description", "title"))
        for text in texts:
            if text:
                where = "{}:{}".format(os.path.relpath(path, ROOT), node.lineno)
                found.setdefault(text, []).append(where)
    return found


def all_msgids(root=ROOT):
    """{msgid: [where, ...]} over every program file."""
    found = {}
    for path in source_files(root):
        for text, places in msgids_of(path).items():
            found.setdefault(text, []).extend(places)
    return found


def shadowed_underscore(path):
    """Functions of *path* that call ``_(...)`` and also bind the name ``_`` (which would turn the
    translation into an UnboundLocalError or a call of whatever was bound): [(function, line)]."""
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read(), path)
    problems = []
    for func in ast.walk(tree):
        if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        calls = binds = False
        for node in ast.walk(func):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_":
                calls = True
            if isinstance(node, ast.Name) and node.id == "_" and isinstance(node.ctx, ast.Store):
                binds = True
            if isinstance(node, ast.arg) and node.arg == "_":
                binds = True
        if calls and binds:
            problems.append((getattr(func, "name", "lambda"), func.lineno))
    return problems


def unimported(path, names=("_", "N_", "localize", "number", "digits")):
    """The translation helpers *path* calls without importing them (a NameError waiting for the
    first error path that needs it): sorted names."""
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read(), path)
    bound = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            bound.update(alias.asname or alias.name for alias in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node in tree.body:
            bound.add(node.name)
        elif isinstance(node, ast.Assign) and node in tree.body:
            bound.update(t.id for t in node.targets if isinstance(t, ast.Name))
    used = {node.func.id for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names}
    return sorted(used - bound)


def main(argv=None):
    """Print the msgids (or, with ``--missing LANG``, those without a LANG translation)."""
    argv = sys.argv[1:] if argv is None else argv
    found = all_msgids()
    if argv[:1] == ["--missing"]:
        from transfer import i18n
        catalogue = i18n.program_catalogue(argv[1])
        found = {k: v for k, v in found.items() if k not in catalogue}
    for text, places in sorted(found.items(), key=lambda item: item[1][0]):
        sys.stdout.write("{!r}: {}\n".format(text, places[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
