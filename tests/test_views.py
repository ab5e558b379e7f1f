"""Joined views: names next to IDs, one row per row of the base table."""
from __future__ import annotations

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
