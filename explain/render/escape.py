"""The one escaper: user, model and tokenizer text made inert for each place it is
shown. Every renderer and every server message goes through here, so the character
sets cannot drift apart."""

from __future__ import annotations

import html as _html
import re
from pathlib import PurePath
from urllib.parse import quote

# Characters XML cannot carry (and lone surrogates): shown as U+FFFD (display only).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\ud800-\udfff]")
# Markdown's punctuation, backslash-escaped so that nothing becomes a link, emphasis,
# heading, list, table cell or code span. ':' and '@' too: GFM turns bare "https://...",
# "www...." and e-mail addresses into links ("https\://" and "a\@b" are plain text).
_MARKDOWN = "\\`*_{}[]()#+-.!|~:@"
_MD_TRANS = str.maketrans({ch: "\\" + ch for ch in _MARKDOWN})
# Terminal control characters (escape sequences a text could smuggle).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def html(text, quote: bool = True) -> str:
    """For HTML/XML element content and (quoted) attributes."""
    return _html.escape(_NOT_XML.sub("\ufffd", str(text)), quote=quote)


def markdown(text, inline: bool = False) -> str:
    """For Markdown that may also be rendered as HTML: punctuation backslash-escaped,
    then <, > and & as entities. ``inline``: newlines become spaces (table cells, one-line
    items)."""
    out = _NOT_XML.sub("\ufffd", str(text)).translate(_MD_TRANS)
    out = _html.escape(out, quote=False)  # after: the '#' of an entity must not be escaped
    return " ".join(out.splitlines()) if inline else out


# A spreadsheet reads a cell that starts with one of these as a formula (or, for tab and
# carriage return, strips them and reads what follows): "=HYPERLINK(...)", "+cmd|...".
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(text) -> str:
    """A table cell a spreadsheet may read (CSV; an HTML or Markdown table pasted into one):
    text that would start a formula gets a leading apostrophe, which spreadsheets show as
    text and never run. Only text that starts so is changed."""
    text = str(text)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def code(text) -> str:
    """For inside a Markdown code span: no backticks, HTML escaped."""
    return _html.escape(_NOT_XML.sub("\ufffd", str(text)).replace("`", "'"), quote=True)


def markdown_url(url: str) -> str:
    """A URL safe inside Markdown's (...): no spaces, parentheses or angle brackets."""
    return "".join(ch if ch not in " ()<>" else quote(ch) for ch in url)


def terminal(text) -> str:
    """Terminal-safe: control characters shown as '?'."""
    return _CONTROL.sub("?", str(text))


def shown_model(source) -> str:
    """A checkpoint as a reader should see it: a Hub ID as it is, a folder by its last name
    (a server path says nothing to a reader and leaks the server's layout). Not escaped."""
    source = str(source or "model")
    if source.startswith(("/", ".", "~")) or "\\" in source or source.count("/") > 1:
        source = PurePath(source).name or source
    return source
