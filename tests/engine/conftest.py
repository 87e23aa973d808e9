"""Shared test subjects for the engine backends."""

import numpy as np
import pytest

from fmsim.model.equations import Subjects, build_subjects
from fmsim.model.parameters import load_parameter_set

#: Rate constants (and scales) multiplied by these per unit of a mouse's factor: factor 1 makes
#: every process ~10x faster, -1 ~10x slower, 0 keeps the typical mouse.
FAST = {
    "ip_absorption_rate": 10,
    "lymph_flow_per_kg": 10,
    "pinocytic_clearance_per_kg": 10,
    "drg_equilibration_rate": 10,
    "sensitisation_turnover": 10,
    "ienfd_loss_rate": 10,
    "ienfd_regeneration_rate": 10,
    "fcrn_total": 0.1,
    "sgc_kd": 0.1,
    "host_igg_plasma": 10,
    "endosomal_ratio": 10,
}


def _scaled_mice(factors, ada, pathogenic) -> Subjects:
    """Typical mice, one per entry of ``factors`` (exponents applied to the FAST multipliers),
    with the given anti-human-IgG clearance rates (1/day) and pathogenic fractions."""
    n = len(factors)
    values = {k: np.full(n, v) for k, v in load_parameter_set().typical().items()}
    for j, factor in enumerate(factors):
        for name, direction in FAST.items():
            values[name][j] *= direction**factor
    values["ada_clearance_rate"] = np.broadcast_to(np.asarray(ada, dtype=float), (n,)).copy()
    return build_subjects(values, np.broadcast_to(np.asarray(pathogenic, dtype=float), (n,)))


@pytest.fixture
def scaled_mice():
    """Builder of mice with all rate constants scaled (see FAST)."""
    return _scaled_mice
