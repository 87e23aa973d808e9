"""Static figures: the donor heatmap's colour means the same in every column (red = towards
hypersensitivity or impairment, whichever way the test's values move)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from fmsim.report.figures import EFFECT_CMAP, donor_heatmap


def test_hypersensitivity_has_one_colour_in_every_test():
    donors = pd.DataFrame(
        {
            "donor": ["D1", "D1", "D1", "D2", "D2", "D2"],
            "test": ["paw_pressure_threshold", "cold_response", "my_test"] * 2,
            "change_percent": [-30.0, 30.0, 10.0, 5.0, -5.0, -10.0],
            "effect": [True, True, False, False, False, False],
        }
    )
    fig = donor_heatmap(donors)
    image = fig.axes[0].images[0]
    values = pd.DataFrame(image.get_array(), index=["D1", "D2"])
    columns = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    values.columns = columns
    # D1: paw threshold fell 30 %, cold responses rose 30 %: both hypersensitivity, both +30
    assert values.loc["D1", "paw_pressure_threshold"] == values.loc["D1", "cold_response"] == 30
    assert values.loc["D2", "paw_pressure_threshold"] == values.loc["D2", "cold_response"] == -5
    assert values.loc["D1", "my_test (direction unknown)"] == 10  # left as measured
    red, blue = image.to_rgba(np.array([30.0, -30.0]))
    assert red[0] > red[2] and blue[2] > blue[0]  # positive red, negative blue
    assert image.get_cmap().name == EFFECT_CMAP
    plt.close(fig)
