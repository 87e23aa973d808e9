"""Page (a): plan a passive-transfer experiment. The form edits a scenario (default: the Goebel
2021 design, or an uploaded YAML file); every change simulates it again (under a second for the
default 72 mice) and redraws every readout and the model states by group. Statistics (mixed
models, post hoc tests, AUC) run on request: they take longer. The scenario downloads as the
YAML ``fmsim simulate`` reads, which gives the same measurements."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError
from shiny import Inputs, Outputs, Session, reactive, render, req, ui

from fmsim.app.fields import FieldError, field_messages, numbers, whole_number
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
from fmsim.config import PassiveTransferConfig, default_config, load_config
from fmsim.experiments.passive_transfer import PassiveTransferResult, run_passive_transfer
from fmsim.experiments.result import config_yaml
from fmsim.experiments.studies import passive_transfer_study
from fmsim.model.parameters import shipped_parameters
from fmsim.report.interactive import readout_time_courses, state_time_courses

PAGE = "pt"


@dataclass(frozen=True)
class Form:
    """The page's fields as typed (text lists of days and titres, numbers)."""

    dose: str
    injection_days: str
    test_days: str
    ienfd_days: str
    titres: str
    mice_per_donor: int | None
    groups: tuple[str, ...]
    seed: int | None


def form_of(config: PassiveTransferConfig) -> Form:
    """The form showing ``config``."""
    disease = next(g for g in config.groups if g.name == config.disease_group)
    per_donor = [g.mice_per_donor for g in config.groups if g.mice_per_donor is not None]
    return Form(
        dose=config.dose,
        injection_days=_days_text(config.injection_days),
        test_days=_days_text(config.test_days),
        ienfd_days=_days_text(config.ienfd_days),
        titres=", ".join(f"{d.anti_sgc_fraction:g}" for d in disease.donors),
        mice_per_donor=per_donor[0] if per_donor else None,
        groups=tuple(g.name for g in config.groups),
        seed=config.seed,
    )


def _days_text(days: list[float]) -> str:
    return ", ".join(f"{d:g}" for d in days)


def scenario(
    base: PassiveTransferConfig, form: Form, overrides: dict[str, float] | None = None
) -> PassiveTransferConfig:
    """``base`` with the form's values (and parameter ``overrides``) applied, validated; raises
    :class:`FieldError` with one message per field in the form's input ids (``pt_dose`` ...)."""
    data = base.model_dump()
    messages: dict[str, str] = {}
    for name in ("injection_days", "test_days", "ienfd_days"):
        text = getattr(form, name)
        try:
            data[name] = numbers(text, f"pt_{name}") if text.strip() else []
        except FieldError as error:
            messages.update(error.messages)
    if form.seed is None:
        messages["pt_seed"] = "give a whole number (the random seed)"
    else:
        data["seed"] = form.seed
    keep = {*form.groups, base.control_group, base.disease_group}
    data["groups"] = [g for g in data["groups"] if g["name"] in keep]
    disease = next(g for g in data["groups"] if g["name"] == base.disease_group)
    try:
        titres = numbers(form.titres, "pt_titres")
    except FieldError as error:
        messages.update(error.messages)
    else:
        known = disease["donors"]
        disease["donors"] = [
            {
                "id": known[k]["id"] if k < len(known) else f"{base.disease_group} donor {k + 1}",
                "anti_sgc_fraction": fraction,
            }
            for k, fraction in enumerate(titres)
        ]
    per_donor = any(g["mice_per_donor"] is not None for g in data["groups"])
    if per_donor and form.mice_per_donor is None:
        messages["pt_mice_per_donor"] = "give a whole number of mice per donor"
    elif per_donor:
        for group in data["groups"]:
            if group["mice_per_donor"] is not None:
                group["mice_per_donor"] = form.mice_per_donor
    data["dose"] = form.dose
    data["parameters"] = {**data["parameters"], **(overrides or {})}
    if messages:
        raise FieldError(messages)
    try:
        return PassiveTransferConfig.model_validate(data)
    except ValidationError as error:
        index = [g["name"] for g in data["groups"]].index(base.disease_group)
        fields = {
            "dose": "pt_dose",
            "allow_implausible_dose": "pt_dose",
            "injection_days": "pt_injection_days",
            "test_days": "pt_test_days",
            "ienfd_days": "pt_ienfd_days",
            "seed": "pt_seed",
            "groups": "pt_mice_per_donor",
            f"groups.{index}.donors": "pt_titres",
            "parameters": "pt_upload",
        }
        raise FieldError(field_messages(error, fields, "pt_upload")) from None


def page() -> ui.NavPanel:
    form = form_of(default_config())
    controls = ui.sidebar(
        ui.input_file("pt_upload", "Upload a scenario (YAML)", accept=[".yaml", ".yml"]),
        message_slot(PAGE, "pt_upload"),
        ui.input_text("pt_dose", "Dose per injection", form.dose),
        message_slot(PAGE, "pt_dose"),
        ui.input_text("pt_injection_days", "Injection days", form.injection_days),
        message_slot(PAGE, "pt_injection_days"),
        ui.input_text("pt_test_days", "Test days (day 0 = baseline)", form.test_days),
        message_slot(PAGE, "pt_test_days"),
        ui.input_text("pt_ienfd_days", "IENFD biopsy days", form.ienfd_days),
        message_slot(PAGE, "pt_ienfd_days"),
        ui.input_text(
            "pt_titres", "Anti-SGC fraction of each donor's IgG (disease group)", form.titres
        ),
        message_slot(PAGE, "pt_titres"),
        ui.input_numeric("pt_mice_per_donor", "Mice per donor", form.mice_per_donor, min=1),
        message_slot(PAGE, "pt_mice_per_donor"),
        ui.input_checkbox_group("pt_groups", "Groups", list(form.groups), selected=form.groups),
        ui.input_numeric("pt_seed", "Random seed", form.seed, min=0),
        message_slot(PAGE, "pt_seed"),
        sidebar_downloads(
            ("pt_download_config", "Scenario (YAML)"),
            ("pt_download_results", "Measurements (CSV)"),
        ),
        width=340,
    )
    return ui.nav_panel(
        "Passive transfer",
        ui.layout_sidebar(
            controls,
            ui.output_ui("pt_answer"),
            ui.h5("Behaviour and IENFD by group (mean, band: ± SEM over mice)"),
            plot_slot("pt_readouts", 640),
            ui.h5("Model states by group (median, band: 5th-95th percentile over mice)"),
            plot_slot("pt_states", 620),
            ui.h5("Statistics"),
            ui.p(
                "Mixed models with post hoc tests (Holm) and per-mouse AUC take about 20 s.",
                class_="fmsim-note",
            ),
            ui.input_action_button("pt_statistics", "Run the statistics"),
            ui.output_ui("pt_statistics_tables"),
        ),
        value="passive_transfer",
    )


def server(
    input: Inputs, output: Outputs, session: Session, overrides: reactive.Value[dict]
) -> reactive.Calc_[tuple[PassiveTransferConfig | None, dict[str, str]]]:
    """The page's reactive logic; ``overrides`` are the parameter values edited on the
    Parameters page. Returns the checked scenario (None and the messages if invalid)."""
    base = reactive.value(default_config())
    pending: reactive.Value[Form | None] = reactive.value(None)  # an uploaded scenario's form

    @reactive.effect
    @reactive.event(input.pt_upload)
    async def _upload() -> None:
        config, problem = read_upload(input.pt_upload()[0], load_config)
        if problem:
            await show_messages(session, PAGE, {"pt_upload": problem})
            return
        form = form_of(config)
        pending.set(form)
        base.set(config)
        overrides.set(dict(config.parameters))
        ui.update_text("pt_dose", value=form.dose)
        ui.update_text("pt_injection_days", value=form.injection_days)
        ui.update_text("pt_test_days", value=form.test_days)
        ui.update_text("pt_ienfd_days", value=form.ienfd_days)
        ui.update_text("pt_titres", value=form.titres)
        ui.update_numeric("pt_mice_per_donor", value=form.mice_per_donor)
        ui.update_numeric("pt_seed", value=form.seed)
        ui.update_checkbox_group("pt_groups", choices=list(form.groups), selected=list(form.groups))

    @reactive.calc
    def form() -> Form:
        return Form(
            dose=input.pt_dose(),
            injection_days=input.pt_injection_days(),
            test_days=input.pt_test_days(),
            ienfd_days=input.pt_ienfd_days(),
            titres=input.pt_titres(),
            mice_per_donor=whole_number(input.pt_mice_per_donor()),
            groups=tuple(input.pt_groups()),
            seed=whole_number(input.pt_seed()),
        )

    @reactive.effect
    def _uploaded_form_arrived() -> None:
        expected = pending()
        if expected is not None and all(
            value is None or getattr(form(), name) == value
            for name, value in expected.__dict__.items()
        ):  # (an empty numeric field is not sent to the browser)
            pending.set(None)

    @reactive.calc
    def checked() -> tuple[PassiveTransferConfig | None, dict[str, str]]:
        req(pending() is None)  # after an upload: wait until the browser shows its values
        try:
            return scenario(base(), form(), overrides()), {}
        except FieldError as error:
            return None, error.messages

    @reactive.effect
    async def _messages() -> None:
        await show_messages(session, PAGE, checked()[1])

    @reactive.calc
    def simulation() -> PassiveTransferResult:
        config = checked()[0]
        req(config)
        return run_passive_transfer(config)

    @reactive.effect
    async def _plots() -> None:
        req(input.page() == "passive_transfer")  # computed and drawn while the page is shown
        result = simulation()
        specs = shipped_parameters("mouse").readouts
        days = result.config.injection_days
        await show_plot(
            session, "pt_readouts", readout_time_courses(result.measurements, specs, days)
        )
        await show_plot(session, "pt_states", state_time_courses(result.trajectories, days))

    @render.ui
    def pt_answer():
        result = simulation()
        config = result.config
        return ui.div(
            f"{len(result.cohort)} mice in {len(config.groups)} groups, {config.dose} on days "
            f"{_days_text(config.injection_days)}; {len(result.measurements):,} measurements "
            f"simulated (seed {config.seed}). Hover for values, click a group in the legend to "
            "hide it, drag to zoom; the camera icon saves a 300-dpi PNG.",
            class_="fmsim-answer",
        )

    @render.ui
    @reactive.event(input.pt_statistics)
    def pt_statistics_tables():
        config = checked()[0]
        req(config)
        with ui.Progress() as progress:
            progress.set(message="Mixed models and post hoc tests ...", value=0.2)
            study = passive_transfer_study(config)
        tables = study.tables()
        return ui.TagList(
            ui.p(tables["time_course_summary"].description),
            table(tables["time_course_summary"].frame),
            ui.p(tables["auc_versus_control"].description),
            table(tables["auc_versus_control"].frame),
        )

    @render.download_button(filename="scenario.yaml")
    def pt_download_config():
        config = checked()[0]
        req(config)
        yield config_yaml(config)

    @render.download_button(filename="measurements.csv")
    def pt_download_results():
        yield csv_text(simulation().measurements)

    return checked
