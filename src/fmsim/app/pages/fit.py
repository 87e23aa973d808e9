"""Page (e): fit the mouse model to passive-transfer data. The data: fmsim's reference data set
(the Goebel 2021 design simulated in silico, the measurements ``fmsim reproduce`` writes) or
an uploaded lab data file; the parameters to estimate (any of ``fmsim params`` and the readout
parameters) with their bounds; the tests, data level, likelihood and starts. The fit runs in
the background (:mod:`fmsim.app.fitting`) with its progress and a cancel button, then shows the
data with the fitted model, the estimates with their 95 % profile-likelihood intervals and
identifiability verdicts. An uploaded fit YAML fills the form, and the starts run where its
``scheduler`` says (this process, a local Dask cluster or tcp://HOST:PORT), as with ``fmsim fit``.
The page downloads the fit YAML and the data file ``fmsim fit`` reads, with the command, which
reproduces the page's estimates."""

from __future__ import annotations

import io
import math
import shutil
import tempfile
import zipfile
from pathlib import Path

import pandas as pd
from pydantic import ValidationError
from shiny import Inputs, Outputs, Session, reactive, render, req, ui

from fmsim.app.fields import FieldError, field_messages, whole_number
from fmsim.app.fitting import FitJob, FitTables
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
    with_message,
)
from fmsim.calibration.measurements import load_fit_problem
from fmsim.calibration.observables import OBSERVABLES
from fmsim.calibration.problem import CalibrationError, default_parameter, estimable_names
from fmsim.config import ConfigError, default_config
from fmsim.config.fit import FitConfig, load_fit_config
from fmsim.experiments.passive_transfer import run_passive_transfer
from fmsim.experiments.result import config_yaml
from fmsim.io.lab_data import LabDataError, read_lab_data
from fmsim.model.parameters import load_parameter_set
from fmsim.report.interactive import GROUP_COLOURS, Figure, panel_axes, subplot_grid, x_axes

PAGE = "fit"
REFERENCE = "reference"
UPLOAD = "upload"
DEFAULT_ESTIMATE = ("sensitisation_turnover", "sensitisation_occupancy50")
DEFAULT_TESTS = ("paw_pressure_threshold", "cold_response")
FIELDS = {
    "estimate": "fit_estimate",
    "tests": "fit_tests",
    "starts": "fit_starts",
    "seed": "fit_seed",
    "level": "fit_level",
    "method": "fit_method",
    "optimizer": "fit_optimizer",
    "scheduler": "fit_scheduler",
}


def bound_id(name: str, side: str) -> str:
    """Input id of parameter ``name``'s ``side`` ('lower' or 'upper') bound."""
    return f"fit_{name}_{side}"


def reference_data() -> pd.DataFrame:
    """fmsim's reference data set: the default Goebel 2021 design (seed 2021, 4 mice per
    donor) simulated, i.e. the measurements ``fmsim reproduce`` writes."""
    return run_passive_transfer(default_config()).measurements


def fit_config(form: dict) -> FitConfig:
    """The fit YAML's settings from the form (``estimate``: name -> (lower, upper) with None
    for an empty bound), validated; raises :class:`FieldError` in the page's input ids."""
    messages: dict[str, str] = {}
    for key in ("starts", "seed"):
        if form[key] is None:
            messages[f"fit_{key}"] = "give a whole number"
    estimate = []
    parameters = load_parameter_set()
    for name, (lower, upper) in form["estimate"].items():
        for side, value in (("lower", lower), ("upper", upper)):
            if value is not None and not math.isfinite(value):
                messages[bound_id(name, side)] = "give a number"
        try:
            default_parameter(name, parameters, lower, upper)
        except CalibrationError as error:
            messages["fit_estimate"] = str(error)
        entry = {"name": name}
        entry.update({k: v for k, v in (("lower", lower), ("upper", upper)) if v is not None})
        estimate.append(entry)
    if messages:
        raise FieldError(messages)
    data = {
        "scenario": "default",
        "estimate": estimate,
        "level": form["level"],
        "method": form["method"],
        "tests": list(form["tests"]) or None,
        "starts": form["starts"],
        "seed": form["seed"],
        "optimizer": form["optimizer"],
        "profile": form["profile"],
        "scheduler": form["scheduler"] or None,
    }
    try:
        return FitConfig.model_validate(data)
    except ValidationError as error:
        fields = dict(FIELDS)
        for k, name in enumerate(form["estimate"]):
            fields[f"estimate.{k}"] = bound_id(name, "upper")
        raise FieldError(field_messages(error, fields, "fit_estimate")) from None


def fitted_overlay(fitted: pd.DataFrame, curves: pd.DataFrame) -> Figure:
    """Per observable (one panel each), the data (points; bars: ± the noise SD of group
    means) and the fitted model (lines), one colour per condition."""
    observables = list(dict.fromkeys(fitted["observable"]))
    conditions = list(dict.fromkeys(fitted["condition"]))
    colour = {c: GROUP_COLOURS[k % len(GROUP_COLOURS)] for k, c in enumerate(conditions)}
    columns = min(len(observables), 2)
    fig = subplot_grid(observables, columns, horizontal_spacing=0.1, row_height=360)
    for k, observable in enumerate(observables):
        for condition in conditions:
            data = fitted[(fitted["observable"] == observable) & (fitted["condition"] == condition)]
            model = curves[
                (curves["observable"] == observable) & (curves["condition"] == condition)
            ]
            if data.empty:
                continue
            label = condition.removeprefix("c_")
            normal = (data["noise_distribution"] == "normal").all()
            fig["data"] += [
                {
                    "type": "scatter",
                    "x": list(data["time"]),
                    "y": list(data["value"]),
                    "mode": "markers",
                    "marker": {"color": colour[condition], "size": 6},
                    "error_y": {"array": list(data["noise"]), "visible": bool(normal)},
                    "name": f"{label} data",
                    "legendgroup": condition,
                    "showlegend": k == 0,
                    **panel_axes(k),
                },
                {
                    "type": "scatter",
                    "x": list(model["time"]),
                    "y": list(model["model"]),
                    "mode": "lines",
                    "line": {"color": colour[condition], "width": 2},
                    "name": f"{label} model",
                    "legendgroup": condition,
                    "showlegend": k == 0,
                    **panel_axes(k),
                },
            ]
    for axis in x_axes(fig):
        axis["title"] = {"text": "day"}
    fig["layout"]["hovermode"] = "closest"
    return fig


def command_line(data_name: str) -> str:
    """The command reproducing the page's fit from the downloaded files."""
    return f"fmsim fit {data_name} fit.yaml --out results/fit"


def page() -> ui.NavPanel:
    names = estimable_names(load_parameter_set())
    controls = ui.sidebar(
        ui.input_file(
            "fit_config_upload", "Upload fit settings (fit YAML)", accept=[".yaml", ".yml"]
        ),
        message_slot(PAGE, "fit_config_upload"),
        ui.input_radio_buttons(
            "fit_source",
            "Data",
            {
                REFERENCE: "fmsim's reference data (Goebel 2021 design, in silico)",
                UPLOAD: "my lab data (upload)",
            },
        ),
        ui.input_file("fit_upload", "Lab data (CSV or Excel)", accept=[".csv", ".tsv", ".xlsx"]),
        message_slot(PAGE, "fit_upload"),
        ui.input_selectize(
            "fit_estimate",
            "Parameters to estimate",
            names,
            selected=list(DEFAULT_ESTIMATE),
            multiple=True,
        ),
        message_slot(PAGE, "fit_estimate"),
        ui.output_ui("fit_bounds"),
        ui.input_checkbox_group(
            "fit_tests", "Tests fitted", list(OBSERVABLES), selected=list(DEFAULT_TESTS)
        ),
        message_slot(PAGE, "fit_tests"),
        ui.input_select(
            "fit_level",
            "Data level",
            {"group": "group means ± SEM", "individual": "every mouse (log-normal)"},
        ),
        ui.input_select(
            "fit_method", "Likelihood", {"ml": "maximum likelihood", "map": "MAP (priors)"}
        ),
        ui.input_select(
            "fit_optimizer",
            "Optimiser",
            {"ls_trf": "least squares (trf)", "L-BFGS-B": "L-BFGS-B", "Powell": "Powell"},
        ),
        with_message(PAGE, "fit_starts", ui.input_numeric("fit_starts", "Starts", 5, min=1)),
        with_message(PAGE, "fit_seed", ui.input_numeric("fit_seed", "Random seed", 0, min=0)),
        ui.input_checkbox("fit_profile", "Profile likelihoods (intervals, identifiability)", True),
        ui.input_select("fit_scheduler", "Optimiser starts run", SCHEDULERS),
        message_slot(PAGE, "fit_scheduler"),
        ui.input_action_button("fit_run", "Fit", class_="btn-primary"),
        ui.input_action_button("fit_cancel", "Cancel"),
        sidebar_downloads(
            ("fit_download_config", "Fit (zip: fit YAML, data, command)"),
            ("fit_download_results", "Estimates (CSV)"),
            ("fit_download_fitted", "Data and model (CSV)"),
        ),
        width=380,
    )
    return ui.nav_panel(
        "Fit",
        ui.layout_sidebar(
            controls,
            ui.output_ui("fit_status"),
            ui.output_ui("fit_estimates"),
            ui.h5("Data and the fitted model (points: data, bars: ± SEM; lines: model)"),
            plot_slot("fit_plot", 520),
            ui.output_ui("fit_starts_table"),
        ),
        value="fit",
    )


def server(input: Inputs, output: Outputs, session: Session) -> None:
    folder = Path(tempfile.mkdtemp(prefix="fmsim-fit-"))
    parameters = load_parameter_set()
    job: reactive.Value[FitJob | None] = reactive.value(None)
    tick = reactive.value(0)  # advanced while a fit runs, to redraw its progress
    refused = reactive.value("")  # why the last Fit click did not start a fit
    uploaded_bounds: reactive.Value[dict[str, tuple]] = reactive.value({})

    def _stop() -> None:
        with reactive.isolate():
            current = job()
        if current is not None and not current.finished:
            current.cancel()
        shutil.rmtree(folder, ignore_errors=True)

    session.on_ended(_stop)

    @render.ui
    def fit_bounds():
        parts = []
        for name in input.fit_estimate():
            default = default_parameter(name, parameters)
            unit = parameters[name].unit if name in parameters.parameters else ""
            lower, upper = bound_id(name, "lower"), bound_id(name, "upper")
            shown = {side: float(f"{getattr(default, side):.4g}") for side in ("lower", "upper")}
            given = dict(zip(("lower", "upper"), uploaded_bounds().get(name, ()), strict=False))
            shown.update({side: value for side, value in given.items() if value is not None})
            parts += [
                ui.h6(f"{name} (nominal {default.nominal:.4g} {unit})".replace(" )", ")")),
                ui.layout_columns(
                    with_message(
                        PAGE, lower, ui.input_numeric(lower, "lower bound", shown["lower"])
                    ),
                    with_message(
                        PAGE, upper, ui.input_numeric(upper, "upper bound", shown["upper"])
                    ),
                ),
            ]
        return ui.TagList(*parts)

    @reactive.effect
    @reactive.event(input.fit_config_upload)
    async def _upload() -> None:
        upload = input.fit_config_upload()[0]
        config, problem = read_upload(upload, load_fit_config)
        if config is not None:
            problem = uploaded_problem(config, upload["name"])
        if problem:
            await show_messages(session, PAGE, {"fit_config_upload": problem})
            return
        uploaded_bounds.set({e.name: (e.lower, e.upper) for e in config.estimate})
        ui.update_selectize("fit_estimate", selected=[e.name for e in config.estimate])
        ui.update_checkbox_group("fit_tests", selected=config.tests or [])
        ui.update_select("fit_level", selected=config.level)
        ui.update_select("fit_method", selected=config.method)
        ui.update_select("fit_optimizer", selected=config.optimizer)
        ui.update_numeric("fit_starts", value=config.starts)
        ui.update_numeric("fit_seed", value=config.seed)
        ui.update_checkbox("fit_profile", value=config.profile)
        select_scheduler("fit_scheduler", config.scheduler)

    @reactive.calc
    def data_file() -> tuple[Path | None, str | None]:
        """The data file the fit reads (written into the session's folder), or a message."""
        if input.fit_source() == REFERENCE:
            path = folder / "reference_measurements.csv"
            if not path.exists():
                path.write_text(csv_text(reference_data()))
            return path, None
        upload = input.fit_upload()
        if not upload:
            return None, "upload a lab data file (CSV or Excel), or choose the reference data"
        # the copy under the user's name is the file the fit reads (its messages name it)
        path, problem = read_upload(upload[0], _checked_path, (LabDataError,), folder)
        return (None, problem) if problem else (path, None)

    @reactive.calc
    def checked() -> tuple[FitConfig | None, dict[str, str]]:
        estimate = {}
        for name in input.fit_estimate():
            lower, upper = input[bound_id(name, "lower")], input[bound_id(name, "upper")]
            req(lower.is_set() and upper.is_set())
            estimate[name] = (lower(), upper())
        form = {
            "estimate": estimate,
            "tests": input.fit_tests(),
            "level": input.fit_level(),
            "method": input.fit_method(),
            "optimizer": input.fit_optimizer(),
            "starts": whole_number(input.fit_starts()),
            "seed": whole_number(input.fit_seed()),
            "profile": bool(input.fit_profile()),
            "scheduler": input.fit_scheduler(),
        }
        path, problem = data_file()
        messages = {"fit_upload": problem} if problem else {}
        try:
            settings = fit_config(form)
        except FieldError as error:
            messages.update(error.messages)
        if not estimate:
            messages["fit_estimate"] = "choose at least one parameter to estimate"
        if messages:
            return None, messages
        config_path = folder / "fit.yaml"
        config_path.write_text(config_yaml(settings))
        try:  # the command's own checks, e.g. a test the data do not have
            load_fit_problem(path, config_path)
        except (CalibrationError, ConfigError, LabDataError) as error:
            return None, {"fit_tests": str(error).replace(f"{folder}/", "")}
        return settings, {}

    @reactive.effect
    async def _messages() -> None:
        await show_messages(session, PAGE, checked()[1])

    @reactive.effect
    @reactive.event(input.fit_run)
    def _run() -> None:
        settings, messages = checked()
        refused.set(
            f"Not started: {len(messages)} field(s) need a change (messages beside them)."
            if settings is None
            else ""
        )
        req(settings)
        with reactive.isolate():
            current = job()
        if current is not None and not current.finished:
            current.cancel()
        path = data_file()[0]
        run = folder / f"run{input.fit_run()}"  # the files of this fit, kept for the download
        run.mkdir()
        shutil.copyfile(path, run / path.name)
        (run / "fit.yaml").write_text(config_yaml(settings))
        job.set(
            FitJob.launch(
                run / path.name,
                run / "fit.yaml",
                settings.starts,
                settings.profile,
                settings.scheduler,
            )
        )

    @reactive.effect
    @reactive.event(input.fit_cancel)
    def _cancel() -> None:
        current = job()
        if current is not None and not current.finished:
            current.cancel()
            tick.set(tick() + 1)

    @reactive.effect
    def _watch() -> None:
        current = job()
        if current is None:
            return
        current.poll()
        with reactive.isolate():
            tick.set(tick() + 1)
        if not current.finished:
            reactive.invalidate_later(0.5)

    @reactive.calc
    def outcome() -> FitTables:
        tick()
        current = job()
        req(current is not None and current.outcome is not None)
        return current.outcome

    @render.ui
    def fit_status():
        tick()
        if refused():
            return ui.div(
                refused(), id="fit_status_text", class_="fmsim-field-error", style="display: block"
            )
        current = job()
        if current is None:
            source = "fmsim's reference data" if input.fit_source() == REFERENCE else "your data"
            return ui.div(
                f"Choose the parameters and settings, then Fit ({source}). The fit runs in "
                "the background: this line shows its progress, and Cancel stops it.",
                class_="fmsim-answer",
            )
        bar = ui.tags.progress(value=f"{current.fraction():.2f}", max="1", style="width: 100%")
        kind = "fmsim-field-error" if current.error else "fmsim-answer"
        style = "display: block" if current.error else None
        return ui.div(
            ui.div(current.status(), id="fit_status_text", class_=kind, style=style),
            bar if not current.finished else None,
        )

    @reactive.effect
    async def _plot() -> None:
        req(input.page() == "fit")
        done = outcome()
        await show_plot(session, "fit_plot", fitted_overlay(done.fitted, done.curves))

    @render.ui
    def fit_estimates():
        done = outcome()
        estimates = shown_estimates(done.estimates)
        profiled = "verdict" in done.estimates.columns
        verdicts = ", ".join(
            f"{row.parameter}: {row.verdict}" for row in done.estimates.itertuples() if profiled
        )
        return ui.TagList(
            ui.h5("Estimates (95 % profile-likelihood interval; natural units)"),
            table(estimates, digits=4),
            ui.p(f"Identifiability: {verdicts}." if verdicts else "", class_="fmsim-note"),
        )

    @render.ui
    def fit_starts_table():
        done = outcome()
        shown = done.starts[["rank", "nllh", "evaluations", "message"]]
        return ui.TagList(
            ui.h5("Optimiser starts, best first (negative log-likelihood)"), table(shown)
        )

    @render.download_button(filename="fit.zip")
    def fit_download_config():
        current = job()
        req(current is not None and current.outcome is not None)
        files = current.data, current.config
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for path in files:
                archive.write(path, path.name)
            archive.writestr("command.txt", command_line(files[0].name) + "\n")
        yield buffer.getvalue()

    @render.download_button(filename="fit_estimates.csv")
    def fit_download_results():
        yield csv_text(outcome().estimates)

    @render.download_button(filename="fit_data_and_model.csv")
    def fit_download_fitted():
        yield csv_text(outcome().fitted)


def uploaded_problem(config: FitConfig, name: str) -> str | None:
    """Why an uploaded fit YAML (file ``name``) cannot fill the form, or None: the page fits
    the default design, estimates the parameters it lists, and does not sample posteriors."""
    if config.scenario != "default":
        return (
            f"{name}: scenario: got {config.scenario!r}; the page fits the default Goebel 2021 "
            "design (scenario: default); run other designs with fmsim fit"
        )
    known = estimable_names(load_parameter_set())
    unknown = [e.name for e in config.estimate if e.name not in known]
    if unknown:
        return f"{name}: estimate: unknown parameter(s) {unknown}; see fmsim params"
    if config.sample is not None:
        return f"{name}: sample: posterior sampling runs with fmsim fit only; remove 'sample'"
    return None


def shown_estimates(estimates: pd.DataFrame) -> pd.DataFrame:
    """The estimates table for readers: parameter, unit, nominal, estimate, interval, bounds,
    verdict (the columns a fit without profiles has)."""
    columns = [
        "parameter",
        "unit",
        "nominal",
        "estimate",
        "ci_low",
        "ci_high",
        "lower_bound",
        "upper_bound",
        "verdict",
    ]
    return estimates[[c for c in columns if c in estimates.columns]]


def _checked_path(path: str) -> Path:
    """A lab data file ``fmsim fit`` can read (rows with errors stop it, as they stop the
    command); LabDataError otherwise."""
    _, issues = read_lab_data(path)
    errors = [issue for issue in issues if issue.action == "error"]
    if errors:
        raise LabDataError(f"{len(errors)} row(s) with errors, first: {errors[0].line()}")
    return Path(path)
