"""Unit and end-to-end tests of the file-transfer lab.

The programs speak the user's language (``--lang``, else the locale): the tests read their
English output, so the suite runs them in the C locale whatever the machine's (a Spanish
desktop, a Windows machine in Spanish); the tests of the Spanish output set ``LANG`` themselves.
"""

import os

for _name in ("LC_ALL", "LC_MESSAGES"):
    os.environ.pop(_name, None)
os.environ["LANG"] = "C.UTF-8"
