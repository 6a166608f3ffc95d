"""The report as a document: blocks (headings, paragraphs, lists, tables, charts), rendered
as Markdown and as one self-contained HTML page with a print stylesheet, then printed to PDF
by a headless Chromium or Chrome when one is on the PATH.  Used by scripts/report.py."""

if __package__ in (None, ""):
    import os, sys  # noqa: E401
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from scripts.svgchart import escape

__all__ = ["Block", "Heading", "Paragraph", "Bullets", "Table", "Chart", "Section", "Document", "render_markdown",
           "render_html", "CSS", "BROWSERS", "find_browser", "write_pdf"]

PDF_TIMEOUT = 120.0
#: browsers that print HTML to PDF headless, in order of preference
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


# --------------------------------------------------------------------------- document blocks

class Block:
    """One piece of the document; each kind renders itself as Markdown and as HTML."""

    def markdown(self):
        """Lines of Markdown."""
        raise NotImplementedError

    def html(self):
        """A string of HTML."""
        raise NotImplementedError


class Heading(Block):
    """A heading; *page* starts a new printed page before it."""

    def __init__(self, level, text, anchor=None, page=False):
        self.level, self.text, self.anchor, self.page = level, text, anchor, page

    def markdown(self):
        return ["#" * self.level + " " + self.text, ""]

    def html(self):
        attrs = ' id="{}"'.format(escape(self.anchor)) if self.anchor else ""
        if self.page:
            attrs += ' class="page"'
        return "<h{l}{a}>{t}</h{l}>".format(l=self.level, a=attrs, t=escape(self.text))


class Paragraph(Block):
    """A paragraph of plain text (*css*: an optional class, e.g. 'note')."""

    def __init__(self, text, css=None):
        self.text, self.css = text, css

    def markdown(self):
        return [self.text, ""]

    def html(self):
        return "<p{}>{}</p>".format(' class="{}"'.format(self.css) if self.css else "", escape(self.text))


class Bullets(Block):
    """A bullet list; items are text, or (text, anchor) for a contents list of links."""

    def __init__(self, items, css=None):
        self.items, self.css = list(items), css

    def markdown(self):
        out = []
        for item in self.items:
            if isinstance(item, tuple):
                out.append("- [{}](#{})".format(item[0], item[1]))
            else:
                out.append("- " + item)
        return out + [""]

    def html(self):
        lis = []
        for item in self.items:
            if isinstance(item, tuple):
                lis.append('<li><a href="#{}">{}</a></li>'.format(escape(item[1]), escape(item[0])))
            else:
                lis.append("<li>{}</li>".format(escape(item)))
        return "<ul{}>{}</ul>".format(' class="{}"'.format(self.css) if self.css else "", "".join(lis))


def _md_cell(text):
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


class Table(Block):
    """A table; *numeric* flags right-aligned columns."""

    def __init__(self, headers, rows, numeric=None, css=None):
        self.headers = list(headers)
        self.rows = [[str(c) for c in r] for r in rows]
        self.numeric = list(numeric or [False] * len(self.headers))
        self.css = css

    def markdown(self):
        out = ["| " + " | ".join(_md_cell(h) for h in self.headers) + " |",
               "|" + "|".join("---:" if n else "---" for n in self.numeric) + "|"]
        out += ["| " + " | ".join(_md_cell(c) for c in r) + " |" for r in self.rows]
        return out + [""]

    def html(self):
        out = ["<table{}><thead><tr>".format(' class="{}"'.format(self.css) if self.css else "")
               + "".join("<th>{}</th>".format(escape(h)) for h in self.headers) + "</tr></thead><tbody>"]
        for r in self.rows:
            out.append("<tr>" + "".join('<td class="num">{}</td>'.format(escape(c)) if n else
                                        "<td>{}</td>".format(escape(c)) for c, n in zip(r, self.numeric)) + "</tr>")
        out.append("</tbody></table>")
        return "\n".join(out)


class Chart(Block):
    """An SVG chart: linked as a file in Markdown, inline in HTML."""

    def __init__(self, filename, svg, caption):
        self.filename, self.svg, self.caption = filename, svg, caption

    def markdown(self):
        return ["![{}]({})".format(self.caption.replace("]", ")"), self.filename), ""]

    def html(self):
        return "<figure>\n{}\n<figcaption>{}</figcaption>\n</figure>".format(self.svg.strip(), escape(self.caption))


class Section(Block):
    """Opens (*css* given) or closes (None) an HTML ``<section>``; nothing in Markdown."""

    def __init__(self, css=None):
        self.css = css

    def markdown(self):
        return []

    def html(self):
        return '<section class="{}">'.format(self.css) if self.css else "</section>"


class Document:
    """The report as a list of blocks, rendered by :func:`render_markdown` / :func:`render_html`."""

    def __init__(self):
        self.blocks = []

    def add(self, block):
        """Append *block*; returns it."""
        self.blocks.append(block)
        return block

    def h(self, level, text, anchor=None, page=False):
        """Append a heading."""
        return self.add(Heading(level, text, anchor, page))

    def p(self, text, css=None):
        """Append a paragraph."""
        return self.add(Paragraph(text, css))

    def ul(self, items, css=None):
        """Append a bullet list (nothing when *items* is empty)."""
        items = list(items)
        return self.add(Bullets(items, css)) if items else None

    def table(self, headers, rows, numeric=None, css=None):
        """Append a table."""
        return self.add(Table(headers, rows, numeric, css))

    def headings(self, max_level=3):
        """Headings with an anchor, for the contents list."""
        return [b for b in self.blocks if isinstance(b, Heading) and b.anchor and b.level <= max_level]


def render_markdown(doc):
    """The document as Markdown (charts linked as images)."""
    lines = []
    for block in doc.blocks:
        lines += block.markdown()
    return "\n".join(lines).rstrip() + "\n"


#: screen and print stylesheet: A4 and Letter both fit (the page box is the smaller of the two
#: in each direction: 210 mm x 11 in); no table or chart breaks; each test on a new page;
#: running page numbers in the bottom margin
CSS = """
body { font-family: "DejaVu Sans", Arial, sans-serif; color: #111; background: #fff; margin: 1.5em auto;
       max-width: 60em; padding: 0 1em; font-size: 11pt; line-height: 1.35; }
h1 { font-size: 1.7em; margin: 0 0 0.3em 0; } h2 { font-size: 1.3em; border-bottom: 1px solid #888; margin-top: 1.4em; }
h3 { font-size: 1.1em; margin-top: 1.1em; } h4 { font-size: 1em; margin: 0.9em 0 0.3em 0; }
table { border-collapse: collapse; margin: 0.5em 0 0.9em 0; font-size: 8.5pt; }
th, td { border: 1px solid #999; padding: 2px 5px; vertical-align: top; }
th { background: #e8e8e8; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
figure { margin: 0.8em 0; } figure svg { max-width: 100%; height: auto; }
figcaption { font-size: 0.85em; color: #333; }
p.note { font-size: 0.9em; color: #333; }
ul.contents { list-style: none; padding-left: 0; columns: 2; font-size: 0.95em; }
ul.contents a { color: #111; text-decoration: none; }
section.cover { padding-top: 3em; }
section.cover h1 { font-size: 2.2em; margin: 0 0 0.2em 0; padding-bottom: 0.3em; border-bottom: 3px solid #1f3b63;
                   color: #1f3b63; }
section.cover p.subtitle { font-size: 1.3em; color: #333; margin: 0.2em 0 1.6em 0; }
section.cover h2 { color: #1f3b63; border-bottom: 1px solid #1f3b63; margin-top: 1.6em; }
section.cover table { font-size: 10pt; width: 100%; }
section.cover p.note { margin-top: 1.2em; }
h2.page { color: #1f3b63; }
@page { size: 210mm 279mm; margin: 16mm 14mm 18mm 14mm;
        @bottom-center { content: counter(page) " / " counter(pages); font-family: "DejaVu Sans", Arial, sans-serif;
                         font-size: 8pt; color: #555; } }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 10pt; }
  .page { break-before: page; page-break-before: always; }
  table, figure, tr { break-inside: avoid; page-break-inside: avoid; }
  h2, h3, h4 { break-after: avoid; page-break-after: avoid; }
  section.cover { break-after: page; page-break-after: always; }
  a { color: inherit; text-decoration: none; }
}
"""


def render_html(doc, title, lang="en"):
    """The document as one self-contained XHTML-compatible page (charts inline)."""
    out = ['<!DOCTYPE html>', '<html xmlns="http://www.w3.org/1999/xhtml" lang="{}">'.format(lang), "<head>",
           '<meta charset="utf-8"/>', '<meta name="viewport" content="width=device-width, initial-scale=1"/>',
           "<title>{}</title>".format(escape(title)), "<style>{}</style>".format(CSS), "</head>", "<body>"]
    out += [block.html() for block in doc.blocks]
    out += ["</body>", "</html>", ""]
    return "\n".join(out)


# --------------------------------------------------------------------------- PDF

def find_browser(path=None):
    """The first headless-capable Chromium/Chrome on the PATH, or None."""
    for name in BROWSERS:
        found = shutil.which(name, path=path)
        if found:
            return found
    return None


def write_pdf(html_path, pdf_path, browser=None, timeout=PDF_TIMEOUT):
    """Print *html_path* to *pdf_path* with a headless Chromium (no header or footer: the page
    numbers come from the stylesheet).  Returns None on success, else a one-line reason."""
    browser = browser or find_browser()
    if browser is None:
        return "no Chromium or Chrome on the PATH"
    html_path, pdf_path = Path(html_path).resolve(), Path(pdf_path)
    tmp = pdf_path.with_name("." + pdf_path.name + ".part")
    profile = tempfile.mkdtemp(prefix="report-chromium-")
    argv = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--no-first-run", "--no-default-browser-check", "--user-data-dir=" + profile,
            "--no-pdf-header-footer", "--print-to-pdf-no-header", "--run-all-compositor-stages-before-draw",
            "--print-to-pdf=" + str(tmp), html_path.as_uri()]
    try:
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                              stdin=subprocess.DEVNULL)
        if not tmp.is_file() or tmp.stat().st_size == 0:
            tail = (proc.stderr or b"").decode("utf-8", "replace").strip().splitlines()
            return "{} exited {}{}".format(Path(browser).name, proc.returncode, ": " + tail[-1] if tail else "")
        os.replace(str(tmp), str(pdf_path))
        return None
    except subprocess.TimeoutExpired:
        return "{} did not finish within {:g} s".format(Path(browser).name, timeout)
    except OSError as exc:
        return "cannot run {}: {}".format(browser, exc.strerror or exc)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
        if tmp.exists():
            try:
                tmp.unlink()
            except OSError:
                pass
