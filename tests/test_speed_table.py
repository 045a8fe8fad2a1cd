"""tools/speed_table.py: README's speed table generated from the benchmarks' JSON results.

The fixtures are written with the benchmarks' own recorder (benchmarks/_record.py), so the
format the benchmarks write is the format the generator reads.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


st = _load("speed_table", ROOT / "tools" / "speed_table.py")
rec = _load("_record", ROOT / "benchmarks" / "_record.py")
ours, peer = rec.ours, rec.peer

M1 = {"persons": 1_000_000, "weeks": 260}


def _write(d: Path, name: str, fill) -> None:
    r = rec.Recorder(name)
    fill(r)
    r.finish(d / f"{name}.json")


def fixture_results(d: Path, *, numpy_bd=0.171, twfe_agree=True) -> Path:
    """A complete results directory with round, known numbers."""

    def metrics(r):
        r.add("benefit_dependency_1_52", "bd", M1, ours(0.161, 0.0351),
              [peer("tight numpy kernel", numpy_bd, version_="2.0", agree=True, max_abs_diff=0.0, peak_gib=0.035)])
        for i, k in enumerate(st.OTHER_WINDOW_METRICS):
            r.add(k, k, M1, ours(0.05 + 0.1 * i, 0.02 + 0.005 * i), [peer("numpy", 0.1 + 0.1 * i, agree=True)])
        r.add("long_term_unemployment", "ltu", M1, ours(0.322, 0.243), [peer("numpy", 0.626, agree=True)])
        r.add("benefit_dependency_polars", "pl", M1, ours(0.31), [peer("polars", 4.42, version_="2.1.0", agree=True)])
        r.add("benefit_dependency_pandas", "pd", {"persons": 100_000, "weeks": 260}, ours(0.016),
              [peer("pandas", 3.07, version_="3.1.1", agree=True, peak_gib=0.884)])

    def streaming(r):
        sizes = {"persons": 4_000_000, "weeks": 780, "cap_gib": 1.5, "dense_uint8_gib": 2.906, "pandas_wide_float64_gib": 23.25}
        r.add("stream_benefit_dependency", "stream", sizes, ours(65.4, 1.031),
              [peer("in-memory reference", None, agree=True, max_abs_diff=0.0),
               peer("read_register in memory on the big file under the same cap", None, failed="MemoryError")])

    def dask(r):
        z = {"persons": 1_000_000, "weeks": 260, "workers": 2}
        r.add("dask_default_env", "d1", z, ours(0.20, 0.8, first_call_s=5.7, dask="2026.1.0"),
              [peer("in process, idle", 0.17, agree=True), peer("in process, interleaved", 0.18, agree=True)])
        r.add("dask_trim_unset", "d2", z, ours(0.13, 0.75, first_call_s=4.6, dask="2026.1.0"),
              [peer("in process, idle", 0.17, agree=True), peer("in process, interleaved", 0.16, agree=True)])

    def twfe(r):
        z = {"persons": 100_000, "weeks": 104}
        for k, o, t in (("static_balanced", 0.84, 9.88), ("static_unbalanced", 1.9, 7.9), ("event_study", 3.7, 27.4)):
            r.add(k, k, z, ours(o, 1.0), [peer("pyfixest", t, version_="0.30.0", agree=twfe_agree,
                                               max_abs_diff=3e-16 if twfe_agree else 0.01)], terms=12)

    def cs(r):
        r.add("cs_no_covariates", "cs", {"persons": 100_000, "weeks": 104, "cohorts": 52},
              ours(4.3, 1.78, bootstrap_999_s=7.0),
              [peer("pandas loop", 26.9, agree=True, max_abs_diff=1.2e-14, max_abs_att_diff=1.2e-14, max_abs_se_diff=2.1e-16)])

    def survival(r):
        z = {"persons": 1_000_000, "weeks": 260, "horizon": 156}
        base = peer("bd 1-156", 1.06)
        r.add("km", "km", z, ours(0.87, 0.05), [base])
        r.add("rmst", "rmst", z, ours(1.19, 0.06),
              [base, peer("lifelines", 0.25, version_="0.30.0", agree=True, max_abs_diff=0.0)])
        r.add("cum4", "c4", z, ours(1.07, 0.072), [base])
        r.add("cum1", "c1", z, ours(1.13, 0.07), [base])

    def cs_cov(r):
        z = {"persons": 100_000, "weeks": 104, "cohorts": 52}
        for m, o, t, ok in (("reg", 10.7, 44.0, True), ("ipw", 11.4, 72.7, True), ("dr", 22.0, 83.5, False)):
            r.add(f"cs_{m}", m, z, ours(o, 2.0 + o / 100),
                  [peer("diff-diff", t, version_="2.1.0", agree=ok, max_abs_diff=1.2e-15 if ok else 3e-5)],
                  est_method=m, covariates=["age", "x2"])

    def startup(r):
        r.add("help", "help", {}, ours(0.07), [peer("python -c pass", 0.02)])
        r.add("run_imports", "imports", {}, ours(0.62), [peer("import pandas, scipy.stats", 0.74)])

    for name, fill in (("bench_metrics", metrics), ("bench_streaming", streaming), ("bench_dask", dask),
                       ("bench_twfe", twfe), ("bench_cs", cs), ("bench_survival", survival),
                       ("bench_cs_covariates", cs_cov), ("bench_startup", startup)):
        _write(d, name, fill)
    return d


def _rows(table: str) -> dict[str, list[str]]:
    out = {}
    for line in table.splitlines():
        if line.startswith("| ") and not line.startswith("| task"):
            cells = [c.strip() for c in line.strip("|").split(" | ")]
            out[cells[0]] = cells
    return out


def test_formatting_of_every_row(tmp_path, capsys):
    rows = _rows(st.render(fixture_results(tmp_path)))
    assert rows["benefit dependency, 1,000,000 persons × 260 weeks, end to end from ISO-week strings"][1:] == [
        "0.16 s, 0.035 GiB beyond the input",
        "tight numpy kernel 0.17 s (ratio 0.94); polars 2.1.0 4.4 s; pandas 3.1.1 merge/groupby 3.1 s and 0.88 GiB for "
        "100,000 persons"]
    other = next(v for k, v in rows.items() if k.startswith("every other window metric"))
    # ours 0.05 .. 0.75 s; peaks up to 0.055 GiB; ratios (0.05 + 0.1 i) / (0.1 + 0.1 i): 0.50 .. 0.94
    assert other[1:] == ["0.05–0.75 s, ≤ 0.06 GiB", "its tight numpy kernel: ratio 0.50–0.94"]
    assert rows["long-term unemployment for every person-week, 1M × 260"][1:] == [
        "0.32 s, 0.24 GiB (the int8 result)", "numpy range test with shift-and-add: 0.63 s (ratio 0.51)"]
    stream = next(v for k, v in rows.items() if k.startswith("benefit dependency streamed"))
    assert stream[0].endswith("(the register is 2.9 GiB as uint8, 23 GiB as a pandas frame)")
    assert stream[1:] == ["65 s, peak RSS 1.03 GiB, identical answers", "`read_register` in memory fails under the same cap"]
    dask = next(v for k, v in rows.items() if k.startswith("Dask 2026.1.0"))
    assert dask[1:] == ["0.13–0.20 s per metric call (first call, reading: 4.6–5.7 s; worker peak 0.8 GiB)",
                        "in process, same run, cluster idle: 0.17 s (ratio 0.76–1.18)"]
    twfe = next(v for k, v in rows.items() if k.startswith("TWFE"))
    assert twfe[1:] == ["0.84 s (unbalanced 1.9 s; event study, 12 dummies, 3.7 s)",
                        "pyfixest 0.30.0 9.9 s (7.9 s; 27.4 s), pyfixest / package 11.8, 4.2, 7.4; same estimates and SEs"]
    cs = next(v for k, v in rows.items() if k.startswith("Callaway–Sant'Anna, 100,000"))
    assert cs[1:] == ["4.3 s, 1.78 GiB process peak (7.0 s with a 999-draw bootstrap)",
                      "straightforward pandas loop over (g, t): 26.9 s; estimates agree to 1.2e-14, SEs to 2.1e-16"]
    surv = next(v for k, v in rows.items() if k.startswith("durations"))
    assert surv[1:] == ["0.87 s; 1.2 s; 1.1 s / 1.1 s; ≤ 0.072 GiB beyond the input",
                        "benefit dependency over the same 156 weeks, interleaved: 1.1 s (ratios 0.82, 1.12, 1.01, 1.07); "
                        "lifelines 0.30.0 `KaplanMeierFitter` + RMST on our exit times 0.25 s, curves and RMST identical"]
    cov = next(v for k, v in rows.items() if k.startswith("Callaway–Sant'Anna with 2 covariates"))
    assert cov[1] == "reg 10.7 s, ipw 11.4 s, dr 22.0 s; ≤ 2.22 GiB"
    assert cov[2].startswith("diff-diff 2.1.0: 44.0 s, 72.7 s, 83.5 s; diff-diff / package 3.8–6.4 (reg/ipw agree to 1.2e-15; "
                             "dr differ by design")
    assert rows["start-up: `evaluation --help`; imports of `evaluation run`"][2] == (
        "`python -c pass` 0.02 s; `import pandas, scipy.stats` alone 0.74 s")


def test_seconds_format():
    assert [st.sec(x) for x in (0.161, 0.05, 0.994, 0.996, 4.42, 26.94, 83.5)] == [
        "0.16 s", "0.05 s", "0.99 s", "1.0 s", "4.4 s", "26.9 s", "83.5 s"]
    assert st.sec_range([0.13, 0.2, 0.17]) == "0.13–0.20 s"
    assert st.sec_range([0.171, 0.174]) == "0.17 s"


def test_ratio_is_computed_from_the_times_not_copied(tmp_path, capsys):
    d = fixture_results(tmp_path, numpy_bd=0.322)
    doc = json.loads((d / "bench_metrics.json").read_text())
    assert doc["comparisons"][0]["peers"][0]["ratio"] == pytest.approx(0.161 / 0.322)  # the recorder's ratio
    doc["comparisons"][0]["peers"][0]["ratio"] = 99.0  # a stale stored ratio is ignored
    (d / "bench_metrics.json").write_text(json.dumps(doc))
    row = _rows(st.render(d))["benefit dependency, 1,000,000 persons × 260 weeks, end to end from ISO-week strings"]
    assert "tight numpy kernel 0.32 s (ratio 0.50)" in row[2]


def test_disagreement_is_shown(tmp_path, capsys):
    twfe = next(v for k, v in _rows(st.render(fixture_results(tmp_path, twfe_agree=False))).items() if k.startswith("TWFE"))
    assert twfe[2].endswith("; balanced: answers DIFFER (largest difference 1.0e-02); unbalanced: answers DIFFER "
                            "(largest difference 1.0e-02); event study: answers DIFFER (largest difference 1.0e-02)")
    assert "same estimates" not in twfe[2]


def test_missing_benchmark_names_the_file(tmp_path, capsys):
    d = fixture_results(tmp_path / "r")
    (d / "bench_dask.json").unlink()
    readme = tmp_path / "README.md"
    readme.write_text(f"x\n{st.START}\n{st.END}\n")
    capsys.readouterr()
    assert st.main(["--results", str(d), "--readme", str(readme)]) == 2
    err = capsys.readouterr().err
    assert str(d / "bench_dask.json") in err and "missing" in err and "benchmarks/bench_dask.py" in err
    assert readme.read_text() == f"x\n{st.START}\n{st.END}\n"


def test_missing_comparison_names_file_and_key(tmp_path, capsys):
    d = fixture_results(tmp_path / "r")
    doc = json.loads((d / "bench_twfe.json").read_text())
    doc["comparisons"] = [c for c in doc["comparisons"] if c["key"] != "event_study"]
    (d / "bench_twfe.json").write_text(json.dumps(doc))
    with pytest.raises(st.SpeedTableError, match=r"bench_twfe\.json: no comparison 'event_study'"):
        st.render(d)


def test_check_detects_a_stale_table_and_write_fixes_it(tmp_path, capsys):
    d = fixture_results(tmp_path / "r")
    readme = tmp_path / "README.md"
    readme.write_text(f"# t\n\n## Speed\n\n{st.START}\n| old | table |\n{st.END}\n\nafter\n")
    assert st.main(["--check", "--results", str(d), "--readme", str(readme)]) == 1
    assert "differs" in capsys.readouterr().err
    assert st.main(["--results", str(d), "--readme", str(readme)]) == 0
    text = readme.read_text()
    assert text.startswith("# t\n\n## Speed\n\n" + st.START + "\nGenerated by `tools/speed_table.py`")
    assert text.endswith(st.END + "\n\nafter\n") and "| old |" not in text
    assert st.main(["--check", "--results", str(d), "--readme", str(readme)]) == 0
    # a hand edit of one number is caught
    readme.write_text(text.replace("0.16 s, 0.035 GiB", "0.12 s, 0.035 GiB"))
    assert st.main(["--check", "--results", str(d), "--readme", str(readme)]) == 1


def test_readme_without_markers_exits_2(tmp_path, capsys):
    d = fixture_results(tmp_path / "r")
    readme = tmp_path / "README.md"
    readme.write_text("no markers\n")
    assert st.main(["--check", "--results", str(d), "--readme", str(readme)]) == 2
    assert "README.md: needs exactly one" in capsys.readouterr().err


def test_readme_table_is_generated_from_the_committed_results(capsys):
    """A hand edit of README's speed table (or a results file committed without regenerating it) fails here."""
    assert st.main(["--check"]) == 0, capsys.readouterr().out

