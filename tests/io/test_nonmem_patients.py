"""Per-patient therapy tables (fmsim.io.nonmem_patients): patients by number, dose and session
records, one course per THERAPY value, and bad tables named in one line."""

from __future__ import annotations

import pytest

from fmsim.io.event_table import EventTableError
from fmsim.io.nonmem_patients import (
    MAX_DATASET_ROWS,
    check_dataset_size,
    is_per_patient,
    read_patient_tables,
)
from fmsim.model.human import HUMAN_MODEL

HEADER = "ID,TIME,AMT,RATE,DUR,CMT,EVID,DRUG,FRAC,FLUID\n"


def write(tmp_path, text, name="course.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_patients_doses_and_sessions_are_read_per_patient(tmp_path):
    path = write(
        tmp_path,
        HEADER
        + "2,0,0,0,0.1,igg_plasma,2,plasma_exchange,0.6,albumin\n"
        + "2,0,700,16800,0.041666666666666664,inhibitor_central,1,efgartigimod,,\n"
        + "1,3,0,0,0,igg_plasma,0,,,\n",  # an observation: names patient 1
    )
    (table,) = read_patient_tables(path, HUMAN_MODEL)
    assert table.name == "course" and table.patients == (2, 1) and table.rows == (2, 4)
    (dose,) = table.doses
    assert (dose.patient, dose.time, dose.value, dose.drug) == (2, 0.0, 16800.0, "efgartigimod")
    assert dose.duration == 0.041666666666666664  # DUR as given (AMT = RATE x DUR)
    (session,) = table.sessions
    assert session.patient == 2 and session.record.fraction == 0.6
    assert session.record.kind == "plasma_exchange" and session.record.fluid == "albumin"
    assert session.record.hours == pytest.approx(2.4)
    assert table.drugs == {"fcrn_inhibitor": ("efgartigimod", 3)}


def test_a_therapy_column_gives_one_course_per_value_and_is_per_patient(tmp_path):
    path = write(
        tmp_path,
        "ID,TIME,AMT,CMT,DRUG,THERAPY\n1,0,680,inhibitor_depot,batoclimab,B\n"
        "1,0,1000,ivig_plasma,ivig,I\n2,7,680,inhibitor_depot,batoclimab,B\n",
    )
    assert is_per_patient(path)
    assert is_per_patient(write(tmp_path, "ID,TIME,AMT,CMT\n1,0,5,1\n2,0,5,1\n", "ids.csv"))
    assert not is_per_patient(write(tmp_path, "ID,TIME,AMT,CMT\n1,0,5,1\n", "one.csv"))
    assert not is_per_patient(write(tmp_path, "TIME,AMT,CMT\n0,5,1\n", "all.csv"))
    courses = read_patient_tables(path, HUMAN_MODEL)
    assert [(t.name, t.patients, len(t.doses)) for t in courses] == [
        ("B", (1, 2), 2),
        ("I", (1,), 1),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("TIME,AMT,CMT\n0,5,1\n", "missing column ID"),
        ("ID,TIME,AMT,CMT\nP1,0,5,1\n", r":2: column ID: value 'P1': expected a patient number"),
        ("ID,TIME,AMT,CMT\n0,0,5,1\n", r":2: column ID: value '0': expected a patient number"),
        (HEADER + "1,0,0,0,0,igg_plasma,2,plasma_exchange,1.5,\n",
         r":2: column FRAC: value '1.5': expected the fraction of plasma removed"),
        ("ID,TIME,AMT,CMT,EVID,FRAC,PV\n1,0,0,igg_plasma,2,0.5,1\n",
         r":2: column PV: .*expected one of FRAC, PV or VOL per session, got FRAC and PV"),
        ("ID,TIME,AMT,CMT,EVID,PV\n1,0,0,ivig_plasma,2,1\n",
         r":2: column CMT: value 'ivig_plasma': expected igg_plasma \(compartment 1\)"),
        ("ID,TIME,AMT,CMT,EVID,VOL\n1,0,0,igg_plasma,2,20000\n",
         r"column VOL: value '20000': expected a volume per session > 0 and <= 15000 mL"),
        ("ID,TIME,AMT,CMT,EVID,PV,ADDL,II\n1,0,0,igg_plasma,2,1,3,2\n",
         r"column ADDL: value '3': expected one record per session"),
        ("ID,TIME,AMT,CMT,EVID,PV,DRUG,FLUID\n1,0,0,igg_plasma,2,1,protein_a,albumin\n",
         r"column FLUID: value 'albumin': a replacement fluid applies to plasma exchange"),
        ("ID,TIME,AMT,CMT,DRUG\n1,0,680,inhibitor_depot,\n",
         r":2: column DRUG: value nan: expected the library entry of the fcrn_inhibitor"),
        ("ID,TIME,AMT,CMT,DRUG\n1,0,680,inhibitor_depot,batoclimab\n"
         "2,0,600,inhibitor_depot,nipocalimab\n",
         r":3: column DRUG: value 'nipocalimab': expected one fcrn_inhibitor per course "
         r"\('batoclimab' from row 2\)"),
        ("ID,TIME,AMT,CMT,THERAPY\n1,0,5,ivig_plasma,\n", r":2: column THERAPY: value ''"),
        ("ID,TIME,AMT,CMT,ARM\n1,0,5,ivig_plasma,a\n1,1,5,ivig_plasma,b\n",
         r":3: column ARM: value 'b': patient 1 is in arm 'a' on row 2"),
        ("ID,TIME,AMT,CMT,EVID\n1,0,0,1,0\n", "no dose records .* or sessions"),
    ],
)  # fmt: skip
def test_bad_per_patient_tables_are_named_in_one_line(tmp_path, content, message):
    path = write(tmp_path, content)
    with pytest.raises(EventTableError, match=message) as error:
        read_patient_tables(path, HUMAN_MODEL)
    assert str(error.value).startswith(str(path)) and "\n" not in str(error.value)


def test_a_patient_outside_the_population_names_file_row_and_id(tmp_path):
    path = write(tmp_path, "ID,TIME,AMT,CMT,DRUG\n1,0,680,7,batoclimab\n9,0,680,7,batoclimab\n")
    (table,) = read_patient_tables(path, HUMAN_MODEL)
    with pytest.raises(EventTableError) as error:
        table.check_patients(5, "virtual patient sampled with seed 2024")
    assert str(error.value) == (
        f"{path}:3: column ID: value '9': expected a patient number from 1 to 5 (the n-th "
        "virtual patient sampled with seed 2024)"
    )
    table.check_patients(9, "patient")  # within the population: no error


def test_data_sets_larger_than_the_limit_are_refused():
    check_dataset_size(MAX_DATASET_ROWS, "at the limit", "")
    with pytest.raises(ValueError, match=r"3 patients is about 2,000,001 records, more than"):
        check_dataset_size(MAX_DATASET_ROWS + 1, "3 patients", "lower --patients")
