"""The golden manifest: every output of the shipped studies is unchanged (tools/golden.py).

The studies' results bundles are the ones the session already made (tests/conftest.py's rendered_tree, run with
tools/golden.py's key and date from a copy of studies/ and data/); the report projects, the portfolio's and the
diagnoses are made here by tools/golden.py, as ``python tools/golden.py`` makes them.

A change that alters an output on purpose updates ``tests/golden/manifest.json`` with
``python tools/golden.py --update`` in the commit that names the fix.
"""

from __future__ import annotations

import json

from conftest import EPOCH, GOLDEN_KEY, golden_tool as _golden


def test_outputs_match_the_golden_manifest(rendered_tree, tmp_path):
    golden = _golden()
    # the session's bundles were made as tools/golden.py makes them
    assert (GOLDEN_KEY, EPOCH) == (golden.KEY, golden.EPOCH)
    root = rendered_tree.root
    assert sorted(p.parent.name for p in golden.ROOT.glob("studies/*/study.yaml")) == list(rendered_tree.shipped)
    expected = json.loads(golden.MANIFEST.read_text(encoding="utf-8"))
    out = golden.produce(tmp_path / "out", studies_root=root / "studies", bundles=root / "results")
    actual = golden.manifest_of(out, root=root)
    differences = golden.compare(expected, actual)
    assert not differences, "outputs differ from tests/golden/manifest.json:\n" + "\n".join(differences)


def test_comparison_reports_every_kind_of_difference():
    golden = _golden()
    env = golden.environment()
    old = {"files": {"a": "1", "b": "2", "c": "3"}, "environment": {**env, "numpy": "0.0"}}
    new = {"files": {"a": "1", "b": "9", "d": "4"}, "environment": env}
    lines = golden.compare(old, new)
    assert "changed:     b" in lines and "missing now: c" in lines and "new output:  d" in lines
    assert any("numpy 0.0 ->" in line for line in lines)
    assert golden.compare(old, {"files": dict(old["files"]), "environment": env}) == []
    assert golden.json_differences({"x": [1, 2]}, {"x": [1, 3], "y": 0}) == [".x[1]: 2 -> 3", ".y: added"]
