"""Form fields to configurations, without a browser: typed lists, messages per field, and the
pages' form -> configuration functions (the same configuration the CLI reads)."""

from __future__ import annotations

import pytest

from fmsim.app.fields import FieldError, numbers, whole_number
from fmsim.app.pages.parameters import checked_value
from fmsim.app.pages.passive_transfer import form_of, scenario
from fmsim.app.pages.therapies import BlockForm, edited_protocol
from fmsim.app.pages.trial import DEFAULT_TRIAL, trial_config
from fmsim.config import default_config
from fmsim.config.therapy import drug_library


def test_numbers_reads_commas_and_spaces_and_names_the_bad_item():
    assert numbers("0, 1 2,3", "f") == [0.0, 1.0, 2.0, 3.0]
    assert numbers("40, 80", "f", integer=True) == [40, 80]
    with pytest.raises(FieldError) as error:
        numbers("0, 1, two", "days")
    assert error.value.messages == {"days": "got 'two': expected numbers such as '0, 1, 2'"}
    with pytest.raises(FieldError, match="whole numbers"):
        numbers("1.5", "n", integer=True)
    with pytest.raises(FieldError, match="at least one number"):
        numbers(" ", "n")


def test_whole_number():
    assert whole_number(4.0) == 4
    assert whole_number(None) is None and whole_number(2.5) is None
    assert whole_number(float("nan")) is None and whole_number(float("inf")) is None


def test_default_form_gives_back_the_default_scenario():
    config = default_config()
    assert scenario(config, form_of(config)) == config


def test_scenario_applies_the_form_and_the_overrides():
    base = default_config()
    form = form_of(base)
    changed = scenario(
        base,
        form.__class__(**{**form.__dict__, "dose": "4 mg", "titres": "0.01, 0.02, 0.03",
                          "mice_per_donor": 2, "groups": ("FMS-IgG", "HC-IgG")}),
        {"sensitisation_emax": 2.0},
    )  # fmt: skip
    assert changed.dose == "4 mg"
    assert [g.name for g in changed.groups] == ["FMS-IgG", "HC-IgG"]
    fms = changed.groups[0]
    assert [d.anti_sgc_fraction for d in fms.donors] == [0.01, 0.02, 0.03]
    assert fms.n_mice() == 6 and changed.groups[1].n_mice() == 12
    assert changed.parameters == {"sensitisation_emax": 2.0}


@pytest.mark.parametrize(
    ("field", "text", "input_id", "expected"),
    [
        ("dose", "-8 mg", "pt_dose", "expected a non-negative quantity"),
        ("test_days", "1, 2", "pt_test_days", "must start with the baseline test on day 0"),
        ("injection_days", "0, 2, 1", "pt_injection_days", "increasing order"),
        ("titres", "0.5, 1.5", "pt_titres", "less than or equal to 1"),
        ("titres", "high", "pt_titres", "got 'high'"),
        ("mice_per_donor", None, "pt_mice_per_donor", "whole number"),
        ("seed", None, "pt_seed", "whole number"),
    ],
)
def test_each_mistake_is_reported_at_its_field(field, text, input_id, expected):
    base = default_config()
    form = form_of(base)
    with pytest.raises(FieldError) as error:
        scenario(base, form.__class__(**{**form.__dict__, field: text}))
    assert list(error.value.messages) == [input_id]
    assert expected in error.value.messages[input_id]


def test_edited_protocol_and_its_field_messages():
    library = drug_library()
    protocol = edited_protocol("efgartigimod", [BlockForm("5 mg/kg", "0, 7")], library)
    block = protocol.therapies[0]
    assert (block.dose, block.schedule(), protocol.name) == ("5 mg/kg", [0.0, 7.0], "efgartigimod")
    exchange = edited_protocol(
        "plasma_exchange", [BlockForm("1.5 plasma volumes", "0, 2")], library
    )
    assert exchange.therapies[0].plasma_volumes == 1.5
    with pytest.raises(FieldError) as error:
        edited_protocol("efgartigimod", [BlockForm("10 kg", "0, 7")], library)
    assert list(error.value.messages) == ["th_efgartigimod_0_amount"]
    with pytest.raises(FieldError) as error:
        edited_protocol("efgartigimod", [BlockForm("10 mg/kg", "7, 0")], library)
    assert "strictly increasing" in error.value.messages["th_efgartigimod_0_days"]


FORM = {
    "agent": "efgartigimod", "patients": 60, "duration_weeks": 12, "enrichment": "none",
    "positive_fraction": 0.37, "analysis": "ancova", "sample_sizes": "40, 80",
    "replicates": 20, "seed": 7, "scheduler": "",
}  # fmt: skip


def test_trial_config_from_the_form():
    config = trial_config(DEFAULT_TRIAL, FORM)
    assert [a.name for a in config.arms] == ["placebo", "efgartigimod"]
    assert config.power.sample_sizes == [40, 80] and config.patients == 60
    assert config.power.scheduler is None
    assert trial_config(DEFAULT_TRIAL, {**FORM, "scheduler": "local"}).power.scheduler == "local"
    with pytest.raises(FieldError) as error:
        trial_config(DEFAULT_TRIAL, {**FORM, "positive_fraction": 1.5, "sample_sizes": "x"})
    assert set(error.value.messages) == {"tr_sample_sizes"}
    with pytest.raises(FieldError) as error:
        trial_config(DEFAULT_TRIAL, {**FORM, "positive_fraction": 1.5})
    assert set(error.value.messages) == {"tr_positive_fraction"}


def test_parameter_values_are_checked_against_their_range():
    assert checked_value("ip_bioavailability", " 0.5 ") == 0.5
    with pytest.raises(ValueError, match=r"must lie in \(0, 1\]"):
        checked_value("ip_bioavailability", "2")
    with pytest.raises(ValueError, match="expected a number"):
        checked_value("ip_bioavailability", "half")
