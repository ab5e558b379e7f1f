"""No text cell copies a source: the package's prose is written in our own words.

`tests/fixtures/source_excerpts/<source_id>.txt` keeps the excerpts of sources
that curators read (from the search tool's stored copies) when they wrote rows
citing them, one file per `sources.source_id`. Every text cell of every table
in `data/` is compared with all of them:

* English: a run of COPY_WORDS (12) or more consecutive words identical to a
  run in an excerpt is copying. Words are compared case-insensitively, with
  curly quotes and apostrophes folded to straight ones and punctuation
  ignored, so re-punctuating a copied sentence does not hide it.
* Chinese: Chinese has no spaces, so a sliding window of COPY_HANZI (20)
  consecutive Chinese characters (punctuation, digits and Latin letters
  removed) identical to a window of an excerpt is copying. Twenty characters
  is about the length of a short clause; a shorter window would flag the
  long official names and terms the codebook allows verbatim. Excerpts kept in
  Traditional characters are converted to Simplified first (OpenCC t2s, as
  the text rules do), so transliteration does not hide a copy.

What may be taken verbatim is exempt, as the codebook says: names and titles
(columns `title`, `title_en`, `title_zh`, `name_en`, `name_zh`, `label_en`,
`label_zh`, `aliases`, `abbreviation`, `publisher`, `family_name_en`,
`given_name_en`), addresses (`url`, `website`), IDs and coded values (fields
with a `pattern` or an `enum`, and non-string fields), and in any cell a title
quoted in book-title marks 《…》. Everything else — summaries, statements,
notes, descriptions, date notes — is compared.
"""
from __future__ import annotations

import csv
import json
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import pytest

from conftest import ROOT

EXCERPTS = ROOT / "tests" / "fixtures" / "source_excerpts"
COPY_WORDS = 12
COPY_HANZI = 20
VERBATIM_COLUMNS = {"title", "title_en", "title_zh", "name_en", "name_zh", "label_en", "label_zh", "aliases",
                    "abbreviation", "publisher", "family_name_en", "given_name_en", "url", "website"}

_FOLD = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"})
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")
_BOOK_TITLE = re.compile(r"《[^》]*》")


def words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).translate(_FOLD).lower()
    return _WORD.findall(text)


@lru_cache(maxsize=1)
def _t2s():
    import opencc
    return opencc.OpenCC("t2s")


def hanzi(text: str) -> str:
    """The Chinese characters of `text`, in order, Simplified, without titles in 《》."""
    text = _BOOK_TITLE.sub(" ", unicodedata.normalize("NFKC", text))
    return "".join(_HAN.findall(_t2s().convert(text)))


def shingles(items, n: int) -> set:
    return {tuple(items[i:i + n]) for i in range(len(items) - n + 1)} if len(items) >= n else set()


def windows(chars: str, n: int) -> set:
    return {chars[i:i + n] for i in range(len(chars) - n + 1)} if len(chars) >= n else set()


class Excerpts:
    """The excerpts' English word runs and Chinese character windows, each mapped to its source."""

    def __init__(self, texts: dict[str, str]):
        self.english: dict[tuple, str] = {}
        self.chinese: dict[str, str] = {}
        for source_id, text in sorted(texts.items()):
            for run in shingles(words(text), COPY_WORDS):
                self.english.setdefault(run, source_id)
            for window in windows(hanzi(text), COPY_HANZI):
                self.chinese.setdefault(window, source_id)

    def copied(self, cell: str) -> list[str]:
        """One line per copied run found in `cell`: the source and the run."""
        found = []
        for run in shingles(words(_BOOK_TITLE.sub(" ", cell)), COPY_WORDS):
            if run in self.english:
                found.append(f"{self.english[run]}: {' '.join(run)}")
        for window in windows(hanzi(cell), COPY_HANZI):
            if window in self.chinese:
                found.append(f"{self.chinese[window]}: {window}")
        return found


@lru_cache(maxsize=1)
def excerpts() -> Excerpts:
    return Excerpts({p.stem: p.read_text(encoding="utf-8") for p in sorted(EXCERPTS.glob("*.txt"))})


def compared_columns(table: str) -> list[str]:
    schema = json.loads((ROOT / "schemas" / f"{table}.json").read_text(encoding="utf-8"))
    out = []
    for field in schema["fields"]:
        constraints = field.get("constraints", {})
        if field.get("type", "string") != "string" or "pattern" in constraints or "enum" in constraints:
            continue
        if field["name"] in VERBATIM_COLUMNS:
            continue
        out.append(field["name"])
    return out


def tables() -> list[str]:
    return sorted(p.stem for p in (ROOT / "data").glob("*.csv"))


# ---------------------------------------------------------------- the fixtures

def test_excerpts_are_kept_per_source():
    files = sorted(EXCERPTS.glob("*.txt"))
    assert len(files) >= 40
    with open(ROOT / "data" / "sources.csv", encoding="utf-8", newline="") as f:
        known = {row["source_id"] for row in csv.DictReader(f)}
    assert {p.stem for p in files} <= known, "an excerpt file must be named after a sources.source_id"
    for p in files:
        assert p.read_text(encoding="utf-8").strip(), p.name


def test_compared_columns_are_the_prose_ones():
    assert compared_columns("measures") == ["aspect_title_en", "summary_en", "notes"]
    assert "statement_en" in compared_columns("commitments") and "summary_en" in compared_columns("progress")
    assert "title" not in compared_columns("sources") and "notes" in compared_columns("sources")


# ---------------------------------------------------------------- the data

@pytest.mark.parametrize("table", tables())
def test_no_text_cell_copies_a_source_excerpt(table):
    columns = compared_columns(table)
    problems = []
    with open(ROOT / "data" / f"{table}.csv", encoding="utf-8", newline="") as f:
        for line, row in enumerate(csv.DictReader(f), start=2):
            for column in columns:
                for hit in excerpts().copied(row.get(column) or ""):
                    problems.append(f"data/{table}.csv:{line}:{column}: copied from {hit}")
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------- the test can fail

KNOWN_BAD_ENGLISH = ("Officials said the plan urges the head offices of commercial banks to increase their support "
                     "for the construction of Shanghai as an international financial center quickly.")
KNOWN_BAD_CHINESE = "报道称一是设立银行间市场交易报告库。高频汇集并系统分析银行间债券、货币、衍生品等数据。"


def test_a_copied_english_sentence_is_flagged():
    hits = excerpts().copied(KNOWN_BAD_ENGLISH)
    assert hits and hits[0].startswith("smm-nfra-shanghai-action-plan-release: ")


def test_punctuation_and_case_do_not_hide_a_copy():
    disguised = KNOWN_BAD_ENGLISH.upper().replace(" ", " , ")
    assert excerpts().copied(disguised)


def test_a_copied_chinese_clause_is_flagged():
    hits = excerpts().copied(KNOWN_BAD_CHINESE)
    assert hits and hits[0].startswith("xinhua-2025-06-18-pbc-eight-measures: ")


def test_traditional_characters_do_not_hide_a_copy():
    traditional = "報道稱一是設立銀行間市場交易報告庫。高頻匯集並系統分析銀行間債券、貨幣、衍生品等數據。"
    assert excerpts().copied(traditional)


def test_short_overlaps_and_quoted_titles_are_allowed():
    eleven = "head offices of commercial banks to increase their support for the"  # 11 words of the SMM text
    assert len(words(eleven)) == COPY_WORDS - 1 and not excerpts().copied(eleven)
    title = "据报道,两部门印发《关于支持上海国际金融中心建设行动方案》。"  # a title in 《》 may be quoted
    assert not excerpts().copied(title)
    assert not excerpts().copied("中国人民银行行长潘功胜宣布八项举措")  # fewer than 20 characters


def test_the_checker_flags_a_whole_bad_table(tmp_path):
    """End to end: a measures row whose summary is a copied sentence is reported with file, line and column."""
    bad = tmp_path / "measures.csv"
    with open(ROOT / "data" / "measures.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    rows[0]["summary_en"] = KNOWN_BAD_ENGLISH
    with open(bad, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    with open(bad, encoding="utf-8", newline="") as f:
        hits = [(line, column) for line, row in enumerate(csv.DictReader(f), start=2)
                for column in compared_columns("measures") if excerpts().copied(row.get(column) or "")]
    assert hits == [(2, "summary_en")]
