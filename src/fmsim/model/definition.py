"""What a model is, for the layers that consume it: states, per-subject constants, dynamics.

A model's equations are written once, as a function ``derivatives(t, y, s, ops)`` that uses only
arithmetic and the three functions of an ``ops`` namespace (``exp``, ``nonnegative``,
``free_fcrn``). The same function is evaluated with numpy arrays (:class:`NumpyOps`, one batch of
subjects per call), with sympy symbols (:mod:`fmsim.model.symbolic`, for the compiled engine and
the SBML export), and nothing else: there is no second copy of the equations.

``s`` is a frozen dataclass whose fields are the per-subject constants, each an array of shape
``(n,)`` (one value per subject). Each field is declared with :func:`constant`, which records its
unit and the parameters (of the model's parameter file) it is computed from, for SBML export and
parameter tables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from fmsim.model.fcrn import free_fcrn


def constant(unit: str, *parameters: str) -> Any:
    """A per-subject constant of a subjects dataclass: its ``unit`` (e.g. ``"mL/day"``, ``"1"``
    for dimensionless) and the names of the ``parameters`` it is computed from (none: set by
    the experiment, e.g. a donor's anti-SGC fraction)."""
    return field(metadata={"unit": unit, "parameters": parameters})


class NumpyOps:
    """Elementary functions for numeric evaluation over a batch of subjects (numpy arrays)."""

    exp = staticmethod(np.exp)

    @staticmethod
    def nonnegative(x):
        return np.maximum(x, 0.0)

    @staticmethod
    def free_fcrn(total, ligands, kds):
        """Free endosomal FcRn (uM) for the given ligand and KD sequences (one entry per kind)."""
        shape = np.broadcast_shapes(*(np.shape(x) for x in (total, *ligands, *kds)))
        return free_fcrn(
            total,
            np.stack([np.broadcast_to(x, shape) for x in ligands]),
            np.stack([np.broadcast_to(x, shape) for x in kds]),
        )


NUMPY = NumpyOps()


@dataclass(frozen=True)
class ModelDefinition:
    """One model: its state names and units, its per-subject constants and its dynamics."""

    name: str
    states: tuple[str, ...]
    state_units: tuple[str, ...]
    subjects_type: type
    derivatives: Callable
    parameter_set: Callable | None = None  # () -> the ParameterSet its constants come from

    @property
    def constants(self) -> tuple[str, ...]:
        """Names of the per-subject constants, in the order of :meth:`constant_matrix`."""
        return tuple(f.name for f in fields(self.subjects_type))

    @property
    def constant_units(self) -> tuple[str, ...]:
        """Unit of each constant (declared with :func:`constant`), in the order of
        :attr:`constants`."""
        return tuple(self._metadata(f, "unit") for f in fields(self.subjects_type))

    def constant_parameters(self, name: str) -> tuple[str, ...]:
        """Names of the parameters constant ``name`` is computed from."""
        matching = [f for f in fields(self.subjects_type) if f.name == name]
        if not matching:
            raise KeyError(f"{self.name} has no constant {name!r}")
        return self._metadata(matching[0], "parameters")

    def _metadata(self, constant_field, key: str):
        if key not in constant_field.metadata:
            raise ValueError(
                f"{self.name}: constant {constant_field.name!r} has no {key}; declare it "
                "with fmsim.model.definition.constant(unit, *parameters)"
            )
        return constant_field.metadata[key]

    @property
    def n_states(self) -> int:
        return len(self.states)

    def index(self, state: str) -> int:
        """Position of ``state`` in the state vector."""
        try:
            return self.states.index(state)
        except ValueError:
            raise KeyError(f"{self.name} has no state {state!r}; states: {self.states}") from None

    def constant_matrix(self, subjects) -> np.ndarray:
        """Per-subject constants as one C-contiguous array, shape (n, n_constants)."""
        columns = [np.asarray(getattr(subjects, name), dtype=float) for name in self.constants]
        n = max(c.shape[0] if c.ndim else 1 for c in columns)
        return np.ascontiguousarray(np.stack([np.broadcast_to(c, (n,)) for c in columns], axis=1))

    def rhs(self, t: float, y: np.ndarray, subjects) -> np.ndarray:
        """Time derivative of the state, shape (n_states, n), evaluated with numpy."""
        return np.stack(np.broadcast_arrays(*self.derivatives(t, y, subjects, NUMPY)))
