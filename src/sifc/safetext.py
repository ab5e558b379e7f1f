"""Text that cannot lie when printed: every value we echo back to a user
(a cell, a header name, a path from a descriptor, a library's message) passes
through here before it reaches a terminal, a workflow log, a Markdown step
summary or an HTML page.

A control character could move the cursor or recolour a terminal (ANSI
escapes), a line break could start a fake finding or a GitHub workflow
command (`::error::`, `::add-mask::`), and a bidi control or an invisible
character could make a value look like another. Each is shown as a visible
escape instead; ordinary text, Chinese included, is left as it is.
"""
from __future__ import annotations

import html
import unicodedata

#: categories never shown raw: controls, format characters (bidi controls,
#: zero-width characters, tag characters), line and paragraph separators,
#: surrogates, private use and unassigned code points
HIDDEN_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}
NAMED = {"\t": "\\t", "\r": "\\r", "\n": "\\n"}


def is_hidden(ch: str) -> bool:
    """True for a character that would not show as itself: controls, format
    and separator characters, non-ASCII spaces and variation selectors."""
    cat = unicodedata.category(ch)
    if cat in HIDDEN_CATEGORIES:
        return True
    if cat == "Zs" and ch != " ":
        return True
    code = ord(ch)
    return 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF  # variation selectors


def escape(text: object) -> str:
    """One line of text, with every hidden character as a visible escape
    (\\n, \\t, \\u200b, \\U000e0041). Safe to print anywhere."""
    s = text if isinstance(text, str) else str(text)
    if s.isascii() and s.isprintable():
        return s
    out = []
    for ch in s:
        if ch in NAMED:
            out.append(NAMED[ch])
        elif is_hidden(ch):
            code = ord(ch)
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            out.append(ch)
    return "".join(out)


def escape_lines(text: str) -> str:
    """A block of lines we wrote ourselves: the line breaks are kept, every
    other hidden character is escaped. A second line of defence behind the
    escaping of each value."""
    return "\n".join(escape(line) for line in text.split("\n"))


def escape_json(text: str) -> str:
    """JSON we serialised with ensure_ascii=False: separators, bidi and
    other format characters become \\u escapes (still the same JSON)."""
    if text.isascii():
        return text
    return "".join(_json_escape(ch) if ch != "\n" and is_hidden(ch) else ch for ch in text)


def _json_escape(ch: str) -> str:
    code = ord(ch)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000  # outside the BMP: a UTF-16 surrogate pair, as JSON spells it
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def markdown_cell(text: object) -> str:
    """A value inside a Markdown table cell of a GitHub step summary or PR
    comment: escaped, HTML-escaped and set in <code>, so no link, image,
    @mention, HTML tag or table pipe in a contributed cell takes effect."""
    s = escape(text)
    if not s:
        return ""
    return "<code>" + html.escape(s, quote=True).replace("|", "&#124;").replace("`", "&#96;") \
        .replace("@", "&#64;").replace("[", "&#91;").replace("]", "&#93;") + "</code>"


def markdown_text(text: object) -> str:
    """Our own words inside Markdown (a message that may quote a value):
    escaped and HTML-escaped, pipes and mentions neutralised."""
    return html.escape(escape(text), quote=False).replace("|", "&#124;").replace("@", "&#64;") \
        .replace("[", "&#91;").replace("]", "&#93;").replace("`", "&#96;")
