"""The rules every text cell obeys, by class of mistake rather than by example.

Each rule is one vectorised test over a column (RE2 through pyarrow, which is
linear-time whatever the cell holds) and a sentence that explains a failing
cell in words a contributor can act on. Character classes come from Unicode
itself (general categories and scripts as RE2 knows them, NFC from pyarrow's
utf8proc, look-alikes from Unicode's confusables table, Traditional
characters from OpenCC), never from hand-made lists.

A field's `sifc.script` narrows what it may hold: "cjk" is Simplified
Chinese only, "latin" is English only; other text may mix scripts, but no
single word may mix Latin with Cyrillic or Greek letters.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from .safetext import escape

#: what pandas' default read_csv turns into a missing value (its own list);
#: the README promises plain `pd.read_csv` reads every table correctly
try:
    from pandas._libs.parsers import STR_NA_VALUES as _PANDAS_NA
except ImportError:  # pragma: no cover - pandas moved it
    _PANDAS_NA = {"#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
                  "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"}
NA_STRINGS = frozenset(v for v in _PANDAS_NA if v)

CJK_SCRIPTS = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}\p{Bopomofo}"
#: a letter of neither Latin nor a CJK script: Cyrillic, Greek, Armenian, Cherokee…
OTHER_LETTER = rf"[^\P{{L}}\p{{Latin}}{CJK_SCRIPTS}]"
#: unassigned code points: in no category RE2 knows (it has no \p{{Cn}})
UNASSIGNED = r"[^\p{L}\p{M}\p{N}\p{P}\p{S}\p{Z}\p{C}]"
INVISIBLE = rf"[\p{{Cf}}\p{{Zl}}\p{{Zp}}\p{{Co}}\p{{Cs}}\x{{FE00}}-\x{{FE0F}}\x{{E0100}}-\x{{E01EF}}]|{UNASSIGNED}"
CJK_COMPATIBILITY = r"[\x{F900}-\x{FAFF}\x{2F800}-\x{2FA1F}]"
#: Simplified Chinese text: unified ideographs, CJK punctuation (not the
#: ideographic space), full-width punctuation, middle dot, dashes, ellipsis,
#: and Arabic digits (official names carry years)
CJK_ALLOWED = (r"\x{3400}-\x{4DBF}\x{4E00}-\x{9FFF}\x{20000}-\x{2A6DF}\x{2A700}-\x{2EBEF}\x{30000}-\x{3134F}"
               r"\x{3001}-\x{303F}\x{FF01}-\x{FF0F}\x{FF1A}-\x{FF20}\x{FF3B}-\x{FF40}\x{FF5B}-\x{FF65}"
               r"\x{00B7}\x{2014}\x{2026}0-9")
HAN = r"[\x{3400}-\x{4DBF}\x{4E00}-\x{9FFF}\x{20000}-\x{2A6DF}\x{2A700}-\x{2EBEF}\x{30000}-\x{3134F}]"
EDGE_SPACE = r"^[\s\p{Z}\x{85}\x{1C}-\x{1F}]|[\s\p{Z}\x{85}\x{1C}-\x{1F}]$"
FORMULA_START = r"^[=+\-@\t\r]"
PLAIN_NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
EMAIL = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
#: international numbers (+86 21 …), Chinese mobiles (138 1234 5678) and
#: landlines with a trunk prefix (021-61234567); year ranges such as
#: 2021-2025 and document numbers do not have these shapes
PHONE = (r"(?:^|[^0-9A-Za-z])(?:\+[0-9]{1,3}[ .\-]?(?:\(?[0-9]{1,4}\)?[ .\-]?)?[0-9]{2,5}(?:[ .\-]?[0-9]{2,5}){1,3}"
         r"|1[3-9][0-9][ \-]?[0-9]{4}[ \-]?[0-9]{4}"
         r"|\(?0[0-9]{2,3}\)?[ \-][0-9]{7,8}|0[0-9]{2,3}-[0-9]{7,8}"
         r"|tel:[0-9+])(?:$|[^0-9A-Za-z])")
CREDENTIAL_URL = (r"(?i)[a-z][a-z0-9+.\-]*://[^/\s?#@]+@"
                  r"|(?i)[?&#](?:access_token|api_?key|apikey|token|secret|password|passwd|pwd|auth|sig|signature"
                  r"|x-amz-signature|x-amz-credential|client_secret)=[^&\s]")


def _contains(series: pd.Series, pattern: str) -> np.ndarray:
    return series.str.contains(pattern, regex=True).fillna(False).to_numpy(dtype=bool)


def _fullmatch(series: pd.Series, pattern: str) -> np.ndarray:
    return series.str.fullmatch(pattern).fillna(False).to_numpy(dtype=bool)


def _not_nfc(series: pd.Series) -> np.ndarray:
    import pyarrow as pa
    import pyarrow.compute as pc
    arr = pa.array(series.to_numpy(dtype=object), type=pa.string())
    return ~pc.equal(pc.utf8_normalize(arr, form="NFC"), arr).to_numpy(zero_copy_only=False)


def _traditional(series: pd.Series) -> np.ndarray:
    values = list(series.to_numpy(dtype=object))
    if not values:
        return np.zeros(0, dtype=bool)
    converted = _simplified("\n".join(values)).split("\n")
    if len(converted) != len(values):  # a phrase that spans lines (never seen): cell by cell
        converted = [_simplified(v) for v in values]
    return np.array([a != b for a, b in zip(values, converted)], dtype=bool)


_CONVERTER = None


def _simplified(text: str) -> str:
    """OpenCC's Traditional-to-Simplified conversion (phrase-aware, so a
    character that is also correct Simplified in context is kept)."""
    global _CONVERTER
    if _CONVERTER is None:
        import opencc
        _CONVERTER = opencc.OpenCC("t2s")
    return _CONVERTER.convert(text)


# --- explanations: only for the cells that fail, so plain Python is fine ---

def _char_name(ch: str) -> str:
    return f"U+{ord(ch):04X} {unicodedata.name(ch, 'unassigned or private-use character')}"


def _listing(chars) -> str:
    seen = list(dict.fromkeys(chars))
    shown = ", ".join(_char_name(c) for c in seen[:3])
    return shown + (f" and {len(seen) - 3} more" if len(seen) > 3 else "")


def _hidden_chars(text: str) -> list[str]:
    return [c for c in text if unicodedata.category(c) in ("Cf", "Zl", "Zp", "Co", "Cs", "Cn")
            or 0xFE00 <= ord(c) <= 0xFE0F or 0xE0100 <= ord(c) <= 0xE01EF]


def _script(ch: str) -> str:
    from confusable_homoglyphs import categories
    return categories.alias(ch)


def _words(text: str) -> list[str]:
    out, word = [], []
    for ch in text:
        if unicodedata.category(ch)[0] in "LMN":
            word.append(ch)
        elif word:
            out.append("".join(word))
            word = []
    if word:
        out.append("".join(word))
    return out


def _foreign_letters(text: str) -> list[tuple[str, str]]:
    """(letter, script) of each letter that is neither Latin nor CJK."""
    cjk = {"HAN", "HIRAGANA", "KATAKANA", "HANGUL", "BOPOMOFO", "LATIN", "COMMON", "INHERITED"}
    return [(c, s) for c in text if unicodedata.category(c).startswith("L") and (s := _script(c)) not in cjk]


def _lookalike(ch: str) -> str:
    from confusable_homoglyphs import confusables
    found = confusables.is_confusable(ch, preferred_aliases=["latin"], greedy=True) or []
    for entry in found:
        for glyph in entry.get("homoglyphs", []):
            if glyph["c"].isascii():
                return f" (it looks like the Latin letter {glyph['c']!r})"
    return ""


def explain_mixed_script(text: str) -> str:
    for word in _words(text):
        scripts = {_script(c) for c in word if unicodedata.category(c).startswith("L")} - {"COMMON", "INHERITED"}
        if len(scripts - {"HAN", "HIRAGANA", "KATAKANA", "HANGUL", "BOPOMOFO"}) > 1:
            odd = [c for c, _ in _foreign_letters(word)]
            letter = odd[0] if odd else word[0]
            return (f"the word {escape(word)!r} mixes {' and '.join(sorted(s.title() for s in scripts))} letters: "
                    f"{_char_name(letter)}{_lookalike(letter)}; retype it with ordinary letters")
    return "a word mixes letters of different scripts; retype it with ordinary letters"


def explain_latin_only(text: str) -> str:
    cjk = [c for c in text if _script(c) in ("HAN", "HIRAGANA", "KATAKANA", "HANGUL", "BOPOMOFO")]
    if cjk:
        return (f"holds Chinese (or other CJK) characters ({escape(''.join(dict.fromkeys(cjk))[:10])}) in an "
                "English-only column; put Chinese text in the matching _zh column")
    letters = _foreign_letters(text)
    c, script = letters[0] if letters else (text[0], "another")
    return (f"holds {script.title()} letters in an English-only column: {_char_name(c)}{_lookalike(c)}; "
            "use Latin letters")


# --- the rules ----------------------------------------------------------------

@dataclass(frozen=True)
class TextRule:
    name: str
    #: True where the (present, string-dtype) cell breaks the rule
    bad: Callable[[pd.Series], np.ndarray]
    explain: Callable[[str], str]
    #: rules this one makes redundant on the same cell: one mistake, one finding
    supersedes: tuple[str, ...] = field(default=())


def _re(pattern):
    return lambda s: _contains(s, pattern)


GENERAL = [
    TextRule("control-character", _re(r"\p{Cc}"),
             lambda v: "contains a line break, tab or other control character; keep each cell on one line",
             supersedes=("whitespace",)),
    TextRule("invisible-character", _re(INVISIBLE),
             lambda v: f"contains an invisible or format character ({_listing(_hidden_chars(v))}); delete it",
             supersedes=("whitespace", "not-nfc")),
    TextRule("non-ascii-space", _re(r"[^\P{Zs} ]"),
             lambda v: (f"contains a special space ({_listing(c for c in v if unicodedata.category(c) == 'Zs' and c != ' ')}); "
                        "use an ordinary space"),
             supersedes=("whitespace", "cjk-only")),
    TextRule("whitespace", _re(EDGE_SPACE), lambda v: "has leading or trailing whitespace"),
    TextRule("combining-marks", _re(r"^\p{M}|\p{M}{3,}"),
             lambda v: "starts with a combining mark or stacks three or more; retype the accented letters",
             supersedes=("not-nfc",)),
    TextRule("cjk-compatibility", _re(CJK_COMPATIBILITY),
             lambda v: (f"contains a CJK compatibility ideograph ({_listing(c for c in v if 0xF900 <= ord(c) <= 0xFAFF or 0x2F800 <= ord(c) <= 0x2FA1F)}); "
                        f"use the unified character: {escape(unicodedata.normalize('NFC', v))!r}"),
             supersedes=("not-nfc", "cjk-only", "traditional-chinese")),
    TextRule("not-nfc", _not_nfc,
             lambda v: "is not in Unicode NFC form (a letter and its accent typed separately); "
                       f"write it as {escape(unicodedata.normalize('NFC', v))!r}"),
    TextRule("mixed-script", lambda s: _mixed_script(s), explain_mixed_script),
    TextRule("na-value", lambda s: s.isin(NA_STRINGS).to_numpy(dtype=bool),
             lambda v: f"{v!r} is read as a missing value by pandas and spreadsheets; leave the cell empty "
                       "if it is missing, or reword it"),
    TextRule("formula-injection",
             lambda s: _contains(s, FORMULA_START) & ~_fullmatch(s, PLAIN_NUMBER),
             lambda v: "starts with =, +, -, @, tab or CR, which a spreadsheet would run as a formula; reword it"),
    TextRule("email-address", _re(EMAIL),
             lambda v: "contains an e-mail address; personal contact data is never part of this dataset"),
    TextRule("phone-number", _re(PHONE),
             lambda v: "contains what looks like a phone number; personal contact data is never part of this dataset"),
    TextRule("url-credentials", _re(CREDENTIAL_URL),
             lambda v: "contains a URL carrying a user name, password or access token; remove the credentials",
             supersedes=("email-address",)),
]


def _mixed_script(series: pd.Series) -> np.ndarray:
    """Cheap RE2 screen (a non-Latin, non-CJK letter at all), then the exact
    word-by-word test on the few cells it lets through."""
    suspect = _contains(series, OTHER_LETTER)
    out = np.zeros(len(series), dtype=bool)
    for i in np.flatnonzero(suspect):
        text = series.iat[i]
        for word in _words(text):
            scripts = {_script(c) for c in word if unicodedata.category(c).startswith("L")}
            if len(scripts - {"COMMON", "INHERITED", "HAN", "HIRAGANA", "KATAKANA", "HANGUL", "BOPOMOFO"}) > 1:
                out[i] = True
                break
    return out


def full_width_rule(cjk: bool) -> TextRule:
    if cjk:  # full-width punctuation is correct in Chinese; letters and digits are not
        return TextRule("full-width-ascii", _re(r"[\x{FF10}-\x{FF19}\x{FF21}-\x{FF3A}\x{FF41}-\x{FF5A}]"),
                        lambda v: "contains full-width letters or digits; use ordinary ASCII ones")
    return TextRule("full-width-ascii", _re(r"[\x{FF01}-\x{FF5E}]"),
                    lambda v: "contains full-width ASCII characters (Ａ１，…); use ordinary ASCII")


LATIN_ONLY = TextRule("latin-only", _re(rf"[{CJK_SCRIPTS}]|{OTHER_LETTER}"), explain_latin_only,
                      supersedes=("mixed-script",))
CJK_ONLY = TextRule(
    "cjk-only", lambda s: ~_fullmatch(s, f"[{CJK_ALLOWED}]+") | ~_contains(s, HAN),
    lambda v: ("holds no Chinese character; write the name in Chinese or leave the cell empty"
               if not any(0x3400 <= ord(c) <= 0x9FFF or ord(c) >= 0x20000 for c in v) else
               "must hold only Simplified Chinese characters, CJK punctuation and digits (no Latin letters, "
               "spaces or pinyin)"),
    supersedes=("full-width-ascii",))
TRADITIONAL = TextRule(
    "traditional-chinese", _traditional,
    lambda v: (f"contains Traditional characters ({escape(v)} → {escape(_simplified(v))}); "
               "this column is Simplified Chinese"))


def rules_for(script: str | None) -> list[TextRule]:
    """The text rules of a column with this `sifc.script`."""
    rules = list(GENERAL) + [full_width_rule(script == "cjk")]
    if script == "cjk":
        rules += [CJK_ONLY, TRADITIONAL]
    elif script == "latin":
        rules.append(LATIN_ONLY)
    return rules


def breaches(series: pd.Series, rules: list[TextRule]) -> dict[str, np.ndarray]:
    """Per rule, a boolean array over `series` (present cells of string
    dtype): True where the cell breaks it, after superseded rules are dropped."""
    found = {rule.name: rule.bad(series) for rule in rules}
    for rule in rules:
        for other in rule.supersedes:
            if other in found:
                found[other] = found[other] & ~found[rule.name]
    return found


def cell_breaches(text: str, rules: list[TextRule]) -> list[tuple[str, str]]:
    """(rule, message) for each rule one cell breaks."""
    found = breaches(pd.Series([text], dtype="string"), rules)
    return [(rule.name, rule.explain(text)) for rule in rules if found[rule.name][0]]
