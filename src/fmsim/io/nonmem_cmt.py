"""Compartment numbers of NONMEM-style data sets: CMT by the model's numbering, for NONMEM.

fmsim writes CMT by compartment name (readable, and what mrgsolve takes); NONMEM needs a number
and reads only numeric columns, so the text columns must be dropped in ``$INPUT``
(``DVID=DROP``). A model's compartment n is its n-th state (1-based, in the order of
:attr:`fmsim.model.definition.ModelDefinition.states`), which :mod:`fmsim.io.event_table`
reads back by number as well as by name.

:func:`number_compartments` turns a data set's CMT names into those numbers (and its IDs
into integers);
:func:`nonmem_input` gives the ``$INPUT`` record that reads the file (header skipped with
``$DATA nonmem.csv IGNORE=@``); :func:`compartments_markdown`
writes the numbering of fmsim's models as docs/event_tables.md shows it.
"""

from __future__ import annotations

import pandas as pd

from fmsim.model.definition import ModelDefinition

#: How ``--nonmem`` writes CMT: by compartment ``name`` (the default) or ``number``.
CMT_STYLES = ("name", "number")


def compartment_numbers(model: ModelDefinition) -> dict[str, int]:
    """The NONMEM compartment number (1-based) of each state of ``model``, by state name."""
    return {state: k + 1 for k, state in enumerate(model.states)}


def number_compartments(data: pd.DataFrame, model: ModelDefinition) -> pd.DataFrame:
    """``data`` (a NONMEM-style data set with CMT by state name) as NONMEM reads it: CMT as
    the compartment number and ID as an integer (both int64); ValueError naming a CMT that is
    not a state of ``model`` or an ID that is not a whole number."""
    numbers = compartment_numbers(model)
    unknown = sorted(set(data["CMT"]) - set(numbers))
    if unknown:
        raise ValueError(f"CMT {unknown[0]!r} is not a compartment of {model.name}")
    ids = pd.to_numeric(data["ID"], errors="coerce")
    if ids.isna().any() or (ids != ids.round()).any():
        raise ValueError(
            f"ID {data['ID'][ids.isna() | (ids != ids.round())].iloc[0]!r} is not a whole number"
        )
    return data.assign(ID=ids.astype("int64"), CMT=data["CMT"].map(numbers).astype("int64"))


def text_columns(data: pd.DataFrame) -> list[str]:
    """The columns of ``data`` holding text (NONMEM reads numbers only), in column order."""
    return [c for c in data.columns if not pd.api.types.is_numeric_dtype(data[c])]


def nonmem_input(data: pd.DataFrame) -> str:
    """The NONMEM ``$INPUT`` record that reads ``data`` written as CSV: every column by its
    name, text columns ``=DROP``."""
    dropped = set(text_columns(data))
    return "$INPUT " + " ".join(f"{c}=DROP" if c in dropped else str(c) for c in data.columns)


def dataset_note(data: pd.DataFrame) -> str:
    """What the data dictionary adds about a data set's CMT: nothing when CMT holds names;
    with numbers, where they are listed and the NONMEM records that read the file."""
    if not pd.api.types.is_integer_dtype(data["CMT"]):
        return ""
    return (
        "; CMT is the compartment number (docs/event_tables.md, Compartments); NONMEM reads "
        f"it with $DATA nonmem.csv IGNORE=@ and {nonmem_input(data)}"
    )


def compartments_markdown(models: list[ModelDefinition]) -> str:
    """The numbering of ``models`` as Markdown: per model a table of CMT number, state and
    unit (docs/event_tables.md shows this text; a test checks that it is up to date)."""
    parts = []
    for model in models:
        rows = [
            f"| {number} | `{state}` | {unit} |"
            for (state, number), unit in zip(
                compartment_numbers(model).items(), model.state_units, strict=True
            )
        ]
        parts.append(
            "\n".join([f"`{model.name}`:", "", "| CMT | state | unit |", "|---|---|---|", *rows])
        )
    return "\n\n".join(parts) + "\n"
