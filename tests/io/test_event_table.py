"""Dosing event tables in the NONMEM / mrgsolve convention (fmsim.io.event_table): tables and
protocols give identical simulations, tables round-trip, bad tables are named in one line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fmsim.config import load_config
from fmsim.config.therapy import parse_protocol
from fmsim.engine import Bolus, Infusion, Removal, run
from fmsim.experiments.passive_transfer import build_virtual_cohort
from fmsim.experiments.therapy import protocol_events, sample_population
from fmsim.io.event_table import (
    EventTableError,
    event_table,
    nonmem_dataset,
    read_event_table,
)
from fmsim.model.equations import MODEL, initial_state
from fmsim.model.human import HUMAN_MODEL
from fmsim.model.human import initial_state as human_initial_state

TIMES = np.arange(0.0, 21.0, 0.5)


def simulate(model, subjects, y0, events):
    return run(model, subjects, y0, TIMES, events, rtol=1e-9, atol=1e-12).states


def test_a_nonmem_table_gives_the_simulation_of_the_yaml_scenario(tmp_path):
    # examples/low_dose.yaml: 4 mg i.p. on days 0, 1, 2, 3 for every mouse
    cohort = build_virtual_cohort(load_config("examples/low_dose.yaml"))
    table = tmp_path / "doses.csv"
    table.write_text("ID,TIME,AMT,CMT,EVID,RATE,ADDL,II\n.,0,4,human_ip_depot,1,0,3,1\n")
    read = read_event_table(table, MODEL)
    assert read.ids == ()
    assert read.events == tuple(Bolus(day, MODEL.index("human_ip_depot"), 4.0) for day in range(4))
    y0 = initial_state(cohort.subjects)
    np.testing.assert_array_equal(
        simulate(MODEL, cohort.subjects, y0, read.events),
        simulate(MODEL, cohort.subjects, y0, cohort.doses),
    )


def test_per_subject_doses_round_trip(tmp_path):
    cohort = build_virtual_cohort(load_config("examples/low_dose.yaml"))
    n = cohort.subjects.n
    ids = [f"M{k:03d}" for k in range(n)]
    amounts = np.linspace(2.0, 6.0, n)  # every mouse its own dose
    events = [Bolus(day, MODEL.index("human_ip_depot"), amounts) for day in (0.0, 1.0)]
    path = tmp_path / "table.csv"
    event_table(events, MODEL, ids).to_csv(path, index=False)
    read = read_event_table(path, MODEL)
    assert read.ids == tuple(ids)
    for original, back in zip(events, read.events, strict=True):
        assert (back.time, back.state) == (original.time, original.state)
        np.testing.assert_array_equal(back.amount, original.amount)
    y0 = initial_state(cohort.subjects)
    np.testing.assert_array_equal(
        simulate(MODEL, cohort.subjects, y0, read.events),
        simulate(MODEL, cohort.subjects, y0, events),
    )


def test_a_therapy_protocol_round_trips_as_infusions(tmp_path):
    population = sample_population(3, np.random.default_rng(5), anti_sgc_positive_fraction=1.0)
    protocol = parse_protocol(
        {
            "name": "efgartigimod",
            "therapies": [
                {"type": "efgartigimod_iv", "dose": "10 mg/kg", "start": 0, "every": 7, "count": 3}
            ],
        }
    )
    patients = population.patients(protocol)
    events = protocol_events(protocol, population)
    path = tmp_path / "therapy.csv"
    event_table(events, HUMAN_MODEL, ["1", "2", "3"]).to_csv(path, index=False)
    table = pd.read_csv(path)
    assert set(table["CMT"]) == {"inhibitor_central"} and (table["RATE"] > 0).all()
    read = read_event_table(path, HUMAN_MODEL)
    assert all(isinstance(e, Infusion) for e in read.events)
    y0 = human_initial_state(patients)
    np.testing.assert_allclose(
        simulate(HUMAN_MODEL, patients, y0, read.events),
        simulate(HUMAN_MODEL, patients, y0, events),
        rtol=1e-12,
    )


def test_rate_minus_two_takes_the_duration_and_cmt_may_be_a_number(tmp_path):
    path = tmp_path / "infusion.csv"
    number = HUMAN_MODEL.states.index("ivig_plasma") + 1
    path.write_text(f"time,amt,cmt,rate,dur\n2,150000,{number},-2,0.25\n")
    (event,) = read_event_table(path, HUMAN_MODEL).events
    assert event == Infusion(2.0, 2.25, number - 1, 600000.0)


def test_observation_records_give_output_times(tmp_path):
    path = tmp_path / "obs.csv"
    path.write_text("ID,TIME,AMT,CMT,EVID,DV\n1,0,8,1,1,\n1,1,0,2,0,3.1\n1,3,0,2,0,2.0\n")
    table = read_event_table(path, MODEL)
    assert table.observation_times == (1.0, 3.0)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("TIME,AMT\n0,8\n", r"missing column\(s\) \['CMT'\]"),
        ("TIME,AMT,CMT\n0,8,spleen\n", r":2: column CMT: value 'spleen': expected a state of"),
        ("TIME,AMT,CMT\n0,8,9\n", r"expected a compartment number 1-8"),
        ("TIME,AMT,CMT,EVID\n0,8,1,4\n", r"column EVID: value '4'.*resets"),
        ("TIME,AMT,CMT\n-1,8,1\n", r"column TIME: value '-1': expected a time from 0 to 3650"),
        ("TIME,AMT,CMT\n1e9,8,1\n", r"column TIME: value '1e9': expected a time from 0"),
        ("TIME,AMT,CMT,ADDL,II\n0,8,1,1000000000,1\n", r"column ADDL: .*by day 3650"),
        ("TIME,AMT,CMT\n0,-8,1\n", r"column AMT: value '-8': expected an amount >= 0"),
        ("TIME,AMT,CMT,ADDL\n0,8,1,3\n", r"column II: .*with ADDL > 0"),
        ("TIME,AMT,CMT\n0,eight,1\n", r":2: column AMT: value 'eight': expected a number"),
        ("TIME,AMT,CMT,RATE\n0,8,1,-1\n", r"modelled rates \(-1\) are not supported"),
        ("TIME,AMT,CMT,RATE,DUR\n0,8,1,-2,\n", r"column DUR.*RATE = -2"),
    ],
)
def test_bad_tables_are_named_in_one_line(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(EventTableError, match=message) as error:
        read_event_table(path, MODEL)
    assert str(error.value).startswith(str(path)) and "\n" not in str(error.value)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(EventTableError, match="no such file"):
        read_event_table(tmp_path / "none.csv", MODEL)


def test_removals_have_no_table_form():
    with pytest.raises(ValueError, match="no NONMEM event-table form"):
        event_table([Removal(1.0, (1,), 0.5)], MODEL)


def test_simulated_data_as_a_nonmem_data_set():
    cohort = build_virtual_cohort(load_config("examples/low_dose.yaml"))
    subjects = MODEL.subjects_type(**{c: getattr(cohort.subjects, c)[:2] for c in MODEL.constants})
    events = [Bolus(d, MODEL.index("human_ip_depot"), 4.0) for d in (0.0, 1.0)]
    times = [0.0, 1.0, 2.0]
    states = run(MODEL, subjects, initial_state(subjects), times, events).states
    data = nonmem_dataset(MODEL, times, states, events, ["human_plasma"], ids=["A", "B"])
    assert list(data.columns) == ["ID", "TIME", "AMT", "RATE", "DUR", "CMT", "EVID", "DV", "MDV"]
    doses = data[data["EVID"] == 1]
    assert len(doses) == 4 and (doses["MDV"] == 1).all() and doses["DV"].isna().all()
    observed = data[(data["EVID"] == 0) & (data["ID"] == "B")]
    np.testing.assert_array_equal(observed["DV"], states[:, MODEL.index("human_plasma"), 1])
    # at a dose time the observation (before the dose, as fmsim reports it) comes first
    first = data[(data["ID"] == "A") & (data["TIME"] == 1.0)]
    assert list(first["EVID"]) == [0, 1]


@pytest.mark.parametrize(
    ("encoding", "separator"), [("utf-8-sig", ";"), ("utf-16", "\t"), ("latin-1", ",")]
)
def test_tables_in_excel_encodings_and_separators_are_read(tmp_path, encoding, separator):
    path = tmp_path / "doses.csv"
    text = separator.join(["TIME", "AMT", "CMT", "ADDL", "II"]) + "\n"
    text += separator.join(["0", "8", "human_ip_depot", "1", "1"]) + "\n"
    path.write_bytes(text.encode(encoding))
    state = MODEL.index("human_ip_depot")
    assert read_event_table(path, MODEL).events == (Bolus(0.0, state, 8.0), Bolus(1.0, state, 8.0))


def test_an_excel_table_is_read(tmp_path):
    path = tmp_path / "doses.xlsx"
    pd.DataFrame({"ID": [1, 2], "TIME": [0, 0], "AMT": [8, 4], "CMT": [1, 1]}).to_excel(
        path, index=False
    )
    table = read_event_table(path, MODEL)
    assert table.ids == ("1", "2")
    np.testing.assert_array_equal(table.events[0].amount, [8.0, 4.0])


def test_a_binary_file_is_named(tmp_path):
    path = tmp_path / "doses.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    with pytest.raises(EventTableError, match="binary file"):
        read_event_table(path, MODEL)


def test_example_tables_read_as_documented():
    from fmsim.config.therapy import parse_protocol
    from fmsim.io.event_table import therapy_protocol_data

    examples = Path(__file__).resolve().parents[2] / "examples" / "event_tables"
    doses = read_event_table(examples / "goebel_2021_doses.csv", MODEL)
    depot = MODEL.index("human_ip_depot")
    assert doses.ids == () and doses.events == tuple(Bolus(d, depot, 8.0) for d in range(4))
    rituximab = parse_protocol(
        therapy_protocol_data(examples / "rituximab_2x1000mg.csv", HUMAN_MODEL)
    )
    (block,) = rituximab.therapies
    assert (block.type, block.entry.name, block.schedule(), block.hours()) == (
        "anti_cd20", "rituximab", [0.0, 14.0], 6.0
    )  # fmt: skip
    assert block.dose_quantity() == (1000.0, "mg")


TPE_TABLE = """\
TIME,AMT,CMT,EVID,DRUG,PV,FLUID
0,0,igg_plasma,2,plasma_exchange,1.0,albumin
2,0,igg_plasma,2,plasma_exchange,1.0,albumin
4,0,igg_plasma,2,plasma_exchange,1.0,albumin
6,0,igg_plasma,2,plasma_exchange,1.0,albumin
8,0,igg_plasma,2,plasma_exchange,1.0,albumin
"""


def test_a_plasma_exchange_table_and_its_yaml_protocol_give_identical_courses(tmp_path):
    from fmsim.config.therapy import load_protocol
    from fmsim.experiments.therapy import simulate_course
    from fmsim.io.event_table import protocol_event_table, therapy_protocol_data

    yaml_protocol = load_protocol("examples/therapies/tpe.yaml")
    written = tmp_path / "written.csv"
    protocol_event_table(yaml_protocol).to_csv(written, index=False)
    by_hand = tmp_path / "tpe.csv"
    by_hand.write_text(TPE_TABLE)
    population = sample_population(3, np.random.default_rng(2), anti_sgc_positive_fraction=1.0)
    expected = simulate_course(population, yaml_protocol, 20.0)
    for path in (written, by_hand):
        data = therapy_protocol_data(path, HUMAN_MODEL)
        protocol = parse_protocol(data)
        assert [b.model_dump() for b in protocol.therapies] == [
            b.model_dump() for b in yaml_protocol.therapies
        ]
        course = simulate_course(population, protocol, 20.0)
        np.testing.assert_array_equal(course.total_igg, expected.total_igg)
        np.testing.assert_array_equal(course.sensitisation, expected.sensitisation)
    # and back: the protocol read from the table writes the same table
    again = protocol_event_table(parse_protocol(therapy_protocol_data(written, HUMAN_MODEL)))
    pd.testing.assert_frame_equal(again, pd.read_csv(written).fillna({"FLUID": ""}),
                                  check_dtype=False)  # fmt: skip


def test_an_immunoadsorption_table_gives_the_block_and_a_fraction_is_per_patient(tmp_path):
    from fmsim.io.event_table import therapy_protocol_data

    path = tmp_path / "ia.csv"
    path.write_text("TIME,AMT,CMT,EVID,DRUG,VOL,DUR\n0,0,1,2,tryptophan,2500,0.25\n"
                    "2,0,1,2,tryptophan,2500,0.25\n")  # fmt: skip
    (block,) = therapy_protocol_data(path, HUMAN_MODEL)["therapies"]
    assert block == {"type": "immunoadsorption", "column": "tryptophan", "volume": "2500.0 mL",
                     "session_hours": 6.0, "days": [0.0, 2.0]}  # fmt: skip
    path.write_text("TIME,AMT,CMT,EVID,FRAC\n0,0,igg_plasma,2,0.6\n")
    with pytest.raises(EventTableError, match=r":2: column FRAC: value '0.6': a fraction removed "
                       r"is a per-patient result"):  # fmt: skip
        therapy_protocol_data(path, HUMAN_MODEL)
