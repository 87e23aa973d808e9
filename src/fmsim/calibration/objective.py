"""The objective: negative log-likelihood of a calibration problem, simulated on the engine.

For parameters ``x`` on their scales (log10 or lin, see :mod:`fmsim.calibration.problem`), every
condition is a typical mouse, and all conditions of all parameter vectors asked for at once are
one batch of :func:`fmsim.engine.run` (compiled, parallel over the machine's cores). With model
value ``m_i`` and measurement ``y_i`` of noise ``sigma_i`` the residuals are

* normal noise: ``r_i = (y_i - m_i) / sigma_i``,
* log-normal noise: ``r_i = (ln y_i - ln m_i) / sigma_i``,

and the negative log-likelihood is PEtab's (normalisation constants included):
``0.5 sum r_i^2 + sum ln(sqrt(2 pi) sigma_i) + sum_lognormal ln y_i``. For MAP estimation each
parameter with a prior adds the residual ``(x_j - x_j0) / sd_j`` and its normalisation (normal
prior on the log10 scale, PEtab's ``parameterScaleNormal``).

Gradients: central differences in the scaled parameters, all ``2 p + 1`` parameter vectors in
the same engine batch (step :data:`FD_STEP`; the engine runs at ``rtol`` 1e-10 so the rounding
error of a difference stays near 1e-7). The Jacobian of the residuals serves least-squares
optimisers and the Fisher information ``J^T J``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from fmsim.calibration import observables
from fmsim.calibration.problem import CalibrationProblem
from fmsim.engine import Bolus, run
from fmsim.model.equations import MODEL, STATES, build_subjects, initial_state

FD_STEP = 1e-4  # central-difference step on the scaled (log10 or lin) parameter
RTOL = 1e-10
ATOL = 1e-12
FAILED_RESIDUAL = 1e6  # residual given to every data point of a failed simulation


@dataclass
class Objective:
    """Negative log-likelihood (or posterior, method 'map') of ``problem`` and its derivatives.

    ``n_simulations`` counts the simulated parameter vectors (one typical mouse per condition
    each) for cost comparisons in this process."""

    problem: CalibrationProblem
    rtol: float = RTOL
    atol: float = ATOL
    n_simulations: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        data = self.problem.measurements
        self.times = np.unique(np.concatenate([[0.0], data["time"].to_numpy()]))
        # conditions with the same dosing and anti-SGC fraction are simulated once
        unique: dict[tuple, int] = {}
        simulated = {
            c.id: unique.setdefault((c.dose_mg, c.injection_days, c.anti_sgc_fraction), len(unique))
            for c in self.problem.conditions
        }
        self._simulated = list(unique)  # (dose_mg, injection_days, anti_sgc_fraction)
        self._condition = data["condition"].map(simulated).to_numpy()
        self._time = np.searchsorted(self.times, data["time"].to_numpy())
        self._y = data["value"].to_numpy()
        self._sigma = data["noise"].to_numpy()
        self._log = (data["noise_distribution"] == "lognormal").to_numpy()
        self._rows = {
            name: np.flatnonzero(data["observable"].to_numpy() == name)
            for name in dict.fromkeys(data["observable"])
        }
        self._base = {**self.problem.model_parameters.typical(), **self.problem.readout_values}
        self._prior = np.array(
            [
                p.prior_sd is not None and self.problem.method == "map"
                for p in self.problem.parameters
            ]
        )
        self._prior_sd = np.array([p.prior_sd or 1.0 for p in self.problem.parameters])
        self._prior_mean = self.problem.nominal_scaled
        self.constant = float(
            np.sum(np.log(math.sqrt(2 * math.pi) * self._sigma))
            + np.sum(np.log(self._y[self._log]))
            + np.sum(np.log(math.sqrt(2 * math.pi) * self._prior_sd[self._prior]))
        )

    @property
    def n_data(self) -> int:
        return self._y.size

    @property
    def n_residuals(self) -> int:
        return self.n_data + int(self._prior.sum())

    # ------------------------------------------------------------ simulation

    def predictions(self, x_batch: np.ndarray) -> np.ndarray:
        """Model values of every measurement, shape (k, n_data), for k scaled parameter
        vectors ``x_batch`` (shape (k, p)); NaN for a parameter vector whose simulation failed."""
        x_batch = np.atleast_2d(np.asarray(x_batch, dtype=float))
        k, n_conditions = x_batch.shape[0], len(self._simulated)
        natural = self.problem.to_natural(x_batch)  # (k, p)
        n = k * n_conditions
        values = {name: np.full(n, value, dtype=float) for name, value in self._base.items()}
        for j, name in enumerate(self.problem.names):
            values[name] = np.repeat(natural[:, j], n_conditions)
        model_values = {name: values[name] for name in self.problem.model_parameters.parameters}
        fraction = np.tile([phi for _, _, phi in self._simulated], k)
        subjects = build_subjects(model_values, fraction)
        days = sorted({d for _, injections, _ in self._simulated for d in injections})
        doses = [
            Bolus(
                day,
                MODEL.index("human_ip_depot"),
                np.tile([dose if day in days_ else 0.0 for dose, days_, _ in self._simulated], k),
            )
            for day in days
        ]
        result = run(
            MODEL,
            subjects,
            initial_state(subjects),
            self.times,
            doses,
            rtol=self.rtol,
            atol=self.atol,
            throw=False,
        )
        self.n_simulations += k
        subject = np.arange(k)[:, None] * n_conditions + self._condition[None, :]  # (k, n_data)
        states = result.states[self._time[None, :], :, subject]  # (k, n_data, n_states)
        out = np.empty((k, self.n_data))
        for name, rows in self._rows.items():
            at = {state: states[:, rows, i] for i, state in enumerate(STATES)}
            at |= {p: values[p][subject[:, rows]] for p in observables.symbols(name) if p in values}
            out[:, rows] = observables.evaluate(name, at)
        if not result.success:
            failed = np.unique(result.failed // n_conditions)
            out[failed] = np.nan
        return out

    def _residuals_from(self, model: np.ndarray, x_batch: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            model_scale = np.where(self._log, np.log(model), model)
        data_scale = np.where(self._log, np.log(self._y), self._y)
        r = (data_scale - model_scale) / self._sigma
        r = np.where(np.isfinite(r), r, FAILED_RESIDUAL)
        prior = (x_batch[:, self._prior] - self._prior_mean[self._prior]) / self._prior_sd[
            self._prior
        ]
        return np.hstack([r, prior])

    # ------------------------------------------------------------ objective and derivatives

    def residuals(self, x: np.ndarray) -> np.ndarray:
        """Weighted residuals (data, then priors) at scaled parameters ``x``."""
        x = np.atleast_2d(x)
        return self._residuals_from(self.predictions(x), x)[0]

    def residuals_and_jacobian(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Residuals and their Jacobian (n_residuals, p) by central differences, one batch."""
        x = np.asarray(x, dtype=float)
        p = x.size
        batch = np.vstack([x, x + FD_STEP * np.eye(p), x - FD_STEP * np.eye(p)])
        r = self._residuals_from(self.predictions(batch), batch)
        jacobian = (r[1 : p + 1] - r[p + 1 :]).T / (2.0 * FD_STEP)
        return r[0], jacobian

    def nllh(self, x: np.ndarray) -> float:
        """Negative log-likelihood (or log-posterior up to the prior's support) at ``x``."""
        r = self.residuals(x)
        return 0.5 * float(r @ r) + self.constant

    def nllh_batch(self, x_batch: np.ndarray) -> np.ndarray:
        """Negative log-likelihood of several scaled parameter vectors (k, p) in one batch."""
        x_batch = np.atleast_2d(x_batch)
        r = self._residuals_from(self.predictions(x_batch), x_batch)
        return 0.5 * np.sum(r**2, axis=1) + self.constant

    def nllh_and_gradient(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        r, jacobian = self.residuals_and_jacobian(x)
        return 0.5 * float(r @ r) + self.constant, jacobian.T @ r
