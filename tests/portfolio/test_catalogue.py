"""The parsed project catalogue (KOU 1999–2006, LBR 2007–2011) and its link to studies."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from evaluation.portfolio.catalogue import (
    CATALOGUE_COLUMNS,
    CATALOGUE_CSV,
    SEED_PATH,
    link_studies,
    load_catalogue,
    parse_catalogue,
    parse_council_dates,
    parse_grant,
)
from evaluation.exceptions import DataValidationError

ROOT = Path(__file__).resolve().parents[2]
needs_seed = pytest.mark.skipif(not SEED_PATH.is_file(), reason=f"catalogue seed text not available at {SEED_PATH}")


@pytest.fixture(scope="module")
def cat() -> pd.DataFrame:
    return load_catalogue()


def entry(cat: pd.DataFrame, series: str, number: str) -> pd.Series:
    hits = cat[(cat["series"] == series) & (cat["number"] == number)]
    assert len(hits) == 1, f"{series} {number}: {len(hits)} rows"
    return hits.iloc[0]


# ---------------------------------------------------------------------------
# the shipped file
# ---------------------------------------------------------------------------


def test_columns_and_counts_by_series(cat):
    assert list(cat.columns) == list(CATALOGUE_COLUMNS)
    assert cat["series"].value_counts().to_dict() == {"KOU": 92, "LBR": 46}
    kou = cat[cat["series"] == "KOU"]["number"].tolist()
    lbr = cat[cat["series"] == "LBR"]["number"].tolist()
    assert kou[:10] == ["1", "2", "3", "4", "5", "6", "7", "8", "8a", "9"]
    assert lbr[0] == "97" and lbr[-1] == "142"
    # numbers the source skips are not invented, and list items inside an entry are not entries
    assert not {"16", "17", "63", "69", "91"} & set(kou)
    assert [int(n) for n in lbr] == list(range(97, 143))


def test_no_duplicate_series_number(cat):
    assert not cat.duplicated(["series", "number"]).any()


def test_dates_parse_and_lie_in_the_councils_years(cat):
    dated = cat[cat["council_date"] != ""]
    assert len(dated) == len(cat) - 7  # KOU 5, 7, 9, 11, 42, 51, 73 name no decision date
    parsed = pd.to_datetime(dated["council_date"], format="%Y-%m-%d")
    kou = parsed[dated["series"] == "KOU"]
    lbr = parsed[dated["series"] == "LBR"]
    assert kou.min() == pd.Timestamp("1999-04-29") and kou.max() <= pd.Timestamp("2006-12-31")
    assert lbr.min() == pd.Timestamp("2007-03-06") and lbr.max() == pd.Timestamp("2011-12-14")
    for _, row in dated.iterrows():
        all_dates = row["council_dates"].split(";")
        assert row["council_date"] == min(all_dates)


def test_lbr_126_socialmedicinsk_enhed(cat):
    e = entry(cat, "LBR", "126")
    assert e["operator"] == "Socialmedicinsk Enhed"
    assert e["title"] == "Arbejdsfastholdelse ved sygdom"
    assert e["council"] == "LBR"
    assert e["council_date"] == "2010-05-20"
    assert e["grant_dkk"] == 1_425_000
    assert e["grant_parse_note"] == ""
    assert "300 i kontrolgruppen" in e["target_group"]


def test_lbr_140_new_insight(cat):
    e = entry(cat, "LBR", "140")
    assert e["operator"] == "New Insight og Aalborg Universitet"
    assert e["title"] == "Udvikling af koncept for virkningsevaluering af fremtidige LBR-projekter"
    assert e["council_date"] == "2011-12-14"
    assert e["grant_dkk"] == 1_295_700
    assert "programteori" in e["content"]


def test_kou_1_team_43(cat):
    e = entry(cat, "KOU", "1")
    assert e["title"] == "Udvidelse af Team 43 med 4 fuldtidsansatte"
    assert e["operator"] == ""
    assert e["council"] == "KOU" and e["council_date"] == "1999-04-29"
    assert e["grant_dkk"] == 600_000
    assert e["note"] == "Projektet er afsluttet ved udgangen af 1999."
    assert e["target_group"].startswith("Medarbejdere i Team 43")


def test_multi_year_grants_are_summed(cat):
    # 95.000 (2005) + 396.000 (2006) + 306.000 (2007)
    assert entry(cat, "KOU", "79")["grant_dkk"] == 797_000
    # year-first lines: 2002 36.760 / 2003 15.000 / 2004 6.000
    assert entry(cat, "KOU", "50")["grant_dkk"] == 57_760
    # decimal kroner: 15.000 + 79.417,50
    assert entry(cat, "LBR", "137")["grant_dkk"] == pytest.approx(94_417.50)
    # a later council decision in the same text is added: 350.000 (2007) + 150.000 (2008)
    assert entry(cat, "LBR", "105")["grant_dkk"] == 500_000


def test_totals_with_breakdown_count_once(cat):
    assert entry(cat, "LBR", "98")["grant_dkk"] == 2_035_000  # I alt 2.035.000 (785.000 + 1.250.000)
    assert entry(cat, "LBR", "107")["grant_dkk"] == 770_000  # 770.000 (284.000 + 486.000)
    assert entry(cat, "KOU", "94")["grant_dkk"] == 650_000  # I alt 650.000 – hhv. 162.500 og 487.500
    e86 = entry(cat, "KOU", "86")
    assert e86["grant_dkk"] == 551_000
    assert "555.000" in e86["grant_parse_note"]


def test_conditions_and_cofunding_are_not_grant(cat):
    e = entry(cat, "LBR", "109")
    assert e["grant_dkk"] == 1_500_000  # not + 1.000.000 a year from Forebyggelsesfonden
    assert e["note"].startswith("Bevillingen forudsætter")
    assert "conditional" in e["grant_parse_note"]


def test_ambiguous_grants_are_flagged(cat):
    flagged = set(zip(cat.loc[cat["grant_parse_note"] != "", "series"], cat.loc[cat["grant_parse_note"] != "", "number"]))
    assert flagged == {("KOU", n) for n in ["5", "7", "9", "11", "23", "31", "42", "86", "87", "88", "93"]} | {("LBR", "109")}
    assert pd.isna(entry(cat, "KOU", "42")["grant_dkk"])  # 25.000 kr. per participant: no total
    assert entry(cat, "KOU", "23")["grant_dkk"] == 1_116_600 + 216_600 + 646_400 + 270_000 + 80_000 + 89_750


def test_operator_split_rules(cat):
    assert entry(cat, "KOU", "77")["operator"] == "Kvindemuseet"  # operator written last
    assert entry(cat, "KOU", "89")["operator"] == "FOA Fag & arbejde og Ældre- og Handicapforvaltningen i Aalborg Kommune"
    e86 = entry(cat, "KOU", "86")
    assert e86["operator"] == "Konsulentfirmaet Markman og SIND"
    assert e86["title"] == '"Arbejde med kvalitet - et projekt for sindslidende i Nordjylland"'
    assert entry(cat, "KOU", "4")["operator"] == ""  # 'Forsøg med Udrykningsteam - BST-kødbranchen'
    assert entry(cat, "LBR", "141")["operator"] == "Riksted effekten"


def test_numbered_items_inside_an_entry_stay_in_it(cat):
    assert "1. At sikre" in entry(cat, "LBR", "137")["content"]


def test_grand_total(cat):
    assert cat["grant_dkk"].sum() == pytest.approx(69_015_967.50)
    assert cat["grant_dkk"].isna().sum() == 5


@needs_seed
def test_shipped_csv_equals_a_fresh_parse_of_the_seed():
    pd.testing.assert_frame_equal(load_catalogue(), parse_catalogue(SEED_PATH))


@needs_seed
def test_table_of_contents_is_not_parsed_as_entries(tmp_path):
    text = SEED_PATH.read_text(encoding="utf-8")
    body_start = text.index("\nProjekter iværksat af Koordinationsudvalget\n")
    only_toc = tmp_path / "toc.txt"
    only_toc.write_text(text[:body_start], encoding="utf-8")
    with pytest.raises(DataValidationError, match="no catalogue entries"):
        parse_catalogue(only_toc)


def test_shipped_csv_is_utf8_with_danish_letters():
    raw = CATALOGUE_CSV.read_bytes()
    assert "Målgruppe".encode() not in raw[:200]  # header is the English column names
    assert "Ældre- og Handicapforvaltningen".encode("utf-8") in raw


# ---------------------------------------------------------------------------
# small parsers
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("KOU 29-04-99", [date(1999, 4, 29)]),
        ("KOU8-02-00, 02-05-00", [date(2000, 2, 8), date(2000, 5, 2)]),
        ("KOU 02.05.2000 og 20.06.2000", [date(2000, 5, 2), date(2000, 6, 20)]),
        ("KOU 19-04-2005 - pkt. 4", [date(2005, 4, 19)]),
        ("LBR 20. maj 2010", [date(2010, 5, 20)]),
        ("LBR d. 14. december 2011", [date(2011, 12, 14)]),
    ],
)
def test_parse_council_dates(text, expected):
    assert parse_council_dates(text) == expected


@pytest.mark.parametrize(
    "text, total, flag",
    [
        ("600.000,- kr. (KOU 29-04-99)", 600_000, ""),
        ("I alt, i perioden 1999-2001: 1.539.579,- kr. (KOU 29-04-99)", 1_539_579, ""),
        ("235.000,- kr. i 2000 - 154.590,- kr. i 2001 (KOU 23-11-00, 10-10-01, 11-12-01)", 389_590, ""),
        ("(KOU 05-02-2002)\nFase 0: 55.000 kr.\nFase 1: 435.000 kr.", 490_000, ""),
        ("31.500 i 2002 (KOU 29-08-2002)", 31_500, ""),
        ("Op til 120.000,- kr. (KOU 01-03-2001)", 120_000, "ceiling"),
        ("I alt 551.000 kr. (57.000 kr. i 2005 og 498.000 kr. i 2006)", 551_000, "breakdown"),
        ("(KOU 10-12-2002)", None, "no amount"),
    ],
)
def test_parse_grant(text, total, flag):
    value, note = parse_grant(text)
    assert value == total
    assert (flag in note) if flag else note == ""


# ---------------------------------------------------------------------------
# linking studies
# ---------------------------------------------------------------------------


def test_link_studies_finds_the_shipped_study(cat):
    links = link_studies(cat, ROOT / "studies")
    row = links[links["study_id"] == "arbejdsfastholdelse-ved-sygdom"].iloc[0]
    assert (row["series"], row["number"]) == ("LBR", "126")
    assert row["council_date"] == "2010-05-20" and bool(row["date_matches"])
    assert row["grant_dkk"] == row["budget_dkk"] == 1_425_000
    # studies without a catalogue_number are not linked
    assert set(links["study_id"]) <= {p.parent.name for p in (ROOT / "studies").glob("*/study.yaml")}


def _copy_study(tmp_path: Path, number: int | None, funder_name: str | None = None) -> Path:
    src = ROOT / "studies" / "arbejdsfastholdelse-ved-sygdom"
    dst = tmp_path / "studies" / src.name
    shutil.copytree(src, dst)
    text = (dst / "study.yaml").read_text(encoding="utf-8")
    text = text.replace("catalogue_number: 126", f"catalogue_number: {number}" if number is not None else "")
    if funder_name is not None:
        text = text.replace("name: Det Lokale Beskæftigelsesråd Aalborg", f"name: {funder_name}")
    (dst / "study.yaml").write_text(text, encoding="utf-8")
    return tmp_path / "studies"


def test_link_studies_uses_the_funders_series(cat, tmp_path):
    # number 1 exists only in the KOU series; an LBR-funded study cannot claim it
    root = _copy_study(tmp_path, 1)
    with pytest.raises(DataValidationError, match="not in the catalogue"):
        link_studies(cat, root)


def test_link_studies_reports_a_decision_date_mismatch(cat, tmp_path):
    root = _copy_study(tmp_path, 125)  # LBR 125 was decided 25 March 2010, the study says 20 May 2010
    row = link_studies(cat, root).iloc[0]
    assert row["number"] == "125" and not row["date_matches"]


def test_link_studies_skips_studies_without_a_number(cat, tmp_path):
    root = _copy_study(tmp_path, None)
    assert link_studies(cat, root).empty
