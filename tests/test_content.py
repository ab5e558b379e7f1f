"""The curated facts of release 1, checked against the data itself."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

import sifc
from conftest import ROOT

TABLES = sifc.tables()


@pytest.fixture(scope="module")
def t():
    return sifc.load_all()


@pytest.mark.parametrize("table", TABLES)
def test_plain_pandas_reads_every_table(table):
    """pd.read_csv with no arguments: no BOM, a clean header, ISO dates."""
    raw = (ROOT / "data" / f"{table}.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf") and b"\r" not in raw
    df = pd.read_csv(ROOT / "data" / f"{table}.csv")
    schema = sifc.load(table).columns
    assert list(df.columns) == list(schema)
    for col in [c for c in df.columns if c.endswith("_on")]:
        parsed = pd.to_datetime(df[col].dropna(), format="%Y-%m-%d")
        assert len(parsed) == df[col].notna().sum()


def test_exactly_two_co_chairs_of_the_first_meeting(t):
    p = t["participants"]
    meeting = p[p.event_id == "sifc-mechanism-first-meeting-2025"]
    assert set(meeting[meeting.role == "co-chair"].person_id) == {"wang-jiang", "gong-zheng"}


def test_every_named_attendee_of_the_first_meeting(t):
    p = t["participants"]
    people = set(p[p.event_id == "sifc-mechanism-first-meeting-2025"].person_id)
    assert people == {"chen-jining", "wang-jiang", "pan-gongsheng", "li-yunze", "wu-qing", "gong-zheng",
                      "zhu-hexin", "xia-xiande", "lu-lei", "wu-wei", "hua-yuan"}
    speakers = set(p[(p.event_id == "sifc-mechanism-first-meeting-2025") & p.delivered_speech.fillna(False)].person_id)
    assert speakers == {"chen-jining", "wang-jiang", "pan-gongsheng", "li-yunze", "wu-qing", "gong-zheng", "zhu-hexin"}


def test_people_with_two_posts_have_two_rows(t):
    p = t["participants"]
    m = p[p.event_id == "sifc-mechanism-first-meeting-2025"]
    assert set(m[m.person_id == "zhu-hexin"].institution_id) == {"pbc", "safe"}
    assert set(m[m.person_id == "gong-zheng"].institution_id) == {"shanghai-government", "cpc-shanghai-committee"}


def test_official_titles_beat_the_seed(t):
    p = t["participants"].set_index(["event_id", "person_id", "institution_id"])
    m = "sifc-mechanism-first-meeting-2025"
    assert p.loc[(m, "zhu-hexin", "safe"), "title_en"].startswith("Administrator")
    assert p.loc[(m, "li-yunze", "nfra"), "title_en"].startswith("Minister")
    assert p.loc[(m, "wu-wei", "shanghai-government"), "title_en"] == "Executive Vice Mayor of Shanghai"
    assert p.loc[(m, "hua-yuan", "shanghai-government"), "title_en"] == "Vice Mayor of Shanghai"
    assert p.loc[("central-financial-institutions-symposium-2025", "he-lifeng", "cfc-office"), "role"] == "speaker"


def test_garbled_chinese_name_is_corrected(t):
    assert t["people"].set_index("person_id").loc["li-yunze", "name_zh"] == "李云泽"


def test_chinese_columns_are_simplified_chinese_only(t):
    from sifc.checks.textrules import cell_breaches, rules_for
    for name, frame in t.items():
        for col in [c for c in frame.columns if c.endswith("_zh")]:
            for value in frame[col].dropna():
                assert cell_breaches(value, rules_for("cjk")) == [], (name, col, value)


def test_no_seed_noise_or_personal_data_anywhere():
    noise = re.compile(r"resume captain|find top talent|@smm\.cn|lemonzhao|lemon zhao|salary negotiation|"
                       r"[\w.+-]+@[\w-]+\.[\w.]+|李云ze", re.I)
    for path in (ROOT / "data").glob("*.csv"):
        text = path.read_text(encoding="utf-8")
        assert not noise.search(text), (path.name, noise.search(text).group(0))


def test_dates_never_inferred(t):
    e = t["events"].set_index("event_id")
    meeting = e.loc["sifc-mechanism-first-meeting-2025"]
    assert pd.isna(meeting.start_on) and pd.isna(meeting.end_on) and "no source" in meeting.date_note
    assert (e.loc["lujiazui-forum-2025", ["start_on", "end_on"]] == pd.to_datetime(["2025-06-18", "2025-06-19"])).all()
    assert e.loc["central-financial-institutions-symposium-2025", "start_on"] == pd.Timestamp("2025-04-29")
    opinions = t["documents"].set_index("document_id").loc["cfc-opinions-sifc-2025"]
    assert pd.isna(opinions.issued_on) and opinions.date_note


def test_action_plan_document(t):
    d = t["documents"].set_index("document_id").loc["nfra-shanghai-sifc-action-plan-2025"]
    assert d.issued_on == pd.Timestamp("2025-06-18")
    assert (d.stated_part_count, d.stated_aspect_count, d.stated_measure_count) == (6, 5, 27)
    assert set(d.issuer_ids) == {"nfra", "shanghai-government"}
    assert "numbering" in d.notes


def test_action_plan_measures_unnumbered_under_five_aspects(t):
    m = t["measures"]
    ap = m[m.document_id == "nfra-shanghai-sifc-action-plan-2025"]
    assert set(ap.aspect_no) == {1, 2, 3, 4, 5}
    assert ap.measure_no.isna().all()  # the official numbering is not established


def test_forum_measures(t):
    m = t["measures"]
    pbc = m[(m.event_id == "lujiazui-forum-2025") & (m.announced_by == "pan-gongsheng")]
    csrc = m[(m.event_id == "lujiazui-forum-2025") & (m.announced_by == "wu-qing")]
    assert len(pbc) == 8 and len(csrc) >= 7  # the PBC's eight; the CSRC's "1+6" and its other announcements
    assert set(pbc.measure_no) == set(range(1, 9))


def test_five_major_tasks_themes(t):
    themes = t["themes"].set_index("theme_id")
    tasks = set(themes[themes.parent_id == "five-major-tasks"].index)
    assert tasks == {"technology-finance", "green-finance", "inclusive-finance", "pension-finance", "digital-finance"}


def test_themes_cover_every_measure_and_commitment(t):
    for table in ("measures", "commitments"):
        assert t[table].theme_ids.map(len).min() >= 1


def test_institution_structure(t):
    i = t["institutions"].set_index("institution_id")
    assert i.loc["safe", "parent_id"] == "pbc"
    assert i.loc["nfra-shanghai-office", "parent_id"] == "nfra"
    assert "shanghai-financial-office" in i.index and i.loc["shanghai-financial-office", "parent_id"] != "nfra"
    assert i.loc["pbc", "abbreviation"] == "PBC" and "PBOC" in i.loc["pbc", "aliases"]
    planned = set(i[i.status == "planned"].index)
    assert {"shanghai-financial-consumer-protection-center", "nfra-shanghai-data-sub-center"} <= planned


def test_commitments_one_row_per_pledge(t):
    c = t["commitments"]
    assert not c.duplicated(["event_id", "institution_id", "statement_en"]).any()
    chen = c[c.person_id == "chen-jining"]
    assert len(chen) == 4  # the twice-listed risk/offshore/tech list counts once
    assert not c.statement_en.str.contains("founders|techies|hotbed|what this means", case=False).any()  # outlet commentary is no pledge


def test_every_row_cites_existing_sources(t):
    known = set(t["sources"].source_id)
    for name, frame in t.items():
        if "source_ids" in frame:
            for ids in frame.source_ids:
                assert ids and set(ids) <= known, (name, ids)


def test_every_source_is_used(t):
    used = set()
    for frame in t.values():
        if "source_ids" in frame:
            used.update(x for ids in frame.source_ids for x in ids)
    assert set(t["sources"].source_id) == used


def test_rows_sorted_by_primary_key():
    for table in TABLES:
        frame = pd.read_csv(ROOT / "data" / f"{table}.csv", dtype=str, keep_default_na=False)
        pk = list(sifc.load(table).columns[:1]) if table != "participants" else ["event_id", "person_id", "institution_id"]
        keys = list(frame[pk].itertuples(index=False, name=None))
        assert keys == sorted(keys), table


# ---------------------------------------------------------------- release 1.1.0: corrections of the audit

PBC_OFFICIAL_ORDER = ["trade-repository", "digital-rmb-centre", "personal-credit-agency", "offshore-trade-pilot",
                      "free-trade-offshore-bonds", "ft-account-upgrade", "structural-tools-pilot", "rmb-fx-futures"]


def test_pbc_eight_measures_in_the_official_order(t):
    """Xinhua's dispatch lists the eight with ordinals: measure_no and listed_order follow it (1.0.0 had 5-7 wrong)."""
    m = t["measures"].set_index("measure_id")
    for number, slug in enumerate(PBC_OFFICIAL_ORDER, 1):
        row = m.loc[f"pbc-lujiazui-2025-{slug}"]
        assert (row.measure_no, row.listed_order) == (number, number), slug
        assert "xinhua-2025-06-18-pbc-eight-measures" in row.source_ids, slug


def test_chinese_names_of_the_forum_and_the_symposium(t):
    e = t["events"].set_index("event_id")
    assert e.loc["lujiazui-forum-2025", "name_zh"] == "2025陆家嘴论坛"
    assert e.loc["central-financial-institutions-symposium-2025", "name_zh"] == "驻沪中央金融机构支持上海建设国际金融中心座谈会"
    assert pd.isna(e.loc["sifc-mechanism-first-meeting-2025", "name_zh"])  # still in no source


def test_action_plan_chinese_title_as_the_sources_quote_it(t):
    d = t["documents"].set_index("document_id").loc["nfra-shanghai-sifc-action-plan-2025"]
    assert d.title_zh == "关于支持上海国际金融中心建设行动方案"
    assert "china-daily-2025-06-23-word-sifc" in d.source_ids and "的" in d.notes


def test_cfc_opinions_date_disagreement_is_recorded_not_resolved(t):
    d = t["documents"].set_index("document_id").loc["cfc-opinions-sifc-2025"]
    assert pd.isna(d.issued_on)
    assert "June 2025" in d.date_note and "29 April 2025" in d.date_note
    assert "china-daily-2025-06-23-word-sifc" in d.source_ids


def test_sources_found_later_are_filled(t):
    s = t["sources"].set_index("source_id")
    assert s.loc["smm-nfra-shanghai-action-plan-release", "url"].startswith("https://news.metal.com/newscontent/103382875/")
    assert not s.loc["pbc-cross-border-action-plan-notice", "title"].startswith("[")


# ---------------------------------------------------------------- release 1.1.0: founding and later documents

def test_founding_documents_form_a_timeline(t):
    d = t["documents"].set_index("document_id")
    assert d.loc["sifc-yrd-opinions-2020", "issued_on"] == pd.Timestamp("2020-02-14")
    assert d.loc["sifc-14th-five-year-plan-2021", "issued_on"] == pd.Timestamp("2021-07-28")
    assert d.loc["sifc-cross-border-services-plan-2025", "issued_on"] == pd.Timestamp("2025-04-21")
    # the State Council's 2009 opinions: adopted 25 March, presented 29 April; the document's own date is in no source
    sc = d.loc["state-council-sifc-opinions-2009"]
    assert pd.isna(sc.issued_on) and "25 March 2009" in sc.date_note and "29 April 2009" in sc.date_note
    assert sc.title_zh.startswith("国务院关于推进上海") and "国发〔2009〕19号" in sc.notes
    assert list(sc.issuer_ids) == ["state-council"]
    assert "沪府发〔2009〕25号" in d.loc["shanghai-implementing-opinions-2009", "notes"]


def test_stated_counts_of_the_new_documents(t):
    d = t["documents"].set_index("document_id")
    assert (d.loc["sifc-yrd-opinions-2020", "stated_measure_count"], d.loc["sifc-yrd-opinions-2020", "stated_aspect_count"]) == (30, 3)
    cb = d.loc["sifc-cross-border-services-plan-2025"]
    assert (cb.stated_measure_count, cb.stated_aspect_count) == (18, 5)
    assert set(cb.issuer_ids) == {"pbc", "nfra", "safe", "shanghai-government"}


def test_a_dissolved_issuer_is_a_row_of_its_own(t):
    """The CBIRC co-issued the 2020 Opinions and was not kept by the 2023
    reform: an institution with status dissolved (not folded into the NFRA,
    a new body), sourced for both facts, with no Chinese name guessed."""
    d = t["documents"].set_index("document_id").loc["sifc-yrd-opinions-2020"]
    assert set(d.issuer_ids) == {"pbc", "cbirc", "csrc", "safe", "shanghai-government"}
    cbirc = t["institutions"].set_index("institution_id").loc["cbirc"]
    assert (cbirc.abbreviation, cbirc.kind, cbirc.level, cbirc.status) == ("CBIRC", "regulator", "central", "dissolved")
    assert pd.isna(cbirc.name_zh)
    assert {"safe-2020-02-14-opinions-sifc-yrd", "peoples-daily-2023-03-07-nfra",
            "gov-cn-2023-05-18-nfra-established"} <= set(cbirc.source_ids)
    assert "18 May 2023" in cbirc.notes


def test_document_kinds_say_what_a_document_is(t):
    d = t["documents"].set_index("document_id")
    assert d.loc["sifc-14th-five-year-plan-2021", "kind"] == "plan"
    assert d.loc["ft-account-upgrade-rules-2025", "kind"] == "rules"


def test_only_verified_official_numbers_of_the_cross_border_plan(t):
    m = t["measures"]
    cb = m[m.document_id == "sifc-cross-border-services-plan-2025"].set_index("measure_id")
    assert dict(cb.measure_no.dropna()) == {"cb2025-a3-two-way-financing": 10, "cb2025-a3-blockchain-supply-chain-finance": 11}
    assert set(cb.aspect_no) <= {1, 2, 3, 4, 5} and len(cb) <= 18
    yrd = m[m.document_id == "sifc-yrd-opinions-2020"]
    assert yrd.measure_no.isna().all() and len(yrd) <= 30


def test_state_council_is_a_central_government_body(t):
    i = t["institutions"].set_index("institution_id").loc["state-council"]
    assert (i.name_zh, i.kind, i.level, i.status) == ("国务院", "government", "central", "active")


def test_later_and_earlier_sifc_documents(t):
    d = t["documents"].set_index("document_id")
    assert d.loc["sifc-action-plan-2018-2020", "issued_on"] == pd.Timestamp("2019-01-17")
    reins = d.loc["reinsurance-centre-opinions-2024"]
    assert pd.isna(reins.issued_on) and "August 2024" in reins.date_note and "金发〔2024〕16号" in reins.notes
    ft = d.loc["ft-account-upgrade-rules-2025"]
    assert list(ft.issuer_ids) == ["pbc-shanghai-head-office"] and pd.isna(ft.issued_on) and "November 2025" in ft.date_note


def test_chinese_titles_of_documents_are_known_for_nearly_all(t):
    """The GX suite requires 90%; the one gap is the 14th Five-Year Plan, whose Chinese title no source read gives."""
    d = t["documents"]
    assert set(d[d.title_zh.isna()].document_id) == {"sifc-14th-five-year-plan-2021"}


# ---------------------------------------------------------------- release 1.1.0: every regulator's forum announcements

def test_every_regulators_forum_announcements(t):
    m = t["measures"]
    forum = m[m.event_id == "lujiazui-forum-2025"]
    by = forum.groupby("announced_by").size().to_dict()
    assert by["pan-gongsheng"] == 8 and by["wu-qing"] == 9 and by["li-yunze"] == 2 and by["zhu-hexin"] == 3
    safe = forum[forum.announced_by == "zhu-hexin"].set_index("measure_id")
    for mid in ("safe-lujiazui-2025-rd-and-tech-financing-nationwide", "safe-lujiazui-2025-integrated-cash-pools-nationwide"):
        assert "nationwide" in safe.loc[mid, "notes"]  # announced in Shanghai, applied everywhere
    p = t["participants"]
    speakers = set(p[p.event_id == "lujiazui-forum-2025"].person_id)
    assert set(forum.announced_by) <= speakers


def test_the_csrc_qfii_pledge_links_to_its_forum_measure(t):
    c = t["commitments"].set_index("commitment_id")
    assert list(c.loc["mechanism-2025-csrc-qfii", "measure_ids"]) == ["csrc-lujiazui-2025-qfii-optimisation"]


def test_wikidata_ids_only_where_a_stored_page_shows_them(t):
    i = t["institutions"].set_index("institution_id")
    linked = i[i.wikidata_id.notna()]
    assert dict(linked.wikidata_id) == {"pbc": "Q249203", "state-council": "Q59261"}
    for ids in linked.source_ids:
        assert "spocwiki-china-wikidata-links" in ids
    assert t["people"].wikidata_id.isna().all()  # no stored page shows a person's Q-number beside the name


# ---------------------------------------------------------------- release 1.1.0: progress evidence

def test_every_tracked_measure_has_progress_evidence(t):
    """The PBC's eight, the CSRC's 1+6 and the Action Plan's 27 were each searched: a row says what was found, or that nothing was."""
    m, pr = t["measures"], t["progress"]
    tracked = set(m[m.measure_id.str.startswith("pbc-lujiazui-2025-")].measure_id)
    tracked |= set(m[m.document_id == "nfra-shanghai-sifc-action-plan-2025"].measure_id)
    tracked |= {"csrc-lujiazui-2025-star-growth-tier", "csrc-lujiazui-2025-professional-investors", "csrc-lujiazui-2025-ipo-pre-review",
                "csrc-lujiazui-2025-fifth-standard-frontier-fields", "csrc-lujiazui-2025-pre-listing-shareholder-financing",
                "csrc-lujiazui-2025-refinancing-strategic-investors", "csrc-lujiazui-2025-star-products-risk-tools"}
    assert len(tracked) == 8 + 27 + 7
    assert tracked <= set(pr.measure_id.dropna())


def test_no_public_evidence_rows_say_what_was_searched_and_when(t):
    pr = t["progress"]
    none = pr[pr.status == "no-public-evidence"]
    assert len(none) >= 26
    assert (none.searched_on == pd.Timestamp("2026-11-25")).all()
    assert none.observed_on.isna().all()
    assert none.summary_en.str.contains("searched", case=False).all()
    assert none.notes.str.contains("Quer").all()  # the queries are listed


def test_implemented_evidence_cites_official_or_news_and_follows_the_announcement(t):
    pr, s, m = t["progress"], t["sources"].set_index("source_id"), t["measures"].set_index("measure_id")
    ev = t["events"].set_index("event_id"); docs = t["documents"].set_index("document_id")
    for _, row in pr[pr.status == "implemented"].iterrows():
        assert {s.loc[x, "kind"] for x in row.source_ids} & {"official", "news"}, row.progress_id
    for _, row in pr[pr.observed_on.notna() & pr.measure_id.notna()].iterrows():
        meas = m.loc[row.measure_id]
        start = docs.loc[meas.document_id, "issued_on"] if pd.notna(meas.document_id) else ev.loc[meas.event_id, "start_on"]
        assert pd.isna(start) or row.observed_on >= start, row.progress_id


def test_dated_follow_ups_found_in_the_sources(t):
    pr = t["progress"].set_index("progress_id")
    assert pr.loc["csrc-lujiazui-2025-qfii-optimisation-work-plan", "observed_on"] == pd.Timestamp("2025-10-27")
    assert pr.loc["csrc-lujiazui-2025-star-growth-tier-first-listings", "observed_on"] == pd.Timestamp("2025-10-28")
    assert pr.loc["pbc-lujiazui-2025-personal-credit-agency-expected", "status"] == "announced"
    assert pr.loc["safe-lujiazui-2025-qdii-quotas-granted", "status"] == "implemented"
    assert pr.loc["mechanism-2025-csrc-qfii-work-plan", "commitment_id"] == "mechanism-2025-csrc-qfii"
