"""The strict base every user-facing configuration schema derives from.

``Strict`` models reject fields they do not know (a misspelt field is an error, never silently
ignored), are immutable once validated, and refuse NaN and infinite numbers in every float field
(YAML's ``.nan`` / ``.inf`` are never a meaningful day, dose or rate). Schemas add their
physical bounds with ``Field(gt=..., le=...)`` or validators.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["Strict"]


class Strict(BaseModel):
    """Base of the configuration schemas: unknown fields forbidden, frozen, finite floats."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
