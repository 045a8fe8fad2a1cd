"""DREAM code lists: every group names its source and whether its codes were verified; the format is checked.

The shipped grouping (``data/codes/dream_benefit_groups.yaml``) is checked against what its
sources say (the DREAM code list of 2016 transcribed in github.com/LokeSonne/DREAM-CSV-til-JSON,
commit 5c8b8f4e): the codes below are the ones that source gives for each benefit.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from evaluation.data.registers import (
    CodeGroup,
    CodeList,
    default_code_list,
    groups_present,
    register_from_frame,
    unverified_code_note,
)
from evaluation.exceptions import DataValidationError

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "data" / "codes" / "dream_benefit_groups.yaml"


# ----------------------------------------------------------------------------- the shipped list
def test_every_shipped_group_names_its_source_and_verification():
    doc = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    for g in doc["groups"]:
        assert isinstance(g.get("source"), str) and len(g["source"].strip()) > 20, g["id"]
        assert isinstance(g.get("verified"), bool), g["id"]
    cl = default_code_list()
    assert all(g.source for g in cl.groups)
    # a group that is not verified says why, and nothing is marked uncertain in a comment instead
    assert all(g.note for g in cl.groups if not g.verified)
    assert "uncertain" not in SHIPPED.read_text(encoding="utf-8").lower()


def test_shipped_codes_are_the_documented_ones():
    cl = default_code_list()
    expected = {  # DREAM code list of 2016 ("Status fra DREAM dokumentation"), by benefit
        "a_dagpenge": [111, 112, 113, 114, 124, 125, 126, 211, 213, 214, 215, 216, 217, 218, 231, 232, 299],
        "kontanthjaelp": [130, 131, *range(133, 140), 730, 731, *range(733, 740)],
        "uddannelseshjaelp": [140, *range(143, 150), 720, *range(723, 730)],
        "integrationsydelse": [700, *range(703, 711), *range(713, 720)],
        "sygedagpenge": [774, 890, *range(893, 900)],
        "barselsdagpenge": [881],
        "jobafklaringsforloeb": [785],
        "ressourceforloeb": [810, *range(813, 819)],
        "revalidering": [750, *range(753, 759), 760, *range(763, 769)],
        "ledighedsydelse": [740, 741, *range(743, 749)],
        "fleksjob": [771],
        "foertidspension": [781, 783],
        "su": [651, 652, 661],
        "udvandret": [997],
        "folkepension": [998],
        "doed": [999],
    }
    for gid, codes in expected.items():
        assert cl.codes_of(gid) == sorted(codes), gid
    # documented codes that are employment, not a benefit, are left out on purpose (an unknown-code error)
    for code in (121, 122, 123, 511, 521, 522):
        assert code not in cl.code_to_group
    assert [g.id for g in cl.groups if g.category == "censoring"] == ["udvandret", "folkepension", "doed"]
    assert len({g.priority for g in cl.groups if g.category != "censoring"}) == len(
        [g for g in cl.groups if g.category != "censoring"])


def test_header_states_dreams_own_priority():
    text = SHIPPED.read_text(encoding="utf-8")
    assert "ONE code per person and week" in text and "overwrites" in text
    assert "version juni 2015" in text


# ----------------------------------------------------------------------------- the format
def _write(tmp_path: Path, groups: str) -> Path:
    f = tmp_path / "codes.yaml"
    f.write_text("version: test-1\ngroups:\n" + groups, encoding="utf-8")
    return f


GOOD = ("  - {id: a, label_da: Ydelse A, category: public_support, codes: ['1-3'], source: 'kodeliste 2024', "
        "verified: true, valid_years: [2014, null], note: 'fra udtrækket'}\n")


def test_new_fields_are_read(tmp_path):
    cl = CodeList.load(_write(tmp_path, GOOD))
    g = cl.group("a")
    assert (g.source, g.verified, g.valid_years, g.note) == ("kodeliste 2024", True, (2014, None), "fra udtrækket")
    assert cl.unverified_groups == []


@pytest.mark.parametrize("group,message", [
    ("  - {id: a, category: public_support, codes: [1], verified: true}\n",
     r"codes\.yaml:4: groups\[1\] \(id 'a'\): missing field\(s\) 'source'.*names the source"),
    ("  - {id: a, category: public_support, codes: [1], source: x}\n",
     r"codes\.yaml:4: groups\[1\] \(id 'a'\): missing field\(s\) 'verified'"),
    ("  - {id: a, category: public_support, codes: [1], source: x, verified: 'yes'}\n",
     r"\(id 'a'\): 'verified' must be true or false"),
    ("  - {id: a, category: public_support, codes: [1], source: '  ', verified: false}\n",
     r"\(id 'a'\): 'source' must name where the codes come from"),
    ("  - {id: a, category: public_support, codes: [1], source: x, verified: false, valid_years: [2016, 2014]}\n",
     r"\(id 'a'\): 'valid_years' must be \[first, last\]"),
    ("  - {id: a, category: public_support, codes: [1], source: x, verified: false, valid_years: 2016}\n",
     r"'valid_years' must be"),
    ("  - {id: a, category: public_support, codes: [1], source: x, verified: false, uncertain: true}\n",
     r"\(id 'a'\): unknown field\(s\) 'uncertain'"),
    ("  - {id: a, category: public_support, codes: [], source: x, verified: false}\n",
     r"'codes' must be a non-empty list"),
])
def test_bad_groups_name_file_line_and_group(tmp_path, group, message):
    # the bad group is the second one, on line 4 of the file
    f = _write(tmp_path, GOOD.replace("id: a,", "id: b,").replace("['1-3']", "[9]") + group)
    with pytest.raises(DataValidationError, match=message) as err:
        CodeList.load(f)
    assert f"{f}:4: groups[1] (id 'a')" in str(err.value)


def test_overrides_keep_sources_and_flags():
    cl = default_code_list()
    ov = cl.with_overrides({"730-731": "uddannelseshjaelp"})
    assert ov.group_of(730).id == "uddannelseshjaelp"
    assert [(g.source, g.verified) for g in ov.groups] == [(g.source, g.verified) for g in cl.groups]


# ----------------------------------------------------------------------------- helpers behind the report note
def _unverified_list() -> CodeList:
    groups = [CodeGroup("ok", "Ydelse OK", "public_support", False, 1, source="dok", verified=True),
              CodeGroup("gaet", "Ydelse gæt", "public_support", False, 2, source="gæt", verified=False),
              CodeGroup("ud", "Udvandret", "censoring", False, 0, source="dok", verified=True)]
    return CodeList(groups, {101: "ok", 201: "gaet", 202: "gaet", 204: "gaet", 997: "ud"}, version="t1")


def test_groups_present_and_note():
    cl = _unverified_list()
    p = register_from_frame(pd.DataFrame({"person": ["a", "b"], "week": ["2021-W01", "2021-W02"], "code": [101, 997]}),
                            layout="long", codes=cl)
    assert groups_present(p) == ["ok", "ud"]
    assert unverified_code_note(cl, groups_present(p)) is None
    note = unverified_code_note(cl, ["ok", "gaet"])
    assert note.startswith("Kodelisten t1: koderne for ydelsesgruppen «Ydelse gæt» (201–202, 204) er ikke efterprøvet")
    assert "codes:" in note and not re.search(r"\d+\.\d", note)


def test_groups_present_reads_every_cell():
    cl = _unverified_list()
    wide = pd.DataFrame({"person": ["a", "b"], "y_2101": [None, None], "y_2102": [None, 204]})
    assert groups_present(register_from_frame(wide, codes=cl)) == ["gaet"]
    assert groups_present(register_from_frame(wide.assign(y_2102=[np.nan, np.nan]), codes=cl)) == []
