"""Joined views for reading the tables together: names next to IDs.

    import sifc.views
    sifc.views.participants()   # event, person names (zh/en), title, institution names
    sifc.views.commitments()    # event, institution, speaker, themes, linked measures
    sifc.views.measures()       # document, aspect, themes, lead institutions

Each takes the dict `sifc.load_all()` returns (or loads it). List columns are
resolved to `; `-joined labels, in the order of their IDs.
"""
from __future__ import annotations

import pandas as pd

from .loader import load_all


def _tables(tables):
    return tables if tables is not None else load_all()


def _labels(ids, lookup: dict) -> str | None:
    if ids is None or (not isinstance(ids, tuple) and pd.isna(ids)):
        return None
    return "; ".join(str(lookup.get(i, i)) for i in ids)


def _lookup(frame: pd.DataFrame, key: str, value: str) -> dict:
    return dict(zip(frame[key], frame[value]))


def participants(tables=None) -> pd.DataFrame:
    t = _tables(tables)
    p = t["participants"]
    events = t["events"][["event_id", "name_en", "start_on"]].rename(
        columns={"name_en": "event_name_en", "start_on": "event_start_on"})
    people = t["people"][["person_id", "name_en", "name_zh"]].rename(
        columns={"name_en": "person_name_en", "name_zh": "person_name_zh"})
    inst = t["institutions"][["institution_id", "name_en", "name_zh", "abbreviation"]].rename(
        columns={"name_en": "institution_name_en", "name_zh": "institution_name_zh",
                 "abbreviation": "institution_abbreviation"})
    out = p.merge(events, on="event_id", how="left").merge(people, on="person_id", how="left") \
           .merge(inst, on="institution_id", how="left")
    return out[["event_id", "event_name_en", "event_start_on", "person_id", "person_name_en", "person_name_zh",
                "title_en", "title_zh", "role", "delivered_speech", "listed_order", "institution_id",
                "institution_name_en", "institution_name_zh", "institution_abbreviation"]]


def commitments(tables=None) -> pd.DataFrame:
    t = _tables(tables)
    c = t["commitments"]
    themes = _lookup(t["themes"], "theme_id", "label_en")
    measures = _lookup(t["measures"], "measure_id", "title_en")
    events = t["events"][["event_id", "name_en"]].rename(columns={"name_en": "event_name_en"})
    inst = t["institutions"][["institution_id", "name_en", "abbreviation"]].rename(
        columns={"name_en": "institution_name_en", "abbreviation": "institution_abbreviation"})
    people = t["people"][["person_id", "name_en", "name_zh"]].rename(
        columns={"name_en": "speaker_name_en", "name_zh": "speaker_name_zh"})
    out = c.merge(events, on="event_id", how="left").merge(inst, on="institution_id", how="left") \
           .merge(people, on="person_id", how="left")
    out["themes"] = pd.array([_labels(v, themes) for v in out["theme_ids"]], dtype="string")
    out["measures"] = pd.array([_labels(v, measures) for v in out["measure_ids"]], dtype="string")
    return out[["commitment_id", "event_id", "event_name_en", "institution_id", "institution_name_en",
                "institution_abbreviation", "person_id", "speaker_name_en", "speaker_name_zh", "listed_order",
                "statement_en", "kind", "theme_ids", "themes", "measure_ids", "measures"]]


def measures(tables=None) -> pd.DataFrame:
    t = _tables(tables)
    m = t["measures"]
    themes = _lookup(t["themes"], "theme_id", "label_en")
    inst = _lookup(t["institutions"], "institution_id", "name_en")
    docs = t["documents"][["document_id", "title_en"]].rename(columns={"title_en": "document_title_en"})
    events = t["events"][["event_id", "name_en"]].rename(columns={"name_en": "event_name_en"})
    people = t["people"][["person_id", "name_en"]].rename(
        columns={"person_id": "announced_by", "name_en": "announced_by_name_en"})
    out = m.merge(docs, on="document_id", how="left").merge(events, on="event_id", how="left") \
           .merge(people, on="announced_by", how="left")
    out["themes"] = pd.array([_labels(v, themes) for v in out["theme_ids"]], dtype="string")
    out["lead_institutions"] = pd.array([_labels(v, inst) for v in out["lead_institution_ids"]], dtype="string")
    return out[["measure_id", "document_id", "document_title_en", "event_id", "event_name_en", "aspect_no",
                "aspect_title_en", "measure_no", "listed_order", "title_en", "summary_en", "theme_ids", "themes",
                "lead_institution_ids", "lead_institutions", "announced_by", "announced_by_name_en",
                "implemented_on"]]
