"""Show how much disk the received copies take, and delete them.

    python3 scripts/clean.py              # how many files and bytes; asks before deleting
    python3 scripts/clean.py --yes        # delete without asking
    python3 scripts/clean.py --dry-run    # only show
    python3 scripts/clean.py --received-dir D:\\lab\\recibidos

Only ``Cliente<k>-Prueba-<n>.txt`` and their ``.part`` files directly in the
folder (default ``ArchivosRecibidos/``) are ever deleted; logs and anything
else stay.  Exit status 0 when done (or nothing to do), 1 when a file could
not be deleted, 2 on bad usage.
"""

if __package__ in (None, ""):
    import os
    import sys
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import sys

from transfer import paths
from transfer.catalog import format_size
from transfer.cli import EXIT_FAILED, EXIT_OK, run_main
from transfer.config import OneLineParser
from transfer.prompts import Prompter


def build_parser():
    """The command line."""
    parser = OneLineParser(prog="scripts/clean.py",
                           description="Show the disk used by received files (Cliente<k>-Prueba-<n>.txt and "
                                       ".part files) and delete them.")
    parser.add_argument("--received-dir", metavar="DIR",
                        help="folder of received files (default: ArchivosRecibidos/)")
    parser.add_argument("--yes", "-y", action="store_true", help="delete without asking")
    parser.add_argument("--dry-run", "-n", action="store_true", help="only show what would be deleted")
    return parser


def main(argv=None, input_fn=None, out=None):
    """Entry point; returns the exit status."""
    args = build_parser().parse_args(argv)
    out = out or sys.stdout
    folder = paths.resolve_dir(args.received_dir, paths.RECEIVED_DIR)

    def body():
        files = paths.received_files(folder)
        count, total = paths.disk_usage(files)
        shown = paths.display_path(folder)
        out.write("{}: {} received file(s), {:,} bytes ({})\n".format(shown, count, total, format_size(total)))
        if not count or args.dry_run:
            return EXIT_OK
        if not args.yes:
            prompter = Prompter(input_fn=input_fn, output=out)
            if prompter.ask_text("Delete them? (y/N)", "n").lower() not in ("y", "yes", "s", "si"):
                out.write("nothing deleted\n")
                return EXIT_OK
        removed, freed, errors = paths.remove_received(folder)
        out.write("deleted {} file(s), {} freed\n".format(removed, format_size(freed)))
        for path, error in errors:
            out.write("could not delete {}: {}\n".format(path, error))
        return EXIT_FAILED if errors else EXIT_OK
    return run_main(body, "scripts/clean.py")


if __name__ == "__main__":
    sys.exit(main())
