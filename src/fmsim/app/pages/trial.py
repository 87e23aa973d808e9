"""Page (d): plan a virtual clinical trial: a treatment from the drug library at its standard
regimen against placebo (or an uploaded trial file), the population, size, endpoint analysis
and the replicate trials behind the power curve. One trial takes about a second; the power curve
takes longer (small defaults; more replicates narrow its intervals). The design downloads as the
YAML ``fmsim trial`` reads, which reproduces the page's numbers."""

from __future__ import annotations

import asyncio
import threading
import time

from pydantic import ValidationError
from shiny import Inputs, Outputs, Session, reactive, render, req, ui

from fmsim.app.fields import FieldError, field_messages, numbers, whole_number
from fmsim.app.pages.therapies import agent_choices
from fmsim.app.widgets import (
    SCHEDULERS,
    csv_text,
    message_slot,
    plot_slot,
    read_upload,
    select_scheduler,
    show_messages,
    show_plot,
    sidebar_downloads,
    table,
)
from fmsim.config.therapy import drug_library, regimen_protocol
from fmsim.config.trial import TrialConfig, load_trial_config
from fmsim.engine.execution import executor, progress_callback
from fmsim.experiments.result import config_yaml
from fmsim.experiments.studies import TrialStudy, trial_study
from fmsim.report.interactive import power_curve

PAGE = "tr"
FROM_FILE = "(arms of the uploaded file)"

#: The starting design: efgartigimod 10 mg/kg i.v. weekly x4 against placebo for 12 weeks in
#: all comers (as examples/trials/efgartigimod_parallel.yaml), with a small power run.
DEFAULT_TRIAL = {
    "name": "virtual trial planned in the fmsim app",
    "seed": 7,
    "design": "parallel",
    "patients": 60,
    "duration_weeks": 12,
    "population": {"anti_sgc_positive_fraction": 0.37, "enrichment": "none"},
    "arms": [],
    "control_arm": "placebo",
    "primary": {"outcome": "pain_nrs", "week": 12, "analysis": "ancova"},
    "power": {"sample_sizes": [40, 80, 160], "replicates": 20, "positive_fractions": [1.0]},
}

FIELDS = {
    "patients": "tr_patients",
    "duration_weeks": "tr_weeks",
    "population.anti_sgc_positive_fraction": "tr_positive_fraction",
    "population.enrichment": "tr_enrichment",
    "arms": "tr_agent",
    "primary": "tr_analysis",
    "power.sample_sizes": "tr_sample_sizes",
    "power.replicates": "tr_replicates",
    "power.scheduler": "tr_scheduler",
    "seed": "tr_seed",
}


def trial_config(base: dict, form: dict) -> TrialConfig:
    """``base`` (a trial config as a mapping) with the form's values, validated; raises
    :class:`FieldError` in the form's input ids. ``form['agent']``: a library entry given at its
    standard regimen against placebo, or :data:`FROM_FILE` to keep ``base``'s arms."""
    data = {**base, "population": dict(base["population"]), "power": dict(base["power"])}
    messages: dict[str, str] = {}
    try:
        data["power"]["sample_sizes"] = numbers(
            form["sample_sizes"], "tr_sample_sizes", integer=True
        )
    except FieldError as error:
        messages.update(error.messages)
    for key, field in (
        ("patients", "tr_patients"),
        ("duration_weeks", "tr_weeks"),
        ("seed", "tr_seed"),
    ):
        if form[key] is None:
            messages[field] = "give a whole number"
        data[key] = form[key]
    if form["replicates"] is None:
        messages["tr_replicates"] = "give a whole number"
    data["power"]["replicates"] = form["replicates"]
    data["power"]["scheduler"] = form["scheduler"] or None
    data["population"]["anti_sgc_positive_fraction"] = form["positive_fraction"]
    data["population"]["enrichment"] = form["enrichment"]
    data["primary"] = {**base["primary"], "analysis": form["analysis"]}
    if form["agent"] != FROM_FILE:
        library = drug_library()
        regimen = regimen_protocol(library.get(form["agent"]), library)
        blocks = [b.model_dump(mode="json", exclude_none=True) for b in regimen.therapies]
        data["arms"] = [
            {"name": "placebo", "therapies": [{"type": "placebo"}]},
            {"name": form["agent"], "therapies": blocks},
        ]
        data["control_arm"] = "placebo"
        data["secondary"] = []
    if messages:
        raise FieldError(messages)
    try:
        return TrialConfig.model_validate(data)
    except ValidationError as error:
        raise FieldError(field_messages(error, FIELDS, "tr_upload")) from None


class PowerProgress:
    """A trial run's progress as the execution backend reports it (from the thread that runs
    the study, see :func:`fmsim.engine.execution.progress_callback`): the chunks of replicate
    trials done of the current job (power curve, then positive shares) and the time left."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.seconds: float | None = None  # the whole run's, once it has finished
        self._lock = threading.Lock()
        self._job: tuple[str, int, int, float] | None = None  # label, done, total, its start

    def __call__(self, label: str, done: int, total: int) -> None:
        with self._lock:
            began = time.perf_counter() if done == 0 or self._job is None else self._job[3]
            self._job = (label, done, total, began)

    def status(self) -> str:
        """One line: what runs, chunks done of the job, seconds so far and about how many left."""
        with self._lock:
            job = self._job
        elapsed = time.perf_counter() - self.started
        if job is None:
            return f"Simulating and analysing one trial ... ({elapsed:.0f} s)"
        label, done, total, began = job
        left = ""
        if 0 < done < total:
            per_chunk = (time.perf_counter() - began) / done
            left = f", about {per_chunk * (total - done):.0f} s left"
        return (
            f"Replicate trials ({label}): {done} of {total} chunks done "
            f"({elapsed:.0f} s so far{left})"
        )


def run_study(config: TrialConfig, progress: PowerProgress) -> TrialStudy | str:
    """``config``'s trial and power curves on its execution backend (``power.scheduler``),
    reporting to ``progress``; a one-line message instead if it cannot run."""
    try:
        with progress_callback(progress), executor(config.power.scheduler) as chunks:
            return trial_study(config, executor=chunks)
    except (ValueError, ConnectionError) as error:
        return str(error)
    finally:
        progress.seconds = time.perf_counter() - progress.started


def page() -> ui.NavPanel:
    library = drug_library()
    choices = agent_choices(library)
    controls = ui.sidebar(
        ui.input_file("tr_upload", "Upload a trial (YAML)", accept=[".yaml", ".yml"]),
        message_slot(PAGE, "tr_upload"),
        ui.input_select(
            "tr_agent", "Treatment (against placebo)", choices, selected="efgartigimod"
        ),
        message_slot(PAGE, "tr_agent"),
        ui.input_numeric("tr_patients", "Patients randomised", 60, min=4),
        message_slot(PAGE, "tr_patients"),
        ui.input_numeric("tr_weeks", "Duration (weeks)", 12, min=1),
        message_slot(PAGE, "tr_weeks"),
        ui.input_select(
            "tr_enrichment",
            "Who is enrolled",
            {"none": "all comers", "anti_sgc_positive": "anti-SGC-positive only"},
        ),
        ui.input_numeric(
            "tr_positive_fraction", "Anti-SGC-positive share of patients", 0.37, min=0, max=1
        ),
        message_slot(PAGE, "tr_positive_fraction"),
        ui.input_select(
            "tr_analysis", "Primary analysis (pain, week 12)", {"ancova": "ANCOVA", "mmrm": "MMRM"}
        ),
        message_slot(PAGE, "tr_analysis"),
        ui.input_text("tr_sample_sizes", "Power: patients per trial", "40, 80, 160"),
        message_slot(PAGE, "tr_sample_sizes"),
        ui.input_numeric("tr_replicates", "Power: replicate trials per size", 20, min=10),
        message_slot(PAGE, "tr_replicates"),
        ui.input_numeric("tr_seed", "Random seed", 7, min=0),
        message_slot(PAGE, "tr_seed"),
        ui.input_select(
            "tr_scheduler",
            "Replicate trials run",
            SCHEDULERS,
        ),
        message_slot(PAGE, "tr_scheduler"),
        ui.input_action_button("tr_run", "Run the trial and its power curve", class_="btn-primary"),
        sidebar_downloads(
            ("tr_download_config", "Trial design (YAML)"),
            ("tr_download_results", "Power (CSV)"),
        ),
        width=360,
    )
    return ui.nav_panel(
        "Trial planner",
        ui.layout_sidebar(
            controls,
            ui.output_ui("tr_progress"),
            ui.output_ui("tr_answer"),
            ui.h5("Power against trial size (band: 95% Wilson interval; dashed: target)"),
            plot_slot("tr_plot", 420),
            ui.output_ui("tr_tables"),
        ),
        value="trial",
    )


def server(input: Inputs, output: Outputs, session: Session) -> None:
    base: reactive.Value[dict] = reactive.value(DEFAULT_TRIAL)

    @reactive.effect
    @reactive.event(input.tr_upload)
    async def _upload() -> None:
        config, problem = read_upload(input.tr_upload()[0], load_trial_config)
        if problem:
            await show_messages(session, PAGE, {"tr_upload": problem})
            return
        base.set(config.model_dump(mode="json", exclude_none=True))
        choices = {**agent_choices(drug_library()), FROM_FILE: {FROM_FILE: FROM_FILE}}
        ui.update_select("tr_agent", choices=choices, selected=FROM_FILE)
        ui.update_numeric("tr_patients", value=config.patients)
        ui.update_numeric("tr_weeks", value=config.duration_weeks)
        ui.update_select("tr_enrichment", selected=config.population.enrichment)
        ui.update_numeric(
            "tr_positive_fraction", value=config.population.anti_sgc_positive_fraction
        )
        ui.update_select("tr_analysis", selected=config.primary.analysis)
        ui.update_text(
            "tr_sample_sizes", value=", ".join(str(n) for n in config.power.sample_sizes)
        )
        ui.update_numeric("tr_replicates", value=config.power.replicates)
        ui.update_numeric("tr_seed", value=config.seed)
        select_scheduler("tr_scheduler", config.power.scheduler)

    @reactive.calc
    def checked() -> tuple[TrialConfig | None, dict[str, str]]:
        form = {
            "agent": input.tr_agent(),
            "patients": whole_number(input.tr_patients()),
            "duration_weeks": whole_number(input.tr_weeks()),
            "enrichment": input.tr_enrichment(),
            "positive_fraction": input.tr_positive_fraction(),
            "analysis": input.tr_analysis(),
            "sample_sizes": input.tr_sample_sizes(),
            "replicates": whole_number(input.tr_replicates()),
            "seed": whole_number(input.tr_seed()),
            "scheduler": input.tr_scheduler(),
        }
        try:
            return trial_config(base(), form), {}
        except FieldError as error:
            return None, error.messages

    @reactive.effect
    async def _messages() -> None:
        await show_messages(session, PAGE, checked()[1])

    progress: reactive.Value[PowerProgress | None] = reactive.value(None)

    @reactive.extended_task
    async def run(config: TrialConfig, tracker: PowerProgress) -> TrialStudy | str:
        return await asyncio.to_thread(run_study, config, tracker)

    @reactive.effect
    @reactive.event(input.tr_run)
    def _start() -> None:
        config = checked()[0]
        req(config)
        tracker = PowerProgress()
        progress.set(tracker)
        run(config, tracker)

    @reactive.calc
    def study() -> TrialStudy:
        outcome = run.result()
        req(not isinstance(outcome, str))
        return outcome

    @render.ui
    def tr_progress():
        if run.status() == "running":
            reactive.invalidate_later(0.5)
            return ui.div(progress().status(), id="tr_progress_text", class_="fmsim-note")
        if run.status() != "success":
            return None
        if isinstance(run.result(), str):
            return ui.div(run.result(), class_="fmsim-field-error", style="display: block")
        seconds = progress().seconds
        return ui.div(
            f"Run finished in {seconds:.0f} s.", id="tr_progress_done", class_="fmsim-note"
        )

    @reactive.effect
    async def _plot() -> None:
        req(input.page() == "trial")  # computed and drawn while the page is shown
        result = study()
        await show_plot(
            session, "tr_plot", power_curve(result.curve.table, result.config.power.target)
        )

    @render.ui
    def tr_answer():
        if not input.tr_run():
            return ui.div(
                "Set the design, then run the trial and its power curve.", class_="fmsim-answer"
            )
        result = study()
        primary = result.analysis.effects.iloc[0]
        required = result.curve.required
        needed = "; ".join(
            f"{row.population}: {row.label} patients for {result.config.power.target:.0%} power"
            for row in required.itertuples()
        )
        return ui.div(
            f"Primary endpoint ({primary['label']}): treatment minus placebo "
            f"{primary['estimate']:.2f} (95% CI {primary['ci_low']:.2f} to "
            f"{primary['ci_high']:.2f}; p = {primary['p_value']:.3g}) in one simulated trial of "
            f"{result.config.patients} patients. {needed}.",
            class_="fmsim-answer",
        )

    @render.ui
    def tr_tables():
        tables = study().tables()
        parts = []
        for name in ("effects", "required_sample_size", "power"):
            frame = tables[name].frame.drop(columns=["required_n"], errors="ignore")
            parts += [ui.h5(tables[name].description), table(frame)]
        return ui.TagList(*parts)

    @render.download_button(filename="trial.yaml")
    def tr_download_config():
        config = checked()[0]
        req(config)
        yield config_yaml(config)

    @render.download_button(filename="power.csv")
    def tr_download_results():
        yield csv_text(study().curve.table)
