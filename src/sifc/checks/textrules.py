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
from functools import lru_cache
from typing import Callable

import numpy as np
import pandas as pd

from ..safetext import escape

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


class Column:
    """One column's present text cells, in the forms the rules need, each
    built once: the pyarrow array RE2 runs on, the Python strings, and the
    set of distinct characters that lets a rule skip a column which cannot
    break it (RE2's cost is mostly compiling big Unicode classes, paid per
    call, so skipping is what keeps many small columns cheap)."""

    def __init__(self, series: pd.Series):
        import pyarrow as pa
        self.values = [v if isinstance(v, str) else None for v in series.to_numpy(dtype=object)]
        self.arr = pa.array(self.values, type=pa.string())
        self._chars: frozenset | None = None

    def __len__(self) -> int:
        return len(self.values)

    @property
    def chars(self) -> frozenset:
        if self._chars is None:
            self._chars = frozenset("".join(v for v in self.values if v))
        return self._chars

    def may_hold(self, trigger: Callable[[str], bool]) -> bool:
        """Whether any non-ASCII character of the column passes `trigger`."""
        return any(trigger(c) for c in self.chars if not c.isascii())


def _bools(result) -> np.ndarray:
    import pyarrow.compute as pc
    return pc.fill_null(result, False).to_numpy(zero_copy_only=False).astype(bool, copy=False)


def _contains(col: Column, pattern: str) -> np.ndarray:
    import pyarrow.compute as pc
    return _bools(pc.match_substring_regex(col.arr, pattern))


def _fullmatch(col: Column, pattern: str) -> np.ndarray:
    import pyarrow.compute as pc
    return _bools(pc.match_substring_regex(col.arr, f"^(?:{pattern})$"))


def _not_nfc(col: Column) -> np.ndarray:
    import pyarrow.compute as pc
    if not col.may_hold(lambda c: True):  # ASCII is always NFC
        return np.zeros(len(col), dtype=bool)
    return ~_bools(pc.equal(pc.utf8_normalize(col.arr, form="NFC"), col.arr)) & _present(col)


def _present(col: Column) -> np.ndarray:
    return np.array([v is not None for v in col.values], dtype=bool)


def _traditional(col: Column) -> np.ndarray:
    values = [v or "" for v in col.values]
    if not values or not col.may_hold(lambda c: True):
        return np.zeros(len(values), dtype=bool)
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


def _re(pattern, trigger: Callable[[str], bool] | None = None):
    """A rule that is one RE2 search; with `trigger`, a (conservative) test
    of one non-ASCII character, the search runs only on columns holding a
    character that could match: the pattern cannot match ASCII text."""
    if trigger is None:
        return lambda col: _contains(col, pattern)
    return lambda col: _contains(col, pattern) if col.may_hold(trigger) else np.zeros(len(col), dtype=bool)


@lru_cache(maxsize=None)
def _category(ch: str) -> str:
    return unicodedata.category(ch)


def _invisible_trigger(ch: str) -> bool:
    # Python's Unicode tables may be older than RE2's: a character Python
    # calls unassigned ("Cn") is always searched, so skipping stays safe.
    return _category(ch) in ("Cf", "Zl", "Zp", "Co", "Cs", "Cn") or 0xFE00 <= ord(ch) <= 0xFE0F \
        or 0xE0100 <= ord(ch) <= 0xE01EF


def _mark_trigger(ch: str) -> bool:
    return _category(ch) in ("Mn", "Mc", "Me", "Cn")


def _space_trigger(ch: str) -> bool:
    return _category(ch) in ("Zs", "Zl", "Zp", "Cc", "Cn") or ch == "\x85"


def _letter_trigger(ch: str) -> bool:
    """A non-ASCII letter outside the blocks that hold only Han or Hangul
    letters: the only kind that can be of another script than Latin or CJK."""
    return (_category(ch) in ("Lu", "Ll", "Lt", "Lm", "Lo", "Cn")
            and not (0x3400 <= ord(ch) <= 0x4DBF or 0x4E00 <= ord(ch) <= 0x9FFF or 0xAC00 <= ord(ch) <= 0xD7AF
                     or ord(ch) >= 0x20000))


def _cjk_or_letter_trigger(ch: str) -> bool:
    """A character that could be CJK or a letter: anything but punctuation,
    spaces and controls below U+2E80, where the CJK blocks begin."""
    return ord(ch) >= 0x2E80 or _category(ch)[0] not in "PZC" or _category(ch) == "Cn"


def _range_trigger(low: int, high: int):
    return lambda ch: low <= ord(ch) <= high


GENERAL = [
    TextRule("control-character", _re(r"\p{Cc}"),
             lambda v: "contains a line break, tab or other control character; keep each cell on one line",
             supersedes=("whitespace",)),
    TextRule("invisible-character", _re(INVISIBLE, _invisible_trigger),
             lambda v: f"contains an invisible or format character ({_listing(_hidden_chars(v))}); delete it",
             supersedes=("whitespace", "not-nfc")),
    TextRule("non-ascii-space", _re(r"[^\P{Zs} ]", _space_trigger),
             lambda v: (f"contains a special space ({_listing(c for c in v if unicodedata.category(c) == 'Zs' and c != ' ')}); "
                        "use an ordinary space"),
             supersedes=("whitespace", "cjk-only")),
    TextRule("whitespace", _re(EDGE_SPACE), lambda v: "has leading or trailing whitespace"),
    TextRule("combining-marks", _re(r"^\p{M}|\p{M}{3,}", _mark_trigger),
             lambda v: "starts with a combining mark or stacks three or more; retype the accented letters",
             supersedes=("not-nfc",)),
    TextRule("cjk-compatibility", _re(CJK_COMPATIBILITY, lambda c: 0xF900 <= ord(c) <= 0xFAFF or 0x2F800 <= ord(c) <= 0x2FA1F),
             lambda v: (f"contains a CJK compatibility ideograph ({_listing(c for c in v if 0xF900 <= ord(c) <= 0xFAFF or 0x2F800 <= ord(c) <= 0x2FA1F)}); "
                        f"use the unified character: {escape(unicodedata.normalize('NFC', v))!r}"),
             supersedes=("not-nfc", "cjk-only", "traditional-chinese")),
    TextRule("not-nfc", _not_nfc,
             lambda v: "is not in Unicode NFC form (a letter and its accent typed separately); "
                       f"write it as {escape(unicodedata.normalize('NFC', v))!r}"),
    TextRule("mixed-script", lambda col: _mixed_script(col), explain_mixed_script),
    TextRule("na-value", lambda col: np.array([v in NA_STRINGS for v in col.values], dtype=bool),
             lambda v: f"{v!r} is read as a missing value by pandas and spreadsheets; leave the cell empty "
                       "if it is missing, or reword it"),
    TextRule("formula-injection",
             lambda col: _contains(col, FORMULA_START) & ~_fullmatch(col, PLAIN_NUMBER),
             lambda v: "starts with =, +, -, @, tab or CR, which a spreadsheet would run as a formula; reword it"),
    TextRule("email-address", _re(EMAIL),
             lambda v: "contains an e-mail address; personal contact data is never part of this dataset"),
    TextRule("phone-number", _re(PHONE),
             lambda v: "contains what looks like a phone number; personal contact data is never part of this dataset"),
    TextRule("url-credentials", _re(CREDENTIAL_URL),
             lambda v: "contains a URL carrying a user name, password or access token; remove the credentials",
             supersedes=("email-address",)),
]


def _mixed_script(col: Column) -> np.ndarray:
    """Cheap RE2 screen (a non-Latin, non-CJK letter at all), then the exact
    word-by-word test on the few cells it lets through."""
    out = np.zeros(len(col), dtype=bool)
    if not col.may_hold(_letter_trigger):
        return out
    suspect = _contains(col, OTHER_LETTER)
    for i in np.flatnonzero(suspect):
        text = col.values[i]
        for word in _words(text):
            scripts = {_script(c) for c in word if unicodedata.category(c).startswith("L")}
            if len(scripts - {"COMMON", "INHERITED", "HAN", "HIRAGANA", "KATAKANA", "HANGUL", "BOPOMOFO"}) > 1:
                out[i] = True
                break
    return out


def full_width_rule(cjk: bool) -> TextRule:
    if cjk:  # full-width punctuation is correct in Chinese; letters and digits are not
        return TextRule("full-width-ascii", _re(r"[\x{FF10}-\x{FF19}\x{FF21}-\x{FF3A}\x{FF41}-\x{FF5A}]", _range_trigger(0xFF10, 0xFF5A)),
                        lambda v: "contains full-width letters or digits; use ordinary ASCII ones")
    return TextRule("full-width-ascii", _re(r"[\x{FF01}-\x{FF5E}]", _range_trigger(0xFF01, 0xFF5E)),
                    lambda v: "contains full-width ASCII characters (Ａ１，…); use ordinary ASCII")


LATIN_ONLY = TextRule("latin-only", _re(rf"[{CJK_SCRIPTS}]|{OTHER_LETTER}", _cjk_or_letter_trigger), explain_latin_only,
                      supersedes=("mixed-script",))
CJK_ONLY = TextRule(
    "cjk-only", lambda col: (~_fullmatch(col, f"[{CJK_ALLOWED}]+") | ~_contains(col, HAN)) & _present(col),
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
    dtype): True where the cell breaks it, after superseded rules are dropped.
    Each rule judges a cell by its text alone, so the rules run once per
    distinct text (a large table repeats most of its texts) and the verdicts
    are spread back over the rows; a missing cell breaks nothing."""
    codes, distinct = pd.factorize(series)
    col = Column(pd.Series(distinct, dtype=object))
    found = {rule.name: rule.bad(col) for rule in rules}
    for rule in rules:
        for other in rule.supersedes:
            if other in found:
                found[other] = found[other] & ~found[rule.name]
    # code -1 (a missing cell) picks the appended False
    return {name: np.append(bad.astype(bool, copy=False), False)[codes] for name, bad in found.items()}


def cell_breaches(text: str, rules: list[TextRule]) -> list[tuple[str, str]]:
    """(rule, message) for each rule one cell breaks."""
    found = breaches(pd.Series([text], dtype="string"), rules)
    return [(rule.name, rule.explain(text)) for rule in rules if found[rule.name][0]]
