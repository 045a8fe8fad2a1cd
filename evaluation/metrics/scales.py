"""Likert scales as data: codes, labels, top box, missing codes and reverse keying.

A scale is declared once (a YAML file under ``evaluation/codes/scales/``, or
:meth:`LikertScale.custom` in a study) and every survey function takes it as an argument.
Categories always come from the scale, never from the observed answers, so a category nobody
chose still appears in a distribution with count 0.

Examples
--------
>>> scale = get_scale("brugermaaling-5")
>>> scale.codes
(1, 2, 3, 4, 5)
>>> scale.label(4)
'Ja, i nogen grad'
>>> scale.top_box
(4, 5)
>>> seven = LikertScale.custom(
...     "enig-7", codes=range(1, 8),
...     labels=["Helt uenig", "Uenig", "Lidt uenig", "Hverken eller", "Lidt enig", "Enig", "Helt enig"],
...     top_box=[6, 7], neutral=4, missing_codes={99: "Ved ikke"})
>>> seven.reverse_code(2)
6
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import yaml

from ..exceptions import StudyConfigError

__all__ = ["LikertScale", "get_scale", "available_scales", "SCALES_PACKAGE_DIR"]

SCALES_PACKAGE_DIR = "codes/scales"
"""Folder (inside the installed package ``evaluation``) holding the shipped scale files."""


def _as_int_code(value: Any, what: str, where: str) -> int:
    if isinstance(value, bool):
        raise StudyConfigError(f"{where}: {what} {value!r} is not an integer code")
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise StudyConfigError(f"{where}: {what} {value!r} is not an integer code")


@dataclass(frozen=True)
class LikertScale:
    """A response scale: valid codes with labels, the top box, the neutral code and missing codes.

    Construct with :meth:`from_yaml`, :func:`get_scale` or :meth:`custom`; the constructor
    checks the declaration and raises :class:`~evaluation.exceptions.StudyConfigError` on any
    inconsistency.

    Parameters
    ----------
    name : str
        Identifier (``"brugermaaling-5"``).
    codes : tuple of int
        Valid answer codes ordered from the most negative to the most positive answer.
    labels : tuple of str
        Danish label of each code, aligned with ``codes``.
    top_box : tuple of int
        Codes counted as a positive answer; the most positive codes, contiguous.
    neutral : int or None
        The middle category, drawn centred on 0 in a diverging chart.
    missing_codes : tuple of int
        Codes that are not answers on the scale ("Ved ikke", two boxes ticked).
    missing_labels : tuple of str
        Labels of ``missing_codes``.
    blank_label : str
        Label of a blank answer (no box ticked); a blank is always missing.
    version, source, label_da, top_box_label_da : str
        Provenance and report texts.

    Notes
    -----
    *Reverse keying.* An item worded negatively is reverse keyed: its code ``c`` is replaced by
    ``min(codes) + max(codes) - c`` before it enters a scale score or a reliability analysis
    (:meth:`reverse_code`, :meth:`reverse`). Which items are reverse keyed is a property of the
    questionnaire, so it is an argument of the scoring functions, not of the scale.

    *Direction.* ``codes`` are ordered from the negative to the positive pole whatever the
    numbering; :attr:`higher_is_positive` tells whether the numbers rise towards the positive
    pole. :meth:`points` maps codes to values that always rise towards the positive pole (the
    codes themselves when ``higher_is_positive``), and means are computed on these points.
    """

    name: str
    codes: tuple[int, ...]
    labels: tuple[str, ...]
    top_box: tuple[int, ...]
    neutral: int | None = None
    missing_codes: tuple[int, ...] = ()
    missing_labels: tuple[str, ...] = ()
    blank_label: str = "Ikke besvaret"
    version: str = ""
    source: str = ""
    label_da: str = ""
    top_box_label_da: str = ""

    def __post_init__(self) -> None:
        where = f"scale {self.name!r}"
        codes = tuple(_as_int_code(c, "code", where) for c in self.codes)
        object.__setattr__(self, "codes", codes)
        top = tuple(_as_int_code(c, "top-box code", where) for c in self.top_box)
        if set(top) <= set(codes):
            top = tuple(sorted(set(top), key=codes.index))
        object.__setattr__(self, "top_box", top)
        object.__setattr__(self, "labels", tuple(str(x) for x in self.labels))
        object.__setattr__(self, "missing_codes", tuple(_as_int_code(c, "missing code", where) for c in self.missing_codes))
        object.__setattr__(self, "missing_labels", tuple(str(x) for x in self.missing_labels))
        if self.neutral is not None:
            object.__setattr__(self, "neutral", _as_int_code(self.neutral, "neutral code", where))
        problems = []
        if len(codes) < 2:
            problems.append("needs at least two codes")
        if len(set(codes)) != len(codes):
            problems.append(f"codes are not unique: {list(codes)}")
        if codes and sorted(codes) != list(codes) and sorted(codes, reverse=True) != list(codes):
            problems.append(f"codes must be monotone from the negative to the positive pole, got {list(codes)}")
        if len(self.labels) != len(codes):
            problems.append(f"{len(codes)} codes but {len(self.labels)} labels")
        if not self.top_box:
            problems.append("top_box is empty")
        extra = [c for c in self.top_box if c not in codes]
        if extra:
            problems.append(f"top_box codes {extra} are not codes of the scale {list(codes)}")
        elif self.top_box and set(self.top_box) != set(codes[len(codes) - len(self.top_box):]):
            problems.append(f"top_box {list(self.top_box)} must be the most positive codes {list(codes[len(codes) - len(self.top_box):])}")
        elif len(self.top_box) >= len(codes):
            problems.append("top_box cannot contain every code")
        if self.neutral is not None:
            if self.neutral not in codes:
                problems.append(f"neutral code {self.neutral} is not a code of the scale")
            elif self.neutral in self.top_box:
                problems.append(f"neutral code {self.neutral} cannot be in the top box")
        if len(self.missing_labels) != len(self.missing_codes):
            problems.append(f"{len(self.missing_codes)} missing codes but {len(self.missing_labels)} labels")
        if len(set(self.missing_codes)) != len(self.missing_codes):
            problems.append(f"missing codes are not unique: {list(self.missing_codes)}")
        clash = sorted(set(self.missing_codes) & set(codes))
        if clash:
            problems.append(f"codes {clash} are both valid and missing codes")
        if problems:
            raise StudyConfigError([f"{where}: {p}" for p in problems])

    # --- construction -------------------------------------------------------------------
    @classmethod
    def custom(
        cls,
        name: str,
        codes: Iterable[int],
        labels: Sequence[str] | Mapping[int, str],
        top_box: Iterable[int],
        neutral: int | None = None,
        missing_codes: Mapping[int, str] | None = None,
        blank_label: str = "Ikke besvaret",
        version: str = "custom",
        source: str = "declared in the study",
        label_da: str = "",
        top_box_label_da: str = "",
    ) -> "LikertScale":
        """Declare a scale in code (e.g. a 7-point agreement scale of one study).

        Parameters
        ----------
        name : str
        codes : iterable of int
            Valid codes from the most negative to the most positive answer.
        labels : sequence of str or mapping of code to str
            One label per code (a sequence is aligned with ``codes``).
        top_box : iterable of int
            The most positive codes counted as a positive answer.
        neutral : int, optional
        missing_codes : mapping of int to str, optional
            Non-answer codes and their labels, e.g. ``{9: "Ved ikke"}``.
        blank_label, version, source, label_da, top_box_label_da : str

        Returns
        -------
        LikertScale

        Examples
        --------
        >>> s = LikertScale.custom("ja-nej", codes=[0, 1], labels=["Nej", "Ja"], top_box=[1])
        >>> s.codes, s.top_box
        ((0, 1), (1,))
        """
        codes = tuple(codes)
        if isinstance(labels, Mapping):
            missing = [c for c in codes if c not in labels]
            if missing:
                raise StudyConfigError(f"scale {name!r}: no label for codes {missing}")
            unknown = [c for c in labels if c not in codes]
            if unknown:
                raise StudyConfigError(f"scale {name!r}: labels given for codes {unknown} that are not codes of the scale")
            labels = [labels[c] for c in codes]
        missing_codes = dict(missing_codes or {})
        return cls(
            name=name,
            codes=codes,
            labels=tuple(labels),
            top_box=tuple(top_box),
            neutral=neutral,
            missing_codes=tuple(missing_codes),
            missing_labels=tuple(missing_codes.values()),
            blank_label=blank_label,
            version=version,
            source=source,
            label_da=label_da,
            top_box_label_da=top_box_label_da,
        )

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str = "scale") -> "LikertScale":
        """Build a scale from the plain mapping of a scale file (see :meth:`from_yaml`)."""
        if not isinstance(d, Mapping):
            raise StudyConfigError(f"{where}: a scale file must be a mapping, got {type(d).__name__}")
        required = ["name", "codes", "top_box"]
        absent = [k for k in required if k not in d]
        if absent:
            raise StudyConfigError(f"{where}: missing field(s) {', '.join(absent)}")
        known = {"name", "version", "source", "label_da", "positive_pole", "codes", "top_box",
                 "top_box_label_da", "neutral", "missing_codes", "blank_label"}
        unknown = sorted(set(d) - known)
        if unknown:
            raise StudyConfigError(f"{where}: unknown field(s) {', '.join(unknown)}; known fields: {', '.join(sorted(known))}")
        codes = d["codes"]
        if not isinstance(codes, Mapping):
            raise StudyConfigError(f"{where}: 'codes' must map each code to its label")
        pole = d.get("positive_pole", "high")
        if pole not in ("high", "low"):
            raise StudyConfigError(f"{where}: positive_pole must be 'high' or 'low', got {pole!r}")
        items = [(_as_int_code(c, "code", where), str(lab)) for c, lab in codes.items()]
        items.sort(key=lambda cl: cl[0], reverse=(pole == "low"))
        missing = d.get("missing_codes") or {}
        if not isinstance(missing, Mapping):
            raise StudyConfigError(f"{where}: 'missing_codes' must map each code to its label")
        return cls(
            name=str(d["name"]),
            codes=tuple(c for c, _ in items),
            labels=tuple(lab for _, lab in items),
            top_box=tuple(d["top_box"]),
            neutral=d.get("neutral"),
            missing_codes=tuple(_as_int_code(c, "missing code", where) for c in missing),
            missing_labels=tuple(str(v) for v in missing.values()),
            blank_label=str(d.get("blank_label", "Ikke besvaret")),
            version=str(d.get("version", "")),
            source=str(d.get("source", "")).strip(),
            label_da=str(d.get("label_da", "")),
            top_box_label_da=str(d.get("top_box_label_da", "")),
        )

    @classmethod
    def from_yaml(cls, path: str | Path) -> "LikertScale":
        """Read a scale file.

        Parameters
        ----------
        path : str or Path
            YAML file with ``name``, ``version``, ``source``, ``positive_pole``,
            ``codes`` (code: label), ``top_box``, ``neutral``, ``missing_codes`` (code: label)
            and ``blank_label``.

        Returns
        -------
        LikertScale

        Examples
        --------
        >>> from importlib import resources
        >>> p = resources.files("evaluation") / "codes" / "scales" / "brugermaaling-5.yaml"
        >>> LikertScale.from_yaml(p).missing_codes
        (9, 8)
        """
        path = Path(str(path))
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise StudyConfigError(f"{path}: cannot read scale file ({exc})") from exc
        try:
            d = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise StudyConfigError(f"{path}: not valid YAML ({exc})") from exc
        return cls.from_dict(d, where=str(path))

    # --- properties -------------------------------------------------------------------
    @property
    def n_categories(self) -> int:
        return len(self.codes)

    @property
    def higher_is_positive(self) -> bool:
        """True when the numeric codes rise towards the positive pole."""
        return self.codes[-1] > self.codes[0]

    @property
    def label_map(self) -> dict[int, str]:
        """Valid codes and missing codes mapped to their labels."""
        out = dict(zip(self.codes, self.labels))
        out.update(zip(self.missing_codes, self.missing_labels))
        return out

    @property
    def negative_codes(self) -> tuple[int, ...]:
        """Codes below the neutral code (or below the top box when there is no neutral code)."""
        if self.neutral is not None:
            return self.codes[: self.codes.index(self.neutral)]
        return tuple(c for c in self.codes if c not in self.top_box)

    @property
    def positive_codes(self) -> tuple[int, ...]:
        """Codes above the neutral code (the top box when there is no neutral code)."""
        if self.neutral is not None:
            return self.codes[self.codes.index(self.neutral) + 1:]
        return self.top_box

    def label(self, code: int) -> str:
        """Label of a valid or missing code."""
        try:
            return self.label_map[int(code)]
        except KeyError:
            raise KeyError(f"{code!r} is not a code of scale {self.name!r}") from None

    def is_valid(self, code: Any) -> bool:
        return code in self.codes

    # --- recoding ---------------------------------------------------------------------
    def reverse_code(self, code: int) -> int:
        """Code of the mirrored answer: ``min(codes) + max(codes) - code``."""
        if code not in self.codes:
            raise KeyError(f"{code!r} is not a valid code of scale {self.name!r}")
        return self.codes[::-1][self.codes.index(code)]

    def reverse(self, values: pd.Series) -> pd.Series:
        """Reverse a series of valid codes (missing stays missing); returns a new series."""
        mapping = dict(zip(self.codes, self.codes[::-1]))
        return values.map(mapping, na_action="ignore").astype("Float64").rename(values.name)

    def points(self, values: pd.Series) -> pd.Series:
        """Valid codes as float points rising towards the positive pole (NaN for missing)."""
        lo, hi = min(self.codes), max(self.codes)
        v = pd.to_numeric(values, errors="coerce").astype(float)
        v = v.where(v.isin(self.codes))
        return v if self.higher_is_positive else (lo + hi) - v

    def to_dict(self) -> dict[str, Any]:
        """Plain mapping (the shape of a scale file) for the results bundle."""
        return {
            "name": self.name,
            "version": self.version,
            "source": self.source,
            "label_da": self.label_da,
            "positive_pole": "high" if self.higher_is_positive else "low",
            "codes": {c: lab for c, lab in zip(self.codes[::-1], self.labels[::-1])},
            "top_box": list(self.top_box),
            "top_box_label_da": self.top_box_label_da,
            "neutral": self.neutral,
            "missing_codes": dict(zip(self.missing_codes, self.missing_labels)),
            "blank_label": self.blank_label,
        }


def _scales_dir():
    return resources.files("evaluation").joinpath(SCALES_PACKAGE_DIR)


def available_scales() -> list[str]:
    """Names of the scales shipped with the package.

    Examples
    --------
    >>> "brugermaaling-5" in available_scales()
    True
    """
    d = _scales_dir()
    return sorted(p.name[: -len(".yaml")] for p in d.iterdir() if p.name.endswith(".yaml"))


def get_scale(name: str) -> LikertScale:
    """A shipped scale by name (read from the package data ``evaluation/codes/scales/``).

    Parameters
    ----------
    name : str
        File name without ``.yaml``, e.g. ``"brugermaaling-5"``.

    Returns
    -------
    LikertScale

    Raises
    ------
    StudyConfigError
        If no such scale is shipped (the message lists the shipped scales).

    Examples
    --------
    >>> get_scale("brugermaaling-5").label(3)
    'Både-og'
    """
    path = _scales_dir().joinpath(f"{name}.yaml")
    if not path.is_file():
        raise StudyConfigError(f"unknown scale {name!r}; shipped scales: {', '.join(available_scales())}")
    scale = LikertScale.from_yaml(path)
    if scale.name != name:
        raise StudyConfigError(f"{path}: file name says {name!r} but the scale is named {scale.name!r}")
    return scale
