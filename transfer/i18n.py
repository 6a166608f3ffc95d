"""Messages in the user's language (English and Spanish), standard library only.

    from transfer import i18n
    i18n.set_language(i18n.choose(args.lang))     # --lang, else the locale, else English
    print(i18n.tr("report.title"))
    print(i18n.tr("report.generated", files=3))
    i18n.number(1234.5, 2)                        # '1,234.50' in English, '1.234,50' in Spanish

Two styles share the language chosen once per program:

* the report's keys: ``tr("report.title")`` looks *key* up in ``transfer/locales/<lang>.py``;
* the programs' msgids: the English text itself is the id.  ``_("Clients: {}").format(n)``
  (or ``_("Clients: {n}", n=n)``) gives the text in the current language, from
  ``transfer/locales/<lang>_programs.py`` (English needs no catalogue).  ``N_("...")`` only
  marks a text for the catalogue and leaves it English: it is for what is stored (a record's
  reason in the JSON-lines log, a wire ERROR), and :func:`localize` turns such a stored English
  text into the current language when it is shown (the summary, the status, the text log).
  :func:`setup` picks the language from ``--lang`` in argv before argparse runs, and
  :class:`HelpFormatter` translates ``--help`` at the moment it is printed.

Every message lives in one catalogue per language: ``transfer/locales/<lang>.py`` holds a
``MESSAGES`` dict of key -> ``str.format`` template.  A key missing from the chosen language
falls back to English, and a key missing from English comes back as the key itself (so a
typo shows, never crashes).  The language is chosen once per program with :func:`choose`:
``--lang es|en``; else ``LC_ALL``, ``LC_MESSAGES``, ``LANG`` (the first one set, as POSIX
does); on Windows, the user's UI language; else English.  JSON keys, wire messages and file
names never change with the language.
"""

import argparse
import importlib
import os
import re
import string
import sys

__all__ = ["LANGUAGES", "DEFAULT", "choose", "detect", "set_language", "language", "tr", "translator",
           "catalogue", "number", "add_argument",
           "_", "N_", "localize", "digits", "program_catalogue", "setup", "chosen", "prescan", "HelpFormatter",
           "ARGPARSE_MSGIDS"]



def _warn(message, *args):
    """A logging warning, importing logging only when there is one (the programs start faster)."""
    import logging
    logging.getLogger(__name__).warning(message, *args)

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
    """Make *lang* the language of :func:`tr` and :func:`_` for this process."""
    global _current
    if lang not in LANGUAGES:
        raise ValueError("unknown language {!r}".format(lang))
    _current = lang
    _install_argparse()


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
            _warn("message %s (%s): %s", key, lang, exc)
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


def add_argument(parser, help=None):
    """Add ``--lang es|en`` to an argparse *parser* (*help*: another help text for it)."""
    parser.add_argument("--lang", choices=LANGUAGES, help=help or LANG_HELP)


# -- the programs' messages: the English text is the id ------------------------------------------

_programs = {}
_formatter = string.Formatter()


def program_catalogue(lang):
    """The programs' {English msgid: text} dict of *lang* (empty for English; loaded once)."""
    if lang not in _programs:
        try:
            module = importlib.import_module("transfer.locales.{}_programs".format(lang))
        except ImportError:
            _programs[lang] = {}
        else:
            _programs[lang] = dict(module.MESSAGES)
    return _programs[lang]


#: languages that write 1.234,5 instead of 1,234.5
_DECIMAL_COMMA = ("es",)


def _swap_separators(text):
    """'1,234.5' -> '1.234,5'."""
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


class _NumberFormatter(string.Formatter):
    """str.format that writes the numbers of the fields in the current language's style."""

    def format_field(self, value, format_spec):
        text = super().format_field(value, format_spec)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and _current in _DECIMAL_COMMA:
            text = _swap_separators(text)
        return text


_number_formatter = _NumberFormatter()


class _Text(str):
    """A translated template whose ``format()`` writes numbers as the language does
    (``{:,}`` gives 1.234.567 and ``{:.1f}`` gives 0,5 in Spanish)."""

    def format(self, *args, **kwargs):  # noqa: A003 - str.format with the language's numbers
        return _number_formatter.vformat(str(self), args, kwargs)


def _(msgid, **fields):
    """*msgid* (English) in the current language; formatted with *fields* when some are given.
    In a decimal-comma language the result's ``format()`` writes numbers that way."""
    if _current == DEFAULT:
        return msgid.format(**fields) if fields else msgid
    text = _Text(program_catalogue(_current).get(msgid, msgid))
    if not fields:
        return text
    try:
        return text.format(**fields)
    except (KeyError, IndexError, ValueError) as exc:
        _warn("message %r (%s): %s", msgid, _current, exc)
        return msgid.format(**fields)


def N_(msgid):
    """Mark *msgid* for the catalogue but keep it English (stored texts; see :func:`localize`)."""
    return msgid


#: the --lang help
LANG_HELP = N_("language of the output (default: the locale's, else English)")
#: the --lang help of the scripts whose output stays English (only --help follows --lang)
HELP_ONLY = N_("language of --help (this tool's output is in English)")


def _field_key(name, auto):
    """The key of one replacement field: its name, its index, or the next automatic index."""
    name = name.split(".")[0].split("[")[0]
    if name == "":
        return auto, auto + 1
    if name.isdigit():
        return int(name), auto
    return name, auto


def _compile(msgid):
    """(regex matching a text formatted from *msgid*, field keys in order, literal length)."""
    parts, keys, auto, literal_length = [], [], 0, 0
    for literal, name, _spec, _conversion in _formatter.parse(msgid):
        parts.append(re.escape(literal))
        literal_length += len(literal.strip())
        if name is not None:
            key, auto = _field_key(name, auto)
            parts.append("(.*?)")
            keys.append(key)
    return re.compile("".join(parts) + r"\Z", re.S), keys, literal_length


def _fill(template, values):
    """*template* with each replacement field replaced by the text in *values* (no format specs)."""
    out, auto = [], 0
    for literal, name, _spec, _conversion in _formatter.parse(template):
        out.append(literal)
        if name is not None:
            key, auto = _field_key(name, auto)
            out.append(values.get(key, ""))
    return "".join(out)


_patterns = {}


def _patterns_of(lang):
    """[(regex, keys, msgid, translation)] of *lang*'s templates, most specific first."""
    if lang not in _patterns:
        found = []
        for msgid, text in program_catalogue(lang).items():
            if "{" not in msgid:
                continue
            try:
                regex, keys, literal_length = _compile(msgid)
            except ValueError:
                continue
            if literal_length >= 3:
                found.append((literal_length, regex, keys, msgid, text))
        found.sort(key=lambda item: -item[0])
        _patterns[lang] = [item[1:] for item in found]
    return _patterns[lang]


def localize(text, lang=None, _depth=0):
    """A stored English *text* (made from a msgid, e.g. a record's reason) in *lang* (default: the
    current language).  Texts that match no msgid come back unchanged; field values that are
    themselves messages (a reason inside a reason) are translated too."""
    lang = lang or _current
    if lang == DEFAULT or text is None or _depth > 4:
        return text
    text = str(text)
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":  # a quoted wire text: its inside
        inner = localize(text[1:-1], lang, _depth + 1)
        return text if inner == text[1:-1] else text[0] + inner + text[0]
    catalogue_ = program_catalogue(lang)
    exact = catalogue_.get(text)
    if exact is not None:
        return exact
    if len(text) > 2000:
        return text
    for regex, keys, _msgid, translation in _patterns_of(lang):
        match = regex.match(text)
        if match:
            values = {key: _localize_value(value, lang, _depth) for key, value in zip(keys, match.groups())}
            return _fill(translation, values)
    return text


_PLAIN_NUMBER = re.compile(r"-?[0-9]{1,3}(?:,[0-9]{3})*(?:\.[0-9]+)?\Z|-?[0-9]+\.[0-9]+\Z")


def _localize_value(value, lang, depth):
    """A field of a stored text: a number written the English way (1,234.5) in *lang*'s way, a
    message translated, anything else as it is."""
    if lang in _DECIMAL_COMMA and _PLAIN_NUMBER.match(value):
        return _swap_separators(value)
    return localize(value, lang, depth + 1)


_DIGITS = re.compile(r"[0-9][0-9.,/ ]*\Z")


def digits(text):
    """A table cell of numbers written the English way ('1,128.0/4,265.9') in the current
    language's way; any other text as it is."""
    text = str(text)
    if _current in _DECIMAL_COMMA and _DIGITS.match(text):
        return _swap_separators(text)
    return text


# -- choosing the language once, --help in that language -----------------------------------------

def prescan(argv):
    """The value of ``--lang X`` / ``--lang=X`` in *argv* (the last one), or None."""
    found = None
    argv = list(argv or ())
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--lang" and i + 1 < len(argv):
            found = argv[i + 1]
        elif isinstance(arg, str) and arg.startswith("--lang="):
            found = arg.split("=", 1)[1]
    return found


def setup(argv=None, environ=None):
    """Choose this program's language once, before argparse runs: ``--lang`` in *argv* (default
    ``sys.argv[1:]``), else the locale, else English.  An unknown ``--lang`` value is left to
    argparse to refuse.  Returns the language."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        lang = choose(prescan(argv), environ)
    except ValueError:
        lang = choose(None, environ)
    set_language(lang)
    if lang != DEFAULT:
        _tolerant_streams()
    return lang


def _tolerant_streams(streams=None):
    """Where stdout/stderr cannot encode the language's letters (an ASCII terminal), replace the
    letters they cannot show instead of failing with UnicodeEncodeError."""
    for stream in streams or (sys.stdout, sys.stderr):
        try:
            "áéíóúñ¿¡".encode(stream.encoding or "ascii")
        except (UnicodeEncodeError, LookupError):
            try:
                stream.reconfigure(errors="replace")
            except (AttributeError, ValueError, OSError):  # not a TextIOWrapper: leave it
                pass
        except AttributeError:
            pass


class chosen:
    """``with i18n.chosen(argv): args = parser.parse_args(argv)``: the language of *argv* (see
    :func:`setup`) while the block runs (--help, argparse's errors), the previous one after it.
    For scripts that pass their language around instead of setting it for the process."""

    def __init__(self, argv=None, environ=None):
        self._argv, self._environ, self._previous = argv, environ, None

    def __enter__(self):
        self._previous = _current
        return setup(self._argv, self._environ)

    def __exit__(self, *exc):
        set_language(self._previous)
        return False


#: argparse's own texts that the Spanish catalogue translates (usage, headings, errors)
ARGPARSE_MSGIDS = (
    "usage: ", "positional arguments", "options", "optional arguments", "show this help message and exit",
    "unrecognized arguments: %s", "the following arguments are required: %s", "expected one argument",
    "argument %(argument_name)s: %(message)s", "invalid choice: %(value)r (choose from %(choices)s)",
    "invalid %(type)s value: %(value)r", "not allowed with argument %s", "ignored explicit argument %r",
    "one of the arguments %s is required", "expected at least one argument", "expected at most one argument",
    "ambiguous option: %(option)s could match %(matches)s",
)

_argparse_originals = {}


def _argparse_gettext(message):
    return _(message)


def _argparse_ngettext(singular, plural, n):
    return _(singular if n == 1 else plural)


def _install_argparse():
    """Let argparse's own texts ("usage:", its errors) follow the language (English: untouched)."""
    if not _argparse_originals:
        _argparse_originals["_"] = getattr(argparse, "_", None)
        _argparse_originals["ngettext"] = getattr(argparse, "ngettext", None)
    if _current == DEFAULT:
        for name, original in _argparse_originals.items():
            if original is not None:
                setattr(argparse, name, original)
    else:
        argparse._ = _argparse_gettext
        argparse.ngettext = _argparse_ngettext


class HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter that prints the description, headings and every flag's help in the
    language current when ``--help`` is printed (the parser may be built before :func:`setup`)."""

    def _format_text(self, text):
        return super()._format_text(_(text) if text else text)

    def start_section(self, heading):
        super().start_section(_(heading) if heading else heading)

    def _get_help_string(self, action):
        # localize(): a help text built with .format() is found by its msgid too
        return localize(action.help) if action.help else action.help
