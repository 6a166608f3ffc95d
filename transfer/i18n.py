"""Messages in the user's language (English and Spanish), standard library only.

    from transfer import i18n
    i18n.set_language(i18n.choose(args.lang))     # --lang, else the locale, else English
    print(i18n.tr("report.title"))
    print(i18n.tr("report.generated", files=3))
    i18n.number(1234.5, 2)                        # '1,234.50' in English, '1.234,50' in Spanish

Every message lives in one catalogue per language: ``transfer/locales/<lang>.py`` holds a
``MESSAGES`` dict of key -> ``str.format`` template.  A key missing from the chosen language
falls back to English, and a key missing from English comes back as the key itself (so a
typo shows, never crashes).  The language is chosen once per program with :func:`choose`:
``--lang es|en``; else ``LC_ALL``, ``LC_MESSAGES``, ``LANG`` (the first one set, as POSIX
does); on Windows, the user's UI language; else English.  JSON keys, wire messages and file
names never change with the language.
"""

import importlib
import logging
import os
import sys

__all__ = ["LANGUAGES", "DEFAULT", "choose", "detect", "set_language", "language", "tr", "translator",
           "catalogue", "number", "add_argument"]

log = logging.getLogger(__name__)

#: languages that have a catalogue
LANGUAGES = ("en", "es")
#: the fallback language
DEFAULT = "en"

_current = DEFAULT
_catalogues = {}
#: Windows primary language ids (LANGID & 0x3ff) of the languages we have
_WINDOWS_PRIMARY = {0x09: "en", 0x0A: "es"}


def catalogue(lang):
    """The MESSAGES dict of *lang* (loaded once)."""
    if lang not in _catalogues:
        module = importlib.import_module("transfer.locales." + lang)
        _catalogues[lang] = dict(module.MESSAGES)
    return _catalogues[lang]


def _from_tag(tag):
    """'es_CO.UTF-8' -> 'es'; 'C', '', 'POSIX' or an unknown language -> None."""
    tag = (tag or "").strip().split(".")[0].split("@")[0].replace("-", "_").lower()
    code = tag.split("_")[0]
    return code if code in LANGUAGES else None


def _windows_ui_language():
    """The Windows user's UI language ('es', 'en') or None (any failure: None)."""
    try:
        import ctypes
        langid = ctypes.windll.kernel32.GetUserDefaultUILanguage()
    except Exception:  # not Windows, no ctypes, no kernel32: no answer
        return None
    return _WINDOWS_PRIMARY.get(int(langid) & 0x3FF)


def detect(environ=None, platform=None):
    """The language the environment asks for: LC_ALL, LC_MESSAGES, LANG (first non-empty one),
    then on Windows the UI language; None when none of them names a known language."""
    environ = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name)
        if value:
            return _from_tag(value)
    if (platform or sys.platform) == "win32":
        return _windows_ui_language()
    return None


def choose(requested=None, environ=None, platform=None):
    """The language to use: *requested* (``--lang``) when given, else :func:`detect`, else English."""
    if requested:
        lang = _from_tag(requested)
        if lang is None:
            raise ValueError("unknown language {!r} (choose from {})".format(requested, ", ".join(LANGUAGES)))
        return lang
    return detect(environ, platform) or DEFAULT


def set_language(lang):
    """Make *lang* the language of :func:`tr` for this process."""
    global _current
    if lang not in LANGUAGES:
        raise ValueError("unknown language {!r}".format(lang))
    _current = lang


def language():
    """The current language code."""
    return _current


def _lookup(lang, key):
    text = catalogue(lang).get(key)
    if text is None and lang != DEFAULT:
        text = catalogue(DEFAULT).get(key)
    return key if text is None else text


def tr(key, **fields):
    """The message *key* in the current language, formatted with *fields*."""
    return translator(_current)(key, **fields)


def translator(lang):
    """A ``tr(key, **fields)`` bound to *lang* (for output in a language other than the process's)."""
    lang = lang if lang in LANGUAGES else DEFAULT

    def bound(key, **fields):
        text = _lookup(lang, key)
        if not fields:
            return text
        try:
            return text.format(**fields)
        except (KeyError, IndexError, ValueError) as exc:
            log.warning("message %s (%s): %s", key, lang, exc)
            return text
    bound.lang = lang
    return bound


def number(value, decimals=0, lang=None):
    """*value* with thousands separators and *decimals* decimals in *lang*'s style:
    ``1,234.50`` (en), ``1.234,50`` (es)."""
    text = "{:,.{}f}".format(value, decimals)
    if (lang or _current) == "es":
        text = text.replace(",", "\\0").replace(".", ",").replace("\\0", ".")
    return text


def add_argument(parser):
    """Add ``--lang es|en`` to an argparse *parser*."""
    parser.add_argument("--lang", choices=LANGUAGES, help="language of the output (default: the locale's, "
                                                           "else English)")
