"""The character screens that let a text rule skip a column are sound: every
character the rule's RE2 pattern can match passes the rule's screen, over the
whole of Unicode (so skipping a column never hides a breach)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from sifc.checks import textrules as tr

ALL_CHARS = [chr(c) for c in range(0x80, 0x110000) if not 0xD800 <= c <= 0xDFFF]

SCREENS = [
    ("invisible-character", tr.INVISIBLE, tr._invisible_trigger),
    ("non-ascii-space", r"[^\P{Zs} ]", tr._space_trigger),
    ("combining-marks", r"\p{M}", tr._mark_trigger),
    ("cjk-compatibility", tr.CJK_COMPATIBILITY, lambda c: 0xF900 <= ord(c) <= 0xFAFF or 0x2F800 <= ord(c) <= 0x2FA1F),
    ("mixed-script", tr.OTHER_LETTER, tr._letter_trigger),
    ("latin-only", rf"[{tr.CJK_SCRIPTS}]|{tr.OTHER_LETTER}", tr._cjk_or_letter_trigger),
    ("full-width-ascii (cjk)", r"[\x{FF10}-\x{FF19}\x{FF21}-\x{FF3A}\x{FF41}-\x{FF5A}]", tr._range_trigger(0xFF10, 0xFF5A)),
    ("full-width-ascii", r"[\x{FF01}-\x{FF5E}]", tr._range_trigger(0xFF01, 0xFF5E)),
]


@pytest.mark.parametrize("name,pattern,trigger", SCREENS, ids=[s[0] for s in SCREENS])
def test_screen_admits_every_character_the_pattern_matches(name, pattern, trigger):
    matched = pc.match_substring_regex(pa.array(ALL_CHARS), pattern).to_numpy(zero_copy_only=False)
    assert matched.any(), "the pattern matches nothing: the test would prove nothing"
    missed = [f"U+{ord(c):04X}" for c, hit in zip(ALL_CHARS, matched) if hit and not trigger(c)]
    assert not missed, f"{name}: the screen would skip a column holding {missed[:10]}"


def test_ascii_columns_skip_the_unicode_rules_and_still_catch_ascii_mistakes():
    col = pd.Series(["Plain text", " leading space", "NA", "=cmd()", "a@example.org"], dtype="string")
    found = tr.breaches(col, tr.rules_for("latin"))
    assert not found["invisible-character"].any() and not found["latin-only"].any()
    assert found["whitespace"].tolist() == [False, True, False, False, False]
    assert found["na-value"].tolist() == [False, False, True, False, False]
    assert found["formula-injection"].tolist() == [False, False, False, True, False]
    assert found["email-address"].tolist() == [False, False, False, False, True]


def test_one_bad_cell_among_clean_ones_is_found():
    clean = ["上海国际金融中心"] * 50
    for bad, rule in [("上海\u200b金融", "invisible-character"), ("上海國際", "traditional-chinese"),
                      ("\uf900金融", "cjk-compatibility"), ("上海\u3000金融", "non-ascii-space")]:
        found = tr.breaches(pd.Series(clean + [bad], dtype="string"), tr.rules_for("cjk"))
        assert np.flatnonzero(found[rule]).tolist() == [50], (bad, rule)


@pytest.mark.parametrize("script", ["latin", "cjk", None])
def test_a_column_is_judged_as_each_of_its_cells_alone(script):
    """`breaches` runs the rules once per distinct text and spreads the
    verdicts back: repeated texts, missing cells and their positions must
    come out as if every cell were judged by itself."""
    texts = ["Plain text", " leading space", "上海國際", "上海\u200b金融", "NA", "a@example.org", "Shanghai",
             "\uf900金融", "上海国际金融中心", "Ѕhanghai", "e\u0301", None]
    rng = np.random.default_rng(7)
    cells = [texts[i] for i in rng.integers(0, len(texts), 400)]
    rules = tr.rules_for(script)
    found = tr.breaches(pd.Series(cells, dtype="string"), rules)
    for i, cell in enumerate(cells):
        alone = set() if cell is None else {name for name, _ in tr.cell_breaches(cell, rules)}
        assert {name for name, bad in found.items() if bad[i]} == alone, (i, cell)
    assert any(bad.any() for bad in found.values()), "no cell broke a rule: the test would prove nothing"
