"""run_fit_settings: a fit YAML's settings reach run_fit, with or without its sampling."""

import pytest

from fmsim.calibration import fit
from fmsim.config.fit import FitConfig


@pytest.fixture
def calls(monkeypatch):
    """The arguments of every run_fit call (run_fit itself is not run)."""
    recorded = []
    monkeypatch.setattr(fit, "run_fit", lambda *args, **kwargs: recorded.append((args, kwargs)))
    return recorded


def settings(**fields) -> FitConfig:
    return FitConfig(estimate=["sensitisation_turnover"], starts=7, seed=3, **fields)


def test_the_yaml_settings_reach_run_fit_with_the_backend(calls):
    yaml = settings(optimizer="Powell", profile=False, sample={"samples": 500, "seed": 9})
    fit.run_fit_settings("problem", yaml, inputs=("a.csv",), progress=True)
    [(args, kwargs)] = calls
    assert args == ("problem", 7, 3, "Powell")
    assert kwargs == {
        "profile": False,
        "settings": yaml.model_dump(mode="json"),
        "samples": 500,
        "sampler": "adaptive_metropolis",
        "sample_seed": 9,
        "inputs": ("a.csv",),
        "progress": True,
    }


@pytest.mark.parametrize("sample", [None, {"samples": 500}])
def test_without_sampling_or_without_a_sample_entry_nothing_is_sampled(calls, sample):
    yaml = settings(sample=sample)
    fit.run_fit_settings("problem", yaml, sampling=sample is None)
    fit.run_fit_settings("problem", yaml, sampling=False)
    for _, kwargs in calls:
        assert "samples" not in kwargs  # run_fit's default: no sampling
        assert kwargs["settings"] == yaml.model_dump(mode="json") and kwargs["profile"] is True
