"""Page (c): IgG-lowering therapies compared in one small virtual population. Pick library
entries (``fmsim drugs list``); each starts from its standard regimen, whose dose (or volume per
session) and days can be edited; uploaded protocol files join them. Total IgG, anti-SGC IgG,
sensitisation and pain over time, in a typical patient and in the population, redraw as the
fields change. The protocols download as YAML files ``fmsim therapies`` reads, with the command
that reproduces the page's numbers (and tables: ``typical_patient_courses``, ``therapy_pain``)."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

import pandas as pd
from pydantic import ValidationError
from shiny import Inputs, Outputs, Session, reactive, render, req, ui

from fmsim.app.fields import FieldError, field_messages, numbers
from fmsim.app.widgets import (
    csv_text,
    message_slot,
    plot_slot,
    read_upload,
    show_messages,
    show_plot,
    sidebar_downloads,
    table,
)
from fmsim.config.therapy import TherapyProtocol, drug_library, load_protocol, regimen_protocol
from fmsim.experiments.result import config_yaml
from fmsim.experiments.studies import TherapyStudy, therapy_study
from fmsim.experiments.typical_patient import PAIN
from fmsim.experiments.validation import COURSE_QUANTITIES
from fmsim.model.drugs import CLASS_LABELS, DrugLibrary
from fmsim.report.interactive import therapy_courses

PAGE = "th"
DEFAULT_AGENTS = ("efgartigimod", "plasma_exchange")


@dataclass(frozen=True)
class BlockForm:
    """One block of an entry's regimen as typed: amount per administration or session (a dose
    such as '10 mg/kg', '2500 mL' or '1.0 plasma volumes') and its days."""

    amount: str
    days: str


def agent_choices(library: DrugLibrary) -> dict[str, dict[str, str]]:
    """Entries with a standard regimen, grouped by therapy class (for a grouped selector)."""
    groups: dict[str, dict[str, str]] = {}
    for name in library.names():
        entry = library.get(name)
        if entry.standard_regimen is not None:
            groups.setdefault(CLASS_LABELS.get(entry.kind, entry.kind), {})[name] = name
    return groups


def block_forms(protocol: TherapyProtocol) -> list[BlockForm]:
    """The form of each block of ``protocol``."""
    forms = []
    for block in protocol.therapies:
        if block.dose is not None:
            amount = block.dose
        elif block.plasma_volumes is not None:
            amount = f"{block.plasma_volumes:g} plasma volumes"
        else:
            amount = block.volume or ""
        forms.append(BlockForm(amount, ", ".join(f"{d:g}" for d in block.schedule())))
    return forms


def field_id(agent: str, k: int, part: str) -> str:
    """Input id of block ``k``'s ``part`` ('amount' or 'days') of ``agent``."""
    return f"th_{agent}_{k}_{part}"


def edited_protocol(agent: str, forms: list[BlockForm], library: DrugLibrary) -> TherapyProtocol:
    """``agent``'s standard regimen with each block's amount and days from ``forms``, named
    after the agent; raises :class:`FieldError` in the blocks' input ids."""
    standard = regimen_protocol(library.get(agent), library)
    data = standard.model_dump(exclude_none=True)
    data["name"] = agent
    messages: dict[str, str] = {}
    for k, (block, form) in enumerate(zip(data["therapies"], forms, strict=True)):
        try:
            days = numbers(form.days, field_id(agent, k, "days"))
        except FieldError as error:
            messages.update(error.messages)
            continue
        for key in ("start", "every", "count"):
            block.pop(key, None)
        block["days"] = days
        amount = form.amount.strip()
        if "dose" in block:
            block["dose"] = amount
        elif "plasma volume" in amount.lower():
            block.pop("volume", None)
            try:
                block["plasma_volumes"] = float(amount.split()[0])
            except ValueError:
                messages[field_id(agent, k, "amount")] = (
                    f"got {amount!r}: expected e.g. '1.0 plasma volumes' or '2500 mL'"
                )
        else:
            block.pop("plasma_volumes", None)
            block["volume"] = amount
    if messages:
        raise FieldError(messages)
    try:
        return TherapyProtocol.model_validate(data, context={"library": library})
    except ValidationError as error:
        fields = {
            f"therapies.{k}.{name}": field_id(agent, k, part)
            for k in range(len(forms))
            for name, part in (
                ("days", "days"),
                ("dose", "amount"),
                ("volume", "amount"),
                ("plasma_volumes", "amount"),
            )
        }
        fields.update({f"therapies.{k}": field_id(agent, k, "amount") for k in range(len(forms))})
        raise FieldError(field_messages(error, fields, "th_agents", agent)) from None


def command_line(names: list[str], patients: int, days: float, positive_only: bool, seed: int):
    """The ``fmsim therapies`` command reproducing the page for protocol files ``names``."""
    population = "--positive-only" if positive_only else "--all"
    return (
        f"fmsim therapies {' '.join(names)} --patients {patients} --days {days:g} "
        f"{population} --seed {seed}"
    )


def page() -> ui.NavPanel:
    library = drug_library()
    controls = ui.sidebar(
        ui.input_selectize(
            "th_agents",
            "Therapies (library entries)",
            agent_choices(library),
            selected=list(DEFAULT_AGENTS),
            multiple=True,
        ),
        message_slot(PAGE, "th_agents"),
        ui.output_ui("th_blocks"),
        ui.input_file(
            "th_upload", "Add protocol files (YAML)", accept=[".yaml", ".yml"], multiple=True
        ),
        message_slot(PAGE, "th_upload"),
        ui.input_numeric("th_patients", "Virtual patients", 20, min=1, max=2000),
        message_slot(PAGE, "th_patients"),
        ui.input_numeric("th_days", "Days simulated", 182, min=1, max=3650),
        message_slot(PAGE, "th_days"),
        ui.input_checkbox("th_positive_only", "Anti-SGC-positive patients only", True),
        ui.input_numeric("th_seed", "Random seed", 2024, min=0),
        message_slot(PAGE, "th_seed"),
        sidebar_downloads(
            ("th_download_config", "Protocols (zip of YAML files + command)"),
            ("th_download_results", "Summary (CSV)"),
            ("th_download_courses", "Population time courses (CSV)"),
            ("th_download_typical", "Typical patient (CSV)"),
        ),
        width=360,
    )
    return ui.nav_panel(
        "Therapies",
        ui.layout_sidebar(
            controls,
            ui.output_ui("th_answer"),
            ui.h5("A typical patient: every model parameter at its population median"),
            ui.p(
                "Anti-SGC positive at the median anti-SGC fraction; pain from the median "
                "baseline pain and antibody pain gain, without placebo response or day-to-day "
                "fluctuation.",
                class_="fmsim-note",
            ),
            plot_slot("th_typical", 760),
            ui.h5("The small population: median over patients, band: 25th-75th percentile"),
            plot_slot("th_plot", 760),
            ui.output_ui("th_summary"),
        ),
        value="therapies",
    )


def server(input: Inputs, output: Outputs, session: Session) -> None:
    library = drug_library()
    uploaded: reactive.Value[dict[str, TherapyProtocol]] = reactive.value({})

    @render.ui
    def th_blocks():
        parts = []
        for agent in input.th_agents():
            forms = block_forms(regimen_protocol(library.get(agent), library))
            parts.append(ui.h6(agent))
            for k, form in enumerate(forms):
                amount, days = field_id(agent, k, "amount"), field_id(agent, k, "days")
                label = "" if len(forms) == 1 else f" (part {k + 1})"
                parts += [
                    ui.input_text(amount, f"Dose or volume per session{label}", form.amount),
                    message_slot(PAGE, amount),
                    ui.input_text(days, f"Days{label}", form.days),
                    message_slot(PAGE, days),
                ]
        return ui.TagList(*parts)

    @reactive.effect
    @reactive.event(input.th_upload)
    async def _upload() -> None:
        protocols, messages = dict(uploaded()), []
        for upload in input.th_upload():
            protocol, problem = read_upload(upload, lambda path: load_protocol(path, library))
            if problem:
                messages.append(problem)
            else:
                protocols[protocol.name] = protocol
        uploaded.set(protocols)
        if messages:
            await show_messages(session, PAGE, {"th_upload": "; ".join(messages)})

    @reactive.calc
    def protocols() -> tuple[dict[str, TherapyProtocol], dict[str, str]]:
        chosen, messages = {}, {}
        for agent in input.th_agents():
            forms = []
            for k in range(len(library.get(agent).standard_regimen["therapies"])):
                amount = input[field_id(agent, k, "amount")]
                days = input[field_id(agent, k, "days")]
                req(amount.is_set() and days.is_set())
                forms.append(BlockForm(amount(), days()))
            try:
                chosen[agent] = edited_protocol(agent, forms, library)
            except FieldError as error:
                messages.update(error.messages)
        chosen.update(uploaded())
        if not chosen and not messages:
            messages["th_agents"] = "choose at least one therapy (or add a protocol file)"
        for name, value in (
            ("th_patients", input.th_patients()),
            ("th_days", input.th_days()),
            ("th_seed", input.th_seed()),
        ):
            if value is None or value < (0 if name == "th_seed" else 1):
                messages[name] = "give a positive number"
        return chosen, messages

    @reactive.effect
    async def _messages() -> None:
        await show_messages(session, PAGE, protocols()[1])

    @reactive.calc
    def settings() -> dict:
        return {
            "patients": int(input.th_patients()),
            "days": float(input.th_days()),
            "positive_only": bool(input.th_positive_only()),
            "seed": int(input.th_seed()),
        }

    @reactive.calc
    def study() -> TherapyStudy:
        chosen, messages = protocols()
        req(chosen and not messages)
        return therapy_study(chosen, validate=False, **settings())

    @reactive.calc
    def population_courses() -> pd.DataFrame:
        """The study's courses with the same patients' pain."""
        return pd.concat([study().comparison.courses, study().pain], ignore_index=True)

    @reactive.effect
    async def _plot() -> None:
        req(input.page() == "therapies")  # computed and drawn while the page is shown
        labels = {**COURSE_QUANTITIES, **PAIN}
        await show_plot(session, "th_typical", therapy_courses(study().typical, labels))
        await show_plot(session, "th_plot", therapy_courses(population_courses(), labels))

    @render.ui
    def th_answer():
        summary = study().comparison.summary
        nadir = summary[summary["quantity"] == "anti_sgc_nadir_reduction_pct"]
        sentences = [
            f"{row.therapy}: anti-SGC IgG falls by {row.median:.0f}% at its lowest "
            f"(5th-95th percentile {row.p05:.0f}-{row.p95:.0f}%)"
            for row in nadir.itertuples()
        ]
        return ui.div(
            "; ".join(sentences) + f" ({study().population}, {study().n_patients} patients).",
            class_="fmsim-answer",
        )

    @render.ui
    def th_summary():
        summary = study().comparison.summary
        return ui.TagList(
            ui.h5("Per therapy: median, 5th and 95th percentile over patients"),
            table(summary.drop(columns=["quantity"])),
        )

    @render.download_button(filename="therapy_protocols.zip")
    def th_download_config():
        chosen, messages = protocols()
        req(chosen and not messages)
        buffer = io.BytesIO()
        names = []
        with zipfile.ZipFile(buffer, "w") as archive:
            for k, protocol in enumerate(chosen.values()):
                name = f"protocol_{k + 1}.yaml"
                archive.writestr(name, config_yaml(protocol))
                names.append(name)
            archive.writestr("command.txt", command_line(names, **settings()) + "\n")
        yield buffer.getvalue()

    @render.download_button(filename="therapy_comparison.csv")
    def th_download_results():
        yield csv_text(study().comparison.summary)

    @render.download_button(filename="therapy_courses.csv")
    def th_download_courses():
        yield csv_text(population_courses())

    @render.download_button(filename="typical_patient_courses.csv")
    def th_download_typical():
        yield csv_text(study().typical)
