"""Small-cell suppression, complementary suppression and the log."""

import math

import pandas as pd
import pytest

from evaluation.disclosure import SuppressionLog, check_threshold, is_small, suppress_counts, suppress_share_rows
from evaluation.exceptions import DisclosureError


def test_threshold_rules():
    assert check_threshold(5) == 5
    for bad in (2, 0, 4.5):
        with pytest.raises(DisclosureError):
            check_threshold(bad)
    assert is_small(4, 5) and is_small(1, 5)
    assert not is_small(0, 5) and not is_small(5, 5) and not is_small(float("nan"), 5)


def test_counts_and_dependent_values_suppressed_with_complement():
    df = pd.DataFrame({"group": ["a", "b", "c", "d"], "n": [3, 40, 12, 30], "mean": [1.0, 2.0, 3.0, 4.0]})
    log = SuppressionLog(5)
    out = suppress_counts(df, table="t", count_columns=["n"], dependent={"n": ["mean"]}, label_column="group",
                          threshold=5, log=log)
    assert math.isnan(out.loc[0, "n"]) and math.isnan(out.loc[0, "mean"])
    # complementary: the next smallest (c, 12) is hidden so a cannot be recovered from the total
    assert math.isnan(out.loc[2, "n"]) and math.isnan(out.loc[2, "mean"])
    assert out.loc[1, "n"] == 40 and out.loc[3, "mean"] == 4.0
    assert df.loc[0, "n"] == 3, "input must not be modified"
    rows = {(e["row"], e["column"]) for e in log.to_list()}
    assert {("a", "n"), ("a", "mean"), ("c", "n"), ("c", "mean")} == rows


def test_share_rows_suppressed_when_implied_count_small():
    df = pd.DataFrame({"covariate": ["x", "y"], "share": [0.01, 0.5], "n": [300, 300], "smd": [0.1, 0.2]})
    log = SuppressionLog(5)
    out = suppress_share_rows(df, table="b", share_column="share", n_column="n", columns=["share", "smd"],
                              threshold=5, log=log, label_column="covariate")
    assert math.isnan(out.loc[0, "share"]) and math.isnan(out.loc[0, "smd"])
    assert out.loc[1, "share"] == 0.5
    assert len(log.to_list()) == 2
