"""The golden manifest: every output of the shipped studies is unchanged (tools/golden.py).

A change that alters an output on purpose updates ``tests/golden/manifest.json`` with
``python tools/golden.py --update`` in the commit that names the fix.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _golden():
    spec = importlib.util.spec_from_file_location("golden", ROOT / "tools" / "golden.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_outputs_match_the_golden_manifest(tmp_path):
    golden = _golden()
    expected = json.loads(golden.MANIFEST.read_text(encoding="utf-8"))
    actual = golden.manifest_of(golden.produce(tmp_path / "out"))
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
