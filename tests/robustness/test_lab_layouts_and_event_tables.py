"""Odd and broken inputs of the field's formats fed to the real command line: Prism and
column-mapped lab data (``fmsim analyze --columns/--layout/--test/--unit/--tests``) and NONMEM
event tables (``--events`` of ``simulate``, ``therapies``, ``trial``). Each ends in one line
naming the file (row, column, value) or the option, before any analysis or simulation."""

from __future__ import annotations

import pytest
from tests.robustness.harness import Case, check_refused

TIDY = "mouse,group,day,test,value,unit\n" + "".join(
    f"{g}{m},{g},{d},grip_strength,{100 + m + d},g\n" for g in ("HC", "FMS") for m in range(3)
    for d in (0, 1)
)  # fmt: skip
GROUPED = "Day,HC,,FMS,\n,M1,M2,M3,M4\n0,1,2,3,4\n1,1,2,3,4\n"
SCENARIO = """\
name: robustness
dose: 4 mg
injection_days: [0, 1]
test_days: [0, 1, 3]
groups:
  - {name: FMS-IgG, material: igg, donors: [{id: F1, anti_sgc_fraction: 0.008}], mice: 2}
  - {name: HC-IgG, material: igg, donors: [{id: H1, anti_sgc_fraction: 0.0}], mice: 2}
control_group: HC-IgG
disease_group: FMS-IgG
"""
TRIAL = """\
name: robustness trial
patients: 20
duration_weeks: 6
arms:
  - {name: placebo, therapies: [{type: placebo}]}
  - {name: active, therapies: [{type: placebo}]}
control_arm: placebo
primary: {outcome: pain_nrs, week: 6}
"""


def analyze(data: str, *options: str) -> list[str]:
    return ["analyze", f"{{in}}/{data}", "--out", "{out}", "--control", "HC", *options]


#: (category, what, files, options after the data file, fragments of the error)
LAB_CASES = [
    ("layout", "ambiguous wide table", {"d.csv": "Day,A,B\n0,1,2\n"},
     ["--test", "grip_strength", "--unit", "g"], ["ambiguous layout"]),
    ("layout", "wide table without its test", {"d.csv": GROUPED}, [], ["holds one test"]),
    ("layout", "per-mouse table without groups", {"d.csv": "Day,M1,M2\n0,1,2\n"},
     ["--layout", "per_mouse", "--test", "grip_strength", "--unit", "g"], ["'group'"]),
    ("layout", "unknown layout", {"d.csv": TIDY}, ["--layout", "long"], ["--layout: got 'long'"]),
    ("mapping", "unmapped required column", {"d.csv": TIDY.replace("mouse,", "Mouse ID,", 1)},
     [], ["missing required column(s) ['mouse']", "--columns"]),
    ("mapping", "mapped column not in the file", {"d.csv": TIDY}, ["--columns", "Animal=mouse"],
     ["column 'Animal' is not in the file"]),
    ("mapping", "two columns mapped to one", {"d.csv": TIDY}, ["--columns", "a=mouse,b=mouse"],
     ["both mapped to 'mouse'"]),
    ("mapping", "a column mapped twice", {"d.csv": TIDY}, ["--columns", "a=mouse,a=group"],
     ["got 'a' twice"]),
    ("mapping", "mapped onto an existing column", {"d.csv": TIDY}, ["--columns", "group=mouse"],
     ["which the file already has"]),
    ("mapping", "unknown target", {"d.csv": TIDY}, ["--columns", "mouse=animal"],
     ["expected one of the columns"]),
    ("mapping", "mapping file with unknown key", {"d.csv": TIDY, "m.yaml": "colums: {a: mouse}\n"},
     ["--columns", "{in}/m.yaml"], ["unknown key(s) ['colums']"]),
    ("mapping", "mapping file not a mapping", {"d.csv": TIDY, "m.yaml": "columns: [a, b]\n"},
     ["--columns", "{in}/m.yaml"], ["columns: expected a mapping"]),
    ("units", "unknown unit of a wide table", {"d.csv": GROUPED},
     ["--test", "grip_strength", "--unit", "stone"], ["unknown unit 'stone'"]),
    ("units", "unknown unit of a user test", {"d.csv": TIDY}, ["--tests", "burrowing=furlong"],
     ["--tests: test 'burrowing': unknown unit 'furlong'"]),
    ("units", "test without unit", {"d.csv": GROUPED}, ["--test", "grip_strength"],
     ["give both the test and its unit"]),
]  # fmt: skip

PER_PATIENT = (
    "ID,TIME,AMT,CMT,DRUG\n1,0,680,inhibitor_depot,batoclimab\n2,0,680,inhibitor_depot,batoclimab\n"
)
CROSSOVER = """\
name: robustness crossover
patients: 20
design: crossover
arms:
  - {name: placebo, therapies: [{type: placebo}]}
  - {name: active, therapies: [{type: placebo}]}
control_arm: placebo
crossover:
  period_weeks: 4
  sequences: [{name: AP, periods: [active, placebo]}, {name: PA, periods: [placebo, active]}]
primary: {outcome: pain_nrs, week: 4}
"""

#: (command, what, files, argv, fragments of the error)
EVENT_CASES = [
    ("simulate", "unknown compartment", {"e.csv": "TIME,AMT,CMT\n0,4,spleen\n"},
     ["simulate", "{in}/s.yaml", "--events", "{in}/e.csv", "--out", "{out}"],
     ["e.csv:2: column CMT: value 'spleen'"]),
    ("simulate", "unknown mouse", {"e.csv": "ID,TIME,AMT,CMT\n1,0,4,1\nX9,0,4,1\n"},
     ["simulate", "{in}/s.yaml", "--events", "{in}/e.csv", "--out", "{out}"],
     ["e.csv:3: column ID: value 'X9'"]),
    ("simulate", "reset record", {"e.csv": "TIME,AMT,CMT,EVID\n0,4,1,3\n"},
     ["simulate", "{in}/s.yaml", "--events", "{in}/e.csv", "--out", "{out}"],
     ["column EVID: value '3'"]),
    ("simulate", "a billion additional doses", {"e.csv": "TIME,AMT,CMT,ADDL,II\n0,4,1,1e9,1\n"},
     ["simulate", "{in}/s.yaml", "--events", "{in}/e.csv", "--out", "{out}"],
     ["e.csv:2: column ADDL"]),
    ("simulate", "observations only", {"e.csv": "TIME,AMT,CMT,EVID\n1,0,2,0\n"},
     ["simulate", "{in}/s.yaml", "--events", "{in}/e.csv", "--out", "{out}"],
     ["no dose records"]),
    ("simulate", "binary file", {"e.csv": b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe"},
     ["simulate", "{in}/s.yaml", "--events", "{in}/e.csv", "--out", "{out}"], ["e.csv"]),
    ("simulate", "missing table", {},
     ["simulate", "{in}/s.yaml", "--events", "{in}/e.csv", "--out", "{out}"], ["no such file"]),
    ("simulate", "events field not a file name", {"s.yaml": SCENARIO + "events: [1, 2]\n"},
     ["simulate", "{in}/s.yaml", "--out", "{out}"], ["s.yaml: events: got [1, 2]"]),
    ("trial", "arm's events file missing",
     {"t.yaml": TRIAL.replace("{name: active, therapies: [{type: placebo}]}",
                              "{name: active, events: nope.csv}")},
     ["trial", "{in}/t.yaml", "--no-power", "--out", "{out}"], ["nope.csv: no such file"]),
    ("therapies", "patient outside the population", {"e.csv": PER_PATIENT},
     ["therapies", "--events", "{in}/e.csv", "--patients", "1", "--out", "{out}"],
     ["e.csv:3: column ID: value '2': expected a patient number from 1 to 1"]),
    ("therapies", "patient not a number", {"e.csv": PER_PATIENT.replace("\n2,", "\nP2,")},
     ["therapies", "--events", "{in}/e.csv", "--out", "{out}"],
     ["e.csv:3: column ID: value 'P2': expected a patient number"]),
    ("therapies", "two inhibitors in one course",
     {"e.csv": PER_PATIENT.replace("2,0,680,inhibitor_depot,batoclimab",
                                   "2,0,600,inhibitor_depot,nipocalimab")},
     ["therapies", "--events", "{in}/e.csv", "--out", "{out}"],
     ["e.csv:3: column DRUG: value 'nipocalimab': expected one fcrn_inhibitor per course"]),
    ("therapies", "session fraction out of range",
     {"e.csv": "ID,TIME,AMT,CMT,EVID,FRAC\n1,0,0,igg_plasma,2,1.5\n2,0,0,igg_plasma,2,0.5\n"},
     ["therapies", "--events", "{in}/e.csv", "--out", "{out}"], ["e.csv:2: column FRAC"]),
    ("therapies", "session with two amounts",
     {"e.csv": "TIME,AMT,CMT,EVID,PV,VOL\n0,0,igg_plasma,2,1,2500\n"},
     ["therapies", "--events", "{in}/e.csv", "--out", "{out}"],
     ["e.csv:2: column VOL", "one of FRAC, PV or VOL"]),
    ("therapies", "session into another compartment",
     {"e.csv": "TIME,AMT,CMT,EVID,PV\n0,0,ivig_plasma,2,1\n"},
     ["therapies", "--events", "{in}/e.csv", "--out", "{out}"],
     ["e.csv:2: column CMT: value 'ivig_plasma': expected igg_plasma"]),
    ("therapies", "fraction in a table for every patient",
     {"e.csv": "TIME,AMT,CMT,EVID,FRAC\n0,0,igg_plasma,2,0.5\n"},
     ["therapies", "--events", "{in}/e.csv", "--out", "{out}"],
     ["e.csv:2: column FRAC", "per-patient result"]),
    ("therapies", "data set too large", {},
     ["therapies", "--agents", "efgartigimod", "--patients", "20000", "--days", "100",
      "--nonmem", "--out", "{out}"], ["--nonmem: 20,000 patients x 101 days"]),
    ("therapies", "i.v. bolus", {"e.csv": "TIME,AMT,CMT,DRUG\n0,700,inhibitor_central,"
     "efgartigimod\n"}, ["therapies", "--events", "{in}/e.csv", "--out", "{out}"],
     ["expected an infusion"]),
    ("therapies", "dose into a state no therapy doses", {"e.csv": "TIME,AMT,CMT\n0,5,igg_plasma\n"},
     ["therapies", "--events", "{in}/e.csv", "--out", "{out}"], ["therapy's dosing state"]),
    ("trial", "table for all without its arm", {"e.csv": "TIME,AMT,CMT\n0,5,ivig_plasma\n"},
     ["trial", "{in}/t.yaml", "--no-power", "--events", "{in}/e.csv", "--out", "{out}"],
     ["--events", "e.csv: without ARM= a table gives records per patient", "ARM=FILE"]),
    ("trial", "malformed option", {"e.csv": "TIME,AMT,CMT\n0,5,ivig_plasma\n"},
     ["trial", "{in}/t.yaml", "--no-power", "--events", "={in}/e.csv", "--out", "{out}"],
     ["expected ARM=FILE"]),
    ("trial", "per-patient records with power curves", {"e.csv": PER_PATIENT},
     ["trial", "{in}/t.yaml", "--events", "{in}/e.csv", "--out", "{out}"], ["add --no-power"]),
    ("trial", "patient outside the trial", {"e.csv": PER_PATIENT.replace("\n2,", "\n21,")},
     ["trial", "{in}/t.yaml", "--no-power", "--events", "{in}/e.csv", "--out", "{out}"],
     ["e.csv:3: column ID: value '21': expected a patient number from 1 to 20"]),
    ("trial", "two arms for one patient",
     {"e.csv": "ID,TIME,AMT,CMT,ARM\n1,0,5,ivig_plasma,placebo\n1,7,5,ivig_plasma,active\n"},
     ["trial", "{in}/t.yaml", "--no-power", "--events", "{in}/e.csv", "--out", "{out}"],
     ["e.csv:3: column ARM: value 'active': patient 1 is in arm 'placebo' on row 2"]),
    ("trial", "per-patient arm table in a crossover", {"e.csv": PER_PATIENT},
     ["trial", "{in}/c.yaml", "--no-power", "--events", "active={in}/e.csv", "--out", "{out}"],
     ["in a crossover trial an arm is a period"]),
    ("trial", "data set too large", {"t.yaml": TRIAL.replace("patients: 20", "patients: 2000")
                                     .replace("duration_weeks: 6", "duration_weeks: 52")},
     ["trial", "{in}/t.yaml", "--no-power", "--nonmem", "--out", "{out}"],
     ["--nonmem: 2,000 patients x 365 days"]),
    ("trial", "unknown arm", {"e.csv": "TIME,AMT,CMT\n0,5,ivig_plasma\n"},
     ["trial", "{in}/t.yaml", "--no-power", "--events", "nosuch={in}/e.csv", "--out", "{out}"],
     ["arm 'nosuch'"]),
]  # fmt: skip


def _lab_case(category, what, files, options, expect) -> Case:
    argv = analyze("d.csv", *options)
    names = ["d.csv", "m.yaml", *[o for o in options if o.startswith("--")]]
    return Case(f"analyze:{category}:{what}", argv, files, expect, names=names)


def _event_case(command, what, files, argv, expect) -> Case:
    files = {"s.yaml": SCENARIO, "t.yaml": TRIAL, "c.yaml": CROSSOVER, **files}
    names = ["e.csv", "--events", "s.yaml", "nope.csv", "--nonmem"]
    return Case(f"{command}:event table:{what}", argv, files, expect, names=names)


CASES = [_lab_case(*row) for row in LAB_CASES] + [_event_case(*row) for row in EVENT_CASES]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_bad_layout_or_event_table_is_refused_in_one_line(case, tmp_path):
    check_refused(case, tmp_path)
