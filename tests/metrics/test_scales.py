"""Likert scales as data: the shipped brugermåling scale, YAML loading, custom scales, validation."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from evaluation.exceptions import StudyConfigError
from evaluation.metrics.scales import LikertScale, available_scales, get_scale

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_brugermaaling_scale_is_the_published_one():
    s = get_scale("brugermaaling-5")
    assert s.name == "brugermaaling-5"
    assert s.codes == (1, 2, 3, 4, 5)
    assert s.label_map == {
        5: "Ja, i høj grad",
        4: "Ja, i nogen grad",
        3: "Både-og",
        2: "Nej, kun i mindre grad",
        1: "Nej, slet ikke",
        9: "Ved ikke",
        8: "To krydser",
    }
    assert s.top_box == (4, 5)
    assert s.neutral == 3
    assert s.missing_codes == (9, 8)
    assert s.blank_label == "Ikke besvaret"
    assert s.version and "Aalborg" in s.source
    assert s.negative_codes == (1, 2) and s.positive_codes == (4, 5)
    assert s.higher_is_positive


def test_package_copy_and_data_copy_are_identical():
    pkg = ROOT / "evaluation" / "codes" / "scales" / "brugermaaling-5.yaml"
    data = ROOT / "data" / "codes" / "scales" / "brugermaaling-5.yaml"
    assert not pkg.is_symlink() and not data.is_symlink()
    assert pkg.read_bytes() == data.read_bytes()
    assert LikertScale.from_yaml(data) == get_scale("brugermaaling-5")


def test_available_scales_and_unknown_scale():
    assert "brugermaaling-5" in available_scales()
    with pytest.raises(StudyConfigError, match="brugermaaling-5"):
        get_scale("no-such-scale")


def test_scale_is_frozen_and_hashable():
    s = get_scale("brugermaaling-5")
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.top_box = (5,)  # type: ignore[misc]
    assert hash(s) == hash(get_scale("brugermaaling-5"))


def test_custom_seven_point_scale_and_reverse_keying():
    s = LikertScale.custom(
        "enig-7", codes=range(1, 8),
        labels={1: "Helt uenig", 2: "Uenig", 3: "Lidt uenig", 4: "Hverken eller", 5: "Lidt enig", 6: "Enig", 7: "Helt enig"},
        top_box=[7, 6], neutral=4, missing_codes={99: "Ved ikke"},
    )
    assert s.codes == tuple(range(1, 8))
    assert s.top_box == (6, 7)
    assert s.label(1) == "Helt uenig" and s.label(99) == "Ved ikke"
    assert [s.reverse_code(c) for c in s.codes] == [7, 6, 5, 4, 3, 2, 1]
    rev = s.reverse(pd.Series([1, 7, None, 4], dtype="Float64"))
    assert rev.tolist()[:2] == [7, 1] and pd.isna(rev.iloc[2]) and rev.iloc[3] == 4
    with pytest.raises(KeyError):
        s.reverse_code(99)


def test_scale_file_with_low_positive_pole(tmp_path):
    p = tmp_path / "omvendt.yaml"
    p.write_text(
        "name: omvendt-4\nversion: '1'\npositive_pole: low\n"
        "codes:\n  1: Meget godt\n  2: Godt\n  3: Dårligt\n  4: Meget dårligt\n"
        "top_box: [1, 2]\nmissing_codes:\n  0: Ved ikke\n",
        encoding="utf-8",
    )
    s = LikertScale.from_yaml(p)
    assert s.codes == (4, 3, 2, 1)  # negative -> positive pole
    assert not s.higher_is_positive
    assert s.top_box == (2, 1)
    # points rise towards the positive pole: "Meget godt" (1) scores 4
    assert s.points(pd.Series([1, 4, 0])).tolist()[:2] == [4.0, 1.0]
    assert pd.isna(s.points(pd.Series([0])).iloc[0])
    assert LikertScale.from_dict(s.to_dict()) == s


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(top_box=[3, 5]), "most positive codes"),
        (dict(top_box=[6]), "not codes of the scale"),
        (dict(neutral=4), "cannot be in the top box"),
        (dict(missing_codes={5: "Ved ikke"}), "both valid and missing"),
        (dict(labels=["a", "b"]), "5 codes but 2 labels"),
        (dict(top_box=[]), "top_box is empty"),
    ],
)
def test_invalid_custom_scale_is_a_named_error(kwargs, message):
    base = dict(name="x", codes=[1, 2, 3, 4, 5], labels=list("abcde"), top_box=[4, 5], neutral=3)
    base.update(kwargs)
    with pytest.raises(StudyConfigError, match=message):
        LikertScale.custom(**base)


def test_scale_file_errors_name_the_file(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("name: bad\ncodes: {1: a, 2: b}\ntop_box: [2]\nreversed: true\n", encoding="utf-8")
    with pytest.raises(StudyConfigError, match=r"bad\.yaml.*unknown field\(s\) reversed"):
        LikertScale.from_yaml(p)
    p.write_text("name: bad\ncodes: {1: a, 2: b}\n", encoding="utf-8")
    with pytest.raises(StudyConfigError, match="missing field"):
        LikertScale.from_yaml(p)
    with pytest.raises(StudyConfigError, match="cannot read"):
        LikertScale.from_yaml(tmp_path / "absent.yaml")
