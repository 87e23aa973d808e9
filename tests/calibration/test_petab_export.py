"""PEtab export: the files pass PEtab's linter, pyPESTO's libroadrunner objective on them gives
fmsim's log-likelihood, and libroadrunner reproduces fmsim's simulation at fitted parameters."""

from __future__ import annotations

import numpy as np
import pytest

from fmsim.calibration.objective import Objective
from fmsim.calibration.optimize import best, multistart
from fmsim.calibration.petab_export import export_petab, roadrunner_objective
from fmsim.calibration.problem import Condition, make_problem
from fmsim.io.petab import PetabExportError, lint

from .conftest import CONDITION, paw_measurements, simulated_problem

NAMES = ["sensitisation_turnover", "sensitisation_occupancy50"]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A two-condition problem (an FMS donor and a saline group) with paw-pressure and cold
    data, fitted, and exported."""
    problem, _ = simulated_problem(NAMES, seed=4)
    saline = Condition("c_Saline", 0.0, (), 0.0)
    cold = paw_measurements().assign(observable="cold_response", value=9.0, noise=0.8)
    data = [problem.measurements, cold, paw_measurements().assign(condition="c_Saline")]
    import pandas as pd

    problem = make_problem([CONDITION, saline], pd.concat(data, ignore_index=True), NAMES)
    objective = Objective(problem)
    x_fit, _ = best(multistart(objective, n_starts=2, seed=0), objective)
    yaml_path = export_petab(problem, tmp_path_factory.mktemp("petab"))
    return problem, objective, x_fit, yaml_path, roadrunner_objective(yaml_path)


def test_files_pass_the_petab_linter(exported):
    assert lint(exported[3])


def test_roadrunner_likelihood_equals_fmsims(exported):
    problem, objective, x_fit, _, pypesto_problem = exported
    for x in (x_fit, problem.nominal_scaled + np.array([0.1, -0.05])):
        theirs = pypesto_problem.objective(x)
        assert theirs == pytest.approx(objective.nllh(x), rel=1e-6)


def test_roadrunner_reproduces_the_fitted_simulation(exported):
    problem, objective, x_fit, _, pypesto_problem = exported
    simulations = pypesto_problem.objective(x_fit, return_dict=True)["simulation_results"]
    ours = objective.predictions(x_fit[None])[0]
    data = problem.measurements
    for i, row in enumerate(data.itertuples(index=False)):
        result = simulations[row.condition]
        times = np.asarray(result[:, 0])
        k = int(np.flatnonzero(np.isclose(times, row.time))[0])
        theirs = result[k, list(result.colnames).index(row.observable)]
        assert theirs == pytest.approx(ours[i], rel=1e-6)


def test_derived_parameters_cannot_be_exported(tmp_path):
    problem = make_problem([CONDITION], paw_measurements(), ["body_weight"])
    with pytest.raises(PetabExportError) as caught:
        export_petab(problem, tmp_path)
    assert "'body_weight' sets derived constants" in str(caught.value)
    assert "\n" not in str(caught.value)
