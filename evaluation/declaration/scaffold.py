"""``evaluation new <slug> [--design <name>]``: scaffold a study from the commented Danish template.

Without a design the study is the programme-theory template (``study_template.yaml``) with empty
``data`` and ``analyses``. With a design (``--design matched_comparison`` …) the scaffold also
writes, for that design family:

* an indicator that the analysis measures, added to ``theory.indicators``;
* the data sources the design reads, with ``provenance``, ``id_column``, ``columns``, Danish
  ``labels`` and ``value_labels`` for the covariates, and the optional reading settings of
  :class:`~evaluation.declaration.study.DataSource` commented out at their defaults;
* one analysis with every option and fit option of the design, each preceded by its Danish meaning
  (read from the option models' ``json_schema_extra=da(...)``, so the scaffold cannot drift from
  the code). Options the example uses, the required ones and the group labels (``treated``,
  ``control``) are written out; every other option is commented out at its default, so removing
  the ``#`` gives exactly the same typed options.

With ``example_data`` (the default) a small synthetic data set of the design (the family's own
``example("effect")`` generator) is written to ``data/<slug>/<source>.csv`` and declared
``provenance: synthetic``; existing files are never overwritten. The scaffold then validates, runs
and reports as it is, and the evaluator replaces the example data with the project's own.

:func:`field_docs` describes the fields of any option model (name, type, default, allowed values,
Danish meaning, nested fields); the user guide (:mod:`evaluation.reporting.guide`) builds its
tables from it.
"""

from __future__ import annotations

import os
import re
import textwrap
import types
from dataclasses import dataclass, field
from datetime import date
from importlib.resources import files
from pathlib import Path
from typing import Any, Collection, Literal, Mapping, Union, get_args, get_origin

import yaml
from annotated_types import Ge, Gt, Le, Lt, MaxLen, MinLen
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from evaluation.declaration.study import AnalysisBase, DataSource
from evaluation.designs.family import Family, families, get_family, meaning_da
from evaluation.exceptions import StudyConfigError

__all__ = [
    "scaffold_study",
    "scaffold",
    "Scaffold",
    "template_text",
    "study_text",
    "design_sections",
    "example_frames",
    "FieldDoc",
    "field_docs",
    "yaml_value",
    "designs_in_order",
    "DEFAULT_PROVENANCE",
]

_SLUG = re.compile(r"^[a-z0-9][a-z0-9\-]*$")

#: the id of the indicator and of the analysis a design scaffold declares
INDICATOR_ID = "hovedudfald"
ANALYSIS_ID = "hovedanalyse"
#: the provenance written for a source without example data, by the source's kind
DEFAULT_PROVENANCE = {"participants": "project", "register": "register", "survey": "survey", "planned": "project",
                      "figures": "project"}
#: DataSource fields every scaffolded source writes out (the rest are optional reading settings)
_SOURCE_EXPLICIT = ("path", "kind", "provenance", "id_column", "columns", "period_column", "labels", "value_labels")
_WIDTH = 100

_MARK_INDICATOR = "#@design-indicator\n"
_MARK_DATA_BEGIN = "#@data\n"
_MARK_DATA_END = "#@end-data\n"


# ---------------------------------------------------------------------------
# describing option models (shared with the user guide)
# ---------------------------------------------------------------------------


def yaml_value(value: Any) -> str:
    """``value`` as YAML flow text on one line (``0.95``, ``'2019-03-31'``, ``[0.5, 2.0]``, ``null``)."""
    if isinstance(value, tuple):
        value = list(value)
    if isinstance(value, BaseModel):
        value = value.model_dump()
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10_000, sort_keys=False)
    text = text.strip()
    if text.endswith("\n..."):
        text = text[: -len("\n...")]
    elif text.endswith("..."):
        text = text[:-3].strip()
    return text


@dataclass(frozen=True)
class FieldDoc:
    """One field of an option model, described for the scaffold and the user guide.

    Attributes
    ----------
    name : str
    type_da : str
        The type in Danish words (``"tekst (kolonnenavn)"``, ``"heltal"``, ``"liste af tekster"`` …).
    default : str or None
        The default as YAML text; None when the field must be given.
    allowed : str
        The allowed values or range in Danish (``"lin, ancova, none"``, ``"> 0"``); empty when free.
    meaning : str
        The Danish meaning (the field's ``json_schema_extra=da(...)``).
    nested : tuple of FieldDoc
        The fields of a nested model (``balance_rule``, a survey's ``items``).
    """

    name: str
    type_da: str
    default: str | None
    allowed: str
    meaning: str
    nested: tuple["FieldDoc", ...] = field(default_factory=tuple)

    @property
    def required(self) -> bool:
        return self.default is None


def _strip_none(tp: Any) -> tuple[Any, bool]:
    """The annotation without ``None`` and whether ``None`` is allowed."""
    if get_origin(tp) in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        nullable = len(args) < len(get_args(tp))
        return (args[0] if len(args) == 1 else Union[tuple(args)]), nullable
    return tp, False


def _model_of(tp: Any) -> type[BaseModel] | None:
    """The pydantic model inside an annotation (``Model``, ``Model | None``, ``list[Model]``), if any."""
    tp, _ = _strip_none(tp)
    if get_origin(tp) in (list, tuple):
        args = get_args(tp)
        tp = args[0] if args else None
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return tp
    return None


_TYPE_DA = {str: "tekst", int: "heltal", float: "tal", bool: "true/false", date: "dato (ÅÅÅÅ-MM-DD)"}


def _type_da(tp: Any) -> str:
    tp, nullable = _strip_none(tp)
    origin = get_origin(tp)
    if origin is Literal:
        text = "valg"
    elif origin in (Union, types.UnionType):
        text = " eller ".join(_type_da(a) for a in get_args(tp))
    elif origin is list:
        (arg,) = get_args(tp) or (Any,)
        inner = _model_of(arg)
        text = f"liste af {'indstillinger' if inner else _plural(_type_da(arg))}"
    elif origin is tuple:
        args = get_args(tp)
        text = f"to {_plural(_type_da(args[0]))} [fra, til]" if len(args) == 2 and args[0] is args[1] else "liste"
    elif origin is dict:
        args = get_args(tp)
        inner = get_args(args[1]) if len(args) == 2 and get_origin(args[1]) is dict else ()
        text = ("tabel (nøgle: værdi)" if not inner else "tabel (kolonne: {værdi: navn})" if inner[-1] is str
                else "tabel (nøgle: {nøgle: værdi})")
    elif isinstance(tp, type) and issubclass(tp, BaseModel):
        text = "indstillinger"
    else:
        text = _TYPE_DA.get(tp, getattr(tp, "__name__", str(tp)))
    return f"{text} eller null" if nullable else text


def _plural(word: str) -> str:
    return {"tekst": "tekster", "heltal": "heltal", "tal": "tal"}.get(word, word)


def _number(x: Any) -> str:
    return str(x).replace(".", ",")


def _literal(value: Any) -> str:
    """A Literal value as the user writes it: bare when it is a plain word, else in single quotes ('.', '')."""
    text = str(value)
    return text if re.fullmatch(r"[A-Za-z0-9_\-]+", text) else f"'{text}'"


def _allowed(f: Any) -> str:
    tp, nullable = _strip_none(f.annotation)
    parts: list[str] = []
    if get_origin(tp) is Literal:
        parts.append(", ".join(_literal(a) for a in get_args(tp)))
    elif tp is bool:
        parts.append("true, false")
    lengths = {type(m): m for m in f.metadata if isinstance(m, (MinLen, MaxLen))}
    low = getattr(lengths.get(MinLen), "min_length", 0)
    high = getattr(lengths.get(MaxLen), "max_length", None)
    unit = " tegn" if tp is str else ""
    if tp is str and low == high == 1:
        parts.append("ét tegn")
    else:
        if low:
            parts.append(f"mindst {low}{unit}")
        if high is not None:
            parts.append(f"højst {high}{unit}")
    for m in f.metadata:
        if isinstance(m, Gt):
            parts.append(f"> {_number(m.gt)}")
        elif isinstance(m, Ge):
            parts.append(f"≥ {_number(m.ge)}")
        elif isinstance(m, Lt):
            parts.append(f"< {_number(m.lt)}")
        elif isinstance(m, Le):
            parts.append(f"≤ {_number(m.le)}")
    text = " og ".join(p for p in parts if p)
    return f"{text} eller null" if nullable and text else text


def _default_yaml(f: Any) -> str | None:
    if f.is_required():
        return None
    if f.default_factory is not None:
        value = f.default_factory()
        if isinstance(value, BaseModel):
            return "{}"
        return yaml_value(value)
    if f.default is PydanticUndefined:  # pragma: no cover - pydantic marks such fields required
        return None
    return yaml_value(f.default)


def field_docs(model: type[BaseModel], *, skip: tuple[str, ...] = ("source_path",)) -> list[FieldDoc]:
    """Every field of ``model`` described in Danish (``KeyError`` when one has no Danish meaning)."""
    out = []
    for name, f in model.model_fields.items():
        if name in skip:
            continue
        nested_model = _model_of(f.annotation)
        nested = tuple(field_docs(nested_model)) if nested_model is not None else ()
        out.append(FieldDoc(name=name, type_da=_type_da(f.annotation), default=_default_yaml(f), allowed=_allowed(f),
                            meaning=meaning_da(model, name), nested=nested))
    return out


def designs_in_order() -> list[Family]:
    """The registered designs, strongest evidence first (randomized, …, before/after, survey)."""
    return sorted(families(), key=lambda f: (-f.evidence_level, f.family, f.design))


# ---------------------------------------------------------------------------
# writing commented YAML
# ---------------------------------------------------------------------------


def _comment(text: str, indent: int, hanging: str = "") -> list[str]:
    pad = " " * indent
    lines = textwrap.wrap(text, width=max(40, _WIDTH - indent - 2), subsequent_indent=hanging, break_on_hyphens=False)
    return [f"{pad}# {line}" for line in lines]


def _nested_comment(doc: FieldDoc, indent: int) -> list[str]:
    if not doc.nested:
        return []
    lines = _comment("Felter:", indent)
    for sub in doc.nested:
        default = "skal angives" if sub.required else f"standard {sub.default}"
        lines += _comment(f"  - {sub.name} ({default}): {sub.meaning}", indent, hanging="    ")
    return lines


def _value_lines(name: str, value: Any, indent: int, *, commented: bool = False) -> list[str]:
    pad = " " * indent
    hash_ = "# " if commented else ""
    if isinstance(value, Mapping) and value and not commented:
        return [f"{pad}{name}:"] + [f"{pad}  {yaml_value(str(k))}: {yaml_value(v)}" for k, v in value.items()]
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], Mapping) and not commented:
        return [f"{pad}{name}:"] + [f"{pad}  - {yaml_value(dict(v))}" for v in value]
    return [f"{pad}{hash_}{name}: {yaml_value(value)}"]


def _model_block(model: type[BaseModel], given: Mapping[str, Any], indent: int, *, explicit: tuple[str, ...] = ()) -> list[str]:
    """Every field of ``model``: its meaning, then ``name: value`` when given (or explicit), else ``# name: default``."""
    lines: list[str] = []
    docs = {d.name: d for d in field_docs(model)}
    if not any(n in given or n in explicit or f.is_required() for n, f in model.model_fields.items()):
        explicit = explicit + tuple(model.model_fields)[:1]  # a block needs one key to stay a mapping
    for name, f in model.model_fields.items():
        doc = docs[name]
        lines += _comment(doc.meaning, indent)
        lines += _nested_comment(doc, indent)
        if name in given:
            lines += _value_lines(name, given[name], indent)
        elif name in explicit or f.is_required():
            lines += _value_lines(name, f.get_default(call_default_factory=True), indent)
        else:
            lines.append(f"{' ' * indent}# {name}: {doc.default}")
    return lines


# ---------------------------------------------------------------------------
# the design's part of the study
# ---------------------------------------------------------------------------


def example_frames(design: str, seed: int = 1):
    """The design's example study (its family's ``example("effect")``): data frames and declarations."""
    return get_family(design).example("effect", seed)


def _indicator_lines(family: Family, indicator: Mapping[str, Any]) -> list[str]:
    lines = _comment(
        "Indikatoren, som analysen under analyses: måler. Metrikken 'column' tager tallet direkte fra en "
        "kolonne i data; README beskriver registermålene (fx andel af ugerne på offentlig forsørgelse).", 4)
    lines.append(f"    - id: {INDICATOR_ID}")
    lines.append("      outcome: resultat")
    for key, value in indicator.items():
        lines.append(f"      {key}: {yaml_value(value)}")
    return lines


def _source_lines(name: str, decl: Mapping[str, Any], path: str, provenance: str, covariates: list[str]) -> list[str]:
    kind = decl.get("kind", "participants")
    given: dict[str, Any] = {"path": path, "kind": kind, "provenance": provenance}
    given.update({k: v for k, v in decl.items() if k not in ("labels", "value_labels")})
    given["provenance"] = provenance
    labels = dict(decl.get("labels") or {})
    for c in covariates:  # every covariate gets a Danish name in tables (the column name until one is written)
        labels.setdefault(c, c)
    given["labels"] = labels
    given["value_labels"] = dict(decl.get("value_labels") or {})
    docs = {d.name: d for d in field_docs(DataSource)}
    lines = [f"  {name}:"]
    for key in _SOURCE_EXPLICIT:
        if key not in given:  # id_column and period_column when the source has none
            continue
        doc = docs[key]
        lines += _comment(doc.meaning, 4)
        if key == "value_labels" and not given[key]:
            lines += _comment('fx value_labels: {kvinde: {"0": Mand, "1": Kvinde}}', 4)
        lines += _value_lines(key, given[key], 4)
    lines += [""] + _comment(
        "Valgfrie indstillinger for indlæsningen, vist med standardværdien: fjern # for at ændre en.", 4)
    register = kind == "register"
    for key, doc in docs.items():
        if key in given or (key in _SOURCE_EXPLICIT and key not in ("id_column", "period_column")):
            continue
        if not register and doc.meaning.startswith("register:"):
            continue  # the register settings are offered for register sources only
        lines += _comment(doc.meaning, 4)
        lines.append(f"    # {key}: {doc.default}")
    return lines


def _covariates(options: Mapping[str, Any]) -> list[str]:
    covs = options.get("covariates") or []
    return [c for c in covs if isinstance(c, str)]


def design_sections(design: str, slug: str, *, data_paths: Mapping[str, str] | None = None,
                    synthetic: bool | Collection[str] = True) -> tuple[str, str]:
    """The design's indicator (for ``theory.indicators``) and its ``data:`` and ``analyses:`` sections.

    Parameters
    ----------
    design : str
        A registered design name (``UnknownNameError`` with a suggestion otherwise).
    slug : str
        The study id.
    data_paths : mapping, optional
        Source name → path written in ``path:`` (relative to the study folder); default
        ``../../data/<slug>/<source>.csv``.
    synthetic : bool or collection of str
        The sources that hold the generated example data (``provenance: synthetic``): all (True),
        none (False) or those named; the others get the usual provenance of their kind.
    """
    family = get_family(design)
    ex = example_frames(design)
    paths = dict(data_paths or {})
    indicator = _indicator_lines(family, ex.indicator)

    lines = _comment(
        "Data: hver datakilde er en fil, som studiet læser. Personernes id pseudonymiseres ved indlæsningen, "
        "og intet tal, der bygger på færre end report.disclosure_threshold personer, offentliggøres.", 0)
    synthetic = set(ex.sources) if synthetic is True else set() if synthetic is False else set(synthetic)
    if synthetic:
        lines += _comment(
            "Filerne nedenfor er SYNTETISKE eksempeldata skrevet af 'evaluation new' (provenance: synthetic): "
            "erstat dem med projektets egne data, ret kolonnenavnene og provenance.", 0)
    lines.append("data:")
    covs = _covariates(ex.options)
    for name, (_, decl) in ex.sources.items():
        path = paths.get(name, f"../../data/{slug}/{name}.csv")
        kind = decl.get("kind", "participants")
        provenance = "synthetic" if name in synthetic else DEFAULT_PROVENANCE.get(kind, "project")
        lines += _source_lines(name, decl, path, provenance, covs if name == ex.data else [])
    lines.append("")

    lines += _comment(f"Analyser: designet {design} — {family.label_da}.", 0)
    if family.assumption_da:
        lines += _comment(f"Designets forudsætning: {family.assumption_da}", 0)
    lines.append("analyses:")
    base = {d.name: d for d in field_docs(AnalysisBase)}
    lines += _comment(base["id"].meaning, 2)
    lines.append(f"  - id: {ANALYSIS_ID}")
    given = {"indicator": INDICATOR_ID, "design": design, "data": ex.data, "primary": True}
    for key in ("indicator", "design", "data", "primary", "subgroups", "exploratory_subgroups"):
        d = base[key]
        lines += _comment(d.meaning, 4)
        lines += _value_lines(key, given[key], 4) if key in given else [f"    # {key}: {d.default}"]
    lines += _comment(f"Designets indstillinger ({design}).", 4)
    lines.append("    options:")
    explicit = tuple(n for n in ("treated", "control") if n in family.Options.model_fields)
    lines += _model_block(family.Options, ex.options, 6, explicit=explicit)
    lines += _comment("Indstillinger for beregningen af usikkerheden.", 4)
    lines.append("    fit:")
    lines += _model_block(family.Fit, ex.fit, 6, explicit=("conf_level",))
    return "\n".join(indicator) + "\n", "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------
# the study file and the scaffold
# ---------------------------------------------------------------------------


def _raw_template() -> str:
    return files("evaluation").joinpath("declaration", "study_template.yaml").read_text(encoding="utf-8")


def template_text(slug: str) -> str:
    """The programme-theory template with ``slug`` filled in (no design: empty data and analyses)."""
    text = _raw_template().replace("{slug}", slug)
    return text.replace(_MARK_INDICATOR, "").replace(_MARK_DATA_BEGIN, "").replace(_MARK_DATA_END, "")


def study_text(slug: str, design: str | None = None, *, data_paths: Mapping[str, str] | None = None,
               synthetic: bool | Collection[str] = True) -> str:
    """The text of a new ``study.yaml``: the template, and with ``design`` its data and analyses."""
    if design is None:
        return template_text(slug)
    indicator, sections = design_sections(design, slug, data_paths=data_paths, synthetic=synthetic)
    text = _raw_template().replace("{slug}", slug)
    text = text.replace(_MARK_INDICATOR, indicator)
    head, rest = text.split(_MARK_DATA_BEGIN)
    _, tail = rest.split(_MARK_DATA_END)
    return head + sections + tail


@dataclass(frozen=True)
class Scaffold:
    """What :func:`scaffold` wrote: the study file, the data files written and those left as they were."""

    study: Path
    data: tuple[Path, ...] = ()
    kept: tuple[Path, ...] = ()


def _check_slug(slug: str) -> None:
    if not _SLUG.match(slug):
        raise StudyConfigError(
            f"{slug!r} is not a valid study id; expected lower-case letters, digits and '-' (e.g. 'jobfirst')"
        )


def scaffold(slug: str, studies_root: str | Path = "studies", *, design: str | None = None,
             example_data: bool = True, data_root: str | Path | None = None) -> Scaffold:
    """Create ``studies_root/slug/study.yaml`` (and with a design its example data); never overwrites.

    Parameters
    ----------
    slug : str
        The study id and folder name.
    studies_root : path-like
        The folder holding the studies.
    design : str, optional
        A registered design name; None writes the programme-theory template only.
    example_data : bool
        With a design: write the family's synthetic example data to ``data_root/slug/<source>.csv``
        (files that exist are left untouched and listed in ``kept``).
    data_root : path-like, optional
        Where data files go; default ``data`` beside ``studies_root``.
    """
    _check_slug(slug)
    if design is not None:
        get_family(design)  # an unknown design fails before anything is written
    folder = Path(studies_root) / slug
    target = folder / "study.yaml"
    if target.exists():
        raise StudyConfigError(f"{target}:1: (file): a study already exists here; it is left untouched")
    data_dir = (Path(data_root) if data_root is not None else Path(studies_root).parent / "data") / slug
    written: list[Path] = []
    kept: list[Path] = []
    paths: dict[str, str] = {}
    if design is not None:
        ex = example_frames(design)
        for name, (frame, _) in ex.sources.items():
            file = data_dir / f"{name}.csv"
            paths[name] = Path(os.path.relpath(file, folder)).as_posix()
            if not example_data:
                continue
            if file.exists():
                kept.append(file)
                continue
            data_dir.mkdir(parents=True, exist_ok=True)
            with open(file, "x", encoding="utf-8", newline="") as fh:  # "x": never overwrite, even in a race
                frame.to_csv(fh, index=False, lineterminator="\n")
            written.append(file)
    text = study_text(slug, design, data_paths=paths, synthetic={f.stem for f in written})
    folder.mkdir(parents=True, exist_ok=True)
    with open(target, "x", encoding="utf-8") as fh:
        fh.write(text)
    return Scaffold(study=target, data=tuple(written), kept=tuple(kept))


def scaffold_study(slug: str, studies_root: str | Path = "studies", *, design: str | None = None,
                   example_data: bool = True, data_root: str | Path | None = None) -> Path:
    """Create ``studies_root/slug/study.yaml``; never overwrites an existing study (see :func:`scaffold`)."""
    return scaffold(slug, studies_root, design=design, example_data=example_data, data_root=data_root).study
