"""Claim and capability text rendered the same way everywhere: inline code, escaping.

Catalog text may hold Markdown inline code (`` `.bin` ``, `` `<mask>` ``). Plain text keeps it as
written; Markdown keeps the code spans as code spans and escapes the rest; HTML turns them into
``<code>`` and escapes everything. The CLI (text, Markdown, HTML compare output) and the web
pages all go through these functions, so a claim reads the same in each.

Examples
--------
>>> to_markdown("fill `<mask>` *fast* <b>")
'fill `<mask>` \\\\*fast\\\\* &lt;b&gt;'
>>> str(to_html("fill `<mask>` & more"))
'fill <code>&lt;mask&gt;</code> &amp; more'
"""

from __future__ import annotations

import html
import re
from typing import Any

from markupsafe import Markup

__all__ = ["spans", "to_text", "to_markdown", "to_html", "without_controls"]

_CODE = re.compile(r"(`+)(.+?)\1", re.DOTALL)
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#])")


def spans(text: Any) -> list[tuple[bool, str]]:
    """``text`` cut into (is code, piece) pairs, whitespace runs folded to one space.

    Examples
    --------
    >>> spans("a `b` c")
    [(False, 'a '), (True, 'b'), (False, ' c')]
    """
    source = " ".join(str(text or "").split())
    out: list[tuple[bool, str]] = []
    pos = 0
    for match in _CODE.finditer(source):
        if match.start() > pos:
            out.append((False, source[pos:match.start()]))
        out.append((True, match.group(2).strip() or match.group(2)))
        pos = match.end()
    if pos < len(source):
        out.append((False, source[pos:]))
    return out


def to_text(text: Any) -> str:
    """Plain text: as written (backticks kept), whitespace folded."""
    return " ".join(str(text or "").split())


def to_markdown(text: Any) -> str:
    """Markdown: code spans kept (fenced with enough backticks), other text escaped.

    Raw HTML cannot survive: text outside code is HTML-escaped (``&lt;``), and Markdown shows a
    code span's content literally.
    """
    out = []
    for code, piece in spans(text):
        if code:
            longest = max((len(m) for m in re.findall(r"`+", piece)), default=0)
            fence = "`" * (longest + 1)
            pad = " " if piece.startswith("`") or piece.endswith("`") else ""
            out.append(f"{fence}{pad}{piece}{pad}{fence}")
        else:
            out.append(_MD_SPECIAL.sub(r"\\\1", html.escape(piece, quote=False)))
    return "".join(out)


def to_html(text: Any) -> Markup:
    """HTML: code spans as ``<code>``, everything escaped."""
    return Markup("".join(f"<code>{html.escape(piece, quote=False)}</code>" if code
                          else html.escape(piece, quote=False) for code, piece in spans(text)))


#: Control characters HTML does not allow in a document (C0 but for tab, newline, form feed and
#: carriage return; DEL; C1).
_NOT_HTML = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


def without_controls(value: Any) -> Any:
    """A value for an HTML page with the control characters HTML does not allow shown as U+FFFD
    (the ``finalize`` of every jinja2 environment that writes pages); escaped text stays escaped.

    Examples
    --------
    >>> without_controls("Bell\x07"), without_controls(Markup("<b>\x9b</b>")), without_controls(3)
    ('Bell\ufffd', Markup('<b>\ufffd</b>'), 3)
    """
    if isinstance(value, str) and _NOT_HTML.search(value):
        cleaned = _NOT_HTML.sub("\ufffd", value)
        return Markup(cleaned) if isinstance(value, Markup) else cleaned
    return value
