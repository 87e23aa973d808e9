"""A lab's own behavioural data, validated and analysed with the statistics fmsim applies to
simulated experiments (:func:`fmsim.experiments.analysis.analyze_passive_transfer`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pandas as pd

from fmsim.experiments.analysis import PassiveTransferAnalysis, analyze_passive_transfer
from fmsim.experiments.result import Provenance, StudyError, StudyResult, Table, config_hash
from fmsim.io.lab_data import Issue, issues_frame
from fmsim.io.lab_layouts import LabFormat, read_lab_file
from fmsim.io.store import sha256_file


@dataclass(frozen=True)
class LabData:
    """A validated data file: the rows used (``clean``), every excluded, erroneous or converted
    row (``issues``) and the file."""

    clean: pd.DataFrame
    issues: list[Issue]
    source: Path


def load_lab_data(
    path: Path,
    groups: list[str] | None = None,
    *,
    sheet: str | None = None,
    fmt: LabFormat | None = None,
) -> LabData:
    """Read and validate ``path`` (CSV or Excel; tidy as in :mod:`fmsim.io.lab_data`, or a
    layout of ``fmt``: own column names, Prism wide tables, user-named tests, see
    :mod:`fmsim.io.lab_layouts`; ``sheet``: the Excel sheet, default the only one with the
    required columns); with ``groups`` any other group name is an error. Raises
    :class:`fmsim.io.lab_data.LabDataError` if the file cannot be used at all."""
    clean, issues = read_lab_file(path, fmt, expected_groups=groups, sheet=sheet)
    return LabData(clean, issues, Path(path))


@dataclass(frozen=True)
class LabDataStudy(StudyResult):
    """A lab's data analysed: group x day mixed models with post hoc tests per test, single-day
    endpoints, onset and recovery, donors and per-mouse AUC."""

    kind: ClassVar[str] = "lab_data_analysis"
    data: LabData
    analysis: PassiveTransferAnalysis
    control: str
    disease_group: str
    baseline_day: float
    provenance: Provenance

    def tables(self) -> dict[str, Table]:
        readouts = self.analysis.readouts
        statistic = {"test": "statistic_test"}  # omnibus "test" names the statistic used
        omnibus = {
            t: a.omnibus.rename_axis("term").reset_index().rename(columns=statistic)
            for t, a in readouts.items()
        }
        return {
            "clean_data": Table(
                self.data.clean,
                "the rows used, in file order ('source_row': row in the file, header = row 1)",
                {"day": "day", "value": "see column 'unit' (von Frey in g)"},
            ),
            "data_issues": Table(
                issues_frame(self.data.issues),
                "every excluded, erroneous or converted row of the file",
            ),
            "posthoc": Table(
                _by_test({t: a.posthoc for t, a in readouts.items()}),
                f"per test, group and day: difference versus {self.control!r} (Welch, Holm)",
                {"day": "day", "difference": "unit of the test", "p_value": "1"},
            ),
            "omnibus": Table(
                _by_test(omnibus), "per test: mixed-model terms (group, day, group x day)"
            ),
            "endpoint": Table(
                _by_test(self.analysis.endpoint),
                "single-day tests (e.g. IENFD): each group versus control (Welch)",
                {"day": "day", "difference": "unit of the test", "p_value": "1"},
            ),
            "time_course_summary": Table(
                self.analysis.time_course,
                f"per test: first and last day {self.disease_group!r} differs from control",
                {"first_significant_day": "day", "last_significant_day": "day"},
            ),
            "donor_effects": Table(
                self.analysis.donors,
                "per donor of the disease group and test: % change from baseline, Welch p",
                {"change_percent": "%", "control_change_percent": "%", "p_value": "1"},
            ),
            "auc_versus_control": Table(
                self.analysis.auc,
                "per test and group: per-mouse baseline-corrected AUC versus control",
                {"difference": "unit of the test x day", "p_value": "1", "hedges_g": "1"},
            ),
        }


def lab_data_study(data: LabData, control: str, disease_group: str | None = None) -> LabDataStudy:
    """Analyse ``data`` against the ``control`` group; ``disease_group`` (default: the first
    other group) is the one whose onset and recovery are summarised. The baseline is the
    smallest day. Raises :class:`StudyError` naming the option and the groups present."""
    clean, source = data.clean, data.source
    if clean.empty:
        raise StudyError(f"{source}: no usable rows left after validation (see the issues above)")
    present = list(pd.unique(clean["group"]))
    if control not in present:
        raise StudyError(
            f"--control: group {control!r} is not in {source}; groups: {', '.join(present)}"
        )
    others = [g for g in present if g != control]
    if disease_group is None and others:
        disease_group = others[0]
    if disease_group not in others:
        raise StudyError(
            f"--disease: group {disease_group!r} is not a non-control group in {source}; "
            f"groups: {', '.join(present)}"
        )
    baseline_day = float(clean["day"].min())
    measurements = clean if "donor" in clean.columns else clean.assign(donor=clean["group"])
    try:
        analysis = analyze_passive_transfer(
            measurements, control=control, disease_group=disease_group, baseline_day=baseline_day
        )
    except (ValueError, RuntimeError) as error:
        first_line = str(error).splitlines()[0]
        raise StudyError(f"{source}: cannot analyse the data: {first_line}") from None
    settings = {"data_sha256": sha256_file(source), "control": control, "disease": disease_group}
    provenance = Provenance(config_hash(settings), (source,))
    return LabDataStudy(data, analysis, control, disease_group, baseline_day, provenance)


def _by_test(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Stack per-test tables with a leading ``test`` column."""
    parts = [t.assign(test=name)[["test", *t.columns]] for name, t in tables.items()]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["test"])
