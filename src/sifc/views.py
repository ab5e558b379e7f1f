"""Joined views for reading the tables together: names next to IDs.

    import sifc.views
    sifc.views.participants()   # event, person names (zh/en), title, institution names
    sifc.views.commitments()    # event, institution, speaker, themes, linked measures
    sifc.views.measures()       # document, aspect, themes, lead institutions
    sifc.views.current_status() # every measure and commitment with its current status

Each takes the dict `sifc.load_all()` returns (or loads it). List columns are
resolved to `; `-joined labels, in the order of their IDs. `measures()` and
`commitments()` end with the current status (`status`, `status_on`,
`status_progress_id`; see `current_status`).
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


#: the status of a measure or commitment that has no progress row
NO_EVIDENCE_RECORDED = "no-evidence-recorded"
STATUS_COLUMNS = ["status", "status_on", "status_progress_id"]


def evidence_order(progress: pd.DataFrame) -> pd.DataFrame:
    """The progress rows oldest first, so that the last row of a measure or
    commitment decides its current status: a row's date is `observed_on`,
    else `searched_on`; rows with neither come before every dated row; on
    the same date (or among undated rows) the greater `progress_id` comes
    later (the row listed later in the CSV, which is sorted by it)."""
    when = progress["observed_on"].where(progress["observed_on"].notna(), progress["searched_on"])
    order = pd.DataFrame({"dated": when.notna(), "when": when, "id": progress["progress_id"].astype(object)},
                         index=progress.index)
    order = order.sort_values(["dated", "when", "id"], na_position="first", kind="stable")
    out = progress.loc[order.index].copy()
    out["status_on"] = when.loc[order.index]
    return out


def current_status(tables=None) -> pd.DataFrame:
    """One row per measure and per commitment (`subject` is "measure" or
    "commitment", `subject_id` its ID): its current status, the status of
    its latest progress row (see `evidence_order`); `status_on`, that row's
    date (`observed_on`, else `searched_on`; empty for an undated row);
    `status_progress_id`, that row. A measure or commitment without any
    progress row has status "no-evidence-recorded" and nothing else: no
    one has recorded a search for it yet, which is not the same as a
    search that found nothing (`no-public-evidence`)."""
    t = _tables(tables)
    subjects = pd.concat([
        pd.DataFrame({"subject": "measure", "subject_id": t["measures"]["measure_id"].astype(object)}),
        pd.DataFrame({"subject": "commitment", "subject_id": t["commitments"]["commitment_id"].astype(object)}),
    ], ignore_index=True)
    progress = t.get("progress")
    if progress is None:
        progress = pd.DataFrame(columns=["progress_id", "measure_id", "commitment_id", "status", "observed_on",
                                         "searched_on"])
    ordered = evidence_order(progress)
    subject = pd.Series(["measure" if pd.notna(m) else "commitment" for m in ordered["measure_id"]],
                        index=ordered.index, dtype=object)
    subject_id = ordered["measure_id"].astype(object).where(ordered["measure_id"].notna(),
                                                            ordered["commitment_id"].astype(object))
    latest = pd.DataFrame({"subject": subject, "subject_id": subject_id,
                           "status": ordered["status"].astype(object),
                           "status_on": ordered["status_on"],
                           "status_progress_id": ordered["progress_id"].astype(object)})
    latest = latest[latest["subject_id"].notna()].drop_duplicates(["subject", "subject_id"], keep="last")
    out = subjects.merge(latest, on=["subject", "subject_id"], how="left")
    out["status"] = pd.array(out["status"].where(out["status"].notna(), NO_EVIDENCE_RECORDED), dtype="string")
    out["subject"] = pd.array(out["subject"], dtype="string")
    out["subject_id"] = pd.array(out["subject_id"], dtype="string")
    out["status_on"] = pd.to_datetime(out["status_on"]).astype("datetime64[ns]")
    out["status_progress_id"] = pd.array(out["status_progress_id"], dtype="string")
    return out[["subject", "subject_id", *STATUS_COLUMNS]]


def _with_status(out: pd.DataFrame, key: str, subject: str, tables) -> pd.DataFrame:
    """`out` with the current status of the measure or commitment in `key`."""
    status = current_status(tables)
    status = status[status["subject"] == subject]
    status = status.set_index(status["subject_id"].astype(object))
    ids = out[key].astype(object)
    for column in STATUS_COLUMNS:
        out[column] = status[column].reindex(ids).array
    return out


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
                "statement_en", "kind", "theme_ids", "themes", "measure_ids", "measures"]] \
        .pipe(_with_status, "commitment_id", "commitment", t)


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
                "implemented_on"]].pipe(_with_status, "measure_id", "measure", t)
