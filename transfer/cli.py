"""Running a program's main(): one-line errors, Ctrl-C and end of input
handled the same way everywhere."""

import os
import sys

from transfer.errors import UserError
from transfer.i18n import _, localize
from transfer.prompts import PromptClosed

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def configure_logging():
    """Library modules log through ``logging``; show warnings unless FILELAB_DEBUG is set.

    ``logging`` (10 ms of imports) is loaded only when FILELAB_DEBUG asks or
    a module already loaded it: the TCP client's modules never log."""
    if not os.environ.get("FILELAB_DEBUG") and "logging" not in sys.modules:
        return
    import logging
    level = logging.DEBUG if os.environ.get("FILELAB_DEBUG") else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


def run_main(body, prog, eof_status=EXIT_OK):
    """Call *body()* and turn the ways it can end into an exit status."""
    configure_logging()
    try:
        return body()
    except UserError as exc:
        sys.stderr.write(_("{}: error: {}\n").format(prog, localize(str(exc))))
        return EXIT_USAGE
    except PromptClosed:
        sys.stderr.write(_("{}: input ended, stopping\n").format(prog))
        return eof_status
    except KeyboardInterrupt:
        sys.stderr.write(_("\n{}: interrupted\n").format(prog))
        return EXIT_INTERRUPTED
