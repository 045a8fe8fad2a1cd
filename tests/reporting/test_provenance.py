"""A data source whose study file does not say where it comes from is shown as "kilde ikke angivet" in the
report's appendix and on the portfolio card, and never gets the synthetic-data banner (issue 11 item 2)."""

from __future__ import annotations

import copy

from evaluation.portfolio.page import _provenance_text
from evaluation.reporting.quarto import report_markdown
from evaluation.results import Bundle


def test_unstated_provenance_is_said_and_not_guessed(rendered_reports):
    _, bundle = rendered_reports["arbejdsfastholdelse-ved-sygdom"]
    d = copy.deepcopy(bundle.to_dict())
    assert any(s.get("provenance") == "synthetic" for s in d["data_sources"].values())
    qmd_before = report_markdown(Bundle.from_dict(d))
    assert "#syntetiske-data" in qmd_before
    for s in d["data_sources"].values():
        s.pop("provenance", None)
    for t in d.get("targets", []):
        ((t.get("result") or {}).get("diagnostics") or {}).pop("provenance", None)
    b = Bundle.from_dict(d)
    qmd = report_markdown(b)
    appendix = qmd[qmd.index("# Bilag"):]
    assert "kilde ikke angivet" in appendix
    assert "#syntetiske-data" not in qmd and "Syntetiske data" not in qmd.split("# Bilag")[0]
    assert _provenance_text(b) == "Kilde ikke angivet"


def test_the_packaged_dream_code_list_carries_its_caveat(rendered_reports):
    """A report whose registers were classified with the packaged DREAM code list says what that list could not
    verify (codes after 2016, valid years, DREAM's overwrite order); a report without it does not."""
    from evaluation.data.registers.codes import default_code_list

    version = default_code_list().version
    seen = 0
    for slug, (folder, bundle) in rendered_reports.items():
        if bundle is None:
            continue
        qmd = (folder / "index.qmd").read_text(encoding="utf-8")
        uses = bool(bundle.code_list_version) and version in bundle.code_list_version.split("; ")
        said = f"med pakkens kodeliste {version}. Den bygger på en kopi af DREAM-dokumentationen fra 2016" in qmd
        assert said == uses, (slug, bundle.code_list_version)
        seen += uses
    assert seen >= 2  # jobfirst and flere-skal-med read DREAM-style registers
