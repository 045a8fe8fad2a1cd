"""The result vocabulary: tidy columns, JSON round trip, canonical bundle writing."""

import math

import pandas as pd

from evaluation.results import (COMPARISON_COLUMNS, TIDY_COLUMNS, EffectResult, Estimate, ScoreResult,
                                TargetResult, dumps_canonical, result_from_dict, write_json_atomic)


def _effect():
    return EffectResult(
        estimand="ATE", design="randomized_comparison", evidence_level=5, outcome_type="binary",
        estimates=(Estimate("difference_in_proportions", 0.1, 0.03, 3.3, 0.001, 0.04, 0.16, 600, "Newcombe", 300, 300),),
        tables={"groups": pd.DataFrame({"group": ["intervention", "control"], "n": [300, 300]})},
        diagnostics={"seed": 1, "nan": float("nan")},
    )


def test_tidy_columns_are_exact():
    assert list(_effect().tidy().columns) == list(COMPARISON_COLUMNS)
    score = ScoreResult(estimand="share", estimates=(Estimate("share_top_box", 0.5, n=10, method="Wilson"),))
    assert list(score.tidy().columns) == list(TIDY_COLUMNS)
    assert score.tidy()["n"].dtype == "int64"


def test_round_trip_through_json():
    r = _effect()
    back = result_from_dict(r.to_dict())
    assert isinstance(back, EffectResult) and back.evidence_level == 5 and back.outcome_type == "binary"
    pd.testing.assert_frame_equal(back.tidy(), r.tidy())
    pd.testing.assert_frame_equal(back.tables["groups"], r.tables["groups"])
    assert back.diagnostics["nan"] is None
    t = TargetResult(estimand="goal", estimates=(Estimate("level", float("nan")),), target_id="x", status="undecidable",
                     reason="no data")
    tb = result_from_dict(t.to_dict())
    assert tb.status == "undecidable" and math.isnan(tb.estimates[0].estimate)


def test_canonical_json_is_deterministic(tmp_path):
    a = dumps_canonical({"b": 1, "a": [1.5, float("nan")]})
    assert a == dumps_canonical({"a": [1.5, float("nan")], "b": 1})
    assert "NaN" not in a
    p = write_json_atomic(tmp_path / "x" / "r.json", {"k": "æøå"})
    assert "æøå" in p.read_text(encoding="utf-8")
    assert [f.name for f in p.parent.iterdir()] == ["r.json"]
