"""Reading tables at the data boundary: Danish CSV conventions, encodings, Excel sheets, jobindsats.dk
exports, row numbers (issue 13 item 2, issue 12 item 3)."""

from __future__ import annotations

import glob
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.data.tables import NumberFormat, ReadOptions, read_table_file
from evaluation.exceptions import DataValidationError

ROOT = Path(__file__).resolve().parents[2]


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize("fmt, text, value", [
    (NumberFormat(",", "."), "40,5", 40.5),
    (NumberFormat(",", "."), "1.234.567,25", 1234567.25),
    (NumberFormat(",", "."), "-0,125", -0.125),
    (NumberFormat(",", "."), "\u22123,5", -3.5),  # a typographic minus, as Danish Word/Excel writes it
    (NumberFormat(".", ","), "1,500.5", 1500.5),
    (NumberFormat(".", None), "1e3", 1000.0),
    (NumberFormat(",", " "), "12\u00a0500", 12500.0),
])
def test_number_formats(fmt, text, value):
    vals, ok, _ = fmt.parse(pd.Series([text]))
    assert ok[0] and vals[0] == value


@pytest.mark.parametrize("fmt, text", [
    (NumberFormat(",", "."), "40.5"),      # a decimal point in a decimal-comma file
    (NumberFormat(",", "."), "1.23"),      # not a group of three digits
    (NumberFormat(".", ","), "40,5"),
    (NumberFormat(".", None), "ukendt"),
    (NumberFormat(".", None), "inf"),
    (NumberFormat(".", None), "1,500"),    # no thousands separator declared
])
def test_not_numbers_under_the_files_rule(fmt, text):
    _, ok, _ = fmt.parse(pd.Series([text]))
    assert not ok[0]


# --------------------------------------------------------------------------- Danish CSV

DANISH = (
    "person_id;gruppe;alder;indkomst;andel\r\n"
    "P001;indsats;40;1.234.567,5;0,25\r\n"
    "P002;kontrol;41;987,25;0,5\r\n"
    "P003;kontrol;;12.000;1\r\n"
    "P004;indsats;39;-3,5;0\r\n"
)


def test_danish_excel_csv_cp1252_detected(tmp_path):
    f = _write(tmp_path / "d.csv", DANISH.replace("indsats", "indsæts"), "cp1252")
    t = read_table_file(f, ReadOptions(text_columns=("person_id",)))
    assert t.separator == ";" and t.numbers == NumberFormat(",", ".")
    assert t.frame["indkomst"].tolist() == [1234567.5, 987.25, 12000.0, -3.5]
    assert t.frame["andel"].tolist() == [0.25, 0.5, 1.0, 0.0]
    assert str(t.frame["alder"].dtype) == "Int64" and t.frame["alder"].isna().tolist() == [False, False, True, False]
    assert t.frame["gruppe"].tolist()[0] == "indsæts"
    assert t.lines.tolist() == [2, 3, 4, 5]
    assert any("cp1252" in n for n in t.notes) and any("komma" in n for n in t.notes)


def test_declared_conventions_are_used_as_declared(tmp_path):
    f = _write(tmp_path / "d.csv", DANISH, "utf-8")
    t = read_table_file(f, ReadOptions(separator=";", decimal=",", thousands=".", encoding="utf-8"))
    assert t.frame["indkomst"].tolist() == [1234567.5, 987.25, 12000.0, -3.5] and not t.notes
    # the same file declared with a decimal point: the decimal-comma values stay text (the checks name them)
    t = read_table_file(f, ReadOptions(separator=";", decimal="."))
    assert str(t.frame["andel"].dtype) == "string"


def test_a_file_mixing_decimal_signs_is_refused_naming_both(tmp_path):
    f = _write(tmp_path / "m.csv", "id;x;y\na;40,5;1\nb;2;1.25\n")
    with pytest.raises(DataValidationError) as e:
        read_table_file(f)
    msg = str(e.value)
    assert "m.csv" in msg and "line 2, column 'x': '40,5'" in msg and "line 3, column 'y': '1.25'" in msg
    assert "decimal: ','" in msg


def test_only_grouped_numbers_in_a_semicolon_file_are_danish(tmp_path):
    f = _write(tmp_path / "g.csv", "id;beloeb\na;1.500\nb;12.000\n")
    assert read_table_file(f).frame["beloeb"].tolist() == [1500, 12000]
    f = _write(tmp_path / "g2.csv", "id,beloeb\na,1.500\nb,12.250\n")
    assert read_table_file(f).frame["beloeb"].tolist() == [1.5, 12.25]


def test_utf8_bom_and_latin1(tmp_path):
    f = _write(tmp_path / "b.csv", "\ufeffnavn,x\nÅse,1\n")
    t = read_table_file(f)
    assert list(t.frame.columns) == ["navn", "x"] and t.frame["navn"][0] == "Åse" and not t.notes
    # a byte cp1252 does not define (0x81) falls back to Latin-1
    f = tmp_path / "l.csv"
    f.write_bytes("navn,x\n".encode() + b"\xc5se\x81,1\n")
    t = read_table_file(f)
    assert t.encoding == "latin-1" and t.frame["navn"][0].startswith("Åse") and "Latin-1" in t.notes[0]


def test_declared_encoding_that_does_not_fit_names_the_line(tmp_path):
    f = _write(tmp_path / "e.csv", "navn,x\nAnne,1\nSøren,2\n", "cp1252")
    with pytest.raises(DataValidationError, match=r"e.csv: line 3: byte 0xf8 is not valid utf-8"):
        read_table_file(f, ReadOptions(encoding="utf-8"))
    with pytest.raises(DataValidationError, match=r"unknown encoding 'klingon'"):
        read_table_file(f, ReadOptions(encoding="klingon"))


def test_line_numbers_count_blank_lines_and_quoted_line_breaks(tmp_path):
    f = _write(tmp_path / "q.csv", 'id,note,x\na,"two\nlines",1\n\nb,plain,ukendt\n')
    t = read_table_file(f)
    assert t.lines.tolist() == [2, 5] and t.frame["x"].tolist() == ["1", "ukendt"]


def test_identifiers_keep_leading_zeros(tmp_path):
    f = _write(tmp_path / "i.csv", "cpr,x\n0101901234,1\n0202802345,2\n")
    t = read_table_file(f, ReadOptions(text_columns=("cpr",)))
    assert t.frame["cpr"].tolist() == ["0101901234", "0202802345"]


def test_declared_missing_values(tmp_path):
    f = _write(tmp_path / "n.csv", "id;x\na;..\nb;1,5\nc;-\n")
    t = read_table_file(f, ReadOptions(missing_values=("..", "-")))
    assert t.frame["x"].isna().tolist() == [True, False, True] and t.frame["x"][1] == 1.5


@pytest.mark.parametrize("text, needle", [
    ("", "is empty"),
    ("a,b\n", "has a header (line 1) but no data rows"),
    ("a,a\n1,2\n", "the column name 'a' appears twice"),
    ("a,b\n1,2,3\n", "line 2: has 3 fields but the header (line 1) names 2 column(s)"),
])
def test_malformed_csv(tmp_path, text, needle):
    f = _write(tmp_path / "x.csv", text)
    with pytest.raises(DataValidationError, match=needle.replace("(", r"\(").replace(")", r"\)")):
        read_table_file(f)


def test_trailing_separators_and_unnamed_columns(tmp_path):
    f = _write(tmp_path / "t.csv", ";2016M06;2018M03;\nAalborg;15,3;13;\n")
    t = read_table_file(f)
    assert list(t.frame.columns) == ["column_1", "2016M06", "2018M03"] and t.frame["2016M06"][0] == 15.3


# --------------------------------------------------------------------------- jobindsats.dk exports

JOBINDSATS = (
    "Jobindsats.dk\r\n"
    "Andel af fleksjobvisiterede på ledighedsydelse\r\n"
    "Udtræk: 12. april 2018\r\n"
    "\r\n"
    "Område;Ydelse;2016M06;2018M03;Antal 2018M03\r\n"
    "Aalborg;Ledighedsydelse;15,3;13,0;2.301\r\n"
    "Aarhus;Ledighedsydelse;..;12,1;1.987\r\n"
    "Hele landet;Ledighedsydelse;17,9;16,2;78.512\r\n"
    "\r\n"
    "Kilde: Jobindsats.dk\r\n"
    "Note: .. betyder diskretioneret\r\n"
)


def test_jobindsats_csv_with_title_rows_and_notes(tmp_path):
    f = _write(tmp_path / "ji.csv", JOBINDSATS, "cp1252")
    t = read_table_file(f, ReadOptions(header_row=5, footer_rows=2, missing_values=("..",)))
    assert list(t.frame.columns) == ["Område", "Ydelse", "2016M06", "2018M03", "Antal 2018M03"]
    assert t.frame["2016M06"].tolist()[0] == 15.3 and pd.isna(t.frame["2016M06"][1])
    assert t.frame["Antal 2018M03"].tolist() == [2301, 1987, 78512]
    assert t.lines.tolist() == [6, 7, 8]


def test_jobindsats_without_header_row_says_what_to_set(tmp_path):
    f = _write(tmp_path / "ji.csv", JOBINDSATS, "cp1252")
    with pytest.raises(DataValidationError, match="header_row"):
        read_table_file(f)


def _xlsx(path: Path, sheets: dict[str, list[list]]) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
    wb.save(path)
    return path


def test_excel_by_sheet_name_with_title_rows(tmp_path):
    f = _xlsx(tmp_path / "ji.xlsx", {
        "Forside": [["Jobindsats.dk"]],
        "Tabel": [["Andel på ledighedsydelse"], [], ["Område", "2016M06", "2018M03"], ["Aalborg", 15.3, "13,0"],
                  ["Aarhus", "..", 12.1], [], ["Kilde: Jobindsats.dk"]],
    })
    t = read_table_file(f, ReadOptions(sheet="Tabel", header_row=3, footer_rows=1, missing_values=("..",)))
    assert t.frame["2016M06"].tolist()[0] == 15.3 and pd.isna(t.frame["2016M06"][1])
    assert t.frame["2018M03"].tolist() == [13.0, 12.1] and t.unit == "row" and t.lines.tolist() == [4, 5]
    with pytest.raises(DataValidationError, match=r"has no sheet 'tabel' \(did you mean 'Tabel'\?\); its sheets are: 'Forside', 'Tabel'"):
        read_table_file(f, ReadOptions(sheet="tabel"))


def test_corrupt_workbook(tmp_path):
    f = tmp_path / "c.xlsx"
    f.write_bytes(b"PK\x03\x04 this is not a workbook")
    with pytest.raises(DataValidationError, match=r"c.xlsx: cannot be read as an Excel workbook"):
        read_table_file(f)


def test_parquet_text_columns_follow_the_files_rule(tmp_path):
    f = tmp_path / "p.parquet"
    pd.DataFrame({"id": ["a", "b"], "x": ["40,5", "1,25"], "n": [1, 2]}).to_parquet(f)
    t = read_table_file(f)
    assert t.frame["x"].tolist() == [40.5, 1.25] and t.unit == "row" and t.lines.tolist() == [1, 2]


# --------------------------------------------------------------------------- nothing changes for the shipped data


@pytest.mark.parametrize("path", sorted(p for p in glob.glob(str(ROOT / "data" / "synthetic" / "*" / "*.csv"))
                                        if "register" not in p))
def test_shipped_files_read_as_pandas_read_them(path):
    expected = pd.read_csv(path, dtype_backend="numpy_nullable")
    pd.testing.assert_frame_equal(read_table_file(path).frame, expected, check_exact=True)
    assert np.array_equal(read_table_file(path).lines, np.arange(2, len(expected) + 2))
