"""The Fit page's background worker (fmsim.app.fitting): a fit that cannot start reports the
command's one-line message (naming the file and field), not a traceback."""

from __future__ import annotations

import time

from fmsim.app.fitting import FitJob


def test_a_bad_fit_file_ends_with_its_one_line_message(tmp_path):
    data = tmp_path / "data.csv"
    data.write_text("mouse,group,day,test,value,unit\nm1,FMS-IgG,0,paw_pressure_threshold,150,g\n")
    config = tmp_path / "fit.yaml"
    config.write_text("estimate: [sensitisation_turnover]\nstarts: 0\n")
    job = FitJob.launch(data, config, starts=1, profile=False)
    deadline = time.monotonic() + 120
    while not job.finished and time.monotonic() < deadline:
        time.sleep(0.2)
        job.poll()
    assert job.outcome is None and job.error is not None
    assert job.error.startswith(f"{config}: starts: got 0")
    assert "\n" not in job.error and "Traceback" not in job.error
    assert job.status() == job.error and not job.process.is_alive()
