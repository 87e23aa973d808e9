"""The shipped reference data: provenance on every fact, the study's donor counts as read."""

from fmsim.calibration.reference import constraints, load_reference


def test_every_fact_has_provenance():
    reference = load_reference()
    assert len(reference.facts) >= 15
    for fact in reference.facts:
        assert fact.statement and fact.read_from and fact.how in ("text", "figure", "derived")
        assert fact.source in reference.studies
    assert any("correlation coefficients" in item for item in reference.not_found)


def test_donor_level_outcomes_of_goebel_2021():
    detected = {c["test"]: (c["detected"], c["of"]) for _, c in constraints("donors_detected")
                if c.get("group") != "control"}  # fmt: skip
    assert detected == {"paw_pressure_threshold": (8, 8), "cold_response": (7, 8)}
    assert load_reference().fact("dose_regimen").value == 8.0
