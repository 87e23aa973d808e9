"""Size limits from a memory estimate."""

from __future__ import annotations

import pytest

from fmsim.config.limits import MEMORY_ENV, available_memory, check_fits, format_bytes
from fmsim.config.passive_transfer import TRAJECTORY_STEP
from fmsim.experiments import passive_transfer


def test_the_environment_sets_the_memory_available(monkeypatch):
    monkeypatch.setenv(MEMORY_ENV, "2GB")
    assert available_memory() == 2e9
    monkeypatch.setenv(MEMORY_ENV, "512 mb")
    assert available_memory() == 512e6
    monkeypatch.setenv(MEMORY_ENV, "lots")
    with pytest.raises(ValueError, match="FMSIM_MEMORY_LIMIT='lots'"):
        available_memory()


def test_without_the_environment_the_machine_is_asked(monkeypatch):
    monkeypatch.delenv(MEMORY_ENV, raising=False)
    assert 1e8 < available_memory() < 1e14


def test_a_request_beyond_80_percent_is_refused_with_how_to_split(monkeypatch):
    monkeypatch.setenv(MEMORY_ENV, "1GB")
    check_fits(0.79e9, "a small job", "split it")
    with pytest.raises(ValueError) as info:
        check_fits(0.81e9, "a big job", "split it in two")
    assert str(info.value) == (
        "a big job needs about 810 MB of memory, more than the 800 MB this machine can give "
        "(80% of 1 GB available; set FMSIM_MEMORY_LIMIT to change); split it in two"
    )


def test_format_bytes():
    assert [format_bytes(x) for x in (12, 3.4e3, 5.6e6, 7.8e9, 9e12)] == [
        "12 B", "3.4 kB", "5.6 MB", "7.8 GB", "9 TB"
    ]  # fmt: skip


def test_the_memory_estimate_uses_the_experiment_output_step():
    assert TRAJECTORY_STEP == passive_transfer.TRAJECTORY_STEP


def test_a_scenario_that_fits_a_small_machine_only_when_smaller(monkeypatch, tmp_path):
    from fmsim.config import ConfigError, load_config

    path = tmp_path / "big.yaml"
    path.write_text(
        "test_days: [0, 35]\ngroups:\n  - {name: S, material: saline, mice: 20000}\n"
        "  - {name: T, material: saline, mice: 20000}\ncontrol_group: S\ndisease_group: T\n"
    )
    monkeypatch.setenv(MEMORY_ENV, "16GB")
    assert load_config(path).n_mice() == 40_000  # 40,000 x 143 points x 600 B = 3.4 GB
    monkeypatch.setenv(MEMORY_ENV, "4GB")
    with pytest.raises(ConfigError, match=r"groups: got '40000 mice': 40,000 mice x 143 time"):
        load_config(path)
