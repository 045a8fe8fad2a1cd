"""The metric registry carries each metric's Danish label, so a metric registered later (by a researcher) is named in
the report's indicator table without a change to the report."""

from __future__ import annotations

import pandas as pd

from evaluation.metrics.registry import METRICS, metric_label_da, register_metric


def test_every_shipped_metric_says_how_it_is_measured():
    missing = [name for name, spec in METRICS.items() if not spec.label_da]
    assert not missing, f"metrics without label_da: {missing}"
    assert metric_label_da("benefit_dependency") == "Registerdata: andel af ugerne på offentlig forsørgelse"


def test_a_metric_registered_later_is_named_by_its_own_label(monkeypatch):
    monkeypatch.setattr("evaluation.metrics.registry.METRICS", dict(METRICS))

    @register_metric("visits_per_person", lambda **_: "antal besøg", outcome_type="continuous",
                     label_da="Projektets logbog: antal besøg pr. person")
    def _visits(sources, source: str = "participants") -> pd.Series:  # pragma: no cover - never computed here
        return sources[source]["visits"]

    assert metric_label_da("visits_per_person") == "Projektets logbog: antal besøg pr. person"

    @register_metric("unlabelled_count", lambda **_: "et tal")
    def _count(sources) -> pd.Series:  # pragma: no cover
        return pd.Series(dtype=float)

    assert metric_label_da("unlabelled_count") == "Beregnet mål (unlabelled count)"
    assert metric_label_da("no_such_metric").startswith("Beregnet mål (")
