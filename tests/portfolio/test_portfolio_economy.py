"""The portfolio sorts projects with a business case by net result per participant."""

from __future__ import annotations

from types import SimpleNamespace

from evaluation.portfolio.economy import economy_rows, economy_section


def _b(slug, net=None, saved=1000.0):
    h = {"saved_per_participant": saved}
    if net is not None:
        h.update({"net_per_participant": net, "net_per_participant_ci": [net - 5, net + 5], "p_pays": 0.5})
    econ = {"business_case": {"horizons": {"104": h, "52": {"saved_per_participant": -1.0}},
                              "cost_per_participant": 10.0 if net is not None else None},
            "perspective": "offentlig", "cost_source": None}
    return SimpleNamespace(study={"id": slug, "title": slug.upper()}, economy=econ)


def test_sorted_by_net_result_per_participant_best_first_and_without_cost_last():
    bundles = [_b("a", -300.0), _b("b", 200.0), _b("c", None, saved=5000.0), _b("d", 0.0), SimpleNamespace(study={"id": "e"}, economy=None)]
    rows = economy_rows(bundles)
    assert [r["id"] for r in rows] == ["b", "d", "a", "c"]
    assert all(r["horizon"] == 104 for r in rows)
    text = economy_section(bundles)
    assert text.index("[B]") < text.index("[D]") < text.index("[A]") < text.index("[C]")
    assert economy_section([bundles[-1]]) == ""
