"""``--nonmem-cmt``: how ``fmsim simulate``, ``therapies`` and ``trial`` write CMT in their
NONMEM-style data set (``--nonmem``): by compartment name, or by the model's compartment
number as NONMEM needs it (:mod:`fmsim.io.nonmem_cmt`)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, TypeVar

import typer

from fmsim.cli.errors import fail

if TYPE_CHECKING:
    from fmsim.model.definition import ModelDefinition

Study = TypeVar("Study")


def _check_style(value: str | None) -> str | None:
    if value is None:
        return None
    from fmsim.io.nonmem_cmt import CMT_STYLES  # (pandas: loaded only when the option is used)

    if value not in CMT_STYLES:
        raise typer.BadParameter(
            f"got {value!r}: expected {' or '.join(repr(s) for s in CMT_STYLES)}"
        )
    return value


def nonmem_cmt_option() -> str | None:
    return typer.Option(
        None,
        "--nonmem-cmt",
        callback=_check_style,
        metavar="name|number",
        help="CMT in the --nonmem data set: the compartment's name (readable; mrgsolve) or "
        "its number in the model (NONMEM; tables.json gives the $INPUT record, text columns "
        "=DROP); docs/event_tables.md lists the numbers. Both read back with --events. "
        "Default: name.",
    )


def cmt_style(style: str | None, nonmem: bool) -> str:
    """The CMT style of the data set (``name`` by default); one line (exit 2) for
    ``--nonmem-cmt`` without ``--nonmem``."""
    if style is not None and not nonmem:
        fail(f"--nonmem-cmt {style}: applies to the --nonmem data set; add --nonmem")
    return style or "name"


def with_cmt(study: Study, style: str, model: ModelDefinition) -> Study:
    """``study`` with the CMT of its NONMEM-style data set (attribute ``nonmem``, CMT by
    name) written as ``style``: unchanged for ``name`` or without a data set."""
    from fmsim.io.nonmem_cmt import number_compartments

    if style == "name" or study.nonmem is None:
        return study
    return dataclasses.replace(study, nonmem=number_compartments(study.nonmem, model))
