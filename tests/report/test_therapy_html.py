"""The therapies report's main findings state the patients' pain: per therapy the median pain
(0-10) on the first day, at its lowest and on the last day, each with the 5th-95th percentile
of the patients that day, equal to the study's ``therapy_pain`` table."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from fmsim.config.therapy import drug_library, regimen_protocol
from fmsim.experiments.studies import therapy_study
from fmsim.report import render
from fmsim.report.references import visible_text
from fmsim.report.therapy_html import pain_finding


def pain_table(days, q05, q50, q95) -> pd.DataFrame:
    return pd.DataFrame(
        {"therapy": "t", "day": days, "quantity": "pain_nrs", "q05": q05, "q25": np.nan,
         "q50": q50, "q75": np.nan, "q95": q95}
    )  # fmt: skip


def test_pain_falls_to_its_lowest_and_rises_again():
    table = pain_table(
        [14.0, 0.0, 7.0, 28.0], [1.0, 2.0, 0.5, 1.5], [3.5, 6.0, 3.5, 5.04], [7.0, 9.0, 6.0, 8.0]
    )  # fmt: skip  (unsorted; a tie at 3.5: day 7 first)
    assert pain_finding(table) == (
        "Median pain (0-10 scale; 5th-95th percentile of patients that day) goes from 6.0 on "
        "day 0 (2.0 to 9.0) to 3.5 on day 7 (0.5 to 6.0) at its lowest, and is 5.0 on day 28 "
        "(1.5 to 8.0)."
    )


def test_pain_lowest_on_the_last_day_and_pain_that_does_not_fall():
    falling = pain_table([0.0, 0.5, 91.0], [2.0, 2.0, 1.0], [6.0, 5.0, 4.0], [9.0, 9.0, 8.0])
    assert pain_finding(falling).endswith("to 4.0 on day 91 (1.0 to 8.0) at its lowest.")
    flat = pain_table([0.0, 91.0], [2.0, 2.0], [6.0, 6.0], [9.0, 9.0])
    assert pain_finding(flat) == (
        "Median pain (0-10 scale; 5th-95th percentile of patients that day) does not fall "
        "below its start, 6.0 on day 0 (2.0 to 9.0); it is 6.0 on day 91 (2.0 to 9.0)."
    )


PAIN = re.compile(
    r"(?P<therapy>.+?): anti-SGC IgG [^<]*? Median pain \(0-10 scale; 5th-95th percentile of "
    r"patients that day\) goes from (?P<start>[\d.]+) on day (?P<day0>[\d.]+) \((?P<s05>[\d.]+) "
    r"to (?P<s95>[\d.]+)\) to (?P<low>[\d.]+) on day (?P<lowday>[\d.]+) \((?P<l05>[\d.]+) to "
    r"(?P<l95>[\d.]+)\) at its lowest(, and is (?P<end>[\d.]+) on day (?P<endday>[\d.]+) "
    r"\((?P<e05>[\d.]+) to (?P<e95>[\d.]+)\))?\."
)


@pytest.fixture(scope="module")
def study():
    library = drug_library()
    protocols = {
        name: regimen_protocol(library.get(name), library) for name in ("efgartigimod", "protein_a")
    }
    return therapy_study(protocols, patients=6, days=91)


def test_report_states_each_therapys_pain_as_the_study_table_gives_it(study, tmp_path):
    page = render(study, tmp_path).read_text()
    first = page.split("<h2>Main findings</h2>", 1)[1].split("<h2", 1)[0]
    items = [visible_text(item) for item in re.findall(r"<li>(.*?)</li>", first, re.S)]
    stated = {m["therapy"]: m for m in map(PAIN.fullmatch, items) if m}
    table = study.to_frame("therapy_pain")
    assert set(stated) == set(table["therapy"]) and len(stated) == 2
    for therapy, match in stated.items():
        rows = table[table["therapy"] == therapy].sort_values("day")
        day, q05, q50, q95 = (rows[c].to_numpy() for c in ("day", "q05", "q50", "q95"))
        k = int(np.argmin(q50))  # numpy's argmin: the first of equal minima
        assert k > 0  # the therapies lower the median pain
        expected = [q50[0], day[0], q05[0], q95[0], q50[k], day[k], q05[k], q95[k]]
        names = ["start", "day0", "s05", "s95", "low", "lowday", "l05", "l95"]
        if k < len(day) - 1:
            expected += [q50[-1], day[-1], q05[-1], q95[-1]]
            names += ["end", "endday", "e05", "e95"]
        else:
            assert match["end"] is None
        for name, value in zip(names, expected, strict=True):
            digits = 0 if "day" in name else 1
            assert float(match[name]) == pytest.approx(value, abs=0.5 * 10**-digits + 1e-9), name
