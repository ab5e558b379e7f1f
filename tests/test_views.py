"""Joined views: names next to IDs, one row per row of the base table."""
from __future__ import annotations

import sqlite3

import pandas as pd

import sifc
import sifc.views as views


def test_participants_view():
    v = views.participants()
    assert len(v) == len(sifc.load("participants"))
    row = v[(v.person_id == "zhu-hexin") & (v.institution_id == "safe")
            & (v.event_id == "sifc-mechanism-first-meeting-2025")].iloc[0]
    assert (row.person_name_zh, row.institution_abbreviation, row.title_zh) == ("朱鹤新", "SAFE", "国家外汇管理局局长")
    assert v.person_name_en.notna().all() and v.institution_name_en.notna().all()


def test_commitments_view():
    v = views.commitments()
    assert len(v) == len(sifc.load("commitments"))
    row = v[v.commitment_id == "mechanism-2025-csrc-fx-futures"].iloc[0]
    assert row.speaker_name_en == "Wu Qing" and row.institution_abbreviation == "CSRC"
    assert row.themes == "Foreign-exchange market" and row.measures == "Renminbi foreign-exchange futures"


def test_measures_view():
    v = views.measures()
    assert len(v) == len(sifc.load("measures"))
    fx = v[v.measure_id == "pbc-lujiazui-2025-rmb-fx-futures"].iloc[0]
    assert fx.lead_institutions == "People's Bank of China; China Securities Regulatory Commission"
    assert fx.event_name_en == "2025 Lujiazui Forum" and fx.announced_by_name_en == "Pan Gongsheng"
    ap = v[v.document_id == "nfra-shanghai-sifc-action-plan-2025"]
    assert ap.document_title_en.str.startswith("Action Plan").all() and ap.aspect_title_en.notna().all()


def _progress(*rows):
    columns = ["progress_id", "measure_id", "commitment_id", "status", "observed_on", "searched_on"]
    frame = pd.DataFrame([dict(zip(columns, r)) for r in rows], columns=columns)
    for c in ("observed_on", "searched_on"):
        frame[c] = pd.to_datetime(frame[c])
    return frame


#: (progress_id, measure_id, commitment_id, status, observed_on, searched_on)
CASES = _progress(
    ("m1-a", "m1", None, "announced", None, None),               # undated: older than any dated row
    ("m1-b", "m1", None, "implemented", "2025-09-01", None),      # the latest date decides
    ("m1-c", "m1", None, "in-progress", "2025-07-01", None),
    ("m2-a", "m2", None, "announced", None, None),               # all undated: the greater progress_id
    ("m2-b", "m2", None, "in-progress", None, None),
    ("m3-a", "m3", None, "implemented", "2025-07-01", None),      # same date: the greater progress_id
    ("m3-b", "m3", None, "reversed", "2025-07-01", None),
    ("m4-a", "m4", None, "no-public-evidence", None, "2026-01-10"),  # a search is dated by searched_on
    ("m4-b", "m4", None, "announced", "2025-06-18", None),
    ("m6-a", "m6", None, "partly-implemented", "2025-07-01", "2026-02-01"),  # observed_on before searched_on
    ("m6-b", "m6", None, "implemented", "2025-08-01", None),
    ("c1-a", None, "c1", "partly-implemented", "2025-06-20", None),
)
EXPECTED = {  # subject_id -> (status, status_on, deciding row)
    "m1": ("implemented", "2025-09-01", "m1-b"), "m2": ("in-progress", None, "m2-b"),
    "m3": ("reversed", "2025-07-01", "m3-b"), "m4": ("no-public-evidence", "2026-01-10", "m4-a"),
    "m5": ("no-evidence-recorded", None, None), "m6": ("implemented", "2025-08-01", "m6-b"),
    "c1": ("partly-implemented", "2025-06-20", "c1-a"), "c2": ("no-evidence-recorded", None, None),
}


def _plain(v):
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    return v.strftime("%Y-%m-%d") if hasattr(v, "strftime") else str(v)


def test_current_status_is_the_status_of_the_latest_evidence():
    tables = {"measures": pd.DataFrame({"measure_id": ["m1", "m2", "m3", "m4", "m5", "m6"]}),
              "commitments": pd.DataFrame({"commitment_id": ["c1", "c2"]}),
              "progress": CASES.sample(frac=1, random_state=3)}  # the rule does not depend on row order
    got = views.current_status(tables)
    assert list(got.columns) == ["subject", "subject_id", "status", "status_on", "status_progress_id"]
    assert list(got.subject) == ["measure"] * 6 + ["commitment"] * 2
    assert {r.subject_id: (r.status, _plain(r.status_on), _plain(r.status_progress_id))
            for r in got.itertuples()} == EXPECTED


def test_the_sqlite_view_derives_the_same_current_status():
    from sifc.publish.build import CURRENT_STATUS
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE measures (measure_id TEXT)")
    db.execute("CREATE TABLE commitments (commitment_id TEXT)")
    db.execute("CREATE TABLE progress (progress_id TEXT, measure_id TEXT, commitment_id TEXT, status TEXT, "
               "observed_on TEXT, searched_on TEXT)")
    db.executemany("INSERT INTO measures VALUES (?)", [(m,) for m in ["m1", "m2", "m3", "m4", "m5", "m6"]])
    db.executemany("INSERT INTO commitments VALUES (?)", [("c1",), ("c2",)])
    db.executemany("INSERT INTO progress VALUES (?, ?, ?, ?, ?, ?)",
                   [tuple(_plain(v) for v in r) for r in CASES.sample(frac=1, random_state=5).itertuples(index=False)])
    got = db.execute(CURRENT_STATUS).fetchall()
    assert [r[0] for r in got] == ["measure"] * 6 + ["commitment"] * 2
    assert {r[1]: r[2:] for r in got} == EXPECTED


def test_views_carry_the_current_status_of_the_package():
    tables = sifc.load_all()
    status = views.current_status(tables)
    assert len(status) == len(tables["measures"]) + len(tables["commitments"])
    assert not status.duplicated(["subject", "subject_id"]).any()
    vocabulary = set(sifc.load("progress").status.cat.categories) | {views.NO_EVIDENCE_RECORDED}
    assert set(status.status) <= vocabulary
    for view, subject, key in [(views.measures(tables), "measure", "measure_id"),
                               (views.commitments(tables), "commitment", "commitment_id")]:
        assert list(view.columns[-3:]) == ["status", "status_on", "status_progress_id"]
        mine = status[status.subject == subject].set_index("subject_id")
        for row in view.itertuples():
            assert (row.status, _plain(row.status_on), _plain(row.status_progress_id)) == \
                tuple(_plain(v) for v in mine.loc[getattr(row, key), ["status", "status_on", "status_progress_id"]])
    progress = tables["progress"]
    for row in status[status.status_progress_id.notna()].itertuples():  # the deciding row is about it
        decided = progress[progress.progress_id == row.status_progress_id].iloc[0]
        about = decided.measure_id if isinstance(decided.measure_id, str) else decided.commitment_id
        assert row.subject_id == about and row.status == decided.status
    recorded = set(progress.measure_id.dropna()) | set(progress.commitment_id.dropna())
    assert set(status[status.status == views.NO_EVIDENCE_RECORDED].subject_id).isdisjoint(recorded)
