"""The sensitivity study: which uncertain inputs drive fmsim's key outputs.

Three analyses (:class:`fmsim.calibration.sensitivity.Analysis`), each over the inputs whose
uncertainty the parameter files state: ``passive_transfer`` (the mouse experiment,
:mod:`fmsim.calibration.sensitivity_passive_transfer`), ``therapy`` (IgG reduction by a therapy
in patients, :mod:`fmsim.calibration.sensitivity_therapy`) and ``trial`` (a virtual trial's
effect and power, :mod:`fmsim.calibration.sensitivity_trial`). Their parameter sets run as
chunks through the execution interface (in this process or on Dask), kept in a chunk folder
for resuming (:func:`fmsim.calibration.sensitivity.evaluate`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from fmsim.calibration.sensitivity import Evaluation, SensitivityResult, run_analyses
from fmsim.calibration.sensitivity_passive_transfer import passive_transfer_analysis
from fmsim.calibration.sensitivity_therapy import THERAPY, therapy_analysis
from fmsim.calibration.sensitivity_trial import DEFAULT_TRIAL, TRIAL_REPLICATES, trial_analysis
from fmsim.config.trial import TrialConfig
from fmsim.engine.execution import Executor
from fmsim.experiments.result import Provenance, config_hash
from fmsim.io.store import ChunkStore

ANALYSES = ("passive_transfer", "therapy", "trial")


def sensitivity_study(
    n_base: int = 256,
    seed: int = 0,
    *,
    analyses: Sequence[str] = ANALYSES,
    trial_n_base: int = 16,
    trial_replicates: int = TRIAL_REPLICATES,
    therapy_protocol: str = THERAPY,
    trial_config: TrialConfig | None = None,
    inputs: Sequence[Path] = (),
    log: Callable[[str], None] | None = None,
    executor: Executor | None = None,
    chunk_folder: Path | None = None,
    progress: bool = False,
) -> SensitivityResult:
    """Sobol and local sensitivities of the chosen analyses (:data:`ANALYSES`); the trial
    analysis, whose every parameter set is ``trial_replicates`` simulated trials, has its own
    base sample ``trial_n_base``. Parameter sets run as chunks on ``executor`` (default: in this
    process); with ``chunk_folder``, chunks are stored there and, verified, reused by a rerun
    with the same settings (resume)."""
    unknown = [a for a in analyses if a not in ANALYSES]
    if unknown:
        raise ValueError(f"analyses {unknown}: expected any of {list(ANALYSES)}")
    builders = {
        "passive_transfer": lambda: passive_transfer_analysis(),
        "therapy": lambda: therapy_analysis(therapy_protocol),
        "trial": lambda: trial_analysis(trial_config, trial_replicates),
    }
    chosen = [builders[name]() for name in analyses]
    bases = [trial_n_base if a.name == "trial" else n_base for a in chosen]
    settings = {
        "n_base": n_base, "seed": seed, "analyses": list(analyses),
        "trial_n_base": trial_n_base, "trial_replicates": trial_replicates,
        "therapy": therapy_protocol,
        "trial": trial_config.model_dump(mode="json") if trial_config else DEFAULT_TRIAL,
    }  # fmt: skip
    fingerprint = config_hash(settings)
    store = ChunkStore(chunk_folder, fingerprint) if chunk_folder is not None else None
    where = Evaluation(executor, store, progress)
    return run_analyses(chosen, bases, seed, Provenance(fingerprint, tuple(inputs)), log, where)
